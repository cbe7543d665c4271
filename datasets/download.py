"""``download``: fetch a benchmark file into the data home, atomically, checking its SHA-1."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from .errors import ChecksumError, DownloadError
from .home import file_sha1, get_data_home
from .registry import get_info

__all__ = ["download"]

_CHUNK = 1 << 20
_USER_AGENT = "xlstm-ts-datasets"


def download(
    name: str,
    *,
    data_home: str | os.PathLike[str] | None = None,
    url: str | None = None,
    force: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download a benchmark file into the data home.

    The file is written to a temporary name in the data home and renamed into place only
    once complete and verified, so an interrupted or failed download never leaves a
    partial file under the real name.

    Parameters
    ----------
    name : str
        A registered benchmark file (``list_datasets("file")``).
    data_home : path-like, optional
        Destination folder (created if needed). Default: ``$XLSTM_TS_DATA``, else
        ``~/.cache/xlstm_ts/datasets``.
    url : str, optional
        Fetch from here instead of the registry URL (a mirror, or a ``file://`` URL).
        The registry SHA-1 is checked all the same.
    force : bool, default False
        Download even if the file is already there.
    timeout : float, default 60
        Seconds to wait for the server at each network operation.

    Returns
    -------
    pathlib.Path
        The file in the data home.

    Raises
    ------
    ValueError
        Unknown name, a set bundled with statsmodels (nothing to download), or an M4 set
        (two files: the message gives their URLs and where to put them).
    ChecksumError
        The SHA-1 differs from the registry's; the downloaded bytes are removed. Also
        raised for an existing file that differs, unless ``force=True``.
    DownloadError
        The URL could not be read.

    Warns
    -----
    UserWarning
        The registry knows no SHA-1 for this set, so the download cannot be verified;
        the warning gives the SHA-1 of the received file.
    """
    info = get_info(name)
    if info.source == "m4":
        home = get_data_home(data_home)
        test_url = info.url.replace("/Train/", "/Test/").replace("-train.", "-test.")
        raise ValueError(
            f"{info.name} is two files; download {info.url} to {home / info.filename} and "
            f"{test_url} to {home / info.test_filename} (the M4-methods repository)"
        )
    if info.filename is None or info.url is None:
        raise ValueError(f"{info.name} is bundled with {info.source}; there is nothing to download")
    home = get_data_home(data_home)
    target = home / info.filename
    if target.is_file() and not force:
        if info.sha1 is not None and (digest := file_sha1(target)) != info.sha1:
            raise ChecksumError(
                f"{target} exists with SHA-1 {digest}, not the published {info.sha1}; "
                f"pass force=True to download {info.name} again"
            )
        return target
    source = url if url is not None else info.url
    home.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=home, prefix=f".{info.filename}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _fetch(source, out, timeout)
        if info.sha1 is not None and digest != info.sha1:
            raise ChecksumError(
                f"{info.name} from {source} has SHA-1 {digest}; expected {info.sha1}. "
                "The download was discarded; the file or the mirror differs from the "
                "published data."
            )
        # mkstemp makes the file private (0600); a data file is ordinary readable data.
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    if info.sha1 is None:
        warnings.warn(
            f"no published SHA-1 is recorded for {info.name}, so the download from {source} "
            f"could not be verified; the file written to {target} has SHA-1 {digest}",
            UserWarning,
            stacklevel=2,
        )
    return target


def _fetch(url: str, out, timeout: float) -> str:
    """Stream ``url`` into the open binary file ``out``; return the SHA-1 of the bytes."""
    digest = hashlib.sha1()
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        # URLError covers HTTP errors; ValueError is an unsupported or malformed URL.
        raise DownloadError(f"could not download {url}: {exc}") from exc
    return digest.hexdigest()
