"""One patch through the stateful network's embedding and encoder, in NumPy.

An update by one step completes at most one patch, where torch's fixed cost per
operation (several microseconds, some sixty operations over both blocks) is most of the
time of products this small. This module does the same step on NumPy arrays built once
from the parameters (:func:`encoder_plan`, cached by the network like
:class:`~xlstm_ts.nn.layers.StepWeights`), in the parameters' dtype; where the C step
(:mod:`.step_c`) is built, it runs each block in one call instead. Both equal the torch
forms to rounding (tested). Inference only: no autograd, no dropout.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from xlstm_ts.nn import MLSTMBlock, SLSTMBlock

from . import step_c


def _np(t: Tensor) -> np.ndarray:
    """A C-contiguous NumPy copy of a parameter (a copy: later in-place changes rebuild)."""
    return np.ascontiguousarray(t.detach().cpu().numpy()).copy()


def _packed(tensors: Any) -> np.ndarray:
    """Tensors flattened (C order) into one array: the weights of a block for the C step."""
    return np.concatenate([_np(t).ravel() for t in tensors])


def _block_diagonal(weight: Tensor) -> Tensor:
    """The ``(features, features)`` matrix ``W`` of a head-wise weight with ``y = x @ W``."""
    return torch.block_diag(*weight)


def _mlstm_plan(b: MLSTMBlock) -> dict[str, Any]:
    inner, NH = b.down.in_features, b.num_heads
    q, k, v = (_block_diagonal(m.weight) for m in (b.q, b.k, b.v))
    zero = torch.zeros_like(q)
    # [x_conv, x_m] @ proj = [q, k, v, ĩ, f̃]: the gates are linear in q, k, v
    qkv = torch.cat([torch.cat([q, k, zero], 1), torch.cat([zero, zero, v], 1)])
    gates = qkv @ torch.cat([b.igate.weight, b.fgate.weight]).t()
    gate_b = torch.cat([b.igate.bias, b.fgate.bias])
    conv_w = b.conv.conv.weight[:, 0].t()  # (K, inner)
    # the C step's weights, in its order: head-wise q, k, v and the gates' (2 inner, 2 NH)
    packed = (b.norm.weight, b.norm.bias, b.up.weight.t(), conv_w, b.conv.conv.bias,
              b.q.weight, b.k.weight, b.v.weight, gates, gate_b, b.out_norm.weight,
              b.conv_skip, b.down.weight.t())  # fmt: skip
    return dict(
        kind="m",
        NH=NH,
        DH=inner // NH,
        K=b.conv.kernel_size,
        eps=(b.norm.eps, b.out_norm.eps),
        ln_w=_np(b.norm.weight),
        ln_b=_np(b.norm.bias),
        up=_np(b.up.weight.t()),  # (D, 2 inner): x_m, then z
        bs=b.q.weight.shape[-1],
        conv_w=_np(conv_w),
        conv_b=_np(b.conv.conv.bias),
        proj=_np(torch.cat([qkv, gates], 1)),  # (2 inner, 3 inner + 2 NH)
        proj_b=_np(torch.cat([gate_b.new_zeros(3 * inner), gate_b])),
        out_w=_np(b.out_norm.weight),
        skip=_np(b.conv_skip),
        down=_np(b.down.weight.t()),  # (inner, D)
        packed=_packed(packed),
    )


def _slstm_plan(b: SLSTMBlock) -> dict[str, Any]:
    NH, DH = b.num_heads, b.head_dim
    D = NH * DH
    i, f, z, o = (_block_diagonal(g.weight) for g in b.gates)
    zero = torch.zeros_like(i)
    # [u_conv, u] @ gates = the four gates' inputs, gate-major (4, NH, DH)
    gates = torch.cat([torch.cat([i, f, zero, zero], 1), torch.cat([zero, zero, z, o], 1)])
    # h @ rec = the recurrent inputs in the same layout: head j's block of gate g
    rec = b.R.new_zeros(D, 4, D)
    for j in range(NH):
        rec[j * DH : (j + 1) * DH, :, j * DH : (j + 1) * DH] = b.R[j].transpose(0, 1)
    conv = b.conv
    conv_w = [] if conv is None else [conv.conv.weight[:, 0].t(), conv.conv.bias]
    packed = (b.norm.weight, b.norm.bias, *conv_w, *(g.weight for g in b.gates), b.bias, b.R,
              b.out_norm.weight, b.mlp_norm.weight, b.mlp_norm.bias, b.mlp.up.weight.t(),
              b.mlp.down.weight.t())  # fmt: skip
    return dict(
        kind="s",
        NH=NH,
        DH=DH,
        K=conv.kernel_size if conv is not None else 1,
        eps=(b.norm.eps, b.out_norm.eps, b.mlp_norm.eps),
        ln_w=_np(b.norm.weight),
        ln_b=_np(b.norm.bias),
        conv_w=None if conv is None else _np(conv.conv.weight[:, 0].t()),  # (K, D)
        conv_b=None if conv is None else _np(conv.conv.bias),
        gates=_np(gates),  # (2 D, 4 D)
        gates_b=_np(b.bias.flatten()),
        rec=_np(rec.view(D, 4 * D)),
        out_w=_np(b.out_norm.weight),
        mlp_ln_w=_np(b.mlp_norm.weight),
        mlp_ln_b=_np(b.mlp_norm.bias),
        mlp_up=_np(b.mlp.up.weight.t()),  # (D, 2 hidden): gate, then up
        mlp_down=_np(b.mlp.down.weight.t()),  # (hidden, D)
        hidden=b.mlp.down.in_features,
        packed=_packed(packed),
    )


def encoder_plan(embed: nn.Linear, encoder: nn.Module, *params: Tensor) -> dict[str, Any]:
    """The arrays of the one-patch step of ``embed`` then ``encoder`` (an
    :class:`~xlstm_ts.nn.XLSTMStack`). ``params`` are their parameters, only the key of the
    cache that holds the result."""
    blocks = [_mlstm_plan(b) if isinstance(b, MLSTMBlock) else _slstm_plan(b)
              for b in encoder.blocks]  # fmt: skip
    plan = dict(
        embed=_np(embed.weight.t()),
        embed_b=_np(embed.bias),
        blocks=blocks,
        norm=(_np(encoder.norm.weight), _np(encoder.norm.bias), encoder.norm.eps),
    )
    plan["compiled"] = step_c.prepare(plan)
    return plan


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, eps: float) -> np.ndarray:
    """Layer norm over the last axis (biased variance, as torch)."""
    x = x - x.mean(-1, keepdims=True)
    y = x / np.sqrt((x * x).mean(-1, keepdims=True) + np.asarray(eps, x.dtype))
    return y * w if b is None else y * w + b


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # through tanh: no overflow (and no warning) for large negative inputs
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def _silu(x: np.ndarray) -> np.ndarray:
    return x * _sigmoid(x)


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _head_norm(h: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    """:class:`~xlstm_ts.nn.MultiHeadNorm` of ``h`` (B, NH, DH) → (B, NH * DH)."""
    return _layer_norm(h, 1.0, None, eps).reshape(len(h), -1) * w


def _conv(x: np.ndarray, state: np.ndarray, w: np.ndarray, b: np.ndarray):
    """One step of the causal depthwise convolution: output and the new state."""
    window = np.concatenate([state, x[:, None]], axis=1)  # (B, K, C)
    return np.einsum("bkc,kc->bc", window, w) + b, window[:, 1:]


def _mlstm_step(p: dict[str, Any], x: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
    B, NH, DH, K = len(x), p["NH"], p["DH"], p["K"]
    inner = NH * DH
    xm_z = _layer_norm(x, p["ln_w"], p["ln_b"], p["eps"][0]) @ p["up"]
    x_m, z = xm_z[:, :inner], xm_z[:, inner:]
    if state is None:
        conv_state = np.zeros((B, K - 1, inner), x.dtype)
        C = np.zeros((B, NH, DH, DH), x.dtype)
        n = np.zeros((B, NH, DH), x.dtype)
        m = np.full((B, NH), -np.inf, x.dtype)
    else:
        conv_state, (C, n, m) = state
    x_conv, conv_state = _conv(x_m, conv_state, p["conv_w"], p["conv_b"])
    x_conv = _silu(x_conv)
    out = np.concatenate([x_conv, x_m], axis=1) @ p["proj"] + p["proj_b"]
    q, k, v = (out[:, j * inner : (j + 1) * inner].reshape(B, NH, DH) for j in range(3))
    i, f = out[:, 3 * inner : 3 * inner + NH], out[:, 3 * inner + NH :]
    # the cell (kernels/mlstm/step_torch.py)
    logf = _log_sigmoid(f)
    m_new = np.maximum(logf + m, i)
    f_t = np.exp(logf + m - m_new)[..., None]
    k = k * (np.exp(i - m_new) * np.asarray(1.0 / math.sqrt(DH), x.dtype))[..., None]
    C = C * f_t[..., None] + k[..., :, None] * v[..., None, :]
    n = n * f_t + k
    num = (q[..., None, :] @ C)[..., 0, :]
    nq = np.abs((n * q).sum(-1))
    h = num / (np.maximum(nq, np.exp(np.minimum(-m_new, 60.0))) + 1e-6)[..., None]
    h = _head_norm(h, p["out_w"], p["eps"][1]) + p["skip"] * x_conv
    return x + (h * _silu(z)) @ p["down"], (conv_state, (C, n, m_new))


def _gelu(x: np.ndarray) -> np.ndarray:
    # exact GELU, as torch's default; torch.erf on a view of the array (NumPy has no erf)
    return x * 0.5 * (1.0 + torch.erf(torch.from_numpy(x * np.asarray(0.5**0.5, x.dtype))).numpy())


def _slstm_step(p: dict[str, Any], x: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
    B, NH, DH, K = len(x), p["NH"], p["DH"], p["K"]
    D = NH * DH
    u = _layer_norm(x, p["ln_w"], p["ln_b"], p["eps"][0])
    if state is None:
        conv_state = np.zeros((B, K - 1, D), x.dtype)
        h, c, n = (np.zeros((B, D), x.dtype) for _ in range(3))
        m = np.full((B, D), -np.inf, x.dtype)
    else:
        conv_state, cell = state
        h, c, n, m = (s.reshape(B, D) for s in cell)
    if p["conv_w"] is None:
        u_conv = u
    else:
        u_conv, conv_state = _conv(u, conv_state, p["conv_w"], p["conv_b"])
        u_conv = _silu(u_conv)
    pre = np.concatenate([u_conv, u], axis=1) @ p["gates"] + p["gates_b"] + h @ p["rec"]
    i, f, z, o = (pre[:, g * D : (g + 1) * D] for g in range(4))
    # the cell (kernels/slstm/step_torch.py)
    logf = _log_sigmoid(f)
    m_new = np.maximum(logf + m, i)
    i_t, f_t = np.exp(i - m_new), np.exp(logf + m - m_new)
    c = f_t * c + i_t * np.tanh(z)
    n = f_t * n + i_t
    h = _sigmoid(o) * c / n
    x = x + _head_norm(h.reshape(B, NH, DH), p["out_w"], p["eps"][1])
    gate_up = _layer_norm(x, p["mlp_ln_w"], p["mlp_ln_b"], p["eps"][2]) @ p["mlp_up"]
    hidden = gate_up.shape[1] // 2
    x = x + (_gelu(gate_up[:, :hidden]) * gate_up[:, hidden:]) @ p["mlp_down"]
    cell = tuple(s.reshape(B, NH, DH) for s in (h, c, n, m_new))
    return x, (conv_state, cell)


def encoder_step(plan: dict[str, Any], patch: Tensor, states: list[Any] | None):
    """One patch (B, patch_len) through the embedding and the encoder.

    Parameters
    ----------
    plan : dict
        From :func:`encoder_plan`.
    patch : Tensor of shape (B, patch_len) or (B, 1, patch_len)
        The patch on the CPU (NaN reads as zero).
    states : list or None
        One state per block, as the torch blocks return them, or ``None`` before the
        first patch.

    Returns
    -------
    encoding : Tensor of shape (B, d_model)
        The encoder's normalised output.
    states : list
        The blocks' states after the patch (new tensors: ``states`` is not changed).
    """
    if plan["compiled"] is not None:
        return step_c.encoder_step(plan, patch, states)
    patch = np.nan_to_num(patch.detach().numpy().reshape(len(patch), -1))
    x = patch.astype(plan["embed"].dtype, copy=False) @ plan["embed"] + plan["embed_b"]
    states = [None] * len(plan["blocks"]) if states is None else states
    out = []
    for p, state in zip(plan["blocks"], states, strict=True):
        state = _numpy_state(state)
        x, state = (_mlstm_step if p["kind"] == "m" else _slstm_step)(p, x, state)
        out.append(_torch_state(state))
    w, b, eps = plan["norm"]
    return torch.from_numpy(_layer_norm(x, w, b, eps)), out


def _numpy_state(state: Any) -> Any:
    if state is None:
        return None
    if isinstance(state, list | tuple):
        return tuple(_numpy_state(s) for s in state)
    return state.detach().numpy()


def _torch_state(state: Any) -> Any:
    if isinstance(state, tuple):
        return tuple(_torch_state(s) for s in state)
    return torch.from_numpy(np.ascontiguousarray(state))
