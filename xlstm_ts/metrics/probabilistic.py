"""Errors of quantile forecasts and intervals (numpy): pinball loss, CRPS, coverage, width."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


def _quantile_pair(
    y_true: ArrayLike, q_pred: ArrayLike, quantiles: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    q = np.asarray(q_pred, dtype=np.float64)
    levels = np.asarray(quantiles, dtype=np.float64)
    if q.shape != (*y.shape, len(levels)):
        raise ValueError(
            f"q_pred must have shape y_true.shape + (len(quantiles),) = "
            f"{(*y.shape, len(levels))}, got {q.shape}"
        )
    if y.size == 0:
        raise ValueError("y_true is empty")
    if not ((levels > 0) & (levels < 1)).all():
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {list(levels)}")
    return y, q, levels


def pinball(y_true: ArrayLike, q_pred: ArrayLike, quantiles: Sequence[float]) -> float:
    """Mean pinball (quantile) loss over every value and level.

    For level ``τ`` and ``d = y - q̂``: ``max(τ·d, (τ - 1)·d)``.

    Parameters
    ----------
    y_true : array of shape (...)
        Actual values.
    q_pred : array of shape (..., len(quantiles))
        The forecast quantiles, the last axis over ``quantiles``.
    quantiles : sequence of float
        Levels in (0, 1).
    """
    y, q, levels = _quantile_pair(y_true, q_pred, quantiles)
    d = y[..., None] - q
    return float(np.mean(np.maximum(levels * d, (levels - 1) * d)))


def crps(y_true: ArrayLike, q_pred: ArrayLike, quantiles: Sequence[float]) -> float:
    """CRPS approximated from quantiles: twice the mean pinball loss over the levels.

    The CRPS equals ``2 ∫₀¹ pinball_τ dτ``; with a finite set of levels the integral is
    their average, which converges to the CRPS as the levels fill (0, 1) evenly. With the
    median alone it is the MAE. Arguments as in :func:`pinball`.
    """
    return 2 * pinball(y_true, q_pred, quantiles)


def _interval(lower: ArrayLike, upper: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    if lo.shape != hi.shape:
        raise ValueError(f"lower has shape {lo.shape} but upper has shape {hi.shape}")
    if lo.size == 0:
        raise ValueError("the interval bounds are empty")
    crossed = np.flatnonzero((lo > hi).ravel())
    if crossed.size:
        k = int(crossed[0])
        raise ValueError(
            f"lower > upper at flat position {k} ({lo.ravel()[k]} > {hi.ravel()[k]}): "
            "an interval needs lower <= upper"
        )
    return lo, hi


def coverage(y_true: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Fraction of ``y_true`` inside ``[lower, upper]`` (bounds included)."""
    lo, hi = _interval(lower, upper)
    y = np.asarray(y_true, dtype=np.float64)
    if y.shape != lo.shape:
        raise ValueError(f"y_true has shape {y.shape} but the bounds have shape {lo.shape}")
    return float(np.mean((lo <= y) & (y <= hi)))


def interval_width(lower: ArrayLike, upper: ArrayLike) -> float:
    """Mean width ``mean(upper - lower)`` of the intervals."""
    lo, hi = _interval(lower, upper)
    return float(np.mean(hi - lo))
