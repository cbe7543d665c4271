"""The M4 competition's series by frequency: a long training frame and the official test part.

The competition publishes, per frequency, a training file and a test file with one row
per series: the id (``W1``, ``W2``, ... for weekly) in column ``V1``, then the values,
the training rows padded with empty cells to the longest series. The test file holds
the ``h`` values that follow each training series (13 for weekly). There are no dates:
:func:`load_m4` numbers the steps ``0, 1, ...`` from each series' first value, and the
test part continues that count.

>>> from xlstm_ts.datasets.m4 import load_m4
>>> m4 = load_m4("M4Weekly")                      # doctest: +SKIP
>>> m4.train.head(2)                              # doctest: +SKIP
  unique_id  ds        y
0        W1   0  1089.20
1        W1   1  1078.91
>>> m4.horizon, m4.season, m4.train.unique_id.nunique()  # doctest: +SKIP
(13, 1, 359)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ChecksumError, DatasetNotFoundError
from .home import file_sha1, get_data_home
from .registry import DatasetInfo, get_info, list_datasets

__all__ = ["M4Data", "load_m4", "m4_names"]


@dataclass(frozen=True)
class M4Data:
    """One M4 frequency, as :func:`load_m4` returns it.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"M4Weekly"``.
    train : pandas.DataFrame
        Long frame ``unique_id`` (str), ``ds`` (int, the step from the series' first
        value), ``y`` (float): every series' training part, series in file order.
    test : pandas.DataFrame
        The official test part in the same columns: ``horizon`` rows per series, ``ds``
        continuing from its last training step.
    horizon : int
        The competition's forecast horizon ``h``.
    season : int
        The competition's seasonal period ``m`` (MASE's lag, Naive2's season).
    files : tuple of pathlib.Path
        The training and test files read.
    """

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    horizon: int
    season: int
    files: tuple[Path, Path]

    @property
    def ids(self) -> list[str]:
        """Series ids, in file order."""
        return list(pd.unique(self.train["unique_id"]))

    def series(self) -> list[np.ndarray]:
        """Training values of each series, in file order (views of ``train["y"]``)."""
        return _split_by_id(self.train)

    def test_values(self) -> np.ndarray:
        """Test values, shape ``(n_series, horizon)``, series in file order."""
        return self.test["y"].to_numpy().reshape(-1, self.horizon)


def m4_names() -> list[str]:
    """Registry names of the M4 frequencies, ``M4Yearly`` to ``M4Hourly``."""
    return list_datasets("m4")


def load_m4(
    name: str = "M4Weekly",
    *,
    data_home: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    verify: bool = False,
) -> M4Data:
    """Read one M4 frequency: the training series as a long frame and the test part.

    Parameters
    ----------
    name : str, default "M4Weekly"
        ``M4Yearly``, ``M4Quarterly``, ``M4Monthly``, ``M4Weekly``, ``M4Daily`` or
        ``M4Hourly`` (case-insensitive; ``m4_weekly`` works too).
    data_home : path-like, optional
        Folder holding ``m4/<Frequency>-train.csv`` and ``m4/<Frequency>-test.csv``.
        Default: ``$XLSTM_TS_DATA``, else ``~/.cache/xlstm_ts/datasets``.
    path : path-like, optional
        Read from this folder instead: it holds the two files, directly or in ``m4/``.
    verify : bool, default False
        Check the files' SHA-1 where the registry knows it (weekly), else the number of
        series and the longest training series.

    Returns
    -------
    M4Data
        ``train`` and ``test`` long frames, ``horizon`` and ``season``.

    Raises
    ------
    ValueError
        A name that is not an M4 frequency, or files that do not have the competition's
        layout (ids differing between the files, a gap inside a series, a test row
        without ``horizon`` values).
    DatasetNotFoundError
        A file is missing; the message says where to put it and where it is published.
    ChecksumError
        ``verify=True`` and a file differs from the published one.
    """
    info = get_info(name)
    if info.source != "m4":
        raise ValueError(
            f"{info.name} is not an M4 frequency; load it with xlstm_ts.datasets.load. "
            f"M4 sets: {', '.join(m4_names())}"
        )
    train_file = _locate(info, info.filename, data_home, path)
    test_file = _locate(info, info.test_filename, data_home, path)
    if verify:
        for file, sha1 in ((train_file, info.sha1), (test_file, info.test_sha1)):
            if sha1 is not None and (digest := file_sha1(file)) != sha1:
                raise ChecksumError(
                    f"{file} has SHA-1 {digest}; the published {info.name} file has {sha1}"
                )
    horizon = info.horizons[0]
    train_ids, train_values = _read_rows(train_file)
    test_ids, test_values = _read_rows(test_file)
    if train_ids != test_ids:
        raise ValueError(
            f"{test_file} does not hold the series of {train_file} in the same order "
            f"({len(test_ids)} and {len(train_ids)} ids)"
        )
    bad = [i for i, v in zip(test_ids, test_values, strict=True) if len(v) != horizon]
    if bad:
        raise ValueError(
            f"{test_file}: series {bad[:5]} do not have {horizon} test values (the "
            f"{info.name} horizon)"
        )
    if verify and info.sha1 is None:
        longest = max(len(v) for v in train_values)
        if (len(train_ids), longest) != (info.n_rows, info.n_columns):
            raise ChecksumError(
                f"{train_file} has {len(train_ids)} series, the longest of {longest} values; "
                f"the published {info.name} has {info.n_rows} and {info.n_columns}"
            )
    lengths = np.array([len(v) for v in train_values])
    train = _long(train_ids, train_values, np.zeros(len(lengths), dtype=np.int64))
    test = _long(test_ids, test_values, lengths)
    for frame in (train, test):
        frame.attrs["dataset"] = info.name
    return M4Data(info.name, train, test, horizon, int(info.season), (train_file, test_file))


def _locate(
    info: DatasetInfo,
    filename: str,
    data_home: str | os.PathLike[str] | None,
    path: str | os.PathLike[str] | None,
) -> Path:
    if path is not None:
        folder = Path(path).expanduser()
        candidates = [folder / filename, folder / Path(filename).name]
    else:
        folder = get_data_home(data_home)
        candidates = [folder / filename]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    url = info.url if filename == info.filename else _test_url(info)
    where = f"path={os.fspath(path)!r}" if path is not None else "the data home"
    raise DatasetNotFoundError(
        f"{info.name}: {filename} not found in {where} ({candidates[0]}). Put the file "
        f"at {candidates[0]} (published at {url}); the data home is the data_home "
        "argument, else $XLSTM_TS_DATA, else ~/.cache/xlstm_ts/datasets."
    )


def _test_url(info: DatasetInfo) -> str:
    return info.url.replace("/Train/", "/Test/").replace("-train.", "-test.")


def _read_rows(file: Path) -> tuple[list[str], list[np.ndarray]]:
    """Ids and values of a competition file (``"V1","V2",...`` header, quoted cells)."""
    ids, values = [], []
    with open(file, encoding="utf-8") as fh:
        header = fh.readline().strip().replace('"', "").split(",")
        if not header or header[0] != "V1":
            raise ValueError(
                f"{file} does not start with the competition's header V1,V2,...; got {header[:3]}"
            )
        for number, line in enumerate(fh, start=2):
            cells = line.rstrip("\r\n").replace('"', "").split(",")
            if not cells[0]:
                continue  # an empty line
            count = len(cells)
            while count > 1 and cells[count - 1] in ("", "NA"):
                count -= 1  # the padding after a shorter series
            try:
                row = np.array(cells[1:count], dtype=np.float64)
            except ValueError as exc:
                raise ValueError(
                    f"{file}, line {number} (series {cells[0]}): a cell inside the series "
                    f"is empty or not a number ({exc})"
                ) from exc
            if row.size == 0 or not np.isfinite(row).all():
                raise ValueError(
                    f"{file}, line {number} (series {cells[0]}): no values, or a missing "
                    "or infinite value inside the series"
                )
            ids.append(cells[0])
            values.append(row)
    if not ids:
        raise ValueError(f"{file} holds no series")
    return ids, values


def _long(ids: list[str], values: list[np.ndarray], first: np.ndarray) -> pd.DataFrame:
    lengths = np.array([len(v) for v in values])
    starts = np.repeat(first - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.array(ids, dtype=object), lengths).astype(str),
            "ds": np.arange(lengths.sum(), dtype=np.int64) + starts,
            "y": np.concatenate(values),
        }
    )


def _split_by_id(frame: pd.DataFrame) -> list[np.ndarray]:
    ids = frame["unique_id"].to_numpy()
    cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    return np.split(frame["y"].to_numpy(), cuts)
