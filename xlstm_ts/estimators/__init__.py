"""The estimators: thin scikit-learn classes over the data adapters and the training."""

from .forecaster import XLSTMForecaster
from .regressor import XLSTMRegressor
from .state import ForecasterState

__all__ = ["ForecasterState", "XLSTMForecaster", "XLSTMRegressor"]
