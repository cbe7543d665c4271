"""The sLSTM and mLSTM cell computations, one entry point per cell.

Each cell has a pure-torch reference (always available, differentiable, any device) and a
Triton backend (``mlstm/chunk_triton.py``, ``slstm/fused_recurrent_triton.py``, imported on first
use so that this package imports without Triton). ``backend="auto"`` picks Triton for
CUDA tensors and the reference elsewhere; ``"torch"`` and ``"triton"`` force one.
"""

from .dispatch import mlstm, slstm
from .mlstm import MLSTMState
from .slstm import SLSTMState

__all__ = ["MLSTMState", "SLSTMState", "mlstm", "slstm"]
