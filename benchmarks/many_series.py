"""Many hourly series of very different sizes: the default XLSTMForecaster against the
seasonal naive forecast, and the fit's time.

A seeded synthetic panel stands in for real sets of hundreds of hourly series: each of
``--series`` series has 700 to 1,000 training hours and a level drawn log-uniformly from
10 to 10^5; 45 % carry a daily cycle of random amplitude and phase, 20 % a daily and a
weekly cycle, 15 % a daily cycle and a trend, and 20 % are flat with noise (the kind whose
forecasts climb when a model mixes the series' scales). The last ``--horizon`` hours of
every series are held out. ``XLSTMForecaster(horizon=H, random_state=--model-seed)``
with its defaults is fitted on the rest; the seasonal naive forecast repeats each
series' last day. Scores: sMAPE and MASE (scale: the in-sample mean absolute daily
difference, m = 24) as in the M4 competition, and the largest forecast over the largest
training value of its series.

Run::

    OMP_NUM_THREADS=1 python benchmarks/many_series.py --out many_series.json
    python benchmarks/many_series.py --series 6 --min-length 150 --max-length 200 \\
        --param max_epochs=1 --out tiny.json
"""

from __future__ import annotations

import argparse
import ast
import json
import platform
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("daily", "flat", "trend", "weekly")
SHARES = (0.45, 0.2, 0.15, 0.2)


def hourly_panel(
    n_series: int, horizon: int, min_length: int, max_length: int, seed: int
) -> tuple[pd.DataFrame, list[np.ndarray], np.ndarray]:
    """The training frame (long), each series' training values and the held-out values
    (n_series, horizon)."""
    rng = np.random.default_rng(seed)
    frames, trains, tests = [], [], []
    for k in range(n_series):
        n = int(rng.integers(min_length, max_length + 1)) + horizon
        t = np.arange(n)
        level = 10 ** rng.uniform(1, 5)
        kind = rng.choice(KINDS, p=SHARES)
        daily = np.sin(2 * np.pi * (t % 24) / 24 - rng.uniform(0, 2 * np.pi))
        noise = rng.normal(size=n)
        if kind == "flat":
            y = level * (1 + 0.05 * noise)
        elif kind == "trend":
            y = level * (1 + 0.3 * daily + 0.3 * t / n + 0.08 * noise)
        elif kind == "weekly":
            weekly = np.sin(2 * np.pi * (t % 168) / 168)
            y = level * (1 + 0.3 * daily + 0.3 * weekly + 0.08 * noise)
        else:
            y = level * (1 + rng.uniform(0.1, 0.6) * daily + 0.08 * noise)
        y = np.maximum(y, 0.1)
        ds = pd.date_range("2020-01-01", periods=n, freq="h")
        frames.append(pd.DataFrame({"unique_id": f"H{k}", "ds": ds[:-horizon], "y": y[:-horizon]}))
        trains.append(y[:-horizon])
        tests.append(y[-horizon:])
    return pd.concat(frames, ignore_index=True), trains, np.stack(tests)


def scores(actual: np.ndarray, forecast: np.ndarray, trains: list[np.ndarray]) -> dict:
    from xlstm_ts.metrics.m4 import largest_ratio, mean_mase, mean_smape

    return {
        "smape": mean_smape(actual, forecast),
        "mase": mean_mase(actual, forecast, trains, 24),
        "largest_ratio": largest_ratio(forecast, trains),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from xlstm_ts import XLSTMForecaster

    frame, trains, actual = hourly_panel(
        args.series, args.horizon, args.min_length, args.max_length, args.seed
    )
    params = {"horizon": args.horizon, "random_state": args.model_seed, **args.params}
    start = time.perf_counter()
    model = XLSTMForecaster(**params).fit(frame)
    fit_seconds = time.perf_counter() - start
    pred = model.predict()
    xlstm = np.stack([g["y"].to_numpy() for _, g in pred.groupby("unique_id", sort=False)])
    naive = np.stack([np.resize(y[-24:], args.horizon) for y in trains])
    return {
        "command": " ".join(["python", *sys.argv]),
        "data": {
            "series": args.series,
            "horizon": args.horizon,
            "seed": args.seed,
            "lengths": [args.min_length, args.max_length],
        },  # fmt: skip
        "xlstm": {
            **scores(actual, xlstm, trains),
            "fit_seconds": fit_seconds,
            "linear_path": model.linear_path_,
            "n_epochs": model.n_epochs_,
            "params": params,
        },  # fmt: skip
        "seasonal_naive": scores(actual, naive, trains),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
    }


def table(result: dict[str, Any]) -> str:
    lines = ["| model | sMAPE | MASE | largest ratio | fit s |", "|---|---:|---:|---:|---:|"]
    for name in ("xlstm", "seasonal_naive"):
        r = result[name]
        fit = f"{r['fit_seconds']:.0f}" if "fit_seconds" in r else "0"
        lines.append(
            f"| {name} | {r['smape']:.3f} | {r['mase']:.3f} | {r['largest_ratio']:.2f} | {fit} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=300)
    p.add_argument("--horizon", type=int, default=48)
    p.add_argument("--min-length", type=int, default=700, help="shortest training part")
    p.add_argument("--max-length", type=int, default=1000, help="longest training part")
    p.add_argument("--seed", type=int, default=0, help="seed of the data")
    p.add_argument("--model-seed", type=int, default=0, help="XLSTMForecaster's random_state")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="an estimator parameter, VALUE a Python literal (repeatable)")  # fmt: skip
    p.add_argument("--out", help="JSON file for the results")
    args = p.parse_args(argv)
    args.params = {}
    for item in args.param:
        key, _, value = item.partition("=")
        try:
            args.params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            args.params[key] = value
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    print(table(result))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
