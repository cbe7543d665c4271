"""The training losses (torch): pinball and squared error, over non-missing targets."""

from __future__ import annotations

from collections.abc import Sequence

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
    mask = ~torch.isnan(target)
    # masked before squaring: the gradient of a squared NaN is NaN even where masked out
    return _masked_mean(torch.where(mask, pred - target, 0.0).square(), mask)


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    return torch.where(mask, values, 0.0).sum() / mask.sum().clamp(min=1)
