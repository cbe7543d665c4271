"""Closed-form start for the linear path: ridge regression on the training windows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from xlstm_ts.data import Windows
from xlstm_ts.nn import XLSTMForecastNet
from xlstm_ts.ridge import LAMBDAS, fit_ridge


def _design(
    network: XLSTMForecastNet, windows: Windows, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Blocks ``(features, target − offset)`` of the linear path (see
    :meth:`XLSTMForecastNet.linear_path_inputs`), in float64."""
    for context, *_, target in windows.batches(batch_size):
        features, offset = network.linear_path_inputs(context.double())
        # the last feature (the last value minus itself) is always 0: left out
        yield features[:, :-1].numpy(), (target.double() - offset).numpy()


def ridge_start(
    network: XLSTMForecastNet,
    train: Windows,
    val: Windows | None,
    lambdas: Sequence[float] = LAMBDAS,
    batch_size: int = 4096,
) -> float:
    """Start ``network`` as a ridge forecaster of the NLinear kind.

    The linear path is fitted by squared error in the data's units on the training
    windows (a ridge on the raw windows centred on their last value, without intercept:
    on long horizons a fitted level offset generalises worse), the penalty chosen on the
    validation windows by :func:`xlstm_ts.ridge.fit_ridge`, and set with
    :meth:`XLSTMForecastNet.set_linear_path`, which zeroes the encoder's head: training
    then learns a correction to the ridge. Windows with a missing target are left out.

    Returns
    -------
    float
        The chosen relative penalty.
    """
    has_val = val is not None and len(val) > 0
    fit = fit_ridge(
        _design(network, train, batch_size),
        _design(network, val, batch_size) if has_val else None,
        lambdas,
    )
    weight = np.vstack([fit.coef, np.zeros((1, fit.coef.shape[1]))]).T
    network.set_linear_path(torch.from_numpy(weight))
    return fit.lam
