"""C sources built on first use with the system's C compiler and loaded with ctypes.

A source is compiled once per machine into a cache folder (``~/.cache/xlstm_ts/kernels``,
or ``$XLSTM_TS_KERNEL_CACHE``); no Python headers or torch build files are needed, only a
C compiler (``$CC``, else ``cc``, ``gcc`` or ``clang``). Where none is found, or the build
fails, :func:`load` returns ``None`` and the callers' NumPy forms run instead.
``XLSTM_TS_COMPILED_LOOPS=0`` switches every compiled form off.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

# no -ffast-math: the code relies on IEEE infinities (m = -inf is the empty memory)
FLAGS = ["-O3", "-fPIC", "-shared", "-fno-math-errno", "-ffp-contract=off"]


def enabled() -> bool:
    """Whether compiled forms may be used (``XLSTM_TS_COMPILED_LOOPS`` is not ``0``)."""
    return os.environ.get("XLSTM_TS_COMPILED_LOOPS", "1") != "0"


def _cache_dir() -> Path:
    env = os.environ.get("XLSTM_TS_KERNEL_CACHE")
    return Path(env).expanduser() if env else Path("~/.cache/xlstm_ts/kernels").expanduser()


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def _build(cc: str, source: Path, stem: str) -> Path:
    """Compile ``source`` into the cache (once: the name holds a hash of what went in)."""
    key = hashlib.sha256(
        source.read_bytes() + " ".join([cc, *FLAGS, platform.machine(), platform.system()]).encode()
    ).hexdigest()[:16]
    target = _cache_dir() / f"{stem}_{key}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # built under a temporary name and renamed: processes that build at once never load a
    # half-written file
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        subprocess.run([cc, *FLAGS, "-o", tmp, str(source), "-lm"], check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def load(source: Path, stem: str, what: str) -> ctypes.CDLL | None:
    """The compiled ``source`` loaded, or ``None`` (switched off, no compiler, or the build
    failed: then with a warning naming ``what``, the code that falls back to NumPy)."""
    if not enabled() or not source.exists():
        return None
    cc = _compiler()
    if cc is None:
        return None
    try:
        return ctypes.CDLL(str(_build(cc, source, stem)))
    except (OSError, subprocess.SubprocessError) as exc:
        warnings.warn(
            f"{what} could not be built ({type(exc).__name__}: {exc}); using the NumPy "
            "form, which gives the same results more slowly",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
