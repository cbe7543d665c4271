"""What a forecaster learns, in one object that ``fit`` replaces and ``save`` writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xlstm_ts.data import Panel
from xlstm_ts.nn import XLSTMForecastNet


@dataclass
class ForecasterState:
    """The fitted state of an :class:`~xlstm_ts.estimators.XLSTMForecaster`.

    Attributes
    ----------
    network : XLSTMForecastNet
        The trained network (on the CPU, in evaluation mode).
    network_config : dict
        The keyword arguments that build ``network`` (JSON values), so that a saved
        network is rebuilt without the estimator.
    panel : Panel
        The training series (after loading: their last ``context_length`` steps).
    n_epochs : int
        Epochs trained.
    best_val_loss : float or None
        Validation loss of the kept weights.
    ridge_lambda : float or None
        Relative penalty of the ridge start (``linear_path="ridge"`` only).
    blend_alpha : float or None
        Weight of the encoder's correction chosen on validation (``blend=True`` only; the
        network holds it as ``correction_scale``).
    linear_path : bool or "ridge"
        The linear path the network was trained with (the one chosen by
        ``linear_path="auto"``).
    candidate_scores : dict or None
        ``linear_path="auto"`` only: validation MSE of the point forecast of each
        candidate, ``"ridge"`` (the ridge-started correction) and ``"none"`` (no linear
        path); the lower one was kept.
    blend_check : dict or None
        The cross-fitted check of the correction on the two halves of the validation
        windows (:class:`~xlstm_ts.training.blend.BlendFit` as a dict: ``alpha_halves``,
        ``gain_halves``, ``accepted``), ``blend=True`` only.
    """

    network: XLSTMForecastNet
    network_config: dict[str, Any]
    panel: Panel
    n_epochs: int
    best_val_loss: float | None
    ridge_lambda: float | None = None
    blend_alpha: float | None = None
    blend_check: dict[str, Any] | None = None
    linear_path: bool | str | None = None
    candidate_scores: dict[str, float] | None = None

    @property
    def quantile_levels(self) -> list[float]:
        """Quantile levels of the network's outputs, increasing."""
        return list(self.network_config["quantiles"])

    @property
    def point_index(self) -> int:
        """Position of the median, the point forecast, among the outputs."""
        return self.quantile_levels.index(0.5)

    @classmethod
    def build_network(cls, config: dict[str, Any]) -> XLSTMForecastNet:
        """An untrained network from ``network_config``."""
        return XLSTMForecastNet(**{**config, "slstm_at": tuple(config["slstm_at"])})
