"""``xlstm-ts demo``: forecast the last two years of monthly El Niño temperatures."""

from __future__ import annotations

import argparse

import numpy as np

from xlstm_ts.estimators.options import add_param_argument

from .forecast import positive_int

FLAGS = {"max_epochs": "--epochs", "num_threads": "--threads"}
"""The estimator parameters that have an option of their own (refused in ``--param``)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The demo's options."""
    p.add_argument("--epochs", type=int, default=40, help="most training epochs")
    p.add_argument("--plot", default="xlstm_ts_demo.png", help="PNG file to write")
    p.add_argument("--progress", action="store_true", help="show Lightning's progress bar")
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")
    add_param_argument(p, "d_model=16")


def run(args: argparse.Namespace, words: list[str] | None = None) -> int:
    """Fit on El Niño sea-surface temperatures, compare with seasonal naive, plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from xlstm_ts import XLSTMForecaster
    from xlstm_ts.baselines import seasonal_naive
    from xlstm_ts.datasets import load
    from xlstm_ts.estimators.options import parse_params
    from xlstm_ts.metrics import mae, mse
    from xlstm_ts.plotting import plot_forecast
    from xlstm_ts.training import EpochSummary

    fixed = {"horizon", "trainer_kwargs"}  # the held-out part and the epoch lines
    allowed = [k for k in XLSTMForecaster().get_params() if k not in fixed]
    given = parse_params(args.param, allowed, FLAGS)

    df = load("elnino")  # monthly, 1950-2010, ships with statsmodels
    h = 24
    train, test = df.iloc[:-h], df.iloc[-h:]
    print(
        f"El Niño sea-surface temperature, monthly: {len(train)} months to train on, "
        f"the last {h} held out; one line per epoch",
        flush=True,
    )
    epochs = EpochSummary()  # prints a line per epoch and keeps the epoch times
    params = dict(
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
        num_threads=args.threads,
        trainer_kwargs={"callbacks": [epochs], "enable_progress_bar": args.progress},
    )
    model = XLSTMForecaster(**{**params, **given})
    model.fit(train)
    forecast = model.predict()["sst"].to_numpy()
    naive = seasonal_naive(train["sst"].to_numpy(), 12, h)
    actual = test["sst"].to_numpy()

    fit_time = sum(epochs.times)
    print(
        f"training: {sum(model.n_epochs_)} epochs in {fit_time:.1f} s "
        f"({np.median(epochs.times):.2f} s per epoch, median)"
    )
    print(f"{'forecast':<22}{'MAE':>8}{'MSE':>8}")
    print(f"{'xLSTM (median)':<22}{mae(actual, forecast):>8.3f}{mse(actual, forecast):>8.3f}")
    print(f"{'seasonal naive (12)':<22}{mae(actual, naive):>8.3f}{mse(actual, naive):>8.3f}")

    ax = plot_forecast(model, actual=test["sst"], history=72)
    ax.plot(test.index, naive, color="C1", ls="--", lw=1, label="seasonal naive")
    ax.set_title(
        f"El Niño SST: last {h} months held out — xLSTM MAE {mae(actual, forecast):.3f}, "
        f"seasonal naive MAE {mae(actual, naive):.3f}"
    )
    ax.set_xlabel("month")
    ax.set_ylabel("sea-surface temperature (°C)")
    ax.legend(loc="upper left", ncol=3, fontsize=8)
    ax.figure.tight_layout()
    ax.figure.savefig(args.plot, dpi=120)
    plt.close(ax.figure)
    print(f"plot written to {args.plot}")
    return 0
