"""Windows ``(context, target)`` cut from per-series arrays: the one window primitive.

Training, validation, prediction, ``score`` and the benchmark all take their windows
from :class:`Windows`; nothing else slices contexts out of series.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from functools import cached_property

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch.utils.data import Dataset


class Windows(Dataset):
    """Every window whose start lies in a per-series range, found by arithmetic.

    Window ``j`` of series ``k`` has its context at ``[s, s + L)`` and its target at
    ``[s + L, s + L + H)`` with ``s = starts[k][0] + j``; windows are numbered series
    after series. No window is materialised: batches are gathered on demand from the
    series laid end to end (one copy, made on first use) and blocks are copied from views
    (:func:`numpy.lib.stride_tricks.sliding_window_view`), so memory is about twice that
    of the series themselves.

    Parameters
    ----------
    series : sequence of ndarray
        One 1-D array per series (any float dtype; items are float32 tensors).
    starts : sequence of (int, int)
        For each series, the first and last window start (inclusive); ``(0, -1)`` is an
        empty range.
    context_length, horizon : int
        ``L`` and ``H`` (``H = 0`` for windows that only have a context).
    covariates : sequence of ndarray, optional
        One (time, n_covariates) array per series; the future-known ones come last.
    n_future : int
        How many of the covariates are known over the horizon.
    """

    def __init__(
        self,
        series: Sequence[np.ndarray],
        starts: Sequence[tuple[int, int]],
        context_length: int,
        horizon: int,
        covariates: Sequence[np.ndarray] | None = None,
        n_future: int = 0,
    ) -> None:
        self.series = list(series)
        self.covariates = (
            list(covariates) if covariates else [np.zeros((len(s), 0)) for s in self.series]
        )
        self.context_length, self.horizon, self.n_future = context_length, horizon, n_future
        self.first = np.array([lo for lo, _ in starts], dtype=np.int64)
        self.counts = np.array([max(hi - lo + 1, 0) for lo, hi in starts], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)])
        for k, (lo, hi) in enumerate(starts):
            if hi >= lo and (lo < 0 or hi + context_length + horizon > len(self.series[k])):
                raise ValueError(
                    f"window starts [{lo}, {hi}] do not fit series {k} of length "
                    f"{len(self.series[k])} with context_length {context_length} and "
                    f"horizon {horizon}"
                )

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def locate(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Series number and start step of the windows numbered ``idx``."""
        idx = np.asarray(idx, dtype=np.int64)
        k = np.searchsorted(self.offsets, idx, side="right") - 1
        return k, self.first[k] + idx - self.offsets[k]

    def origins(self, k: int) -> np.ndarray:
        """Step of the first target value of each window of series ``k``."""
        return self.first[k] + self.context_length + np.arange(self.counts[k])

    def __getitem__(self, j: int | Sequence[int] | np.ndarray) -> tuple[torch.Tensor, ...]:
        """``(context (L,), covariates (L, n_cov), future covariates (H, n_future),
        target (H,))`` as float32 tensors; a sequence of indices gives the batch of those
        windows, each part with a leading batch dimension (see :meth:`batch`)."""
        if isinstance(j, int | np.integer):
            return tuple(part[0] for part in self.batch(np.array([j])))
        return self.batch(np.asarray(j))

    def batch(self, idx: np.ndarray) -> tuple[torch.Tensor, ...]:
        """The windows numbered ``idx``, stacked: contexts (n, L), covariates
        (n, L, n_cov), future covariates (n, H, n_future) and targets (n, H), float32,
        gathered in one indexing step from the series laid end to end."""
        L = self.context_length
        values = self._gather(self._joined_series, idx, np.float32)
        cov = self._gather(self._joined_covariates, idx, np.float32)  # (n, L + H, n_cov)
        future = cov[:, L:, cov.shape[2] - self.n_future :]
        parts = (values[:, :L], cov[:, :L], future, values[:, L:])
        return tuple(torch.from_numpy(np.ascontiguousarray(p)) for p in parts)

    def batches(self, size: int) -> Iterator[tuple[torch.Tensor, ...]]:
        """Every window once, in order, as batches of at most ``size`` (see :meth:`batch`)."""
        for a in range(0, len(self), size):
            yield self.batch(np.arange(a, min(a + size, len(self))))

    def series_windows(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Views ``(contexts (n, L), targets (n, H))`` of every window of series ``k``."""
        lo, n = int(self.first[k]), int(self.counts[k])
        w = sliding_window_view(self.series[k], self.context_length + self.horizon)[lo : lo + n]
        return w[:, : self.context_length], w[:, self.context_length :]

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Copies ``(contexts (n, L), targets (n, H))`` of the windows numbered ``idx``."""
        out = self._gather(self._joined_series, idx, np.result_type(*self.series))
        return out[:, : self.context_length], out[:, self.context_length :]

    def _gather(self, joined: tuple[np.ndarray, ...], idx: np.ndarray, dtype) -> np.ndarray:
        """Copies of the windows numbered ``idx`` from series laid end to end (``joined``:
        :attr:`_joined_series` or :attr:`_joined_covariates`): (n, L + H, ...), one
        indexing step whatever the number of series a batch touches."""
        flat, offsets = joined
        k, start = self.locate(idx)
        width = self.context_length + self.horizon
        out = np.empty((len(k), width, *flat.shape[1:]), dtype=dtype)
        if out.size:
            out[...] = flat[(offsets[k] + start)[:, None] + np.arange(width)]
        return out

    @cached_property
    def _joined_series(self) -> tuple[np.ndarray, np.ndarray]:
        """The series end to end and where each begins (made on first use)."""
        return _end_to_end(self.series)

    @cached_property
    def _joined_covariates(self) -> tuple[np.ndarray, np.ndarray]:
        return _end_to_end(self.covariates)

    def iter_blocks(self, size: int) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """``(series, origins, contexts, targets)`` for blocks of at most ``size`` windows,
        series by series (copies)."""
        for k in range(len(self.series)):
            X, Y = self.series_windows(k)
            origins = self.origins(k)
            for a in range(0, len(X), size):
                yield (
                    k,
                    origins[a : a + size],
                    np.ascontiguousarray(X[a : a + size]),
                    np.ascontiguousarray(Y[a : a + size]),
                )

    def blocks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every window once as ``(contexts, targets)``, at most ``size`` at a time."""
        for _, _, X, Y in self.iter_blocks(size):
            yield X, Y

    def arrays(self) -> tuple[np.ndarray, ...]:
        """All windows stacked: contexts, covariates, future covariates and targets
        (float32), for small sets such as the last window of each series."""
        return tuple(part.numpy() for part in self.batch(np.arange(len(self))))


def _end_to_end(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``arrays`` (time first) concatenated, and the offset of each."""
    offsets = np.cumsum([0] + [len(a) for a in arrays[:-1]], dtype=np.int64)
    return (np.concatenate(arrays) if arrays else np.zeros(0)), offsets


def split_starts(
    lengths: Sequence[int], context_length: int, horizon: int, validation_steps: Sequence[int]
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


def train_val_windows(
    values: Sequence[np.ndarray],
    ids: Sequence[Hashable],
    context_length: int,
    horizon: int,
    validation_steps: Sequence[int],
    covariates: Sequence[np.ndarray] | None = None,
    n_future: int = 0,
) -> tuple[Windows, Windows]:
    """Training windows and validation windows (the last ``validation_steps`` of each
    series), after checking that every series is long enough."""
    lengths = [len(v) for v in values]
    for series, n, v in zip(ids, lengths, validation_steps, strict=True):
        need = context_length + horizon + v
        if n < need:
            raise ValueError(
                f"series {series!r} has {n} steps; context_length + horizon"
                + (f" + validation ({v})" if v else "")
                + f" = {need} are needed. Shorten context_length or validation_size"
            )
    train, val = split_starts(lengths, context_length, horizon, validation_steps)
    kw = dict(covariates=covariates, n_future=n_future)
    return (
        Windows(values, train, context_length, horizon, **kw),
        Windows(values, val, context_length, horizon, **kw),
    )


def final_windows(
    values: Sequence[np.ndarray],
    ids: Sequence[Hashable],
    context_length: int,
    horizon: int = 0,
    covariates: Sequence[np.ndarray] | None = None,
    n_future: int = 0,
) -> Windows:
    """The last window of each series: its target is the last ``horizon`` steps (none
    when ``horizon=0``, the window to forecast the future from)."""
    for series, v in zip(ids, values, strict=True):
        if len(v) < context_length + horizon:
            raise ValueError(
                f"series {series!r} has {len(v)} steps; "
                + (
                    f"scoring needs context_length + horizon = {context_length + horizon}"
                    if horizon
                    else f"forecasting needs the last context_length={context_length}"
                )
            )
    starts = [(len(v) - context_length - horizon,) * 2 for v in values]
    return Windows(values, starts, context_length, horizon, covariates, n_future)
