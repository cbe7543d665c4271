"""Pandas frames in, per-series arrays out (forecasts go back by :mod:`.forecast_frame`).

Two input shapes are understood:

- **long**: one row per (series, time), with an id column, a time column and a target
  column (the format of Nixtla's libraries);
- **wide**: a ``DatetimeIndex`` or ``RangeIndex`` (any regular integer index), one column
  per series.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .frequency import common_freq, future_index, index_freq

Layout = Literal["long", "wide"]


@dataclass
class Panel:
    """A set of univariate series taken from a frame, with what is needed to go back.

    Attributes
    ----------
    values : list of ndarray
        One float64 array per series, oldest first; series may differ in length.
    ids : list
        Series ids: values of the id column (long) or column names (wide).
    last_times : list
        Last timestamp (or integer step) of each series.
    freq : str or int
        Pandas frequency string of datetime series, or the step of integer series.
    layout : {"long", "wide"}
        Shape of the frame the series came from.
    target : str
        Name of the target column in long frames.
    index_name : hashable
        Name of the time index of wide frames.
    covariates : list of ndarray
        One float64 array (time, n_covariates) per series, aligned with ``values``;
        ``n_covariates`` is 0 when there are none.
    """

    values: list[np.ndarray]
    ids: list[Hashable]
    last_times: list[Any]
    freq: str | int
    layout: Layout
    target: str
    index_name: Hashable = None
    covariates: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def from_arrays(cls, values: Any, ids: Sequence[Hashable] | None = None) -> Panel:
        """Series given as arrays (one per series, or the rows of a 2-D array), on an
        integer time index ``0, 1, …`` (step 1), without covariates.

        This is how arrays reach the estimators without a frame (the benchmark does so);
        forecasts come back as a wide frame.
        """
        values = [np.asarray(v, dtype=np.float64) for v in values]
        if not values or any(v.ndim != 1 or len(v) == 0 for v in values):
            raise ValueError("from_arrays needs one non-empty 1-D array per series")
        ids = list(range(len(values))) if ids is None else list(ids)
        if len(ids) != len(values):
            raise ValueError(f"{len(ids)} ids for {len(values)} series")
        covariates = [np.zeros((len(v), 0)) for v in values]
        last = [len(v) - 1 for v in values]
        return cls(values, ids, last, 1, "wide", "y", None, covariates)


def _is_long(df: pd.DataFrame, id_col: str, time_col: str) -> bool:
    return id_col in df.columns or time_col in df.columns


def _check_values(
    values: pd.Series, series: Hashable, allow_missing: bool, what: str = "target"
) -> np.ndarray:
    if isinstance(values, pd.DataFrame):  # a column name that occurs more than once
        raise ValueError(
            f"column {series!r} occurs {values.shape[1]} times; column names must be unique"
        )
    if (
        not pd.api.types.is_numeric_dtype(values)
        or pd.api.types.is_bool_dtype(values)
        or pd.api.types.is_complex_dtype(values)
    ):
        raise TypeError(
            f"{what} of series {series!r} must be numeric (real int or float numbers), got "
            f"dtype {values.dtype}"
        )
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if allow_missing:
        bad &= ~np.isnan(arr)  # NaN means missing; inf is never valid
    if bad.any():
        pos = int(bad.argmax())
        raise ValueError(
            f"series {series!r} has a non-finite {what} value {arr[pos]} at "
            f"{values.index[pos]}; clean it, or pass allow_missing=True (--allow-missing on the "
            "command line) to train around NaN"
        )
    return arr


def _time_index(index: pd.Index, series: Hashable) -> pd.Index:
    """Refuse missing and duplicated timestamps (the index is sorted already); integer
    steps become int64."""
    if isinstance(index, pd.DatetimeIndex) and index.hasnans:
        raise ValueError(
            f"series {series!r} has {int(index.isna().sum())} missing timestamp(s) (NaT); "
            "every row needs a time"
        )
    if pd.api.types.is_unsigned_integer_dtype(index):
        if len(index) and index.max() > np.iinfo(np.int64).max:
            raise ValueError(
                f"series {series!r} has integer times up to {index.max()}, beyond int64"
            )
        index = index.astype(np.int64)
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise ValueError(f"series {series!r} has duplicate timestamps, e.g. {dup}")
    return index


def frame_to_panel(
    df: Any,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target: str | Sequence[str] | None = None,
    freq: str | int | None = None,
    allow_missing: bool = False,
    covariates: Sequence[str] = (),
) -> Panel:
    """Validate a long or wide frame (or a Series on a time index) and split it into series.

    ``covariates`` name extra numeric columns that go with every series: per row in a long
    frame, shared by all series in a wide frame (where they are not forecast themselves).
    Raises ``TypeError``/``ValueError`` that name the column, series or value at fault.
    """
    if isinstance(df, pd.Series):  # one series on a time index: a one-column wide frame
        df = df.to_frame("y" if df.name is None else df.name)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame or Series, got {type(df).__name__}")
    if df.empty:
        raise ValueError(f"X is empty ({df.shape[0]} rows, {df.shape[1]} columns)")
    if df.columns.has_duplicates:
        dup = list(df.columns[df.columns.duplicated()].unique())
        raise ValueError(f"X has duplicated column name(s) {dup}; column names must be unique")
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise ValueError(f"covariate column(s) {missing} not found; X has {list(df.columns)}")
    if _is_long(df, id_col, time_col):
        return _long_to_panel(df, id_col, time_col, target, freq, allow_missing, covariates)
    return _wide_to_panel(df, target, freq, allow_missing, covariates)


def _covariates(frame: pd.DataFrame, names: Sequence[str], series: Hashable, allow_missing):
    columns = [
        _check_values(frame[c], series, allow_missing, what=f"covariate {c!r}") for c in names
    ]
    return np.stack(columns, axis=1) if columns else np.zeros((len(frame), 0))


def _long_to_panel(df, id_col, time_col, target, freq, allow_missing, covariates) -> Panel:
    target = "y" if target is None else target
    if not isinstance(target, str):
        raise TypeError(f"target must be one column name for a long frame, got {target!r}")
    missing = [c for c in (id_col, time_col, target) if c not in df.columns]
    if missing:
        raise ValueError(
            f"long frame is missing column(s) {missing}; it has {list(df.columns)}. Set "
            "id_col=, time_col= and target= to the names of the id, time and target columns"
        )
    no_id = df[id_col].isna().to_numpy()
    if no_id.any():
        raise ValueError(
            f"id column {id_col!r} is missing in {int(no_id.sum())} row(s), e.g. row "
            f"{df.index[no_id.argmax()]!r}; every row needs a series id"
        )
    times = df[time_col]
    if not (pd.api.types.is_datetime64_any_dtype(times) or pd.api.types.is_integer_dtype(times)):
        zones = {str(t.tz) for t in times if isinstance(t, pd.Timestamp)}
        hint = (
            f" (it mixes time zones {sorted(zones)}: convert them to one, e.g. with "
            "pd.to_datetime(..., utc=True))"
            if len(zones) > 1
            else "; convert it with pd.to_datetime"
        )
        raise TypeError(
            f"time column {time_col!r} must hold datetimes or integers, got dtype "
            f"{times.dtype}{hint}"
        )
    bad = times.isna().to_numpy()
    if bad.any():
        raise ValueError(
            f"time column {time_col!r} is missing (NaT) in {int(bad.sum())} row(s), e.g. row "
            f"{df.index[bad.argmax()]!r}; every row needs a time"
        )
    values, ids, last_times, freqs, covs = [], [], [], [], []
    for series, group in df.groupby(id_col, sort=False):
        group = group.set_index(time_col).sort_index()
        index = _time_index(group.index, series)
        freqs.append(index_freq(index, series, freq))
        values.append(_check_values(group[target], series, allow_missing))
        covs.append(_covariates(group, covariates, series, allow_missing))
        ids.append(series)
        last_times.append(index[-1])
    freq = common_freq(freqs, ids)
    return Panel(values, ids, last_times, freq, "long", target, covariates=covs)


def _wide_to_panel(df, target, freq, allow_missing, covariates) -> Panel:
    if not isinstance(df.index, pd.DatetimeIndex) and not pd.api.types.is_integer_dtype(df.index):
        raise TypeError(
            "a wide frame needs a DatetimeIndex or an integer index (one column per series); "
            f"got a {type(df.index).__name__}. For a long frame, name the id and time "
            "columns with id_col= and time_col="
        )
    if target is None:
        columns = [c for c in df.columns if c not in covariates]
    else:
        columns = list(target) if isinstance(target, list | tuple) else [target]
    if not columns:
        raise ValueError(
            f"the wide frame has no column to forecast: its columns {list(df.columns)} are "
            "all covariates"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not found; the frame has {list(df.columns)}")
    df = df.sort_index()
    index = _time_index(df.index, columns[0] if len(columns) == 1 else "(all columns)")
    step = index_freq(index, "(index)", freq)
    values = [_check_values(df[c], c, allow_missing) for c in columns]
    last = [index[-1]] * len(columns)
    shared = _covariates(df, covariates, "(all columns)", allow_missing)
    return Panel(values, columns, last, step, "wide", "y", df.index.name, [shared] * len(columns))


def future_covariate_values(
    future: Any,
    panel: Panel,
    names: Sequence[str],
    h: int,
    *,
    id_col: str,
    time_col: str,
) -> list[np.ndarray]:
    """Values of the covariates ``names`` at the ``h`` steps after each series' end.

    ``future`` is shaped like the training frame (long: id, time and covariate columns;
    wide: the future timestamps as index and the covariate columns). Extra rows are
    ignored; a missing timestamp is an error that names it.
    """
    if not isinstance(future, pd.DataFrame):
        raise TypeError(
            f"X_future must be a pandas DataFrame with the future values of {list(names)}, "
            f"got {type(future).__name__}"
        )
    missing = [c for c in names if c not in future.columns]
    if missing:
        raise ValueError(f"X_future lacks the future covariate column(s) {missing}")
    out = []
    for k, series in enumerate(panel.ids):
        if panel.layout == "long":
            rows = future[future[id_col] == series].set_index(time_col)
        else:
            rows = future
        wanted = future_index(panel.last_times[k], panel.freq, h)
        _check_future_index(rows.index, wanted, series)
        absent = wanted.difference(rows.index)
        if len(absent):
            raise ValueError(
                f"X_future has no row for series {series!r} at {absent[0]}; it needs the "
                f"{h} steps after {panel.last_times[k]}"
            )
        rows = rows.loc[wanted]
        out.append(_covariates(rows, names, series, allow_missing=False))
    return out


def _check_future_index(index: pd.Index, wanted: pd.Index, series: Hashable) -> None:
    """Refuse an X_future index that cannot be matched with the forecast's timestamps."""
    if isinstance(wanted, pd.DatetimeIndex):
        if not isinstance(index, pd.DatetimeIndex):
            raise TypeError(
                f"X_future's times for series {series!r} must be datetimes like the "
                f"training data's, got dtype {index.dtype}"
            )
        if (index.tz is None) != (wanted.tz is None):
            raise ValueError(
                f"X_future's times for series {series!r} are "
                f"{'zone-naive' if index.tz is None else f'in time zone {index.tz}'}, but the "
                f"model's are {'zone-naive' if wanted.tz is None else f'in {wanted.tz}'}"
            )
    elif not pd.api.types.is_integer_dtype(index):
        raise TypeError(
            f"X_future's times for series {series!r} must be integer steps like the "
            f"training data's, got dtype {index.dtype}"
        )
    dup = index[index.duplicated() & index.isin(wanted)]
    if len(dup):
        raise ValueError(f"X_future has duplicate rows for series {series!r} at {dup[0]}")
