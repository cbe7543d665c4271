"""The validation error of a trained network, the same for every candidate it is compared with."""

from __future__ import annotations

import torch

from xlstm_ts.data import Windows


@torch.no_grad()
def validation_mse(network, windows: Windows, point: int, batch_size: int = 1024) -> float:
    """Mean squared error of the point forecast (output ``point``) over ``windows``, in
    the data's units; missing targets are left out (NaN when no target is known)."""
    network.eval()
    sse, n = 0.0, 0
    for *inputs, target in windows.batches(batch_size):
        error = (network(*inputs)[..., point] - target).double()
        known = ~torch.isnan(error)
        sse += float((error[known] ** 2).sum())
        n += int(known.sum())
    return sse / n if n else float("nan")
