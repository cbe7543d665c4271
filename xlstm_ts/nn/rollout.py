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
        The network's inputs for each of ``n`` series. With covariates, ``h`` may exceed
        ``horizon`` only when every covariate is known ahead (``covariates`` holds the
        ``future`` columns only) and ``future`` covers ``h`` rounded up to whole
        horizons: each further step then reads the next ``horizon`` steps of ``future``,
        and its context's covariates continue with the steps just forecast.
    h : int
        Steps to forecast.
    horizon, point_index : int
        The network's output length and the index of its point forecast.
    batch_size : int
        Series forecast at once.
    """
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise ValueError(f"h must be a positive integer, got {h!r}")
    steps = math.ceil(h / horizon) * horizon
    n_cov, n_future = covariates.shape[-1], future.shape[-1]
    if n_cov and h > horizon and (n_cov != n_future or future.shape[1] < steps):
        raise ValueError(
            f"h={h} exceeds horizon={horizon}: with covariates whose values beyond the "
            "horizon are unknown (past covariates, or future covariates given for "
            "`horizon` steps) the forecast cannot continue recursively"
        )
    network.eval()
    L = contexts.shape[1]
    inputs = (torch.as_tensor(a, dtype=torch.float32) for a in (contexts, covariates, future))
    results = []
    for ctx, cov, fut in zip(*(t.split(batch_size) for t in inputs), strict=True):
        outputs = []
        chunks = steps // horizon
        for c in range(chunks):
            ahead = fut[:, c * horizon : (c + 1) * horizon] if n_future else fut
            out = network(ctx, cov, ahead).sort(dim=-1).values
            outputs.append(out)
            if c + 1 < chunks:
                # the median joins the context, and the covariates (all known ahead, as
                # checked above) join the context's covariates
                ctx = torch.cat([ctx, out[..., point_index]], dim=1)[:, -L:]
                if n_cov:
                    cov = torch.cat([cov, ahead], dim=1)[:, -L:]
        results.append(torch.cat(outputs, dim=1)[:, :h])
    return torch.cat(results).numpy().astype(np.float64)
