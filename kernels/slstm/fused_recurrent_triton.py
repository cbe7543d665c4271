"""Fused recurrent sLSTM in Triton: forward and backward kernels and their autograd wrapper.

One program owns a block of batch rows and one head. It keeps the head's recurrent matrix
``R[j]`` (four ``DH × DH`` gate blocks) on chip and walks the sequence, so each step costs
one small matrix product per gate and no round trip of ``R`` through memory. The forward
pass writes the cell states ``(h, c, n, m)`` of every step in float32; the backward pass
walks the sequence in reverse, recomputes the gate pre-activations from ``h_{t-1}`` and
``R`` and accumulates ``dR`` on chip.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from ..triton_env import TRITON_DTYPES, interpreting
from .common import SLSTMState

__all__ = ["INTERPRETED", "slstm_triton"]


INTERPRETED = interpreting()
"""Whether the kernels below were built for Triton's CPU interpreter (fixed at import)."""


@triton.jit
def _tanh(x):
    # tanh from exp(-2|x|) stays accurate near 0 and never overflows
    e = tl.exp(-2.0 * tl.abs(x))
    t = (1.0 - e) / (1.0 + e)
    return tl.where(x >= 0, t, -t)


@triton.jit
def _logsigmoid(x):
    return tl.minimum(x, 0.0) - tl.log(1.0 + tl.exp(-tl.abs(x)))


@triton.jit
def _rdot(h, Rg, PREC: tl.constexpr):
    """``h @ R[g]`` in the dtype ``R[g]`` is held in, with float32 accumulation."""
    return tl.dot(h.to(Rg.dtype), Rg, input_precision=PREC)


@triton.jit
def _slstm_fwd(
    GX, R, H0, C0, N0, M0, HS, CS, NS, MS,
    B, S, NH, DH,
    BB: tl.constexpr, BD: tl.constexpr, DOT_HALF: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    pb = tl.program_id(0)
    j = tl.program_id(1)
    # int64 offsets: B·S·4·NH·DH may pass 2**31
    ob = pb.to(tl.int64) * BB + tl.arange(0, BB)
    ou = tl.arange(0, BD)
    mb = ob < B
    mu = ou < DH
    m2 = mb[:, None] & mu[None, :]

    rptr = R + j * 4 * DH * DH + ou[:, None] * DH + ou[None, :]
    rmask = mu[:, None] & mu[None, :]
    Ri = tl.load(rptr, mask=rmask, other=0.0)
    Rf = tl.load(rptr + DH * DH, mask=rmask, other=0.0)
    Rz = tl.load(rptr + 2 * DH * DH, mask=rmask, other=0.0)
    Ro = tl.load(rptr + 3 * DH * DH, mask=rmask, other=0.0)
    if DOT_HALF:
        Ri, Rf, Rz, Ro = (
            Ri.to(GX.dtype.element_ty),
            Rf.to(GX.dtype.element_ty),
            Rz.to(GX.dtype.element_ty),
            Ro.to(GX.dtype.element_ty),
        )
    else:
        Ri, Rf = Ri.to(tl.float32), Rf.to(tl.float32)
        Rz, Ro = Rz.to(tl.float32), Ro.to(tl.float32)

    st = (ob[:, None] * NH + j) * DH + ou[None, :]
    h = tl.load(H0 + st, mask=m2, other=0.0)
    c = tl.load(C0 + st, mask=m2, other=0.0)
    n = tl.load(N0 + st, mask=m2, other=0.0)
    m = tl.load(M0 + st, mask=m2, other=0.0)
    ss = (ob[:, None] * (S + 1) * NH + j) * DH + ou[None, :]
    tl.store(HS + ss, h, mask=m2)
    tl.store(CS + ss, c, mask=m2)
    tl.store(NS + ss, n, mask=m2)
    tl.store(MS + ss, m, mask=m2)
    G = NH * DH  # distance between two gates of one step in gates_x
    for t in range(S):
        gp = GX + ((ob[:, None] * S + t) * 4 * NH + j) * DH + ou[None, :]
        pi = tl.load(gp, mask=m2, other=0.0).to(tl.float32) + _rdot(h, Ri, PREC)
        pf = tl.load(gp + G, mask=m2, other=0.0).to(tl.float32) + _rdot(h, Rf, PREC)
        pz = tl.load(gp + 2 * G, mask=m2, other=0.0).to(tl.float32) + _rdot(h, Rz, PREC)
        po = tl.load(gp + 3 * G, mask=m2, other=0.0).to(tl.float32) + _rdot(h, Ro, PREC)
        logf = _logsigmoid(pf)
        m_new = tl.maximum(logf + m, pi)
        ig = tl.exp(pi - m_new)
        fg = tl.exp(logf + m - m_new)
        c = fg * c + ig * _tanh(pz)
        n = fg * n + ig
        m = m_new
        # padded rows and units stay exactly zero so they never leak through the products
        h = tl.where(m2, tl.sigmoid(po) * c / n, 0.0)
        sp = ss + (t + 1) * NH * DH
        tl.store(HS + sp, h, mask=m2)
        tl.store(CS + sp, c, mask=m2)
        tl.store(NS + sp, n, mask=m2)
        tl.store(MS + sp, m, mask=m2)


@triton.jit
def _slstm_bwd(
    GX, R, HS, CS, NS, MS, DHO, DHT, DCT, DNT, DMT,
    DGX, DR, DH0, DC0, DN0, DM0,
    B, S, NH, DH,
    BB: tl.constexpr, BD: tl.constexpr, DOT_HALF: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    pb = tl.program_id(0)
    j = tl.program_id(1)
    # int64 offsets: B·S·4·NH·DH may pass 2**31
    ob = pb.to(tl.int64) * BB + tl.arange(0, BB)
    ou = tl.arange(0, BD)
    mb = ob < B
    mu = ou < DH
    m2 = mb[:, None] & mu[None, :]

    rptr = R + j * 4 * DH * DH + ou[:, None] * DH + ou[None, :]
    rmask = mu[:, None] & mu[None, :]
    Ri = tl.load(rptr, mask=rmask, other=0.0)
    Rf = tl.load(rptr + DH * DH, mask=rmask, other=0.0)
    Rz = tl.load(rptr + 2 * DH * DH, mask=rmask, other=0.0)
    Ro = tl.load(rptr + 3 * DH * DH, mask=rmask, other=0.0)
    if DOT_HALF:
        Ri, Rf, Rz, Ro = (
            Ri.to(GX.dtype.element_ty),
            Rf.to(GX.dtype.element_ty),
            Rz.to(GX.dtype.element_ty),
            Ro.to(GX.dtype.element_ty),
        )
    else:
        Ri, Rf = Ri.to(tl.float32), Rf.to(tl.float32)
        Rz, Ro = Rz.to(tl.float32), Ro.to(tl.float32)

    st = (ob[:, None] * NH + j) * DH + ou[None, :]
    dh = tl.load(DHT + st, mask=m2, other=0.0)
    dc = tl.load(DCT + st, mask=m2, other=0.0)
    dn = tl.load(DNT + st, mask=m2, other=0.0)
    dm = tl.load(DMT + st, mask=m2, other=0.0)
    dRi = tl.zeros((BD, BD), dtype=tl.float32)
    dRf = tl.zeros((BD, BD), dtype=tl.float32)
    dRz = tl.zeros((BD, BD), dtype=tl.float32)
    dRo = tl.zeros((BD, BD), dtype=tl.float32)
    ss = (ob[:, None] * (S + 1) * NH + j) * DH + ou[None, :]
    G = NH * DH
    for tt in range(S):
        t = S - 1 - tt
        sp = ss + t * NH * DH  # state before step t; the state after it is sp + NH * DH
        h_p = tl.load(HS + sp, mask=m2, other=0.0)
        c_p = tl.load(CS + sp, mask=m2, other=0.0)
        n_p = tl.load(NS + sp, mask=m2, other=0.0)
        m_p = tl.load(MS + sp, mask=m2, other=0.0)
        c_t = tl.load(CS + sp + G, mask=m2, other=0.0)
        n_t = tl.load(NS + sp + G, mask=m2, other=1.0)
        m_t = tl.load(MS + sp + G, mask=m2, other=0.0)
        gp = GX + ((ob[:, None] * S + t) * 4 * NH + j) * DH + ou[None, :]
        pi = tl.load(gp, mask=m2, other=0.0).to(tl.float32) + _rdot(h_p, Ri, PREC)
        pf = tl.load(gp + G, mask=m2, other=0.0).to(tl.float32) + _rdot(h_p, Rf, PREC)
        pz = tl.load(gp + 2 * G, mask=m2, other=0.0).to(tl.float32) + _rdot(h_p, Rz, PREC)
        po = tl.load(gp + 3 * G, mask=m2, other=0.0).to(tl.float32) + _rdot(h_p, Ro, PREC)
        logf = _logsigmoid(pf)
        ig = tl.exp(pi - m_t)
        fg = tl.exp(logf + m_p - m_t)
        z = _tanh(pz)
        o = tl.sigmoid(po)

        dh += tl.load(DHO + ((ob[:, None] * S + t) * NH + j) * DH + ou[None, :], mask=m2,
                      other=0.0).to(tl.float32)  # fmt: skip
        inv_n = 1.0 / n_t
        dpo = dh * c_t * inv_n * o * (1.0 - o)
        dc += dh * o * inv_n
        dn -= dh * o * c_t * inv_n * inv_n
        dpz = dc * ig * (1.0 - z * z)
        dlog_i = (dc * z + dn) * ig
        dlog_f = (dc * c_p + dn * n_p) * fg
        dm_tot = dm - dlog_i - dlog_f
        # m_t = max(logσ(f̃) + m_{t-1}, ĩ): the gradient goes to the larger argument and is
        # split evenly on a tie, as torch.maximum does
        a = logf + m_p
        w = tl.where(a > pi, 1.0, tl.where(a == pi, 0.5, 0.0))
        dpi = tl.where(m2, dlog_i + dm_tot * (1.0 - w), 0.0)
        dpf = tl.where(m2, (dlog_f + dm_tot * w) * tl.sigmoid(-pf), 0.0)
        dpz = tl.where(m2, dpz, 0.0)
        dpo = tl.where(m2, dpo, 0.0)
        dm = tl.where(m2, dlog_f + dm_tot * w, 0.0)
        dc = dc * fg
        dn = dn * fg

        gd = DGX + ((ob[:, None] * S + t) * 4 * NH + j) * DH + ou[None, :]
        tl.store(gd, dpi.to(DGX.dtype.element_ty), mask=m2)
        tl.store(gd + G, dpf.to(DGX.dtype.element_ty), mask=m2)
        tl.store(gd + 2 * G, dpz.to(DGX.dtype.element_ty), mask=m2)
        tl.store(gd + 3 * G, dpo.to(DGX.dtype.element_ty), mask=m2)

        if DOT_HALF:
            hT = tl.trans(h_p.to(GX.dtype.element_ty))
            dpi_, dpf_ = dpi.to(GX.dtype.element_ty), dpf.to(GX.dtype.element_ty)
            dpz_, dpo_ = dpz.to(GX.dtype.element_ty), dpo.to(GX.dtype.element_ty)
        else:
            hT = tl.trans(h_p)
            dpi_, dpf_, dpz_, dpo_ = dpi, dpf, dpz, dpo
        dRi += tl.dot(hT, dpi_, input_precision=PREC)
        dRf += tl.dot(hT, dpf_, input_precision=PREC)
        dRz += tl.dot(hT, dpz_, input_precision=PREC)
        dRo += tl.dot(hT, dpo_, input_precision=PREC)
        dh = tl.dot(dpi_, tl.trans(Ri), input_precision=PREC)
        dh += tl.dot(dpf_, tl.trans(Rf), input_precision=PREC)
        dh += tl.dot(dpz_, tl.trans(Rz), input_precision=PREC)
        dh += tl.dot(dpo_, tl.trans(Ro), input_precision=PREC)

    tl.store(DH0 + st, dh, mask=m2)
    tl.store(DC0 + st, dc, mask=m2)
    tl.store(DN0 + st, dn, mask=m2)
    tl.store(DM0 + st, dm, mask=m2)
    rp = DR + (pb * NH + j) * 4 * DH * DH + ou[:, None] * DH + ou[None, :]
    tl.store(rp, dRi, mask=rmask)
    tl.store(rp + DH * DH, dRf, mask=rmask)
    tl.store(rp + 2 * DH * DH, dRz, mask=rmask)
    tl.store(rp + 3 * DH * DH, dRo, mask=rmask)


# --------------------------------------------------------------------------------------
# host side
# --------------------------------------------------------------------------------------


def _launch_config(B: int, DH: int, dtype: torch.dtype, device: torch.device) -> dict:
    BD = max(16, triton.next_power_of_2(DH))
    if interpreting() or device.type != "cuda":
        # one program per head is fastest in the interpreter; bf16 dots are wrong there
        return dict(BB=max(16, triton.next_power_of_2(B)), BD=BD, half=False, prec="ieee",
                    warps=4)  # fmt: skip
    half = dtype in (torch.float16, torch.bfloat16)
    # float32 follows torch's switch for TF32 products; half-precision dots ignore it
    prec = "tf32" if half or torch.backends.cuda.matmul.allow_tf32 else "ieee"
    # 16 rows is tl.dot's minimum; more rows per program only pay off for large batches
    BB = 16 if B <= 256 else 32
    warps = 4 if BD <= 32 else 8
    return dict(BB=BB, BD=BD, half=half, prec=prec, warps=warps)


class _SLSTMFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gates_x, R, h0, c0, n0, m0):  # noqa: D102
        B, S, _, NH, DH = gates_x.shape
        cfg = _launch_config(B, DH, gates_x.dtype, gates_x.device)
        states = torch.empty(4, B, S + 1, NH, DH, device=gates_x.device, dtype=torch.float32)
        HS, CS, NS, MS = states.unbind(0)
        grid = (triton.cdiv(B, cfg["BB"]), NH)
        _slstm_fwd[grid](
            gates_x, R, h0, c0, n0, m0, HS, CS, NS, MS, B, S, NH, DH,
            BB=cfg["BB"], BD=cfg["BD"], DOT_HALF=cfg["half"], PREC=cfg["prec"],
            num_warps=cfg["warps"],
        )  # fmt: skip
        ctx.save_for_backward(gates_x, R, states)
        ctx.cfg = cfg
        out = HS[:, 1:].to(gates_x.dtype)
        return out, HS[:, S].clone(), CS[:, S].clone(), NS[:, S].clone(), MS[:, S].clone()

    @staticmethod
    def backward(ctx, dout, dhT, dcT, dnT, dmT):  # noqa: D102
        gates_x, R, states = ctx.saved_tensors
        cfg = ctx.cfg
        B, S, _, NH, DH = gates_x.shape
        HS, CS, NS, MS = states.unbind(0)
        NB = triton.cdiv(B, cfg["BB"])
        f32 = dict(device=gates_x.device, dtype=torch.float32)
        dgx = torch.empty_like(gates_x)
        dR = torch.empty(NB, NH, 4, DH, DH, **f32)
        dh0, dc0, dn0, dm0 = (torch.empty(B, NH, DH, **f32) for _ in range(4))
        dhT, dcT, dnT, dmT = (x.float().contiguous() for x in (dhT, dcT, dnT, dmT))
        _slstm_bwd[(NB, NH)](
            gates_x, R, HS, CS, NS, MS, dout.contiguous(), dhT, dcT, dnT, dmT,
            dgx, dR, dh0, dc0, dn0, dm0, B, S, NH, DH,
            BB=cfg["BB"], BD=cfg["BD"], DOT_HALF=cfg["half"], PREC=cfg["prec"],
            num_warps=cfg["warps"],
        )  # fmt: skip
        return dgx, dR.sum(0).to(R.dtype), dh0, dc0, dn0, dm0


def slstm_triton(
    gates_x: Tensor, R: Tensor, state: SLSTMState | None = None
) -> tuple[Tensor, SLSTMState]:
    """sLSTM with the fused recurrent Triton kernels.

    Parameters
    ----------
    gates_x : Tensor
        ``(B, S, 4, NH, DH)`` in float32, float16 or bfloat16.
    R : Tensor
        ``(NH, 4, DH, DH)``.
    state : tuple of Tensor, optional
        Initial ``(h, c, n, m)``, each ``(B, NH, DH)``; ``None`` is ``h=c=n=0, m=-inf``.

    Returns
    -------
    h : Tensor
        ``(B, S, NH, DH)`` in the dtype of ``gates_x``.
    state : tuple of Tensor
        Final ``(h, c, n, m)`` in float32.
    """
    if gates_x.dtype not in TRITON_DTYPES:
        raise ValueError(
            f"the Triton sLSTM kernel takes float32, float16 or bfloat16 inputs, got "
            f"{gates_x.dtype}; use backend='torch' for other dtypes"
        )
    B, _, _, NH, DH = gates_x.shape
    if state is None:
        zeros = gates_x.new_zeros(B, NH, DH, dtype=torch.float32)
        state = (zeros, zeros, zeros, torch.full_like(zeros, float("-inf")))
    h0, c0, n0, m0 = (x.float().contiguous() for x in state)
    out, h, c, n, m = _SLSTMFn.apply(gates_x.contiguous(), R.contiguous(), h0, c0, n0, m0)
    return out, (h, c, n, m)
