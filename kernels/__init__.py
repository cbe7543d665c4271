"""The sLSTM and mLSTM cell computations, one entry point per cell.

Each cell has a pure-torch reference (always available, differentiable, any device) and
room for faster backends next to it. ``backend="auto"`` picks the fastest backend that
supports the input's device; ``"torch"`` forces the reference.
"""

from .dispatch import mlstm, slstm
from .mlstm import MLSTMState
from .slstm import SLSTMState

__all__ = ["MLSTMState", "SLSTMState", "mlstm", "slstm"]
