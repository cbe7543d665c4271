"""Forecasts of many series into one frame, built column by column.

:func:`~xlstm_ts.data.forecasts_to_frame` builds a small frame per series and
concatenates them, which for a thousand series costs far more than the forecast. This
builds the same frame (the same columns, dtypes and index) from whole arrays: the
future times of all series from their time codes (:class:`~.times.Clock`), the ids
repeated, the forecasts reshaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from numbers import Integral

import numpy as np
import pandas as pd

from xlstm_ts.data import Panel, forecasts_to_frame, future_index

from .times import Clock


def forecast_frame(
    panel: Panel,
    forecasts: np.ndarray,
    columns: Sequence[str],
    *,
    id_col: str,
    time_col: str,
    last_codes: np.ndarray | None = None,
) -> pd.DataFrame:
    """:func:`~xlstm_ts.data.forecasts_to_frame`, built from whole arrays.

    Parameters
    ----------
    panel : Panel
        The series forecast (their ids, last times, frequency and layout).
    forecasts : ndarray of shape (n_series, h, len(columns))
    columns : sequence of str
        The names of the forecast columns.
    id_col, time_col : str
        The names of the id and time columns of a long frame.
    last_codes : ndarray, optional
        The time codes of the series' last times, where known (:class:`~.times.Clock`).

    Returns
    -------
    DataFrame
        The frame :func:`~xlstm_ts.data.forecasts_to_frame` returns.
    """
    n, h = forecasts.shape[:2]
    columns = list(columns)
    names = [id_col, time_col, *columns]
    if n == 0 or len(set(names)) < len(names):  # the per-series frame names the clash
        return forecasts_to_frame(panel, forecasts, columns, id_col=id_col, time_col=time_col)
    if panel.layout != "long":
        return _wide(panel, forecasts, columns)
    clock = Clock.of(panel.freq, panel.last_times)
    last = clock.codes(panel.last_times) if last_codes is None else last_codes
    times = None
    if last is not None:
        steps = np.arange(1, h + 1)
        times = clock.shift(np.repeat(last, h), np.tile(steps, n))
    if times is None:  # beyond what nanoseconds hold: the per-series frame says so
        return forecasts_to_frame(panel, forecasts, columns, id_col=id_col, time_col=time_col)
    unit = None
    if clock.datetimes:  # the finest resolution among the series' (as pd.concat would)
        units = {t.unit for t in panel.last_times}
        unit = min(units, key=lambda u: {"s": 3, "ms": 2, "us": 1, "ns": 0}[u])
    data = {
        id_col: pd.Index(panel.ids, tupleize_cols=False).repeat(h),
        time_col: clock.index(times, unit),
    }
    values = forecasts.reshape(n * h, -1)
    for j, name in enumerate(columns):
        data[name] = values[:, j]
    return pd.DataFrame(data)


def _wide(panel: Panel, forecasts: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """The wide frame of :func:`~xlstm_ts.data.forecasts_to_frame` from one 2-D array
    (a frame from a dict of columns costs several times more)."""
    n, h, c = forecasts.shape
    names = tuple(s if col == panel.target else f"{s}_{col}" for s in panel.ids for col in columns)
    if len(set(names)) < len(names):
        return forecasts_to_frame(panel, forecasts, columns, id_col="", time_col="")
    if isinstance(panel.freq, Integral):  # a regular integer index is a range
        step = int(panel.freq)
        first = int(panel.last_times[0]) + step
        if first + (h - 1) * step > np.iinfo(np.int64).max:  # the per-series frame says so
            return forecasts_to_frame(panel, forecasts, columns, id_col="", time_col="")
        index = pd.RangeIndex(first, first + h * step, step)
    else:
        index = future_index(panel.last_times[0], panel.freq, h)
        index.freq = panel.freq
    index.name = panel.index_name
    data = forecasts.transpose(1, 0, 2).reshape(h, n * c)  # series after series
    # a view of a cached index: building an index of text costs more than the frame
    return pd.DataFrame(data, index=index, columns=_columns(names).view())


@lru_cache(maxsize=32)
def _columns(names: tuple) -> pd.Index:
    """The column index of ``names`` (the same names come back at every forecast)."""
    return pd.Index(list(names), tupleize_cols=False)
