"""The networks :class:`~xlstm_ts.estimators.XLSTMForecaster` trains for its
``linear_path``, and the model it keeps (:func:`~xlstm_ts.training.decide` chooses)."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from xlstm_ts.data import Panel, Windows
from xlstm_ts.jsonable import jsonable
from xlstm_ts.nn import CalibratedQuantiles, ForecastCombination

from .state import ForecasterState

SCRATCH_ENSEMBLE = 3
"""Networks trained from scratch and averaged (a seed ensemble): one training run leaves a
variance that three runs lower; chosen in a nested study on validation data."""


@dataclass(frozen=True)
class TrainingPlan:
    """How each network of a fit is built and trained.

    ``network``: the keyword arguments of :class:`~xlstm_ts.nn.XLSTMForecastNet` but
    ``linear_path``; ``run``: the Lightning run's settings
    (:class:`~xlstm_ts.training.TrainConfig`), whose ``checkpoint_dir`` each network
    gets a subfolder of; ``seed``: the first network's seed (the others count up).
    """

    network: dict[str, Any]
    loss: str
    learning_rate: float
    weight_decay: float
    batch_size: int
    windows_per_epoch: int | None
    seed: int
    run: Any

    @property
    def levels(self) -> list[float]:
        return list(self.network["quantiles"])

    @property
    def point(self) -> int:
        return self.levels.index(0.5)


@dataclass(frozen=True)
class Trained:
    """A trained network (or several, combined), with what rebuilds it and the epochs each
    of its networks trained."""

    network: nn.Module
    config: dict[str, Any]
    n_epochs: list[int]
    ridge_lambda: float | None = None


def fit_candidates(
    plan: TrainingPlan, linear_path: str, panel: Panel, train: Windows, val: Windows
) -> ForecasterState:
    """Train the candidates of ``linear_path`` (``"auto"``, ``"ridge"`` or ``"none"``)
    and keep what the decision on the validation windows chooses."""
    from xlstm_ts.training import (
        decide,
        forecast_parts,
        later_half,
        point_forecasts,
        quantile_shifts,
        targets,
    )

    if linear_path == "auto" and len(val) == 0:  # nothing to decide on: the linear start
        linear_path = "ridge"
    both = linear_path == "auto"
    ridge = scratch = None
    if linear_path in ("auto", "ridge"):
        _say(plan, "training the ridge-started network")
        ridge = train_network(plan, True, train, val, 0, "ridge" if both else None)
    if linear_path in ("auto", "none"):
        members = []
        for k in range(SCRATCH_ENSEMBLE):
            _say(plan, f"training network {k + 1} of {SCRATCH_ENSEMBLE} from scratch")
            folder = os.path.join("none", f"member={k}") if both else f"member={k}"
            members.append(train_network(plan, False, train, val, k, folder))
        scratch = _ensemble(members)
    decision = None
    if len(val) > 0:
        point, parts = plan.point, {}
        if ridge is not None:
            parts["linear"], parts["correction"] = forecast_parts(ridge.network, val, point)
        if scratch is not None:
            parts["scratch"] = point_forecasts(scratch.network, val, point)
        decision = decide(targets(val), later_half(val), **parts)
        if decision.blend is not None:
            ridge.network.correction_scale.fill_(decision.blend.alpha)
        _say(plan, f"kept {decision.kept!r} (validation MSE {_scores(decision.scores)})")
    kept = decision.kept if decision else "ridge" if ridge else "none"
    if kept == "combined":
        w = decision.combination.alpha
        model = Trained(
            network=ForecastCombination([ridge.network, scratch.network], [1 - w, w]),
            config=_combined_config([ridge.config, scratch.config]),
            n_epochs=ridge.n_epochs + scratch.n_epochs,
        )
    else:
        model = ridge if kept == "ridge" else scratch
    if decision is not None and len(plan.levels) > 1:  # quantiles calibrated on validation
        shift = quantile_shifts(model.network, val, plan.levels)
        model = replace(
            model,
            network=CalibratedQuantiles(model.network, torch.from_numpy(shift)),
            config={**_shared(model.config), "calibrated": model.config},
        )
    return ForecasterState(
        network=model.network.eval(),
        network_config=model.config,
        panel=panel,
        n_epochs=model.n_epochs,
        best_val_loss=decision.score if decision else None,
        ridge_lambda=ridge.ridge_lambda if ridge else None,
        linear_path=kept,
        decision=jsonable(asdict(decision)) if decision else None,
    )


def _ensemble(members: list[Trained]) -> Trained:
    """The equal-weight average of networks trained alike with other seeds."""
    return Trained(
        network=ForecastCombination([m.network for m in members]).eval(),
        config=_combined_config([m.config for m in members]),
        n_epochs=[epochs for m in members for epochs in m.n_epochs],
    )


def _combined_config(members: list[dict[str, Any]]) -> dict[str, Any]:
    """The configuration of a combination: the members' shared sizes and their own."""
    return {**_shared(members[0]), "members": members}


def _shared(config: dict[str, Any]) -> dict[str, Any]:
    """The sizes that save and load read from a network's configuration."""
    return {key: config[key] for key in ForecasterState.SHARED}


def train_network(
    plan: TrainingPlan,
    ridge_start: bool,
    train: Windows,
    val: Windows,
    member: int,
    folder: str | None,
) -> Trained:
    """Train one network: started from the ridge solution (its linear path frozen there,
    epochs compared by the blend of its correction) or from scratch. ``member`` offsets
    the seed; ``folder``, the subfolder of the plan's ``checkpoint_dir``."""
    from lightning.pytorch import seed_everything

    from xlstm_ts.training import (
        BlendMonitor,
        ForecastModule,
        WindowDataModule,
        covariate_scaling,
        fit_module,
    )
    from xlstm_ts.training import ridge_start as fit_ridge_start

    seed = plan.seed + member
    seed_everything(seed, verbose=False)
    config = {**plan.network, "linear_path": ridge_start}
    network = ForecasterState.build_network(config)
    if network.covariate_center is not None:  # the covariates' scale: from training rows
        network.set_covariate_scaling(*covariate_scaling(train, skip=network.n_mixed))
    start = None
    if ridge_start:
        start = fit_ridge_start(network, train, val)
        for path in (network.linear_path, network.linear_future):  # the encoder learns a
            if path is not None:  # correction to the linear path
                path.requires_grad_(False)
    module = ForecastModule(
        network,
        plan.levels,
        plan.point,
        loss=plan.loss,
        learning_rate=plan.learning_rate,
        weight_decay=plan.weight_decay,
    )
    data = WindowDataModule(train, val, plan.batch_size, plan.windows_per_epoch, seed)
    run = plan.run
    if run.checkpoint_dir is not None and folder is not None:
        run = replace(run, checkpoint_dir=os.path.join(run.checkpoint_dir, folder))
    if ridge_start and len(val) > 0:
        run = replace(run, keep_start=True, monitor="val_blend",
                      callbacks=(*run.callbacks, BlendMonitor(plan.point)))  # fmt: skip
    result = fit_module(module, data, run)
    return Trained(
        network=network.cpu().eval(),
        config=config,
        n_epochs=[result.n_epochs],
        ridge_lambda=None if start is None else start.lam,
    )


def _scores(scores: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.6g}" for name, value in scores.items())


def _say(plan: TrainingPlan, message: str) -> None:
    if plan.run.verbose:
        print(message, file=sys.stderr, flush=True)
