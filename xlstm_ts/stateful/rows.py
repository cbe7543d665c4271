"""New rows for many series at once: read from a frame or an array in one pass, checked
with array operations, and appended to a fitted state in batches.

Reading a frame series by series (:func:`~xlstm_ts.data.frame_to_panel`, then the checks
of :mod:`.update`) costs some pandas calls per series, which for a thousand series
getting one row each is nearly all of an update. Here the frame is converted once:
the ids are matched to the model's series with one index lookup, the rows sorted by
series and time with one sort, and times, values and scales checked as arrays
(:class:`~.times.Clock`).

The fast reading vouches only for what it can check this way. A frame it cannot read
(another shape or frequency, non-numeric or non-finite values, a gap, an overlap, …)
makes :func:`read_frame` return ``None``, and the update takes the per-series path,
whose errors name the series, the time and the value at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .fitted import StatefulForecasterState
from .inference import advance
from .times import Clock

SCALE_LIMIT = float(np.finfo(np.float32).max / 16)
"""Normalised values beyond this are refused (as by :func:`.update.check_update`)."""


@dataclass
class NewRows:
    """New steps of series the model knows, grouped by series.

    Attributes
    ----------
    at : ndarray of int
        The positions (in the model's ``ids``) of the series that get steps, increasing.
    counts : ndarray of int
        Steps for each of them.
    values : ndarray of float64
        Their values, series after series in the order of ``at``, each oldest first.
    last_times : list
        The new last time of each series of ``at``.
    last_codes : ndarray of int64
        The same as time codes (:class:`~.times.Clock`).
    added : DataFrame, optional
        The rows of series the model does not know (read series by series).
    """

    at: np.ndarray
    counts: np.ndarray
    values: np.ndarray
    last_times: list[Any]
    last_codes: np.ndarray
    added: pd.DataFrame | None = None


# What every update needs of the model's series and would otherwise rebuild from lists of
# a thousand ids and timestamps: kept on the fitted state, whose fields are never changed
# in place (every update makes a new state), and handed on by append_rows only, which
# knows how they change. dataclasses.replace leaves them behind, so no other new state
# can inherit stale ones.
_IDS, _CODES = "_ids_index", "_last_codes"


def ids_index(state: StatefulForecasterState) -> pd.Index:
    """The model's series ids as an index (cached on ``state``)."""
    found = state.__dict__.get(_IDS)
    if found is None:
        found = state.__dict__[_IDS] = _ids_index(state.panel.ids)
    return found


def cached_codes(state: StatefulForecasterState) -> np.ndarray | None:
    """The time codes of the series' last steps if cached on ``state``, else ``None``."""
    return state.__dict__.get(_CODES)


def last_codes(state: StatefulForecasterState, clock: Clock) -> np.ndarray | None:
    """The time codes of the series' last steps (cached on ``state``); ``None`` beyond
    what nanoseconds hold."""
    found = state.__dict__.get(_CODES)
    if found is None:
        found = clock.codes(state.panel.last_times)
        if found is not None:
            state.__dict__[_CODES] = found
    return found


def _real(dtype: Any) -> bool:
    """Whether a column of ``dtype`` holds real numbers (not bool, not complex)."""
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def _ids_index(ids: list[Any]) -> pd.Index:
    # object dtype: ids are matched as a dict would match them (1 == 1.0), tuples kept whole
    return pd.Index(ids, dtype=object, tupleize_cols=False)


def _values_ok(
    state: StatefulForecasterState, at: np.ndarray, values: np.ndarray, allow_missing: bool
) -> bool:
    """Whether every value is finite (or NaN, when allowed) and within what the series'
    normalisation keeps in float32; ``at`` gives each value's series."""
    with np.errstate(invalid="ignore", over="ignore"):
        z = np.abs((values - state.mean[at]) / state.scale[at])
    if allow_missing:
        return not (np.isinf(values).any() or (z > SCALE_LIMIT).any())
    return bool(np.isfinite(values).all()) and not (z > SCALE_LIMIT).any()


def read_frame(
    X_new: Any,
    state: StatefulForecasterState,
    *,
    id_col: str,
    time_col: str,
    target: Any,
    allow_missing: bool,
) -> NewRows | None:
    """The new rows of the frame ``X_new`` grouped by series, or ``None`` where they must
    be read series by series (:func:`.update.new_steps`), which names what is wrong.

    A long frame may hold rows of any subset of the model's series, in any order, and
    rows of new series (left in ``added``); a wide frame must hold exactly the model's
    series.
    """
    if isinstance(X_new, pd.Series):
        X_new = X_new.to_frame("y" if X_new.name is None else X_new.name)
    if not isinstance(X_new, pd.DataFrame) or X_new.empty or state.panel.freq is None:
        return None
    names = list(X_new.columns)  # (a list: a text index would build a hash table)
    long = id_col in names or time_col in names
    if long != (state.panel.layout == "long"):
        return None
    clock = Clock.of(state.panel.freq, state.panel.last_times)
    if long:
        return _read_long(X_new, state, clock, id_col, time_col, target, allow_missing)
    return _read_wide(X_new, state, clock, target, allow_missing)


def _read_long(
    df: pd.DataFrame,
    state: StatefulForecasterState,
    clock: Clock,
    id_col: str,
    time_col: str,
    target: Any,
    allow_missing: bool,
) -> NewRows | None:
    target = "y" if target is None else target
    if not isinstance(target, str) or any(c not in df.columns for c in (id_col, time_col, target)):
        return None
    y, times, ids = df[target], df[time_col], df[id_col]
    if not all(isinstance(c, pd.Series) for c in (y, times, ids)) or not _real(y.dtype):
        return None  # a column name that occurs more than once
    codes = clock.column_codes(times)
    if codes is None:
        return None
    series = ids_index(state).get_indexer(ids)
    known = series >= 0
    added = None
    rows = np.arange(len(df))
    if not known.all():
        added = df[~known]
        rows, series, codes = rows[known], series[known], codes[known]
    order = np.lexsort((codes, series))  # by series, then by time
    rows, series, codes = rows[order], series[order], codes[order]
    counts = np.bincount(series, minlength=len(state.panel.ids))
    at = np.flatnonzero(counts)
    counts = counts[at]
    ends = np.cumsum(counts)
    rank = np.arange(len(series)) - np.repeat(ends - counts, counts)
    last = last_codes(state, clock)
    expected = None if last is None else clock.shift(last[series], rank + 1)
    if expected is None or not np.array_equal(expected, codes):
        return None  # a gap, an overlap, a duplicate or another frequency
    values = y.to_numpy(dtype=np.float64, na_value=np.nan)[rows]
    if not _values_ok(state, series, values, allow_missing):
        return None
    last_times = times.iloc[rows[ends - 1]].tolist() if len(at) else []
    return NewRows(at, counts, values, last_times, codes[ends - 1], added)


def _read_wide(
    df: pd.DataFrame,
    state: StatefulForecasterState,
    clock: Clock,
    target: Any,
    allow_missing: bool,
) -> NewRows | None:
    ids = state.panel.ids
    if target is not None or len(df.columns) != len(ids):
        return None
    if list(df.columns) == ids:  # the model's order (a list compare costs less than a lookup)
        where = None
    else:
        if not df.columns.is_unique:
            return None
        where = _ids_index(list(df.columns)).get_indexer(ids_index(state))
        if (where < 0).any():
            return None  # a new series, or one missing: read series by series
    values = df.to_numpy()
    if values.dtype.kind not in "fiu":  # bool, complex, text or nullable columns
        return None
    values = values.astype(np.float64, copy=False)
    codes = clock.column_codes(df.index)
    last = last_codes(state, clock)
    if codes is None or last is None or (last != last[0]).any():
        return None
    last_row = len(codes) - 1
    if len(codes) > 1 and not (np.diff(codes) > 0).all():
        order = np.argsort(codes, kind="stable")
        codes, values, last_row = codes[order], values[order], int(order[-1])
    m, n = values.shape
    expected = clock.shift(np.full(m, last[0]), np.arange(1, m + 1))
    if expected is None or not np.array_equal(expected, codes):
        return None
    if where is not None:
        values = values[:, where]
    values = np.ascontiguousarray(values.T).ravel()  # series after series
    at = np.arange(n)
    if not _values_ok(state, np.repeat(at, m), values, allow_missing):
        return None
    return NewRows(at, np.full(n, m), values, [df.index[last_row]] * n, np.full(n, codes[-1]))


def read_array(
    X_new: np.ndarray, state: StatefulForecasterState, *, allow_missing: bool
) -> NewRows:
    """New steps given as an array: one value per series (``(n_series,)``) or several
    steps, one row each (``(steps, n_series)``), the columns in the order of the model's
    series (``panel_.ids``). Each series moves on by as many steps of the model's
    frequency.

    Raises
    ------
    TypeError
        Values that are not real numbers.
    ValueError
        Another shape, and a value that is not finite (or NaN, with ``allow_missing``)
        or that the series' normalisation puts beyond float32; the error names the
        series, the row and the value.
    """
    ids = state.panel.ids
    a = X_new[None] if X_new.ndim == 1 else X_new
    if a.ndim != 2 or a.shape[1] != len(ids) or a.shape[0] == 0:
        raise ValueError(
            f"an array X_new must have shape (n_series,) or (steps, n_series) with "
            f"n_series={len(ids)} (one column per series, in the order of panel_.ids); "
            f"got shape {X_new.shape}"
        )
    if not _real(a.dtype):
        raise TypeError(f"an array X_new must hold real numbers, got dtype {a.dtype}")
    values = a.astype(np.float64)
    m, n = values.shape
    bad = ~np.isfinite(values)
    if allow_missing:
        bad &= ~np.isnan(values)
    with np.errstate(invalid="ignore", over="ignore"):
        bad |= np.abs((values - state.mean) / state.scale) > SCALE_LIMIT
    if bad.any():
        row, k = (int(i) for i in np.argwhere(bad)[0])
        v = float(values[row, k])
        why = (
            "not finite; pass allow_missing=True to take NaN as missing"
            if not np.isfinite(v)
            else f"{abs(v - state.mean[k]) / state.scale[k]:.3g} times the series' scale "
            f"{state.scale[k]:.3g} from its mean {state.mean[k]:.3g}: too far for the network"
        )
        raise ValueError(f"X_new[{row}, {k}] = {v!r} for series {ids[k]!r} is {why}")
    clock = Clock.of(state.panel.freq, state.panel.last_times)
    last = last_codes(state, clock)
    moved = None if last is None else clock.shift(last, m)
    if moved is None:
        raise ValueError(
            f"{m} more steps at frequency {state.panel.freq!r} go beyond the times pandas holds"
        )
    at = np.arange(n)
    values = np.ascontiguousarray(values.T).ravel()
    return NewRows(at, np.full(n, m), values, clock.times(moved), moved)


def append_rows(state: StatefulForecasterState, rows: NewRows) -> StatefulForecasterState:
    """A new state with ``rows`` appended (their checks passed); ``state`` is not changed.

    The series that complete a patch are encoded together (:func:`.inference.advance`);
    the last ``window_len`` values of all of them are updated as one array where they
    get equally many steps and hold a full window.
    """
    at, counts, W = rows.at, rows.counts, state.network.window_len
    if not len(at):
        return state
    lengths = np.asarray(state.lengths, dtype=np.int64)
    recents = state.panel.values
    equal = bool((counts == counts[0]).all())
    if equal:
        news = list(rows.values.reshape(len(at), counts[0]))
    else:
        news = np.split(rows.values, np.cumsum(counts)[:-1])
    old = [recents[k] for k in at]
    moved = advance(
        state.network,
        [state.states[k] for k in at],
        lengths[at].tolist(),
        old,
        news,
        state.mean[at],
        state.scale[at],
    )
    if equal and all(len(r) == W for r in old):  # one array for all windows
        both = np.concatenate([np.stack(old), rows.values.reshape(len(at), -1)], axis=1)
        windows = list(np.ascontiguousarray(both[:, -W:]))
    else:
        windows = [np.concatenate([r, v])[-W:] for r, v in zip(old, news, strict=True)]
    values, states = list(recents), list(state.states)
    last_times = list(state.panel.last_times)
    for j, k in enumerate(at.tolist()):
        values[k], states[k], last_times[k] = windows[j], moved[j], rows.last_times[j]
    lengths[at] += counts
    panel = replace(state.panel, values=values, last_times=last_times)
    new = replace(state, panel=panel, lengths=lengths.tolist(), states=states)
    if _IDS in state.__dict__:  # the same series
        new.__dict__[_IDS] = state.__dict__[_IDS]
    if _CODES in state.__dict__:
        codes = state.__dict__[_CODES].copy()
        codes[at] = rows.last_codes
        new.__dict__[_CODES] = codes
    return new
