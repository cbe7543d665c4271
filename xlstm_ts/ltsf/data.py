"""Data of the benchmark: canonical splits, train-only scaling, lazy windows per part."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from xlstm_ts.data import Windows, infer_freq, read_csv
from xlstm_ts.datasets import SplitBounds, split_bounds

Part = Literal["train", "val", "test"]


@dataclass
class LTSFData:
    """A data set prepared for the benchmark: canonical splits and train-only scaling.

    Attributes
    ----------
    name : str
        Data set name, or the CSV file's stem.
    values : ndarray of shape (C, T)
        Z-scored channels, rows ``[0, bounds.test[1])`` (later rows are not used).
    columns : list of str
        Channel names.
    context_length : int
        ``L``: every window's context.
    bounds : SplitBounds
        Rows of the train, validation and test parts.
    freq : str or None
        Pandas frequency of the rows, where known.
    scaler : StandardScaler
        Fitted on the training rows; ``scaler.mean_``/``scaler.scale_`` per channel.
    """

    name: str
    values: np.ndarray
    columns: list[str]
    context_length: int
    bounds: SplitBounds
    freq: str | None
    scaler: StandardScaler = field(repr=False)

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return self.values.shape[0]

    def windows(self, part: Part, horizon: int) -> Windows:
        """Every stride-1 window of ``part`` (``"train"``, ``"val"`` or ``"test"``).

        Each channel is a series of its own; window ``j`` of channel ``c`` has its
        context at rows ``[o − L, o)`` and its target at ``[o, o + H)`` with origin
        ``o = start + L + j`` (``Windows.origins``), where ``[start, stop)`` are the
        part's rows (its first ``L`` rows are context only).
        """
        if part not in ("train", "val", "test"):
            raise ValueError(f"part must be 'train', 'val' or 'test'; got {part!r}")
        start, stop = getattr(self.bounds, part)
        L = self.context_length
        if stop - start < L + horizon:
            raise ValueError(
                f"rows [{start}, {stop}) hold no window of context_length {L} + horizon "
                f"{horizon}; the part needs at least {L + horizon} rows"
            )
        starts = [(start, stop - L - horizon)] * self.n_channels
        return Windows(list(self.values), starts, L, horizon)


def _read(path: Path, time_col: str | None) -> tuple[pd.DataFrame, str | None]:
    """A wide CSV file: the time column becomes the index (datetimes: checked sorted)."""
    frame, time_col = read_csv(path, time_col)
    times = frame.pop(time_col)
    if not pd.api.types.is_datetime64_any_dtype(times):
        return frame, None
    index = pd.DatetimeIndex(times)
    if not index.is_monotonic_increasing:
        raise ValueError(f"{path}: the times in {time_col!r} are not in increasing order")
    frame.index = index
    return frame, infer_freq(index)


def prepare(
    dataset: str | None = None,
    *,
    context_length: int,
    csv: str | os.PathLike[str] | None = None,
    target: Sequence[str] | None = None,
    time_col: str | None = None,
    data_home: str | os.PathLike[str] | None = None,
) -> LTSFData:
    """Load, split and scale a data set for the benchmark.

    Parameters
    ----------
    dataset : str, optional
        A registered name (see :func:`xlstm_ts.datasets.list_datasets`); its canonical
        split rule applies. With ``csv``, a registered name picks the rule for that file.
    context_length : int
        ``L``: validation and test parts start ``L`` rows early.
    csv : path-like, optional
        A wide CSV file (a time column, then one column per series) instead of, or as the
        file of, ``dataset``. Without ``dataset`` it is split 70/10/20.
    target : sequence of str, optional
        Columns to use; default all.
    time_col : str, optional
        Time column of ``csv``; default its first column.
    data_home : path-like, optional
        Where registered files are read from.

    Returns
    -------
    LTSFData
    """
    from xlstm_ts.datasets import get_info, load

    if dataset is None and csv is None:
        raise ValueError("give a registered dataset name or a csv path")
    if csv is not None:
        frame, freq = _read(Path(csv), time_col)
        name = Path(csv).stem if dataset is None else get_info(dataset).name
        freq = freq or (get_info(dataset).freq if dataset is not None else None)
    else:
        frame = load(dataset, data_home=data_home)
        name = frame.attrs["dataset"]
        freq = get_info(name).freq
    if target is not None:
        missing = [c for c in target if c not in frame.columns]
        if missing:
            raise ValueError(f"target columns {missing} not found; columns are {list(frame)}")
        frame = frame[list(target)]
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"columns {bad} are not numeric; pass target=[...] to choose columns")
    bounds = split_bounds(dataset, context_length, n_rows=len(frame))
    raw = frame.to_numpy(dtype=np.float64)[: bounds.test[1]]
    if np.isnan(raw).any():
        has_nan = np.isnan(raw).any(axis=0)
        cols = [str(c) for c, nan in zip(frame.columns, has_nan, strict=True) if nan]
        raise ValueError(f"missing values in columns {cols}; fill them before benchmarking")
    scaler = StandardScaler().fit(raw[: bounds.train[1]])
    return LTSFData(
        name=name,
        values=np.ascontiguousarray(scaler.transform(raw).T),
        columns=[str(c) for c in frame.columns],
        context_length=context_length,
        bounds=bounds,
        freq=freq,
        scaler=scaler,
    )
