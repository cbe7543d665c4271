"""Depthwise causal convolution over time, as shifted multiply-adds in the ``(B, S, C)``
layout.

A depthwise convolution of a few taps is a handful of passes over the input. Written as
shifted multiply-adds on the time-major layout the blocks use, it needs neither the
channel-major copies that ``conv1d`` works on nor the padded concatenation, and its
backward is the same few passes (plus one dot product per tap for the weights), several
times cheaper than ``conv1d``'s backward on long sequences.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class _ShiftConvFn(torch.autograd.Function):
    """``y_t = b + Σ_j w_j x_{t-j}`` over ``x`` (B, S, C) preceded by ``state`` (B, K-1, C).

    ``w`` is ``(K, C)`` with ``w_j`` the tap of lag ``j`` (``w_0`` multiplies the current
    step); lags reaching before ``x`` read the state.
    """

    @staticmethod
    def forward(ctx, x: Tensor, state: Tensor, w: Tensor, b: Tensor) -> Tensor:  # noqa: D102
        K, S = w.shape[0], x.shape[1]
        y = torch.addcmul(b, x, w[0])
        for j in range(1, K):
            n = min(j, S)  # leading steps whose lag-j input lies in the state
            y[:, j:].addcmul_(x[:, : S - n], w[j])
            y[:, :n].addcmul_(state[:, K - 1 - j : K - 1 - j + n], w[j])
        ctx.save_for_backward(x, state, w)
        return y

    @staticmethod
    def backward(ctx, dy: Tensor) -> tuple[Tensor, ...]:  # noqa: D102
        x, state, w = ctx.saved_tensors
        K, S, C = w.shape[0], x.shape[1], x.shape[2]
        dy = dy.contiguous()
        dx = dy * w[0]
        dstate = torch.zeros_like(state)
        dw = torch.empty_like(w)
        dw[0] = torch.linalg.vecdot(x.reshape(-1, C), dy.reshape(-1, C), dim=0)
        for j in range(1, K):
            n = min(j, S)
            dx[:, : S - n].addcmul_(dy[:, j:], w[j])
            past = state[:, K - 1 - j : K - 1 - j + n]
            dstate[:, K - 1 - j : K - 1 - j + n].addcmul_(dy[:, :n], w[j])
            dw[j] = _dot(x[:, : S - n], dy[:, j:]) + _dot(past, dy[:, :n])
        return dx, dstate, dw, dy.sum((0, 1))


def _dot(a: Tensor, b: Tensor) -> Tensor:
    """``Σ_{batch, time} a ⊙ b`` per channel, for ``(B, T, C)`` inputs."""
    if a.shape[0] == 1:  # one sequence: a single dot product per channel, no temporary
        return torch.linalg.vecdot(a[0], b[0], dim=0)
    return (a * b).sum((0, 1))


class CausalConv1d(nn.Module):
    """Depthwise causal convolution over time that can continue from a state.

    The state is the last ``kernel_size - 1`` inputs, so a sequence processed in pieces
    gives the same outputs as in one pass. The parameters are those of a depthwise
    ``nn.Conv1d`` (``self.conv``), which also fixes the layout of saved weights.
    """

    def __init__(self, channels: int, kernel_size: int = 4) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv = nn.Conv1d(channels, channels, kernel_size, groups=channels)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``x``: (B, S, C); ``state``: (B, kernel_size - 1, C) or ``None`` (zeros).

        Returns the outputs (B, S, C) and the state after the last step.
        """
        K = self.kernel_size
        if state is None:
            state = x.new_zeros(x.shape[0], K - 1, x.shape[2])
        state = state.to(x.dtype)
        # conv1d's weight (C, 1, K) correlates: tap K - 1 - j multiplies lag j
        w = self.conv.weight[:, 0].flip(-1).t().to(x.dtype)  # (K, C), row j: lag j
        b = self.conv.bias.to(x.dtype)
        if x.shape[1] == 1:
            # one step (streaming): a weighted sum over the window; the autograd function's
            # set-up costs more than the arithmetic at this size
            padded = torch.cat([state, x], dim=1)
            y = (padded * w.flip(0)).sum(1, keepdim=True) + b
        else:
            y = _ShiftConvFn.apply(x.contiguous(), state.contiguous(), w.contiguous(), b)
        return y, _next_state(state, x, K - 1)


def _next_state(state: Tensor, x: Tensor, size: int) -> Tensor:
    """The last ``size`` inputs of the sequence ``state`` followed by ``x``."""
    if x.shape[1] >= size:
        return x[:, x.shape[1] - size :]
    return torch.cat([state, x], dim=1)[:, x.shape[1] :]
