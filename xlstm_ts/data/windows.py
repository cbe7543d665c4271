"""Training and validation windows, sampled lazily from per-series arrays."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler


class WindowDataset(Dataset):
    """All windows whose start lies in a per-series range.

    Item ``j`` is ``(context, covariates, future_covariates, target)``: the target's
    context (L,), every covariate over the context (L, n_covariates), the last
    ``n_future`` covariates over the horizon (H, n_future), and the target (H,).

    Window ``j`` is found from its index by arithmetic (a search over cumulative counts),
    so no window is ever materialised: memory is that of the series themselves.

    Parameters
    ----------
    series : list of ndarray
        One array per series.
    starts : list of (int, int)
        For each series, the first and last allowed window start (inclusive); an empty
        range is written ``(0, -1)``.
    context_length, horizon : int
        Lengths of the two parts of a window.
    covariates : list of ndarray, optional
        One (time, n_covariates) array per series; the future-known ones come last.
    n_future : int
        How many of the covariates are known over the horizon.
    """

    def __init__(
        self,
        series: list[np.ndarray],
        starts: list[tuple[int, int]],
        context_length: int,
        horizon: int,
        covariates: list[np.ndarray] | None = None,
        n_future: int = 0,
    ) -> None:
        self.series = [np.asarray(s, dtype=np.float32) for s in series]
        if not covariates:
            covariates = [np.zeros((len(s), 0)) for s in series]
        self.covariates = [np.asarray(c, dtype=np.float32) for c in covariates]
        self.n_future = n_future
        self.first = np.array([lo for lo, _ in starts], dtype=np.int64)
        counts = np.array([max(hi - lo + 1, 0) for lo, hi in starts], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.context_length, self.horizon = context_length, horizon

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, j: int) -> tuple[torch.Tensor, ...]:
        k = int(np.searchsorted(self.offsets, j, side="right")) - 1
        start = int(self.first[k] + j - self.offsets[k])
        split, stop = start + self.context_length, start + self.context_length + self.horizon
        series, cov = self.series[k], self.covariates[k]
        return (
            torch.from_numpy(series[start:split]),
            torch.from_numpy(cov[start:split]),
            torch.from_numpy(cov[split:stop, cov.shape[1] - self.n_future :]),
            torch.from_numpy(series[split:stop]),
        )


def split_starts(
    lengths: list[int], context_length: int, horizon: int, validation_steps: list[int]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Window-start ranges for training and validation.

    The last ``validation_steps[k]`` steps of series ``k`` are its validation part:
    training windows forecast only steps before it, validation windows only steps in it
    (their contexts may reach back into the training part).
    """
    train, val = [], []
    for n, v in zip(lengths, validation_steps, strict=True):
        train.append((0, n - v - context_length - horizon))
        val.append((n - v - context_length, n - context_length - horizon) if v else (0, -1))
    return train, val


class WindowDataModule(L.LightningDataModule):
    """Training and validation windows for Lightning.

    ``windows_per_epoch`` caps an epoch at that many windows drawn at random without
    replacement (all windows when ``None``).
    """

    def __init__(
        self,
        train: WindowDataset,
        val: WindowDataset | None,
        batch_size: int,
        windows_per_epoch: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.train, self.val = train, val
        self.batch_size, self.windows_per_epoch, self.seed = batch_size, windows_per_epoch, seed

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        num = (
            None if self.windows_per_epoch is None else min(self.windows_per_epoch, len(self.train))
        )
        sampler = RandomSampler(self.train, num_samples=num, generator=generator)
        return DataLoader(self.train, batch_size=self.batch_size, sampler=sampler)

    def val_dataloader(self) -> DataLoader | list:
        if self.val is None or len(self.val) == 0:
            return []
        return DataLoader(self.val, batch_size=self.batch_size * 2, shuffle=False)
