"""The estimators: thin scikit-learn classes over the data adapters and the training."""

from .forecaster import XLSTMForecaster
from .regressor import XLSTMRegressor
from .state import ForecasterState
from .stateful import XLSTMStateForecaster
from .stream_state import StatefulState

__all__ = [
    "ForecasterState",
    "StatefulState",
    "XLSTMForecaster",
    "XLSTMRegressor",
    "XLSTMStateForecaster",
]
