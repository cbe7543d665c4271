"""Retail-like panel with a known truth: XLSTMForecaster with promotion and holiday flags
against seasonal-naive and AutoETS-like baselines.

The data are :func:`xlstm_ts.datasets.retail_panel` (daily sales of stores whose levels
span more than two orders of magnitude, weekly and yearly seasonality, a trend,
promotions with a known lift, holidays, multiplicative noise). The last ``--horizon``
days of every store are held out; every model fits on the rest and forecasts them once.

Models (rows of the table):

* ``XLSTMForecaster``: ``horizon`` and ``future_covariates=["promo", "holiday"]``, the
  estimator's defaults otherwise, except what ``--epochs``, ``--windows-per-epoch`` and
  ``--param KEY=VALUE`` set and ``random_state=--model-seed``; one torch thread. The
  held-out days' promotion and holiday flags are given as ``X_future``.
* seasonal naive: the last week repeated (``xlstm_ts.baselines.seasonal_naive``).
* AutoETS-like ETS per store: statsmodels' ``ETSModel`` with a weekly season, the
  candidate among additive or multiplicative error, no / additive / damped trend and
  no / additive / multiplicative season (no additive error with a multiplicative
  season) with the lowest AICc on the store's training days; its 10–90 % prediction
  interval is statsmodels' (simulated for multiplicative errors).
* truth: the true 10 %, 50 % and 90 % quantiles of each held-out day's sales (not a
  model: the floor no forecaster can beat on average).

Scores on the held-out days: MAE over all of them (big stores dominate), sMAPE, the mean
over stores of the store's MAE divided by the mean of its held-out sales (``MAE/mean``),
the share of held-out sales inside the 10–90 % band and its mean width (also per store
divided by the held-out mean), the promotion response (XLSTMForecaster: the median
forecast with every held-out day's promotion flag set to 1, against all set to 0, same
holidays; per store ``mean(f_on) / mean(f_off) − 1``, compared with the true lift), and
the largest ratio of a store's forecast to the largest value of its training days. The
table goes to standard output and everything to a JSON file with the command line.

Run::

    python benchmarks/retail.py --out retail.json
    python benchmarks/retail.py --series 4 --days 200 --epochs 1 --out tiny.json
    python benchmarks/retail.py --param d_model=32 --param linear_path='"ridge"'
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

LEVELS = (0.1, 0.5, 0.9)
Z90 = 1.2815515655446004  # the standard normal's 90 % quantile


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``argv``: the arguments, ``sys.argv[1:]`` by default)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=50, help="stores (default 50)")
    p.add_argument("--days", type=int, default=3 * 365, help="days per store (default 1095)")
    p.add_argument("--horizon", type=int, default=28, help="held-out days (default 28)")
    p.add_argument("--promo-rate", type=float, default=0.1)
    p.add_argument("--promo-lift", type=float, default=0.35, help="the true lift")
    p.add_argument("--seed", type=int, default=0, help="seed of the data (default 0)")
    p.add_argument("--model-seed", type=int, default=0, help="XLSTMForecaster's random_state")
    p.add_argument("--epochs", type=int, default=None, help="max_epochs (default: the estimator's)")
    p.add_argument(
        "--windows-per-epoch",
        type=int,
        default=None,
        help="windows_per_epoch (default: the estimator's)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another XLSTMForecaster parameter; VALUE is read as JSON, else as a string",
    )
    p.add_argument(
        "--models",
        nargs="+",
        default=["xlstm", "seasonal_naive", "ets"],
        choices=["xlstm", "seasonal_naive", "ets"],
    )
    p.add_argument("--out", type=Path, default=Path("retail_results.json"), help="the JSON file")
    return p.parse_args(argv)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings as a dict; values read as JSON where they parse, else strings."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--param takes KEY=VALUE; got {pair!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


# ----------------------------------------------------------------------------- data


def grid(frame: pd.DataFrame, column: str, ids: list[str]) -> np.ndarray:
    """``column`` of a long frame as an array (stores in the order ``ids``, days)."""
    wide = frame.pivot(index="unique_id", columns="ds", values=column)
    return wide.loc[ids].to_numpy(dtype=np.float64)


# ----------------------------------------------------------------------------- models


def fit_xlstm(
    train: pd.DataFrame, future: pd.DataFrame, ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Fit XLSTMForecaster and forecast the held-out days (quantiles, promotion response)."""
    from xlstm_ts import XLSTMForecaster

    params: dict[str, Any] = {"random_state": args.model_seed}
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    if args.windows_per_epoch is not None:
        params["windows_per_epoch"] = args.windows_per_epoch
    params.update(parse_params(args.param))
    model = XLSTMForecaster(horizon=args.horizon, future_covariates=["promo", "holiday"], **params)
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    q = model.predict_quantiles(X_future=future)
    predict_s = time.perf_counter() - start
    responses = {}
    for flag in (0, 1):
        switched = future.assign(promo=flag)
        responses[flag] = grid(model.predict(X_future=switched), "y", ids)
    return {
        "quantiles": np.stack([grid(q, f"q{level}", ids) for level in LEVELS], axis=-1),
        "promo_off": responses[0],
        "promo_on": responses[1],
        "fit_s": fit_s,
        "predict_s": predict_s,
        "info": {
            "params": {k: v for k, v in model.get_params().items() if k != "trainer_kwargs"},
            "linear_path_": model.linear_path_,
            "n_epochs_": model.n_epochs_,
            "best_val_loss_": model.best_val_loss_,
            "decision_": model.decision_,
        },
    }


def fit_seasonal_naive(history: np.ndarray, horizon: int) -> dict[str, Any]:
    """The last week of every store, repeated."""
    from xlstm_ts.baselines import seasonal_naive

    start = time.perf_counter()
    point = seasonal_naive(history, 7, horizon)
    return {"point": point, "fit_s": time.perf_counter() - start}


ETS_CANDIDATES = [
    (error, trend, damped, season)
    for error in ("add", "mul")
    for trend, damped in ((None, False), ("add", False), ("add", True))
    for season in (None, "add", "mul")
    if not (error == "add" and season == "mul")
]
"""(error, trend, damped, season) of the ETS models tried per store (15)."""


def fit_ets(
    history: np.ndarray, dates: pd.DatetimeIndex, horizon: int, seed: int
) -> dict[str, Any]:
    """Per store, the ETS candidate with the lowest AICc; its mean and 10–90 % interval."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    out = np.empty((len(history), horizon, 3))
    chosen = []
    start = time.perf_counter()
    for k, values in enumerate(history):
        y = pd.Series(values, index=pd.DatetimeIndex(dates, freq="D"))
        best = None
        for error, trend, damped, season in ETS_CANDIDATES:
            spec = dict(error=error, trend=trend, damped_trend=damped, seasonal=season)
            if season is not None:
                spec["seasonal_periods"] = 7
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the optimiser's convergence chatter
                try:
                    result = ETSModel(y, **spec).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
            if np.isfinite(result.aicc) and (best is None or result.aicc < best[0].aicc):
                best = (result, (error, trend, damped, season))
        if best is None:
            raise RuntimeError(f"no ETS candidate could be fitted to store {k}")
        result, spec = best
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = result.get_prediction(
                start=len(values), end=len(values) + horizon - 1, rng=np.random.default_rng(seed)
            ).summary_frame(alpha=0.2)
        out[k] = frame[["pi_lower", "mean", "pi_upper"]].to_numpy()
        e, t, d, s = spec
        chosen.append(
            f"ETS({e[0].upper()},{'N' if t is None else 'Ad' if d else 'A'},"
            f"{'N' if s is None else s[0].upper()})"
        )
    return {
        "quantiles": out,
        "fit_s": time.perf_counter() - start,
        "info": {"chosen": dict(Counter(chosen).most_common())},
    }


def true_quantiles(expected: np.ndarray, noise: float) -> np.ndarray:
    """The 10 %, 50 % and 90 % quantiles of ``m · exp(σε − σ²/2)``."""
    z = np.array([-Z90, 0.0, Z90])
    return expected[..., None] * np.exp(noise * z - noise**2 / 2)


# ----------------------------------------------------------------------------- scores


def scores(
    actual: np.ndarray,
    point: np.ndarray,
    train_max: np.ndarray,
    band: tuple[np.ndarray, np.ndarray] | None,
) -> dict[str, Any]:
    """The scores of one model's forecasts (stores, days) of ``actual``."""
    from xlstm_ts.metrics import coverage, interval_width, mae, smape

    level = actual.mean(axis=1)
    per_store_mae = np.abs(actual - point).mean(axis=1)
    ratio = point.max(axis=1) / train_max
    out: dict[str, Any] = {
        "mae": mae(actual, point),
        "smape": smape(actual, point),
        "mae_over_mean": float(np.mean(per_store_mae / level)),
        "max_forecast_over_max_train": float(ratio.max()),
        "coverage_10_90": None,
        "width_10_90": None,
        "width_10_90_over_mean": None,
    }
    if band is not None:
        lo, hi = band
        out["coverage_10_90"] = coverage(actual, lo, hi)
        out["width_10_90"] = interval_width(lo, hi)
        out["width_10_90_over_mean"] = float(np.mean((hi - lo).mean(axis=1) / level))
    return out


def promo_response(on: np.ndarray, off: np.ndarray) -> dict[str, Any]:
    """Per store ``mean(on) / mean(off) − 1`` over the held-out days; its mean and range."""
    per_store = on.mean(axis=1) / off.mean(axis=1) - 1
    return {
        "mean": float(per_store.mean()),
        "min": float(per_store.min()),
        "max": float(per_store.max()),
        "per_store": per_store.tolist(),
    }


# ----------------------------------------------------------------------------- output


def code_version() -> dict[str, Any]:
    """The commit of the checkout this script runs from and whether it has changes
    (``None`` outside a git checkout)."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    import xlstm_ts

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": git("rev-parse", "HEAD"),
        "changed_files": None if status is None else len(status.splitlines()),
        "xlstm_ts": str(Path(xlstm_ts.__file__).parent),
    }


def _cell(value: float | None, fmt: str) -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, fmt)


def table(rows: dict[str, dict[str, Any]], lift: float) -> str:
    """The results as a markdown table, models as rows."""
    head = (
        "| model | MAE | sMAPE % | MAE/mean | 10–90 % coverage | 10–90 % width/mean "
        f"| promo response (true {lift:.2f}) | max forecast / max train | fit s |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for name, r in rows.items():
        promo = r.get("promo_response")
        if promo is None:
            response = "—"
        else:
            response = f"{promo['mean']:.3f} ({promo['min']:.2f} to {promo['max']:.2f})"
        lines.append(
            f"| {name} | {_cell(r['mae'], '.2f')} | {_cell(r['smape'], '.2f')} "
            f"| {_cell(r['mae_over_mean'], '.3f')} | {_cell(r['coverage_10_90'], '.3f')} "
            f"| {_cell(r['width_10_90_over_mean'], '.3f')} | {response} "
            f"| {_cell(r['max_forecast_over_max_train'], '.2f')} | {_cell(r['fit_s'], '.1f')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print the table and write the JSON (also returned)."""
    import torch
    from xlstm_ts.datasets import retail_panel

    from xlstm_ts.jsonable import jsonable

    args = parse_args(argv)
    torch.set_num_threads(1)
    began = time.perf_counter()
    df, truth = retail_panel(
        args.series,
        args.days,
        args.horizon,
        promo_rate=args.promo_rate,
        promo_lift=args.promo_lift,
        seed=args.seed,
    )
    H = args.horizon
    test = truth["holdout"].to_numpy()
    train, held = df[~test], df[test]
    ids = sorted(df["unique_id"].unique())
    history = grid(train, "y", ids)
    actual = grid(held, "y", ids)
    train_max = history.max(axis=1)
    dates = pd.DatetimeIndex(sorted(train["ds"].unique()))
    held_out = [str(held["ds"].min().date()), str(held["ds"].max().date())]

    rows: dict[str, dict[str, Any]] = {}
    extra: dict[str, Any] = {}
    if "xlstm" in args.models:
        future = held[["unique_id", "ds", "promo", "holiday"]]
        fitted = fit_xlstm(train, future, ids, args)
        q = fitted["quantiles"]
        row = scores(actual, q[..., 1], train_max, (q[..., 0], q[..., 2]))
        row["promo_response"] = promo_response(fitted["promo_on"], fitted["promo_off"])
        row["fit_s"], row["predict_s"] = fitted["fit_s"], fitted["predict_s"]
        rows["XLSTMForecaster"] = row
        extra["xlstm"] = fitted["info"]
    if "seasonal_naive" in args.models:
        fitted = fit_seasonal_naive(history, H)
        rows["seasonal naive (weekly)"] = {
            **scores(actual, fitted["point"], train_max, None),
            "fit_s": fitted["fit_s"],
        }
    if "ets" in args.models:
        fitted = fit_ets(history, dates, H, args.seed)
        q = fitted["quantiles"]
        rows["AutoETS-like (statsmodels)"] = {
            **scores(actual, q[..., 1], train_max, (q[..., 0], q[..., 2])),
            "fit_s": fitted["fit_s"],
        }
        extra["ets"] = fitted["info"]
    noise = df.attrs["params"]["noise"]
    q = true_quantiles(grid(truth[test], "expected", ids), noise)
    row = scores(actual, q[..., 1], train_max, (q[..., 0], q[..., 2]))
    row["promo_response"] = promo_response(
        grid(truth[test], "expected_promo_on", ids), grid(truth[test], "expected_promo_off", ids)
    )
    row["fit_s"] = None
    rows["truth (true quantiles; not a model)"] = row

    text = table(rows, args.promo_lift)
    print(
        f"retail_panel: {args.series} stores x {args.days} days, last {H} held out; "
        f"seed {args.seed}"
    )
    print(text)
    result = {
        "command": shlex.join(
            ["python", *sys.argv] if argv is None else ["python", "benchmarks/retail.py", *argv]
        ),  # fmt: skip
        "argv": sys.argv[1:] if argv is None else list(argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "data": df.attrs["params"],
        "held_out_days": held_out,
        "true_lift": args.promo_lift,
        "models": rows,
        **extra,
        "table": text,
        "code": code_version(),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "total_s": time.perf_counter() - began,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(jsonable(result), indent=1) + "\n")
    print(f"wrote {args.out}; {result['total_s']:.0f} s in all")
    return result


if __name__ == "__main__":
    main()
