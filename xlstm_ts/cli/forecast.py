"""``xlstm-ts forecast``: fit on a CSV file (or load a saved model) and forecast.

Everything given is checked before training starts: the options, the estimator's
parameters, the file's columns and values, and the future covariates over the horizon.
The output is the forecast frame of ``predict_quantiles`` (see
:func:`xlstm_ts.data.forecasts_to_frame`), a wide frame's time index as its first column.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pandas as pd

from xlstm_ts.data.calendar import CALENDAR_FEATURES, holiday_dates
from xlstm_ts.estimators.options import SHARED_FLAGS, add_param_argument, add_table_arguments

FLOAT_FORMAT = "%.7g"  # forecasts are float32: more digits would be noise

FLAGS = {
    **SHARED_FLAGS,
    "quantiles": "--quantiles",
    "d_model": "--d-model",
    "num_blocks": "--num-blocks",
    "patch_len": "--patch-len",
    "windows_per_epoch": "--windows-per-epoch",
    "past_covariates": "--past-covariates",
    "future_covariates": "--future-covariates",
    "static_covariates": "--static-covariates",
    "calendar_features": "--calendar-features",
    "holidays": "--holidays",
    "allow_missing": "--allow-missing",
    "channel_mixing": "--channel-mixing",
    "max_epochs": "--epochs",
    "random_state": "--seed",
}
"""The estimator parameters that have an option of their own (refused in ``--param``)."""


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def windows_count(text: str) -> int | str:
    """An argparse type: a positive whole number, or ``"all"`` (every window)."""
    return "all" if text.strip().lower() == "all" else positive_int(text)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The forecast command's options."""
    add_table_arguments(p)
    p.add_argument(
        "--horizon", type=positive_int, help="steps to forecast (required unless --model)"
    )
    p.add_argument(
        "--context-length", type=positive_int, help="steps of history (default: 4 × horizon)"
    )
    p.add_argument(
        "--quantiles", type=float, nargs="+", default=[0.1, 0.5, 0.9],
        help="quantile levels to forecast (0.5, the point forecast, is always added)",
    )  # fmt: skip
    p.add_argument("--d-model", type=positive_int, default=64, help="width of the encoder")
    p.add_argument("--num-blocks", type=positive_int, default=2, help="xLSTM blocks")
    p.add_argument(
        "--patch-len", type=positive_int,
        help="steps per patch the encoder reads (default: 16; at most the context length)",
    )  # fmt: skip
    p.add_argument(
        "--windows-per-epoch", type=windows_count, metavar="N",
        help="training windows per epoch, or 'all' (default: 8192)",
    )  # fmt: skip
    p.add_argument("--past-covariates", nargs="+", default=[], help="observed covariates")
    p.add_argument(
        "--future-covariates", nargs="+", default=[],
        help="covariates known ahead; their future values come from --future-file",
    )  # fmt: skip
    p.add_argument(
        "--static-covariates", nargs="+", default=[], metavar="COLUMN",
        help="columns of a long file with one value per series (numbers or categories)",
    )  # fmt: skip
    p.add_argument(
        "--calendar-features", nargs="+", default=[], choices=CALENDAR_FEATURES,
        metavar="FEATURE",
        help=f"calendar covariates built from the times: {', '.join(CALENDAR_FEATURES)}",
    )  # fmt: skip
    p.add_argument(
        "--holidays", nargs="+", default=None, metavar="DATE",
        help="dates flagged by a holiday covariate, e.g. 2024-12-25 2024-12-26",
    )  # fmt: skip
    p.add_argument(
        "--future-file",
        help="CSV with the future covariates over the horizon (id and time columns as FILE)",
    )
    p.add_argument(
        "--allow-missing", action="store_true", help="train around missing (empty) values"
    )
    p.add_argument(
        "--channel-mixing", action="store_true",
        help="each series also reads the other series' contexts (series on one time index)",
    )  # fmt: skip
    p.add_argument("--epochs", type=positive_int, default=20, help="most training epochs")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    add_param_argument(p, "linear_path=ridge")
    p.add_argument("--save", help="folder to save the fitted model in")
    p.add_argument("--model", help="a saved model's folder: forecast with it, no training")
    p.add_argument("--output", help="CSV file to write (default: standard output)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")


def _params(args: argparse.Namespace) -> dict[str, Any]:
    """The estimator's parameters from the options (the columns aside)."""
    from xlstm_ts import XLSTMForecaster
    from xlstm_ts.estimators.options import parse_params

    if args.horizon is None:
        raise ValueError("--horizon is required to train a model (or give --model FOLDER)")
    windows = args.windows_per_epoch
    optional = {
        "patch_len": args.patch_len,
        "windows_per_epoch": None if windows == "all" else windows,
    }
    params = dict(
        horizon=args.horizon,
        context_length=args.context_length or 4 * args.horizon,
        quantiles=tuple(args.quantiles),
        d_model=args.d_model,
        num_blocks=args.num_blocks,
        past_covariates=tuple(args.past_covariates),
        future_covariates=tuple(args.future_covariates),
        static_covariates=tuple(args.static_covariates),
        calendar_features=tuple(args.calendar_features),
        holidays=None if args.holidays is None else tuple(args.holidays),
        allow_missing=args.allow_missing,
        channel_mixing=args.channel_mixing,
        max_epochs=args.epochs,
        random_state=args.seed,
        num_threads=args.threads,
        # options left out keep the estimator's defaults
        **{k: v for k, v in optional.items() if getattr(args, k) is not None},
    )
    given = parse_params(args.param, XLSTMForecaster().get_params(), FLAGS)
    if args.holidays is not None:  # checked here to be named as the option
        try:
            holiday_dates(args.holidays)
        except ValueError as err:
            raise ValueError(f"--{err}") from None
    return {**params, **given}


def _new_model(args: argparse.Namespace):
    """An unfitted forecaster (its columns still to be set), its parameters checked."""
    from xlstm_ts import XLSTMForecaster
    from xlstm_ts.estimators.validation import check_forecaster_params

    model = XLSTMForecaster(**_params(args))
    model._validate_params()
    check_forecaster_params(model)
    return model


def _saved_roles(args: argparse.Namespace, model) -> dict[str, Any]:
    """The column roles of the file for a saved model: the options, else the model's."""
    panel = model.panel_
    if panel.layout == "long":
        defaults = dict(id_col=model.id_col, time_col=model.time_col, target=panel.target)
    else:
        defaults = dict(id_col=None, time_col=panel.index_name, target=model.target)
    given = dict(id_col=args.id_col, time_col=args.time_col, target=args.target)
    return {k: given[k] if given[k] is not None else defaults[k] for k in defaults}


def _as_model_reads(frame: pd.DataFrame | None, table, model) -> pd.DataFrame | None:
    """A long ``frame`` with the file's columns renamed to those the saved model reads."""
    if frame is None or table.id_col is None:
        return frame
    names = {table.id_col: model.id_col, table.time_col: model.time_col}
    return frame.rename(columns={**names, table.target: model.panel_.target})


def run(args: argparse.Namespace, words: list[str] | None = None) -> int:
    """Check everything, fit (or load), forecast, and write the forecast frame as CSV."""
    from xlstm_ts import XLSTMForecaster
    from xlstm_ts.data import FLAG_NAMES, read_table

    saved = XLSTMForecaster.load(args.model) if args.model else None
    if saved is not None and args.param:
        raise ValueError("--param sets how a model is trained; --model forecasts without training")
    if saved is not None:
        model, roles = saved, _saved_roles(args, saved)
    else:  # a wrong option or --param is named before the file is read
        model = _new_model(args)
        roles = dict(id_col=args.id_col, time_col=args.time_col, target=args.target)
    covariates = [*model.past_covariates, *model.future_covariates]
    static = list(model.static_covariates)
    table = read_table(args.file, **roles, covariates=covariates, static=static, names=FLAG_NAMES)
    if saved is None:
        model.set_params(**table.columns)
    data = _as_model_reads(table.frame, table, model) if saved is not None else table.frame
    panel = model.to_panel(data)  # the data's own errors (frequency, gaps) before training
    h = args.horizon if saved is not None and args.horizon else model.horizon
    future = _future(args, table, panel, model, h)
    if saved is not None:
        future = _as_model_reads(future, table, model)
        out = model.predict_quantiles(data, h=h, X_future=future)
    else:
        out = model.fit(data).predict_quantiles(X_future=future)
        if args.save:
            model.save(args.save)
            print(f"model saved to {args.save}", file=sys.stderr)
    if panel.layout == "wide":
        out = out.rename_axis(out.index.name or table.time_col).reset_index()
    if args.output:
        out.to_csv(args.output, index=False, float_format=FLOAT_FORMAT)
        print(f"forecast of {len(out)} rows written to {args.output}", file=sys.stderr)
    else:
        print(out.to_csv(index=False, float_format=FLOAT_FORMAT), end="")
    return 0


def _future(args: argparse.Namespace, table, panel, model, h: int) -> pd.DataFrame | None:
    """The future covariates of ``--future-file``, checked to cover ``h`` steps."""
    from xlstm_ts.data import FLAG_NAMES, check_future, read_future

    names = list(model.future_covariates)
    if names and not args.future_file:
        whose = "--future-covariates"
        if args.model:
            whose = f"the model in {args.model} uses future covariates"
        raise ValueError(
            f"{whose} {' '.join(names)}: give their values over the {h} steps after each "
            "series' end with --future-file FILE"
        )
    if not names:
        if args.future_file:
            raise ValueError(
                "--future-file is read only for future covariates: name its columns with "
                "--future-covariates"
            )
        return None
    future = read_future(args.future_file, table, names, FLAG_NAMES)
    check_future(future, table, panel, names, h, args.future_file, FLAG_NAMES)
    return future


__all__ = ["add_arguments", "run"]
