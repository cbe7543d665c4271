"""Forecast errors and the losses used for training."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


def pinball_loss(pred: Tensor, target: Tensor, quantiles: Sequence[float]) -> Tensor:
    """Mean quantile (pinball) loss.

    ``pred``: (B, H, Q), ``target``: (B, H); NaN targets are left out of the mean.
    """
    q = torch.as_tensor(quantiles, dtype=pred.dtype, device=pred.device)
    diff = target[..., None] - pred
    loss = torch.maximum(q * diff, (q - 1) * diff)
    return _masked_mean(loss, ~torch.isnan(target)[..., None].expand_as(loss))


def mse_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error over non-missing targets; ``pred`` and ``target`` are (B, H)."""
    return _masked_mean((pred - target).square(), ~torch.isnan(target))


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    return torch.where(mask, values, 0.0).sum() / mask.sum().clamp(min=1)


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error."""
    return float(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))


def pinball(y_true: np.ndarray, y_pred: np.ndarray, quantiles: Sequence[float]) -> float:
    """Mean pinball (quantile) loss of quantile forecasts.

    Parameters
    ----------
    y_true : array of shape (...)
        Actual values; NaN values are left out.
    y_pred : array of shape (..., Q)
        Forecasts, the last axis over ``quantiles``.
    quantiles : sequence of float
        The Q quantile levels.

    Returns
    -------
    float
        The mean over values and levels of ``max(q (y - ŷ_q), (q - 1) (y - ŷ_q))``.
    """
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    q = np.asarray(quantiles, dtype=float)
    if y_pred.shape != (*y_true.shape, len(q)):
        raise ValueError(
            f"y_pred has shape {y_pred.shape}; expected {(*y_true.shape, len(q))} "
            f"(y_true's shape and one value per quantile)"
        )
    diff = y_true[..., None] - y_pred
    return float(np.nanmean(np.maximum(q * diff, (q - 1) * diff)))


def mase(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_train: Sequence[np.ndarray],
    season: int = 1,
) -> float:
    """Mean absolute scaled error, averaged over series.

    Each series' mean absolute error is divided by the in-sample mean absolute error of
    the seasonal-naive forecast (``y[t] - y[t - season]``) on its training values.

    Parameters
    ----------
    y_true, y_pred : array of shape (n_series, h)
        Actual values (NaN left out) and forecasts.
    y_train : sequence of 1-D arrays
        The training values of each series, oldest first.
    season : int
        Lag of the naive forecast that sets the scale (1: the previous value).

    Raises
    ------
    ValueError
        If a series has no more than ``season`` training values or a zero scale.
    """
    y_true, y_pred = np.atleast_2d(y_true), np.atleast_2d(y_pred)
    if len(y_train) != len(y_true):
        raise ValueError(f"{len(y_train)} training series for {len(y_true)} forecast series")
    errors = []
    for k, history in enumerate(y_train):
        history = np.asarray(history, dtype=float)
        if len(history) <= season:
            raise ValueError(
                f"series {k} has {len(history)} training values; MASE with season={season} "
                f"needs more than {season}"
            )
        scale = np.nanmean(np.abs(history[season:] - history[:-season]))
        if not scale > 0:
            raise ValueError(
                f"series {k} has a zero naive error (season={season}): MASE is undefined"
            )
        errors.append(np.nanmean(np.abs(y_true[k] - y_pred[k])) / scale)
    return float(np.mean(errors))
