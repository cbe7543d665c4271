"""The sLSTM cell: torch reference (a loop over time).

The fused recurrent Triton kernels live in :mod:`.triton_fused`, imported on demand.
"""

from .naive import SLSTMState, empty_state, slstm_recurrent

__all__ = ["SLSTMState", "empty_state", "slstm_recurrent"]
