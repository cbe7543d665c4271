"""The data home (where benchmark files live), locating a file in it, and file checksums."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import DatasetNotFoundError
from .registry import DatasetInfo

__all__ = ["DATA_HOME_ENV", "file_sha1", "get_data_home", "locate"]

DATA_HOME_ENV = "XLSTM_TS_DATA"
_DEFAULT_HOME = Path("~/.cache/xlstm_ts/datasets")


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """Folder where benchmark files are looked for and downloaded to.

    Parameters
    ----------
    data_home : path-like, optional
        Taken as is when given. Otherwise the environment variable ``XLSTM_TS_DATA``,
        and when that is unset or empty, ``~/.cache/xlstm_ts/datasets``.

    Returns
    -------
    pathlib.Path
        The folder, with ``~`` expanded. It is not created here.
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or _DEFAULT_HOME
    return Path(data_home).expanduser()


def locate(
    info: DatasetInfo,
    *,
    data_home: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Path:
    """Path of a benchmark file that exists, or an error saying where to put it.

    Parameters
    ----------
    info : DatasetInfo
        A ``source="file"`` entry of the registry.
    data_home : path-like, optional
        See :func:`get_data_home`; ignored when ``path`` is given.
    path : path-like, optional
        The file itself, or a folder holding it under its registry file name.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DatasetNotFoundError
        If the file does not exist; the message names the expected location and how to
        download the file.
    """
    if info.filename is None:
        raise ValueError(f"{info.name} is bundled with {info.source}; it has no file")
    if path is not None:
        candidate = Path(path).expanduser()
        if candidate.is_dir():
            candidate = candidate / info.filename
        if candidate.is_file():
            return candidate
        raise DatasetNotFoundError(
            f"{info.name}: no file at {candidate} (from path={os.fspath(path)!r}). "
            f"Pass the path of {info.filename} or of the folder that holds it, or "
            f"download it with xlstm_ts.datasets.download({info.name!r}) from {info.url}."
        )
    home = get_data_home(data_home)
    candidate = home / info.filename
    if candidate.is_file():
        return candidate
    raise DatasetNotFoundError(
        f"{info.name}: {info.filename} not found in the data home {home}. "
        f"Put the file at {candidate}, or download it there with "
        f"xlstm_ts.datasets.download({info.name!r}) (source: {info.url}). "
        f"The data home is the data_home argument, else ${DATA_HOME_ENV}, "
        f"else {_DEFAULT_HOME}; pass path= to read a file elsewhere."
    )


def file_sha1(path: str | os.PathLike[str], *, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-1 of a file, read in chunks.

    Parameters
    ----------
    path : path-like
        The file.
    chunk_size : int, default 1 MiB
        Bytes read at a time.

    Returns
    -------
    str
        40 lower-case hex digits.
    """
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
