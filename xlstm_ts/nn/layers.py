"""Small layers shared by the xLSTM blocks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

DENSE_GROUP_SIZE = 8
"""Largest group size for which :class:`HeadwiseLinear` multiplies by the dense
block-diagonal matrix: measured on the CPU (forward + backward, 16,384 steps, 64 and 128
features), 4 × 4 groups run up to 2 × faster that way, 8 × 8 groups as fast or faster,
16 × 16 groups faster as per-group products."""


class HeadwiseLinear(nn.Module):
    """Block-diagonal linear map: each group of ``features // num_groups`` maps on its own."""

    STEP_ROWS = 16
    """Inputs of at most this many rows take the small-input path (same map)."""

    def __init__(self, features: int, num_groups: int, bias: bool = False) -> None:
        super().__init__()
        if features % num_groups:
            raise ValueError(f"features={features} is not divisible by num_groups={num_groups}")
        self.num_groups = num_groups
        size = features // num_groups
        self.weight = nn.Parameter(torch.empty(num_groups, size, size))
        self.bias = nn.Parameter(torch.zeros(features)) if bias else None
        nn.init.normal_(self.weight, std=math.sqrt(2 / (5 * size)))

    def dense_weight(self) -> Tensor:
        """The map as one block-diagonal ``(features, features)`` matrix: ``y = x @ W``."""
        return torch.block_diag(*self.weight)

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        if x.numel() <= self.STEP_ROWS * shape[-1]:
            # a few rows (a streaming step): one batched matmul over the groups is several
            # times cheaper than einsum's set-up
            x = x.reshape(*shape[:-1], self.num_groups, 1, shape[-1] // self.num_groups)
            y = torch.matmul(x, self.weight).reshape(shape)
        elif self.weight.shape[-1] <= DENSE_GROUP_SIZE:
            # one dense product beats many tiny per-group ones (and their layout copies)
            # although most of its entries are zeros: exact zeros, the same sums
            y = x @ self.dense_weight()
        else:
            x = x.reshape(*shape[:-1], self.num_groups, -1)
            y = torch.einsum("...hd,hde->...he", x, self.weight).reshape(shape)
        return y if self.bias is None else y + self.bias


class MultiHeadNorm(nn.Module):
    """Layer norm within each head (a group norm over heads) with a learnable scale."""

    def __init__(self, num_heads: int, head_dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_heads, self.head_dim, self.eps = num_heads, head_dim, eps
        self.weight = nn.Parameter(torch.ones(num_heads * head_dim))

    def forward(self, x: Tensor) -> Tensor:
        """``x``: (..., NH, DH) → (..., NH * DH)."""
        y = F.layer_norm(x, (self.head_dim,), eps=self.eps)
        return y.flatten(-2) * self.weight


class GatedMLP(nn.Module):
    """Gated feed-forward layer (GELU gate) with hidden size ``factor × features``."""

    def __init__(self, features: int, factor: float = 4 / 3, dropout: float = 0.0) -> None:
        super().__init__()
        hidden = 8 * math.ceil(factor * features / 8)
        self.up = nn.Linear(features, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, features, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        gate, up = self.up(x).chunk(2, dim=-1)
        return self.dropout(self.down(F.gelu(gate) * up))


def forget_bias_init(num_heads: int, low: float = 3.0, high: float = 6.0) -> Tensor:
    """Forget-gate biases spread over heads so that memory is long at initialisation."""
    return torch.linspace(low, high, num_heads) if num_heads > 1 else torch.tensor([low])


def block_diagonal(weight: Tensor) -> Tensor:
    """The dense ``(features, features)`` matrix (for ``F.linear``) of a
    :class:`HeadwiseLinear` weight ``(num_groups, size, size)``."""
    return torch.block_diag(*weight.transpose(1, 2))


class StepWeights:
    """Tensors derived from parameters for the one-step (streaming) path, rebuilt when
    any of those parameters changes: updated in place (its version), replaced or moved
    (another tensor or another storage).

    ``build`` maps the parameters (after any ``context`` given to :meth:`get`) to the
    derived tensors; it runs without autograd, so the derived tensors serve inference
    only (callers use them when gradients are off).
    """

    def __init__(self, build: Any) -> None:
        self.build = build
        self.key: list[tuple[Tensor, int, int]] = []
        self.value: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # copies and pickles start with an empty cache: the derived values may hold what
        # does not copy (addresses, C functions) and are rebuilt on first use anyway
        return {"build": self.build, "key": [], "value": None}

    def get(self, params: Sequence[Tensor], *context: Any) -> Any:
        """The derived tensors for ``params`` (cached); ``context`` (e.g. the modules that
        hold them) goes to ``build`` first."""
        key = self.key
        fresh = len(key) == len(params) and all(
            k[0] is p and k[1] == p._version and k[2] == p.data_ptr()
            for k, p in zip(key, params, strict=True)
        )
        if not fresh:
            with torch.no_grad():
                self.value = self.build(*context, *params)
            # holding the parameters keeps their identities from being reused
            self.key = [(p, p._version, p.data_ptr()) for p in params]
        return self.value
