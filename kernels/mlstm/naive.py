"""Reference forms of the mLSTM cell: recurrent, parallel and chunkwise, all plain autograd.

They are written as directly from the cell equations as possible; they are the ground
truth that the fast forms (:mod:`.chunk_torch`, :mod:`.chunk_triton`, :mod:`.step_torch`)
are compared with. The chunkwise one here lets autograd record every per-chunk tensor;
:mod:`.chunk_torch` computes the same with a hand-written backward pass. The parallel
one is also what the dispatch runs for a chunkwise call of one chunk (short sequences),
where its plain autograd is the fastest torch form; the recurrent loop stays the
independent truth it is compared with.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .common import MLSTMState, denominator, empty_state, state_dtype


def mlstm_recurrent(
    q: Tensor, k: Tensor, v: Tensor, i: Tensor, f: Tensor, state: MLSTMState | None = None
) -> tuple[Tensor, MLSTMState]:
    """mLSTM one step at a time: O(S) sequential steps, O(1) memory per step.

    Shapes as in :func:`xlstm_ts.kernels.mlstm`.
    """
    C, n, m = empty_state(q, v) if state is None else state
    dtype = state_dtype(q.dtype)
    scale = 1.0 / math.sqrt(q.shape[-1])
    q, k, v, i = q.to(dtype), k.to(dtype) * scale, v.to(dtype), i.to(dtype)
    logf = F.logsigmoid(f.to(dtype))
    hs = []
    for t in range(q.shape[2]):
        m_new = torch.maximum(logf[:, :, t] + m, i[:, :, t])
        f_t = torch.exp(logf[:, :, t] + m - m_new)
        i_t = torch.exp(i[:, :, t] - m_new)
        k_t, v_t, q_t = k[:, :, t], v[:, :, t], q[:, :, t]
        C = f_t[..., None, None] * C + i_t[..., None, None] * (
            k_t[..., :, None] * v_t[..., None, :]
        )
        n = f_t[..., None] * n + i_t[..., None] * k_t
        m = m_new
        num = (q_t[..., None, :] @ C)[..., 0, :]  # C_tᵀ q_t, as one batched matmul
        nq = (n * q_t).sum(-1)
        hs.append(num / denominator(nq, m)[..., None])
    h = torch.stack(hs, dim=2)
    return h, (C, n, m)


def mlstm_parallel(
    q: Tensor, k: Tensor, v: Tensor, i: Tensor, f: Tensor, state: MLSTMState | None = None
) -> tuple[Tensor, MLSTMState]:
    """mLSTM over the whole sequence at once, like attention: O(S²) time and memory.

    Row ``t`` is stabilised by ``m_t``, the maximum of its log decay weights, which equals
    the recurrent stabiliser exactly. Shapes as in :func:`xlstm_ts.kernels.mlstm`.
    """
    dtype = state_dtype(q.dtype)
    S = q.shape[2]
    scale = 1.0 / math.sqrt(q.shape[-1])
    q, k, v, i = q.to(dtype), k.to(dtype) * scale, v.to(dtype), i.to(dtype)
    logf_cum = torch.cumsum(F.logsigmoid(f.to(dtype)), dim=-1)  # F_t = Σ_{r≤t} logσ(f̃_r)

    # log weight of input s in the memory at step t: F_t - F_s + ĩ_s (s ≤ t)
    causal = torch.ones(S, S, dtype=torch.bool, device=q.device).tril()
    log_d = logf_cum[..., :, None] - logf_cum[..., None, :] + i[..., None, :]
    log_d = log_d.masked_fill(~causal, float("-inf"))
    m = log_d.amax(-1)
    if state is not None:  # the initial memory enters step t with log weight F_t + m_0
        C0, n0, m0 = state
        log_init = logf_cum + m0[..., None]
        m = torch.maximum(m, log_init)

    weights = torch.exp(log_d - m[..., None]) * (q @ k.transpose(-1, -2))
    num, nq = weights @ v, weights.sum(-1)
    if state is not None:
        w_init = torch.exp(log_init - m)
        num = num + w_init[..., None] * (q @ C0)
        nq = nq + w_init * (q @ n0[..., None]).squeeze(-1)
    h = num / denominator(nq, m)[..., None]

    # final state: the last row of the same decay weights, applied to k vᵀ and k
    wk = torch.exp(log_d[..., -1, :] - m[..., -1:])[..., None] * k
    C, n = wk.transpose(-1, -2) @ v, wk.sum(-2)
    if state is not None:
        w0_last = torch.exp(log_init[..., -1] - m[..., -1])
        C, n = C + w0_last[..., None, None] * C0, n + w0_last[..., None] * n0
    return h, (C, n, m[..., -1])


def mlstm_chunkwise_autograd(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    i: Tensor,
    f: Tensor,
    state: MLSTMState | None = None,
    chunk_size: int = 64,
) -> tuple[Tensor, MLSTMState]:
    """mLSTM chunk by chunk, differentiated by autograd.

    Shapes as in :func:`xlstm_ts.kernels.mlstm`.
    """
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
