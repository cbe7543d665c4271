"""The mLSTM cell, one module per form.

- :mod:`.naive`: the plain-autograd references (recurrent loop, parallel, chunkwise).
- :mod:`.chunk_torch`: the chunkwise form with a hand-written backward pass (the torch
  backend's default).
- :mod:`.chunk_triton`: the chunkwise Triton kernels, imported on demand.
- :mod:`.step_torch`: one recurrent step, for streaming.
"""

from .chunk_torch import mlstm_chunkwise
from .common import MLSTMState, empty_state
from .naive import mlstm_chunkwise_autograd, mlstm_parallel, mlstm_recurrent
from .step_torch import mlstm_step

__all__ = [
    "MLSTMState",
    "empty_state",
    "mlstm_chunkwise",
    "mlstm_chunkwise_autograd",
    "mlstm_parallel",
    "mlstm_recurrent",
    "mlstm_step",
]
