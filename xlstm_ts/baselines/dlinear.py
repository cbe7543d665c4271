"""DLinear: a moving-average trend and the remainder, each mapped by a linear layer."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import seed_everything
from torch import Tensor

from xlstm_ts.data import Windows
from xlstm_ts.training import (
    ForecastModule,
    TrainConfig,
    WindowDataModule,
    fit_module,
)


class DLinearNet(torch.nn.Module):
    """DLinear, as a forecasting network of this library.

    The moving average pads each end by repeating the first or last value, so the trend
    has the length of the input. Weights are shared by all series. The network takes the
    inputs of :class:`xlstm_ts.data.Windows` items and returns one output (the point
    forecast) per horizon step, ``(B, H, 1)``, so it trains with the same
    :class:`~xlstm_ts.training.ForecastModule` as the xLSTM; it uses no covariates.

    Parameters
    ----------
    context_length, horizon : int
        Input and output lengths.
    kernel_size : int
        Width of the moving average (odd).
    """

    def __init__(self, context_length: int, horizon: int, kernel_size: int = 25) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd positive integer; got {kernel_size}")
        self.kernel_size = kernel_size
        self.trend = torch.nn.Linear(context_length, horizon)
        self.seasonal = torch.nn.Linear(context_length, horizon)
        # the published initialisation: every output starts as the window mean
        for layer in (self.trend, self.seasonal):
            torch.nn.init.constant_(layer.weight, 1.0 / context_length)

    def forward(self, context: Tensor, *unused_covariates: Tensor) -> Tensor:
        """Forecasts (B, H, 1) from contexts (B, L)."""
        pad = (self.kernel_size - 1) // 2
        x = context
        padded = torch.cat([x[:, :1].expand(-1, pad), x, x[:, -1:].expand(-1, pad)], dim=1)
        trend = torch.nn.functional.avg_pool1d(padded[:, None], self.kernel_size, stride=1)[:, 0]
        return (self.trend(trend) + self.seasonal(x - trend))[..., None]


def fit_dlinear(
    train: Windows,
    val: Windows | None,
    context_length: int,
    horizon: int,
    *,
    kernel_size: int = 25,
    max_epochs: int = 10,
    patience: int = 3,
    batch_size: int = 256,
    learning_rate: float = 5e-3,
    lr_decay: float = 0.5,
    seed: int = 0,
) -> tuple[DLinearNet, dict[str, Any]]:
    """Train :class:`DLinearNet` with Adam on the MSE, early stopping on the validation MSE.

    The same Lightning run as the xLSTM (:func:`xlstm_ts.training.fit_module`). The
    learning rate is multiplied by ``lr_decay`` after every epoch (the published
    schedule halves it); the weights of the best validation epoch are returned.

    Returns
    -------
    net : DLinearNet
        In evaluation mode.
    info : dict
        ``epochs`` trained and ``best_val_mse``.
    """
    seed_everything(seed, verbose=False)
    net = DLinearNet(context_length, horizon, kernel_size)
    module = ForecastModule(
        net, [0.5], 0, loss="mse", learning_rate=learning_rate, lr_decay=lr_decay
    )
    data = WindowDataModule(train, val, batch_size, seed=seed)
    config = TrainConfig(
        max_epochs=max_epochs, early_stopping_patience=patience, deterministic=True
    )
    result = fit_module(module, data, config)
    return net.eval(), {"epochs": result.n_epochs, "best_val_mse": result.best_val_loss}
