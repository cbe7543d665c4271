"""The mLSTM block: pre-up-projection, matrix memory."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from xlstm_ts.kernels import MLSTMState, mlstm

from .causal_conv import CausalConv1d
from .layers import (
    HeadwiseLinear,
    MultiHeadNorm,
    StepWeights,
    block_diagonal,
    forget_bias_init,
)

MLSTMBlockState = tuple[Tensor, MLSTMState]
"""Convolution state and cell memory ``(C, n, m)``."""


class MLSTMBlock(nn.Module):
    """Residual mLSTM block: ``x + layer(norm(x))``.

    The layer projects up by ``proj_factor``, feeds q and k through a causal depthwise
    convolution, runs the mLSTM cell per head, normalises each head, adds the
    convolution's output scaled by a learnable per-channel gain (``conv_skip``), gates
    with ``silu(z)`` and projects back down.

    Parameters
    ----------
    d_model : int
        Width of the residual stream.
    num_heads : int
        Heads of the cell; ``proj_factor * d_model`` must divide by it.
    proj_factor : float
        Up-projection factor (2 in the xLSTM paper).
    conv_kernel : int
        Width of the causal convolution.
    qkv_block_size : int
        Block size of the block-diagonal q, k, v projections.
    dropout : float
        Dropout on the block's output.
    mode, chunk_size, backend
        Passed to :func:`xlstm_ts.kernels.mlstm`.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int = 4,
        proj_factor: float = 2.0,
        conv_kernel: int = 4,
        qkv_block_size: int = 4,
        dropout: float = 0.0,
        mode: str = "chunkwise",
        chunk_size: int = 64,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        inner = int(round(proj_factor * d_model))
        if inner % num_heads:
            raise ValueError(
                f"proj_factor * d_model = {inner} must be divisible by num_heads={num_heads}"
            )
        if inner % qkv_block_size:
            raise ValueError(f"inner width {inner} must be divisible by qkv_block_size")
        self.num_heads, self.mode, self.chunk_size, self.backend = (
            num_heads,
            mode,
            chunk_size,
            backend,
        )
        self.norm = nn.LayerNorm(d_model)
        self.up = nn.Linear(d_model, 2 * inner, bias=False)
        self.conv = CausalConv1d(inner, conv_kernel)
        self.q = HeadwiseLinear(inner, inner // qkv_block_size)
        self.k = HeadwiseLinear(inner, inner // qkv_block_size)
        self.v = HeadwiseLinear(inner, inner // qkv_block_size)
        self.igate = nn.Linear(3 * inner, num_heads)
        self.fgate = nn.Linear(3 * inner, num_heads)
        self.out_norm = MultiHeadNorm(num_heads, inner // num_heads)
        self.conv_skip = nn.Parameter(torch.ones(inner))
        self.down = nn.Linear(inner, d_model, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.reset_gates()
        self._step_weights = StepWeights(_fused_projections)

    def reset_gates(self) -> None:
        """Gates start from their biases: long memory, small input gates."""
        nn.init.zeros_(self.igate.weight)
        nn.init.normal_(self.igate.bias, std=0.1)
        nn.init.zeros_(self.fgate.weight)
        with torch.no_grad():
            self.fgate.bias.copy_(forget_bias_init(self.num_heads))

    def _projections(self, x_conv: Tensor, x_m: Tensor) -> tuple[Tensor, ...]:
        """``q, k`` from ``x_conv``, ``v`` from ``x_m``, and the gates ``i, f`` from all three.

        Returns ``q, k, v`` as ``(B, NH, S, DH)``, the layout of the cell, and ``i, f`` as
        ``(B, S, NH)``. The gates are linear in ``[q, k, v]``, so their weights are folded
        into those of the head-wise maps: no ``[q, k, v]`` concatenation and no product of
        the full width for the gates. When the head-wise groups lie inside the heads, each
        head's ``q, k, v`` are one product of the head's slice of the input with that head's
        block of the map (a quarter of the work of the full block-diagonal product for four
        heads). The same parameters and maths as ``igate(cat(q, k, v))``.
        """
        B, S, inner = x_conv.shape
        NH = self.num_heads
        DH = inner // NH
        Wq, Wk, Wv = (m.dense_weight() for m in (self.q, self.k, self.v))
        gw = torch.cat([self.igate.weight, self.fgate.weight])  # (2 NH, 3 inner)
        gq, gk, gv = gw.split(inner, 1)  # (2 NH, inner) each
        bias = torch.cat([self.igate.bias, self.fgate.bias])
        if DH % self.q.weight.shape[-1] == 0:
            # F.linear with (out, in) weights: the weight's gradient is then the product
            # (2 NH × S)·(S × inner), several times faster than (inner × S)·(S × 2 NH)
            gates = F.linear(x_conv, gq @ Wq.t() + gk @ Wk.t(), bias) + F.linear(x_m, gv @ Wv.t())
            # the diagonal (DH × DH) blocks of the block-diagonal maps, (NH, DH, DH)
            Hq, Hk, Hv = (W.view(NH, DH, NH, DH).diagonal(dim1=0, dim2=2).permute(2, 0, 1)
                          for W in (Wq, Wk, Wv))  # fmt: skip
            q, k, v = _per_head(x_conv, Hq), _per_head(x_conv, Hk), _per_head(x_m, Hv)
        else:
            # split, not slices: the backward of a split is one concatenation, that of a
            # slice a zero-filled tensor of the full size per slice
            q, k, gqk = (x_conv @ torch.cat([Wq, Wk, Wq @ gq.t() + Wk @ gk.t()], 1)).split(
                [inner, inner, 2 * NH], -1
            )
            v, gv = (x_m @ torch.cat([Wv, Wv @ gv.t()], 1)).split([inner, 2 * NH], -1)
            gates = gqk + gv + bias
            q, k, v = (t.view(B, S, NH, DH).transpose(1, 2) for t in (q, k, v))
        i, f = gates.split(NH, -1)
        return q, k, v, i, f

    def forward(
        self, x: Tensor, state: MLSTMBlockState | None = None
    ) -> tuple[Tensor, MLSTMBlockState]:
        """``x``: (B, S, d_model) → same shape, and the state after the last step."""
        conv_state, cell_state = (None, None) if state is None else state
        B, S, _ = x.shape
        if S == 1 and not torch.is_grad_enabled():
            return self._step(x, conv_state, cell_state)
        inner = self.down.in_features
        # the two halves of the up-projection as two products: contiguous x_m and z
        x_n = self.norm(x)
        x_m, z = (F.linear(x_n, w) for w in self.up.weight.split(inner))
        x_conv, conv_state = self.conv(x_m, conv_state)
        x_conv = F.silu(x_conv)
        q, k, v, i, f = self._projections(x_conv, x_m)

        h, cell_state = mlstm(
            q,
            k,
            v,
            i.transpose(1, 2),
            f.transpose(1, 2),
            cell_state,
            mode="recurrent" if S == 1 else self.mode,
            chunk_size=self.chunk_size,
            backend=self.backend,
        )
        h = self.out_norm(h.transpose(1, 2)) + self.conv_skip * x_conv
        y = self.dropout(self.down(h * F.silu(z)))
        return x + y, (conv_state, cell_state)

    def _step(
        self, x: Tensor, conv_state: Tensor | None, cell_state: MLSTMState | None
    ) -> tuple[Tensor, MLSTMBlockState]:
        """One step without autograd (streaming): the same map as :meth:`forward`, with
        the q, k, v projections and both gates fused into one matrix product."""
        B, NH = x.shape[0], self.num_heads
        inner = self.down.in_features
        weight, bias = self._step_weights.get(
            (self.q.weight, self.k.weight, self.v.weight, self.igate.weight,
             self.igate.bias, self.fgate.weight, self.fgate.bias)
        )  # fmt: skip
        x_m, z = self.up(self.norm(x)).chunk(2, dim=-1)  # (B, 1, inner) each
        x_conv, conv_state = self.conv(x_m, conv_state)
        x_conv = F.silu(x_conv)
        out = F.linear(torch.cat([x_conv, x_m], dim=-1), weight, bias)
        q, k, v, i, f = out.split([inner, inner, inner, NH, NH], dim=-1)
        h, cell_state = mlstm(
            q.view(B, NH, 1, -1), k.view(B, NH, 1, -1), v.view(B, NH, 1, -1),
            i.view(B, NH, 1), f.view(B, NH, 1), cell_state, mode="recurrent",
            backend=self.backend,
        )  # fmt: skip
        h = self.out_norm(h.view(B, 1, NH, -1)) + self.conv_skip * x_conv
        y = self.dropout(self.down(h * F.silu(z)))
        return x + y, (conv_state, cell_state)


def _per_head(x: Tensor, blocks: Tensor) -> Tensor:
    """``x`` (B, S, NH·DH) times each head's block of ``blocks`` (NH, DH, DH), as
    (B, NH, S, DH): one product per head over all steps of the batch (a broadcast
    product per batch row and head is several times slower, backward included)."""
    B, S, _ = x.shape
    NH, DH, _ = blocks.shape
    out = torch.bmm(x.reshape(B * S, NH, DH).transpose(0, 1), blocks)  # (NH, B·S, DH)
    return out.view(NH, B, S, DH).transpose(0, 1)


def _fused_projections(*params: Tensor) -> tuple[Tensor, Tensor]:
    """One matrix and bias mapping ``[x_conv, x_m]`` to ``[q, k, v, ĩ, f̃]``: the
    block-diagonal q, k (from ``x_conv``) and v (from ``x_m``), and both gates (linear
    in q, k, v), folded in."""
    wq, wk, wv, wi, bi, wf, bf = params
    dq, dk, dv = block_diagonal(wq), block_diagonal(wk), block_diagonal(wv)
    zero = torch.zeros_like(dq)
    qkv = torch.cat([torch.cat([dq, zero], 1), torch.cat([dk, zero], 1), torch.cat([zero, dv], 1)])
    weight = torch.cat([qkv, torch.cat([wi, wf]) @ qkv])
    bias = torch.cat([qkv.new_zeros(len(qkv)), bi, bf])
    return weight, bias
