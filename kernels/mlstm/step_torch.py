"""The mLSTM cell for a single step: the recurrent form without its loop.

Streaming takes in one token at a time, where the per-call set-up of the loop forms
(dtype casts, a Python loop, stacking the outputs) costs more than the arithmetic. This
form does the same step with as few tensor operations as it can, and is plain autograd.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .common import MLSTMState, denominator, empty_state, state_dtype


def mlstm_step(
    q: Tensor, k: Tensor, v: Tensor, i: Tensor, f: Tensor, state: MLSTMState | None = None
) -> tuple[Tensor, MLSTMState]:
    """One step of the mLSTM cell; shapes as in :func:`xlstm_ts.kernels.mlstm` with
    ``S = 1``. Equals :func:`~.naive.mlstm_recurrent` on one step."""
    C, n, m = empty_state(q, v) if state is None else state
    dtype = state_dtype(q.dtype)
    # squeeze/unsqueeze rather than indexing: each index expression costs more than the
    # arithmetic on tensors this small
    q, k, v, i, f = (t.squeeze(2) if t.dtype == dtype else t.squeeze(2).to(dtype)
                     for t in (q, k, v, i, f))  # fmt: skip
    logf = F.logsigmoid(f)
    m_new = torch.maximum(logf + m, i)
    f_t = torch.exp(logf + m - m_new).unsqueeze(-1)
    # the input gate and the key's 1/√d scale folded into the key: one product less
    k = k * (torch.exp(i - m_new) * (1.0 / math.sqrt(q.shape[-1]))).unsqueeze(-1)
    C = torch.addcmul(C * f_t.unsqueeze(-1), k.unsqueeze(-1), v.unsqueeze(-2))
    n = torch.addcmul(k, f_t, n)
    num = torch.matmul(q.unsqueeze(-2), C).squeeze(-2)  # C_tᵀ q_t
    h = num / denominator((n * q).sum(-1), m_new).unsqueeze(-1)
    return h.unsqueeze(2), (C, n, m_new)
