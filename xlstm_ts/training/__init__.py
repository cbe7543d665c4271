"""Training with Lightning."""

from .module import ForecastModule
from .ridge_init import ridge_init_skip

__all__ = ["ForecastModule", "ridge_init_skip"]
