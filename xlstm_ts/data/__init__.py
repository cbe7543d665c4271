"""Data adapters: pandas frames to per-series arrays and windows, and forecasts back."""

from .frames import (
    Panel,
    forecasts_to_frame,
    frame_to_panel,
    future_covariates,
    future_index,
)
from .windows import WindowDataModule, WindowDataset, split_starts

__all__ = [
    "Panel",
    "WindowDataModule",
    "WindowDataset",
    "forecasts_to_frame",
    "frame_to_panel",
    "future_covariates",
    "future_index",
    "split_starts",
]
