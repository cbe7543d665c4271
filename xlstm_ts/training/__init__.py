"""Training with Lightning: the LightningModule, the DataModule, the run, the ridge start."""

from .blend_monitor import BlendMonitor
from .calibration import conformal_shifts, quantile_shifts
from .covariate_scaling import covariate_scaling
from .datamodule import WindowDataModule
from .decision import Decision, WeightFit, decide
from .environment import quiet_lightning, torch_threads
from .faults import NonFiniteGuard, NonFiniteLossError
from .forecasts import forecast_parts, later_half, point_forecasts, targets
from .module import ForecastModule
from .progress import EpochSummary
from .ridge_start import ridge_start
from .run import FitResult, TrainConfig, fit_module

__all__ = [
    "BlendMonitor",
    "Decision",
    "EpochSummary",
    "FitResult",
    "NonFiniteGuard",
    "NonFiniteLossError",
    "ForecastModule",
    "TrainConfig",
    "WindowDataModule",
    "WeightFit",
    "conformal_shifts",
    "covariate_scaling",
    "decide",
    "forecast_parts",
    "fit_module",
    "quiet_lightning",
    "ridge_start",
    "later_half",
    "point_forecasts",
    "quantile_shifts",
    "targets",
    "torch_threads",
]
