"""Training the networks of :class:`~xlstm_ts.estimators.XLSTMForecaster`: one candidate
for a given linear path, and the choice of ``linear_path="auto"`` between two."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, replace
from typing import Any

from xlstm_ts.data import Panel, Windows
from xlstm_ts.jsonable import jsonable
from xlstm_ts.nn import ForecastCombination

from .state import ForecasterState


def fit_auto(
    est: Any, panel: Panel, train: Windows, val: Windows, levels: list[float]
) -> ForecasterState:
    """Train the ridge-started candidate and the one without linear path, then keep
    their combination if it passes the cross-fitted check on the validation windows
    (:func:`~xlstm_ts.training.fit_combination`), else one candidate: with
    ``blend_check``, the network without linear path only if its point forecast has the
    lower error on both halves of the validation windows, otherwise the one with the
    lower validation MSE (the ridge start without validation windows)."""
    from xlstm_ts.training import fit_combination, second_wins_both_halves, validation_mse

    if len(val) == 0:  # nothing to decide on: the linear start
        return fit_network(est, "ridge", panel, train, val, levels)
    point, candidates, scores = levels.index(0.5), {}, {}
    for start, name in (("ridge", "ridge"), (False, "none")):
        _say(est, f"linear_path='auto': candidate {name!r}")
        state = candidates[name] = fit_network(est, start, panel, train, val, levels)
        # a seed ensemble's best_val_loss is this validation MSE already (fit_network)
        ensemble = isinstance(state.network, ForecastCombination)
        scores[name] = (
            state.best_val_loss if ensemble else validation_mse(state.network, val, point)
        )
    ridge, none = candidates["ridge"], candidates["none"]
    fit = None
    if est.combine:  # as saved (JSON lists), so that a loaded model reports the same
        fit = jsonable(asdict(fit_combination(ridge.network, none.network, val, point,
                                              cross_check=est.blend_check)))  # fmt: skip
    if fit is not None and 0.0 < fit["alpha"] < 1.0:
        state = ForecasterState.combined(ridge, none, fit, scores)  # holds `scores` itself
        scores["combined"] = state.best_val_loss = validation_mse(state.network, val, point)
        _say(est, f"linear_path='auto': kept the combination, weight {fit['alpha']:.3g} on "
                  f"'none' (validation MSE {_scores(scores)})")  # fmt: skip
        return state
    if fit is not None and est.blend_check:
        # leaving the linear start takes the evidence the checks ask for: both halves
        best = "none" if second_wins_both_halves(fit["alpha_halves"]) else "ridge"
    else:
        best = min(scores, key=scores.get)
    _say(est, f"linear_path='auto': kept {best!r} (validation MSE {_scores(scores)})")
    return replace(candidates[best], candidate_scores=scores, combination=fit)


def _scores(scores: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.6g}" for name, value in scores.items())


def _say(est: Any, message: str) -> None:
    if est.verbose:
        print(message, file=sys.stderr, flush=True)


def fit_network(
    est: Any,
    linear_path: bool | str,
    panel: Panel,
    train: Windows,
    val: Windows,
    levels: list[float],
) -> ForecasterState:
    """Train the network of ``est`` with ``linear_path`` (``True``, ``False`` or
    ``"ridge"``): one network when it starts from the ridge solution (the same start
    whatever the seed) or ``n_models == 1``, else a seed ensemble of ``n_models``."""
    from xlstm_ts.training import validation_mse

    if linear_path == "ridge" or est.n_models == 1:
        return fit_candidate(est, linear_path, panel, train, val, levels)
    members = []
    for member in range(est.n_models):
        _say(est, f"seed ensemble: network {member + 1} of {est.n_models}")
        members.append(fit_candidate(est, linear_path, panel, train, val, levels, member))
    state = ForecasterState.ensemble(members)
    if len(val) > 0:  # the validation MSE of the averaged point forecast
        state.best_val_loss = validation_mse(state.network, val, levels.index(0.5))
    return state


def fit_candidate(
    est: Any,
    linear_path: bool | str,
    panel: Panel,
    train: Windows,
    val: Windows,
    levels: list[float],
    member: int = 0,
) -> ForecasterState:
    """Train one network of ``est`` with ``linear_path`` (``True``, ``False`` or
    ``"ridge"``); ``member`` numbers the networks of a seed ensemble (its seed is
    ``random_state + member``)."""
    from lightning.pytorch import seed_everything

    from xlstm_ts.training import (
        ForecastModule,
        WindowDataModule,
        fit_blend,
        fit_module,
        ridge_start,
    )

    seed = (0 if est.random_state is None else int(est.random_state)) + member
    seed_everything(seed, verbose=False)
    config = est._network_config(levels, bool(linear_path), len(panel.values))
    network = ForecasterState.build_network(config)
    ridge = linear_path == "ridge"
    start = ridge_start(network, train, val) if ridge else None
    if ridge and not est.train_linear_path:  # None: frozen at the ridge start
        network.linear_path.requires_grad_(False)
    blend = est.blend is not False and bool(linear_path) and len(val) > 0
    module = ForecastModule(
        network,
        levels,
        levels.index(0.5),
        loss=est.loss,
        learning_rate=est.learning_rate,
        weight_decay=est.weight_decay,
        lr_schedule=est.lr_schedule,
        blend=blend,
    )
    data = WindowDataModule(train, val, est.batch_size, est.windows_per_epoch, seed)
    checkpoint_dir = est.checkpoint_dir
    if checkpoint_dir is not None and est.linear_path == "auto":
        # each candidate of linear_path="auto" keeps its own checkpoints
        checkpoint_dir = os.path.join(checkpoint_dir, f"linear_path={linear_path}")
    if checkpoint_dir is not None and est.n_models > 1 and linear_path != "ridge":
        checkpoint_dir = os.path.join(checkpoint_dir, f"member={member}")  # and each member
    train_config = est._train_config(
        keep_start=ridge,
        monitor="val_blend" if blend else "val_loss",
        checkpoint_dir=checkpoint_dir,
        checkpoint_key=est._checkpoint_key(panel),
    )
    result = fit_module(module, data, train_config)
    mix = fit_blend(network, val, levels.index(0.5), cross_check=est.blend_check) if blend else None
    return ForecasterState(
        network=network.cpu().eval(),
        network_config=config,
        linear_path=linear_path,
        panel=panel,
        n_epochs=result.n_epochs,
        best_val_loss=result.best_val_loss,
        ridge_lambda=None if start is None else start.lam,
        blend_alpha=None if mix is None else mix.alpha,
        blend_check=None if mix is None else jsonable(asdict(mix)),
    )
