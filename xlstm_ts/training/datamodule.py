"""The Lightning DataModule over training and validation windows."""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler

from xlstm_ts.data import Windows

VALIDATION_SHARE = 0.25
"""Each epoch's validation reads at most this share of ``windows_per_epoch`` windows
(2,048 with the estimators' default): on three panels of 50 to 359 series it chose the
same epochs as a validation of 8,192 windows, a seventh faster (``research/LOG.md``,
2026-12-05)."""


class WindowDataModule(L.LightningDataModule):
    """Training and validation windows for Lightning.

    Training windows are shuffled with a seeded generator; ``windows_per_epoch`` caps an
    epoch at that many windows drawn at random without replacement (all windows when
    ``None``). Validation windows are read in order; ``windows_per_epoch`` also caps
    them, at ``VALIDATION_SHARE`` of that many evenly spaced windows, the same every
    epoch, so that neither part of an epoch grows with the panel (the estimator's
    decision reads every validation window once, after training). Each batch is cut from
    the series in one vectorised step (:meth:`Windows.batch`), not window by window.
    """

    def __init__(
        self,
        train: Windows,
        val: Windows | None,
        batch_size: int,
        windows_per_epoch: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.train, self.val = train, val
        self.batch_size, self.windows_per_epoch, self.seed = batch_size, windows_per_epoch, seed

    @property
    def has_validation(self) -> bool:
        """Whether there is at least one validation window."""
        return self.val is not None and len(self.val) > 0

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        cap = self.windows_per_epoch
        num = None if cap is None else min(cap, len(self.train))
        order = RandomSampler(self.train, num_samples=num, generator=generator)
        return _batched(self.train, BatchSampler(order, self.batch_size, drop_last=False))

    def val_dataloader(self) -> DataLoader | list:
        if not self.has_validation:
            return []
        order: Sequence[int] = range(len(self.val))
        per_epoch = self.windows_per_epoch
        cap = None if per_epoch is None else max(1, round(VALIDATION_SHARE * per_epoch))
        if cap is not None and len(self.val) > cap:  # every series, in proportion
            order = np.unique(np.linspace(0, len(self.val) - 1, cap).round().astype(np.int64))
            order = order.tolist()
        return _batched(self.val, BatchSampler(order, 2 * self.batch_size, drop_last=False))


def _batched(windows: Windows, sampler: BatchSampler) -> DataLoader:
    # the sampler yields lists of indices and Windows[list] returns the whole batch
    return DataLoader(windows, sampler=sampler, batch_size=None)
