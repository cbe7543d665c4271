"""One summary line per epoch, for logs and for people watching a fit."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import lightning as L
from lightning.pytorch.callbacks import Callback


class EpochSummary(Callback):
    """Print ``epoch 3/20  train_loss 0.412  val_loss 0.398  1.8 s`` after each epoch.

    Parameters
    ----------
    stream : file, optional
        Where to write (default: standard error).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        # the epoch's validation has run by now, so both losses are known
        self.times.append(time.perf_counter() - self._start)
        self._report(trainer)

    def _report(self, trainer: L.Trainer) -> None:
        metrics: dict[str, Any] = trainer.callback_metrics
        parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"]
        for name in ("train_loss", "val_loss"):
            if name in metrics:
                parts.append(f"{name} {float(metrics[name]):.4g}")
        if self.times:
            parts.append(f"{self.times[-1]:.1f} s")
        print("  ".join(parts), file=self.stream or sys.stderr, flush=True)
