"""The blend ``linear + α · correction``: the weight α of the encoder's correction that
minimises the squared error of the point forecast on validation windows, in closed form.

With ``r = target − linear`` and ``c`` the correction of the point forecast, the error
``Σ (r − α c)²`` is smallest at ``α = Σ rc / Σ cc``, clipped to ``[0, alpha_max]``. At
``α = 0`` the forecast is the linear part alone, so a blended model is never worse than
its linear part on the windows that chose α.
"""

from __future__ import annotations

import torch
from torch import Tensor

from xlstm_ts.data import Windows


def blend_sums(network, inputs: tuple[Tensor, ...], target: Tensor, point: int) -> Tensor:
    """``(Σ rr, Σ rc, Σ cc, n)`` of one batch, float64, missing targets left out."""
    linear, correction = network.forward_parts(*inputs)
    r = (target - linear).double()
    c = correction[..., point].double()
    known = ~torch.isnan(r)
    r, c = torch.where(known, r, 0.0), torch.where(known, c, 0.0)
    return torch.stack([(r * r).sum(), (r * c).sum(), (c * c).sum(), known.sum().double()])


def blend_weight(sums: Tensor, alpha_max: float) -> tuple[float, float]:
    """The best weight and the blended MSE from :func:`blend_sums` totals."""
    rr, rc, cc, n = (float(v) for v in sums)
    alpha = min(max(rc / cc, 0.0), alpha_max) if cc > 0 else 0.0
    return alpha, (rr - 2 * alpha * rc + alpha**2 * cc) / max(n, 1.0)


@torch.no_grad()
def fit_blend(
    network, windows: Windows, point: int, alpha_max: float = 2.0, batch_size: int = 1024
) -> float:
    """Choose α on ``windows``, store it in ``network.correction_scale`` and return it."""
    network.eval()
    sums = torch.zeros(4, dtype=torch.float64)
    for *inputs, target in windows.batches(batch_size):
        sums += blend_sums(network, tuple(inputs), target, point)
    alpha, _ = blend_weight(sums, alpha_max)
    network.correction_scale.fill_(alpha)
    return alpha
