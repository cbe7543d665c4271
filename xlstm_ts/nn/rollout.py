"""Forecasts of any length from a direct multi-step network, by recursion on the median."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


@torch.no_grad()
def rollout(
    network: nn.Module,
    contexts: np.ndarray,
    covariates: np.ndarray,
    future: np.ndarray,
    h: int,
    *,
    horizon: int,
    point_index: int,
    batch_size: int = 4096,
) -> np.ndarray:
    """Quantile forecasts (n, h, Q) of ``network`` from its inputs, ``h`` steps ahead.

    The network forecasts ``horizon`` steps at once; beyond that the forecast continues
    from its own point forecast (quantile ``point_index``), which is appended to the
    context. Quantile outputs are sorted (a monotone rearrangement), so they never cross.

    Parameters
    ----------
    network : nn.Module
        Maps ``(contexts (B, L), covariates (B, L, C), future (B, horizon, F))`` to
        ``(B, horizon, Q)``.
    contexts, covariates, future : ndarray
        The network's inputs for each of ``n`` series; with covariates, ``h`` may not
        exceed ``horizon`` (their values further ahead are unknown).
    h : int
        Steps to forecast.
    horizon, point_index : int
        The network's output length and the index of its point forecast.
    batch_size : int
        Series forecast at once.
    """
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise ValueError(f"h must be a positive integer, got {h!r}")
    if covariates.shape[-1] and h > horizon:
        raise ValueError(
            f"h={h} exceeds horizon={horizon}: with covariates (any inputs beside the "
            "context) the forecast cannot continue recursively (their values beyond the "
            "horizon are unknown)"
        )
    network.eval()
    L = contexts.shape[1]
    inputs = (torch.as_tensor(a, dtype=torch.float32) for a in (contexts, covariates, future))
    results = []
    for ctx, cov, fut in zip(*(t.split(batch_size) for t in inputs), strict=True):
        outputs = []
        for _ in range(math.ceil(h / horizon)):
            out = network(ctx, cov, fut).sort(dim=-1).values
            outputs.append(out)
            ctx = torch.cat([ctx, out[..., point_index]], dim=1)[:, -L:]
        results.append(torch.cat(outputs, dim=1)[:, :h])
    return torch.cat(results).numpy().astype(np.float64)
