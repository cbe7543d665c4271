"""The sLSTM step loops in C, built on first use with the system's C compiler.

The NumPy step loops of :mod:`.fused_recurrent` spend their time in the overhead of some
twenty small calls per step. The same loops in C (``step_loops.c``) run a step in well
under a microsecond. The source is compiled once per machine into a cache folder
(``~/.cache/xlstm_ts/kernels``, or ``$XLSTM_TS_KERNEL_CACHE``) and loaded with
:mod:`ctypes`; no Python headers or torch build files are needed, only a C compiler
(``$CC``, else ``cc``, ``gcc`` or ``clang``). Where none is found, or the build fails,
:func:`library` returns ``None`` and the NumPy loops run instead: the results are the same
to rounding. ``XLSTM_TS_COMPILED_LOOPS=0`` switches the C loops off.
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
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

_SOURCE = Path(__file__).with_name("step_loops.c")
# no -ffast-math: the loops rely on IEEE infinities (m = -inf is the empty memory)
_FLAGS = ["-O3", "-fPIC", "-shared", "-fno-math-errno", "-ffp-contract=off"]
_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}


def _cache_dir() -> Path:
    env = os.environ.get("XLSTM_TS_KERNEL_CACHE")
    return Path(env).expanduser() if env else Path("~/.cache/xlstm_ts/kernels").expanduser()


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def _build(cc: str) -> Path:
    """Compile the source into the cache (once: the name holds a hash of what went in)."""
    source = _SOURCE.read_bytes()
    key = hashlib.sha256(
        source + " ".join([cc, *_FLAGS, platform.machine(), platform.system()]).encode()
    ).hexdigest()[:16]
    target = _cache_dir() / f"slstm_step_loops_{key}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # built under a temporary name and renamed: processes that build at once never load a
    # half-written file
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        subprocess.run([cc, *_FLAGS, "-o", tmp, str(_SOURCE), "-lm"], check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


@lru_cache(maxsize=1)
def library() -> ctypes.CDLL | None:
    """The loaded step loops, or ``None`` (switched off, no compiler, or the build failed)."""
    if os.environ.get("XLSTM_TS_COMPILED_LOOPS", "1") == "0" or not _SOURCE.exists():
        return None
    cc = _compiler()
    if cc is None:
        return None
    try:
        lib = ctypes.CDLL(str(_build(cc)))
    except (OSError, subprocess.SubprocessError) as exc:
        warnings.warn(
            f"the sLSTM's C step loops could not be built ({type(exc).__name__}: {exc}); "
            "using the NumPy loops, which give the same results more slowly",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    long, ptr = ctypes.c_long, ctypes.c_void_p
    for suffix in _SUFFIX.values():
        getattr(lib, f"slstm_forward_{suffix}").argtypes = [long] * 4 + [ptr] * 5
        getattr(lib, f"slstm_backward_{suffix}").argtypes = [long] * 5 + [ptr] * 3
    return lib


def _ptrs(*xs: Tensor) -> list[int]:
    for x in xs:
        if not x.is_contiguous():  # the C loops index plain C-order arrays
            raise ValueError("the C step loops need contiguous tensors")
    return [x.data_ptr() for x in xs]


def forward_loop(lib: ctypes.CDLL, G: Tensor, R4: Tensor, H: Tensor, CN: Tensor, M0: Tensor):
    """The forward loop; arguments as in ``step_loops.c`` (``G`` becomes the pre-activations)."""
    S, B = G.shape[:2]
    _, NH, DH, _ = R4.shape
    fn = getattr(lib, f"slstm_forward_{_SUFFIX[G.dtype]}")
    fn(S, B, NH, DH, *_ptrs(G, R4, H, CN, M0))


def backward_loop(lib: ctypes.CDLL, ZZ: Tensor, K: Tensor, RT4: Tensor, t0: int) -> None:
    """Backward steps ``t0 + len(K) - 1`` down to ``t0``; arguments as in ``step_loops.c``."""
    B = ZZ.shape[1]
    _, NH, DH, _ = RT4.shape
    fn = getattr(lib, f"slstm_backward_{_SUFFIX[ZZ.dtype]}")
    fn(K.shape[0], t0, B, NH, DH, *_ptrs(ZZ, K, RT4))
