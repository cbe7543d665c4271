"""The LightningModule that trains a forecasting network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor, nn

from xlstm_ts.metrics import mse_loss, pinball_loss


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
    ) -> None:
        super().__init__()
        self.network = network
        self.quantiles = list(quantiles)
        self.point_index = point_index
        self.loss_kind = loss
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        self.lr_decay = lr_decay

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

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        *inputs, target = batch
        pred = self(*inputs)
        self.log("val_loss", self.loss(pred, target), prog_bar=True, sync_dist=True)
        self.log("val_mse", mse_loss(pred[..., self.point_index], target), sync_dist=True)

    def configure_optimizers(self) -> Any:
        trained = [p for p in self.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            trained, lr=self.learning_rate, weight_decay=self.weight_decay
        )
        if self.lr_decay is None:
            return optimizer
        decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.lr_decay)
        return {"optimizer": optimizer, "lr_scheduler": decay}
