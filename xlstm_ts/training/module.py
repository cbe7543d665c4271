"""The LightningModule that trains a forecasting network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor, nn

from xlstm_ts.metrics import mse_loss, pinball_loss

from .blend import ALPHA_MAX, blend_weight, parts_blend_sums


class ForecastModule(L.LightningModule):
    """Trains a network mapping a window's inputs to forecasts (B, H, Q).

    Batches are ``(*inputs, target)``: the inputs go to the network as they are.

    Parameters
    ----------
    network : nn.Module
        The forecasting network.
    quantiles : sequence of float
        Quantile levels of the network's outputs.
    point_index : int
        Position of the point forecast (the median) among the quantiles.
    loss : {"quantile", "mse"}
        ``"quantile"``: pinball loss over all quantiles. ``"mse"``: squared error on the
        point forecast plus the pinball loss of the other quantiles.
    learning_rate, weight_decay : float
        AdamW settings (``weight_decay=0`` is Adam).
    lr_decay : float, optional
        Multiply the learning rate by this factor after every epoch; constant when ``None``.
    lr_schedule : {"constant", "cosine"}
        ``"cosine"``: a linear warm-up over the first 5 % of the training steps, then a
        cosine decay to zero at the last step of ``max_epochs`` (per step; exclusive with
        ``lr_decay``).
    blend : bool
        Also validate the blend ``linear + α · correction`` of the network's two parts
        (:mod:`~xlstm_ts.training.blend`): logs ``val_blend`` (its MSE with the best α)
        and ``val_alpha`` (that α) every validation epoch.
    alpha_max : float
        Largest blend weight.

    Only parameters that require gradients are optimised (a frozen linear path stays).
    """

    def __init__(
        self,
        network: nn.Module,
        quantiles: Sequence[float],
        point_index: int,
        loss: Literal["quantile", "mse"] = "quantile",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        lr_decay: float | None = None,
        lr_schedule: Literal["constant", "cosine"] = "constant",
        blend: bool = False,
        alpha_max: float = ALPHA_MAX,
    ) -> None:
        super().__init__()
        self.network = network
        self.quantiles = list(quantiles)
        self.point_index = point_index
        self.loss_kind = loss
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        if lr_decay is not None and lr_schedule != "constant":
            raise ValueError("lr_decay and lr_schedule='cosine' are exclusive: give one")
        self.lr_decay, self.lr_schedule = lr_decay, lr_schedule
        self.blend, self.alpha_max = blend, alpha_max
        self._sums = torch.zeros(4, dtype=torch.float64)

    def forward(self, *inputs: Tensor) -> Tensor:
        return self.network(*inputs)

    def loss(self, pred: Tensor, target: Tensor) -> Tensor:
        if self.loss_kind == "quantile":
            return pinball_loss(pred, target, self.quantiles)
        others = [k for k in range(len(self.quantiles)) if k != self.point_index]
        loss = mse_loss(pred[..., self.point_index], target)
        if others:
            loss = loss + pinball_loss(
                pred[..., others], target, [self.quantiles[k] for k in others]
            )
        return loss

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        *inputs, target = batch
        loss = self.loss(self(*inputs), target)
        self.log("train_loss", loss, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._sums = torch.zeros(4, dtype=torch.float64, device=self.device)

    def on_validation_epoch_end(self) -> None:
        if self.blend:
            sums = self.all_gather(self._sums)
            alpha, blended = blend_weight(sums.sum(0) if sums.dim() > 1 else sums, self.alpha_max)
            self.log("val_alpha", alpha)
            self.log("val_blend", blended)

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        *inputs, target = batch
        if self.blend:  # one forward pass for both the loss and the blend's sums
            linear, correction = self.network.forward_parts(*inputs)
            pred = linear[..., None] + self.network.correction_scale * correction
            sums = parts_blend_sums(linear, correction, target, self.point_index)
            self._sums += sums.sum(0)
        else:
            pred = self(*inputs)
        self.log("val_loss", self.loss(pred, target), prog_bar=True, sync_dist=True)
        self.log("val_mse", mse_loss(pred[..., self.point_index], target), sync_dist=True)

    def configure_optimizers(self) -> Any:
        trained = [p for p in self.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            trained, lr=self.learning_rate, weight_decay=self.weight_decay
        )
        if self.lr_schedule == "cosine":
            total = max(int(self.trainer.estimated_stepping_batches), 1)
            schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup(total))
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": schedule, "interval": "step"},
            }
        if self.lr_decay is None:
            return optimizer
        decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.lr_decay)
        return {"optimizer": optimizer, "lr_scheduler": decay}


def cosine_with_warmup(total_steps: int, warmup_fraction: float = 0.05):
    """Learning-rate factor per step: linear warm-up from 0 to 1 over the first
    ``warmup_fraction`` of the steps, then a cosine decay to 0 at ``total_steps``."""
    warmup = max(int(warmup_fraction * total_steps), 1)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min((step - warmup) / max(total_steps - warmup, 1), 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
