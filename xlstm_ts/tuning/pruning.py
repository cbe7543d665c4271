"""Pruning from inside training: a Lightning callback that reports to an Optuna trial."""

from __future__ import annotations

from typing import Any

import lightning as L
import optuna
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn

EPOCHS_PER_NETWORK = 1_000
"""Step stride between the networks one fit trains (an ``XLSTMForecaster`` with
``linear_path="auto"`` trains four); epochs from this one on are not reported."""

NETWORKS_PER_FOLD = 10
"""Networks of one fit that get steps of their own; later ones are not reported."""

EPOCHS_PER_FOLD = EPOCHS_PER_NETWORK * NETWORKS_PER_FOLD
"""Step stride between folds: epoch ``e`` of network ``n`` of fold ``i`` is reported as
step ``i * EPOCHS_PER_FOLD + n * EPOCHS_PER_NETWORK + e``, so that every report of a
trial has a step of its own and trials are compared at the same fold, network and epoch."""


class OptunaPruning(Callback):
    """Report the validation loss after each training epoch; prune when Optuna says so.

    After every validation during ``fit`` the monitored metric goes to
    ``trial.report(value, step)``; if ``trial.should_prune()``, the callback raises
    :class:`optuna.TrialPruned`, which stops the training and marks the trial pruned.
    The step is ``step_offset + network * EPOCHS_PER_NETWORK + epoch``, where ``network``
    counts the trainings this callback has seen (an estimator's fit may train several
    networks in turn with the same callbacks), so no step is reported twice. Validation
    outside ``fit`` (such as the check of a ridge start) is not reported. With several
    training processes nothing is pruned (an exception on one rank would leave the
    others waiting).

    Parameters
    ----------
    trial : optuna.Trial
        The trial to report to.
    monitor : str
        The logged metric to report.
    step_offset : int
        Added to the network's and the epoch's steps to form Optuna's step.
    """

    def __init__(self, trial: optuna.Trial, monitor: str = "val_loss", step_offset: int = 0):
        super().__init__()
        self.trial, self.monitor, self.step_offset = trial, monitor, step_offset
        # shared by copies: the trainings of one fit may see copies of the callback
        self._fits = [0]

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._fits[0] += 1

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None or trainer.world_size > 1:
            return
        network, epoch = max(self._fits[0] - 1, 0), trainer.current_epoch
        if network >= NETWORKS_PER_FOLD or epoch >= EPOCHS_PER_NETWORK:
            return  # no step of its own left: reporting would collide with another's
        self.trial.report(float(value), self.step_offset + network * EPOCHS_PER_NETWORK + epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(
                f"pruned at epoch {epoch} of network {network} with {self.monitor}={value:.4g}"
            )

    def __deepcopy__(self, memo: dict[int, Any]) -> OptunaPruning:
        # the trial is a handle on shared storage, the count of trainings is shared too
        copy = type(self)(self.trial, self.monitor, self.step_offset)
        copy._fits = self._fits
        return copy


def with_pruning(estimator: Any, trial: optuna.Trial, fold: int) -> Any:
    """``estimator`` with an :class:`OptunaPruning` added to its ``trainer_kwargs``
    callbacks (after the user's own), reporting fold ``fold``'s epochs."""
    kwargs = dict(estimator.get_params(deep=False).get("trainer_kwargs") or {})
    callback = OptunaPruning(trial, step_offset=fold * EPOCHS_PER_FOLD)
    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), callback]
    return estimator.set_params(trainer_kwargs=kwargs)
