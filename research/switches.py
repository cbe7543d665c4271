"""The switches that ``XLSTMForecaster`` settled, for the studies that compared them.

The estimator keeps one setting of each (the encoder's head reads the last patch over
the whole context, no input noise, a seed ensemble of three networks from scratch, the
blend and the combination under the cross-fitted check); the studies that chose them
vary them through :class:`ResearchForecaster`, the estimator with these parameters more:

* ``head``, ``encoder_context``, ``input_noise``: options of
  :class:`~xlstm_ts.nn.XLSTMForecastNet`, added to the estimator's network configuration;
* ``n_models``: the networks trained from scratch and averaged
  (``xlstm_ts.estimators.candidates.SCRATCH_ENSEMBLE`` during the fit; ``None``: the
  library's);
* ``blend_check``, ``combine``: the ``check`` and ``combine`` of
  :func:`xlstm_ts.training.decide` during the fit.

:class:`ResearchModel` is the long-horizon protocol's ``XLSTMModel`` fitting a
:class:`ResearchForecaster`; :func:`benchmark_models` puts it in ``run_benchmark``'s
place of ``xlstm``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any
from unittest import mock

from xlstm_ts import XLSTMForecaster, training
from xlstm_ts.estimators import candidates
from xlstm_ts.ltsf import models
from xlstm_ts.nn import ForecastCombination

SWITCHES: dict[str, Any] = {
    "head": "last",
    "encoder_context": None,
    "input_noise": 0.0,
    "n_models": None,
    "blend_check": True,
    "combine": True,
}
"""The research parameters and their defaults (the estimator's settings)."""


class ResearchForecaster(XLSTMForecaster):
    """``XLSTMForecaster`` with the parameters of :data:`SWITCHES` (see the module's
    description); every other parameter is the estimator's."""

    def __init__(
        self,
        horizon: int = 24,
        context_length: int = 96,
        *,
        head: str = "last",
        encoder_context: int | None = None,
        input_noise: float = 0.0,
        n_models: int | None = None,
        blend_check: bool = True,
        combine: bool = True,
        **params: Any,
    ) -> None:
        super().__init__(horizon, context_length, **params)
        self.head = head
        self.encoder_context = encoder_context
        self.input_noise = input_noise
        self.n_models = n_models
        self.blend_check = blend_check
        self.combine = combine

    @classmethod
    def _get_param_names(cls) -> list[str]:
        # the estimator's parameters (passed on through **params) and the switches
        return sorted({*XLSTMForecaster._get_param_names(), *SWITCHES})

    def _network_config(
        self, quantile_levels: list[float], n_series: int, n_known: int = 0
    ) -> dict[str, Any]:
        return {
            **super()._network_config(quantile_levels, n_series, n_known),
            "head": self.head,
            "encoder_context": self.encoder_context,
            "input_noise": float(self.input_noise),
        }

    def _fit(self, X: Any, levels: list[float], checkpoint_dir: Any) -> Any:
        if self.n_models is not None and int(self.n_models) < 1:
            raise ValueError(f"n_models must be at least 1, got {self.n_models!r}")
        with contextlib.ExitStack() as patches:
            if self.n_models is not None:
                patches.enter_context(
                    mock.patch.object(candidates, "SCRATCH_ENSEMBLE", int(self.n_models))
                )
            if not (self.blend_check and self.combine):
                # fit_candidates imports training.decide when it runs
                decide = functools.partial(
                    training.decide, check=bool(self.blend_check), combine=bool(self.combine)
                )
                patches.enter_context(mock.patch.object(training, "decide", decide))
            return super()._fit(X, levels, checkpoint_dir)


class ResearchModel(models.XLSTMModel):
    """``xlstm_ts.ltsf.models.XLSTMModel`` fitting a :class:`ResearchForecaster`: the
    parameters may hold the switches. A study's ``trainer_kwargs`` complete the
    protocol's (no progress bars) instead of replacing them."""

    def __init__(self, **params: Any) -> None:
        if "trainer_kwargs" in params:
            trainer = {**models.QUIET["trainer_kwargs"], **params["trainer_kwargs"]}
            params = {**params, "trainer_kwargs": trainer}
        super().__init__(**params)

    def fit(self, data: Any, horizon: int, seed: int) -> dict[str, Any]:
        with mock.patch.object(models, "XLSTMForecaster", ResearchForecaster):
            return super().fit(data, horizon, seed)


@contextlib.contextmanager
def benchmark_models() -> Iterator[None]:
    """``run_benchmark``'s ``xlstm`` is a :class:`ResearchModel` within this context."""
    with mock.patch.dict(models.MODELS, xlstm=ResearchModel):
        yield


def single_network(network: Any) -> Any:
    """The network of a fit that trained one: a seed ensemble of one member (``n_models=1``)
    is that member (the same forecasts, its weight is 1)."""
    if isinstance(network, ForecastCombination):
        (network,) = network.members
    return network
