"""Baseline forecasters: seasonal naive, ridge (NLinear-style), DLinear and ETS."""

from .dlinear import DLinearNet, fit_dlinear
from .ets import ETSOrigins
from .ridge import RidgeNLinear, WindowSource
from .seasonal import season_length, seasonal_naive

__all__ = [
    "DLinearNet",
    "ETSOrigins",
    "RidgeNLinear",
    "WindowSource",
    "fit_dlinear",
    "season_length",
    "seasonal_naive",
]
