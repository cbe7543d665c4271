"""The ablation's decision variants, replayed on one training per horizon and seed.

Five variants of ``ablation.py`` train the same networks and differ only in what they
keep on the validation windows: ``default``, ``no_check``, ``no_combination``,
``ridge_only`` and ``no_linear`` all use the ridge-started network (seed ``s``) and/or
the networks from scratch (seeds ``s`` … ``s + n_models − 1``), trained alike whatever
``blend_check`` and ``combine`` (the switches of ``switches.py``; the ridge start's
training is monitored with the unchecked blend weight). Here both candidates are
trained once on the long-horizon protocol, exactly as the estimator trains them; per
window of the validation and test parts the script saves the moments of the
candidates' point forecasts that every decision needs, and replays each variant's rules
(``xlstm_ts.training.decision``) on them. So the variants are compared on the same
trained networks (paired), at a fifth of the cost of ``ablation.py``; the tests check
the replay against fits of the variants themselves.

Per horizon and seed, one ``.npz`` file in ``--out`` (an existing file is read instead
of refitted). Run::

    python research/decision_ablation.py --dataset ETTh1 --data-home PATH --seeds 0 1 2
    python research/decision_ablation.py --report-only --out decision_ablation

It prints ``ablation.py``'s table (test MSE per horizon, mean ± std over seeds, the
average over horizons, fit time: both candidates' for the variants that use both) and
what each variant kept in each run (seeds in order): the ridge start's blend weight α
and the weight w of the networks from scratch (0: the ridge start alone, 1: the
networks from scratch alone).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ablation import table
from selection_rules import seed_cells, study_cells, study_parser

from xlstm_ts.ltsf import LTSFData
from xlstm_ts.ltsf.models import RidgeModel, XLSTMModel
from xlstm_ts.ltsf.run import evaluate
from xlstm_ts.training import later_half
from xlstm_ts.training.decision import (
    ALPHA_MAX,
    checked_weight,
    half_totals,
    second_wins_both_halves,
    weighted_sse,
)

VARIANTS = ("default", "no_check", "no_combination", "ridge_only", "no_linear")


def blend_moments(target: torch.Tensor, linear, correction, scratch) -> np.ndarray:
    """Per window ``(Σaa, Σak, Σkk, Σab, Σbk, Σbb, n)`` (float64, shape (n_windows, 7))
    with ``a = target − linear``, ``k = correction`` (the ridge-started network's two
    parts, ``forward_parts``, at the point forecast) and ``b = scratch − linear``, over
    the known target steps: every blend of the two candidates is a quadratic in these
    (differences in float64, as :func:`~xlstm_ts.training.decide` takes them)."""
    target, linear = target.double(), linear.double()
    a, k, b = target - linear, correction.double(), scratch.double() - linear
    known = ~torch.isnan(a)
    a, k, b = (torch.where(known, v, 0.0) for v in (a, k, b))
    products = [a * a, a * k, k * k, a * b, b * k, b * b, known.double()]
    return torch.stack([p.sum(-1) for p in products], -1).cpu().numpy()


@torch.no_grad()
def window_moments(ridge_start, scratch, windows, batch_size: int = 1024) -> np.ndarray:
    """:func:`blend_moments` of every window of ``windows`` (on the GPU when there is one)."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    ridge_start, scratch = ridge_start.to(device).eval(), scratch.to(device).eval()
    rows = []
    for first in range(0, len(windows), batch_size):
        *inputs, target = windows.batch(np.arange(first, min(first + batch_size, len(windows))))
        inputs = [x.to(device) for x in inputs]
        linear, correction = ridge_start.forward_parts(*inputs)  # [..., 0]: the median
        rows.append(
            blend_moments(target.to(device), linear, correction[..., 0], scratch(*inputs)[..., 0])
        )
    return np.concatenate(rows)


def combination_sums(moments: np.ndarray, alpha: float) -> np.ndarray:
    """Per window ``(Σrr, Σrc, Σcc, n)`` of the ridge start with blend weight ``alpha``
    as the first member and the networks from scratch as the second (the sums of the
    default's combination, :func:`~xlstm_ts.training.decide`)."""
    aa, ak, kk, ab, bk, bb, n = moments.T
    rr = aa - 2 * alpha * ak + alpha**2 * kk
    rc = ab - alpha * (ak + bk) + alpha**2 * kk
    cc = bb - 2 * alpha * bk + alpha**2 * kk
    return np.stack([rr, rc, cc, n], 1)


def decide(variant: str, moments: np.ndarray, later: np.ndarray) -> tuple[float, float]:
    """``(alpha, weight)`` that ``variant`` keeps from the validation moments: the ridge
    start's blend weight and the weight of the networks from scratch in the combination
    (0: the ridge start alone, 1: the networks from scratch alone)."""
    check = variant != "no_check"
    ridge_start = moments[:, [0, 1, 2, 6]]  # (Σaa, Σak, Σkk, n): its blend's sums
    alpha = checked_weight(half_totals(ridge_start, later), ALPHA_MAX, check).alpha
    if variant in ("ridge_only", "no_linear"):
        return alpha, float(variant == "no_linear")
    halves = half_totals(combination_sums(moments, alpha), later)
    if variant != "no_combination":
        fit = checked_weight(halves, 1.0, check)
        if 0.0 < fit.alpha < 1.0:
            return alpha, fit.alpha
        if check:  # the default: leaving the ridge start takes both halves
            return alpha, float(second_wins_both_halves(fit.alpha_halves))
    total = halves.sum(0)  # the lower validation MSE; ties keep the ridge start
    return alpha, float(weighted_sse(total, 1.0) < weighted_sse(total, 0.0))


def mse(moments: np.ndarray, alpha: float, weight: float) -> float:
    """MSE of the forecast ``(1 − weight)·(linear + alpha·k) + weight·scratch``."""
    total = combination_sums(moments, alpha).sum(0)
    return weighted_sse(total, weight) / total[3]


def fit_cell(data: LTSFData, horizon: int, seed: int, path: Path) -> None:
    """Train both candidates of the default on the protocol and save the moments."""
    ridge = RidgeModel()
    ridge.fit(data, horizon, seed)
    val, test = data.windows("val", horizon), data.windows("test", horizon)
    nets, seconds = [], []
    for linear_path in ("ridge", "none"):  # the candidates of linear_path="auto"
        start = time.perf_counter()
        model = XLSTMModel(linear_path=linear_path)
        model.fit(data, horizon, seed)
        seconds.append(time.perf_counter() - start)
        nets.append(model.model.model_)
    np.savez(
        path,
        val=window_moments(*nets, val),
        val_later=later_half(val),
        test=window_moments(*nets, test),
        ridge_test=evaluate(ridge, test)["mse"],
        trained_alpha=float(nets[0].correction_scale),
        seconds=np.array(seconds),
    )


def runs(cell: dict[str, np.ndarray], horizon: int, seed: int) -> dict[str, dict[str, Any]]:
    """Per variant, its run record (as ``run_benchmark`` writes them) and its choice."""
    t_ridge, t_scratch = (float(s) for s in cell["seconds"])
    seconds = {"ridge_only": t_ridge, "no_linear": t_scratch}
    out = {}
    for variant in VARIANTS:
        alpha, weight = decide(variant, cell["val"], cell["val_later"])
        out[variant] = {
            "model": "xlstm",
            "horizon": horizon,
            "seed": seed,
            "mse": mse(cell["test"], alpha, weight),
            "fit_seconds": seconds.get(variant, t_ridge + t_scratch),
            "alpha": alpha,
            "weight": weight,
        }
    replayed, trained = out["default"]["alpha"], float(cell["trained_alpha"])
    if not np.isclose(replayed, trained, rtol=1e-4, atol=1e-6):
        raise ValueError(f"H={horizon} seed {seed}: the replayed blend weight {replayed} is "
                         f"not the trained network's {trained}")  # fmt: skip
    ridge = {"model": "ridge", "horizon": horizon, "seed": seed, "fit_seconds": 0.0}
    out["baselines"] = {**ridge, "mse": float(cell["ridge_test"])}
    return out


def report(out: Path) -> str:
    """The ablation table and each variant's choices, from the ``.npz`` files in ``out``."""
    results: dict[str, dict[str, list]] = {v: {"runs": []} for v in (*VARIANTS, "baselines")}
    for path in sorted(out.glob("*.npz")):
        horizon, seed = (int(n) for n in re.fullmatch(r".*_H(\d+)_seed(\d+)", path.stem).groups())
        for variant, run in runs(dict(np.load(path)), horizon, seed).items():
            results[variant]["runs"].append(run)
    horizons = sorted({r["horizon"] for r in results["default"]["runs"]})
    smallest = min(r["mse"] for result in results.values() for r in result["runs"])
    digits = 3 - int(np.floor(np.log10(smallest)))  # four significant digits
    lines = [table(results, horizons, digits), "", "| variant | H | α (ridge start) | w |"]
    lines.append("|---|---:|---|---|")
    for variant in VARIANTS:
        for h in horizons:
            kept = sorted((r for r in results[variant]["runs"] if r["horizon"] == h),
                          key=lambda r: r["seed"])  # fmt: skip
            alpha, weight = (", ".join(f"{r[k]:.2f}" for r in kept) for k in ("alpha", "weight"))
            alpha = "–" if variant == "no_linear" else alpha  # the ridge start is not used
            lines.append(f"| {variant} | {h} | {alpha} | {weight} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    p = study_parser(__doc__.split("\n")[0], out="decision_ablation")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args(argv)

    out = study_cells(p, args, seed_cells(args, fit_cell))
    print("Test MSE; the variants replayed on the same trained candidates:")
    print()
    print(report(out))


if __name__ == "__main__":
    main()
