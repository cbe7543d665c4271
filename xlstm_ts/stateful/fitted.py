"""What a stateful forecaster learns and ``update`` moves forward, and the fixed
normalisation of each series.

A series is held as its fixed normalisation, the number of steps seen, its last
``window_len`` values and the encoder's state after its last complete patch: what a
forecast needs, and what new steps continue from, whatever the series' length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xlstm_ts.data import magnitude_scale
from xlstm_ts.estimators.state import BaseForecasterState

from .net import StatefulForecastNet


@dataclass
class StatefulForecasterState(BaseForecasterState):
    """The fitted state of an :class:`~xlstm_ts.stateful.XLSTMStatefulForecaster`.

    ``panel.values`` hold each series' last ``window_len`` values (not the whole series);
    ``panel.last_times`` the time of its last step.

    Attributes
    ----------
    mean, scale : ndarray of shape (n_series,)
        Each series' normalisation, fitted once on its training part (or on the first
        steps given for it, for a series added by ``update``) and fixed afterwards.
    lengths : list of int
        Steps seen of each series.
    states : list
        The encoder's state of each series after its last complete patch (batch 1).
    """

    mean: np.ndarray
    scale: np.ndarray
    lengths: list[int]
    states: list[Any]

    @classmethod
    def build_network(cls, config: dict[str, Any]) -> StatefulForecastNet:
        """An untrained network from ``network_config``."""
        return StatefulForecastNet(**{**config, "slstm_at": tuple(config["slstm_at"])})


def fit_normalisation(values: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale of each series (NaN ignored). A constant series gets the scale of its
    level (1 for zeros); magnitudes are taken out before squaring, so that neither huge
    (1e200) nor tiny (1e-300) series overflow or vanish."""
    mean, scale = [], []
    for v in values:
        v = np.asarray(v, dtype=np.float64)
        if not np.isfinite(v).any():
            mean.append(0.0)
            scale.append(1.0)
            continue
        s = magnitude_scale(v)  # a power of two, 1 for ordinary magnitudes: exact
        m, std = float(np.nanmean(v / s)) * s, float(np.nanstd(v / s)) * s
        mean.append(m)
        scale.append(std if std > 1e-12 * abs(m) else abs(m) if m else 1.0)
    return np.array(mean, dtype=np.float64), np.array(scale, dtype=np.float64)


def normalised(values: np.ndarray, mean: float, scale: float) -> np.ndarray:
    """``values`` on the network's scale, float32 (NaN stays NaN: read as the mean)."""
    return ((np.asarray(values, dtype=np.float64) - mean) / scale).astype(np.float32)
