"""Training with Lightning."""

from .module import ForecastModule

__all__ = ["ForecastModule"]
