"""``load``: any registered data set as a wide, timestamped pandas DataFrame."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import pandas as pd

from .errors import ChecksumError
from .home import file_sha1, locate
from .registry import DatasetInfo, get_info
from .statsmodels_sets import load_bundled
from .synthetic import GENERATORS

__all__ = ["load"]

Missing = Literal["keep", "raise", "interpolate"]


def load(
    name: str,
    *,
    data_home: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    verify: bool = False,
    missing: Missing = "keep",
) -> pd.DataFrame:
    """Load a registered data set.

    Parameters
    ----------
    name : str
        A name from :func:`~xlstm_ts.datasets.list_datasets` (case-insensitive).
    data_home : path-like, optional
        Folder holding the benchmark files. Default: ``$XLSTM_TS_DATA``, else
        ``~/.cache/xlstm_ts/datasets``. Not used by the statsmodels and synthetic sets.
    path : path-like, optional
        Read this file instead (or the registry file name inside this folder).
    verify : bool, default False
        Check the file first: its SHA-1 where the registry knows it, else the number of
        rows and columns. Reading a 100 MB file twice costs time, hence off by default.
    missing : {"keep", "raise", "interpolate"}, default "keep"
        What to do with missing values (only ``co2`` has some among the known sets):
        keep them as NaN, raise a ``ValueError`` naming the columns, or interpolate
        linearly in time (leading and trailing gaps stay NaN).

    Returns
    -------
    pandas.DataFrame
        Wide form: one column per series, index a :class:`~pandas.DatetimeIndex` named
        ``date`` in increasing order. The index frequency is set when the timestamps are
        exactly regular at the registry frequency; otherwise it is left ``None`` (no rows
        are inserted or dropped). ``df.attrs["dataset"]`` holds the canonical name, which
        :func:`~xlstm_ts.datasets.split` uses to pick the split rule.

        The synthetic sets (``MackeyGlass17``, ``MackeyGlass30``, ``Lorenz63``,
        ``Lorenz96``) are generated on each call by :mod:`xlstm_ts.datasets.synthetic`
        with the registry's fixed parameters (``get_info(name).generator_params``): the
        same frame bit for bit every time, ``df.attrs["params"]`` saying how it was made.

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones), a file whose ``date`` column
        is missing or cannot be parsed, or an M4 set (read by
        :func:`~xlstm_ts.datasets.m4.load_m4`).
    DatasetNotFoundError
        The file is not there; the message says where to put it and how to download it.
    ChecksumError
        ``verify=True`` and the file differs from the published one.
    """
    info = get_info(name)
    if info.source == "m4":
        raise ValueError(
            f"{info.name} holds series of different lengths and a separate test file: read "
            f"it with xlstm_ts.datasets.load_m4({info.name!r}), which returns a long frame "
            "and the test part"
        )
    if missing not in ("keep", "raise", "interpolate"):
        raise ValueError(f"missing must be 'keep', 'raise' or 'interpolate'; got {missing!r}")
    if info.source in ("statsmodels", "synthetic"):
        if data_home is not None or path is not None:
            where = "bundled with statsmodels" if info.source == "statsmodels" else "generated"
            raise ValueError(f"{info.name} is {where}; data_home and path do not apply")
        if info.source == "statsmodels":
            frame = load_bundled(info.name)
        else:
            frame = GENERATORS[info.generator](**info.generator_params)
    else:
        file = locate(info, data_home=data_home, path=path)
        if verify and info.sha1 is not None:
            _check_sha1(info, file)
        frame = _read_csv(file, info)
        if verify and info.sha1 is None:
            _check_shape(info, frame, file)
    frame = _handle_missing(frame, missing, info.name)
    frame.attrs["dataset"] = info.name
    return frame


def _read_csv(file: Path, info: DatasetInfo) -> pd.DataFrame:
    frame = pd.read_csv(file)
    if "date" not in frame.columns:
        raise ValueError(
            f"{file} has no 'date' column (columns: {list(frame.columns)[:8]}...); "
            f"expected the published {info.name} file"
        )
    raw = frame.pop("date")
    try:
        # Formats differ between files ("2016-07-01 00:00:00", "1990/1/1 0:00");
        # pandas infers one from the first value and applies it to all.
        dates = pd.to_datetime(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{file}: cannot parse the 'date' column as timestamps: {exc}") from exc
    frame.index = pd.DatetimeIndex(dates, name="date")
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
    _set_freq(frame, info.freq)
    return frame


def _set_freq(frame: pd.DataFrame, freq: str) -> None:
    index = frame.index
    if len(index) < 2 or index.has_duplicates:
        return
    regular = pd.date_range(index[0], periods=len(index), freq=freq)
    if regular.equals(index):
        frame.index = pd.DatetimeIndex(index, freq=freq, name="date")


def _check_sha1(info: DatasetInfo, file: Path) -> None:
    digest = file_sha1(file)
    if digest != info.sha1:
        raise ChecksumError(
            f"{file} has SHA-1 {digest}; the published {info.name} file has {info.sha1}. "
            f"Download it again with xlstm_ts.datasets.download({info.name!r}, force=True)."
        )


def _check_shape(info: DatasetInfo, frame: pd.DataFrame, file: Path) -> None:
    shape = (info.n_rows, info.n_columns)
    if frame.shape != shape:
        raise ChecksumError(
            f"{file} has {frame.shape[0]} rows and {frame.shape[1]} data columns; the "
            f"published {info.name} file has {shape[0]} and {shape[1]} (no SHA-1 is known "
            "for it, so only its shape can be checked)"
        )


def _handle_missing(frame: pd.DataFrame, missing: Missing, name: str) -> pd.DataFrame:
    if missing == "keep":
        return frame
    counts = frame.isna().sum()
    counts = counts[counts > 0]
    if counts.empty:
        return frame
    if missing == "raise":
        first = frame.index[frame.isna().any(axis=1)][0]
        detail = ", ".join(f"{col!r}: {n}" for col, n in counts.items())
        raise ValueError(
            f"{name} has missing values ({detail}; first at {first}); pass "
            "missing='keep' to keep them or missing='interpolate' to fill them"
        )
    return frame.interpolate(method="time", limit_area="inside")
