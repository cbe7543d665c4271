"""The stateful network's training data: segments of whole series, in order.

Each series is cut into consecutive segments of ``segment_length`` steps. An epoch walks
the segment positions in order (all first segments, then all second segments, …); at
each position the series that reach it are shuffled and batched. A batch therefore holds
segment ``j`` of several series, and every series' segment ``j - 1`` was trained before:
the LightningModule (:mod:`.module`) keeps each series' state after its last segment
(detached, so gradients stop at segment boundaries) and hands it to the next. Every
position of a segment forecasts the next ``horizon`` steps, so one pass over a series
yields a target per step, while memory depends on the batch and the segment length
only, never on a series' length.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from xlstm_ts.data import Windows

Batch = dict[str, Tensor]
"""A batch of segments (see :class:`Segments`)."""


class Segments(Dataset):
    """Segments of normalised series, with a ``horizon`` target from every position.

    A batch (a list of ``(series, segment)`` pairs, all with the same segment number) is
    ``{"series": (B,), "segment": (), "windows": (B, S, W), "target": (B, S, H)}``: for
    position ``t`` the last ``W = window_len`` values up to ``t`` (zeros before the
    series' start) and the ``H`` values after it, cut by :class:`~xlstm_ts.data.Windows`.
    Targets are NaN, hence left out of the loss, where they are not to be learned:
    positions before the first complete patch, positions before ``loss_from[k]`` (the
    validation part starts there), steps at or beyond ``ends[k]`` and padding after the
    end of the last, shorter segment. Segment number ``-1`` gives an idle batch (segment
    0's windows, no targets) for :class:`SegmentSchedule`'s padding.

    Parameters
    ----------
    series : sequence of ndarray
        The normalised series (float32; NaN marks a missing value).
    ends : sequence of int
        Steps of each series that are read (targets never reach past them).
    patch_len, horizon, segment_length : int
        ``P``, ``H`` and ``S`` (a multiple of ``P``).
    loss_from : sequence of int, optional
        First position of each series whose forecast counts in the loss.
    window_len : int, optional
        ``W``: at least ``P``; ``P`` when ``None``.
    """

    def __init__(
        self,
        series: Sequence[np.ndarray],
        ends: Sequence[int],
        patch_len: int,
        horizon: int,
        segment_length: int,
        loss_from: Sequence[int] | None = None,
        window_len: int | None = None,
    ) -> None:
        P, H = patch_len, horizon
        W = P if window_len is None else window_len
        self.ends = np.asarray(ends, dtype=np.int64)
        self.loss_from = np.zeros_like(self.ends) if loss_from is None else np.asarray(loss_from)
        self.patch_len, self.segment_length = P, segment_length
        padded = [
            np.concatenate([np.zeros(W - 1), s[:n], np.full(H, np.nan)]).astype(np.float32)
            for s, n in zip(series, self.ends, strict=True)
        ]
        self.windows = Windows(padded, [(0, int(n) - 1) for n in self.ends], W, H)
        self.num_segments = -(-self.ends // segment_length)

    def __len__(self) -> int:
        return int(self.num_segments.sum())

    def __getitem__(self, pairs: Sequence[tuple[int, int]]) -> Batch:
        k = np.array([p[0] for p in pairs])
        segment = {p[1] for p in pairs}
        if len(segment) != 1:
            raise ValueError(f"a batch must hold one segment number, got {sorted(segment)}")
        number = segment.pop()
        j = max(number, 0)  # an idle batch (-1) reads segment 0 and learns nothing from it
        t = j * self.segment_length + np.arange(self.segment_length)[None, :]
        ends = self.ends[k][:, None]
        idx = self.windows.offsets[k][:, None] + np.minimum(t, ends - 1)
        windows, _, _, target = self.windows.batch(idx.ravel())
        B, S = idx.shape
        windows, target = windows.view(B, S, -1), target.view(B, S, -1)
        beyond = torch.from_numpy(t >= ends)
        windows[beyond] = 0.0
        masked = beyond | torch.from_numpy(
            (t < self.patch_len - 1) | (t < self.loss_from[k][:, None])
        )
        target[masked] = float("nan")
        if number < 0:
            target[:] = float("nan")
        return {
            "series": torch.from_numpy(k),
            "segment": torch.tensor(number),
            "windows": windows,
            "target": target,
        }


class SegmentSchedule(Sampler):
    """Batches of ``(series, segment)`` pairs: segment numbers in order, series shuffled
    within each number (a new order every epoch when ``shuffle``).

    ``series`` restricts the schedule to those series (one process's share under DDP);
    ``length`` pads it with idle batches ``[(k, -1)]`` (the network runs, nothing is
    learned or kept) to that many batches, so that every process takes as many steps.
    """

    def __init__(
        self,
        num_segments: np.ndarray,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        series: np.ndarray | None = None,
        length: int | None = None,
    ) -> None:
        self.num_segments, self.batch_size, self.shuffle = num_segments, batch_size, shuffle
        self.series = np.arange(len(num_segments)) if series is None else np.asarray(series)
        self.length = length
        self.generator = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        counts = self.num_segments[self.series]
        for j in range(int(counts.max(initial=0))):
            series = self.series[counts > j]
            if self.shuffle:
                series = self.generator.permutation(series)
            for a in range(0, len(series), self.batch_size):
                yield [(int(k), j) for k in series[a : a + self.batch_size]]
        for _ in range(len(self) - count_batches(counts, self.batch_size)):
            yield [(int(self.series[0]) if len(self.series) else 0, -1)]

    def __len__(self) -> int:
        own = count_batches(self.num_segments[self.series], self.batch_size)
        return own if self.length is None else max(own, self.length)


def count_batches(num_segments: np.ndarray, batch_size: int) -> int:
    """Batches of a schedule over series with these numbers of segments."""
    top = int(num_segments.max(initial=0))
    return sum(-(-int((num_segments > j).sum()) // batch_size) for j in range(top))


def share_series(
    num_segments: np.ndarray, batch_size: int, world: int, rank: int
) -> tuple[np.ndarray, int]:
    """The series process ``rank`` of ``world`` reads (longest first, dealt in turn) and
    the number of batches every process runs (the most any process needs)."""
    order = np.argsort(-num_segments, kind="stable")
    parts = [order[r::world] for r in range(world)]
    return parts[rank], max(count_batches(num_segments[p], batch_size) for p in parts)


class SegmentDataModule(L.LightningDataModule):
    """Training and validation segments for Lightning.

    Training reads each series up to ``train_ends[k]``; validation reads it whole
    (``len(series[k])`` steps, from its start, so that the state reaching the
    validation part has seen everything before it) and scores the positions from
    ``train_ends[k] - 1`` on, whose targets lie in the validation part. Validation
    segments are read in order, unshuffled.

    Under DDP each process reads its own share of the series (:func:`share_series`),
    each series' segments in order, and every process runs as many batches (idle ones
    fill up); Lightning's distributed sampler must be off (``use_distributed_sampler=
    False``), as it would deal one series' segments to several processes.
    """

    def __init__(
        self,
        series: Sequence[np.ndarray],
        train_ends: Sequence[int],
        patch_len: int,
        horizon: int,
        segment_length: int,
        batch_size: int,
        seed: int = 0,
        window_len: int | None = None,
    ) -> None:
        super().__init__()
        lengths = [len(s) for s in series]
        kw = dict(window_len=window_len)
        self.train = Segments(series, train_ends, patch_len, horizon, segment_length, **kw)
        has_val = [n > e for n, e in zip(lengths, train_ends, strict=True)]
        self.val = None
        if any(has_val):
            keep = [k for k, v in enumerate(has_val) if v]
            self.val = Segments(
                [series[k] for k in keep],
                [lengths[k] for k in keep],
                patch_len,
                horizon,
                segment_length,
                loss_from=[train_ends[k] - 1 for k in keep],
                **kw,
            )
        self.batch_size, self.seed = batch_size, seed

    @property
    def has_validation(self) -> bool:
        """Whether any series has a validation part."""
        return self.val is not None

    def _process(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        return (1, 0) if trainer is None else (trainer.world_size, trainer.global_rank)

    def train_dataloader(self) -> DataLoader:
        world, rank = self._process()
        mine, length = share_series(self.train.num_segments, self.batch_size, world, rank)
        order = SegmentSchedule(
            self.train.num_segments, self.batch_size, True, self.seed + rank, mine, length
        )
        return DataLoader(self.train, sampler=order, batch_size=None)

    def val_dataloader(self) -> DataLoader | list:
        if self.val is None:
            return []
        world, rank = self._process()
        mine, _ = share_series(self.val.num_segments, 2 * self.batch_size, world, rank)
        order = SegmentSchedule(self.val.num_segments, 2 * self.batch_size, False, series=mine)
        return DataLoader(self.val, sampler=order, batch_size=None)
