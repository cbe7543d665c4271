"""The Lightning run: trainer settings, checkpoint, early stopping, the best weights."""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from .datamodule import WindowDataModule
from .environment import quiet_lightning, threads_per_process, torch_threads
from .progress import EpochSummary


@dataclass(frozen=True)
class TrainConfig:
    """How a module is trained (see :func:`fit_module`).

    ``accelerator``, ``devices``, ``strategy``, ``precision`` and ``gradient_clip_val``
    go to ``lightning.Trainer``, then ``trainer_kwargs`` (the user's own arguments, which
    win; their ``callbacks`` are added to ours). ``keep_start``: validate the initial
    weights and keep them if no epoch beats them (for a start that is a model in its own
    right, such as the ridge start). ``num_threads``: torch threads per training process
    (capped so that DDP processes × threads fit the cores; ``None`` leaves torch's
    setting). ``verbose``: one summary line per epoch on standard error. ``monitor``:
    the logged validation metric that compares epochs (checkpoint, early stopping, the
    kept start).
    """

    max_epochs: int
    early_stopping_patience: int | None = None
    gradient_clip_val: float | None = None
    accelerator: str = "auto"
    devices: Any = "auto"
    strategy: Any = "auto"
    precision: Any = "32-true"
    deterministic: bool = False
    progress_bar: bool = False
    keep_start: bool = False
    num_threads: int | None = None
    verbose: bool = False
    monitor: str = "val_loss"
    trainer_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FitResult:
    """What a run did.

    Attributes
    ----------
    n_epochs : int
        Epochs trained.
    best_val_loss : float or None
        Validation loss of the weights kept (``None`` without validation windows).
    kept_start : bool
        Whether the initial weights were kept (``keep_start`` and no epoch beat them).
    """

    n_epochs: int
    best_val_loss: float | None
    kept_start: bool = False


def fit_module(module: L.LightningModule, data: WindowDataModule, config: TrainConfig) -> FitResult:
    """Train ``module`` on ``data`` and leave the best weights in it.

    With validation windows, the weights of the epoch with the lowest ``val_loss`` are
    restored at the end (and the initial ones if ``config.keep_start`` and they are
    better still); training stops early after ``early_stopping_patience`` epochs without
    improvement. Checkpoints live in a temporary folder that is removed afterwards; under
    DDP every process reads the best checkpoint before rank 0 removes it. Lightning's
    start-up chatter is silenced (:func:`quiet_lightning`).
    """
    threads = threads_per_process(config.num_threads, config.accelerator, config.devices)
    with torch_threads(threads), quiet_lightning():
        return _fit(module, data, config)


def _fit(module: L.LightningModule, data: WindowDataModule, config: TrainConfig) -> FitResult:
    with tempfile.TemporaryDirectory(prefix="xlstm_ts_") as root:
        checkpoint = (
            ModelCheckpoint(dirpath=root, monitor=config.monitor) if data.has_validation else None
        )
        trainer = L.Trainer(**_trainer_kwargs(config, root, checkpoint))
        start = None
        if config.keep_start and checkpoint is not None:
            metrics = trainer.validate(module, datamodule=data, verbose=False)
            start = (metrics[0][config.monitor], copy.deepcopy(module.state_dict()))
        trainer.fit(module, datamodule=data)
        best = None
        if checkpoint is not None and checkpoint.best_model_path:
            saved = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
            module.load_state_dict(saved["state_dict"])
            best = float(checkpoint.best_model_score)
        kept_start = start is not None and (best is None or start[0] <= best)
        if kept_start:
            module.load_state_dict(start[1])
            best = float(start[0])
        trainer.strategy.barrier()
    return FitResult(trainer.current_epoch, best, kept_start)


def _trainer_kwargs(
    config: TrainConfig, root: str, checkpoint: ModelCheckpoint | None
) -> dict[str, Any]:
    callbacks: list[Any] = [EpochSummary()] if config.verbose else []
    if checkpoint is not None:
        callbacks.append(checkpoint)
        if config.early_stopping_patience is not None:
            callbacks.append(EarlyStopping(config.monitor, patience=config.early_stopping_patience))
    kwargs: dict[str, Any] = dict(
        max_epochs=config.max_epochs,
        accelerator=config.accelerator,
        devices=config.devices,
        strategy=config.strategy,
        precision=config.precision,
        gradient_clip_val=config.gradient_clip_val,
        enable_progress_bar=config.progress_bar,
        enable_checkpointing=checkpoint is not None,
        enable_model_summary=False,
        logger=False,
        deterministic=config.deterministic,
        default_root_dir=root,
        num_sanity_val_steps=0,
    )
    kwargs.update(config.trainer_kwargs)
    kwargs["callbacks"] = callbacks + list(kwargs.get("callbacks") or [])
    return kwargs
