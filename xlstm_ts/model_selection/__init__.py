"""Living inside scikit-learn: time-series cross-validation, scorers, backtests and
conformal intervals for the forecasters.

Above the estimators in the layers: everything here works with any forecaster of
:mod:`xlstm_ts.estimators` (or a pipeline ending in one) through its public methods.
"""

from ._frames import forecast
from .backtest import BacktestResult, backtest
from .conformal import ConformalForecaster
from .evaluation import forecast_metrics, metrics_table
from .scoring import (
    SCORERS,
    ForecastScorer,
    forecast_scorers,
    get_forecast_scorer,
    make_forecast_scorer,
)
from .split import TimeSeriesSplitter
from .target import TransformedTargetForecaster

__all__ = [
    "SCORERS",
    "BacktestResult",
    "ConformalForecaster",
    "ForecastScorer",
    "TimeSeriesSplitter",
    "TransformedTargetForecaster",
    "backtest",
    "forecast",
    "forecast_metrics",
    "forecast_scorers",
    "get_forecast_scorer",
    "make_forecast_scorer",
    "metrics_table",
]
