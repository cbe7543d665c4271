"""xlstm_ts: time-series forecasting with xLSTM."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["XLSTMForecaster", "XLSTMStateForecaster", "__version__"]

if TYPE_CHECKING:
    from .estimators import XLSTMForecaster, XLSTMStateForecaster


def __getattr__(name: str) -> Any:
    # imported on first use, so that light sub-packages (datasets) stay light
    if name == "XLSTMForecaster":
        from .estimators import XLSTMForecaster

        return XLSTMForecaster
    if name == "XLSTMStateForecaster":
        from .estimators import XLSTMStateForecaster

        return XLSTMStateForecaster
    raise AttributeError(f"module 'xlstm_ts' has no attribute {name!r}")
