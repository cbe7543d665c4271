"""Data of the benchmark: canonical splits, train-only scaling, lazy windows per part."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from xlstm_ts.data import Windows, infer_freq, read_csv
from xlstm_ts.datasets import SplitBounds, get_info, split_bounds

Part = Literal["train", "val", "test"]
Missing = Literal["raise", "interpolate"]


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
    missing : dict
        How missing values were treated: ``{"policy": "interpolate", "filled": {"co2":
        59}}`` (values filled per column; empty when there were none).
    generator : dict or None
        For a synthetic data set, the generator and its keyword arguments.
    """

    name: str
    values: np.ndarray
    columns: list[str]
    context_length: int
    bounds: SplitBounds
    freq: str | None
    scaler: StandardScaler = field(repr=False)
    missing: dict[str, Any] = field(default_factory=lambda: {"policy": "raise", "filled": {}})
    generator: dict[str, Any] | None = None

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


def registry_defaults(dataset: str | None) -> dict[str, Any]:
    """The benchmark settings the registry recommends for ``dataset``.

    Returns
    -------
    dict
        ``horizons`` (list of int), ``context_length`` (int) and ``season`` (int), each
        ``None`` where the registry has none (and all ``None`` for ``dataset=None``).
    """
    if dataset is None:
        return {"horizons": None, "context_length": None, "season": None}
    info = get_info(dataset)
    return {
        "horizons": None if info.horizons is None else list(info.horizons),
        "context_length": info.context_length,
        "season": info.season,
    }


def resolve_horizons(dataset: str | None, horizons: Sequence[int] | None) -> list[int]:
    """``horizons`` if given, else the registry's for ``dataset``; an error if neither."""
    if horizons is not None:
        return [int(h) for h in horizons]
    found = registry_defaults(dataset)["horizons"]
    if found is None:
        what = "a CSV file" if dataset is None else f"data set {get_info(dataset).name}"
        raise ValueError(
            f"no horizons given and the registry recommends none for {what}; "
            "give them (--horizons H [H ...])"
        )
    return found


def _fill(frame: pd.DataFrame, missing: Missing) -> tuple[pd.DataFrame, dict[str, int]]:
    """Interpolate inner gaps linearly in time (as ``datasets.load(missing="interpolate")``)."""
    if missing not in ("raise", "interpolate"):
        raise ValueError(f"missing must be 'raise' or 'interpolate'; got {missing!r}")
    before = frame.isna().sum()
    if missing == "raise" or not before.any():
        return frame, {}
    method = "time" if isinstance(frame.index, pd.DatetimeIndex) else "linear"
    filled = frame.interpolate(method=method, limit_area="inside")
    counts = before - filled.isna().sum()
    return filled, {str(c): int(n) for c, n in counts.items() if n > 0}


def prepare(
    dataset: str | None = None,
    *,
    context_length: int | None = None,
    csv: str | os.PathLike[str] | None = None,
    target: Sequence[str] | None = None,
    time_col: str | None = None,
    data_home: str | os.PathLike[str] | None = None,
    missing: Missing = "raise",
) -> LTSFData:
    """Load, split and scale a data set for the benchmark.

    Parameters
    ----------
    dataset : str, optional
        A registered name (see :func:`xlstm_ts.datasets.list_datasets`); its canonical
        split rule applies. With ``csv``, a registered name picks the rule for that file.
        Synthetic sets (``MackeyGlass30``, ``Lorenz63``, ...) are generated with the
        registry's fixed parameters.
    context_length : int, optional
        ``L``: validation and test parts start ``L`` rows early. Default: the registry's
        recommended context length for ``dataset`` (an error where there is none, e.g.
        for a CSV file of your own).
    csv : path-like, optional
        A wide CSV file (a time column, then one column per series) instead of, or as the
        file of, ``dataset``. Without ``dataset`` it is split 70/10/20.
    target : sequence of str, optional
        Columns to use; default all.
    time_col : str, optional
        Time column of ``csv``; default its first column.
    data_home : path-like, optional
        Where registered files are read from.
    missing : {"raise", "interpolate"}, default "raise"
        ``"raise"`` refuses inner gaps; ``"interpolate"`` fills them linearly in time (as
        ``datasets.load(name, missing="interpolate")``; ``co2`` has 59 missing weeks)
        and counts them in ``LTSFData.missing``. Missing values at the start or
        the end of a column always raise.

    Returns
    -------
    LTSFData
    """
    from xlstm_ts.datasets import load

    if dataset is None and csv is None:
        raise ValueError("give a registered dataset name or a csv path")
    if context_length is None:
        context_length = registry_defaults(dataset)["context_length"]
        if context_length is None:
            what = f"data set {get_info(dataset).name}" if dataset else f"the file {csv}"
            raise ValueError(
                f"no context length given and the registry recommends none for {what}; "
                "give it (context_length=..., --context-length L)"
            )
    if csv is not None:
        frame, freq = _read(Path(csv), time_col)
        name = Path(csv).stem if dataset is None else get_info(dataset).name
        freq = freq or (get_info(dataset).freq if dataset is not None else None)
    else:
        frame = load(dataset, data_home=data_home)
        name = frame.attrs["dataset"]
        freq = get_info(name).freq
    if target is not None:
        absent = [c for c in target if c not in frame.columns]
        if absent:
            raise ValueError(f"target columns {absent} not found; columns are {list(frame)}")
        frame = frame[list(target)]
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"columns {bad} are not numeric; pass target=[...] to choose columns")
    bounds = split_bounds(dataset, context_length, n_rows=len(frame))
    frame, filled = _fill(frame, missing)
    raw = frame.to_numpy(dtype=np.float64)[: bounds.test[1]]
    if np.isnan(raw).any():
        has_nan = np.isnan(raw).any(axis=0)
        cols = [str(c) for c, nan in zip(frame.columns, has_nan, strict=True) if nan]
        how = (
            "pass missing='interpolate' (--missing interpolate) to fill inner gaps, or fill them"
            if missing == "raise"
            else "they lie at the start or end, where they cannot be interpolated; fill or "
            "drop them"
        )
        raise ValueError(f"missing values in columns {cols}; {how} before benchmarking")
    scaler = StandardScaler().fit(raw[: bounds.train[1]])
    info = get_info(dataset) if dataset is not None else None
    generator = None
    if csv is None and info is not None and info.source == "synthetic":
        generator = {"function": info.generator, "params": dict(info.generator_params)}
    return LTSFData(
        name=name,
        values=np.ascontiguousarray(scaler.transform(raw).T),
        columns=[str(c) for c in frame.columns],
        context_length=context_length,
        bounds=bounds,
        freq=freq,
        scaler=scaler,
        missing={"policy": missing, "filled": filled},
        generator=generator,
    )
