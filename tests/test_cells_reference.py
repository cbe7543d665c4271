"""The torch forms of both cells: agreement, state passing, gradients, extremes."""

import math

import pytest
import torch
import torch.nn.functional as F
from xlstm_ts.kernels import mlstm, slstm

MODES = ("parallel", "chunkwise", "recurrent")


def mlstm_inputs(B=2, NH=2, S=37, DQK=8, DV=6, dtype=torch.float64, seed=0, state=False):
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale=1.0, shift=0.0):
        return (torch.randn(*shape, generator=g, dtype=dtype) * scale + shift).requires_grad_()

    args = [
        r(B, NH, S, DQK),
        r(B, NH, S, DQK),
        r(B, NH, S, DV),
        r(B, NH, S, scale=2.0),
        r(B, NH, S, scale=2.0, shift=2.0),
    ]
    init = (
        (r(B, NH, DQK, DV), r(B, NH, DQK).detach().abs().requires_grad_(), r(B, NH))
        if state
        else None
    )
    return args, init


def unstabilised_mlstm(q, k, v, i, f, eps=1e-6):
    """The cell without a stabiliser, for moderate gates: h = C̄q / (max(|n̄q|, 1) + eps·e^m)."""
    B, NH, S, D = q.shape
    C = q.new_zeros(B, NH, D, v.shape[-1])
    n = q.new_zeros(B, NH, D)
    logm = q.new_full((B, NH), float("-inf"))
    out = []
    for t in range(S):
        kt = k[:, :, t] / math.sqrt(D)
        C = torch.sigmoid(f[:, :, t])[..., None, None] * C + torch.exp(i[:, :, t])[
            ..., None, None
        ] * (kt[..., :, None] * v[:, :, t, None, :])
        n = torch.sigmoid(f[:, :, t])[..., None] * n + torch.exp(i[:, :, t])[..., None] * kt
        logm = torch.maximum(F.logsigmoid(f[:, :, t]) + logm, i[:, :, t])
        num = torch.einsum("bhdv,bhd->bhv", C, q[:, :, t])
        nq = (n * q[:, :, t]).sum(-1)
        out.append(num / (torch.clamp(nq.abs(), min=1.0) + eps * torch.exp(logm))[..., None])
    return torch.stack(out, 2)


def test_recurrent_matches_unstabilised_equations():
    (q, k, v, i, f), _ = mlstm_inputs()
    h, _ = mlstm(q, k, v, i, f, mode="recurrent")
    torch.testing.assert_close(h, unstabilised_mlstm(q, k, v, i, f), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("S", [1, 16, 37, 64])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_mlstm_modes_agree(S, with_state, dtype, tol):
    args, state = mlstm_inputs(S=S, dtype=dtype, state=with_state)
    ref_h, ref_state = mlstm(*args, state, mode="recurrent")
    for mode, chunk in [("parallel", 64), ("chunkwise", 16), ("chunkwise", 5), ("chunkwise", 64)]:
        h, new_state = mlstm(*args, state, mode=mode, chunk_size=chunk)
        torch.testing.assert_close(h, ref_h, rtol=tol, atol=tol)
        for a, b in zip(new_state, ref_state, strict=True):
            torch.testing.assert_close(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", MODES)
def test_mlstm_gradients_agree_across_modes(mode):
    args, state = mlstm_inputs(S=21, state=True)
    leaves = [*args, *state]

    def grads(m):
        h, (C, n, mm) = mlstm(*args, state, mode=m, chunk_size=8)
        loss = h.square().sum() + C.sum() + n.sum() + mm.sum()
        return torch.autograd.grad(loss, leaves)

    for a, b in zip(grads(mode), grads("recurrent"), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("S,pieces", [(40, [16, 24]), (37, [5, 1, 31]), (64, [64])])
@pytest.mark.parametrize("mode", MODES)
def test_mlstm_state_passing_continues_sequence(S, pieces, mode):
    args, _ = mlstm_inputs(S=S)
    full_h, full_state = mlstm(*args, mode=mode, chunk_size=8)
    hs, state, start = [], None, 0
    for length in pieces:
        part = [a[:, :, start : start + length] for a in args]
        h, state = mlstm(*part, state, mode=mode, chunk_size=8)
        hs.append(h)
        start += length
    torch.testing.assert_close(torch.cat(hs, 2), full_h, rtol=1e-10, atol=1e-10)
    for a, b in zip(state, full_state, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_state", [False, True])
def test_mlstm_gradcheck(mode, with_state):
    args, state = mlstm_inputs(B=1, NH=1, S=7, DQK=3, DV=2, state=with_state)
    inputs = [*args, *(state or ())]

    def fn(*xs):
        st = tuple(xs[5:]) if with_state else None
        h, (C, n, m) = mlstm(*xs[:5], st, mode=mode, chunk_size=3)
        return h, C, n, m

    assert torch.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scale", [1e3, -1e3])
def test_mlstm_extreme_gates_are_finite(mode, scale):
    (q, k, v, i, f), _ = mlstm_inputs(dtype=torch.float32)
    i_ext = (torch.sign(torch.randn_like(i)) * scale).requires_grad_()
    f_ext = (torch.sign(torch.randn_like(f)) * scale).requires_grad_()
    h, state = mlstm(q, k, v, i_ext, f_ext, mode=mode, chunk_size=8)
    assert torch.isfinite(h).all() and all(torch.isfinite(s).all() for s in state)
    grads = torch.autograd.grad(h.sum() + state[0].sum(), [q, k, v, i_ext, f_ext])
    assert all(torch.isfinite(g).all() for g in grads)


def slstm_inputs(B=2, S=23, NH=2, DH=4, dtype=torch.float64, seed=0, state=False):
    g = torch.Generator().manual_seed(seed)
    gates = (torch.randn(B, S, 4, NH, DH, generator=g, dtype=dtype) * 2).requires_grad_()
    R = (torch.randn(NH, 4, DH, DH, generator=g, dtype=dtype) / DH).requires_grad_()
    if not state:
        return gates, R, None
    h, c, m = (torch.randn(B, NH, DH, generator=g, dtype=dtype) for _ in range(3))
    n = 1 + torch.rand(B, NH, DH, generator=g, dtype=dtype)
    return gates, R, tuple(x.requires_grad_() for x in (h, c, n, m))


def test_slstm_matches_unstabilised_equations():
    gates, R, _ = slstm_inputs()
    h_ref, (hT, c, n, m) = slstm(gates, R)
    B, S, _, NH, DH = gates.shape
    h = c = n = torch.zeros(B, NH, DH, dtype=gates.dtype)
    for t in range(S):
        i_, f_, z_, o_ = (
            gates[:, t, g] + torch.einsum("bjd,jde->bje", h, R[:, g]) for g in range(4)
        )
        c = torch.sigmoid(f_) * c + torch.exp(i_) * torch.tanh(z_)
        n = torch.sigmoid(f_) * n + torch.exp(i_)
        h = torch.sigmoid(o_) * c / n
        torch.testing.assert_close(h_ref[:, t], h, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(hT, h)


@pytest.mark.parametrize("pieces", [[10, 13], [1, 1, 21], [23]])
def test_slstm_state_passing_continues_sequence(pieces):
    gates, R, _ = slstm_inputs()
    full_h, full_state = slstm(gates, R)
    hs, state, start = [], None, 0
    for length in pieces:
        h, state = slstm(gates[:, start : start + length], R, state)
        hs.append(h)
        start += length
    torch.testing.assert_close(torch.cat(hs, 1), full_h, rtol=1e-12, atol=1e-12)
    for a, b in zip(state, full_state, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_state", [False, True])
def test_slstm_gradcheck(with_state):
    gates, R, state = slstm_inputs(B=1, S=5, NH=2, DH=2, state=with_state)
    inputs = [gates, R, *(state or ())]

    def fn(*xs):
        h, st = slstm(xs[0], xs[1], tuple(xs[2:]) if with_state else None)
        return (h, *st)

    assert torch.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("scale", [1e3, -1e3])
def test_slstm_extreme_gates_are_finite_and_normaliser_at_least_one(scale):
    gates, R, _ = slstm_inputs(dtype=torch.float32)
    extreme = (torch.sign(torch.randn_like(gates)) * scale).requires_grad_()
    h, (hT, c, n, m) = slstm(extreme, R)
    assert torch.isfinite(h).all() and torch.isfinite(c).all() and torch.isfinite(m).all()
    assert (n >= 1).all()
    grads = torch.autograd.grad(h.sum(), [extreme, R])
    assert all(torch.isfinite(g).all() for g in grads)


def test_slstm_normaliser_stays_at_least_one_along_the_sequence():
    gates, R, _ = slstm_inputs(S=50)
    state = None
    for t in range(50):
        _, state = slstm(gates[:, t : t + 1] * 50, R, state)
        assert (state[2] >= 1 - 1e-12).all()


def test_bad_shapes_and_options_raise():
    (q, k, v, i, f), _ = mlstm_inputs(dtype=torch.float32)
    with pytest.raises(ValueError, match="k must have shape"):
        mlstm(q, k[:, :, :3], v, i, f)
    with pytest.raises(ValueError, match="mode must be one of"):
        mlstm(q, k, v, i, f, mode="fast")
    with pytest.raises(ValueError, match="chunk_size"):
        mlstm(q, k, v, i, f, chunk_size=0)
    with pytest.raises(ValueError, match="backend must be one of"):
        mlstm(q, k, v, i, f, backend="cuda")
    gates, R, _ = slstm_inputs()
    with pytest.raises(ValueError, match="R must have shape"):
        slstm(gates, R[:1])
