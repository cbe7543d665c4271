"""The stateful network's one-patch step and inference head in C (``step_c.c``),
through ctypes.

Built on first use (:mod:`xlstm_ts.kernels.cbuild`); :func:`library` is ``None`` where no
C compiler is found, the build fails or ``XLSTM_TS_COMPILED_LOOPS=0``, and
:mod:`.step_numpy` runs its NumPy form instead (equal to rounding). One call per block
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

_SOURCE = Path(__file__).with_name("step_c.c")
_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}


@lru_cache(maxsize=1)
def library() -> ctypes.CDLL | None:
    """The loaded step functions, or ``None`` (then the NumPy form runs)."""
    lib = cbuild.load(_SOURCE, "stateful_step", "the stateful network's C step")
    if lib is None:
        return None
    long, dbl, ptr = ctypes.c_long, ctypes.c_double, ctypes.c_void_p
    for suffix in _SUFFIX.values():
        getattr(lib, f"mlstm_block_step_{suffix}").argtypes = [long] * 6 + [dbl] * 2 + [ptr] * 12
        getattr(lib, f"slstm_block_step_{suffix}").argtypes = [long] * 5 + [dbl] * 3 + [ptr] * 14
        getattr(lib, f"embed_rows_{suffix}").argtypes = [long] * 3 + [ptr] * 4
        getattr(lib, f"head_rows_{suffix}").argtypes = [long] * 5 + [ptr] * 6
        getattr(lib, f"head_scaled_rows_{suffix}").argtypes = [long] * 6 + [ptr] * 8
        getattr(lib, f"layer_norm_rows_{suffix}").argtypes = [long] * 2 + [ptr] * 3 + [dbl, ptr]
    return lib


def _c_array(t: Tensor, dtype: torch.dtype) -> Tensor:
    """``t`` as a C-contiguous tensor of ``dtype`` (a copy only where needed)."""
    return t if t.dtype == dtype and t.is_contiguous() else t.to(dtype).contiguous()


def _writable(a: np.ndarray, dtype: type) -> np.ndarray:
    """``a`` as a C-contiguous, writable array of ``dtype`` (a copy only where needed)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def _address(a: np.ndarray) -> int:
    """The address of a writable, C-contiguous NumPy array's data (a third of the cost of
    ``a.ctypes.data``)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(a))


def prepare(plan: dict[str, Any]) -> dict[str, Any] | None:
    """What :func:`encoder_step` needs of a plan of :mod:`.step_numpy` (functions, sizes,
    the weights' addresses), worked out once; ``None`` without the C step."""
    lib = library()
    if lib is None:
        return None
    dtype = torch.float64 if plan["embed"].dtype.itemsize == 8 else torch.float32
    suffix = _SUFFIX[dtype]
    D = len(plan["embed_b"])
    blocks = []
    for p in plan["blocks"]:
        NH, DH, K = p["NH"], p["DH"], p["K"]
        if p["kind"] == "m":
            inner = NH * DH
            fn = getattr(lib, f"mlstm_block_step_{suffix}")
            ints = (D, inner, NH, K, p["bs"])
            shapes = [(K - 1, inner), (NH, DH, DH), (NH, DH), (NH,)]
            work = D + 7 * inner + 2 * NH
        else:
            fn = getattr(lib, f"slstm_block_step_{suffix}")
            ints = (D, NH, K if p["conv_w"] is not None else 0, p["hidden"])
            shapes = [(K - 1, D)] + [(NH, DH)] * 4
            work = 9 * D + 3 * p["hidden"]
        blocks.append((fn, ints, p["eps"], p["packed"].ctypes.data, shapes, work))
    w, b, eps = plan["norm"]
    return dict(
        dtype=dtype,
        D=D,
        embed=getattr(lib, f"embed_rows_{suffix}"),
        embed_at=(plan["embed"].ctypes.data, plan["embed_b"].ctypes.data),
        norm=getattr(lib, f"layer_norm_rows_{suffix}"),
        norm_at=(w.ctypes.data, b.ctypes.data, eps),
        blocks=blocks,
        work=max(work for *_, work in blocks),
    )


def encoder_step(plan: dict[str, Any], patch: Tensor, states: list[Any] | None):
    """:func:`~xlstm_ts.stateful.step_numpy.encoder_step` in C: the same arguments and results."""
    c = plan["compiled"]
    dtype, D = c["dtype"], c["D"]
    B, P = patch.shape[0], patch.shape[-1]
    patch = _c_array(patch, dtype)
    # the activations between blocks, then the blocks' work space: one buffer
    scratch = torch.empty(2 * B * D + c["work"], dtype=dtype)
    size = scratch.element_size()
    x = scratch.data_ptr()
    y, work = x + B * D * size, x + 2 * B * D * size
    c["embed"](B, P, D, patch.data_ptr(), *c["embed_at"], x)
    states = [None] * len(c["blocks"]) if states is None else states
    out = []
    for (fn, ints, eps, at, shapes, _), state in zip(c["blocks"], states, strict=True):
        new = [torch.empty(B, *shape, dtype=dtype) for shape in shapes]  # (faster than a tuple)
        if state is None:
            kept, given = [], [None] * len(new)
        else:  # held in `kept` while C reads them
            kept = [_c_array(t, dtype) for t in (state[0], *state[1])]
            given = [t.data_ptr() for t in kept]
        fn(B, *ints, *eps, at, x, y, *given, *(t.data_ptr() for t in new), work)
        out.append((new[0], tuple(new[1:])))
        x, y = y, x
    encoding = torch.empty(B, D, dtype=dtype)
    c["norm"](B, D, x, *c["norm_at"], encoding.data_ptr())
    return encoding, out


def head(
    address: int, windows: np.ndarray, tails: np.ndarray, encoding: Tensor, P: int, HQ: int
) -> np.ndarray:
    """:meth:`~xlstm_ts.stateful.StatefulForecastNet.forecast_array` in C: forecasts (B, HQ) from
    the head's float32 weights packed at ``address`` (their order in ``step_c.c``),
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


def head_scaled(
    address: int,
    values: np.ndarray,
    tails: np.ndarray,
    encoding: Tensor,
    mean: np.ndarray,
    scale: np.ndarray,
    P: int,
    H: int,
    Q: int,
) -> np.ndarray:
    """:meth:`~xlstm_ts.stateful.StatefulForecastNet.forecast_values` in C: as :func:`head`,
    from the series' own values (B, W) and their means and scales (B,), to sorted
    forecasts (B, H, Q) of float64 on that scale."""
    B, W = values.shape
    E = encoding.shape[1]
    # the inputs as C arrays, held in local names while C reads them
    values, tails = _writable(values, np.float64), _writable(tails, np.int64)
    mean, scale = _writable(mean, np.float64), _writable(scale, np.float64)
    encoding = encoding.contiguous()
    out = np.empty((B, H, Q), dtype=np.float64)
    work = np.empty(W + E + H * Q, dtype=np.float32)
    library().head_scaled_rows_f32(B, E, W, P, H, Q, encoding.data_ptr(), _address(values),
                                   _address(tails), _address(mean), _address(scale),
                                   address, _address(out), _address(work))  # fmt: skip
    return out
