"""The mLSTM cell: torch reference forms (recurrent, parallel, chunkwise).

The chunkwise Triton kernels live in :mod:`.triton_chunk`, imported on demand.
"""

from .chunk import mlstm_chunkwise
from .common import MLSTMState, empty_state
from .naive import mlstm_parallel, mlstm_recurrent

__all__ = ["MLSTMState", "empty_state", "mlstm_chunkwise", "mlstm_parallel", "mlstm_recurrent"]
