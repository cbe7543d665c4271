"""Forecast errors (numpy) and the training losses (torch).

Point errors (:mod:`.point`) take ``(y_true, y_pred)`` like scikit-learn's metrics;
quantile errors (:mod:`.probabilistic`) take ``(y_true, q_pred, quantiles)`` with the
levels on the last axis; interval errors take the bounds. The torch losses used to train
the networks live in :mod:`.losses`.
"""

from .losses import mse_loss, pinball_loss
from .point import mae, mase, mse, naive_scale, smape
from .probabilistic import coverage, crps, interval_width, pinball

__all__ = [
    "coverage",
    "crps",
    "interval_width",
    "mae",
    "mase",
    "mse",
    "mse_loss",
    "naive_scale",
    "pinball",
    "pinball_loss",
    "smape",
]
