"""Seasonal naive forecasts and the natural season of a frequency."""

from __future__ import annotations

import numpy as np
import pandas as pd


def seasonal_naive(history: np.ndarray, season: int, h: int) -> np.ndarray:
    """Repeat the last full season: ``ŷ_{T+j} = y_{T+j-season·k}`` for the smallest k ≥ 1.

    ``history``: (..., T) with ``T >= season``; returns (..., h).
    """
    history = np.asarray(history, dtype=np.float64)
    if season < 1 or history.shape[-1] < season:
        raise ValueError(
            f"seasonal_naive needs season >= 1 and at least one season of history; got "
            f"season={season} and {history.shape[-1]} steps"
        )
    last = history[..., -season:]
    return last[..., np.arange(h) % season]


_DAILY_SEASON = {"D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


def season_length(freq: str | None) -> int:
    """Natural season of a pandas frequency: one day of sub-daily data, else the next cycle.

    Hourly data give 24, 15-minute data 96, 10-minute data 144; daily data 7 (a week),
    business days 5, weekly 52, monthly 12, quarterly 4; yearly and unknown give 1.

    Parameters
    ----------
    freq : str or None
        A pandas frequency string such as ``"h"``, ``"15min"``, ``"W-TUE"``.

    Returns
    -------
    int
        Season length in steps (1 means no seasonality).
    """
    if freq is None:
        return 1
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError as exc:
        raise ValueError(f"freq must be a pandas frequency string; got {freq!r}") from exc
    nanos = getattr(offset, "nanos", None) if isinstance(offset, pd.offsets.Tick) else None
    if nanos is not None:
        day = 24 * 3600 * 10**9
        if nanos < day and day % nanos == 0:
            return day // nanos
        if nanos == day * offset.n and offset.n == 1:
            return 7
        return 1
    base = offset.rule_code.split("-")[0]
    return _DAILY_SEASON.get(base, 1)
