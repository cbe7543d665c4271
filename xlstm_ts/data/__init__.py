"""Data adapters: pandas frames to per-series arrays and back, and windows over arrays.

Nothing here knows the network or the training loop.
"""

from .csv import read_csv
from .frames import Panel, forecasts_to_frame, frame_to_panel, future_covariate_values
from .frequency import future_index, infer_freq, same_freq
from .mixing import other_series, relative_order, with_other_series
from .scaling import magnitude_scale, scaled, unit_scale
from .windows import Windows, final_windows, split_starts, train_val_windows

__all__ = [
    "Panel",
    "Windows",
    "final_windows",
    "forecasts_to_frame",
    "frame_to_panel",
    "future_covariate_values",
    "future_index",
    "infer_freq",
    "magnitude_scale",
    "other_series",
    "read_csv",
    "relative_order",
    "same_freq",
    "scaled",
    "unit_scale",
    "split_starts",
    "train_val_windows",
    "with_other_series",
]
