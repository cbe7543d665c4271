"""The sLSTM cell: torch reference (a loop over time)."""

from .naive import SLSTMState, empty_state, slstm_recurrent

__all__ = ["SLSTMState", "empty_state", "slstm_recurrent"]
