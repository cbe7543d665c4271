"""Other linear forecasters than the ridge baseline, on validation data only.

The protocol shifted back by one validation part, as in ``selection_rules.py``: each
candidate is fitted on the training part minus its last ``V`` rows, its penalty chosen
on those ``V`` rows (inner validation), and it is scored on the real validation part
(outer validation). The test part is never read. The candidates, all NLinear-style
ridges (``context − last`` to ``target − last``, an unpenalised intercept, one map for
all channels, the penalty grid of the baseline):

* ``ridge``: the baseline (the whole context, every training window weighing the same);
* ``lookback_L/k``: the last ``L/k`` steps of the context only;
* ``mean_L_L/2``: the average of ``ridge`` and ``lookback_L/2``;
* ``recency_D``: training windows weighted by ``exp(−age / (D·T))``, ``age`` the
  number of rows from the window's origin to the end of the training part, ``T`` the
  training part's length (recent windows count more).

Run::

    python research/linear_alternatives.py --dataset ETTh1 --data-home PATH
    python research/linear_alternatives.py --dataset co2 --missing interpolate

It prints, per horizon, each candidate's inner and outer validation MSE relative to the
baseline's, and which candidate the inner validation chooses.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
from selection_rules import shifted

from xlstm_ts.ltsf import LTSFData, prepare, resolve_horizons
from xlstm_ts.ridge import NormalEquations, fit_ridge

DECAYS = (2.0, 1.0, 0.5, 0.25)
"""Recency decays, in training-part lengths."""


def features(contexts: np.ndarray, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    """``(context − last, 1)`` over the last ``lookback`` steps, and the last values."""
    x = np.asarray(contexts[:, -lookback:], dtype=np.float64)
    last = x[:, -1:]
    return np.hstack([x[:, :-1] - last, np.ones_like(last)]), last


def sums(windows, lookback: int, weight=None) -> NormalEquations:
    """Normal equations of the windows; ``weight(origins)`` scales each window's rows."""
    total = NormalEquations()
    for _, origins, X, Y in windows.iter_blocks(4096):
        F, last = features(X, lookback)
        T = np.asarray(Y, dtype=np.float64) - last
        if weight is not None:
            root = np.sqrt(weight(origins))[:, None]
            F, T = F * root, T * root
        total.add(F, T)
    return total


def forecasts(windows, coef: np.ndarray, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and targets of every window."""
    out, targets = [], []
    for X, Y in windows.blocks(4096):
        F, last = features(X, lookback)
        out.append(F @ coef + last)
        targets.append(np.asarray(Y, dtype=np.float64))
    return np.concatenate(out), np.concatenate(targets)


Pair = tuple[np.ndarray, np.ndarray]


def candidates(data: LTSFData, horizon: int) -> dict[str, list[Pair]]:
    """Per candidate: ``[(forecasts, targets)]`` of the inner and of the outer validation
    windows of the shifted protocol."""
    inner = shifted(data)
    train, val, outer = (inner.windows(p, horizon) for p in ("train", "val", "test"))
    t0, t1 = inner.bounds.train
    L = data.context_length
    fits = {"ridge": (L, None)}
    fits.update({f"lookback_L/{k}": (L // k, None) for k in (2, 4) if L // k >= 8})
    for d in DECAYS:
        fits[f"recency_{d:g}"] = (L, lambda o, d=d: np.exp(-(t1 - o) / (d * (t1 - t0))))
    out = {}
    for name, (lookback, weight) in fits.items():
        fit = fit_ridge(sums(train, lookback, weight), sums(val, lookback), n_unpenalised=1)
        out[name] = [forecasts(w, fit.coef, lookback) for w in (val, outer)]
    if "lookback_L/2" in out:
        out["mean_L_L/2"] = [
            ((a[0] + b[0]) / 2, a[1])
            for a, b in zip(out["ridge"], out["lookback_L/2"], strict=True)
        ]
    return out


def _mse(pair: Pair) -> float:
    return float(np.nanmean((pair[0] - pair[1]) ** 2))


def table(data: LTSFData, horizons: Sequence[int]) -> str:
    """Markdown: inner / outer validation MSE relative to the baseline's, per candidate."""
    lines = []
    for h in horizons:
        found = candidates(data, h)
        base = [_mse(p) for p in found["ridge"]]
        ratios = {n: [_mse(p) / b for p, b in zip(v, base, strict=True)] for n, v in found.items()}
        chosen = min(ratios, key=lambda n: ratios[n][0])
        if not lines:
            lines = ["| H | " + " | ".join(ratios) + " | chosen on inner validation |"]
            lines.append("|---:|" + "---:|" * (len(ratios) + 1))
        cells = [f"{i:.4f} / {o:.4f}" for i, o in ratios.values()]
        lines.append(f"| {h} | " + " | ".join(cells) + f" | {chosen}: {ratios[chosen][1]:.4f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-home")
    p.add_argument("--missing", choices=["raise", "interpolate"], default="raise")
    p.add_argument("--horizons", type=int, nargs="+", help="default: the registry's")
    args = p.parse_args(argv)
    data = prepare(args.dataset, data_home=args.data_home, missing=args.missing)
    print(f"{data.name}, L = {data.context_length}: inner / outer validation MSE / baseline")
    print()
    print(table(data, resolve_horizons(data.name, args.horizons)))


if __name__ == "__main__":
    main()
