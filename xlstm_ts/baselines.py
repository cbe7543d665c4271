"""Classical baseline forecasts."""

from __future__ import annotations

import numpy as np


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
