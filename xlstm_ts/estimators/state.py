"""What a forecaster learns, in one object that ``fit`` replaces and ``save`` writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from xlstm_ts.data import Panel
from xlstm_ts.nn import ForecastCombination, XLSTMForecastNet


@dataclass
class ForecasterState:
    """The fitted state of an :class:`~xlstm_ts.estimators.XLSTMForecaster`.

    Attributes
    ----------
    network : XLSTMForecastNet or ForecastCombination
        The trained network (on the CPU, in evaluation mode): one network, or the
        weighted combination of the two candidates of ``linear_path="auto"``.
    network_config : dict
        The keyword arguments that build ``network`` (JSON values), so that a saved
        network is rebuilt without the estimator; a combination's holds its members'
        configurations (``"members"``) and their shared sizes.
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
    linear_path : bool, "ridge" or "combined"
        The linear path the network was trained with (the one chosen by
        ``linear_path="auto"``; ``"combined"``: both candidates, weighted).
    candidate_scores : dict or None
        ``linear_path="auto"`` only: validation MSE of the point forecast of each
        candidate, ``"ridge"`` (the ridge-started correction) and ``"none"`` (no linear
        path), and of their combination (``"combined"``) when it was kept.
    combination : dict or None
        ``linear_path="auto"`` only: the weight of the candidate without linear path in
        the combination of the two and its cross-fitted check
        (:class:`~xlstm_ts.training.blend.BlendFit` as a dict, ``alpha`` the weight).
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
    combination: dict[str, Any] | None = None

    @property
    def quantile_levels(self) -> list[float]:
        """Quantile levels of the network's outputs, increasing."""
        return list(self.network_config["quantiles"])

    @property
    def point_index(self) -> int:
        """Position of the median, the point forecast, among the outputs."""
        return self.quantile_levels.index(0.5)

    @classmethod
    def build_network(cls, config: dict[str, Any]) -> nn.Module:
        """An untrained network from ``network_config``."""
        if "members" in config:  # weights are restored with the members' parameters
            return ForecastCombination([cls.build_network(c) for c in config["members"]])
        return XLSTMForecastNet(**{**config, "slstm_at": tuple(config["slstm_at"])})

    @classmethod
    def combined(cls, first: ForecasterState, second: ForecasterState, fit: dict[str, Any],
                 scores: dict[str, float]) -> ForecasterState:  # fmt: skip
        """``first`` and ``second`` weighted ``1 − w`` and ``w`` (``w = fit["alpha"]``)."""
        w = float(fit["alpha"])
        config = {key: first.network_config[key] for key in _SHARED}
        return cls(
            network=ForecastCombination([first.network, second.network], [1.0 - w, w]).eval(),
            network_config={**config, "members": [first.network_config, second.network_config]},
            panel=first.panel,
            n_epochs=first.n_epochs + second.n_epochs,
            best_val_loss=scores.get("combined"),
            ridge_lambda=first.ridge_lambda,
            blend_alpha=first.blend_alpha,
            blend_check=first.blend_check,
            linear_path="combined",
            candidate_scores=scores,
            combination=fit,
        )

    @classmethod
    def ensemble(cls, members: list[ForecasterState]) -> ForecasterState:
        """The equal-weight average of ``members``, networks trained alike with other
        seeds (``best_val_loss`` is left to the caller; each member keeps its own blend)."""
        first = members[0]
        config = {key: first.network_config[key] for key in _SHARED}
        return cls(
            network=ForecastCombination([m.network for m in members]).eval(),
            network_config={**config, "members": [m.network_config for m in members]},
            panel=first.panel,
            n_epochs=sum(m.n_epochs for m in members),
            best_val_loss=None,
            linear_path=first.linear_path,
        )


_SHARED = ("context_length", "horizon", "quantiles", "n_covariates", "n_future")
"""Network settings that the members of a combination share (read by ``save``/``load``)."""
