"""Training with Lightning: the LightningModule, the DataModule, the run, the ridge start."""

from .datamodule import WindowDataModule
from .module import ForecastModule
from .ridge_start import ridge_start
from .run import FitResult, TrainConfig, fit_module

__all__ = [
    "FitResult",
    "ForecastModule",
    "TrainConfig",
    "WindowDataModule",
    "fit_module",
    "ridge_start",
]
