"""The estimators: thin scikit-learn classes over the data adapters and the training."""

from .forecaster import XLSTMForecaster
from .regressor import XLSTMRegressor
from .state import BaseForecasterState, ForecasterState

__all__ = [
    "BaseForecasterState",
    "ForecasterState",
    "XLSTMForecaster",
    "XLSTMRegressor",
]
