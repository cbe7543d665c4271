"""The stateful forecaster: a forecast that depends on each series' whole history through
the encoder's state, trained over consecutive segments by truncated backpropagation
through time, and updated with new steps in O(new steps).

- :mod:`.forecaster`: :class:`XLSTMStatefulForecaster`, the estimator.
- :mod:`.fitted`: :class:`StatefulForecasterState`, what ``fit`` learns and ``update``
  moves forward, and each series' fixed normalisation.
- :mod:`.inference`: moving the series' states forward, forecasting from them.
- :mod:`.update`: ``update``'s checks (gap, overlap, frequency) and the new fitted state.
- :mod:`.persistence`: the saved format, the states beside the weights.
- :mod:`.net`: :class:`StatefulForecastNet`, the network; :mod:`.carried`: the state it
  carries (:data:`CarriedState`); :mod:`.step_numpy` and :mod:`.step_c` (with
  ``step_c.c``): one patch through its encoder at inference, in NumPy or C.
- :mod:`.datamodule`: :class:`Segments`, :class:`SegmentSchedule`,
  :class:`SegmentDataModule`, the training data; :mod:`.module`:
  :class:`StatefulForecastModule`, the LightningModule.

The training's classes are imported on first use, so that forecasting with a loaded
model does not import Lightning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .carried import CarriedState
from .fitted import StatefulForecasterState
from .forecaster import XLSTMStatefulForecaster
from .net import StatefulForecastNet

if TYPE_CHECKING:
    from .datamodule import SegmentDataModule, Segments, SegmentSchedule
    from .module import StatefulForecastModule

__all__ = [
    "CarriedState",
    "SegmentDataModule",
    "SegmentSchedule",
    "Segments",
    "StatefulForecastModule",
    "StatefulForecastNet",
    "StatefulForecasterState",
    "XLSTMStatefulForecaster",
]

_TRAINING = {
    "SegmentDataModule": "datamodule",
    "SegmentSchedule": "datamodule",
    "Segments": "datamodule",
    "StatefulForecastModule": "module",
}


def __getattr__(name: str) -> Any:
    if name in _TRAINING:
        from importlib import import_module

        return getattr(import_module(f".{_TRAINING[name]}", __name__), name)
    raise AttributeError(f"module 'xlstm_ts.stateful' has no attribute {name!r}")
