"""Reference form of the sLSTM cell: a loop over time in plain torch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .common import SLSTMState, empty_state


def slstm_recurrent(
    gates_x: Tensor, R: Tensor, state: SLSTMState | None = None
) -> tuple[Tensor, SLSTMState]:
    """sLSTM one step at a time. Shapes as in :func:`xlstm_ts.kernels.slstm`."""
    h, c, n, m = empty_state(gates_x) if state is None else state
    dtype = h.dtype
    gates_x, R = gates_x.to(dtype), R.to(dtype)
    hs = []
    for t in range(gates_x.shape[1]):
        # heads mix only their own units: gate g of head j gets h[:, j] @ R[j, g]
        mixed = (h[:, :, None, None, :] @ R)[..., 0, :]  # (B, NH, 4, DH): one matmul
        pre = gates_x[:, t] + mixed.transpose(1, 2)
        i_pre, f_pre, z_pre, o_pre = pre.unbind(1)
        logf = F.logsigmoid(f_pre)
        m_new = torch.maximum(logf + m, i_pre)
        i_t = torch.exp(i_pre - m_new)
        f_t = torch.exp(logf + m - m_new)
        c = f_t * c + i_t * torch.tanh(z_pre)
        n = f_t * n + i_t
        m = m_new
        h = torch.sigmoid(o_pre) * c / n
        hs.append(h)
    out = torch.stack(hs, dim=1)
    return out, (h, c, n, m)
