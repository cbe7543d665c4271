"""What a forecaster learns, in one object that ``fit`` replaces and ``save`` writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from xlstm_ts.data import Panel
from xlstm_ts.nn import CalibratedQuantiles, ForecastCombination, XLSTMForecastNet


@dataclass
class BaseForecasterState:
    """What every forecaster learns (see :class:`~xlstm_ts.estimators.base.BaseForecaster`).

    Attributes
    ----------
    network : nn.Module
        The trained network (on the CPU, in evaluation mode).
    network_config : dict
        The keyword arguments that build ``network`` (JSON values), so that a saved
        network is rebuilt without the estimator; it holds the quantile levels
        (``"quantiles"``).
    panel : Panel
        The series the model has seen (their ids, last timestamps and frequency, and as
        many of their last values as forecasting needs).
    n_epochs : list of int
        Epochs trained by each network of the model.
    best_val_loss : float or None
        Validation loss of the model (``None`` without validation data).
    """

    network: nn.Module
    network_config: dict[str, Any]
    panel: Panel
    n_epochs: list[int]
    best_val_loss: float | None

    @property
    def quantile_levels(self) -> list[float]:
        """Quantile levels of the network's outputs, increasing."""
        return list(self.network_config["quantiles"])

    @property
    def point_index(self) -> int:
        """Position of the median, the point forecast, among the outputs."""
        return self.quantile_levels.index(0.5)


@dataclass
class ForecasterState(BaseForecasterState):
    """The fitted state of an :class:`~xlstm_ts.estimators.XLSTMForecaster`.

    Attributes
    ----------
    network : XLSTMForecastNet or ForecastCombination
        The trained network (on the CPU, in evaluation mode): one network, or a
        weighted combination of networks (a seed ensemble, or the two candidates of
        ``linear_path="auto"``).
    network_config : dict
        The keyword arguments that build ``network`` (JSON values), so that a saved
        network is rebuilt without the estimator; a combination's holds its members'
        configurations (``"members"``) and their shared sizes.
    panel : Panel
        The training series (after loading: their last ``context_length`` steps).
    n_epochs : list of int
        Epochs trained by each network of the kept model.
    best_val_loss : float or None
        Validation loss of the kept model (:class:`~xlstm_ts.estimators.XLSTMForecaster`:
        the MSE of its point forecast, which the decision compared).
    ridge_lambda : float or None
        Relative penalty of the ridge start (when one was trained).
    linear_path : {"ridge", "none", "combined"} or None
        What :class:`~xlstm_ts.estimators.XLSTMForecaster` kept.
    decision : dict or None
        The decision on the validation windows (:class:`~xlstm_ts.training.Decision`
        as a dict).
    units : list of float
        Each training series' unit (:func:`~xlstm_ts.data.unit_scale` of its training
        part), in the order of ``panel.ids``: the network reads every series divided
        by it.
    static : dict or None
        The static covariates' encoding (:class:`~xlstm_ts.data.static.StaticEncoding`
        as a dict), when the model has static covariates.
    """

    ridge_lambda: float | None = None
    linear_path: str | None = None
    decision: dict[str, Any] | None = None
    units: list[float] = field(default_factory=list)
    static: dict[str, Any] | None = None

    SHARED: ClassVar[tuple[str, ...]] = (
        "context_length", "horizon", "quantiles", "n_covariates", "n_future",
    )  # fmt: skip
    """Network settings that the members of a combination share (read by ``save``/``load``)."""

    @classmethod
    def build_network(cls, config: dict[str, Any]) -> nn.Module:
        """An untrained network from ``network_config``."""
        if "members" in config:  # weights are restored with the members' parameters
            return ForecastCombination([cls.build_network(c) for c in config["members"]])
        if "calibrated" in config:  # the shifts too
            shape = (config["horizon"], len(config["quantiles"]))
            return CalibratedQuantiles(cls.build_network(config["calibrated"]), torch.zeros(shape))
        return XLSTMForecastNet(**{**config, "slstm_at": tuple(config["slstm_at"])})
