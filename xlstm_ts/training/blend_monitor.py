"""The validation metric that compares the epochs of a ridge-started network."""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from .decision import ALPHA_MAX, best_weight, residual_sums


class BlendMonitor(Callback):
    """Log ``val_blend`` every validation epoch: the validation MSE of the point forecast
    ``linear + α · correction`` of a network with a linear path, at the least-squares
    weight α (logged as ``val_alpha``; :mod:`~xlstm_ts.training.decision`).

    Monitoring ``val_blend`` compares epochs by the forecast the decision will weigh,
    so an epoch whose correction is useful at some weight is not lost to one whose raw
    correction (weight 1) looks better.

    Parameters
    ----------
    point : int
        Position of the point forecast among the network's outputs.
    alpha_max : float
        Largest weight.
    """

    def __init__(self, point: int, alpha_max: float = ALPHA_MAX) -> None:
        self.point, self.alpha_max = point, alpha_max
        self._sums = np.zeros(4)

    def on_validation_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._sums = np.zeros(4)

    @torch.no_grad()
    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        target = batch[-1]
        linear, correction = outputs["parts"]  # ForecastModule.validation_step's
        residual = (target - linear).double().cpu().numpy()  # as the network's float32
        self._sums += residual_sums(residual, correction[..., self.point].cpu().numpy()).sum(0)

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        sums = module.all_gather(torch.as_tensor(self._sums, device=module.device))
        total = (sums.sum(0) if sums.dim() > 1 else sums).cpu().numpy()
        alpha, blended = best_weight(total, self.alpha_max)
        module.log("val_alpha", alpha)
        module.log("val_blend", blended)
