"""Training with Lightning: the LightningModule, the DataModule, the run, the ridge start."""

from .blend import fit_blend, fit_combination, second_wins_both_halves
from .datamodule import WindowDataModule
from .environment import quiet_lightning, torch_threads
from .faults import NonFiniteGuard, NonFiniteLossError
from .module import ForecastModule
from .progress import EpochSummary
from .ridge_start import ridge_start
from .run import FitResult, TrainConfig, fit_module
from .scoring import validation_mse
from .segments import SegmentDataModule, Segments, SegmentSchedule, StatefulForecastModule

__all__ = [
    "EpochSummary",
    "FitResult",
    "NonFiniteGuard",
    "NonFiniteLossError",
    "ForecastModule",
    "SegmentDataModule",
    "SegmentSchedule",
    "Segments",
    "StatefulForecastModule",
    "TrainConfig",
    "WindowDataModule",
    "fit_blend",
    "fit_combination",
    "fit_module",
    "quiet_lightning",
    "ridge_start",
    "second_wins_both_halves",
    "validation_mse",
    "torch_threads",
]
