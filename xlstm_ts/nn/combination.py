"""A weighted combination of forecasting networks that read the same inputs."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class ForecastCombination(nn.Module):
    """``Σ_k w_k · f_k``: the weighted sum of the members' forecasts.

    Every member maps the same inputs to forecasts of the same shape (as
    :class:`~xlstm_ts.nn.XLSTMForecastNet` does). The weights are a buffer, saved with
    the members' parameters. Each quantile is combined with the same weights, so
    non-negative weights keep ordered quantiles ordered.

    Parameters
    ----------
    members : sequence of nn.Module
        The networks combined.
    weights : sequence of float, optional
        One per member; default equal weights.
    """

    def __init__(self, members: Sequence[nn.Module], weights: Sequence[float] | None = None):
        super().__init__()
        if not members:
            raise ValueError("a combination needs at least one member")
        w = [1.0 / len(members)] * len(members) if weights is None else list(weights)
        if len(w) != len(members):
            raise ValueError(f"{len(members)} members but {len(w)} weights")
        self.members = nn.ModuleList(members)
        self.register_buffer("weights", torch.tensor(w, dtype=torch.float32))

    def forward(self, *inputs: Tensor | None) -> Tensor:
        """The members' forecasts from the same ``inputs``, combined."""
        out = 0.0
        for w, member in zip(self.weights, self.members, strict=True):
            if float(w) != 0.0:  # a member without weight is not run
                out = out + w * member(*inputs)
        if isinstance(out, float):  # all weights zero
            return 0.0 * self.members[0](*inputs)
        return out
