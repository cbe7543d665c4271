"""Pruning from inside training: a Lightning callback that reports to an Optuna trial."""

from __future__ import annotations

from typing import Any

import lightning as L
import optuna
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn

EPOCHS_PER_FOLD = 10_000
"""Step stride between folds: epoch ``e`` of fold ``i`` is reported as step
``i * EPOCHS_PER_FOLD + e``, so trials are compared at the same fold and epoch."""


class OptunaPruning(Callback):
    """Report the validation loss after each training epoch; prune when Optuna says so.

    After every validation during ``fit`` the monitored metric goes to
    ``trial.report(value, step_offset + epoch)``; if ``trial.should_prune()``, the
    callback raises :class:`optuna.TrialPruned`, which stops the training and marks the
    trial pruned. Validation outside ``fit`` (such as the check of a ridge start) is not
    reported. With several training processes nothing is pruned (an exception on one
    rank would leave the others waiting).

    Parameters
    ----------
    trial : optuna.Trial
        The trial to report to.
    monitor : str
        The logged metric to report.
    step_offset : int
        Added to the epoch number to form Optuna's step.
    """

    def __init__(self, trial: optuna.Trial, monitor: str = "val_loss", step_offset: int = 0):
        super().__init__()
        self.trial, self.monitor, self.step_offset = trial, monitor, step_offset

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None or trainer.world_size > 1:
            return
        epoch = trainer.current_epoch
        self.trial.report(float(value), self.step_offset + epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch} with {self.monitor}={value:.4g}")

    def __deepcopy__(self, memo: dict[int, Any]) -> OptunaPruning:
        # the trial is a handle on shared storage: copies of the estimator share it
        return type(self)(self.trial, self.monitor, self.step_offset)


def with_pruning(estimator: Any, trial: optuna.Trial, fold: int) -> Any:
    """``estimator`` with an :class:`OptunaPruning` added to its ``trainer_kwargs``
    callbacks (after the user's own), reporting fold ``fold``'s epochs."""
    kwargs = dict(estimator.get_params(deep=False).get("trainer_kwargs") or {})
    callback = OptunaPruning(trial, step_offset=fold * EPOCHS_PER_FOLD)
    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), callback]
    return estimator.set_params(trainer_kwargs=kwargs)
