"""The sLSTM cell: the reference loop and the fused recurrent form for CPU tensors.

The fused recurrent Triton kernels live in :mod:`.triton_fused`, imported on demand.
"""

from .common import SLSTMState, empty_state
from .fused_recurrent import slstm_fused
from .naive import slstm_recurrent
from .step import slstm_step

__all__ = ["SLSTMState", "empty_state", "slstm_fused", "slstm_recurrent", "slstm_step"]
