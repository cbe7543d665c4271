"""Ablation of the xLSTM forecaster's ingredients on the long-horizon benchmark.

Each variant is the default configuration (``xlstm-ts benchmark --models xlstm`` with no
``--param``) with one ingredient switched (the estimator's parameters, or the switches
it settled, ``switches.py``); every variant runs on the same data, horizons and seeds,
through the same code as the benchmark command. One JSON file per variant is
written to ``--out`` (an existing file is read instead of rerun, so an interrupted run
resumes), then one markdown table: MSE mean ± std over seeds per horizon, the average
over horizons, and the mean fit time per run.

Run::

    python research/ablation.py --dataset ILI --data-home PATH --seeds 0 1 2 --out ili_ablation
    python research/ablation.py --dataset ETTh1 --data-home PATH --variants default ridge_only
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from switches import benchmark_models

from xlstm_ts.ltsf import prepare, resolve_horizons, run_benchmark

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": (
        "the default: linear_path='auto' (ridge start, none, or their checked combination)",
        {},
    ),
    "no_combination": (
        "one candidate of linear_path='auto' alone (the lower validation MSE)",
        {"combine": False},
    ),
    "ridge_only": (
        "only the ridge-started correction (linear_path='ridge')",
        {"linear_path": "ridge"},
    ),
    "no_linear": (
        "only the network without linear path (linear_path='none')",
        {"linear_path": "none"},
    ),
    "no_check": ("the blend without its out-of-sample check", {"blend_check": False}),
    "head_flatten": ("head on all patch encodings (head='flatten')", {"head": "flatten"}),
    "one_network": ("the network from scratch trained once, no seed ensemble", {"n_models": 1}),
    "channel_mixing": (
        "each channel also reads the other channels' contexts",
        {"channel_mixing": True},
    ),
}
BASELINES = ("ridge", "dlinear")


def _mean_std(values: Sequence[float], digits: int = 3) -> str:
    a = np.asarray(values, dtype=float)
    text = f"{a.mean():.{digits}f}"
    return text + f"±{a.std(ddof=1):.{digits}f}" if len(a) > 1 else text


def table(results: dict[str, dict[str, Any]], horizons: Sequence[int], digits: int = 3) -> str:
    """Markdown: one row per variant (and baseline), MSE per horizon (``digits``
    decimals), average, fit time."""
    head = "| variant | " + " | ".join(f"H={h}" for h in horizons) + " | average | fit s |"
    lines = [head, "|---|" + "---:|" * (len(horizons) + 2)]
    for name, result in results.items():
        for model in sorted({r["model"] for r in result["runs"]}, key=lambda m: m != "xlstm"):
            if (model == "xlstm") == (name == "baselines"):
                continue  # the xLSTM rows of the variants, the other models of the baselines
            runs = [r for r in result["runs"] if r["model"] == model]
            cells, seeds = [], sorted({r["seed"] for r in runs}, key=lambda s: s or 0)
            for h in horizons:
                cells.append(_mean_std([r["mse"] for r in runs if r["horizon"] == h], digits))
            per_seed = [np.mean([r["mse"] for r in runs if r["seed"] == s]) for s in seeds]
            fit = np.mean([r["fit_seconds"] for r in runs])
            label = name if model == "xlstm" else f"{model} (baseline)"
            lines.append(
                f"| {label} | "
                + " | ".join(cells)
                + f" | {_mean_std(per_seed, digits)} | {fit:.0f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-home")
    p.add_argument("--context-length", type=int, help="default: the registry's")
    p.add_argument("--horizons", type=int, nargs="+", help="default: the registry's")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--baselines", nargs="*", choices=list(BASELINES), default=list(BASELINES))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="ablation", help="folder of the JSON files")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    data = prepare(args.dataset, context_length=args.context_length, data_home=args.data_home)
    horizons = resolve_horizons(data.name, args.horizons)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = {name: ("xlstm", VARIANTS[name][1]) for name in args.variants}
    results: dict[str, dict[str, Any]] = {}
    for name, (model, params) in jobs.items():
        results[name] = _run(data, horizons, args, out / f"{name}.json", [model], params)
    if args.baselines:
        results["baselines"] = _run(data, horizons, args, out / "baselines.json", args.baselines)
    print(f"{data.name}, L = {data.context_length}, seeds {args.seeds}: test MSE\n")
    print(table(results, horizons))
    print()
    for name in args.variants:
        print(f"* {name}: {VARIANTS[name][0]}")
    return 0


def _run(data, horizons, args, path: Path, models, params=None) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text())
    xlstm = {"num_threads": args.threads, **(params or {})}
    with benchmark_models():  # the xLSTM of the switches
        result = run_benchmark(data, horizons, models, args.seeds, model_params={"xlstm": xlstm})
    path.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    sys.exit(main())
