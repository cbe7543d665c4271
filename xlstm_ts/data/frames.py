"""Pandas frames in, per-series arrays out, and forecasts back into frames.

Two input shapes are understood:

- **long**: one row per (series, time), with an id column, a time column and a target
  column (the format of Nixtla's libraries);
- **wide**: a ``DatetimeIndex`` or ``RangeIndex`` (any regular integer index), one column
  per series.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

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


def _is_long(df: pd.DataFrame, id_col: str, time_col: str) -> bool:
    return id_col in df.columns or time_col in df.columns


def _freq_of(index: pd.Index, series: Hashable, freq: str | int | None) -> str | int:
    """Check that ``index`` (sorted, unique) is regular and return its frequency."""
    if isinstance(index, pd.DatetimeIndex):
        if freq is None:
            if len(index) < 3:
                raise ValueError(
                    f"series {series!r} has {len(index)} timestamps; at least 3 are needed to "
                    "infer the frequency (or pass freq=...)"
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas 3 announces offsets instead of str
                inferred = pd.infer_freq(index)
            if inferred is None:
                gaps = pd.Series(index[1:] - index[:-1])
                row = int((gaps != gaps.mode()[0]).to_numpy().argmax()) + 1
                raise ValueError(
                    f"series {series!r} has an irregular time index: the step at "
                    f"{index[row]} ({gaps.iloc[row - 1]}) differs from the usual step "
                    f"({gaps.mode()[0]}); resample it to a regular frequency or pass freq=..."
                )
            return pd.tseries.frequencies.to_offset(inferred).freqstr
        expected = pd.date_range(index[0], periods=len(index), freq=freq)
        if not expected.equals(index):
            row = int((expected != index).argmax())
            raise ValueError(
                f"series {series!r} does not follow freq={freq!r}: expected {expected[row]} "
                f"at position {row}, found {index[row]}"
            )
        return freq
    if pd.api.types.is_integer_dtype(index):
        steps = np.diff(index.to_numpy())
        step = int(freq) if freq is not None else int(steps[0]) if len(steps) else 1
        if len(steps) and (steps != step).any():
            row = int((steps != step).argmax()) + 1
            raise ValueError(
                f"series {series!r} has an irregular integer index: step {steps[row - 1]} "
                f"before {index[row]}, expected {step}"
            )
        return step
    raise TypeError(
        f"the time index of series {series!r} must hold datetimes or integers, "
        f"got dtype {index.dtype}"
    )


def _check_values(
    values: pd.Series, series: Hashable, allow_missing: bool, what: str = "target"
) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise TypeError(f"{what} of series {series!r} must be numeric, got dtype {values.dtype}")
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if allow_missing:
        bad &= ~np.isnan(arr)  # NaN means missing; inf is never valid
    if bad.any():
        pos = int(bad.argmax())
        raise ValueError(
            f"series {series!r} has a non-finite {what} value {arr[pos]} at "
            f"{values.index[pos]}; clean it, or pass allow_missing=True to train around NaN"
        )
    return arr


def _time_index(index: pd.Index, series: Hashable) -> pd.Index:
    """Sort the index and refuse duplicated timestamps."""
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
    """Validate a long or wide frame and split it into series.

    ``covariates`` name extra numeric columns that go with every series: per row in a long
    frame, shared by all series in a wide frame (where they are not forecast themselves).
    Raises ``TypeError``/``ValueError`` that name the column, series or value at fault.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise ValueError("X is empty")
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
    times = df[time_col]
    if not (pd.api.types.is_datetime64_any_dtype(times) or pd.api.types.is_integer_dtype(times)):
        raise TypeError(
            f"time column {time_col!r} must hold datetimes or integers, got dtype "
            f"{times.dtype}; convert it with pd.to_datetime"
        )
    values, ids, last_times, freqs, covs = [], [], [], [], []
    for series, group in df.groupby(id_col, sort=False):
        group = group.set_index(time_col).sort_index()
        index = _time_index(group.index, series)
        freqs.append(_freq_of(index, series, freq))
        values.append(_check_values(group[target], series, allow_missing))
        covs.append(_covariates(group, covariates, series, allow_missing))
        ids.append(series)
        last_times.append(index[-1])
    freq = _common_freq(freqs, ids)
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
        columns = [target] if isinstance(target, str) else list(target)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not found; the frame has {list(df.columns)}")
    df = df.sort_index()
    index = _time_index(df.index, columns[0] if len(columns) == 1 else "(all columns)")
    step = _freq_of(index, "(index)", freq)
    values = [_check_values(df[c], c, allow_missing) for c in columns]
    last = [index[-1]] * len(columns)
    shared = _covariates(df, covariates, "(all columns)", allow_missing)
    return Panel(values, columns, last, step, "wide", "y", df.index.name, [shared] * len(columns))


def _common_freq(freqs: list, ids: list) -> str | int:
    offsets = [pd.tseries.frequencies.to_offset(f) if isinstance(f, str) else f for f in freqs]
    for series, offset in zip(ids, offsets, strict=True):
        if offset != offsets[0]:
            raise ValueError(
                f"series {series!r} has frequency {offset}, but series {ids[0]!r} has "
                f"{offsets[0]}; all series must share one frequency"
            )
    return freqs[0]


def future_index(last: Any, freq: str | int, h: int) -> pd.Index:
    """The ``h`` timestamps (or integer steps) after ``last``."""
    if isinstance(freq, int):
        return pd.Index(last + freq * np.arange(1, h + 1))
    return pd.date_range(last, periods=h + 1, freq=freq)[1:]


def future_covariates(
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
        absent = wanted.difference(rows.index)
        if len(absent):
            raise ValueError(
                f"X_future has no row for series {series!r} at {absent[0]}; it needs the "
                f"{h} steps after {panel.last_times[k]}"
            )
        rows = rows.loc[wanted]
        out.append(_covariates(rows, names, series, allow_missing=False))
    return out


def forecasts_to_frame(
    panel: Panel,
    forecasts: np.ndarray,
    columns: Sequence[str],
    *,
    id_col: str,
    time_col: str,
) -> pd.DataFrame:
    """Turn ``forecasts`` (n_series, h, len(columns)) into a frame shaped like the input.

    Long input gives long output (id, time, one column per entry of ``columns``); wide
    input gives a wide frame indexed by the future timestamps with one column per series
    (or per (series, column) when there are several columns).
    """
    h = forecasts.shape[1]
    if panel.layout == "long":
        parts = []
        for k, series in enumerate(panel.ids):
            part = pd.DataFrame(forecasts[k], columns=list(columns))
            part.insert(0, time_col, future_index(panel.last_times[k], panel.freq, h))
            part.insert(0, id_col, series)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)
    index = future_index(panel.last_times[0], panel.freq, h)
    if isinstance(index, pd.DatetimeIndex):
        index.freq = panel.freq
    index.name = panel.index_name
    if len(columns) == 1:
        return pd.DataFrame(forecasts[:, :, 0].T, index=index, columns=list(panel.ids))
    cols = pd.MultiIndex.from_product([panel.ids, list(columns)])
    data = forecasts.transpose(1, 0, 2).reshape(h, -1)
    return pd.DataFrame(data, index=index, columns=cols)
