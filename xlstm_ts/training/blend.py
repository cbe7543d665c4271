"""The blend ``linear + α · correction``: the weight α of the encoder's correction that
minimises the squared error of the point forecast on validation windows, in closed form.

With ``r = target − linear`` and ``c`` the correction of the point forecast, the error
``Σ (r − α c)²`` is smallest at ``α = Σ rc / Σ cc``, clipped to ``[0, alpha_max]``. At
``α = 0`` the forecast is the linear part alone, so a blended model is never worse than
its linear part on the windows that chose α.

That in-sample guarantee says nothing about later data: an α fitted to the validation
windows can scale up a correction that only matches a level shift of that period.
:func:`fit_blend` therefore also checks the correction *out of sample* within the
validation period. The windows of each series are cut into an earlier and a later half
(by forecast origin); α fitted on one half is scored on the other, both ways. The
correction is kept only if this cross-fitted blend beats the linear part on both halves;
otherwise α = 0 and the model forecasts with its linear part alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from xlstm_ts.data import Windows

ALPHA_MAX = 2.0
"""The largest blend weight of the ridge start's correction, by default (training's
``val_blend`` and :func:`fit_blend`)."""


def window_blend_sums(network, inputs: tuple[Tensor, ...], target: Tensor, point: int) -> Tensor:
    """``(Σ rr, Σ rc, Σ cc, n)`` of each window of a batch: shape (B, 4), float64."""
    return parts_blend_sums(*network.forward_parts(*inputs), target, point)


def parts_blend_sums(linear: Tensor, correction: Tensor, target: Tensor, point: int) -> Tensor:
    """:func:`window_blend_sums` from the network's two parts (``forward_parts``)."""
    r = (target - linear).double()
    c = correction[..., point].double()
    known = ~torch.isnan(r)
    r, c = torch.where(known, r, 0.0), torch.where(known, c, 0.0)
    return torch.stack([(r * r).sum(1), (r * c).sum(1), (c * c).sum(1), known.sum(1).double()], 1)


def blend_weight(sums: Tensor, alpha_max: float) -> tuple[float, float]:
    """The best weight and the blended MSE from totals of :func:`parts_blend_sums`."""
    rr, rc, cc, n = (float(v) for v in sums)
    alpha = min(max(rc / cc, 0.0), alpha_max) if cc > 0 else 0.0
    return alpha, blended_sse(sums, alpha) / max(n, 1.0)


def blended_sse(sums: Tensor, alpha: float) -> float:
    """``Σ (r − α c)²`` from totals of :func:`parts_blend_sums`."""
    rr, rc, cc, _ = (float(v) for v in sums)
    return rr - 2 * alpha * rc + alpha**2 * cc


@dataclass(frozen=True)
class BlendFit:
    """How the correction's weight was chosen on the validation windows.

    Attributes
    ----------
    alpha : float
        The weight kept: the in-sample optimum on all windows, or 0 when the
        cross-fitted check rejected the correction.
    alpha_halves : tuple of float
        The weights fitted on the earlier and on the later half of the windows.
    gain_halves : tuple of float
        Relative change of the squared error of each half when it is forecast with the
        weight fitted on the *other* half, against the linear part alone (negative:
        the correction helps out of sample).
    accepted : bool
        Whether both gains are negative (the correction is kept).
    """

    alpha: float
    alpha_halves: tuple[float, float]
    gain_halves: tuple[float, float]
    accepted: bool


def later_half(windows: Windows) -> np.ndarray:
    """For each window, whether its origin lies in the later half of its series' windows."""
    k, start = windows.locate(np.arange(len(windows)))
    return 2 * (start - windows.first[k]) >= windows.counts[k]


def half_sums(windows: Windows, parts, point: int, batch_size: int = 1024) -> Tensor:
    """Totals of :func:`parts_blend_sums` over the earlier and the later half of
    ``windows`` (shape (2, 4)); ``parts(*inputs)`` gives a batch's ``(linear,
    correction)``."""
    later = torch.from_numpy(later_half(windows))
    halves = torch.zeros(2, 4, dtype=torch.float64)
    for a in range(0, len(windows), batch_size):
        idx = np.arange(a, min(a + batch_size, len(windows)))
        *inputs, target = windows.batch(idx)
        per_window = parts_blend_sums(*parts(*inputs), target, point)
        halves.index_add_(0, later[idx].long(), per_window)
    return halves


def checked_weight(halves: Tensor, alpha_max: float, cross_check: bool = True) -> BlendFit:
    """The weight from the halves' totals (:func:`half_sums`), kept only if the weight
    fitted on each half lowers the error of the other (with ``cross_check``)."""
    alpha, _ = blend_weight(halves.sum(0), alpha_max)
    fits = [blend_weight(h, alpha_max)[0] for h in halves]
    # each half forecast with the weight fitted on the other half
    gains = [
        blended_sse(halves[i], fits[1 - i]) / float(halves[i][0]) - 1.0
        if float(halves[i][0]) > 0
        else 0.0
        for i in (0, 1)
    ]
    accepted = all(g < 0 for g in gains) or not cross_check
    return BlendFit(
        alpha=alpha if accepted else 0.0,
        alpha_halves=(fits[0], fits[1]),
        gain_halves=(gains[0], gains[1]),
        accepted=accepted,
    )


@torch.no_grad()
def fit_blend(
    network,
    windows: Windows,
    point: int,
    alpha_max: float = ALPHA_MAX,
    batch_size: int = 1024,
    cross_check: bool = True,
) -> BlendFit:
    """Choose α on ``windows`` and store it in ``network.correction_scale``.

    With ``cross_check`` the correction is kept only if it helps out of sample within
    ``windows`` (see the module's description); without it α is the in-sample optimum.
    """
    network.eval()
    halves = half_sums(windows, network.forward_parts, point, batch_size)
    result = checked_weight(halves, alpha_max, cross_check)
    network.correction_scale.fill_(result.alpha)
    return result


@torch.no_grad()
def fit_combination(
    first, second, windows: Windows, point: int, batch_size: int = 1024, cross_check: bool = True
) -> BlendFit:
    """The weight ``w ∈ [0, 1]`` of ``second`` in ``(1 − w)·first + w·second``.

    The blend of this module with ``first``'s point forecast as the linear part and
    ``second − first`` as the correction: ``w`` minimises the validation error of the
    point forecast, and with ``cross_check`` it is kept only if the weight fitted on each
    half of ``windows`` lowers the error of the other half (else ``w = 0``).
    """
    first.eval()
    second.eval()

    def parts(*inputs):
        a = first(*inputs)
        return a[..., point], second(*inputs) - a

    return checked_weight(half_sums(windows, parts, point, batch_size), 1.0, cross_check)


def second_wins_both_halves(alpha_halves: tuple[float, float] | list[float]) -> bool:
    """Whether the second member of a :func:`fit_combination` alone has the lower error
    on both halves, from the weights fitted on each (``BlendFit.alpha_halves``). A half's
    error of ``(1 − w)·first + w·second`` is a parabola in ``w`` with its minimum at the
    weight fitted on that half, so ``w = 1`` beats ``w = 0`` exactly when that weight
    exceeds 1/2."""
    return all(w > 0.5 for w in alpha_halves)
