"""Errors of point forecasts (numpy): MSE, MAE, MASE, sMAPE.

Every function takes ``y_true`` and ``y_pred`` of one shape first, as scikit-learn's
metrics do, so it can be wrapped with :func:`sklearn.metrics.make_scorer`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"y_true has shape {a.shape} but y_pred has shape {b.shape}")
    if a.size == 0:
        raise ValueError("y_true and y_pred are empty")
    return a, b


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error, ``mean((y - ŷ)²)``."""
    a, b = _pair(y_true, y_pred)
    return float(np.mean((a - b) ** 2))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error, ``mean(|y - ŷ|)``."""
    a, b = _pair(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))


def naive_scale(y_train: ArrayLike, season: int = 1) -> float:
    """In-sample MAE of the seasonal naive forecast, ``mean(|y_t - y_{t-season}|)``: the
    denominator of MASE. NaN values of ``y_train`` are left out.

    Raises
    ------
    ValueError
        If ``y_train`` has at most ``season`` values, or the naive error is 0 (a constant
        or exactly periodic history, on which MASE is undefined).
    """
    y = np.asarray(y_train, dtype=np.float64).ravel()
    if season < 1 or len(y) <= season:
        raise ValueError(f"MASE needs a history longer than season={season}, got {len(y)} values")
    diff = np.abs(y[season:] - y[:-season])
    diff = diff[~np.isnan(diff)]
    scale = float(diff.mean()) if diff.size else float("nan")
    if not scale > 0:
        raise ValueError(
            f"the seasonal naive forecast (season={season}) has in-sample MAE {scale}: "
            "MASE is undefined for this history"
        )
    return scale


def mase(y_true: ArrayLike, y_pred: ArrayLike, y_train: ArrayLike, season: int = 1) -> float:
    """Mean absolute scaled error: MAE divided by :func:`naive_scale` of ``y_train``.

    Below 1 the forecast beats the in-sample seasonal naive forecast (Hyndman & Koehler).
    """
    return mae(y_true, y_pred) / naive_scale(y_train, season)


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric MAPE in percent, ``100 · mean(2|y - ŷ| / (|y| + |ŷ|))``, in [0, 200].

    A term with ``y = ŷ = 0`` counts as 0 (a perfect forecast), not as 0/0.
    """
    a, b = _pair(y_true, y_pred)
    denom = np.abs(a) + np.abs(b)
    terms = np.divide(2 * np.abs(a - b), denom, out=np.zeros_like(a), where=denom > 0)
    return float(100 * terms.mean())
