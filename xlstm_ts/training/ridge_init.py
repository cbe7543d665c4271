"""Closed-form start for the linear skip path: ridge regression on the training windows."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

RELATIVE_LAMBDAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
"""Ridge penalties tried, relative to the mean diagonal of the Gram matrix."""


def _centred(network: nn.Module, context: Tensor) -> tuple[Tensor, ...]:
    """Features of the skip path (the context minus its last value) and the statistics."""
    x, mean, scale = network.norm(context)
    last = x[:, -1:]
    return (x - last).double(), last.double(), mean.double(), scale.double()


@torch.no_grad()
def ridge_init_skip(
    network: nn.Module,
    train: Dataset,
    val: Dataset | None,
    relative_lambdas: Sequence[float] = RELATIVE_LAMBDAS,
    batch_size: int = 4096,
) -> float:
    """Set ``network.skip`` to the ridge solution and zero the encoder's head.

    The network then starts as a ridge forecaster of the NLinear kind, fitted by squared
    error in the data's units (each normalised window is weighted by its scale, so the
    fit equals a ridge on the raw windows centred on their last value), and training
    learns a correction to it. The penalty is the one with the
    smallest squared error on the validation windows (the middle of the grid when there
    are none). Returns the chosen relative penalty.
    """
    gram = cross = 0.0
    for context, *_, target in DataLoader(train, batch_size=batch_size):
        X, last, mean, scale = _centred(network, context)
        Y = (target.double() - mean) / scale - last
        keep = ~torch.isnan(Y).any(dim=1)  # windows with a missing target are left out
        X, Y = X[keep] * scale[keep], Y[keep] * scale[keep]
        gram, cross = gram + X.T @ X, cross + X.T @ Y
    # no intercept: on long horizons a fitted level offset generalises worse
    penalty = torch.eye(gram.shape[0], dtype=gram.dtype) * gram.diagonal().mean()
    solutions = {lam: torch.linalg.solve(gram + lam * penalty, cross) for lam in relative_lambdas}

    best = list(solutions)[len(solutions) // 2]
    if val is not None and len(val) > 0:
        errors = dict.fromkeys(solutions, 0.0)
        for context, *_, target in DataLoader(val, batch_size=batch_size):
            X, last, mean, scale = _centred(network, context)
            for lam, W in solutions.items():
                pred = (X @ W + last) * scale + mean
                errors[lam] += torch.nansum((pred - target.double()) ** 2).item()
        best = min(errors, key=errors.get)

    network.skip.weight.copy_(solutions[best].T)
    nn.init.zeros_(network.skip.bias)
    nn.init.zeros_(network.head.weight)
    nn.init.zeros_(network.head.bias)
    return best
