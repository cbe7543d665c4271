"""Closed-form start for the linear path: ridge regression on the training windows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from xlstm_ts.data import Windows
from xlstm_ts.nn import XLSTMForecastNet
from xlstm_ts.ridge import LAMBDAS, NormalEquations, RidgeFit, fit_ridge

from .forecasts import later_half

Level = Literal["none", "scale", "constant"]
LEVELS: tuple[Level, ...] = ("none", "scale", "constant")
REFERENCE_LEVEL: Level = "constant"
"""The ridge baseline's own level term (:class:`~xlstm_ts.baselines.RidgeNLinear`'s
intercept): the start's default, and the reference a level chosen on validation
(``level=None``) must beat on both halves of its windows."""


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
    level_scores : dict
        Validation MSE of each level term tried, on the earlier and the later half of
        the validation windows (empty without validation windows or with ``level``
        given).
    """

    lam: float
    level: Level
    val_mse: float | None
    level_scores: dict[str, tuple[float, float]] = field(default_factory=dict)


def _design(
    network: XLSTMForecastNet, windows: Windows, batch_size: int, level: Level
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Blocks ``(features, target − offset)`` of the linear path (see
    :meth:`XLSTMForecastNet.linear_path_inputs`), in float64."""
    for context, _, future, target in windows.batches(batch_size):
        features, covariates, offset = network.linear_path_inputs(context.double(), future.double())
        # the last feature (the last value minus itself) is always 0: left out
        features = features[:, :-1]
        if covariates is not None:  # the future-known covariates over the horizon
            features = torch.cat([features, covariates], dim=1)
        if level == "scale":  # the path's bias, added in normalised units: a feature `scale`
            features = torch.cat([features, network.norm(context.double())[2]], dim=1)
        elif level == "constant":  # the offset, in the data's units
            features = torch.cat([features, torch.ones_like(features[:, :1])], dim=1)
        yield features.numpy(), (target.double() - offset).numpy()


def _half_sums(
    network: XLSTMForecastNet, windows: Windows, batch_size: int, level: Level
) -> tuple[NormalEquations, NormalEquations]:
    """Normal equations of the earlier and the later half of each series' windows."""
    later, start = later_half(windows), 0
    halves = (NormalEquations(), NormalEquations())
    for X, Y in _design(network, windows, batch_size, level):
        in_later = later[start : start + len(X)]
        start += len(X)
        for half, rows in zip(halves, (~in_later, in_later), strict=True):
            if rows.any():
                half.add(X[rows], Y[rows])
    return halves


def ridge_start(
    network: XLSTMForecastNet,
    train: Windows,
    val: Windows | None,
    lambdas: Sequence[float] = LAMBDAS,
    batch_size: int = 4096,
    level: Level | None = REFERENCE_LEVEL,
) -> RidgeStart:
    """Start ``network`` as a ridge forecaster of the NLinear kind.

    The linear path is fitted by squared error in the data's units on the training
    windows (a ridge on the raw windows centred on their last value), the penalty chosen
    on the validation windows by :func:`xlstm_ts.ridge.fit_ridge`, and set with
    :meth:`XLSTMForecastNet.set_linear_path`, which zeroes the encoder's head: training
    then learns a correction to the ridge. Windows with a missing target are left out.

    ``level``: the path's level term (unpenalised): ``"none"``; ``"scale"``, its bias,
    added before de-normalisation, so a multiple of each window's scale in the data's
    units (suits series of different scales); ``"constant"`` (default), an offset in the
    data's units (the ridge baseline's intercept, so that the start *is* the baseline).
    ``None``: the three are fitted and the constant is kept unless another has a lower
    validation error on both the earlier and the later half of the validation windows
    (without validation windows: ``"none"``). Not the default: in a nested study on
    validation data (``research/selection_rules.py --part level``) the level chosen
    that way was worse on later data more often than better.

    Returns
    -------
    RidgeStart
    """
    has_val = val is not None and len(val) > 0
    if level is not None or not has_val:
        options: list[Level] = [level if level is not None else "none"]
    else:
        options = list(LEVELS)
    fits: dict[str, RidgeFit] = {}
    halves: dict[str, tuple[NormalEquations, NormalEquations]] = {}
    for option in options:
        if has_val:
            halves[option] = _half_sums(network, val, batch_size, option)
        fits[option] = fit_ridge(
            _design(network, train, batch_size, option),
            halves[option][0] + halves[option][1] if has_val else None,
            lambdas,
            n_unpenalised=int(option != "none"),
        )
    # the halves' errors of each level term tried (none when nothing was chosen)
    scores = (
        {o: tuple(_mse(h, fits[o].coef) for h in halves[o]) for o in halves}
        if len(options) > 1
        else {}
    )
    best = _choose_level(options, scores, {o: fits[o].val_mse.get(fits[o].lam) for o in fits})
    fit = fits[best]
    coef = fit.coef[:-1] if best != "none" else fit.coef
    n_context = network.context_length - 1  # the rows of the context's features
    weight = np.vstack([coef[:n_context], np.zeros((1, coef.shape[1]))]).T
    level_term = torch.from_numpy(fit.coef[-1])
    network.set_linear_path(
        torch.from_numpy(weight),
        bias=level_term if best == "scale" else None,
        offset=level_term if best == "constant" else None,
        future_weight=torch.from_numpy(coef[n_context:].T) if len(coef) > n_context else None,
    )
    return RidgeStart(fit.lam, best, fit.val_mse[fit.lam] if has_val else None, scores)


def _mse(sums: NormalEquations, coef: np.ndarray) -> float:
    return sums.sse(coef) / sums.n if sums.n else float("nan")  # NaN: never "lower"


def _choose_level(
    options: list[Level], halves: dict[str, tuple[float, float]], val_mse: dict[str, float | None]
) -> Level:
    """The reference level, unless another has a lower error on both validation halves
    (then the lowest overall of those): a choice among three on few windows would
    otherwise follow noise."""
    if len(options) == 1:
        return options[0]
    ref = halves[REFERENCE_LEVEL]
    better = [o for o in options if all(a < b for a, b in zip(halves[o], ref, strict=True))]
    return min(better, key=lambda o: val_mse[o]) if better else REFERENCE_LEVEL
