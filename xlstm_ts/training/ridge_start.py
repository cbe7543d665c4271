"""Closed-form start for the linear path: ridge regression on the training windows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from xlstm_ts.data import Windows
from xlstm_ts.nn import XLSTMForecastNet
from xlstm_ts.ridge import LAMBDAS, RidgeFit, fit_ridge

Level = Literal["none", "scale", "constant"]
LEVELS: tuple[Level, ...] = ("none", "scale", "constant")


@dataclass(frozen=True)
class RidgeStart:
    """The ridge solution the linear path starts from.

    Attributes
    ----------
    lam : float
        The chosen relative penalty.
    level : {"none", "scale", "constant"}
        The path's level term: none, the bias (in units of each window's scale), or a
        constant in the data's units (as the ridge baseline's intercept).
    val_mse : float or None
        Validation MSE of the solution (``None`` without validation windows).
    """

    lam: float
    level: Level
    val_mse: float | None


def _design(
    network: XLSTMForecastNet, windows: Windows, batch_size: int, level: Level
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Blocks ``(features, target − offset)`` of the linear path (see
    :meth:`XLSTMForecastNet.linear_path_inputs`), in float64."""
    for context, *_, target in windows.batches(batch_size):
        features, offset = network.linear_path_inputs(context.double())
        # the last feature (the last value minus itself) is always 0: left out
        features = features[:, :-1]
        if level == "scale":  # the path's bias, added in normalised units: a feature `scale`
            features = torch.cat([features, network.norm(context.double())[2]], dim=1)
        elif level == "constant":  # the offset, in the data's units
            features = torch.cat([features, torch.ones_like(features[:, :1])], dim=1)
        yield features.numpy(), (target.double() - offset).numpy()


def ridge_start(
    network: XLSTMForecastNet,
    train: Windows,
    val: Windows | None,
    lambdas: Sequence[float] = LAMBDAS,
    batch_size: int = 4096,
    level: Level | None = None,
) -> RidgeStart:
    """Start ``network`` as a ridge forecaster of the NLinear kind.

    The linear path is fitted by squared error in the data's units on the training
    windows (a ridge on the raw windows centred on their last value), the penalty chosen
    on the validation windows by :func:`xlstm_ts.ridge.fit_ridge`, and set with
    :meth:`XLSTMForecastNet.set_linear_path`, which zeroes the encoder's head: training
    then learns a correction to the ridge. Windows with a missing target are left out.

    ``level``: the path's level term (unpenalised): ``"none"``; ``"scale"``, its bias,
    added before de-normalisation, so a multiple of each window's scale in the data's
    units (suits series of different scales); ``"constant"``, an offset in the data's
    units (the ridge baseline's intercept; suits series on one scale, such as
    standardised channels). ``None`` (default): fit the three and keep the one with the
    lowest validation error (without validation windows: ``"none"``).

    Returns
    -------
    RidgeStart
    """
    has_val = val is not None and len(val) > 0
    options = [level] if level is not None else (list(LEVELS) if has_val else ["none"])
    fits: dict[str, RidgeFit] = {}
    for option in options:
        fits[option] = fit_ridge(
            _design(network, train, batch_size, option),
            _design(network, val, batch_size, option) if has_val else None,
            lambdas,
            n_unpenalised=int(option != "none"),
        )
    best = min(options, key=lambda o: fits[o].val_mse[fits[o].lam] if has_val else 0.0)
    fit = fits[best]
    coef = fit.coef[:-1] if best != "none" else fit.coef
    weight = np.vstack([coef, np.zeros((1, coef.shape[1]))]).T
    level_term = torch.from_numpy(fit.coef[-1])
    network.set_linear_path(
        torch.from_numpy(weight),
        bias=level_term if best == "scale" else None,
        offset=level_term if best == "constant" else None,
    )
    return RidgeStart(fit.lam, best, fit.val_mse[fit.lam] if has_val else None)
