"""The streaming step of the encoder's blocks in C (``stream_step.c``), through ctypes.

Built on first use (:mod:`xlstm_ts.kernels.cbuild`); :func:`library` is ``None`` where no
C compiler is found, the build fails or ``XLSTM_TS_COMPILED_LOOPS=0``, and
:mod:`.stream_step` runs its NumPy form instead (equal to rounding). One call per block
replaces some thirty NumPy or torch operations, whose fixed costs are most of the time of
a step this small.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from xlstm_ts.kernels import cbuild

_SOURCE = Path(__file__).with_name("stream_step.c")
_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}


@lru_cache(maxsize=1)
def library() -> ctypes.CDLL | None:
    """The loaded step functions, or ``None`` (then the NumPy form runs)."""
    lib = cbuild.load(_SOURCE, "stream_step", "the encoder's C streaming step")
    if lib is None:
        return None
    long, dbl, ptr = ctypes.c_long, ctypes.c_double, ctypes.c_void_p
    for suffix in _SUFFIX.values():
        getattr(lib, f"mlstm_block_step_{suffix}").argtypes = [long] * 6 + [dbl] * 2 + [ptr] * 12
        getattr(lib, f"slstm_block_step_{suffix}").argtypes = [long] * 5 + [dbl] * 3 + [ptr] * 14
        getattr(lib, f"linear_rows_{suffix}").argtypes = [long] * 3 + [ptr] * 4
        getattr(lib, f"head_rows_{suffix}").argtypes = [long] * 5 + [ptr] * 6
        getattr(lib, f"layer_norm_rows_{suffix}").argtypes = [long] * 2 + [ptr] * 3 + [dbl, ptr]
    return lib


def _inputs(tensors: Any, dtype: torch.dtype) -> tuple[list[Tensor], list[int | None]]:
    """The tensors as C-contiguous arrays of ``dtype`` (copies where needed: the caller
    keeps them alive while C reads them) and their addresses (``None``: a NULL)."""
    kept = [t if t is None else t.to(dtype).contiguous() for t in tensors]
    return kept, [None if t is None else t.data_ptr() for t in kept]


def _addr(a: Any) -> int:
    return a.ctypes.data


def _writable(a: np.ndarray, dtype: type) -> np.ndarray:
    """``a`` as a C-contiguous, writable array of ``dtype`` (a copy only where needed)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def _address(a: np.ndarray) -> int:
    """The address of a writable NumPy array's data (cheaper than ``a.ctypes.data``)."""
    return torch.from_numpy(a).data_ptr()


def encoder_step(plan: dict[str, Any], patch: Tensor, states: list[Any] | None):
    """:func:`~xlstm_ts.nn.stream_step.encoder_step` in C: the same arguments and results."""
    lib = library()
    dtype = plan["embed"].dtype
    dtype = torch.float64 if dtype.itemsize == 8 else torch.float32
    suffix = _SUFFIX[dtype]
    B, P = patch.shape
    D = len(plan["embed_b"])
    patch = torch.nan_to_num(patch.to(dtype)).contiguous()
    x = torch.empty(B, D, dtype=dtype)
    getattr(lib, f"linear_rows_{suffix}")(B, P, D, patch.data_ptr(), _addr(plan["embed"]),
                                          _addr(plan["embed_b"]), x.data_ptr())  # fmt: skip
    states = [None] * len(plan["blocks"]) if states is None else states
    out = []
    for p, state in zip(plan["blocks"], states, strict=True):
        y = torch.empty(B, D, dtype=dtype)
        step = _mlstm if p["kind"] == "m" else _slstm
        out.append(step(getattr(lib, f"{'m' if p['kind'] == 'm' else 's'}lstm_block_step_{suffix}"),
                        p, x, y, state, dtype))  # fmt: skip
        x = y
    w, b, eps = plan["norm"]
    getattr(lib, f"layer_norm_rows_{suffix}")(B, D, x.data_ptr(), _addr(w), _addr(b), eps,
                                              x.data_ptr())  # fmt: skip
    return x, out


def _mlstm(fn: Any, p: dict[str, Any], x: Tensor, y: Tensor, state: Any, dtype: torch.dtype):
    B, D = x.shape
    NH, DH, K = p["NH"], p["DH"], p["K"]
    inner = NH * DH
    conv, (C, n, m) = (None, (None, None, None)) if state is None else state
    new = (torch.empty(B, K - 1, inner, dtype=dtype), torch.empty(B, NH, DH, DH, dtype=dtype),
           torch.empty(B, NH, DH, dtype=dtype), torch.empty(B, NH, dtype=dtype))  # fmt: skip
    work = torch.empty(D + 7 * inner + 2 * NH, dtype=dtype)
    _kept, ptrs = _inputs((conv, C, n, m), dtype)
    fn(B, D, inner, NH, K, p["bs"], *p["eps"], _addr(p["packed"]), x.data_ptr(), y.data_ptr(),
       *ptrs, *(t.data_ptr() for t in new), work.data_ptr())  # fmt: skip
    return new[0], new[1:]


def _slstm(fn: Any, p: dict[str, Any], x: Tensor, y: Tensor, state: Any, dtype: torch.dtype):
    B, D = x.shape
    NH, DH, K, H = p["NH"], p["DH"], p["K"], p["hidden"]
    conv, cell = (None, (None,) * 4) if state is None else state
    K_c = K if p["conv_w"] is not None else 0
    new = [torch.empty(B, max(K - 1, 0), D, dtype=dtype)]
    new += [torch.empty(B, NH, DH, dtype=dtype) for _ in range(4)]
    work = torch.empty(9 * D + 3 * H, dtype=dtype)
    _kept, ptrs = _inputs((conv, *cell), dtype)
    fn(B, D, NH, K_c, H, *p["eps"], _addr(p["packed"]), x.data_ptr(), y.data_ptr(),
       *ptrs, *(t.data_ptr() for t in new), work.data_ptr())  # fmt: skip
    return new[0], tuple(new[1:])


def head(
    address: int, windows: np.ndarray, tails: np.ndarray, encoding: Tensor, P: int, HQ: int
) -> np.ndarray:
    """:meth:`~xlstm_ts.nn.StatefulForecastNet.forecast_array` in C: forecasts (B, HQ) from
    the head's float32 weights packed at ``address`` (their order in ``stream_step.c``),
    windows (B, W) and tails (B,) in NumPy, encodings (B, E) of float32 and the tail
    table's ``P`` rows."""
    B, W = windows.shape
    E = encoding.shape[1]
    # the inputs as C arrays, held in local names while C reads them
    windows, tails = _writable(windows, np.float32), _writable(tails, np.int64)
    encoding = encoding.contiguous()
    out = np.empty(B * HQ + W + E, dtype=np.float32)  # the forecasts, then the work space
    at = _address(out)
    library().head_rows_f32(B, E, W, P, HQ, encoding.data_ptr(), _address(windows),
                            _address(tails), address, at, at + 4 * B * HQ)  # fmt: skip
    return out[: B * HQ].reshape(B, HQ)
