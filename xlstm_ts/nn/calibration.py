"""Quantile forecasts shifted by a calibration learned on held-out windows."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .forecast_net import InstanceNorm


class CalibratedQuantiles(nn.Module):
    """A forecasting network whose quantiles, sorted, are moved by ``shift[h, q]`` times
    the context's scale (its standard deviation, as the instance normalisation reads it)
    at horizon step ``h``.

    The shifts are conformal corrections fitted on held-out windows
    (:func:`xlstm_ts.training.quantile_shifts`): measured in each window's own scale,
    one set serves series of any level. The median's shift is 0, so the point forecast
    is the network's (the middle of its sorted quantiles, as ``predict`` reads it).

    Parameters
    ----------
    network : nn.Module
        Maps ``(context, covariates, future)`` to forecasts (B, horizon, quantiles).
    shift : Tensor
        (horizon, quantiles).
    """

    def __init__(self, network: nn.Module, shift: Tensor) -> None:
        super().__init__()
        self.network = network
        self.norm = InstanceNorm()
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float32).clone())

    def forward(self, context: Tensor, *inputs: Tensor | None) -> Tensor:
        scale = self.norm(context)[2]  # (B, 1)
        quantiles = self.network(context, *inputs).sort(dim=-1).values
        return quantiles + self.shift * scale[..., None]
