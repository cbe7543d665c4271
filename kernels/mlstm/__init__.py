"""The mLSTM cell in torch: references (recurrent, parallel, chunkwise with autograd) and
the chunkwise form with a hand-written backward pass (the default on CPU).

The chunkwise Triton kernels live in :mod:`.triton_chunk`, imported on demand.
"""

from .chunk import mlstm_chunkwise
from .common import MLSTMState, empty_state
from .naive import mlstm_chunkwise_autograd, mlstm_parallel, mlstm_recurrent
from .step import mlstm_step

__all__ = [
    "MLSTMState",
    "empty_state",
    "mlstm_chunkwise",
    "mlstm_chunkwise_autograd",
    "mlstm_parallel",
    "mlstm_recurrent",
    "mlstm_step",
]
