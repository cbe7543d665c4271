"""The sLSTM block: post-up-projection, scalar memory with recurrent head mixing."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from xlstm_ts.kernels import SLSTMState, slstm

from .causal_conv import CausalConv1d
from .layers import (
    GatedMLP,
    HeadwiseLinear,
    MultiHeadNorm,
    StepWeights,
    block_diagonal,
    forget_bias_init,
)

SLSTMBlockState = tuple[Tensor, SLSTMState]
"""Convolution state and cell state ``(h, c, n, m)``."""


class SLSTMBlock(nn.Module):
    """Residual sLSTM block: ``x + cell(norm(x))``, then ``x + mlp(norm(x))``.

    The input and forget gates see the input through a causal convolution, the cell and
    output gates see it directly; each gate is a per-head linear map. Heads mix their own
    units through the block-diagonal recurrent matrix ``R``. The cell's per-head normalised
    output is followed by a gated MLP of factor 4/3 (the post-up-projection).

    Parameters
    ----------
    d_model : int
        Width of the residual stream and of the cell.
    num_heads : int
        Heads of the cell; ``d_model`` must divide by it.
    conv_kernel : int
        Width of the causal convolution (0 turns it off).
    mlp_factor : float
        Hidden size of the gated MLP relative to ``d_model``.
    dropout : float
        Dropout on the cell's and the MLP's outputs.
    backend
        Passed to :func:`xlstm_ts.kernels.slstm`.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int = 4,
        conv_kernel: int = 4,
        mlp_factor: float = 4 / 3,
        dropout: float = 0.0,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        self.num_heads, self.head_dim, self.backend = num_heads, d_model // num_heads, backend
        self.norm = nn.LayerNorm(d_model)
        self.conv = CausalConv1d(d_model, conv_kernel) if conv_kernel > 0 else None
        self.gates = nn.ModuleList(HeadwiseLinear(d_model, num_heads) for _ in range(4))
        self.bias = nn.Parameter(torch.zeros(4, num_heads, self.head_dim))
        self.R = nn.Parameter(torch.zeros(num_heads, 4, self.head_dim, self.head_dim))
        self.out_norm = MultiHeadNorm(num_heads, self.head_dim)
        self.dropout = nn.Dropout(dropout)
        self.mlp_norm = nn.LayerNorm(d_model)
        self.mlp = GatedMLP(d_model, mlp_factor, dropout)
        with torch.no_grad():
            self.bias[1] = forget_bias_init(num_heads)[:, None]
        self._step_weights = StepWeights(_fused_gates)

    def forward(
        self, x: Tensor, state: SLSTMBlockState | None = None
    ) -> tuple[Tensor, SLSTMBlockState]:
        """``x``: (B, S, d_model) → same shape, and the state after the last step."""
        conv_state, cell_state = (None, None) if state is None else state
        B, S, D = x.shape
        u = self.norm(x)
        if self.conv is not None:
            u_conv, conv_state = self.conv(u, conv_state)
            u_conv = F.silu(u_conv)
        else:
            u_conv, conv_state = u, u.new_zeros(B, 0, D)
        # gate order i, f, z, o: i and f see the convolved input
        if S == 1 and not torch.is_grad_enabled():
            # one step (streaming): the four per-head maps and the bias as one product
            params = [g.weight for g in self.gates] + [self.bias]
            weight, bias = self._step_weights.get(params)
            gates_x = F.linear(torch.cat([u_conv, u], dim=-1), weight, bias)
            gates_x = gates_x.view(B, S, 4, self.num_heads, self.head_dim)
        else:
            sources = (u_conv, u_conv, u, u)
            gates_x = torch.stack([g(s) for g, s in zip(self.gates, sources, strict=True)], 2)
            gates_x = gates_x.view(B, S, 4, self.num_heads, self.head_dim) + self.bias
        h, cell_state = slstm(gates_x, self.R, cell_state, backend=self.backend)
        x = x + self.dropout(self.out_norm(h))
        x = x + self.mlp(self.mlp_norm(x))
        return x, (conv_state, cell_state)


def _fused_gates(
    wi: Tensor, wf: Tensor, wz: Tensor, wo: Tensor, bias: Tensor
) -> tuple[Tensor, Tensor]:
    """One matrix and bias mapping ``[u_conv, u]`` to the four gates' inputs (i and f
    from ``u_conv``, z and o from ``u``)."""
    di, df, dz, do = (block_diagonal(w) for w in (wi, wf, wz, wo))
    zero = torch.zeros_like(di)
    rows = [torch.cat(pair, 1) for pair in ((di, zero), (df, zero), (zero, dz), (zero, do))]
    return torch.cat(rows), bias.flatten()
