"""Nested study of a seed ensemble of the network from scratch (``n_models``), on
validation data only.

The protocol shifted back by one validation part, as in ``selection_rules.py``: the
ridge-started network (seed 0) and networks without linear path (seeds 0 … n − 1) are
trained as the estimator trains them on the training part minus its last ``V`` rows;
each is read on those ``V`` rows (inner validation) and on the real validation part
(outer validation). The test part is never read. For every ensemble size ``k`` and every
``k`` of the ``n`` seeds, the average of those networks plays the network from scratch
of ``linear_path="auto"``: the default rule (``both_halves``: the checked combination,
else the network from scratch if it wins both inner halves, else the ridge start)
chooses on the inner windows, and the choice is scored on the outer ones against the
ridge baseline fitted the same way.

Per data set and horizon, one ``.npz`` file in ``--out`` holds the point forecasts
(an existing file is read instead of refitted). Run::

    python research/seed_ensemble.py --dataset ILI --data-home PATH
    python research/seed_ensemble.py --dataset co2 --missing interpolate
    python research/seed_ensemble.py --report-only --out seed_ensemble   # the table

It prints, per data set, the geometric mean over cells (and over the seed subsets of
each size) of the outer-validation MSE relative to the ridge baseline's: the ridge start
alone, the default rule with ensembles of 1, 2, … networks, and the network from
scratch alone (one network, and all ``n``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
from selection_rules import shifted, study_cells, study_parser, weight
from switches import ResearchModel

from xlstm_ts.ltsf import LTSFData
from xlstm_ts.ltsf.models import RidgeModel
from xlstm_ts.ltsf.run import evaluate
from xlstm_ts.training import later_half, point_forecasts, targets
from xlstm_ts.training.decision import residual_sums, weighted_sse


def window_forecasts(network, windows) -> tuple[np.ndarray, np.ndarray]:
    """``(forecasts, targets)`` of every window, float32, shape (n, horizon) each."""
    forecasts = point_forecasts(network, windows, 0)
    return forecasts.astype(np.float32), targets(windows).astype(np.float32)


def fit_cell(data: LTSFData, horizon: int, n_seeds: int, path: Path) -> None:
    """Train the ridge start and ``n_seeds`` networks from scratch on the shifted
    protocol and save their point forecasts on the inner and the outer windows."""
    inner = shifted(data)
    ridge = RidgeModel()
    ridge.fit(inner, horizon, 0)
    windows = {"val": inner.windows("val", horizon), "test": inner.windows("test", horizon)}
    cell = {
        "val_later": later_half(windows["val"]),
        "ridge_test": evaluate(ridge, windows["test"])["mse"],
    }
    runs = [("ridge", "ridge", 0)] + [(f"none{s}", "none", s) for s in range(n_seeds)]
    for key, linear_path, seed in runs:
        model = ResearchModel(linear_path=linear_path, n_models=1)  # one network per seed
        model.fit(inner, horizon, seed)
        for part, w in windows.items():
            cell[f"{part}_{key}"], cell[f"{part}_y"] = window_forecasts(model.model.model_, w)
    np.savez(path, **cell)


def _sums(linear: np.ndarray, other: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per window sums of ``linear`` as the linear part and ``other − linear`` as the
    correction (as the combination of the two candidates sees them)."""
    f, o, y = (np.asarray(a, dtype=np.float64) for a in (linear, other, target))
    return residual_sums(y - f, o - f)


def scores(cell: dict[str, np.ndarray], sizes: Sequence[int]) -> list[float]:
    """Outer MSE / baseline: ridge start, the default rule per ensemble size (geometric
    mean over the seed subsets of that size), one network from scratch alone, all."""
    seeds = sorted(k for k in cell if k.startswith("test_none"))
    base = float(cell["ridge_test"])

    def mse(forecast: np.ndarray) -> float:
        return float(np.nanmean((forecast - cell["test_y"]) ** 2)) / base

    def default_rule(members: Sequence[str]) -> float:
        val = np.mean([cell["val_" + k[5:]] for k in members], 0)
        test = np.mean([cell[k] for k in members], 0)
        inner = {"val": _sums(cell["val_ridge"], val, cell["val_y"])}
        inner["val_later"] = cell["val_later"]
        total = _sums(cell["test_ridge"], test, cell["test_y"]).sum(0)
        return weighted_sse(total, weight(inner, "both_halves")) / total[3] / base

    def geo(values: Sequence[float]) -> float:
        return float(np.exp(np.mean(np.log(values))))

    row = [mse(cell["test_ridge"])]
    row += [geo([default_rule(c) for c in itertools.combinations(seeds, k)]) for k in sizes]
    row += [geo([mse(cell[k]) for k in seeds]), mse(np.mean([cell[k] for k in seeds], 0))]
    return row


def report(out: Path) -> str:
    """Markdown table over the ``.npz`` files in ``out``."""
    cells = {p.stem: dict(np.load(p)) for p in sorted(out.glob("*.npz"))}
    n = min(sum(k.startswith("test_none") for k in c) for c in cells.values())
    sizes = list(range(1, n + 1))
    rows: dict[str, list[list[float]]] = {}
    for name, cell in cells.items():
        rows.setdefault(name.split("_H")[0], []).append(scores(cell, sizes))
    rows["all"] = [row for group in list(rows.values()) for row in group]
    head = ["ridge start"] + [f"default, {k} network{'s' * (k > 1)}" for k in sizes]
    head += ["from scratch alone, 1", f"from scratch alone, {n}"]
    lines = ["| data set | cells | " + " | ".join(head) + " |", "|---|---:|" + "---:|" * len(head)]
    for name, group in rows.items():
        means = np.exp(np.log(np.asarray(group)).mean(0))
        lines.append(f"| {name} | {len(group)} | " + " | ".join(f"{v:.4f}" for v in means) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    p = study_parser(__doc__.split("\n")[0], out="seed_ensemble")
    p.add_argument("--seeds", type=int, default=3, help="networks from scratch per cell")
    args = p.parse_args(argv)

    def cells(data: LTSFData, horizon: int):
        path = Path(args.out) / f"{data.name}_H{horizon}.npz"
        yield path, partial(fit_cell, data, horizon, args.seeds, path)

    out = study_cells(p, args, cells)
    print("Outer-validation MSE / ridge baseline, geometric mean over cells:")
    print()
    print(report(out))


if __name__ == "__main__":
    main()
