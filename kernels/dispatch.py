"""Entry points of the two cells: validate the inputs, then pick a backend.

Backends
--------
``"torch"``
    Pure torch (any device, any float dtype). The chunkwise mLSTM uses the form with a
    hand-written backward pass (:mod:`.mlstm.chunk_torch`), or the parallel form when the
    sequence is one chunk; the sLSTM on CPU tensors uses
    the fused recurrent form (:mod:`.slstm.fused_recurrent_numpy`, its step loops in C
    compiled on first use, or in NumPy where no C compiler is found) and the reference loop
    elsewhere. A single step (``S = 1``, streaming) of either cell takes its step form
    (:mod:`.mlstm.step_torch`, :mod:`.slstm.step_torch`). The plain-autograd references
    stay in the ``naive`` modules.
``"triton"``
    The Triton kernels (``mlstm/chunk_triton.py``, ``slstm/fused_recurrent_triton.py``) for
    float32, float16 and bfloat16 tensors. On CUDA tensors they run compiled; on CPU tensors
    they run in Triton's interpreter, which must be switched on with ``TRITON_INTERPRET=1``
    in the environment before the kernels are first imported (slow: for tests only).
``"auto"``
    Triton for CUDA tensors of a supported dtype when ``triton`` imports (for the mLSTM:
    in ``mode="chunkwise"``), the torch reference otherwise.

The Triton modules are imported on first use, so this package imports without Triton.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Literal

from torch import Tensor

from .mlstm import MLSTMState, mlstm_chunkwise, mlstm_parallel, mlstm_recurrent, mlstm_step
from .slstm import SLSTMState, slstm_fused, slstm_recurrent, slstm_step
from .triton_env import TRITON_DTYPES, interpreting, triton_available

MLSTMMode = Literal["parallel", "chunkwise", "recurrent"]
Backend = Literal["auto", "torch", "triton"]
_BACKENDS = ("auto", "torch", "triton")
_MODES = ("parallel", "chunkwise", "recurrent")
__all__ = ["mlstm", "slstm", "triton_available"]


def _kernel_module(name: str) -> ModuleType:
    # relative to this package, whatever name it is installed under
    return importlib.import_module(f"{__package__}.{name}")


def _resolve_backend(backend: str, x: Tensor, *, auto_triton: bool = True) -> str:
    """The backend that runs ``x``: ``"torch"`` or ``"triton"``.

    ``auto_triton=False`` keeps ``backend="auto"`` on the torch reference.
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    if backend == "torch":
        return "torch"
    if backend == "auto":
        ok = auto_triton and x.is_cuda and x.dtype in TRITON_DTYPES and triton_available()
        return "triton" if ok else "torch"
    if not triton_available():
        raise RuntimeError(
            "backend='triton' needs the 'triton' package, which does not import here; "
            "install it (pip install triton) or use backend='torch'"
        )
    if x.dtype not in TRITON_DTYPES:
        raise ValueError(
            f"backend='triton' supports float32, float16 and bfloat16 inputs, got {x.dtype}; "
            "use backend='torch' for other dtypes"
        )
    if not x.is_cuda and not interpreting():
        raise RuntimeError(
            "backend='triton' on CPU tensors runs Triton's interpreter, which needs "
            "TRITON_INTERPRET=1 in the environment before the kernels are imported; move "
            "the tensors to a CUDA device or use backend='torch'"
        )
    return "triton"


def _triton_kernels(name: str, x: Tensor) -> ModuleType:
    module = _kernel_module(name)
    if not x.is_cuda and not module.INTERPRETED:
        raise RuntimeError(
            f"the Triton kernels in {module.__name__} were imported without "
            "TRITON_INTERPRET=1 and cannot run on CPU tensors; set the variable before "
            "the first call that imports them, or use backend='torch'"
        )
    return module


def _check_shape(name: str, x: Tensor, shape: tuple[int, ...]) -> None:
    if tuple(x.shape) != shape:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(x.shape)}")


def mlstm(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    i: Tensor,
    f: Tensor,
    state: MLSTMState | None = None,
    *,
    mode: MLSTMMode = "chunkwise",
    chunk_size: int = 64,
    backend: Backend = "auto",
) -> tuple[Tensor, MLSTMState]:
    """Run the mLSTM cell over a sequence.

    Parameters
    ----------
    q, k : Tensor
        Queries and keys, ``(B, NH, S, DHQK)``.
    v : Tensor
        Values, ``(B, NH, S, DHV)``.
    i, f : Tensor
        Input- and forget-gate pre-activations, ``(B, NH, S)``.
    state : tuple of Tensor, optional
        Initial memory ``(C, n, m)`` with shapes ``(B, NH, DHQK, DHV)``, ``(B, NH, DHQK)``,
        ``(B, NH)``; ``None`` is the empty memory. Gradients flow into it.
    mode : {"parallel", "chunkwise", "recurrent"}
        All three compute the same result. ``parallel`` costs O(S²) memory, ``chunkwise``
        O(S), ``recurrent`` is a step-by-step loop (best for very short inputs).
    chunk_size : int
        Steps per chunk in ``chunkwise`` mode; any ``S`` works. The Triton backend rounds it
        up to a power of two of at least 16 (this changes only rounding).
    backend : {"auto", "torch", "triton"}
        Implementation to use. ``auto`` takes the Triton kernels for CUDA tensors in
        ``chunkwise`` mode when ``triton`` imports, the torch reference otherwise.
        ``triton`` runs every mode with the chunkwise Triton kernels (same result); on CPU
        tensors it needs ``TRITON_INTERPRET=1`` (Triton's interpreter, for tests).

    Returns
    -------
    h : Tensor
        Outputs ``(B, NH, S, DHV)`` in the dtype of ``v``.
    state : tuple of Tensor
        Final memory ``(C, n, m)`` in float32 (float64 for float64 inputs); pass it to the
        next call to continue the sequence.
    """
    if q.dim() != 4:
        raise ValueError(f"q must have shape (B, NH, S, DHQK), got {tuple(q.shape)}")
    B, NH, S, DHQK = q.shape
    if S < 1:
        raise ValueError("the sequence must have at least one step (S >= 1)")
    _check_shape("k", k, (B, NH, S, DHQK))
    if v.dim() != 4 or tuple(v.shape[:3]) != (B, NH, S):
        raise ValueError(f"v must have shape ({B}, {NH}, {S}, DHV), got {tuple(v.shape)}")
    _check_shape("i", i, (B, NH, S))
    _check_shape("f", f, (B, NH, S))
    if state is not None:
        C, n, m = state
        _check_shape("state C", C, (B, NH, DHQK, v.shape[-1]))
        _check_shape("state n", n, (B, NH, DHQK))
        _check_shape("state m", m, (B, NH))
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    # A forced Triton backend serves every mode with the chunkwise kernels (same result);
    # "auto" takes Triton only for "chunkwise" and keeps the torch forms for the others.
    if _resolve_backend(backend, v, auto_triton=mode == "chunkwise") == "triton":
        kernels = _triton_kernels("mlstm.chunk_triton", v)
        h, new_state = kernels.mlstm_chunkwise_triton(q, k, v, i, f, state, chunk_size=chunk_size)
    elif S == 1:
        # one step (streaming) in any mode: the step form, without a loop's set-up
        h, new_state = mlstm_step(q, k, v, i, f, state)
    elif mode == "parallel" or (mode == "chunkwise" and S <= chunk_size):
        # one chunk is the parallel form: the same O(S·chunk) memory, and its plain
        # autograd is about three times as fast as the chunk machinery at so few steps
        h, new_state = mlstm_parallel(q, k, v, i, f, state)
    elif mode == "recurrent":
        h, new_state = mlstm_recurrent(q, k, v, i, f, state)
    else:
        h, new_state = mlstm_chunkwise(q, k, v, i, f, state, chunk_size=chunk_size)
    return h.to(v.dtype), new_state


def slstm(
    gates_x: Tensor,
    R: Tensor,
    state: SLSTMState | None = None,
    *,
    backend: Backend = "auto",
) -> tuple[Tensor, SLSTMState]:
    """Run the sLSTM cell over a sequence.

    Parameters
    ----------
    gates_x : Tensor
        Input part of the gate pre-activations, ``W x + b``, shaped ``(B, S, 4, NH, DH)``
        in the gate order i, f, z, o.
    R : Tensor
        Block-diagonal recurrent weights ``(NH, 4, DH, DH)``: gate ``g`` of head ``j`` adds
        ``h_{t-1}[:, j, :] @ R[j, g]``.
    state : tuple of Tensor, optional
        Initial ``(h, c, n, m)``, each ``(B, NH, DH)``; ``None`` is ``h=c=n=0, m=-inf``.
    backend : {"auto", "torch", "triton"}
        Implementation to use. ``auto`` takes the fused Triton kernel for CUDA tensors when
        ``triton`` imports, the torch reference otherwise; ``triton`` forces it (on CPU
        tensors only with ``TRITON_INTERPRET=1``).

    Returns
    -------
    h : Tensor
        Hidden states ``(B, S, NH, DH)`` in the dtype of ``gates_x``.
    state : tuple of Tensor
        Final ``(h, c, n, m)`` in float32 (float64 for float64 inputs).
    """
    if gates_x.dim() != 5 or gates_x.shape[2] != 4:
        raise ValueError(f"gates_x must have shape (B, S, 4, NH, DH), got {tuple(gates_x.shape)}")
    B, S, _, NH, DH = gates_x.shape
    if S < 1:
        raise ValueError("the sequence must have at least one step (S >= 1)")
    _check_shape("R", R, (NH, 4, DH, DH))
    if state is not None:
        for name, x in zip(("h", "c", "n", "m"), state, strict=True):
            _check_shape(f"state {name}", x, (B, NH, DH))
    if _resolve_backend(backend, gates_x) == "triton":
        kernels = _triton_kernels("slstm.fused_recurrent_triton", gates_x)
        h, new_state = kernels.slstm_triton(gates_x, R, state)
    elif S == 1:
        # one step (streaming): the step form; the fused form's NumPy set-up and the
        # reference loop's stacking cost more than the step itself
        h, new_state = slstm_step(gates_x, R, state)
    elif gates_x.device.type == "cpu":
        h, new_state = slstm_fused(gates_x, R, state)
    else:
        h, new_state = slstm_recurrent(gates_x, R, state)
    return h.to(gates_x.dtype), new_state
