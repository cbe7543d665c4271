"""Command-line interface: ``xlstm-ts demo``, ``xlstm-ts forecast`` and ``xlstm-ts benchmark``."""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _epoch_timer():
    """A Lightning callback that records the wall time of each training epoch."""
    from lightning.pytorch.callbacks import Callback

    class EpochTimer(Callback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_train_epoch_start(self, trainer, module) -> None:
            self._start = time.perf_counter()

        def on_train_epoch_end(self, trainer, module) -> None:
            self.times.append(time.perf_counter() - self._start)

    return EpochTimer()


def demo(args: argparse.Namespace) -> int:
    """Forecast the last two years of monthly El Niño sea-surface temperatures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from xlstm_ts import XLSTMForecaster
    from xlstm_ts.baselines import seasonal_naive
    from xlstm_ts.datasets import load
    from xlstm_ts.metrics import mae, mse

    df = load("elnino")  # monthly, 1950-2010, ships with statsmodels
    h = 24
    train, test = df.iloc[:-h], df.iloc[-h:]
    timer = _epoch_timer()
    model = XLSTMForecaster(
        horizon=h,
        context_length=120,
        patch_len=12,
        d_model=32,
        num_blocks=2,
        slstm_at=(1,),
        num_heads=4,
        max_epochs=args.epochs,
        batch_size=32,
        learning_rate=3e-3,
        validation_size=48,
        early_stopping_patience=8,
        random_state=0,
        progress_bar=args.progress,
        trainer_kwargs={"callbacks": [timer]},
    )
    start = time.perf_counter()
    model.fit(train)
    fit_time = time.perf_counter() - start
    quantiles = model.predict_quantiles()
    forecast = quantiles[("sst", "q0.5")].to_numpy()
    naive = seasonal_naive(train["sst"].to_numpy(), 12, h)
    actual = test["sst"].to_numpy()

    print(
        f"El Niño sea-surface temperature, monthly, {len(train)} months to train, last {h} held out"
    )
    print(
        f"training: {model.n_epochs_} epochs in {fit_time:.1f} s "
        f"({np.median(timer.times):.2f} s per epoch, median)"
    )
    print(f"{'forecast':<22}{'MAE':>8}{'MSE':>8}")
    print(f"{'xLSTM (median)':<22}{mae(actual, forecast):>8.3f}{mse(actual, forecast):>8.3f}")
    print(f"{'seasonal naive (12)':<22}{mae(actual, naive):>8.3f}{mse(actual, naive):>8.3f}")

    fig, ax = plt.subplots(figsize=(9, 4))
    recent = train.iloc[-96:]
    ax.plot(recent.index, recent["sst"], color="black", label="history")
    ax.plot(test.index, actual, color="black", linestyle=":", label="actual")
    ax.plot(test.index, forecast, color="C0", label="xLSTM median")
    ax.fill_between(
        test.index,
        quantiles[("sst", "q0.1")],
        quantiles[("sst", "q0.9")],
        color="C0",
        alpha=0.25,
        label="10–90% band",
    )
    ax.plot(test.index, naive, color="C1", linestyle="--", label="seasonal naive")
    ax.set_ylabel("°C")
    ax.legend(loc="upper left", ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"plot written to {args.plot}")
    return 0


def _read_csv(path: Path, time_col: str | None) -> tuple[pd.DataFrame, str]:
    df = pd.read_csv(path)
    if time_col is None:
        time_col = df.columns[0]
    if time_col not in df.columns:
        raise SystemExit(f"error: time column {time_col!r} not in {path} ({list(df.columns)})")
    if not pd.api.types.is_integer_dtype(df[time_col]):
        df[time_col] = pd.to_datetime(df[time_col])
    return df, time_col


def forecast(args: argparse.Namespace) -> int:
    """Fit on a CSV file and write the forecast, with quantiles, as CSV."""
    from xlstm_ts import XLSTMForecaster

    df, time_col = _read_csv(Path(args.file), args.time_col)
    context = args.context_length or 4 * args.horizon
    params = dict(
        horizon=args.horizon,
        context_length=context,
        max_epochs=args.epochs,
        random_state=args.seed,
        progress_bar=False,
    )
    if args.id_col:
        model = XLSTMForecaster(
            id_col=args.id_col, time_col=time_col, target=args.target[0], **params
        ).fit(df)
        out = model.predict_quantiles()
        out.insert(2, args.target[0], out.pop("q0.5"))
    else:
        wide = df.set_index(time_col)
        model = XLSTMForecaster(target=args.target, **params).fit(wide)
        q = model.predict_quantiles()
        out = pd.DataFrame(index=q.index)
        for series in args.target:
            out[series] = q[(series, "q0.5")]
            for level in model.quantile_levels_:
                if level != 0.5:
                    out[f"{series}_q{level:g}"] = q[(series, f"q{level:g}")]
        out = out.reset_index()
    if args.output:
        out.to_csv(args.output, index=False)
        print(f"forecast of {len(out)} rows written to {args.output}")
    else:
        print(out.to_csv(index=False), end="")
    return 0


def _param_value(text: str) -> Any:
    """A Python literal (``64``, ``1e-3``, ``(1,)``, ``None``, ``True``), else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parse_params(items: Sequence[str], option: str) -> dict[str, Any]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: {option} expects key=value; got {item!r}")
        params[key.strip()] = _param_value(value.strip())
    return params


def benchmark(args: argparse.Namespace) -> int:
    """Run the long-horizon benchmark, print a markdown table and write JSON."""
    from xlstm_ts import ltsf

    if args.dataset is None and args.csv is None:
        raise SystemExit("error: give --dataset NAME or --csv PATH")
    model_params: dict[str, dict[str, Any]] = {}
    if args.param:
        model_params["xlstm"] = _parse_params(args.param, "--param")
    for item in args.model_param or []:
        model, sep, rest = item.partition(":")
        if not sep or model not in ltsf.MODELS:
            raise SystemExit(
                f"error: --model-param expects model:key=value with a model among "
                f"{sorted(ltsf.MODELS)}; got {item!r}"
            )
        model_params.setdefault(model, {}).update(_parse_params([rest], "--model-param"))
    if args.season is not None:
        for model in ("seasonal_naive", "ets"):
            model_params.setdefault(model, {})["season"] = args.season
    # parameters of models that are not run are dropped rather than rejected
    model_params = {m: p for m, p in model_params.items() if m in args.models}
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    try:
        data = ltsf.prepare(
            args.dataset,
            lookback=args.lookback,
            csv=args.csv,
            target=args.target,
            time_col=args.time_col,
            data_home=args.data_home,
        )
        result = ltsf.run_benchmark(
            data, args.horizons, args.models, args.seeds, model_params=model_params
        )
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    result["config"]["command"] = "xlstm-ts " + " ".join(args.argv)
    print(ltsf.format_table(result))
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
        print(f"results written to {args.output}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xlstm-ts", description="xLSTM time-series forecasting")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="forecast El Niño temperatures (built-in data)")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--plot", default="xlstm_ts_demo.png", help="PNG file to write")
    p.add_argument("--progress", action="store_true", help="show the progress bar")
    p.set_defaults(func=demo)

    p = commands.add_parser("forecast", help="fit on a CSV file and forecast its future")
    p.add_argument(
        "file",
        help="CSV with a time column and one column per series (wide), "
        "or id, time and target columns (long, with --id-col)",
    )
    p.add_argument("--target", nargs="+", required=True, help="column(s) to forecast")
    p.add_argument("--horizon", type=int, required=True)
    p.add_argument("--context-length", type=int, help="default: 4 × horizon")
    p.add_argument("--time-col", help="default: the first column")
    p.add_argument("--id-col", help="series-id column of a long file")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", help="CSV file to write (default: standard output)")
    p.set_defaults(func=forecast)

    p = commands.add_parser(
        "benchmark",
        help="long-horizon benchmark (canonical splits, train-only scaling, all test windows)",
    )
    source = p.add_argument_group("data")
    source.add_argument("--dataset", help="registered data set, e.g. ETTh1")
    source.add_argument("--csv", help="wide CSV file (time column, one column per series)")
    source.add_argument("--target", nargs="+", help="columns to use (default: all)")
    source.add_argument("--time-col", help="time column of --csv (default: the first)")
    source.add_argument("--data-home", help="folder of the registered data files")
    p.add_argument("--lookback", type=int, required=True, help="context length L")
    p.add_argument("--horizons", type=int, nargs="+", default=[96, 192, 336, 720])
    p.add_argument(
        "--models",
        nargs="+",
        default=["xlstm", "ridge", "dlinear", "seasonal_naive", "ets"],
        choices=["xlstm", "ridge", "dlinear", "seasonal_naive", "ets"],
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="XLSTMForecaster parameter (repeatable), e.g. --param d_model=64",
    )
    p.add_argument(
        "--model-param",
        action="append",
        metavar="MODEL:KEY=VALUE",
        help="parameter of another model (repeatable), e.g. dlinear:max_epochs=5",
    )
    p.add_argument(
        "--season",
        type=int,
        help="season of seasonal_naive and ets (default: "
        "from the frequency, e.g. 24 for hourly data)",
    )
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--output", help="JSON file to write")
    p.set_defaults(func=benchmark, argv=list(sys.argv[1:] if argv is None else argv))

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
