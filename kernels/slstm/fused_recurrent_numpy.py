"""Fused recurrent sLSTM for CPU tensors: a hand-written backward pass, no per-step graph.

The forward pass walks the sequence once and keeps the pre-activations and the cell
states ``(h, c, n, m)`` of every step. The backward pass turns the saved pre-activations
of a block of steps into per-step linear maps at once (vectorised over time in torch),
then walks the sequence in reverse, where each step applies its map to the incoming
gradients and forms the recurrent product ``dpre_t Rᵀ``. The output's own gradient
enters the maps as a constant term, precomputed with them; ``dR`` is one batched product
at the end.

The two step loops run in C (:mod:`.fused_recurrent_c`, built on first use) where a C
compiler is found, and otherwise in NumPy on views of torch tensors, with the same layouts
and the same maths (equal to rounding). For the tiny per-step arrays of a recurrent cell
NumPy's per-call overhead is several times lower than torch's: its forward step is one dense product
``h_{t-1} R`` (``R`` as one block-diagonal ``U × 4U`` matrix, ``U = NH · DH``: one BLAS
call for all heads and gates) and a dozen element-wise calls on preallocated buffers; its
backward step is three calls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from . import fused_recurrent_c
from .common import SLSTMState, empty_state, state_dtype

# Inside the loops the gates are gate-major, (B, 4, U) per step, in the order o, f, i, z,
# so that the blocks (o, f), (f, i), (o, f, i) and (i, z) are contiguous. The forward loop
# reads -õ and -f̃ and takes logσ(x) = -logaddexp(0, -x) of both in one call.
_ORDER = [3, 1, 0, 2]  # loop row -> gate index in gates_x (i, f, z, o)
_INVERSE = [2, 1, 3, 0]  # gate index in gates_x -> loop row
_FLIP = (-1.0, -1.0, 1.0, 1.0)


def _dot(B: int) -> Callable[..., np.ndarray]:
    """The product with ``out=`` for ``(B, ·)`` operands: ``np.dot`` (least overhead) needs
    a C-contiguous ``out``, which the strided rows of the backward buffer are only at B = 1."""
    return np.dot if B == 1 else np.matmul


def _forward_loop(
    G: np.ndarray, RH: np.ndarray, Rd: np.ndarray, H: np.ndarray, CN: np.ndarray, M0: np.ndarray
) -> None:
    """Fill ``RH``, ``H, CN, M0[:, :, 1]`` from index 1 on, given the states at index 0.

    ``G``: ``(S, B, 4U)``, ``W x + b`` in the loop's gate order with o and f negated;
    ``RH``: ``(S, B, 4U)``, receives ``h_{t-1} Rd``; ``Rd``: ``(U, 4U)``, block-diagonal,
    same order and signs; ``H``: ``(S+1, B, U)``; ``CN``: ``(S+1, B, 2, U)``, the
    normaliser n and the cell c; ``M0``: ``(S+1, B, 2, U)``, zeros and the stabiliser m
    (the zeros let one call add m to the f row only).
    """
    S, B, U4 = G.shape
    U = U4 // 4
    P2 = np.empty((B, U4), dtype=G.dtype)
    P = P2.reshape(B, 4, U)
    fa, ig, zt, og = P[:, 1:2], P[:, 2], P[:, 3], P[:, 0]
    of, ofi, fi, iz = P[:, 0:2], P[:, 0:3], P[:, 1:3], P[:, 2:4]
    fa2, ig2 = P[:, 1], P[:, 2]
    # every per-step view made up front: indexing inside the loop costs as much as a call
    Hl, Gl, RHl, CNl, Ml = list(H), list(G), list(RH), list(CN), list(M0)
    Mn, Mn1 = list(M0[:, :, 1]), list(M0[:, :, 1:2])
    Nl, Cl = list(CN[:, :, 0]), list(CN[:, :, 1])
    dot, add, logaddexp, subtract, maximum = _dot(B), np.add, np.logaddexp, np.subtract, np.maximum
    exp, tanh, multiply, divide = np.exp, np.tanh, np.multiply, np.divide
    zeros = np.zeros_like(of)  # an array argument is cheaper than a scalar one
    for t in range(S):
        rh = RHl[t]
        dot(Hl[t], Rd, out=rh)
        add(rh, Gl[t], out=P2)  # ufunc calls with out= are cheaper than P += ...
        logaddexp(zeros, of, out=of)
        subtract(Ml[t], of, out=of)  # logσ(õ), logσ(f̃) + m_{t-1}
        maximum(fa2, ig2, out=Mn[t + 1])
        subtract(fi, Mn1[t + 1], out=fi)
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
"""Steps whose backward maps are formed at once (bounds their memory)."""

# The backward step is linear: per unit, a 5 × 7 matrix maps the gradients wrt
# (n_t, c_t, m_t, h_t) and a constant 1 to dL/dpre_t (o, f, i, z) and the gradients wrt
# (n, c, m)_{t-1}; the constant's row is the output's own dL/dh_t times the h_t row.


def _backward_loop(ZZ: np.ndarray, K: np.ndarray, RT: np.ndarray, t0: int) -> None:
    """Backward steps ``t0 + len(K) - 1`` down to ``t0``: three calls per step.

    ``ZZ``: ``(S+1, B, 9, U)``; ``ZZ[t]`` holds ``dL/dpre_t`` (rows 0-3, gates o, f, i,
    z), the gradients wrt ``(n, c, m)_{t-1}`` (4-6), ``dpre_t Rᵀ`` (7, the recurrent part
    of the gradient wrt ``h_{t-1}``) and ones (8). ``K``: ``(T, B, 5, 7, U)``, the maps
    from ``ZZ[t+1][:, 4:9]`` to ``ZZ[t][:, 0:7]``; ``RT``: ``(4U, U)``, ``Rdᵀ``.
    """
    B = ZZ.shape[1]
    U4 = 4 * ZZ.shape[3]
    Kl = list(K)
    tmp = np.empty(Kl[0].shape, dtype=K.dtype)
    # every per-step view made up front: indexing inside the loop costs as much as a call
    state_in, out = list(ZZ[:, :, 4:9, None]), list(ZZ[:, :, 0:7])
    dpre, rec = list(ZZ[:, :, 0:4].reshape(-1, B, U4)), list(ZZ[:, :, 7])
    dot, multiply, reduce = _dot(B), np.multiply, np.add.reduce
    for t in range(t0 + len(Kl) - 1, t0 - 1, -1):
        multiply(Kl[t - t0], state_in[t + 1], out=tmp)
        reduce(tmp, axis=1, out=out[t])
        dot(dpre[t], RT, out=rec[t])


def _step_maps(pre: Tensor, CN: Tensor, M: Tensor, dout: Tensor, K: Tensor) -> Tensor:
    """Write the maps of :func:`_backward_loop` for the steps of ``pre`` into ``K``.

    ``pre``: ``(T, B, 4, U)``, the saved pre-activations (o and f negated); ``CN, M``: the
    stored states before and after each step (``T + 1`` entries); ``dout``: ``(T, B, U)``,
    the output's gradient; ``K``: a zeroed buffer ``(T', B, 5, 7, U)`` with ``T' ≥ T``,
    reused between blocks (the entries written here are the same every time, the rest stay
    zero; fresh memory would cost more in page faults than the products).
    """
    T = pre.shape[0]
    no, nf, ig, zg = pre.unbind(2)  # no = -õ, nf = -f̃
    a = M[:-1] - F.softplus(nf)  # logσ(f̃) + m_{t-1}
    m = M[1:]
    ii, ff = torch.exp(ig - m), torch.exp(a - m)
    zt, og = torch.tanh(zg), torch.sigmoid(-no)
    n, c = CN[1:].unbind(2)
    n0, c0 = CN[:-1].unbind(2)
    hn = c / n
    wi = (ig > a).to(pre.dtype) + 0.5 * (ig == a).to(pre.dtype)  # torch.maximum's split
    wf = 1 - wi
    Bc, Cn = og / n, -og * hn / n  # dh_t → (dc_t, dn_t)
    # With X = (dn, dc) + dh (Cn, Bc) and Y_f = df'·f', Y_i = di'·i' linear in X, the max
    # m_t = max(a, ĩ) gives d a = wi Y_f - wf Y_i + wf dm = α_n X_n + α_c X_c + wf dm,
    # dĩ = -(α_n X_n + α_c X_c) + wi dm; a = logσ(f̃) + m_{t-1} passes d a to both.
    al_n = wi * n0 * ff - wf * ii
    al_c = wi * c0 * ff - wf * zt * ii
    K = K[:T]  # [step, batch, input dn, dc, dm, dh, 1, output row, unit]
    K[:, :, 3, 0] = hn * og * (1 - og)
    dz = ii * (1 - zt * zt)
    K[:, :, 1, 3], K[:, :, 3, 3] = dz, dz * Bc
    sf = torch.sigmoid(nf)  # d logσ(f̃) / df̃ = σ(-f̃)
    for col, x in enumerate((al_n, al_c, wf, al_n * Cn + al_c * Bc)):
        K[:, :, col, 6] = x
        torch.mul(x, sf, out=K[:, :, col, 1])
        torch.neg(x, out=K[:, :, col, 2])
    K[:, :, 2, 2] = wi
    K[:, :, 0, 4], K[:, :, 3, 4] = ff, ff * Cn
    K[:, :, 1, 5], K[:, :, 3, 5] = ff, ff * Bc
    torch.mul(K[:, :, 3], dout[:, :, None], out=K[:, :, 4])
    return K


def _dense(R: Tensor) -> Tensor:
    """``R`` ``(NH, 4, DH, DH)`` as the block-diagonal ``(U, 4U)`` matrix, loop gate order."""
    return torch.cat([torch.block_diag(*R[:, g]) for g in _ORDER], dim=1)


class _SLSTMFusedFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gates_x, R, h0, c0, n0, m0):  # noqa: D102
        B, S, _, NH, DH = gates_x.shape
        U = NH * DH
        flip = gates_x.new_tensor(_FLIP).view(4, 1, 1)
        G = (gates_x.transpose(0, 1)[:, :, _ORDER] * flip).reshape(S, B, 4 * U).contiguous()
        H = gates_x.new_empty(S + 1, B, U)
        CN, M0 = (gates_x.new_empty(S + 1, B, 2, U) for _ in range(2))
        M0[:, :, 0] = 0.0
        M = M0[:, :, 1]
        H[0], CN[0, :, 0], CN[0, :, 1], M[0] = (x.reshape(B, U) for x in (h0, n0, c0, m0))
        lib = fused_recurrent_c.library()
        if lib is not None:  # G becomes the pre-activations in place
            R4 = (R.transpose(0, 1)[_ORDER] * flip[:, :, None]).contiguous()
            fused_recurrent_c.forward_loop(lib, G, R4, H, CN, M0)
        else:
            Rd = (_dense(R).view(U, 4, U) * flip[:, 0]).reshape(U, 4 * U)
            RH = torch.empty_like(G)
            _forward_loop(G.numpy(), RH.numpy(), Rd.numpy(), H.numpy(), CN.numpy(), M0.numpy())
            G += RH  # the pre-activations, for the backward pass
            del RH
        ctx.save_for_backward(G, R, H, CN, M)
        out = H[1:].transpose(0, 1).reshape(B, S, NH, DH)
        final = (H[S], CN[S, :, 1], CN[S, :, 0], M[S])
        return out, *(x.reshape(B, NH, DH) for x in final)

    @staticmethod
    def backward(ctx, dout, dhT, dcT, dnT, dmT):  # noqa: D102
        G, R, H, CN, M = ctx.saved_tensors
        S, B, U4 = G.shape
        NH, _, DH, _ = R.shape
        U, dt = U4 // 4, G.dtype
        pre = G.view(S, B, 4, U)
        ZZ = G.new_empty(S + 1, B, 9, U)  # see _backward_loop
        ZZ[:, :, 8] = 1.0
        ZZ[S, :, 4], ZZ[S, :, 5], ZZ[S, :, 6], ZZ[S, :, 7] = (
            x.to(dt).reshape(B, U) for x in (dnT, dcT, dmT, dhT)
        )
        dout = dout.to(dt).transpose(0, 1).reshape(S, B, U)
        lib = fused_recurrent_c.library()
        if lib is not None:
            RT4 = R.transpose(0, 1)[_ORDER].transpose(-1, -2).contiguous()
        else:
            Zn, RTn = ZZ.numpy(), _dense(R).t().contiguous().numpy()  # (4U, U)
        T = min(S, BLOCK_STEPS)
        K = G.new_zeros(T, B, 5, 7, U)
        for t0 in range((S - 1) // BLOCK_STEPS * BLOCK_STEPS, -1, -BLOCK_STEPS):
            sl, sl1 = slice(t0, t0 + BLOCK_STEPS), slice(t0, t0 + BLOCK_STEPS + 1)
            Kt = _step_maps(pre[sl], CN[sl1], M[sl1], dout[sl], K)
            if lib is not None:
                fused_recurrent_c.backward_loop(lib, ZZ, Kt, RT4, t0)
            else:
                _backward_loop(Zn, Kt.numpy(), RTn, t0)

        DP = ZZ[:S, :, 0:4]  # dL/dpre, (S, B, 4, U), gates o, f, i, z
        Hp = H[:-1].view(S * B, NH, DH).permute(1, 2, 0)  # (NH, DH, S·B)
        DPh = DP.reshape(S * B, 4, NH, DH).permute(2, 0, 1, 3).reshape(NH, S * B, 4 * DH)
        dR = (Hp @ DPh).view(NH, DH, 4, DH)[:, :, _INVERSE].transpose(1, 2)
        dgx = DP[:, :, _INVERSE].transpose(0, 1).reshape(B, S, 4, NH, DH)
        dh0, dn0, dc0, dm0 = (ZZ[0, :, r].reshape(B, NH, DH) for r in (7, 4, 5, 6))
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
    gates_x, R = gates_x.to(dt), R.to(dt)
    out, *final = _SLSTMFusedFn.apply(gates_x, R, *(x.to(dt) for x in state))
    return out, tuple(final)
