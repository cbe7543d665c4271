"""Other ways to combine the ridge start with the networks from scratch, on validation
data only, from the cells saved by ``seed_ensemble.py``.

Each cell holds the point forecasts of the ridge-started network and of the networks
from scratch on the inner and the outer validation windows of the shifted protocol (see
``seed_ensemble.py``; the test part never read). The networks from scratch are averaged
(the default's seed ensemble) and every rule below chooses, on the inner windows alone,
the weights of ``(1 − w)·ridge start + w·average``; the choice is scored on the outer
windows against the ridge baseline:

* ``default``: the checked combination, else the average alone if it wins both inner
  halves, else the ridge start (``linear_path="auto"``);
* ``unchecked``: the weight fitted on all inner windows, no check;
* ``kfold_K``: that weight, kept if ``K`` contiguous folds of each series' windows,
  each forecast with the weight fitted on the others, have the lower total error;
* ``margin_M``: the default, but each half must gain more than ``M`` (relative);
* ``shrunk_S``: the default's weight times ``S``;
* ``per_step_K``: one weight per block of ``H / K`` horizon steps, kept if the weights
  fitted on each half lower the other half's error;
* ``per_series``: the default rule on each series' windows alone.

Run::

    python research/seed_ensemble.py --dataset ILI --data-home PATH --out seed_ensemble
    python research/decision_rules.py seed_ensemble

It prints, per data set, the geometric mean over cells of the outer-validation MSE of
each rule relative to the ridge baseline's, with the number of cells above it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from selection_rules import ratio_table

from xlstm_ts.training.decision import checked_weight, weighted_sse

# Per window and horizon step: (rr, rc, cc, n) of r = target − ridge start and
# c = average − ridge start, as xlstm_ts.training.decision sums them over the steps; a rule
# returns weights of shape (H,).
Rule = Callable[[np.ndarray, np.ndarray], np.ndarray]


def step_sums(target: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``(rr, rc, cc, n)`` per window and step: shape (n, 4, H), float64."""
    r = (target - first).astype(np.float64)
    c = (second - first).astype(np.float64)
    known = ~np.isnan(r)
    r, c = np.where(known, r, 0.0), np.where(known, c, 0.0)
    return np.stack([r * r, r * c, c * c, known.astype(np.float64)], 1)


def sse(sums: np.ndarray, w: np.ndarray | float) -> float:
    """``Σ (r − w c)²`` from sums of shape (4, H), one weight or one per step."""
    return float(np.sum(sums[0] - 2 * w * sums[1] + w * w * sums[2]))


def fitted(sums: np.ndarray, blocks: int = 1) -> np.ndarray:
    """The error-minimising weight in ``[0, 1]``, one per block of steps: shape (H,)."""
    H = sums.shape[-1]
    block = np.arange(H) * blocks // H
    w = np.zeros(H)
    for b in range(blocks):
        rc, cc = sums[1, block == b].sum(), sums[2, block == b].sum()
        w[block == b] = min(max(rc / cc, 0.0), 1.0) if cc > 0 else 0.0
    return w


def series_of(later: np.ndarray) -> np.ndarray:
    """Series number of each window: the series follow one another, and a series'
    windows start where the previous series' later half ends."""
    return np.cumsum(np.r_[False, later[:-1] & ~later[1:]])


def folds(later: np.ndarray, k: int) -> np.ndarray:
    """Fold of each window: ``k`` contiguous runs of each series' windows."""
    series, ids = series_of(later), np.empty(len(later), dtype=int)
    for s in np.unique(series):
        n = int(np.sum(series == s))
        ids[series == s] = np.arange(n) * k // n
    return ids


def default_rule(S: np.ndarray, later: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """``linear_path="auto"``'s choice (:func:`~xlstm_ts.training.decision.checked_weight`),
    with each half asked to gain more than ``margin``."""
    halves = np.stack([S[~later].sum((0, 2)), S[later].sum((0, 2))])
    fit = checked_weight(halves, 1.0)
    if all(g < -margin for g in fit.gain_halves) and 0 < fit.alpha < 1:
        return np.full(S.shape[-1], fit.alpha)
    # the average alone; at margin 0 this is second_wins_both_halves
    alone = all(weighted_sse(h, 1.0) < (1 - margin) * h[0] for h in halves)
    return np.full(S.shape[-1], float(alone))


def kfold_rule(S: np.ndarray, later: np.ndarray, k: int) -> np.ndarray:
    ids = folds(later, k)
    held = [(S[ids != f].sum(0), S[ids == f].sum(0)) for f in range(k)]
    cv = sum(sse(test, fitted(train)) for train, test in held)
    w = fitted(S.sum(0))
    return w if cv < sse(S.sum(0), 0.0) else 0 * w


def per_step_rule(S: np.ndarray, later: np.ndarray, blocks: int) -> np.ndarray:
    halves = [S[~later].sum(0), S[later].sum(0)]
    own = [fitted(h, blocks) for h in halves]
    ok = all(sse(halves[i], own[1 - i]) < sse(halves[i], 0.0) for i in (0, 1))
    w = fitted(S.sum(0), blocks)
    return w if ok else 0 * w


RULES: dict[str, Rule] = {
    "default": default_rule,
    "unchecked": lambda S, later: fitted(S.sum(0)),
    **{f"kfold_{k}": (lambda S, later, k=k: kfold_rule(S, later, k)) for k in (2, 4, 8)},
    **{f"margin_{m:g}": (lambda S, later, m=m: default_rule(S, later, m)) for m in (0.01, 0.02)},
    "shrunk_0.5": lambda S, later: 0.5 * default_rule(S, later),
    **{f"per_step_{k}": (lambda S, later, k=k: per_step_rule(S, later, k)) for k in (2, 4)},
}


def scores(cell: dict[str, np.ndarray]) -> list[float]:
    """Outer MSE / ridge baseline of every rule of :data:`RULES`, then ``per_series``."""
    members = sorted(k[5:] for k in cell if k.startswith("test_none"))
    average = {p: np.mean([cell[f"{p}_{m}"] for m in members], 0) for p in ("val", "test")}
    inner = step_sums(cell["val_y"], cell["val_ridge"], average["val"])
    outer = step_sums(cell["test_y"], cell["test_ridge"], average["test"])
    later = cell["val_later"].astype(bool)
    base = float(cell["ridge_test"]) * np.isfinite(cell["test_y"]).sum()
    row = [sse(outer.sum(0), rule(inner, later)) / base for rule in RULES.values()]
    # per series: the outer windows of each series are as many and follow one another
    inner_series = series_of(later)
    n = inner_series.max() + 1
    outer_series = np.repeat(np.arange(n), len(outer) // n)
    if len(outer_series) != len(outer):
        return [*row, float("nan")]
    total = 0.0
    for s in range(n):
        mine = inner_series == s
        total += sse(outer[outer_series == s].sum(0), default_rule(inner[mine], later[mine]))
    return [*row, total / base]


def report(folder: Path) -> str:
    """Markdown table over the cells (``.npz`` files) of ``seed_ensemble.py`` in ``folder``."""
    rows: dict[str, list[list[float]]] = {}
    for path in sorted(folder.glob("*.npz")):
        rows.setdefault(path.stem.split("_H")[0], []).append(scores(dict(np.load(path))))
    return ratio_table(rows, [*RULES, "per_series"])


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder", help="the --out folder of seed_ensemble.py")
    args = p.parse_args(argv)
    print("Outer-validation MSE / ridge baseline, geometric mean over cells (cells above):")
    print()
    print(report(Path(args.folder)))


if __name__ == "__main__":
    main()
