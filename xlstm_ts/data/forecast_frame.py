"""The forecast frame: what ``predict``, ``predict_quantiles`` and the command line return.

One layout, built by :func:`forecasts_to_frame` with the columns of
:func:`forecast_columns`, for every forecaster and for the command line:

- **long input** (id, time and target columns): one row per series and future time, with
  the columns ``id_col``, ``time_col``, the target (the point forecast: the median), then
  one column per quantile level, ``q0.1``, ``q0.5``, ``q0.9``, …;
- **wide input** (one column per series): the future timestamps as index and, per series,
  a column named as the series (the point forecast), then ``<series>_q0.1``, … .

``predict`` returns the point columns alone, ``predict_quantiles`` the point columns and
the quantile columns asked for. The command line writes the same frame as CSV, a wide
frame's index as its first column.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from .frames import Panel
from .frequency import future_index

_QUANTILE = re.compile(r"q(\d*\.?\d+(?:e-?\d+)?)")


def quantile_column(level: float, series: Hashable | None = None) -> str:
    """The name of a quantile column: ``q0.1`` (long), ``<series>_q0.1`` (wide)."""
    name = f"q{level:g}"
    return name if series is None else f"{series}_{name}"


def quantile_level(column: Hashable) -> float | None:
    """The level of a long frame's quantile column (``"q0.1"`` -> 0.1), else ``None``."""
    match = _QUANTILE.fullmatch(column) if isinstance(column, str) else None
    return float(match.group(1)) if match else None


def frame_levels(frame: pd.DataFrame, series: Hashable | None = None) -> list[float]:
    """The quantile levels of a forecast frame, in the order of its columns: those of
    ``q…`` columns (long), or of ``<series>_q…`` columns (wide, ``series`` given)."""
    prefix = "" if series is None else f"{series}_"
    names = [str(c) for c in frame.columns]
    found = [quantile_level(c[len(prefix) :]) for c in names if c.startswith(prefix)]
    return [q for q in found if q is not None]


def forecast_columns(target: str, levels: Sequence[float]) -> list[str]:
    """The forecast columns of a long frame: the target (the point forecast), then the
    quantile columns of ``levels``."""
    return [target, *(quantile_column(q) for q in levels)]


def forecasts_to_frame(
    panel: Panel,
    forecasts: np.ndarray,
    columns: Sequence[str],
    *,
    id_col: str,
    time_col: str,
) -> pd.DataFrame:
    """Turn ``forecasts`` (n_series, h, len(columns)) into the forecast frame.

    ``columns`` are a long frame's names (:func:`forecast_columns`). Long input gives
    the columns ``id_col``, ``time_col``, then ``columns``. Wide input gives the future
    timestamps as index and, per series, the column ``panel.target`` named as the series
    and any other column ``c`` as ``<series>_<c>``.

    Raises
    ------
    ValueError
        When two columns would have one name (a series named like another's quantile
        column, or a target named like a quantile column).
    """
    h = forecasts.shape[1]
    columns = list(columns)
    if panel.layout == "long":
        _unique([id_col, time_col, *columns])
        parts = []
        for k, series in enumerate(panel.ids):
            part = pd.DataFrame(forecasts[k], columns=columns)
            part.insert(0, time_col, future_index(panel.last_times[k], panel.freq, h))
            part.insert(0, id_col, series)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)
    index = future_index(panel.last_times[0], panel.freq, h)
    if isinstance(index, pd.DatetimeIndex):
        index.freq = panel.freq
    index.name = panel.index_name
    data: dict[Hashable, np.ndarray] = {}
    names: list[Hashable] = []
    for k, series in enumerate(panel.ids):
        for j, c in enumerate(columns):
            name = series if c == panel.target else f"{series}_{c}"
            names.append(name)
            data[name] = forecasts[k, :, j]
    _unique(names)
    return pd.DataFrame(data, index=index, columns=names)


def _unique(names: list[Hashable]) -> None:
    seen: set[Hashable] = set()
    twice = [n for n in names if n in seen or seen.add(n)]
    if twice:
        raise ValueError(
            f"the forecast frame would have two columns named {twice[0]!r}: rename the "
            "series or the target"
        )


def frame_to_forecasts(
    frame: pd.DataFrame, panel: Panel, *, id_col: str, time_col: str
) -> tuple[np.ndarray, list[float], np.ndarray]:
    """Read a forecast frame back: point forecasts (n_series, h), the quantile levels and
    the quantile forecasts (n_series, h, len(levels)), series in the order of ``panel``.

    A frame without point columns gives its median (``q0.5``) as the point forecast.
    """
    long = panel.layout == "long"
    levels = frame_levels(frame, None if long else panel.ids[0])
    point, quantiles = [], []
    for s in panel.ids:
        rows = frame[frame[id_col] == s].sort_values(time_col) if long else frame
        key = None if long else s
        names = [quantile_column(q, key) for q in levels]
        own = panel.target if long else s
        median = quantile_column(0.5, key)
        point.append(rows[own if own in rows.columns else median].to_numpy(dtype=float))
        quantiles.append(rows[names].to_numpy(dtype=float))
    values = np.stack(point)
    return values, levels, np.stack(quantiles).reshape(*values.shape, len(levels))


def forecast_to_long(
    frame: pd.DataFrame, *, id_col: str, time_col: str, point: Hashable
) -> pd.DataFrame:
    """The quantile columns of a forecast frame as long rows ``(id, time, q…)``; the point
    column (``point`` in a long frame, the series columns in a wide one) is left out.

    A wide frame without quantile columns (``predict``'s) gives its point forecasts as
    ``q0.5``, the median.
    """
    if id_col in frame.columns:
        return frame.drop(columns=[point], errors="ignore").reset_index(drop=True)
    names = {str(c) for c in frame.columns}
    level_of: dict[Hashable, tuple[str, str]] = {}
    for c in frame.columns:
        series, sep, level = str(c).rpartition("_")
        if sep and series in names and quantile_level(level) is not None:
            level_of[c] = (series, level)
    series_columns = [c for c in frame.columns if c not in level_of]
    parts = []
    for s in series_columns:
        part = {id_col: [s] * len(frame), time_col: frame.index}
        quantile_columns = [c for c, (owner, _) in level_of.items() if owner == str(s)]
        if not level_of:
            part["q0.5"] = frame[s].to_numpy()
        for c in quantile_columns:
            part[level_of[c][1]] = frame[c].to_numpy()
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)
