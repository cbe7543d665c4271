"""The Lightning run: trainer settings, checkpoint, early stopping, the best weights."""

from __future__ import annotations

import copy
import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from .datamodule import WindowDataModule
from .environment import quiet_lightning, threads_per_process, torch_threads
from .faults import NonFiniteGuard
from .progress import EpochSummary

LAST_CHECKPOINT = "last.ckpt"
RUN_FILE = "run.json"


@dataclass(frozen=True)
class TrainConfig:
    """How a module is trained (see :func:`fit_module`).

    ``accelerator``, ``devices``, ``strategy``, ``precision`` and ``gradient_clip_val``
    go to ``lightning.Trainer``, then ``trainer_kwargs`` (which win, so the estimators
    pass the user's Trainer settings there; their ``callbacks`` are added to ours);
    ``accelerator`` and ``devices`` also cap the torch threads of each process.
    ``keep_start``: validate the initial weights and keep them if no epoch beats them
    (for a start that is a model in its own right, such as the ridge start).
    ``num_threads``: torch threads per training process (capped so that DDP processes ×
    threads fit the cores; ``None`` leaves torch's setting). ``verbose``: one summary
    line per epoch on standard error. ``monitor``: the logged validation metric that
    compares epochs (checkpoint, early stopping, the kept start). ``callbacks``: Lightning
    callbacks of the library's own that this run needs (e.g. one that logs the monitored
    metric), before the user's.
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
    checkpoint_dir: str | os.PathLike | None = None
    checkpoint_key: str | None = None
    callbacks: tuple[Callback, ...] = ()


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

    With ``config.checkpoint_dir`` the checkpoints stay in that folder: ``last.ckpt``
    after every epoch (written atomically by Lightning: a temporary file, then a rename),
    the best one, and ``run.json`` (the run's fingerprint, and whether it finished). A
    later call with the same folder resumes from ``last.ckpt`` (loaded with
    ``weights_only=True``), and a finished run only reloads its best weights. Every
    epoch then draws its random numbers (window order, dropout) from ``(seed, epoch)``,
    so a run resumed after its process was killed ends with the same weights as one that
    was never interrupted (on the CPU). A NaN or inf loss or gradient raises
    :class:`~xlstm_ts.training.NonFiniteLossError` (:class:`NonFiniteGuard`).
    """
    threads = threads_per_process(config.num_threads, config.accelerator, config.devices)
    with torch_threads(threads), quiet_lightning():
        return _fit(module, data, config)


def _fit(module: L.LightningModule, data: WindowDataModule, config: TrainConfig) -> FitResult:
    if config.checkpoint_dir is None:
        with tempfile.TemporaryDirectory(prefix="xlstm_ts_") as root:
            return _run(module, data, config, root, None)
    root = Path(config.checkpoint_dir)
    if root.exists() and not root.is_dir():
        raise ValueError(f"checkpoint_dir={str(root)!r} exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(".*.tmp*"):  # of a process killed while writing
        leftover.unlink(missing_ok=True)
    run = _read_run(root, config.checkpoint_key)
    if run.get("finished"):
        return _reload_finished(module, root, run)
    last = root / LAST_CHECKPOINT
    if last.is_file():
        _check_checkpoint(last)
    with warnings.catch_warnings():  # the folder holds run.json, and checkpoints to resume
        warnings.filterwarnings("ignore", message=".*exists and is not empty")
        return _run(module, data, config, str(root), str(last) if last.is_file() else None)


def _check_checkpoint(path: Path) -> None:
    """Refuse a checkpoint that does not load as weights and training state only."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, not a checkpoint, or holds objects
        raise ValueError(
            f"cannot resume from {path}: it does not load as a checkpoint of weights "
            f"({type(err).__name__}: {str(err)[:200]}); delete it (or the folder) to start afresh"
        ) from err
    if not isinstance(saved, dict) or "state_dict" not in saved:
        raise ValueError(f"cannot resume from {path}: it holds no state_dict")


def _read_run(root: Path, key: str | None) -> dict[str, Any]:
    """The record of the run kept in ``root`` (``{}`` for a new folder); refuses a folder
    that holds another run's checkpoints."""
    path = root / RUN_FILE
    if not path.is_file():
        if (root / LAST_CHECKPOINT).exists():
            raise ValueError(
                f"checkpoint_dir {str(root)!r} holds {LAST_CHECKPOINT} but no {RUN_FILE}: "
                "it was not written by xlstm_ts; use an empty folder"
            )
        _write_json(path, {"key": key, "finished": False})
        return {}
    try:
        run = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read {path}: {err}; use an empty checkpoint_dir") from err
    if not isinstance(run, dict) or run.get("key") != key:
        raise ValueError(
            f"checkpoint_dir {str(root)!r} holds the checkpoints of another run (other "
            "parameters or data); use an empty folder to start afresh, or the same "
            "parameters and data to resume"
        )
    return run


def _write_json(path: Path, value: Any) -> None:
    """Write ``value`` to ``path`` atomically (a temporary sibling, then a rename)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, path)


def _reload_finished(module: L.LightningModule, root: Path, run: dict[str, Any]) -> FitResult:
    """A finished run: its kept weights again, without training."""
    best = run.get("best_path")
    if best and not run.get("kept_start"):
        path = root / Path(best).name
        if not path.is_file():
            raise ValueError(f"{path} is missing: checkpoint_dir {str(root)!r} is incomplete")
        saved = torch.load(path, map_location="cpu", weights_only=True)
        module.load_state_dict(saved["state_dict"])
    elif not run.get("kept_start"):
        saved = torch.load(root / LAST_CHECKPOINT, map_location="cpu", weights_only=True)
        module.load_state_dict(saved["state_dict"])
    return FitResult(int(run["n_epochs"]), run.get("best_val_loss"), bool(run.get("kept_start")))


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written to a temporary file in their own folder, flushed to disk and
    renamed over the old one: a kill at any moment leaves the old checkpoint or the new
    one, whole. (Lightning's own writer stages the file in the system's temporary folder,
    from which the move is a copy when that folder is on another file system.)"""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
    ) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            with open(tmp, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


class EpochSeed(Callback):
    """Seed every random number an epoch draws from ``(seed, epoch)``: the generators of
    the training loader's samplers at the epoch's start, and torch's global generator
    (dropout, noise) from ``(seed, epoch, batch)`` before each batch.

    An epoch then does not depend on the epochs before it, so that a run resumed from a
    checkpoint at an epoch's end repeats exactly what the uninterrupted run did.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        epoch = int(trainer.current_epoch)
        for owner, name, gen in _generators(trainer.train_dataloader):
            if isinstance(gen, torch.Generator):
                gen.manual_seed(int(_seed(self.seed, epoch, 1)))
            else:
                setattr(owner, name, np.random.default_rng(_seed(self.seed, epoch, 2)))

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        # per batch, after the loader's iterator (which draws from torch's generator) exists
        torch.manual_seed(_seed(self.seed, int(trainer.current_epoch), 0, batch_idx))


def _seed(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0])


def _generators(obj: Any, depth: int = 0):
    """``(owner, attribute, generator)`` of the random generators of a loader's samplers."""
    if obj is None or depth > 4:
        return
    for name in ("sampler", "batch_sampler", "generator"):
        child = getattr(obj, name, None)
        if isinstance(child, torch.Generator | np.random.Generator):
            yield obj, name, child
        elif child is not None and name != "generator":
            yield from _generators(child, depth + 1)


def _run(
    module: L.LightningModule,
    data: WindowDataModule,
    config: TrainConfig,
    root: str,
    resume: str | None,
) -> FitResult:
    keep = config.checkpoint_dir is not None
    if data.has_validation:
        checkpoint = ModelCheckpoint(dirpath=root, monitor=config.monitor, save_last=keep)
    else:
        checkpoint = ModelCheckpoint(dirpath=root, save_top_k=0, save_last=True) if keep else None
    trainer = L.Trainer(**_trainer_kwargs(config, root, checkpoint, getattr(data, "seed", 0)))
    start = None
    if config.keep_start and data.has_validation:
        metrics = trainer.validate(module, datamodule=data, verbose=False)
        start = (metrics[0][config.monitor], copy.deepcopy(module.state_dict()))
    trainer.fit(module, datamodule=data, ckpt_path=resume, weights_only=True)
    best = None
    if data.has_validation and checkpoint.best_model_path:
        saved = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(saved["state_dict"])
        best = float(checkpoint.best_model_score)
    kept_start = start is not None and (best is None or start[0] <= best)
    if kept_start:
        module.load_state_dict(start[1])
        best = float(start[0])
    trainer.strategy.barrier()
    if keep and trainer.is_global_zero:
        record = {
            "key": config.checkpoint_key,
            "finished": True,
            "n_epochs": int(trainer.current_epoch),
            "best_val_loss": best,
            "kept_start": kept_start,
            "best_path": Path(checkpoint.best_model_path).name
            if data.has_validation and checkpoint.best_model_path
            else None,
        }
        _write_json(Path(root) / RUN_FILE, record)
    return FitResult(trainer.current_epoch, best, kept_start)


def _trainer_kwargs(
    config: TrainConfig, root: str, checkpoint: ModelCheckpoint | None, seed: int = 0
) -> dict[str, Any]:
    callbacks: list[Any] = [NonFiniteGuard(), *config.callbacks]
    if config.verbose:
        callbacks.append(EpochSummary())
    if config.checkpoint_dir is not None:
        callbacks.append(EpochSeed(seed))
    if checkpoint is not None:
        callbacks.append(checkpoint)
        if config.early_stopping_patience is not None and checkpoint.monitor is not None:
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
    if config.checkpoint_dir is not None and "plugins" not in config.trainer_kwargs:
        kwargs["plugins"] = [AtomicCheckpointIO()]
    kwargs.update(config.trainer_kwargs)
    kwargs["callbacks"] = callbacks + list(kwargs.get("callbacks") or [])
    return kwargs
