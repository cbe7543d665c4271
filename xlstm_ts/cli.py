"""Command-line interface: ``xlstm-ts demo``, ``forecast``, ``benchmark`` and ``tune``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

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


def forecast(args: argparse.Namespace) -> int:
    """Fit on a CSV file and write the forecast, with quantiles, as CSV."""
    from xlstm_ts import XLSTMForecaster
    from xlstm_ts.data import read_csv

    try:
        df, time_col = read_csv(args.file, args.time_col)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from exc
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


def benchmark(args: argparse.Namespace) -> int:
    """Run the long-horizon benchmark (see :mod:`xlstm_ts.ltsf.command`)."""
    from xlstm_ts.ltsf import command

    return command.run(args, args.argv[1:])  # without the word "benchmark"


def tune(args: argparse.Namespace) -> int:
    """Run one worker of a hyperparameter search (see :mod:`xlstm_ts.tuning.command`)."""
    from xlstm_ts.tuning import command

    return command.run(args, args.argv[1:])  # without the word "tune"


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
    from xlstm_ts.ltsf.command import add_arguments

    add_arguments(p)
    p.set_defaults(func=benchmark, argv=list(sys.argv[1:] if argv is None else argv))

    p = commands.add_parser(
        "tune",
        help="hyperparameter search on a CSV file (Optuna; several workers can share a study)",
    )
    from xlstm_ts.tuning.command import add_arguments as add_tune_arguments

    add_tune_arguments(p)
    p.set_defaults(func=tune, argv=list(sys.argv[1:] if argv is None else argv))

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
