"""The sLSTM cell, one module per form.

- :mod:`.naive`: the reference loop in plain autograd.
- :mod:`.fused_recurrent_numpy`: the fused recurrent form for CPU tensors, with a
  hand-written backward pass; its step loops run in C (:mod:`.fused_recurrent_c`) where
  a C compiler is found, in NumPy otherwise.
- :mod:`.fused_recurrent_triton`: the fused recurrent Triton kernels, imported on demand.
- :mod:`.step_torch`: one recurrent step, for streaming.
"""

from .common import SLSTMState, empty_state
from .fused_recurrent_numpy import slstm_fused
from .naive import slstm_recurrent
from .step_torch import slstm_step

__all__ = ["SLSTMState", "empty_state", "slstm_fused", "slstm_recurrent", "slstm_step"]
