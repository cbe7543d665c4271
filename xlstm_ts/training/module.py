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
        self._log_epoch_means(batch_idx, self.trainer.num_training_batches, target, train_loss=loss)
        return loss

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> dict[str, Any]:
        """Log the epoch's ``val_loss`` and ``val_mse``; return the network's linear
        forecast and correction (``parts``, for callbacks such as
        :class:`~xlstm_ts.training.BlendMonitor`) when it has them."""
        *inputs, target = batch
        parts = None
        if hasattr(self.network, "forward_parts"):
            parts = self.network.forward_parts(*inputs)
            pred = self.network.blend(*parts)
        else:
            pred = self(*inputs)
        self._log_epoch_means(
            batch_idx,
            self.trainer.num_val_batches[0],
            target,
            val_loss=self.loss(pred, target),
            val_mse=mse_loss(pred[..., self.point_index], target),
        )
        return {"parts": parts}

    def _log_epoch_means(
        self, batch_idx: int, n_batches: int | float, target: Tensor, **values: Tensor
    ) -> None:
        """Sum ``values`` weighted by the batch's windows and log their means at the last
        batch: one log call per epoch, not per batch (on the CPU a call costs about a
        twentieth of a small network's training step)."""
        n = target.new_tensor(len(target))
        row = torch.stack([*(v.detach() * n for v in values.values()), n])
        self._sums = row if batch_idx == 0 else self._sums + row
        if batch_idx + 1 == n_batches:
            for name, total in zip(values, self._sums[:-1], strict=True):
                self.log(name, total / self._sums[-1], prog_bar=name != "val_mse", sync_dist=True)

    def configure_optimizers(self) -> Any:
        trained = [p for p in self.parameters() if p.requires_grad]
        # foreach: one call per operation for all tensors (the default on GPUs only)
        optimizer = torch.optim.AdamW(
            trained, lr=self.learning_rate, weight_decay=self.weight_decay, foreach=True
        )
        if self.lr_decay is None:
            return optimizer
        decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.lr_decay)
        return {"optimizer": optimizer, "lr_scheduler": decay}
