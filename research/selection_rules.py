"""Nested study of how ``linear_path="auto"`` chooses between its candidates, on validation
data only.

The long-horizon protocol is shifted back by one validation part: both candidates of
``linear_path="auto"`` (the ridge-started network and the one without linear path, each
trained exactly as the estimator trains them) are trained on the training part minus
its last ``V`` rows (``V``: the validation part's length), make their choices on those
``V`` rows ("inner validation"), and are scored on the real validation part ("outer
validation"). The test part is never read. Each rule below is then applied to the inner
validation windows, and its choice scored on the outer ones, against the ridge baseline
fitted the same way:

* ``ridge_start``: the ridge-started network alone;
* ``lower_mse``: the checked combination, else the candidate with the lower inner
  validation MSE (the rule before this study);
* ``both_halves``: the checked combination, else the network without linear path only if
  it has the lower error on both inner validation halves (the default);
* ``no_check``: the combination with the in-sample weight, else the lower MSE.

``--part level`` studies the ridge start's level term the same way, in closed form: the
constant of the ridge baseline (the default) against a level term chosen on the inner
validation windows (``ridge_start(..., level=None)``: the constant unless another wins
both halves), both scored on the outer validation windows against the baseline.

Per data set, horizon and seed, one ``.npz`` file in ``--out`` holds the per-window sums
the rules need (an existing file is read instead of refitted). Run::

    python research/selection_rules.py --dataset ILI --data-home PATH --seeds 0 1 2
    python research/selection_rules.py --dataset Lorenz63 --horizons 336 --seeds 0
    python research/selection_rules.py --report-only --out selection   # the table
    python research/selection_rules.py --part level --dataset co2 --missing interpolate

It prints, per data set, the geometric mean over cells of each rule's outer-validation
MSE relative to the ridge baseline's, and the number of cells above the baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch
from xlstm_ts.datasets import SplitBounds

from xlstm_ts.ltsf import LTSFData, prepare, resolve_horizons
from xlstm_ts.ltsf.models import RidgeModel, XLSTMModel
from xlstm_ts.ltsf.run import evaluate
from xlstm_ts.training import later_half, point_forecasts, targets
from xlstm_ts.training.decision import (
    checked_weight,
    half_totals,
    residual_sums,
    second_wins_both_halves,
    weighted_sse,
)

RULES = ("ridge_start", "lower_mse", "both_halves", "no_check")


def shifted(data: LTSFData) -> LTSFData:
    """The protocol one validation part earlier: its test part is the real validation."""
    (t0, t1), (v0, v1), _ = data.bounds
    V, L = v1 - t1, data.context_length
    if t1 - V - t0 < L:
        raise ValueError(f"{data.name}: the training part is too short to shift by {V} rows")
    bounds = SplitBounds(train=(t0, t1 - V), val=(t1 - V - L, t1), test=(v0, v1))
    return dataclasses.replace(data, values=data.values[:, :v1], bounds=bounds)


def combination_sums(first, second, windows) -> np.ndarray:
    """Per window ``(Σrr, Σrc, Σcc, n)`` of ``first``'s point forecast as the linear part
    and ``second − first`` as the correction (as the default's combination sees them,
    :func:`~xlstm_ts.training.decide`); both networks on the CPU."""
    f, s = (point_forecasts(net.cpu(), windows, 0) for net in (first, second))
    return residual_sums(targets(windows) - f, s - f)


def fit_cell(data: LTSFData, horizon: int, seed: int, path: Path) -> None:
    """Train both candidates on the shifted protocol and save the sums the rules need."""
    inner = shifted(data)
    ridge = RidgeModel()
    ridge.fit(inner, horizon, seed)
    nets = []
    for linear_path in ("ridge", "none"):
        model = XLSTMModel(linear_path=linear_path)
        model.fit(inner, horizon, seed)
        nets.append(model.model.model_)
    val, test = inner.windows("val", horizon), inner.windows("test", horizon)
    np.savez(
        path,
        val=combination_sums(*nets, val),
        val_later=later_half(val),
        test=combination_sums(*nets, test),
        ridge_test=evaluate(ridge, test)["mse"],
    )


def weight(cell: dict[str, np.ndarray], rule: str) -> float:
    """The weight of the network without linear path that ``rule`` keeps."""
    if rule == "ridge_start":
        return 0.0
    halves = half_totals(cell["val"], cell["val_later"])
    fit = checked_weight(halves, 1.0, check=rule != "no_check")
    if 0.0 < fit.alpha < 1.0:
        return fit.alpha
    if rule == "both_halves":
        return float(second_wins_both_halves(fit.alpha_halves))
    total = halves.sum(0)
    return float(weighted_sse(total, 1.0) < total[0])


def report(out: Path) -> str:
    """Markdown table over the ``.npz`` files in ``out``."""
    ratios: dict[str, list[list[float]]] = {}
    for path in sorted(out.glob("*.npz")):
        cell = dict(np.load(path))
        total = cell["test"].sum(0)
        row = [weighted_sse(total, weight(cell, r)) / total[3] / cell["ridge_test"] for r in RULES]
        ratios.setdefault(path.stem.split("_H")[0], []).append(row)
    return ratio_table(ratios, RULES)


def ratio_table(ratios: dict[str, list[list[float]]], names: Sequence[str]) -> str:
    """Markdown: per data set (and over all), the geometric mean over its cells of each
    column of ``ratios`` (MSE / baseline, one row per cell), with the cells above 1."""
    ratios = {**ratios, "all": [row for rows in ratios.values() for row in rows]}
    lines = ["| data set | cells | " + " | ".join(names) + " |"]
    lines.append("|---|---:|" + "---:|" * len(names))
    for name, rows in ratios.items():
        a = np.asarray(rows)
        cells = [f"{np.exp(np.log(a[:, j]).mean()):.4f} ({(a[:, j] > 1 + 1e-6).sum()})"
                 for j in range(len(names))]  # fmt: skip
        lines.append(f"| {name} | {len(a)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def level_rows(data: LTSFData, horizons: Sequence[int]) -> list[str]:
    """Per horizon: outer-validation MSE / baseline of the constant and the chosen level."""
    from xlstm_ts.nn import XLSTMForecastNet
    from xlstm_ts.training import ridge_start
    from xlstm_ts.training.decision import mse

    inner, rows = shifted(data), []
    for horizon in horizons:
        train, val, test = (inner.windows(part, horizon) for part in ("train", "val", "test"))
        ridge = RidgeModel()
        ridge.fit(inner, horizon, 0)
        base = evaluate(ridge, test)["mse"]
        cells = []
        for level in ("constant", None):
            # the encoder's head starts at zero: the forecast is the linear path alone
            net = XLSTMForecastNet(data.context_length, horizon, linear_path=True)
            start = ridge_start(net, train, val, level=level)
            error = mse(point_forecasts(net, test, 0), targets(test))
            cells.append(f"{error / base:.4f} ({start.level})")
        rows.append(f"| {data.name} | {horizon} | " + " | ".join(cells) + " |")
    return rows


def study_parser(description: str, out: str) -> argparse.ArgumentParser:
    """The options of a nested study (each adds its own ``--seeds``)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--dataset")
    p.add_argument("--data-home")
    p.add_argument("--missing", choices=["raise", "interpolate"], default="raise")
    p.add_argument("--horizons", type=int, nargs="+", help="default: the registry's")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=out, help="folder of the per-cell files")
    p.add_argument("--report-only", action="store_true", help="only print the table")
    return p


def study_cells(p: argparse.ArgumentParser, args: argparse.Namespace, cells) -> Path:
    """Fit the missing cells of ``--dataset`` (unless ``--report-only``): ``cells(data,
    horizon)`` yields ``(path, fit)`` and ``fit()`` writes ``path``. Returns ``--out``."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        if args.dataset is None:
            p.error("--dataset is required unless --report-only")
        torch.set_num_threads(args.threads)
        data = prepare(args.dataset, data_home=args.data_home, missing=args.missing)
        for horizon in resolve_horizons(data.name, args.horizons):
            for path, fit in cells(data, horizon):
                if not path.exists():
                    print(f"{path.stem}: fitting", flush=True)
                    fit()
    return out


def seed_cells(args: argparse.Namespace, fit_cell):
    """``cells`` for :func:`study_cells`: one file per horizon and seed of ``--seeds``,
    ``NAME_H{horizon}_seed{seed}.npz``, written by ``fit_cell(data, horizon, seed, path)``."""

    def cells(data: LTSFData, horizon: int):
        for seed in args.seeds:
            path = Path(args.out) / f"{data.name}_H{horizon}_seed{seed}.npz"
            yield path, partial(fit_cell, data, horizon, seed, path)

    return cells


def main(argv: Sequence[str] | None = None) -> None:
    p = study_parser(__doc__.split("\n")[0], out="selection")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--part", choices=["candidates", "level"], default="candidates")
    args = p.parse_args(argv)
    if args.part == "level":
        data = prepare(args.dataset, data_home=args.data_home, missing=args.missing)
        print("| data set | H | constant (default) | chosen on validation |")
        print("|---|---:|---:|---:|")
        print("\n".join(level_rows(data, resolve_horizons(data.name, args.horizons))))
        return

    out = study_cells(p, args, seed_cells(args, fit_cell))
    print("Outer-validation MSE / ridge baseline, geometric mean over cells (cells above 1):")
    print()
    print(report(out))


if __name__ == "__main__":
    main()
