"""Forecast errors (numpy) and the training losses (torch).

Point errors (:mod:`.point`) take ``(y_true, y_pred)`` like scikit-learn's metrics;
quantile errors (:mod:`.probabilistic`) take ``(y_true, q_pred, quantiles)`` with the
levels on the last axis; interval errors take the bounds. The M4 competition's measures
over sets of series (sMAPE and MASE averaged over series, OWA against Naive2) are in
:mod:`.m4`. The torch losses used to train the networks live in :mod:`.losses`.
"""

from .losses import mse_loss, pinball_loss
from .m4 import (
    acf,
    m4_scores,
    mean_mase,
    mean_smape,
    naive2,
    owa,
    seasonal_indices,
    seasonality_test,
)
from .point import mae, mase, mse, naive_scale, smape
from .probabilistic import coverage, crps, interval_width, pinball

__all__ = [
    "acf",
    "coverage",
    "crps",
    "interval_width",
    "m4_scores",
    "mae",
    "mase",
    "mean_mase",
    "mean_smape",
    "mse",
    "mse_loss",
    "naive2",
    "naive_scale",
    "owa",
    "pinball",
    "pinball_loss",
    "seasonal_indices",
    "seasonality_test",
    "smape",
]
