"""Time stamps as int64 codes, so that the times of many series are checked and moved on
with a few array operations instead of one pandas call per series.

A code is a count of nanoseconds since the epoch (UTC) for datetimes, the integer step
itself for integer times. A frequency of fixed length (hours, minutes, seconds, …; a day
when the times carry no time zone; an integer step) is one addition of a multiple of its
length; a calendar frequency (month starts, weeks, business days, days across a change
of daylight saving time) is one vectorised pandas offset per distinct multiple.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Clock:
    """A model's frequency as arithmetic on time codes.

    Attributes
    ----------
    freq : str or int
        The model's frequency (a pandas string, or an integer step).
    tz : tzinfo or None
        The time zone of the model's times (``None``: zone-naive or integer).
    unit : str or None
        The resolution of the model's timestamps (``None`` for integer times).
    step : int or None
        The length of one step in codes, where it is fixed; ``None`` for a calendar
        frequency.
    """

    freq: str | int
    tz: Any
    unit: str | None
    step: int | None

    @classmethod
    def of(cls, freq: str | int, last_times: Sequence[Any]) -> Clock:
        """The clock of series at ``freq`` whose last times are ``last_times``."""
        if isinstance(freq, Integral):
            return cls(int(freq), None, None, int(freq))
        first = next((t for t in last_times if isinstance(t, pd.Timestamp)), None)
        tz = None if first is None else first.tz
        unit = "ns" if first is None else first.unit
        offset = pd.tseries.frequencies.to_offset(freq)
        if isinstance(offset, pd.offsets.Tick):
            step = int(offset.nanos)
        elif isinstance(offset, pd.offsets.Day) and tz is None:  # no daylight saving time
            step = int(offset.n) * 86_400 * 10**9
        else:
            step = None
        return cls(freq, tz, unit, step)

    @property
    def datetimes(self) -> bool:
        return not isinstance(self.freq, int)

    def codes(self, times: Sequence[Any]) -> np.ndarray | None:
        """The codes of a list of timestamps (or integers); ``None`` where one lies
        beyond what nanoseconds hold."""
        if not self.datetimes:
            return np.fromiter((int(t) for t in times), np.int64, len(times))
        try:
            return np.fromiter((t.value for t in times), np.int64, len(times))
        except (AttributeError, OverflowError, ValueError):
            return None

    def column_codes(self, times: pd.Series | pd.Index) -> np.ndarray | None:
        """The codes of a frame's time column or index; ``None`` where its type or time
        zone is not the model's (the per-series reading says what is wrong)."""
        if not self.datetimes:
            if not pd.api.types.is_integer_dtype(times):
                return None
            values = np.asarray(times)
            if values.dtype.kind == "u" and len(values) and values.max() > _MAX:
                return None
            return values.astype(np.int64, copy=False)
        if not pd.api.types.is_datetime64_any_dtype(times):
            return None
        index = pd.DatetimeIndex(times)
        if (index.tz is None) != (self.tz is None) or index.hasnans:
            return None
        codes, factor = index.asi8, _NS[index.unit]
        if factor > 1:
            if len(codes) and np.abs(codes).max() > _MAX // factor:
                return None
            codes = codes * factor
        return codes

    def shift(self, codes: np.ndarray, steps: np.ndarray | int) -> np.ndarray | None:
        """``codes`` moved on by ``steps`` steps (each, or all alike); ``None`` beyond
        what nanoseconds hold."""
        steps = np.broadcast_to(np.asarray(steps, dtype=np.int64), codes.shape)
        if not len(codes):
            return codes.copy()
        if self.step is not None:
            top = int(np.abs(codes).max()) + int(steps.max()) * self.step
            return None if top > _MAX else codes + steps * self.step
        offset = pd.tseries.frequencies.to_offset(self.freq)
        out = np.empty_like(codes)
        for k in np.unique(steps):  # one vectorised offset per distinct multiple
            where = steps == k
            try:
                moved = self.index(codes[where], "ns") + int(k) * offset
            except (OverflowError, pd.errors.OutOfBoundsDatetime):
                return None
            out[where] = moved.as_unit("ns").asi8
        return out

    def index(self, codes: np.ndarray, unit: str | None = None) -> pd.Index:
        """The times of ``codes`` as an index (in ``unit``, the model's by default)."""
        if not self.datetimes:
            return pd.Index(codes, dtype=np.int64)
        index = pd.DatetimeIndex(np.asarray(codes, dtype=np.int64).view("M8[ns]"))
        if self.tz is not None:
            index = index.tz_localize("UTC").tz_convert(self.tz)
        return index.as_unit(unit or self.unit or "ns")

    def times(self, codes: np.ndarray) -> list[Any]:
        """The times of ``codes`` as timestamps (or Python integers), one per code."""
        if not self.datetimes:
            return codes.tolist()
        return self.index(codes).tolist()
