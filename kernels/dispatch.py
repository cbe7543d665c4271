"""Entry points of the two cells: validate the inputs, then pick a backend."""

from __future__ import annotations

from typing import Literal

from torch import Tensor

from .mlstm import MLSTMState, mlstm_chunkwise, mlstm_parallel, mlstm_recurrent
from .slstm import SLSTMState, slstm_recurrent

MLSTMMode = Literal["parallel", "chunkwise", "recurrent"]
Backend = Literal["auto", "torch", "triton"]
_BACKENDS = ("auto", "torch", "triton")
_MODES = ("parallel", "chunkwise", "recurrent")


def _resolve_backend(backend: str, x: Tensor) -> str:
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "torch"
    if backend == "triton":
        raise NotImplementedError(
            "the Triton backend is not available in this version; use backend='torch'"
        )
    return backend


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
        Steps per chunk in ``chunkwise`` mode; any ``S`` works.
    backend : {"auto", "torch", "triton"}
        Implementation to use; ``auto`` picks the fastest one available for the device.

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
    _resolve_backend(backend, q)

    if mode == "parallel":
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
        Implementation to use.

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
    _resolve_backend(backend, gates_x)
    h, new_state = slstm_recurrent(gates_x, R, state)
    return h.to(gates_x.dtype), new_state
