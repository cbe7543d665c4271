"""The default's training budget against its cost, on validation data only.

Each panel's training part is cut once more: the last ``H`` steps of every series are
an outer validation part, the model is fitted on the rest (its own validation windows
inside that rest, as always) and scored on the outer part. The benchmarks' test parts
are never read. Per panel and budget variant one JSON cell in ``--out`` holds the
scores, the fit's time and the epochs (an existing cell is read, not refitted).

Panels: ``hourly`` (``benchmarks/many_series.py``'s 300 hourly series, H = 48),
``retail`` (``xlstm_ts.datasets.retail_panel``, 50 stores, H = 28, promotion and holiday
flags as future covariates) and ``m4weekly`` (M4 Weekly from ``--data-home``, H = 13, the
M4 protocol's context and validation part).

Variants: the estimator's parameters beside the defaults, and ``val_share``: the share
of ``windows_per_epoch`` each epoch's validation reads (``VALIDATION_SHARE``; 1 unless
a variant sets it, so ``default`` is the budget before this study).

Run (one torch thread; cells of one panel in one process for comparable times)::

    python research/fit_budget.py --panels hourly --out fit_budget
    python research/fit_budget.py --panels m4weekly --data-home PATH --out fit_budget
    python research/fit_budget.py --report-only --out fit_budget
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "val/4": {"val_share": 0.25},
    "val/4, batch 128": {"val_share": 0.25, "batch_size": 128},
    "val/4, 4096 windows": {"val_share": 0.25, "windows_per_epoch": 4096},
    "val/4, 12 epochs": {"val_share": 0.25, "max_epochs": 12},
}


def _cut(frame: pd.DataFrame, h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame without the last ``h`` rows of each series, and those rows."""
    last = frame.groupby("unique_id", sort=False).cumcount(ascending=False) < h
    return frame[~last], frame[last]


def panel(name: str, data_home: str | None) -> dict[str, Any]:
    """``fit`` frame, ``outer`` rows, horizon, seasonality and fixed estimator params."""
    if name == "hourly":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
        from many_series import hourly_panel

        frame, _, _ = hourly_panel(300, 48, 700, 1000, 0)
        return {"frame": frame, "h": 48, "m": 24, "params": {}}
    if name == "retail":
        from xlstm_ts.datasets import retail_panel

        df, truth = retail_panel(50, 3 * 365, 28, seed=0)
        frame = df[~truth["holdout"].to_numpy()]
        return {"frame": frame, "h": 28, "m": 7,
                "params": {"future_covariates": ["promo", "holiday"]}}  # fmt: skip
    if name == "m4weekly":
        from xlstm_ts.datasets import load_m4

        from xlstm_ts.ltsf.m4 import choose_context

        data = load_m4("M4Weekly", data_home=data_home)
        h, frame = data.horizon, data.train
        lengths = frame.groupby("unique_id", sort=False).size().to_numpy() - h
        L = choose_context(list(lengths), h, None)
        size = frame.groupby("unique_id")["y"].transform("size")
        return {"frame": frame[size - h >= L + 2 * h], "h": h, "m": 1,
                "params": {"context_length": L, "validation_size": h}}  # fmt: skip
    raise ValueError(f"unknown panel {name!r}")


def scores(fit: pd.DataFrame, outer: pd.DataFrame, pred: pd.DataFrame, m: int) -> dict:
    """sMAPE and MASE (M4's definitions) of the median on the outer part."""
    from xlstm_ts.metrics.m4 import mean_mase, mean_smape

    ids = list(outer["unique_id"].unique())
    actual = np.stack([g["y"].to_numpy() for _, g in outer.groupby("unique_id", sort=False)])
    by_id = {u: g["y"].to_numpy() for u, g in pred.groupby("unique_id", sort=False)}
    forecast = np.stack([by_id[u] for u in ids])
    history = {u: g["y"].to_numpy() for u, g in fit.groupby("unique_id", sort=False)}
    trains = [history[u] for u in ids]
    return {"smape": mean_smape(actual, forecast), "mase": mean_mase(actual, forecast, trains, m)}


def run_cell(spec: dict[str, Any], variant: dict[str, Any], seed: int) -> dict[str, Any]:
    import xlstm_ts.training.datamodule as datamodule
    from xlstm_ts import XLSTMForecaster

    params = dict(variant)
    datamodule.VALIDATION_SHARE = params.pop("val_share", 1.0)
    fit, outer = _cut(spec["frame"], spec["h"])
    future = outer.drop(columns="y") if spec["params"].get("future_covariates") else None
    model = XLSTMForecaster(horizon=spec["h"], random_state=seed, **spec["params"], **params)
    start = time.perf_counter()
    model.fit(fit)
    seconds = time.perf_counter() - start
    pred = model.predict(X_future=future) if future is not None else model.predict()
    return {
        **scores(fit, outer, pred, spec["m"]),
        "fit_s": seconds,
        "n_epochs": model.n_epochs_,
        "kept": model.linear_path_,
        "best_val_loss": model.best_val_loss_,
    }


def report(out: Path) -> str:
    cells = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    lines = ["| panel | variant | sMAPE | MASE | inner val MSE | kept | epochs | fit s |",
             "|---|---|---:|---:|---:|---|---|---:|"]  # fmt: skip
    for c in sorted(cells, key=lambda c: (c["panel"], list(VARIANTS).index(c["variant"]))):
        lines.append(
            f"| {c['panel']} | {c['variant']} | {c['smape']:.3f} | {c['mase']:.3f} | "
            f"{c['best_val_loss']:.4f} | {c['kept']} | {c['n_epochs']} | {c['fit_s']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--panels", nargs="+", default=["hourly", "retail"])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    p.add_argument("--data-home")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="fit_budget")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        import torch

        torch.set_num_threads(1)
        for name in args.panels:
            spec = panel(name, args.data_home)
            for variant in args.variants:
                path = out / f"{name}-{variant.replace('/', '_').replace(', ', '-')}.json"
                if path.exists():
                    continue
                cell = run_cell(spec, VARIANTS[variant], args.seed)
                cell.update(panel=name, variant=variant, seed=args.seed)
                path.write_text(json.dumps(cell, indent=2))
                print(name, variant, cell, flush=True)
    print(report(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
