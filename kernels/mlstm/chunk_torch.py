"""Chunkwise mLSTM in torch with a hand-written backward pass.

The sequence is cut into chunks of ``L`` steps. The forward pass walks the chunks once to
find the memory ``(C, n)`` entering each chunk, then computes every chunk's outputs from
its entering memory and its own inputs (the causal intra-chunk part ``(Q Kᵀ ⊙ D) V`` plus
``Q C_in``). Only the chunk-boundary memories and a few scalars per step are kept for the
backward pass, which recomputes the ``L × L`` tiles chunk group by chunk group, walks the
chunks in reverse for the gradient of the boundary memories, and forms every gradient
from those (the same algorithm as the Triton kernels in :mod:`.chunk_triton`).

Two tricks keep the number of tensor operations small:

- ``v`` is augmented with a column of ones, so that the normaliser ``n`` rides along as
  the last column of ``C`` and ``n·q`` comes out of the same products as ``C q``.
- The stabiliser is computed once for every step from its closed form
  ``m_t = F_t + max(m_0, max_{s≤t}(ĩ_s - F_s))`` (``F``: cumulative ``logσ(f̃)``) in float64,
  so the chunk recurrence needs no maximum and every exponent is ``≤ 0``.

The gradient treats the stabilisers as constants (they cancel exactly) and then adds the
two places where ``m`` does change the result: ``exp(-m_t)`` and ``eps`` in the output's
denominator, and the returned final ``m``; that gradient is passed through the running
maximum as torch's ``max`` does.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .common import EPS, MAX_LOG_DENOMINATOR, MLSTMState, empty_state, state_dtype

GROUP_STEPS = 4096
"""Steps per group of chunks whose ``L × L`` tiles are formed at once: bounds the
temporaries (a few MiB, within the last-level cache) while keeping each tile operation
large enough to split well over threads and the number of Python-level calls small."""


class _Gates(NamedTuple):
    """Per-step and per-chunk scalars of the gates, ``(BH·NC, L)`` / ``(BH, NC)``.

    The key scale ``1/√d`` is folded in: ``row`` carries ``log(scale)`` and ``a`` the factor
    ``scale``, so that the unscaled ``k`` enters every product.
    """

    row: Tensor  # b_t - m_t + log(scale): the row factor of the decay tile's exponent
    col: Tensor  # ĩ_s - b_s: its column factor (-inf on padded steps)
    w0: Tensor  # exp(b_t + m_in - m_t): weight of the entering memory in step t
    a: Tensor  # scale · exp(g - b_s + ĩ_s - m_out): weight of step s in the leaving memory
    decay: Tensor  # exp(g + m_in - m_out): decay of the memory over the chunk, (BH, NC)
    m: Tensor  # m_t, (BH, S) in float64
    arg: Tensor  # index of the running maximum behind m_t (0: m_0, s + 1: step s)


def _gates(i: Tensor, f: Tensor, m0: Tensor, L: int, scale: float, dtype: torch.dtype) -> _Gates:
    """Gate scalars for ``i, f`` of shape ``(BH, S)`` and ``m0`` of shape ``(BH,)``.

    Padded steps carry no input (ĩ = -inf) and no decay (logσ = 0): they leave the memory
    unchanged, so any ``S`` works.
    """
    BH, S = i.shape
    NC = -(-S // L)
    pad = NC * L - S
    ip = F.pad(i.double(), (0, pad), value=float("-inf"))
    Fc = F.pad(F.logsigmoid(f.double()), (0, pad), value=0.0).cumsum(-1)
    run, arg = torch.cummax(torch.cat([m0.double()[:, None], ip - Fc], dim=1), dim=1)
    m = Fc + run[:, 1:]  # the recurrent stabiliser of every step

    Fv, mv, iv = Fc.view(BH, NC, L), m.view(BH, NC, L), ip.view(BH, NC, L)
    b = Fv - F.pad(Fv[:, :-1, -1], (1, 0))[..., None]  # decay since the chunk's start
    g = b[..., -1]
    m_out = mv[..., -1]
    m_in = torch.cat([m0.double()[:, None], m_out[:, :-1]], dim=1)

    def flat(x: Tensor) -> Tensor:
        return x.to(dtype).reshape(BH * NC, L)

    return _Gates(
        row=flat(b - mv + math.log(scale)),
        col=flat(iv - b),
        w0=flat(torch.exp(b + m_in[..., None] - mv)),
        a=flat(scale * torch.exp(g[..., None] - b + iv - m_out[..., None])),
        decay=torch.exp(g + m_in - m_out).to(dtype),
        m=m[:, :S].contiguous(),
        arg=arg[:, 1 : S + 1].contiguous(),
    )


def _chunked(x: Tensor, L: int) -> Tensor:
    """``(BH, S, D)`` → ``(BH·NC, L, D)``, zero-padded (a view when ``L`` divides ``S``)."""
    BH, S, _ = x.shape
    NC = -(-S // L)
    if NC * L != S:
        x = F.pad(x, (0, 0, 0, NC * L - S))
    return x.reshape(BH * NC, L, -1)


def _augmented(x: Tensor, last: Tensor | float, L: int, den: Tensor | None = None) -> Tensor:
    """``[x / den, last]`` in chunks: ``(BH, S, D)`` and a last column ``(BH, S)`` (or a
    constant) → ``(BH·NC, L, D + 1)``, zero-padded, written in one pass."""
    BH, S, D = x.shape
    NC = -(-S // L)
    out = x.new_empty(BH, NC * L, D + 1)
    if den is None:
        out[:, :S, :D] = x
    else:
        torch.div(x, den[..., None], out=out[:, :S, :D])
    out[:, :S, D] = last
    out[:, S:] = 0
    return out.view(BH * NC, L, D + 1)


def _unchunked(x: Tensor, BH: int, S: int) -> Tensor:
    """``(BH·NC, L, D)`` → ``(BH, S, D)`` (a view)."""
    return x.view(BH, -1, x.shape[-1])[:, :S]


def _decay_tile(gt: _Gates, sl: slice, mask: Tensor) -> Tensor:
    """``scale · exp(b_t - b_s + ĩ_s - m_t)`` for ``s ≤ t`` (0 above the diagonal).

    The exponent is raised to the log of the dtype's smallest normal number first: the
    CPU's vectorised ``exp`` takes a slow path, several times slower, for arguments whose
    result underflows (long-decayed steps). Those entries are then at most ``1.2e-38``
    (float32) instead of smaller, against an output denominator of at least ``1e-6``.
    Above the diagonal the exponent has no bound; capped at the same magnitude, its
    ``exp`` stays finite and the mask's product makes it exactly zero.
    """
    tile = gt.row[sl, :, None] + gt.col[sl, None, :]
    floor = _exp_floor(tile.dtype)
    return tile.clamp_(min=floor, max=-floor).exp_().mul_(mask)


def _exp_floor(dtype: torch.dtype) -> float:
    """The log of the smallest normal number of ``dtype``, rounded up."""
    return math.ceil(math.log(torch.finfo(dtype).tiny))


def _denominator(nq: Tensor, m: Tensor) -> tuple[Tensor, Tensor]:
    """``max(|n·q|, exp(-m)) + eps`` and ``exp(-m)`` (capped as in :mod:`.common`)."""
    cap = torch.exp((-m).clamp(max=MAX_LOG_DENOMINATOR)).to(nq.dtype)
    return torch.maximum(nq.abs(), cap) + EPS, cap


class _MLSTMChunkFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, i, f, C0, n0, m0, L):  # noqa: D102
        B, NH, S, D = q.shape
        DV, BH, NC = v.shape[-1], B * NH, -(-S // L)
        dt = q.dtype
        gt = _gates(i.reshape(BH, S), f.reshape(BH, S), m0.reshape(BH), L, D**-0.5, dt)
        qc, kc = _chunked(q.reshape(BH, S, D), L), _chunked(k.reshape(BH, S, D), L)
        vc = _augmented(v.reshape(BH, S, DV), 1.0, L)

        # memory entering every chunk, with n as the last column of C; then the final one
        Cin = q.new_empty(BH, NC, D, DV + 1)
        Cin[:, 0] = torch.cat([C0.reshape(BH, D, DV), n0.reshape(BH, D, 1)], -1)
        upd = ((kc * gt.a[..., None]).transpose(-1, -2) @ vc).view(BH, NC, D, DV + 1)
        CT = q.new_empty(BH, D, DV + 1)
        _scan(Cin, upd, gt.decay, CT, reverse=False)

        out = q.new_empty(BH * NC, L, DV + 1)  # [numerator, n·q] of every step
        mask = _causal_mask(L, q)
        G = max(1, GROUP_STEPS // L)
        Cf = Cin.view(BH * NC, D, DV + 1)
        for c0 in range(0, BH * NC, G):
            sl = slice(c0, c0 + G)
            Q = qc[sl]
            W = (Q @ kc[sl].transpose(-1, -2)).mul_(_decay_tile(gt, sl, mask))
            o = torch.matmul(W, vc[sl], out=out[sl])
            o.baddbmm_(Q * gt.w0[sl, :, None], Cf[sl])
        out = _unchunked(out, BH, S)
        nq = out[..., DV].contiguous()
        den, _ = _denominator(nq, gt.m)
        # h is laid out time-major, (B, S, NH, DV), and returned as a (B, NH, S, DV) view:
        # the blocks read it step by step across heads (their per-head norm) without a
        # transposing copy
        h = q.new_empty(B, S, NH, DV).transpose(1, 2)
        torch.div(out.view(B, NH, S, DV + 1)[..., :DV], den.view(B, NH, S, 1), out=h)

        ctx.save_for_backward(q, k, vc, f, h, nq, den, Cin, CT, *gt)
        ctx.L, ctx.DV = L, DV
        C = CT[..., :DV].reshape(B, NH, D, DV).clone()
        n = CT[..., DV].reshape(B, NH, D).clone()
        return h, C, n, gt.m[:, -1].to(dt).reshape(B, NH).clone()

    @staticmethod
    def backward(ctx, dh, dCT, dnT, dmT):  # noqa: D102
        q, k, vc, f, h, nq, den, Cin, CT, *rest = ctx.saved_tensors
        gt, L, DV = _Gates(*rest), ctx.L, ctx.DV
        B, NH, S, D = q.shape
        BH, NC = B * NH, -(-S // L)
        dt = q.dtype
        dh = dh.reshape(BH, S, DV).to(dt)

        # the denominator max(|n·q|, exp(-m)) + eps: gradients of n·q and of m_t
        dhh = (dh * h.reshape(BH, S, DV)).sum(-1)
        _, cap = _denominator(nq, gt.m)
        dden = -dhh / den
        w = (nq.abs() > cap).to(dt) + 0.5 * (nq.abs() == cap).to(dt)  # torch.maximum's split
        dnq = dden * torch.sign(nq) * w
        dcap = torch.where(-gt.m <= MAX_LOG_DENOMINATOR, dden * cap * (1 - w), 0.0)
        gm = (-dhh - dnq * nq - dcap).double()  # ∂L/∂m_t through the denominator

        qc, kc = _chunked(q.reshape(BH, S, D), L), _chunked(k.reshape(BH, S, D), L)
        dout = _augmented(dh, dnq, L, den)

        # gradient of the memory leaving every chunk, walking the chunks in reverse
        dCo = q.new_empty(BH, NC, D, DV + 1)
        dCo[:, NC - 1] = torch.cat([dCT.reshape(BH, D, DV), dnT.reshape(BH, D, 1)], -1)
        upd = ((qc * gt.w0[..., None]).transpose(-1, -2) @ dout).view(BH, NC, D, DV + 1)
        dC0 = q.new_empty(BH, D, DV + 1)
        _scan(dCo, upd, gt.decay, dC0, reverse=True)

        dq, dk, dv = (torch.empty_like(x) for x in (qc, kc, vc))
        rows, cols, dw0, da = (torch.empty_like(gt.a) for _ in range(4))
        mask = _causal_mask(L, q)
        G = max(1, GROUP_STEPS // L)
        Cf, dCf = Cin.view(BH * NC, D, DV + 1), dCo.view(BH * NC, D, DV + 1)
        for c0 in range(0, BH * NC, G):
            sl = slice(c0, c0 + G)
            Q, K, V, dO = qc[sl], kc[sl], vc[sl], dout[sl]
            w0, a = gt.w0[sl, :, None], gt.a[sl, :, None]
            P = _decay_tile(gt, sl, mask)
            W = (Q @ K.transpose(-1, -2)).mul_(P)
            dW = dO @ V.transpose(-1, -2)
            torch.matmul(W.transpose(-1, -2), dO, out=dv[sl])
            dA = P.mul_(dW)
            dD = dW.mul_(W)  # gradient of the tile's log weights
            torch.sum(dD, -1, out=rows[sl])
            torch.sum(dD, -2, out=cols[sl])
            # entering memory: out += w0 ⊙ (Q C_in)
            qi = dO @ Cf[sl].transpose(-1, -2)
            torch.matmul(dA, K, out=dq[sl]).addcmul_(qi, w0)
            torch.sum(Q * qi, -1, out=dw0[sl])
            # leaving memory: C_out = decay C_in + Σ_s a_s k_s [v_s, 1]ᵀ
            ki = V @ dCf[sl].transpose(-1, -2)
            torch.matmul(dA.transpose(-1, -2), Q, out=dk[sl]).addcmul_(ki, a)
            torch.sum(K * ki, -1, out=da[sl])
            dv[sl].baddbmm_(K * a, dCf[sl])
        ddec = (Cin * dCo).sum((-2, -1)) * gt.decay
        dw0 *= gt.w0
        da *= gt.a
        return _gate_grads(
            ctx, gt, (rows, cols, dw0, da, ddec), gm, (dq, dk, dv, dC0), (dCT, dnT, dmT, CT), f
        )


def _scan(mem: Tensor, upd: Tensor, decay: Tensor, last: Tensor, reverse: bool) -> None:
    """The chunk recurrence ``M_next = decay_c · M_c + upd_c`` in place.

    ``mem`` ``(BH, NC, D, DV + 1)`` holds the first memory at chunk 0 (the last one when
    ``reverse``) and receives the others; ``last`` receives the one after the final chunk.
    The per-chunk views are taken once: the loop's cost is its calls, not its arithmetic.
    """
    NC = mem.shape[1]
    ms, us, ds = mem.unbind(1), upd.unbind(1), decay[..., None, None].unbind(1)
    order = range(NC - 1, -1, -1) if reverse else range(NC)
    for c in order:
        nxt = c - 1 if reverse else c + 1
        torch.addcmul(us[c], ms[c], ds[c], out=ms[nxt] if 0 <= nxt < NC else last)


def _causal_mask(L: int, like: Tensor) -> Tensor:
    """1 on and below the diagonal, 0 above it."""
    return torch.ones((L, L), dtype=like.dtype, device=like.device).tril()


def _gate_grads(
    ctx: torch.autograd.function.FunctionCtx,
    gt: _Gates,
    sums: tuple[Tensor, ...],
    gm: Tensor,
    grads: tuple[Tensor, ...],
    final: tuple[Tensor, ...],
    f: Tensor,
) -> tuple[Tensor | None, ...]:
    """Assemble the gradients of every input of :class:`_MLSTMChunkFn`.

    Parameters
    ----------
    ctx, gt
        The function's context and gate scalars.
    sums : tuple of Tensor
        Per-step sums of the tile pass: ``rows, cols`` of the tiles' log-weight gradient,
        ``dw0, da`` (gradients of the log weights ``w0``, ``a``) and ``ddec`` per chunk.
    gm : Tensor
        ``∂L/∂m_t`` through the denominator, ``(BH, S)`` in float64.
    grads : tuple of Tensor
        ``dq, dk, dv`` in chunks and the gradient of the initial memory.
    final : tuple of Tensor
        Gradients of the final ``C, n, m`` and the final memory itself.
    f : Tensor
        Forget-gate pre-activations.
    """
    rows, cols, dw0, da, ddec = sums
    dq, dk, dv, dC0 = grads
    dCT, dnT, dmT, CT = final
    q = ctx.saved_tensors[0]
    B, NH, S, D = q.shape
    DV, BH, L = ctx.DV, B * NH, ctx.L
    NC = -(-S // L)
    dt = q.dtype

    # with the stabilisers held fixed: b_t enters the tile's rows (+), its columns (-), w0
    # (+) and a (-); g = b_{L-1} enters a and the decay; ĩ_s enters the columns and a.
    rows, cols, dw0, da = (x.view(BH, NC, L) for x in (rows, cols, dw0, da))
    di = cols + da
    db = rows - cols + dw0 - da
    db[..., -1] += da.sum(-1) + ddec
    dlogf = db.flip(-1).cumsum(-1).flip(-1).reshape(BH, NC * L)[:, :S]
    dm0 = dw0[:, 0].sum(-1) + ddec[:, 0]

    # m_t = F_t + max(m0, max_{s≤t}(ĩ_s - F_s)); the final m also scales the returned C, n
    gm[:, -1] += (
        dmT.reshape(BH).double()
        - (dCT.reshape(BH, D, DV) * CT[..., :DV]).sum((-2, -1)).double()
        - (dnT.reshape(BH, D) * CT[..., DV]).sum(-1).double()
    )
    du = torch.zeros(BH, S + 1, dtype=torch.float64, device=q.device)
    du.scatter_add_(1, gt.arg, gm)
    dF = gm - du[:, 1:]
    dlogf = dlogf + dF.flip(-1).cumsum(-1).flip(-1).to(dt)
    di = di.reshape(BH, NC * L)[:, :S] + du[:, 1:].to(dt)
    dm0 = dm0 + du[:, 0].to(dt)
    df = dlogf * torch.sigmoid(-f.reshape(BH, S).to(dt))

    return (
        _unchunked(dq, BH, S).reshape(B, NH, S, D),
        _unchunked(dk, BH, S).reshape(B, NH, S, D),
        _unchunked(dv, BH, S)[..., :DV].reshape(B, NH, S, DV),
        di.reshape(B, NH, S),
        df.reshape(B, NH, S),
        dC0[..., :DV].reshape(B, NH, D, DV),
        dC0[..., DV].reshape(B, NH, D),
        dm0.view(B, NH),
        None,
    )


def mlstm_chunkwise(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    i: Tensor,
    f: Tensor,
    state: MLSTMState | None = None,
    chunk_size: int = 64,
) -> tuple[Tensor, MLSTMState]:
    """mLSTM chunk by chunk with a hand-written backward pass.

    Computes the same as :func:`.naive.mlstm_chunkwise_autograd` but keeps only the
    chunk-boundary memories and a few scalars per step for the backward pass.

    Parameters
    ----------
    q, k, v, i, f : Tensor
        As in :func:`xlstm_ts.kernels.mlstm`; computed in float32 (float64 for float64).
    state : tuple of Tensor, optional
        Initial ``(C, n, m)``; ``None`` is the empty memory.
    chunk_size : int
        Steps per chunk (any ``S`` works).

    Returns
    -------
    h : Tensor
        Outputs ``(B, NH, S, DHV)`` in the state dtype (a view of a time-major
        ``(B, S, NH, DHV)`` tensor).
    state : tuple of Tensor
        Final ``(C, n, m)``.
    """
    C0, n0, m0 = empty_state(q, v) if state is None else state
    dt = state_dtype(q.dtype)
    L = max(1, min(chunk_size, q.shape[2]))
    q, k, v, i, f, C0, n0, m0 = (x.to(dt).contiguous() for x in (q, k, v, i, f, C0, n0, m0))
    h, C, n, m = _MLSTMChunkFn.apply(q, k, v, i, f, C0, n0, m0, L)
    return h, (C, n, m)
