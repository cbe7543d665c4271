"""Calendar features from a series' timestamps: covariates known for any future step, so
that a model can read them without the user building them.

Cyclic positions with few values (hour, day of week, day of month, month) are one-hot
columns, so that a linear reader (the ridge start's path from the future covariates)
can give each value its own effect; the day of the year is a sine and a cosine (an
annual cycle). Holidays are one flag, 1 on every step that falls on a listed date.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

ONE_HOT = {"hour": 24, "dayofweek": 7, "dayofmonth": 31, "month": 12}
"""Calendar features given as one column per value, with the number of values."""

_ATTRIBUTE = {"hour": "hour", "dayofweek": "day_of_week", "dayofmonth": "day", "month": "month"}
"""The ``DatetimeIndex`` attribute of each one-hot feature."""

CALENDAR_FEATURES = (*ONE_HOT, "dayofyear")
"""The names ``calendar_features`` accepts."""


def check_calendar_features(features: Sequence[str]) -> list[str]:
    """The requested features as a list; unknown or repeated names are refused."""
    features = list(features)
    unknown = [f for f in features if f not in CALENDAR_FEATURES]
    if unknown:
        raise ValueError(
            f"calendar_features {unknown} are not known; choose among {list(CALENDAR_FEATURES)}"
        )
    if len(set(features)) < len(features):
        raise ValueError(f"calendar_features {features} name a feature twice")
    return features


def holiday_dates(holidays: Any) -> pd.DatetimeIndex:
    """The holiday dates (midnight, time-zone naive) from a list of date-likes."""
    dates = []
    for value in list(holidays):
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"holidays: {value!r} is not a date") from err
        if pd.isna(stamp):
            raise ValueError(f"holidays: {value!r} is not a date")
        dates.append(stamp.tz_localize(None) if stamp.tz is not None else stamp)
    return pd.DatetimeIndex(dates).normalize().unique()


def calendar_names(features: Sequence[str], holidays: bool) -> list[str]:
    """Column names of :func:`calendar_values`, in its order."""
    names: list[str] = []
    for feature in features:
        if feature in ONE_HOT:
            start = 1 if feature in ("dayofmonth", "month") else 0
            names += [f"{feature}={v}" for v in range(start, start + ONE_HOT[feature])]
        else:
            names += [f"{feature}_sin", f"{feature}_cos"]
    return names + (["holiday"] if holidays else [])


def calendar_values(
    times: pd.Index, features: Sequence[str], holidays: pd.DatetimeIndex | None
) -> np.ndarray:
    """The calendar columns (len(times), len(names)) of the timestamps ``times``.

    ``holidays``: the dates flagged (:func:`holiday_dates`), or ``None`` for no flag.
    """
    if not isinstance(times, pd.DatetimeIndex):
        raise TypeError(
            "calendar_features and holidays need datetime timestamps; these series are on "
            f"an integer time index ({times.dtype})"
        )
    columns = []
    for feature in features:
        if feature in ONE_HOT:
            value = np.asarray(getattr(times, _ATTRIBUTE[feature]))
            start = 1 if feature in ("dayofmonth", "month") else 0
            columns.append(value[:, None] == np.arange(start, start + ONE_HOT[feature]))
        else:  # the day of the year on the unit circle (a leap year's last day near its first)
            angle = 2 * np.pi * (np.asarray(times.day_of_year) - 1) / 365.25
            columns.append(np.stack([np.sin(angle), np.cos(angle)], axis=1))
    if holidays is not None:
        local = times.tz_localize(None) if times.tz is not None else times
        columns.append(np.asarray(local.normalize().isin(holidays))[:, None])
    if not columns:
        return np.zeros((len(times), 0))
    return np.concatenate([np.asarray(c, dtype=np.float64) for c in columns], axis=1)


def series_times(last: Any, freq: str | int, n: int) -> pd.Index:
    """The ``n`` timestamps of a series that ends at ``last``."""
    if isinstance(freq, int | np.integer):
        return pd.Index(int(last) - int(freq) * np.arange(n - 1, -1, -1, dtype=np.int64))
    return pd.date_range(end=last, periods=n, freq=freq)
