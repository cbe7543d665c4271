"""Data adapters: pandas frames to per-series arrays and back, and windows over arrays.

Nothing here knows the network or the training loop.
"""

from .csv import FLAG_NAMES, Table, check_future, read_csv, read_future, read_table
from .forecast_frame import (
    forecast_columns,
    forecast_to_long,
    forecasts_to_frame,
    frame_levels,
    frame_to_forecasts,
    quantile_column,
    quantile_level,
)
from .frames import Panel, frame_to_panel, future_covariate_values
from .frequency import future_index, infer_freq, same_freq
from .mixing import other_series, relative_order, with_other_series
from .scaling import magnitude_scale, scaled, unit_scale
from .windows import Windows, final_windows, split_starts, train_val_windows

__all__ = [
    "FLAG_NAMES",
    "Table",
    "check_future",
    "Panel",
    "Windows",
    "final_windows",
    "forecast_columns",
    "forecast_to_long",
    "forecasts_to_frame",
    "frame_levels",
    "frame_to_forecasts",
    "frame_to_panel",
    "future_covariate_values",
    "future_index",
    "infer_freq",
    "magnitude_scale",
    "other_series",
    "quantile_column",
    "quantile_level",
    "read_csv",
    "read_future",
    "read_table",
    "relative_order",
    "same_freq",
    "scaled",
    "unit_scale",
    "split_starts",
    "train_val_windows",
    "with_other_series",
]
