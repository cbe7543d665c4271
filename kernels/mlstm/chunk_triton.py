"""Chunkwise mLSTM in Triton: forward and backward kernels and their autograd wrapper.

The sequence is cut into chunks of ``L`` steps (a power of two, at least 16).

Forward
    1. ``_fwd_states``: one program per (batch·head, key tile, value tile) walks the chunks
       in order and writes the memory ``(C, n, m)`` entering every chunk (and the final one).
    2. ``_fwd_out``: one program per (batch·head, chunk, value tile) computes the chunk's
       outputs in parallel, like one flash-attention tile: the causal intra-chunk part
       ``(Q Kᵀ ⊙ D) V`` plus the entering memory ``Q C``. It also writes the per-step
       stabiliser ``m_t`` and normaliser ``n_t·q_t`` (two scalars per step).

Backward
    3. ``_bwd_prep``: per-step scalars of the output's denominator (from ``dh·h``).
    4. ``_bwd_states``: walks the chunks in reverse and writes the gradient of the memory
       leaving every chunk (and of the initial memory).
    5. ``_bwd_chunk``: one program per (batch·head, chunk) recomputes the chunk's
       attention tile and produces ``dq, dk, dv`` and per-step sums for the gate gradients.

Nothing per step is stored except two scalars; the per-chunk memories are stored at the
chunk boundaries. The cheap O(S) gate bookkeeping (log-sigmoid, cumulative sums, the
running maximum behind the stabiliser) is done in torch around the kernels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import triton
import triton.language as tl
from torch import Tensor

from ..triton_env import TRITON_DTYPES, interpreting
from .common import EPS, MAX_LOG_DENOMINATOR, MLSTMState

__all__ = ["INTERPRETED", "mlstm_chunkwise_triton"]


INTERPRETED = interpreting()
"""Whether the kernels below were built for Triton's CPU interpreter (fixed at import)."""


# constants of the cell equations, as compile-time values for the kernels
EPS_ = tl.constexpr(EPS)
MAX_LOG_DEN = tl.constexpr(MAX_LOG_DENOMINATOR)

# --------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------


@triton.jit
def _fwd_states(
    K, V, IG, Bc, C0, N0, M0, CS, NS, MS,
    S, NC, DHQK, DHV, scale,
    L: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
    DOT_HALF: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    bh = tl.program_id(0).to(tl.int64)  # int64 offsets: the states may pass 2**31
    kb = tl.program_id(1)
    vb = tl.program_id(2)
    ok = kb * BK + tl.arange(0, BK)
    ov = vb * BV + tl.arange(0, BV)
    ol = tl.arange(0, L)
    mk = ok < DHQK
    mv = ov < DHV
    mkv = mk[:, None] & mv[None, :]
    SP = NC * L

    C = tl.load(C0 + bh * DHQK * DHV + ok[:, None] * DHV + ov[None, :], mask=mkv, other=0.0)
    n = tl.load(N0 + bh * DHQK + ok, mask=mk, other=0.0)
    m = tl.load(M0 + bh)
    for c in range(NC):
        base = (bh * (NC + 1) + c) * DHQK
        tl.store(CS + base * DHV + ok[:, None] * DHV + ov[None, :], C, mask=mkv)
        tl.store(NS + base + ok, n, mask=mk & (ok * 0 + vb == 0))
        if (kb == 0) & (vb == 0):
            tl.store(MS + bh * (NC + 1) + c, m)

        t = c * L + ol
        mt = t < S
        k = tl.load(K + (bh * S + t[:, None]) * DHQK + ok[None, :], mask=mt[:, None] & mk[None, :],
                    other=0.0).to(tl.float32)  # fmt: skip
        v = tl.load(V + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mt[:, None] & mv[None, :],
                    other=0.0)  # fmt: skip
        ig = tl.load(IG + bh * SP + t)
        b = tl.load(Bc + bh * SP + t)
        g = tl.load(Bc + bh * SP + c * L + L - 1)
        log_a = g - b + ig
        m_new = tl.maximum(g + m, tl.max(log_a, axis=0))
        # the empty memory meeting a chunk without input keeps m = -inf: avoid inf - inf
        m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        decay = tl.exp(g + m - m_safe)
        ka = k * (tl.exp(log_a - m_safe) * scale)[:, None]
        if DOT_HALF:
            upd = tl.dot(tl.trans(ka.to(V.dtype.element_ty)), v, input_precision=PREC)
        else:
            upd = tl.dot(tl.trans(ka), v.to(tl.float32), input_precision=PREC)
        C = decay * C + upd
        n = decay * n + tl.sum(ka, axis=0)
        m = m_new
    base = (bh * (NC + 1) + NC) * DHQK
    tl.store(CS + base * DHV + ok[:, None] * DHV + ov[None, :], C, mask=mkv)
    tl.store(NS + base + ok, n, mask=mk & (ok * 0 + vb == 0))
    if (kb == 0) & (vb == 0):
        tl.store(MS + bh * (NC + 1) + NC, m)


@triton.jit
def _fwd_out(
    Q, K, V, IG, Bc, CS, NS, MS, H, MT, NQ,
    S, NC, DHQK, DHV, scale,
    L: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
    DOT_HALF: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0).to(tl.int64)  # int64 offsets: the states may pass 2**31
    vb = tl.program_id(1)
    bh = pid // NC
    c = pid % NC
    ol = tl.arange(0, L)
    ov = vb * BV + tl.arange(0, BV)
    mv = ov < DHV
    t = c * L + ol
    mt = t < S
    SP = NC * L
    ig = tl.load(IG + bh * SP + t)
    b = tl.load(Bc + bh * SP + t)
    m_in = tl.load(MS + bh * (NC + 1) + c)
    sbase = (bh * (NC + 1) + c) * DHQK

    A = tl.zeros((L, L), dtype=tl.float32)
    qC = tl.zeros((L, BV), dtype=tl.float32)
    qn = tl.zeros((L,), dtype=tl.float32)
    for k0 in range(0, DHQK, BK):
        ok = k0 + tl.arange(0, BK)
        mk = ok < DHQK
        mqk = mt[:, None] & mk[None, :]
        q = tl.load(Q + (bh * S + t[:, None]) * DHQK + ok[None, :], mask=mqk, other=0.0)
        k = tl.load(K + (bh * S + t[:, None]) * DHQK + ok[None, :], mask=mqk, other=0.0)
        Cin = tl.load(CS + (sbase + ok[:, None]) * DHV + ov[None, :],
                      mask=mk[:, None] & mv[None, :], other=0.0)  # fmt: skip
        nin = tl.load(NS + sbase + ok, mask=mk, other=0.0)
        if DOT_HALF:
            A += tl.dot(q, tl.trans(k), input_precision=PREC)
            qC += tl.dot(q, Cin.to(Q.dtype.element_ty), input_precision=PREC)
        else:
            qf = q.to(tl.float32)
            A += tl.dot(qf, tl.trans(k.to(tl.float32)), input_precision=PREC)
            qC += tl.dot(qf, Cin, input_precision=PREC)
        qn += tl.sum(q.to(tl.float32) * nin[None, :], axis=1)
    A = A * scale

    causal = ol[:, None] >= ol[None, :]
    log_d = tl.where(causal, b[:, None] - b[None, :] + ig[None, :], float("-inf"))
    m_t = tl.maximum(tl.max(log_d, axis=1), b + m_in)
    W = tl.exp(log_d - m_t[:, None]) * A
    w0 = tl.exp(b + m_in - m_t)
    v = tl.load(V + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mt[:, None] & mv[None, :],
                other=0.0)  # fmt: skip
    if DOT_HALF:
        num = tl.dot(W.to(V.dtype.element_ty), v, input_precision=PREC)
    else:
        num = tl.dot(W, v.to(tl.float32), input_precision=PREC)
    num += w0[:, None] * qC
    nq = tl.sum(W, axis=1) + w0 * qn
    den = tl.maximum(tl.abs(nq), tl.exp(tl.minimum(-m_t, MAX_LOG_DEN))) + EPS_
    h = num / den[:, None]
    tl.store(H + (bh * S + t[:, None]) * DHV + ov[None, :], h.to(H.dtype.element_ty),
             mask=mt[:, None] & mv[None, :])  # fmt: skip
    tl.store(MT + bh * SP + t, m_t, mask=ol * 0 + vb == 0)
    tl.store(NQ + bh * SP + t, nq, mask=ol * 0 + vb == 0)


@triton.jit
def _bwd_prep(
    H, DH, MT, NQ, DEN, DNQ, GM,
    S, NC, DHV,
    L: tl.constexpr, BV: tl.constexpr,
):  # fmt: skip
    """Per-step scalars of ``h = num / den``: ``den``, ``dL/d(n·q)`` and ``∂L/∂m_t``."""
    pid = tl.program_id(0).to(tl.int64)
    bh = pid // NC
    c = pid % NC
    t = c * L + tl.arange(0, L)
    mt = t < S
    SP = NC * L
    # dh·h in float32 from the stored inputs (flash attention's "delta")
    dhh = tl.zeros((L,), dtype=tl.float32)
    for v0 in range(0, DHV, BV):
        ov = v0 + tl.arange(0, BV)
        mqv = mt[:, None] & (ov < DHV)[None, :]
        h = tl.load(H + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mqv, other=0.0)
        dh = tl.load(DH + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mqv, other=0.0)
        dhh += tl.sum(h.to(tl.float32) * dh.to(tl.float32), axis=1)
    m_t = tl.load(MT + bh * SP + t)
    nq = tl.load(NQ + bh * SP + t)
    cap = tl.exp(tl.minimum(-m_t, MAX_LOG_DEN))
    den = tl.maximum(tl.abs(nq), cap) + EPS_
    dden = -dhh / den
    # torch.maximum sends the gradient to the larger argument, split evenly on a tie
    w = tl.where(tl.abs(nq) > cap, 1.0, tl.where(tl.abs(nq) == cap, 0.5, 0.0))
    sgn = tl.where(nq > 0, 1.0, tl.where(nq < 0, -1.0, 0.0))
    dnq = dden * sgn * w
    # num and n·q scale as exp(-m_t); exp(min(-m_t, 60)) only below the cap
    dcap = tl.where(-m_t <= MAX_LOG_DEN, dden * cap * (1.0 - w), 0.0)
    tl.store(DEN + bh * SP + t, den)
    tl.store(DNQ + bh * SP + t, dnq)
    tl.store(GM + bh * SP + t, -dhh - dnq * nq - dcap)


@triton.jit
def _bwd_states(
    Q, DH, MT, DEN, DNQ, Bc, MS, DCF, DNF, DCS, DNS,
    S, NC, DHQK, DHV,
    L: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
    DOT_HALF: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    bh = tl.program_id(0).to(tl.int64)  # int64 offsets: the states may pass 2**31
    kb = tl.program_id(1)
    vb = tl.program_id(2)
    ok = kb * BK + tl.arange(0, BK)
    ov = vb * BV + tl.arange(0, BV)
    ol = tl.arange(0, L)
    mk = ok < DHQK
    mv = ov < DHV
    mkv = mk[:, None] & mv[None, :]
    SP = NC * L

    dC = tl.load(DCF + bh * DHQK * DHV + ok[:, None] * DHV + ov[None, :], mask=mkv, other=0.0)
    dn = tl.load(DNF + bh * DHQK + ok, mask=mk, other=0.0)
    for cc in range(NC):
        c = NC - 1 - cc
        base = (bh * (NC + 1) + c + 1) * DHQK
        tl.store(DCS + base * DHV + ok[:, None] * DHV + ov[None, :], dC, mask=mkv)
        tl.store(DNS + base + ok, dn, mask=mk & (ok * 0 + vb == 0))

        t = c * L + ol
        mt = t < S
        q = tl.load(Q + (bh * S + t[:, None]) * DHQK + ok[None, :], mask=mt[:, None] & mk[None, :],
                    other=0.0).to(tl.float32)  # fmt: skip
        dh = tl.load(DH + (bh * S + t[:, None]) * DHV + ov[None, :],
                     mask=mt[:, None] & mv[None, :], other=0.0)  # fmt: skip
        b = tl.load(Bc + bh * SP + t)
        g = tl.load(Bc + bh * SP + c * L + L - 1)
        m_t = tl.load(MT + bh * SP + t)
        den = tl.load(DEN + bh * SP + t)
        dnq = tl.load(DNQ + bh * SP + t)
        m_in = tl.load(MS + bh * (NC + 1) + c)
        m_out = tl.load(MS + bh * (NC + 1) + c + 1)
        m_out = tl.where(m_out == float("-inf"), 0.0, m_out)
        decay = tl.exp(g + m_in - m_out)
        w0 = tl.exp(b + m_in - m_t)
        qw = q * (w0 / den)[:, None]
        if DOT_HALF:
            upd = tl.dot(tl.trans(qw.to(DH.dtype.element_ty)), dh, input_precision=PREC)
        else:
            upd = tl.dot(tl.trans(qw), dh.to(tl.float32), input_precision=PREC)
        dC = decay * dC + upd
        dn = decay * dn + tl.sum(q * (w0 * dnq)[:, None], axis=0)
    base = bh * (NC + 1) * DHQK
    tl.store(DCS + base * DHV + ok[:, None] * DHV + ov[None, :], dC, mask=mkv)
    tl.store(DNS + base + ok, dn, mask=mk & (ok * 0 + vb == 0))


@triton.jit
def _bwd_chunk(
    Q, K, V, DH, IG, Bc, MT, DEN, DNQ, CS, NS, MS, DCS, DNS,
    DQ, DK, DV, ROWS, COLS, DW0, DA, DDEC,
    S, NC, DHQK, DHV, scale,
    L: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
    DOT_HALF: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0).to(tl.int64)  # int64 offsets: the states may pass 2**31
    bh = pid // NC
    c = pid % NC
    ol = tl.arange(0, L)
    t = c * L + ol
    mt = t < S
    SP = NC * L
    ig = tl.load(IG + bh * SP + t)
    b = tl.load(Bc + bh * SP + t)
    g = tl.load(Bc + bh * SP + c * L + L - 1)
    m_t = tl.load(MT + bh * SP + t)
    den = tl.load(DEN + bh * SP + t)
    dnq = tl.load(DNQ + bh * SP + t)
    m_in = tl.load(MS + bh * (NC + 1) + c)
    m_out = tl.load(MS + bh * (NC + 1) + c + 1)
    m_out = tl.where(m_out == float("-inf"), 0.0, m_out)
    sin = (bh * (NC + 1) + c) * DHQK  # memory entering the chunk
    sout = sin + DHQK  # gradient of the memory leaving it

    # recompute the chunk's attention tile A = Q Kᵀ and dnum Vᵀ
    A = tl.zeros((L, L), dtype=tl.float32)
    for k0 in range(0, DHQK, BK):
        ok = k0 + tl.arange(0, BK)
        mqk = mt[:, None] & (ok < DHQK)[None, :]
        q = tl.load(Q + (bh * S + t[:, None]) * DHQK + ok[None, :], mask=mqk, other=0.0)
        k = tl.load(K + (bh * S + t[:, None]) * DHQK + ok[None, :], mask=mqk, other=0.0)
        if DOT_HALF:
            A += tl.dot(q, tl.trans(k), input_precision=PREC)
        else:
            A += tl.dot(q.to(tl.float32), tl.trans(k.to(tl.float32)), input_precision=PREC)
    A = A * scale
    dWv = tl.zeros((L, L), dtype=tl.float32)
    for v0 in range(0, DHV, BV):
        ov = v0 + tl.arange(0, BV)
        mqv = mt[:, None] & (ov < DHV)[None, :]
        v = tl.load(V + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mqv, other=0.0)
        dh = tl.load(DH + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mqv, other=0.0)
        if DOT_HALF:
            dWv += tl.dot(dh.to(V.dtype.element_ty), tl.trans(v), input_precision=PREC)
        else:
            dWv += tl.dot(dh.to(tl.float32), tl.trans(v.to(tl.float32)), input_precision=PREC)

    causal = ol[:, None] >= ol[None, :]
    log_d = tl.where(causal, b[:, None] - b[None, :] + ig[None, :], float("-inf"))
    P = tl.exp(log_d - m_t[:, None])
    W = P * A
    dW = dWv / den[:, None] + dnq[:, None]
    dA = P * dW
    dD = W * dW
    tl.store(ROWS + bh * SP + t, tl.sum(dD, axis=1))
    tl.store(COLS + bh * SP + t, tl.sum(dD, axis=0))
    w0 = tl.exp(b + m_in - m_t)
    a = tl.exp(g - b + ig - m_out)
    decay = tl.exp(g + m_in - m_out)

    dw0 = tl.zeros((L,), dtype=tl.float32)
    da = tl.zeros((L,), dtype=tl.float32)
    ddec = tl.zeros((BK,), dtype=tl.float32)
    for k0 in range(0, DHQK, BK):
        ok = k0 + tl.arange(0, BK)
        mk = ok < DHQK
        mqk = mt[:, None] & mk[None, :]
        q = tl.load(Q + (bh * S + t[:, None]) * DHQK + ok[None, :], mask=mqk, other=0.0)
        k = tl.load(K + (bh * S + t[:, None]) * DHQK + ok[None, :], mask=mqk, other=0.0)
        if DOT_HALF:
            dq = tl.dot(dA.to(K.dtype.element_ty), k, input_precision=PREC)
            dk = tl.dot(tl.trans(dA.to(Q.dtype.element_ty)), q, input_precision=PREC)
        else:
            dq = tl.dot(dA, k.to(tl.float32), input_precision=PREC)
            dk = tl.dot(tl.trans(dA), q.to(tl.float32), input_precision=PREC)
        q_inter = tl.zeros((L, BK), dtype=tl.float32)  # rows: C_in · dh_t
        k_inter = tl.zeros((L, BK), dtype=tl.float32)  # rows: dC_out · v_s
        for v0 in range(0, DHV, BV):
            ov = v0 + tl.arange(0, BV)
            mv = ov < DHV
            mqv = mt[:, None] & mv[None, :]
            mkv = mk[:, None] & mv[None, :]
            v = tl.load(V + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mqv, other=0.0)
            dh = tl.load(DH + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mqv, other=0.0)
            Cin = tl.load(CS + (sin + ok[:, None]) * DHV + ov[None, :], mask=mkv, other=0.0)
            dCo = tl.load(DCS + (sout + ok[:, None]) * DHV + ov[None, :], mask=mkv, other=0.0)
            if DOT_HALF:
                q_inter += tl.dot(dh.to(V.dtype.element_ty), tl.trans(Cin.to(V.dtype.element_ty)),
                                  input_precision=PREC)  # fmt: skip
                k_inter += tl.dot(v, tl.trans(dCo.to(V.dtype.element_ty)), input_precision=PREC)
            else:
                q_inter += tl.dot(dh.to(tl.float32), tl.trans(Cin), input_precision=PREC)
                k_inter += tl.dot(v.to(tl.float32), tl.trans(dCo), input_precision=PREC)
            ddec += tl.sum(Cin * dCo, axis=1)
        nin = tl.load(NS + sin + ok, mask=mk, other=0.0)
        dno = tl.load(DNS + sout + ok, mask=mk, other=0.0)
        ddec += nin * dno
        q_inter = q_inter / den[:, None] + dnq[:, None] * nin[None, :]
        k_inter = (k_inter + dno[None, :]) * scale
        dw0 += tl.sum(q.to(tl.float32) * q_inter, axis=1)
        da += tl.sum(k.to(tl.float32) * k_inter, axis=1)
        dq = dq * scale + w0[:, None] * q_inter
        dk = dk * scale + a[:, None] * k_inter
        tl.store(DQ + (bh * S + t[:, None]) * DHQK + ok[None, :], dq.to(DQ.dtype.element_ty),
                 mask=mqk)  # fmt: skip
        tl.store(DK + (bh * S + t[:, None]) * DHQK + ok[None, :], dk.to(DK.dtype.element_ty),
                 mask=mqk)  # fmt: skip
    tl.store(DW0 + bh * SP + t, dw0 * w0)
    tl.store(DA + bh * SP + t, da * a)
    tl.store(DDEC + bh * NC + c, tl.sum(ddec, axis=0) * decay)

    for v0 in range(0, DHV, BV):
        ov = v0 + tl.arange(0, BV)
        mv = ov < DHV
        mqv = mt[:, None] & mv[None, :]
        dh = tl.load(DH + (bh * S + t[:, None]) * DHV + ov[None, :], mask=mqv, other=0.0)
        dnum = dh.to(tl.float32) / den[:, None]
        if DOT_HALF:
            dv = tl.dot(tl.trans(W.to(DH.dtype.element_ty)), dnum.to(DH.dtype.element_ty),
                        input_precision=PREC)  # fmt: skip
        else:
            dv = tl.dot(tl.trans(W), dnum, input_precision=PREC)
        kC = tl.zeros((L, BV), dtype=tl.float32)
        for k0 in range(0, DHQK, BK):
            ok = k0 + tl.arange(0, BK)
            mk = ok < DHQK
            k = tl.load(K + (bh * S + t[:, None]) * DHQK + ok[None, :],
                        mask=mt[:, None] & mk[None, :], other=0.0)  # fmt: skip
            dCo = tl.load(DCS + (sout + ok[:, None]) * DHV + ov[None, :],
                          mask=mk[:, None] & mv[None, :], other=0.0)  # fmt: skip
            if DOT_HALF:
                kC += tl.dot(k, dCo.to(K.dtype.element_ty), input_precision=PREC)
            else:
                kC += tl.dot(k.to(tl.float32), dCo, input_precision=PREC)
        dv += (a * scale)[:, None] * kC
        tl.store(DV + (bh * S + t[:, None]) * DHV + ov[None, :], dv.to(DV.dtype.element_ty),
                 mask=mqv)  # fmt: skip


# --------------------------------------------------------------------------------------
# host side
# --------------------------------------------------------------------------------------


def chunk_length(chunk_size: int, S: int) -> int:
    """Chunk length the kernels use: a power of two, at least 16 (``tl.dot``'s minimum).

    It is the next power of two of ``chunk_size``, but no longer than needed for ``S``
    steps. The chunk length changes only rounding, never the result.
    """
    return max(16, min(triton.next_power_of_2(chunk_size), triton.next_power_of_2(S)))


def _launch_config(DHQK: int, DHV: int, BH: int, dtype: torch.dtype, device: torch.device) -> dict:
    interp = interpreting() or device.type != "cuda"
    np2k, np2v = max(16, triton.next_power_of_2(DHQK)), max(16, triton.next_power_of_2(DHV))
    if interp:
        # the interpreter is fastest with whole-head tiles; bf16 dots are wrong there
        return dict(BK=np2k, BV=np2v, BKs=np2k, BVs=np2v, BVb=np2v, half=False, prec="ieee",
                    warps=4, warps_b=4)  # fmt: skip
    half = dtype in (torch.float16, torch.bfloat16)
    # float32 follows torch's own switch for TF32 matrix products
    prec = "tf32" if half or torch.backends.cuda.matmul.allow_tf32 else "ieee"
    BKs, BVs = min(np2k, 64), min(np2v, 64)
    # the state walks are sequential over chunks: use smaller tiles when there are few heads
    n_sm = torch.cuda.get_device_properties(device).multi_processor_count
    if BH * triton.cdiv(DHQK, BKs) * triton.cdiv(DHV, BVs) < 2 * n_sm:
        BKs, BVs = min(BKs, 32), min(BVs, 32)
    return dict(BK=min(np2k, 64), BV=min(np2v, 128), BKs=BKs, BVs=BVs, BVb=min(np2v, 64),
                half=half, prec=prec, warps=8 if np2v > 64 else 4, warps_b=8)  # fmt: skip


def _gate_arrays(i: Tensor, f: Tensor, L: int, NC: int) -> tuple[Tensor, Tensor]:
    """Padded input gates and within-chunk cumulative log forget gates, ``(B·NH, NC·L)``.

    Padded steps carry no input (ĩ = -inf) and no decay (logσ = 0), so they leave the
    memory unchanged.
    """
    B, NH, S = i.shape
    pad = NC * L - S
    ip = F.pad(i.float().reshape(B * NH, S), (0, pad), value=float("-inf"))
    logf = F.pad(F.logsigmoid(f.float()).reshape(B * NH, S), (0, pad), value=0.0)
    b = logf.view(B * NH, NC, L).cumsum(-1).view(B * NH, NC * L)
    return ip.contiguous(), b.contiguous()


class _MLSTMChunkFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, i, f, C0, n0, m0, L):  # noqa: D102
        B, NH, S, DHQK = q.shape
        DHV = v.shape[-1]
        BH, NC = B * NH, triton.cdiv(S, L)
        SP = NC * L
        scale = 1.0 / math.sqrt(DHQK)
        cfg = _launch_config(DHQK, DHV, BH, v.dtype, v.device)
        ip, b = _gate_arrays(i, f, L, NC)
        f32 = dict(device=q.device, dtype=torch.float32)
        CS = torch.empty(BH, NC + 1, DHQK, DHV, **f32)
        NS = torch.empty(BH, NC + 1, DHQK, **f32)
        MS = torch.empty(BH, NC + 1, **f32)
        common = dict(L=L, DOT_HALF=cfg["half"], PREC=cfg["prec"])
        grid = (BH, triton.cdiv(DHQK, cfg["BKs"]), triton.cdiv(DHV, cfg["BVs"]))
        _fwd_states[grid](
            k, v, ip, b, C0, n0, m0, CS, NS, MS, S, NC, DHQK, DHV, scale,
            BK=cfg["BKs"], BV=cfg["BVs"], num_warps=4, **common,
        )  # fmt: skip
        h = torch.empty_like(v)
        MT = torch.empty(BH, SP, **f32)
        NQ = torch.empty(BH, SP, **f32)
        grid = (BH * NC, triton.cdiv(DHV, cfg["BV"]))
        _fwd_out[grid](
            q, k, v, ip, b, CS, NS, MS, h, MT, NQ, S, NC, DHQK, DHV, scale,
            BK=cfg["BK"], BV=cfg["BV"], num_warps=cfg["warps"], **common,
        )  # fmt: skip
        ctx.save_for_backward(q, k, v, f, h, ip, b, MT, NQ, CS, NS, MS, C0, n0, m0)
        ctx.L, ctx.cfg = L, cfg
        C = CS[:, NC].reshape(B, NH, DHQK, DHV).clone()
        n = NS[:, NC].reshape(B, NH, DHQK).clone()
        m = MS[:, NC].reshape(B, NH).clone()
        return h, C, n, m

    @staticmethod
    def backward(ctx, dh, dCT, dnT, dmT):  # noqa: D102
        q, k, v, f, h, ip, b, MT, NQ, CS, NS, MS, C0, n0, m0 = ctx.saved_tensors
        L, cfg = ctx.L, ctx.cfg
        B, NH, S, DHQK = q.shape
        DHV = v.shape[-1]
        BH, NC = B * NH, triton.cdiv(S, L)
        SP = NC * L
        scale = 1.0 / math.sqrt(DHQK)
        dh = dh.contiguous()

        f32 = dict(device=q.device, dtype=torch.float32)
        den, dnq, gm = (torch.empty(BH, SP, **f32) for _ in range(3))
        _bwd_prep[(BH * NC,)](
            h, dh, MT, NQ, den, dnq, gm, S, NC, DHV, L=L, BV=cfg["BVb"], num_warps=4
        )  # fmt: skip

        DCS = torch.empty(BH, NC + 1, DHQK, DHV, **f32)
        DNS = torch.empty(BH, NC + 1, DHQK, **f32)
        dCT = dCT.reshape(BH, DHQK, DHV).float().contiguous()
        dnT = dnT.reshape(BH, DHQK).float().contiguous()
        common = dict(L=L, DOT_HALF=cfg["half"], PREC=cfg["prec"])
        grid = (BH, triton.cdiv(DHQK, cfg["BKs"]), triton.cdiv(DHV, cfg["BVs"]))
        _bwd_states[grid](
            q, dh, MT, den, dnq, b, MS, dCT, dnT, DCS, DNS, S, NC, DHQK, DHV,
            BK=cfg["BKs"], BV=cfg["BVs"], num_warps=4, **common,
        )  # fmt: skip
        dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
        ROWS, COLS, DW0, DA = (torch.empty(BH, SP, **f32) for _ in range(4))
        DDEC = torch.empty(BH, NC, **f32)
        _bwd_chunk[(BH * NC,)](
            q, k, v, dh, ip, b, MT, den, dnq, CS, NS, MS, DCS, DNS,
            dq, dk, dv, ROWS, COLS, DW0, DA, DDEC, S, NC, DHQK, DHV, scale,
            BK=cfg["BK"], BV=cfg["BVb"], num_warps=cfg["warps_b"], **common,
        )  # fmt: skip

        # Gate gradients with the stabilisers held fixed (they cancel in exact arithmetic,
        # except m_t in the output's denominator and the final m, handled below).
        di = COLS + DA
        db = (ROWS - COLS + DW0 - DA).view(BH, NC, L)
        db[..., L - 1] += DA.view(BH, NC, L).sum(-1) + DDEC  # g = b at the chunk's end
        dlogf = db.flip(-1).cumsum(-1).flip(-1).reshape(BH, SP)[:, :S]
        dm0 = DW0[:, :L].sum(-1) + DDEC[:, 0]

        # The stabiliser m_t = F_t + max(m0, max_{s<=t} (ĩ_s - F_s)) (F: cumulative logσ(f̃))
        # passes its gradient to the arguments of the running maximum, as torch's max does.
        CT, nT = CS[:, NC], NS[:, NC]
        gm = gm[:, :S].double()
        gm[:, S - 1] += (
            dmT.reshape(BH).double()
            - (dCT * CT).sum((-2, -1)).double()
            - (dnT * nT).sum(-1).double()
        )
        Fc = F.logsigmoid(f.double()).reshape(BH, S).cumsum(-1)
        run = torch.cat([m0.reshape(BH, 1).double(), ip[:, :S].double() - Fc], dim=1)
        arg = torch.cummax(run, dim=1).indices[:, 1:]
        du = torch.zeros(BH, S + 1, device=q.device, dtype=torch.float64)
        du.scatter_add_(1, arg, gm)
        dFc = gm - du[:, 1:]
        dlogf = dlogf + dFc.flip(-1).cumsum(-1).flip(-1).float()
        di = di[:, :S] + du[:, 1:].float()
        dm0 = dm0 + du[:, 0].float()

        df = dlogf * torch.sigmoid(-f.float().reshape(BH, S))
        return (
            dq,
            dk,
            dv,
            di.reshape(B, NH, S),
            df.reshape(B, NH, S),
            DCS[:, 0].reshape(B, NH, DHQK, DHV),
            DNS[:, 0].reshape(B, NH, DHQK),
            dm0.reshape(B, NH),
            None,
        )


def mlstm_chunkwise_triton(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    i: Tensor,
    f: Tensor,
    state: MLSTMState | None = None,
    chunk_size: int = 64,
) -> tuple[Tensor, MLSTMState]:
    """mLSTM chunk by chunk with the Triton kernels. Shapes as in :func:`xlstm_ts.kernels.mlstm`.

    Parameters
    ----------
    q, k, v, i, f : Tensor
        As in :func:`xlstm_ts.kernels.mlstm`; ``q, k, v`` in float32, float16 or bfloat16
        (``q`` and ``k`` are cast to the dtype of ``v``).
    state : tuple of Tensor, optional
        Initial ``(C, n, m)``; ``None`` is the empty memory.
    chunk_size : int
        Requested chunk length, rounded as in :func:`chunk_length`.

    Returns
    -------
    h : Tensor
        Outputs ``(B, NH, S, DHV)`` in the dtype of ``v``.
    state : tuple of Tensor
        Final ``(C, n, m)`` in float32.
    """
    if v.dtype not in TRITON_DTYPES:
        raise ValueError(
            f"the Triton mLSTM kernel takes float32, float16 or bfloat16 inputs, got {v.dtype}; "
            "use backend='torch' for other dtypes"
        )
    B, NH, S, DHQK = q.shape
    DHV = v.shape[-1]
    q, k, v = (x.to(v.dtype).contiguous() for x in (q, k, v))
    if state is None:
        C0 = q.new_zeros(B, NH, DHQK, DHV, dtype=torch.float32)
        n0 = q.new_zeros(B, NH, DHQK, dtype=torch.float32)
        m0 = q.new_full((B, NH), float("-inf"), dtype=torch.float32)
    else:
        C0, n0, m0 = (x.float().contiguous() for x in state)
    L = chunk_length(chunk_size, S)
    h, C, n, m = _MLSTMChunkFn.apply(q, k, v, i, f, C0, n0, m0, L)
    return h, (C, n, m)
