"""``xlstm-ts forecast``: fit on a CSV file (or load a saved model) and forecast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

FLOAT_FORMAT = "%.7g"  # forecasts are float32: more digits would be noise


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The forecast command's options."""
    p.add_argument(
        "file",
        help="CSV file: wide (a time column, then one column per series) or long (columns "
        "unique_id, ds, y, or as named by --id-col, --time-col, --target)",
    )
    p.add_argument(
        "--horizon", type=positive_int, help="steps to forecast (required unless --model)"
    )
    p.add_argument(
        "--target", nargs="+", help="column(s) to forecast (default: y for long files, "
        "all numeric columns for wide ones)",
    )  # fmt: skip
    p.add_argument("--id-col", help="series-id column; default unique_id if the file has one")
    p.add_argument("--time-col", help="time column (default: ds if present, else the first)")
    p.add_argument(
        "--context-length", type=positive_int, help="steps of history (default: 4 × horizon)"
    )
    p.add_argument("--quantiles", type=float, nargs="+", default=[0.1, 0.5, 0.9])
    p.add_argument("--d-model", type=positive_int, default=64, help="width of the encoder")
    p.add_argument("--num-blocks", type=positive_int, default=2, help="xLSTM blocks")
    p.add_argument("--past-covariates", nargs="+", default=[], help="observed covariates")
    p.add_argument(
        "--future-covariates", nargs="+", default=[],
        help="covariates known ahead; their future values come from --future-file",
    )  # fmt: skip
    p.add_argument("--future-file", help="CSV with the future covariates over the horizon")
    p.add_argument(
        "--allow-missing", action="store_true", help="train around missing (empty) values"
    )
    p.add_argument(
        "--channel-mixing", action="store_true",
        help="each series also reads the other series' contexts (series on one time index)",
    )  # fmt: skip
    p.add_argument("--epochs", type=positive_int, default=20, help="most training epochs")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--save", help="folder to save the fitted model in")
    p.add_argument("--model", help="a saved model's folder: forecast with it, no training")
    p.add_argument("--output", help="CSV file to write (default: standard output)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")


def _layout(path: str, id_col: str | None, time_col: str | None) -> tuple[str | None, str]:
    """The id and time columns of the file: long files are recognised by their id column."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no file at {path}")
    columns = list(pd.read_csv(path, nrows=0).columns)
    if id_col is None and "unique_id" in columns:
        id_col = "unique_id"
    if id_col is not None and id_col not in columns:
        raise ValueError(f"id column {id_col!r} is not in {path} (columns: {columns})")
    if time_col is None:
        rest = [c for c in columns if c != id_col]
        time_col = "ds" if "ds" in columns else rest[0] if rest else columns[0]
    return id_col, time_col


def _model(args: argparse.Namespace, id_col: str | None, time_col: str):
    from xlstm_ts import XLSTMForecaster

    if args.model:
        return XLSTMForecaster.load(args.model)
    if args.horizon is None:
        raise ValueError("--horizon is required to train a model (or give --model FOLDER)")
    target = args.target
    if id_col is not None:
        target = (target or ["y"])[0]
    return XLSTMForecaster(
        horizon=args.horizon,
        context_length=args.context_length or 4 * args.horizon,
        id_col=id_col or "unique_id",
        time_col=time_col,
        target=target,
        quantiles=tuple(args.quantiles),
        d_model=args.d_model,
        num_blocks=args.num_blocks,
        past_covariates=tuple(args.past_covariates),
        future_covariates=tuple(args.future_covariates),
        allow_missing=args.allow_missing,
        channel_mixing=args.channel_mixing,
        max_epochs=args.epochs,
        random_state=args.seed,
        num_threads=args.threads,
    )


def run(args: argparse.Namespace, words: list[str] | None = None) -> int:
    """Fit (or load), forecast, and write the median and quantiles as CSV."""
    from xlstm_ts.data import read_csv

    id_col, time_col = _layout(args.file, args.id_col, args.time_col)
    df, time_col = read_csv(args.file, time_col)
    data = df if id_col is not None else df.set_index(time_col)
    if id_col is None and args.target is None:
        data = data.drop(columns=args.past_covariates + args.future_covariates)
        data = data.select_dtypes("number")
    future = None
    if args.future_file:
        future, _ = read_csv(args.future_file, time_col)
        future = future if id_col is not None else future.set_index(time_col)
    model = _model(args, id_col, time_col)
    if args.model:
        out = model.predict_quantiles(data, X_future=future)
    else:
        out = model.fit(data).predict_quantiles(X_future=future)
        if args.save:
            model.save(args.save)
            print(f"model saved to {args.save}", file=sys.stderr)
    out = _tidy(out, model)
    if args.output:
        out.to_csv(args.output, index=False, float_format=FLOAT_FORMAT)
        print(f"forecast of {len(out)} rows written to {args.output}", file=sys.stderr)
    else:
        print(out.to_csv(index=False, float_format=FLOAT_FORMAT), end="")
    return 0


def _tidy(q: pd.DataFrame, model) -> pd.DataFrame:
    """Long: id, time, target (the median), q…; wide: time, series, series_q…."""
    if model.panel_.layout == "long":
        target = model.panel_.target
        q.insert(2, target, q.pop("q0.5"))
        return q
    out = pd.DataFrame(index=q.index)
    for series in model.panel_.ids:
        out[series] = q[(series, "q0.5")]
        for level in model.quantile_levels_:
            if level != 0.5:
                out[f"{series}_q{level:g}"] = q[(series, f"q{level:g}")]
    out.index.name = model.time_col if out.index.name is None else out.index.name
    return out.reset_index()


__all__ = ["add_arguments", "run"]
