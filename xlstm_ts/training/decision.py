"""The default's decision, from the candidates' forecasts of the validation windows.

``XLSTMForecaster(linear_path="auto")`` trains two candidates: a network started from the
ridge solution (its forecast is ``linear + α · correction``, the linear path frozen and
an encoder learning a correction) and networks trained from scratch (a seed ensemble,
``scratch``). :func:`decide` takes their point forecasts of the validation windows and
returns everything the estimator then keeps: the correction's weight α (the *blend*),
the weight ``w`` of the combination ``(1 − w) · ridge + w · scratch``, and the choice.

Both weights minimise a squared error in closed form: with residual ``r`` and direction
``c``, ``Σ (r − α c)²`` is smallest at ``α = Σ rc / Σ cc``, clipped to ``[0, α_max]``. A
weight fitted in sample can fit a level shift of the validation period only, so each is
also *cross-fitted*: the windows of each series are cut into an earlier and a later half
(by forecast origin), the weight fitted on one half must lower the error of the other,
both ways, or it is refused (α = 0: the linear part alone; ``w = 0``: no combination).
Leaving the ridge start for the networks from scratch alone takes the same evidence: a
lower error on both halves.

Everything here is numpy on arrays of shape (windows, horizon) in the data's units, with
NaN for missing targets (left out of every sum).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

ALPHA_MAX = 2.0
"""The largest weight of the ridge start's correction."""

Sums = np.ndarray
"""``(Σ rr, Σ rc, Σ cc, n)`` of a residual ``r`` and a direction ``c``, float64."""


@dataclass(frozen=True)
class WeightFit:
    """A weight chosen on the validation windows, with its cross-fitted check.

    Attributes
    ----------
    alpha : float
        The weight kept: the least-squares weight on all windows, or 0 when the check
        refused it.
    alpha_halves : tuple of float
        The weights fitted on the earlier and on the later half of the windows.
    gain_halves : tuple of float
        Relative change of each half's squared error when it is forecast with the weight
        fitted on the *other* half, against weight 0 (negative: the weight helps out of
        sample).
    accepted : bool
        Whether both gains are negative (or the check was not asked for).
    """

    alpha: float
    alpha_halves: tuple[float, float]
    gain_halves: tuple[float, float]
    accepted: bool


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` keeps.

    Attributes
    ----------
    kept : {"ridge", "none", "combined"}
        The ridge-started candidate (with its blend), the networks from scratch, or
        their combination.
    blend : WeightFit or None
        The weight of the ridge start's correction (``None`` without a ridge candidate).
    combination : WeightFit or None
        The weight ``w`` of the networks from scratch in the combination (``None``
        unless both candidates were given and ``combine``).
    scores : dict
        Validation MSE of the point forecast of each candidate (``"ridge"``, with its
        blend; ``"none"``) and of the combination (``"combined"``) when kept.
    """

    kept: Literal["ridge", "none", "combined"]
    blend: WeightFit | None = None
    combination: WeightFit | None = None
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """Validation MSE of the kept forecast."""
        return self.scores[self.kept]


def residual_sums(residual: np.ndarray, direction: np.ndarray) -> Sums:
    """``(Σ rr, Σ rc, Σ cc, n)`` per window (rows): shape (windows, 4); NaN residuals
    (missing targets) are left out."""
    r = np.asarray(residual, dtype=np.float64)
    c = np.asarray(direction, dtype=np.float64)
    known = ~np.isnan(r)
    r, c = np.where(known, r, 0.0), np.where(known, c, 0.0)
    return np.stack([(r * r).sum(1), (r * c).sum(1), (c * c).sum(1), known.sum(1)], 1)


def best_weight(sums: Sums, alpha_max: float) -> tuple[float, float]:
    """The least-squares weight in ``[0, alpha_max]`` and its MSE, from totals of
    :func:`residual_sums`."""
    rr, rc, cc, n = (float(v) for v in sums)
    alpha = min(max(rc / cc, 0.0), alpha_max) if cc > 0 else 0.0
    return alpha, weighted_sse(sums, alpha) / max(n, 1.0)


def weighted_sse(sums: Sums, alpha: float) -> float:
    """``Σ (r − α c)²`` from totals of :func:`residual_sums`."""
    rr, rc, cc, _ = (float(v) for v in sums)
    return rr - 2 * alpha * rc + alpha**2 * cc


def half_totals(sums: Sums, later: np.ndarray) -> Sums:
    """Totals of per-window sums over the earlier and the later half: shape (2, 4)."""
    later = np.asarray(later, dtype=bool)
    return np.stack([sums[~later].sum(0), sums[later].sum(0)])


def checked_weight(halves: Sums, alpha_max: float, check: bool = True) -> WeightFit:
    """The weight from the halves' totals (:func:`half_totals`), kept only if the weight
    fitted on each half lowers the error of the other (with ``check``)."""
    alpha, _ = best_weight(halves.sum(0), alpha_max)
    fits = [best_weight(h, alpha_max)[0] for h in halves]
    # each half forecast with the weight fitted on the other half
    gains = [
        weighted_sse(halves[i], fits[1 - i]) / float(halves[i][0]) - 1.0
        if float(halves[i][0]) > 0
        else 0.0
        for i in (0, 1)
    ]
    accepted = all(g < 0 for g in gains) or not check
    return WeightFit(
        alpha=alpha if accepted else 0.0,
        alpha_halves=(fits[0], fits[1]),
        gain_halves=(gains[0], gains[1]),
        accepted=accepted,
    )


def second_wins_both_halves(alpha_halves: tuple[float, float] | list[float]) -> bool:
    """Whether the second forecast of a combination alone has the lower error on both
    halves, from the weights fitted on each (``WeightFit.alpha_halves``): a half's error
    of ``(1 − w)·first + w·second`` is a parabola in ``w`` with its minimum at the weight
    fitted on that half, so ``w = 1`` beats ``w = 0`` exactly when that weight exceeds
    1/2."""
    return all(w > 0.5 for w in alpha_halves)


def mse(forecast: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error over the known targets (NaN when none is known)."""
    error = np.asarray(forecast, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    known = ~np.isnan(error)
    return float(np.mean(error[known] ** 2)) if known.any() else float("nan")


def decide(
    target: np.ndarray,
    later: np.ndarray,
    *,
    linear: np.ndarray | None = None,
    correction: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
    check: bool = True,
    combine: bool = True,
    alpha_max: float = ALPHA_MAX,
) -> Decision:
    """The default's decision from the candidates' point forecasts of the validation
    windows.

    Parameters
    ----------
    target : array (windows, horizon)
        The validation targets; NaN where missing.
    later : array of bool (windows,)
        Whether each window's origin lies in the later half of its series' windows.
    linear, correction : array (windows, horizon), optional
        The ridge-started candidate's linear part and encoder correction (its forecast
        is ``linear + α · correction``).
    scratch : array (windows, horizon), optional
        The point forecast of the networks trained from scratch.
    check : bool
        Cross-fit both weights and the choice (see the module's description); ``False``
        keeps the in-sample weights and the candidate with the lower validation MSE.
    combine : bool
        Consider the combination of the two candidates.
    alpha_max : float
        The largest weight of the correction.

    Returns
    -------
    Decision
    """
    if linear is None and scratch is None:
        raise ValueError("decide needs the forecasts of at least one candidate")
    if (linear is None) != (correction is None):
        raise ValueError("the ridge-started candidate needs both linear and correction")
    target = np.asarray(target, dtype=np.float64)
    if scratch is not None and linear is None:
        return Decision("none", scores={"none": mse(scratch, target)})
    blend_sums = half_totals(residual_sums(target - linear, correction), later)
    blend = checked_weight(blend_sums, alpha_max, check)
    ridge = np.asarray(linear, dtype=np.float64) + blend.alpha * np.asarray(correction)
    scores = {"ridge": mse(ridge, target)}
    if scratch is None:
        return Decision("ridge", blend=blend, scores=scores)
    scores["none"] = mse(scratch, target)
    combination = None
    if combine:
        sums = half_totals(residual_sums(target - ridge, scratch - ridge), later)
        combination = checked_weight(sums, 1.0, check)
        w = combination.alpha
        if 0.0 < w < 1.0:
            scores["combined"] = mse((1.0 - w) * ridge + w * scratch, target)
            return Decision("combined", blend, combination, scores)
    if combination is not None and check:
        # leaving the linear start takes the evidence the check asks for: both halves
        kept = "none" if second_wins_both_halves(combination.alpha_halves) else "ridge"
    else:
        kept = min(("ridge", "none"), key=scores.get)
    return Decision(kept, blend, combination, scores)
