"""The sLSTM cell for a single step: the reference loop's body, without the loop.

Streaming takes in one token at a time, where the set-up of the loop forms (the fused
form's NumPy buffers, the reference loop's stacking) costs more than the arithmetic.
Plain autograd.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .common import SLSTMState, empty_state


def slstm_step(
    gates_x: Tensor, R: Tensor, state: SLSTMState | None = None
) -> tuple[Tensor, SLSTMState]:
    """One step of the sLSTM cell; shapes as in :func:`xlstm_ts.kernels.slstm` with
    ``S = 1``. Equals :func:`~.naive.slstm_recurrent` on one step."""
    h, c, n, m = empty_state(gates_x) if state is None else state
    dtype = h.dtype
    gates_x = gates_x.squeeze(1) if gates_x.dtype == dtype else gates_x.squeeze(1).to(dtype)
    R = R if R.dtype == dtype else R.to(dtype)
    # heads mix only their own units: gate g of head j gets h[:, j] @ R[j, g]
    mixed = torch.matmul(h.unsqueeze(2).unsqueeze(2), R).squeeze(3)  # (B, NH, 4, DH)
    i_pre, f_pre, z_pre, o_pre = (gates_x + mixed.transpose(1, 2)).unbind(1)
    logf = F.logsigmoid(f_pre)
    m_new = torch.maximum(logf + m, i_pre)
    i_t = torch.exp(i_pre - m_new)
    f_t = torch.exp(logf + m - m_new)
    c = torch.addcmul(f_t * c, i_t, torch.tanh(z_pre))
    n = torch.addcmul(i_t, f_t, n)
    h = torch.sigmoid(o_pre) * c / n
    return h.unsqueeze(1), (h, c, n, m_new)
