"""The candidates' point forecasts of the validation windows, as arrays for
:func:`~xlstm_ts.training.decision.decide`."""

from __future__ import annotations

import numpy as np
import torch

from xlstm_ts.data import Windows


def later_half(windows: Windows) -> np.ndarray:
    """For each window, whether it belongs to the later half of the validation windows.

    A series with several windows is cut at the middle of its origins. A series with one
    window (M4's protocol: the last ``horizon`` steps of each series) cannot be cut: such
    series go to the two halves in turn, so that the check of a weight is then a check
    across series, not an empty half that refuses every weight.
    """
    k, start = windows.locate(np.arange(len(windows)))
    single = windows.counts == 1
    turn = np.zeros(len(windows.counts), dtype=bool)
    turn[single] = np.arange(int(single.sum())) % 2 == 1
    by_origin = 2 * (start - windows.first[k]) >= windows.counts[k]
    return np.where(single[k], turn[k], by_origin)


def targets(windows: Windows, batch_size: int = 1024) -> np.ndarray:
    """The windows' targets (windows, horizon) as training reads them (float32, then
    float64), NaN where missing."""
    out = [target.double() for *_, target in windows.batches(batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, windows.horizon))


@torch.no_grad()
def point_forecasts(network, windows: Windows, point: int, batch_size: int = 1024) -> np.ndarray:
    """The point forecast (output ``point``) of every window: (windows, horizon)."""
    network.eval()
    out = [network(*inputs)[..., point].double() for *inputs, _ in windows.batches(batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, windows.horizon))


@torch.no_grad()
def forecast_parts(
    network, windows: Windows, point: int, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """A network's linear part and the point output of its encoder's correction for every
    window (``forward_parts``): each (windows, horizon)."""
    network.eval()
    linear, correction = [], []
    for *inputs, _ in windows.batches(batch_size):
        lin, corr = network.forward_parts(*inputs)
        linear.append(lin.double())
        correction.append(corr[..., point].double())
    return torch.cat(linear).numpy(), torch.cat(correction).numpy()
