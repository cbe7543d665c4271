"""xlstm_ts: time-series forecasting with xLSTM."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["XLSTMForecaster", "XLSTMRegressor", "XLSTMStatefulForecaster", "__version__"]

if TYPE_CHECKING:
    from .estimators import XLSTMForecaster, XLSTMRegressor
    from .stateful import XLSTMStatefulForecaster


def __getattr__(name: str) -> Any:
    # imported on first use, so that light sub-packages (datasets) stay light
    if name in ("XLSTMForecaster", "XLSTMRegressor"):
        from . import estimators

        return getattr(estimators, name)
    if name == "XLSTMStatefulForecaster":
        from . import stateful

        return stateful.XLSTMStatefulForecaster
    raise AttributeError(f"module 'xlstm_ts' has no attribute {name!r}")
