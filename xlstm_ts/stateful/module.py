"""The stateful network's LightningModule: segments in order, the state handed over.

Training on whole series by truncated backpropagation through time: the batches of
:mod:`.datamodule` hold segment ``j`` of several series, whose segment ``j - 1`` was
trained before; the module keeps each series' state after its last segment (detached,
so gradients stop at segment boundaries) and passes it in with the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor

from xlstm_ts.metrics import mse_loss
from xlstm_ts.training import ForecastModule

from .carried import cat_states, map_state, split_state
from .datamodule import Batch
from .net import StatefulForecastNet


class StatefulForecastModule(ForecastModule):
    """Trains a :class:`~xlstm_ts.stateful.StatefulForecastNet` on segments fed in order.

    Each series' state after its last segment is kept (detached: truncated
    backpropagation through time) and passed in with its next segment; a series'
    first segment starts from no state. The loss (:meth:`ForecastModule.loss`) is taken
    over every position with a target. Validation keeps its own states and reports the
    loss over all validation targets of the epoch (a sum over batches divided by the
    number of targets, not a mean of batch means).
    """

    def __init__(
        self,
        network: StatefulForecastNet,
        quantiles: Sequence[float],
        point_index: int,
        loss: Literal["quantile", "mse"] = "quantile",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(network, quantiles, point_index, loss, learning_rate, weight_decay)
        self._states: dict[int, Any] = {}
        self._val_sums: list[Tensor] = []

    def run_segment(self, batch: Batch, states: dict[int, Any]) -> Tensor:
        """Forecasts (B, S, H, Q) of a batch, continuing from and updating ``states``."""
        if int(batch["segment"]) < 0:  # idle (DDP padding): run the network, keep nothing
            return self.network(batch["windows"])[0]
        series = batch["series"].tolist()
        state = cat_states([states[k] for k in series]) if int(batch["segment"]) else None
        out, state = self.network(batch["windows"], state)
        state = map_state(Tensor.detach, state)
        states.update(zip(series, split_state(state, len(series)), strict=True))
        return out

    def on_train_epoch_start(self) -> None:
        self._states = {}

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        out = self.run_segment(batch, self._states)
        loss = self.loss(out.flatten(0, 1), batch["target"].flatten(0, 1))
        if int(batch["segment"]) >= 0:  # idle batches (loss 0) stay out of the mean
            self.log("train_loss", loss, prog_bar=True, on_step=False, on_epoch=True, batch_size=1)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val_states: dict[int, Any] = {}
        self._val_sums = []

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        out = self.run_segment(batch, self._val_states)
        pred, target = out.flatten(0, 1), batch["target"].flatten(0, 1)
        n = (~torch.isnan(target)).sum()
        if n:  # masked means times counts give sums over the epoch
            point = pred[..., self.point_index]
            self._val_sums.append(
                torch.stack(
                    [self.loss(pred, target) * n, mse_loss(point, target) * n, n.to(pred.dtype)]
                )
            )

    def on_validation_epoch_end(self) -> None:
        total = torch.stack(self._val_sums).sum(0) if self._val_sums else torch.zeros(3)
        total = self.trainer.strategy.reduce(total.to(self.device), reduce_op="sum")
        count = total[2].clamp(min=1)
        self.log("val_loss", total[0] / count, prog_bar=True)
        self.log("val_mse", total[1] / count)
