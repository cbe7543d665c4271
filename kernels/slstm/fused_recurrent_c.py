"""The sLSTM step loops in C, built on first use with the system's C compiler.

The NumPy step loops of :mod:`.fused_recurrent_numpy` spend their time in the overhead
of some twenty small calls per step. The same loops in C (``fused_recurrent_c.c``) run a
step in well under a microsecond. The source is compiled once per machine and loaded with
:mod:`ctypes` (:mod:`xlstm_ts.kernels.cbuild`: only a C compiler is needed). Where none is
found, or the build fails, :func:`library` returns ``None`` and the NumPy loops run
instead: the results are the same to rounding. ``XLSTM_TS_COMPILED_LOOPS=0`` switches the
C loops off.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

from ..cbuild import load

_SOURCE = Path(__file__).with_name("fused_recurrent_c.c")
_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}


@lru_cache(maxsize=1)
def library() -> ctypes.CDLL | None:
    """The loaded step loops, or ``None`` (switched off, no compiler, or the build failed)."""
    lib = load(_SOURCE, "slstm_fused_recurrent_c", "the sLSTM's C step loops")
    if lib is None:
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
    """The forward loop; arguments as in ``fused_recurrent_c.c`` (``G`` becomes the
    pre-activations)."""
    S, B = G.shape[:2]
    _, NH, DH, _ = R4.shape
    fn = getattr(lib, f"slstm_forward_{_SUFFIX[G.dtype]}")
    fn(S, B, NH, DH, *_ptrs(G, R4, H, CN, M0))


def backward_loop(lib: ctypes.CDLL, ZZ: Tensor, K: Tensor, RT4: Tensor, t0: int) -> None:
    """Backward steps ``t0 + len(K) - 1`` down to ``t0``; arguments as in
    ``fused_recurrent_c.c``."""
    B = ZZ.shape[1]
    _, NH, DH, _ = RT4.shape
    fn = getattr(lib, f"slstm_backward_{_SUFFIX[ZZ.dtype]}")
    fn(K.shape[0], t0, B, NH, DH, *_ptrs(ZZ, K, RT4))
