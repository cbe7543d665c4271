"""Conformal calibration of quantile forecasts on held-out windows."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from xlstm_ts.data import Windows
from xlstm_ts.nn import InstanceNorm


def conformal_shifts(residuals: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Shifts (horizon, quantiles) that make each quantile forecast cover its level.

    ``residuals`` (windows, horizon, quantiles) are ``(target − forecast) / scale`` (NaN
    where the target is missing). The shift of a level ``q`` above 1/2 is the
    ``⌈(n + 1) q⌉``-th smallest of its ``n`` residuals, below 1/2 the ``⌊(n + 1) q⌋``-th
    (split-conformal one-sided bounds: the shifted forecast lies above the target with
    probability at least ``q``, or below it with probability at least ``1 − q``, for a
    new window exchangeable with the held-out ones); the median's is 0.
    """
    _, H, Q = residuals.shape
    shift = np.zeros((H, Q))
    for j, q in enumerate(levels):
        if q == 0.5:
            continue
        for h in range(H):
            r = np.sort(residuals[:, h, j][~np.isnan(residuals[:, h, j])])
            n = len(r)
            if n == 0:
                continue
            k = math.ceil((n + 1) * q) if q > 0.5 else math.floor((n + 1) * q)
            shift[h, j] = r[min(max(k, 1), n) - 1]
    return shift


@torch.no_grad()
def quantile_shifts(
    network, windows: Windows, levels: Sequence[float], batch_size: int = 1024
) -> np.ndarray:
    """:func:`conformal_shifts` of ``network``'s quantile forecasts of ``windows``
    (sorted), with residuals in each window's context scale (as
    :class:`~xlstm_ts.nn.CalibratedQuantiles` applies them)."""
    network.eval()
    norm, residuals = InstanceNorm(), []
    for *inputs, target in windows.batches(batch_size):
        scale = norm(inputs[0])[2].double()  # (B, 1)
        forecast = network(*inputs).sort(dim=-1).values.double()
        error = target.double()[..., None] - forecast
        residuals.append((error / scale[..., None]).numpy())
    return conformal_shifts(np.concatenate(residuals), levels)
