"""Fused recurrent sLSTM for CPU tensors: a hand-written backward pass, no per-step graph.

The forward pass walks the sequence once and keeps only the cell states ``(h, c, n, m)`` of
every step. The backward pass recomputes every gate of every step at once from those
states (one batched product ``h_{t-1} R`` for the whole sequence), turns them into
per-step coefficients, and then walks the sequence in reverse, where each step is only
the recurrent product ``dpre_t Rᵀ`` and a handful of element-wise updates; ``dR`` is one
batched product at the end.

Both step loops run in NumPy on views of torch tensors: for the tiny per-step arrays of a
recurrent cell NumPy's per-call overhead is several times lower than torch's, and the
loop is a chain of such calls (13 forward, 4 backward). Everything outside the
loops is torch.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .common import SLSTMState, empty_state, state_dtype

# Inside the loops the gates are gate-major, (4, NH, B, DH) per step, in the order o, f, i, z,
# so that the blocks (o, f), (f, i), (o, f, i) and (i, z) are contiguous. The forward loop
# reads -õ and -f̃ and takes logσ(x) = -logaddexp(0, -x) of both in one call.
_ORDER = [3, 1, 0, 2]  # loop row -> gate index in gates_x (i, f, z, o)
_INVERSE = [2, 1, 3, 0]  # gate index in gates_x -> loop row
_FLIP = torch.tensor([-1.0, -1.0, 1.0, 1.0]).view(4, 1, 1, 1)


def _forward_loop(gx: np.ndarray, R4: np.ndarray, H, CN, M0) -> None:
    """Fill ``H, CN, M0[:, 1]`` from index 1 on, given the states at index 0.

    ``gx``: ``(S, 4, NH, B, DH)`` and ``R4``: ``(4, NH, DH, DH)`` in the loop's gate order
    with o and f negated; ``H``: ``(S+1, NH, B, DH)``; ``CN``: ``(S+1, 2, NH, B, DH)``, the
    normaliser n and the cell c; ``M0``: ``(S+1, 2, NH, B, DH)``, zeros and the stabiliser
    m (the zeros let one call add m to the f row only).
    """
    P = np.empty(gx.shape[1:], dtype=gx.dtype)
    fa, ig, zt = P[1], P[2], P[3]
    of, ofi, fi, iz, og = P[0:2], P[0:3], P[1:3], P[2:4], P[0]
    # every per-step view made up front: indexing inside the loop costs as much as a call
    H1, Hl, CNl, Ml, Mn = list(H[:, None]), list(H), list(CN), list(M0), list(M0[:, 1])
    Nl, Cl, gl = list(CN[:, 0]), list(CN[:, 1]), list(gx)
    matmul, logaddexp, subtract, maximum = np.matmul, np.logaddexp, np.subtract, np.maximum
    exp, tanh, multiply, divide, add = np.exp, np.tanh, np.multiply, np.divide, np.add
    zeros = np.zeros_like(of)  # an array argument is cheaper than a scalar one
    for t in range(len(gl)):
        matmul(H1[t], R4, out=P)
        add(P, gl[t], out=P)  # ufunc calls with out= are cheaper than P += ...
        logaddexp(zeros, of, out=of)
        subtract(Ml[t], of, out=of)  # logσ(õ), logσ(f̃) + m_{t-1}
        m = Mn[t + 1]
        maximum(fa, ig, out=m)
        subtract(fi, m, out=fi)
        exp(ofi, out=ofi)  # σ(õ), f', i'
        tanh(zt, out=zt)
        multiply(zt, ig, out=zt)  # i' tanh(z̃)
        cn = CNl[t + 1]
        multiply(CNl[t], fa, out=cn)
        add(cn, iz, out=cn)  # n_t = f' n + i',  c_t = f' c + i' tanh(z̃)
        h = Hl[t + 1]
        divide(Cl[t + 1], Nl[t + 1], out=h)
        multiply(h, og, out=h)


BLOCK_STEPS = 2048
"""Steps whose backward coefficients are formed at once (bounds their memory)."""

# The backward step is linear: per unit, a 7 × 4 matrix maps the gradients wrt
# (n_t, c_t, m_t, h_t) to dL/dpre_t (o, f, i, z) and the gradients wrt (n, c, m)_{t-1}.


def _backward_loop(ZZ: np.ndarray, K: np.ndarray, RT4: np.ndarray, t0: int) -> None:
    """Backward steps ``t0 + len(K) - 1`` down to ``t0``: four calls per step.

    ``ZZ``: ``(S+1, 13, NH, B, DH)``; block ``ZZ[t]`` holds ``dL/dpre_t`` (rows 0-3, gates
    o, f, i, z), the gradients wrt ``(n, c, m, h)_{t-1}`` (4-7), the output's own
    ``dL/dh_{t-1}`` (8) and ``dpre_t,g R_gᵀ`` (9-12), whose sum with row 8 is row 7.
    ``K``: ``(T, 4, 7, NH, B, DH)``, the maps from ``ZZ[t+1][4:8]`` to ``ZZ[t][0:7]``.
    """
    S = ZZ.shape[0] - 1
    Kl = list(K)
    tmp = np.empty(Kl[0].shape, dtype=K.dtype)
    # every per-step view made up front: indexing inside the loop costs as much as a call
    dpre, rec, dh_parts, dh = list(ZZ[:, 0:4]), list(ZZ[:, 9:13]), list(ZZ[:, 8:13]), list(ZZ[:, 7])
    state_in, out = list(ZZ[:, 4:8, None]), list(ZZ[:, 0:7])
    matmul, multiply, reduce = np.matmul, np.multiply, np.add.reduce
    for t in range(t0 + len(Kl) - 1, t0 - 1, -1):
        if t + 1 < S:
            matmul(dpre[t + 1], RT4, out=rec[t + 1])
        reduce(dh_parts[t + 1], axis=0, out=dh[t + 1])
        multiply(Kl[t - t0], state_in[t + 1], out=tmp)
        reduce(tmp, axis=0, out=out[t])


def _step_maps(gx: Tensor, R4: Tensor, H: Tensor, CN: Tensor, M: Tensor, K: Tensor) -> Tensor:
    """Write the linear maps of :func:`_backward_loop` for the steps of ``gx`` into ``K``.

    ``gx``: ``(T, 4, NH, B, DH)`` and ``R4``: ``(4, NH, DH, DH)`` in the loop's gate order;
    ``H, CN, M``: the stored states before and after each step (``T + 1`` entries);
    ``K``: a zeroed buffer ``(4, 7, T', NH, B, DH)`` with ``T' ≥ T``, reused between
    blocks (the entries written here are the same every time, the rest stay zero; fresh
    memory would cost more in page faults than the products).
    """
    T, _, NH, B, DH = gx.shape
    Hp = H[:-1].permute(1, 0, 2, 3).reshape(1, NH, T * B, DH)
    pre = (Hp @ R4).view(4, NH, T, B, DH).permute(2, 0, 1, 3, 4) + gx
    og, fg, ig, zg = pre.unbind(1)
    a = F.logsigmoid(fg) + M[:-1]
    m = M[1:]
    ii, ff = torch.exp(ig - m), torch.exp(a - m)
    zt, og = torch.tanh(zg), torch.sigmoid(og)
    n, c = CN[1:].unbind(1)
    n0, c0 = CN[:-1].unbind(1)
    hn = c / n
    wi = (ig > a).to(gx.dtype) + 0.5 * (ig == a).to(gx.dtype)  # torch.maximum's split
    wf = 1 - wi
    Bc, Cn = og / n, -og * hn / n  # dh_t → (dc_t, dn_t)
    # With X = (dn, dc) + dh (Cn, Bc) and Y_f = df'·f', Y_i = di'·i' linear in X, the max
    # m_t = max(a, ĩ) gives d a = wi Y_f - wf Y_i + wf dm = α_n X_n + α_c X_c + wf dm,
    # dĩ = -(α_n X_n + α_c X_c) + wi dm; a = logσ(f̃) + m_{t-1} passes d a to both.
    al_n = wi * n0 * ff - wf * ii
    al_c = wi * c0 * ff - wf * zt * ii
    K = K[:, :, :T]  # [input dn, dc, dm, dh; output row; step]
    K[3, 0] = hn * og * (1 - og)
    dz = ii * (1 - zt * zt)
    K[1, 3], K[3, 3] = dz, dz * Bc
    sf = torch.sigmoid(-fg)  # d logσ(f̃) / df̃
    for col, x in enumerate((al_n, al_c, wf, al_n * Cn + al_c * Bc)):
        K[col, 6] = x
        torch.mul(x, sf, out=K[col, 1])
        torch.neg(x, out=K[col, 2])
    K[2, 2] = wi
    K[0, 4], K[3, 4] = ff, ff * Cn
    K[1, 5], K[3, 5] = ff, ff * Bc
    return K


def _loop_order(gates_x: Tensor, R: Tensor) -> tuple[Tensor, Tensor]:
    """``gates_x`` as ``(S, 4, NH, B, DH)`` and ``R`` as ``(4, NH, DH, DH)``, loop order."""
    gx = gates_x.permute(1, 2, 3, 0, 4)[:, _ORDER]
    return gx, R.transpose(0, 1)[_ORDER]


class _SLSTMFusedFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gates_x, R, h0, c0, n0, m0):  # noqa: D102
        B, S, _, NH, DH = gates_x.shape
        gx, R4 = _loop_order(gates_x, R)
        flip = _FLIP.to(gates_x.dtype)
        H = gates_x.new_empty(S + 1, NH, B, DH)
        CN, M0 = (gates_x.new_empty(S + 1, 2, NH, B, DH) for _ in range(2))
        M0[:, 0] = 0.0
        M = M0[:, 1]
        H[0], CN[0, 0], CN[0, 1], M[0] = (x.transpose(0, 1) for x in (h0, n0, c0, m0))
        _forward_loop((gx * flip[None]).contiguous().numpy(), (R4 * flip).contiguous().numpy(),
                      H.numpy(), CN.numpy(), M0.numpy())  # fmt: skip
        ctx.save_for_backward(gates_x, R, H, CN, M)
        out = H[1:].permute(2, 0, 1, 3).contiguous()
        final = (H[S], CN[S, 1], CN[S, 0], M[S])
        return out, *(x.transpose(0, 1).contiguous() for x in final)

    @staticmethod
    def backward(ctx, dout, dhT, dcT, dnT, dmT):  # noqa: D102
        gates_x, R, H, CN, M = ctx.saved_tensors
        B, S, _, NH, DH = gates_x.shape
        dt = gates_x.dtype
        gx, R4 = _loop_order(gates_x, R)
        RT4 = R4.transpose(-1, -2).contiguous()
        ZZ = gates_x.new_empty(S + 1, 13, NH, B, DH)  # see _backward_loop
        ZZ[0, 7:].zero_()
        ZZ[S, 9:].zero_()
        ZZ[1:, 8] = dout.to(dt).permute(1, 2, 0, 3)
        ZZ[S, 8] += dhT.to(dt).transpose(0, 1)
        ZZ[S, 4], ZZ[S, 5], ZZ[S, 6] = (x.to(dt).transpose(0, 1) for x in (dnT, dcT, dmT))
        Zn, RTn = ZZ.numpy(), RT4.numpy()
        K = gates_x.new_zeros(4, 7, min(S, BLOCK_STEPS), NH, B, DH)
        # the loop reads each step's map as one contiguous block
        Ks = gates_x.new_empty(min(S, BLOCK_STEPS), 4, 7, NH, B, DH)
        for t0 in range((S - 1) // BLOCK_STEPS * BLOCK_STEPS, -1, -BLOCK_STEPS):
            sl, sl1 = slice(t0, t0 + BLOCK_STEPS), slice(t0, t0 + BLOCK_STEPS + 1)
            Kt = _step_maps(gx[sl], R4, H[sl1], CN[sl1], M[sl1], K)
            Kst = Ks[: Kt.shape[2]]
            Kst.copy_(Kt.permute(2, 0, 1, 3, 4, 5))
            _backward_loop(Zn, Kst.numpy(), RTn, t0)

        DP = ZZ[:S, 0:4]  # dL/dpre, (S, 4, NH, B, DH)
        Hp = H[:-1].permute(1, 3, 0, 2).reshape(1, NH, DH, S * B)
        dR4 = Hp @ DP.permute(1, 2, 0, 3, 4).reshape(4, NH, S * B, DH)
        dR = dR4[_INVERSE].transpose(0, 1)
        dh0 = (DP[0] @ RT4).sum(0).transpose(0, 1)
        dgx = DP[:, _INVERSE].permute(3, 0, 1, 2, 4)
        dn0, dc0, dm0 = (x.transpose(0, 1) for x in ZZ[0, 4:7])
        return dgx, dR, dh0, dc0, dn0, dm0


def slstm_fused(
    gates_x: Tensor, R: Tensor, state: SLSTMState | None = None
) -> tuple[Tensor, SLSTMState]:
    """sLSTM over a sequence of CPU tensors with the hand-written backward pass.

    Computes the same as :func:`.naive.slstm_recurrent`, in float32 (float64 for float64
    inputs).

    Parameters
    ----------
    gates_x : Tensor
        ``(B, S, 4, NH, DH)``: ``W x + b`` for the gates i, f, z, o.
    R : Tensor
        ``(NH, 4, DH, DH)``, block-diagonal recurrent weights.
    state : tuple of Tensor, optional
        Initial ``(h, c, n, m)``, each ``(B, NH, DH)``; ``None`` is ``h=c=n=0, m=-inf``.

    Returns
    -------
    h : Tensor
        ``(B, S, NH, DH)`` in the state dtype.
    state : tuple of Tensor
        Final ``(h, c, n, m)``.
    """
    if gates_x.device.type != "cpu":
        raise ValueError("slstm_fused runs on CPU tensors; use slstm_recurrent elsewhere")
    dt = state_dtype(gates_x.dtype)
    state = empty_state(gates_x) if state is None else state
    gates_x, R = gates_x.to(dt).contiguous(), R.to(dt).contiguous()
    out, *final = _SLSTMFusedFn.apply(gates_x, R, *(x.to(dt) for x in state))
    return out, tuple(final)
