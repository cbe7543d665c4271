"""Chunkwise form of the mLSTM cell in torch: O(S·L) time, O(S) memory for chunk size L.

The sequence is cut into chunks of ``L`` steps. First the memory ``(C, n, m)`` entering each
chunk is found by a short recurrence over chunks; then every chunk's outputs are computed at
once, in parallel, from its entering memory and its own inputs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .common import MLSTMState, denominator, empty_state, state_dtype


def mlstm_chunkwise(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    i: Tensor,
    f: Tensor,
    state: MLSTMState | None = None,
    chunk_size: int = 64,
) -> tuple[Tensor, MLSTMState]:
    """mLSTM chunk by chunk. Shapes as in :func:`xlstm_ts.kernels.mlstm`."""
    C0, n0, m0 = empty_state(q, v) if state is None else state
    dtype = state_dtype(q.dtype)
    B, NH, S, DHQK = q.shape
    DHV = v.shape[-1]
    L = max(1, min(chunk_size, S))
    NC = -(-S // L)
    pad = NC * L - S
    scale = 1.0 / math.sqrt(DHQK)

    # Padded steps carry no input (ĩ = -inf) and no decay (logσ(f̃) = 0): they leave the
    # memory unchanged, so any S works.
    logf = F.pad(F.logsigmoid(f.to(dtype)), (0, pad), value=0.0)
    i = F.pad(i.to(dtype), (0, pad), value=float("-inf"))
    q, k, v = (F.pad(x.to(dtype), (0, 0, 0, pad)) for x in (q, k, v))
    k = k * scale
    q = q.view(B, NH, NC, L, DHQK)
    k = k.view(B, NH, NC, L, DHQK)
    v = v.view(B, NH, NC, L, DHV)
    logf = logf.view(B, NH, NC, L)
    i = i.view(B, NH, NC, L)

    b = torch.cumsum(logf, dim=-1)  # decay from the chunk start to step t (inclusive)
    g = b[..., -1]  # decay over the whole chunk

    # Each chunk's own contribution to its final memory, stabilised by its own maximum.
    log_a = g[..., None] - b + i
    m_local = log_a.amax(-1)
    w = torch.exp(log_a - m_local[..., None])
    C_local = torch.einsum("bhcs,bhcsd,bhcsv->bhcdv", w, k, v)
    n_local = torch.einsum("bhcs,bhcsd->bhcd", w, k)

    # Recurrence over chunks: the memory entering each chunk.
    C_in, n_in, m_in = [], [], []
    C, n, m = C0, n0, m0
    for c in range(NC):
        C_in.append(C)
        n_in.append(n)
        m_in.append(m)
        m_new = torch.maximum(g[..., c] + m, m_local[..., c])
        decay = torch.exp(g[..., c] + m - m_new)
        gain = torch.exp(m_local[..., c] - m_new)
        C = decay[..., None, None] * C + gain[..., None, None] * C_local[:, :, c]
        n = decay[..., None] * n + gain[..., None] * n_local[:, :, c]
        m = m_new
    C_in, n_in, m_in = torch.stack(C_in, 2), torch.stack(n_in, 2), torch.stack(m_in, 2)

    # Outputs of all chunks in parallel: intra-chunk attention plus the entering memory.
    causal = torch.ones(L, L, dtype=torch.bool, device=q.device).tril()
    log_d = (b[..., :, None] - b[..., None, :] + i[..., None, :]).masked_fill(
        ~causal, float("-inf")
    )
    log_init = b + m_in[..., None]
    m_t = torch.maximum(log_d.amax(-1), log_init)
    weights = torch.exp(log_d - m_t[..., None]) * (q @ k.transpose(-1, -2))
    w_init = torch.exp(log_init - m_t)
    num = weights @ v + w_init[..., None] * (q @ C_in)
    nq = weights.sum(-1) + w_init * (q @ n_in[..., None]).squeeze(-1)
    h = num / denominator(nq, m_t)[..., None]
    h = h.reshape(B, NH, NC * L, DHV)[:, :, :S]
    return h, (C, n, m)
