"""Every form of both cells against its plain-autograd reference loop.

mLSTM (reference: ``mlstm/naive.py``'s recurrent loop): the parallel and chunkwise
references of ``naive.py``, ``chunk_torch.py`` (hand-written backward), ``step_torch.py``
(one step at a time) and ``chunk_triton.py``. sLSTM (reference: ``slstm/naive.py``):
``fused_recurrent_numpy.py`` with its step loops in C (``fused_recurrent_c.py``) and in
NumPy, ``step_torch.py`` and ``fused_recurrent_triton.py``. Compared: outputs, final states
and the gradient of every input, initial state included, for a random loss on all outputs;
the torch forms in float64, the Triton forms in float32 (in Triton's interpreter on CPU).
``tests/test_cells_triton.py`` tests the Triton kernels further.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest
import torch
from xlstm_ts.kernels import cbuild, mlstm, slstm
from xlstm_ts.kernels.mlstm import (
    chunk_torch,
    mlstm_chunkwise,
    mlstm_chunkwise_autograd,
    mlstm_parallel,
    mlstm_recurrent,
    mlstm_step,
)
from xlstm_ts.kernels.slstm import (
    fused_recurrent_c,
    fused_recurrent_numpy,
    slstm_fused,
    slstm_recurrent,
    slstm_step,
)


def mlstm_steps(q, k, v, i, f, state=None, chunk_size=None):
    """The step form applied to one step after the other, carrying the state."""
    hs = []
    for t in range(q.shape[2]):
        h, state = mlstm_step(*(x[:, :, t : t + 1] for x in (q, k, v, i, f)), state)
        hs.append(h)
    return torch.cat(hs, 2), state


def slstm_steps(gates_x, R, state=None):
    """The sLSTM step form applied to one step after the other, carrying the state."""
    hs = []
    for t in range(gates_x.shape[1]):
        h, state = slstm_step(gates_x[:, t : t + 1], R, state)
        hs.append(h)
    return torch.cat(hs, 1), state


MLSTM_FORMS = {
    "parallel": lambda *a, chunk_size: mlstm_parallel(*a),
    "chunkwise_autograd": mlstm_chunkwise_autograd,
    "chunkwise": mlstm_chunkwise,
    "step": mlstm_steps,
}


def triton_module(name: str) -> ModuleType:
    """A Triton kernel module (``conftest.py`` has switched on the interpreter)."""
    pytest.importorskip("triton")
    return importlib.import_module(f"xlstm_ts.kernels.{name}")


def in_float32(fn):
    """``fn`` run on float32 copies of float64 inputs, its results cast back to float64
    (the Triton kernels take no float64; gradients still reach the float64 leaves)."""

    def cast(x, dtype):
        if isinstance(x, tuple):
            return tuple(cast(y, dtype) for y in x)
        return x.to(dtype) if isinstance(x, torch.Tensor) else x

    def run(*args, **kwargs):
        h, state = fn(*cast(args, torch.float32), **kwargs)
        return cast(h, torch.float64), cast(state, torch.float64)

    return run


def assert_close_relative(got, want, names, rel):
    """Each result within ``rel`` times the largest magnitude of its reference value."""
    for name, a, b in zip(names, got, want, strict=True):
        assert a.shape == b.shape, name
        assert torch.isfinite(a).all(), f"{name} is not finite"
        err = (a - b).abs().max().item()
        bound = rel * max(b.abs().max().item(), 1e-2)
        assert err <= bound, f"{name}: max error {err:.3g} > {bound:.3g}"


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def mlstm_leaves(
    B, NH, S, D, DV, *, state, i_scale=2.0, i_shift=0.0, f_scale=2.0, m0_shift=0.0, seed=0
):
    g = _gen(seed)

    def r(*shape, scale=1.0, shift=0.0):
        x = torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift
        return x.requires_grad_()

    args = [
        r(B, NH, S, D),
        r(B, NH, S, D),
        r(B, NH, S, DV),
        r(B, NH, S, scale=i_scale, shift=i_shift),
        r(B, NH, S, scale=f_scale, shift=2.0),
    ]
    init = None
    if state:
        n0 = r(B, NH, D).detach().abs().requires_grad_()
        init = (r(B, NH, D, DV), n0, r(B, NH, shift=m0_shift))
    return args, init


def run_and_grad(fn, args, state, leaves, seed=1):
    """Outputs of ``fn`` and the gradients of a random linear loss on all of them."""
    h, final = fn(*args, state)
    outs = (h, *final)
    g = _gen(seed)
    weights = [torch.randn(x.shape, generator=g, dtype=torch.float64) for x in outs]
    loss = sum((x * w.to(x.dtype)).sum() for x, w in zip(outs, weights, strict=True))
    return outs, torch.autograd.grad(loss, leaves)


def assert_all_close(got, want, names, tol):
    for name, a, b in zip(names, got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol, msg=lambda m, n=name: f"{n}: {m}")


MLSTM_NAMES = ("h", "C", "n", "m", "dq", "dk", "dv", "di", "df", "dC0", "dn0", "dm0")


@pytest.mark.parametrize("form", list(MLSTM_FORMS))
@pytest.mark.parametrize(
    "S,chunk_size", [(1, 4), (7, 4), (16, 4), (16, 16), (37, 8), (20, 64), (37, 5)]
)
@pytest.mark.parametrize("with_state", [False, True])
def test_mlstm_forms_match_recurrent_reference(form, S, chunk_size, with_state):
    args, state = mlstm_leaves(2, 2, S, 4, 3, state=with_state)
    leaves = [*args, *(state or ())]
    want = run_and_grad(mlstm_recurrent, args, state, leaves)
    got = run_and_grad(lambda *a: MLSTM_FORMS[form](*a, chunk_size=chunk_size), args, state, leaves)
    n = 12 if with_state else 9
    assert_all_close([*got[0], *got[1]], [*want[0], *want[1]], MLSTM_NAMES[:n], 1e-9)


@pytest.mark.parametrize("S,chunk_size", [(1, 16), (37, 16), (20, 64)])
@pytest.mark.parametrize("with_state", [False, True])
def test_mlstm_triton_form_matches_recurrent_reference(S, chunk_size, with_state):
    kernel = in_float32(triton_module("mlstm.chunk_triton").mlstm_chunkwise_triton)
    args, state = mlstm_leaves(2, 2, S, 4, 3, state=with_state)
    leaves = [*args, *(state or ())]
    want = run_and_grad(mlstm_recurrent, args, state, leaves)
    got = run_and_grad(lambda *a: kernel(*a, chunk_size=chunk_size), args, state, leaves)
    n = 12 if with_state else 9
    assert_close_relative([*got[0], *got[1]], [*want[0], *want[1]], MLSTM_NAMES[:n], 1e-4)


@pytest.mark.parametrize(
    "gates",
    [
        dict(i_scale=30.0, f_scale=30.0),  # stabiliser switches between i and f paths
        dict(i_scale=0.5, f_scale=0.5, m0_shift=8.0),  # the initial memory dominates
        dict(i_scale=0.1, i_shift=-20.0, m0_shift=-30.0),  # exp(-m) wins the denominator
        dict(i_scale=0.1, i_shift=-70.0, m0_shift=-90.0),  # ... and is capped at exp(60)
    ],
)
@pytest.mark.parametrize("group_steps", [8, 1024])
def test_mlstm_chunkwise_extreme_gates_and_groups(gates, group_steps, monkeypatch):
    # group_steps=8 makes every chunk its own group, exercising the group loop's edges
    monkeypatch.setattr(chunk_torch, "GROUP_STEPS", group_steps)
    args, state = mlstm_leaves(1, 2, 29, 4, 4, state=True, **gates)
    leaves = [*args, *state]
    want = run_and_grad(lambda *a: mlstm_chunkwise_autograd(*a, chunk_size=4), args, state, leaves)
    got = run_and_grad(lambda *a: mlstm_chunkwise(*a, chunk_size=4), args, state, leaves)
    assert_all_close([*got[0], *got[1]], [*want[0], *want[1]], MLSTM_NAMES, 1e-8)


def test_mlstm_all_inputs_masked_stays_finite_and_matches():
    # every input gate hugely negative: m falls far below 0, the denominator's cap is hit
    args, _ = mlstm_leaves(1, 1, 12, 3, 2, state=False)
    args[3] = torch.full_like(args[3], -500.0).requires_grad_()
    want = run_and_grad(lambda *a: mlstm_recurrent(*a), args, None, args)
    got = run_and_grad(lambda *a: mlstm_chunkwise(*a, chunk_size=4), args, None, args)
    assert all(torch.isfinite(x).all() for x in (*got[0], *got[1]))
    assert_all_close([*got[0], *got[1]], [*want[0], *want[1]], MLSTM_NAMES[:9], 1e-9)


def test_mlstm_gradcheck_hand_written_backward():
    args, state = mlstm_leaves(1, 1, 6, 2, 2, state=True)
    inputs = [*args, *state]

    def fn(*xs):
        h, (C, n, m) = mlstm_chunkwise(*xs[:5], tuple(xs[5:]), chunk_size=4)
        return h, C, n, m

    assert torch.autograd.gradcheck(fn, inputs)


def test_torch_backend_uses_the_hand_written_forms():
    args, _ = mlstm_leaves(1, 1, 5, 2, 2, state=False)
    h, state = mlstm(*args, chunk_size=2, backend="torch")
    assert "MLSTMChunkFn" in type(h.grad_fn).__name__
    # one chunk is the parallel form (plain autograd), with the same result
    h1, state1 = mlstm(*args, chunk_size=5, backend="torch")
    assert "MLSTMChunkFn" not in type(h1.grad_fn).__name__
    assert_all_close([h1, *state1], [h, *state], MLSTM_NAMES[:4], 1e-5)
    gates, R, _ = slstm_leaves(1, 3, 1, 2, state=False)
    h, _ = slstm(gates, R, backend="torch")
    assert "SLSTMFusedFn" in type(h.grad_fn).__name__


def _saved_bytes(fn) -> int:
    """Bytes of the tensors autograd keeps for the backward pass of ``fn()``."""
    seen: dict[int, int] = {}

    def pack(x):
        seen[x.untyped_storage().data_ptr()] = x.untyped_storage().nbytes()
        return x

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
        fn()
    return sum(seen.values())


def test_saved_activations_stay_within_a_small_multiple_of_the_inputs():
    g = _gen(0)
    S, NH, D = 2048, 2, 16
    q, k, v = (torch.randn(1, NH, S, D, generator=g, requires_grad=True) for _ in range(3))
    i, f = (torch.randn(1, NH, S, generator=g, requires_grad=True) for _ in range(2))
    inputs = sum(x.numel() * 4 for x in (q, k, v, i, f))
    fast = _saved_bytes(lambda: mlstm_chunkwise(q, k, v, i, f, chunk_size=64))
    plain = _saved_bytes(lambda: mlstm_chunkwise_autograd(q, k, v, i, f, chunk_size=64))
    assert fast < 3 * inputs < plain  # the plain form keeps the L × L tiles of every chunk

    gates = torch.randn(1, S, 4, NH, D, generator=g, requires_grad=True)
    R = torch.randn(NH, 4, D, D, generator=g, requires_grad=True)
    fused = _saved_bytes(lambda: slstm_fused(gates, R))
    assert fused < 2.5 * gates.numel() * 4  # gates + (h, c, n, m) per step (+ zeros for m)


# ---------------------------------------------------------------------------- sLSTM


def slstm_leaves(B, S, NH, DH, *, state, scale=2.0, seed=0):
    g = _gen(seed)
    gates = (
        torch.randn(B, S, 4, NH, DH, generator=g, dtype=torch.float64) * scale
    ).requires_grad_()
    R = (torch.randn(NH, 4, DH, DH, generator=g, dtype=torch.float64) / DH).requires_grad_()
    init = None
    if state:
        h, c, m = (torch.randn(B, NH, DH, generator=g, dtype=torch.float64) for _ in range(3))
        n = 1 + torch.rand(B, NH, DH, generator=g, dtype=torch.float64)
        init = tuple(x.requires_grad_() for x in (h, c, n, m))
    return gates, R, init


SLSTM_NAMES = ("h", "hT", "cT", "nT", "mT", "dgates_x", "dR", "dh0", "dc0", "dn0", "dm0")


@pytest.fixture(params=["c", "numpy"])
def step_loops(request, monkeypatch):
    """Run the fused sLSTM with its C step loops, then with the NumPy loops."""
    if request.param == "numpy":
        monkeypatch.setattr(fused_recurrent_c, "library", lambda: None)
    elif fused_recurrent_c.library() is None:
        pytest.skip("no C compiler here: the C step loops are not built")
    return request.param


@pytest.mark.parametrize("B,S,NH,DH", [(1, 1, 1, 3), (2, 9, 2, 4), (3, 23, 1, 5)])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("scale", [2.0, 30.0])
@pytest.mark.parametrize("block_steps", [4, 2048])
def test_slstm_fused_matches_reference(
    B, S, NH, DH, with_state, scale, block_steps, monkeypatch, step_loops
):
    # block_steps=4 cuts the backward into several blocks of steps
    monkeypatch.setattr(fused_recurrent_numpy, "BLOCK_STEPS", block_steps)
    gates, R, state = slstm_leaves(B, S, NH, DH, state=with_state, scale=scale)
    leaves = [gates, R, *(state or ())]
    want = run_and_grad(lambda *a: slstm_recurrent(*a), (gates, R), state, leaves)
    got = run_and_grad(lambda *a: slstm_fused(*a), (gates, R), state, leaves)
    n = 11 if with_state else 7
    assert_all_close([*got[0], *got[1]], [*want[0], *want[1]], SLSTM_NAMES[:n], 1e-10)


@pytest.mark.parametrize("B,S,NH,DH", [(1, 1, 1, 3), (2, 9, 2, 4)])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("scale", [2.0, 30.0])
def test_slstm_step_form_matches_reference(B, S, NH, DH, with_state, scale):
    gates, R, state = slstm_leaves(B, S, NH, DH, state=with_state, scale=scale)
    leaves = [gates, R, *(state or ())]
    want = run_and_grad(lambda *a: slstm_recurrent(*a), (gates, R), state, leaves)
    got = run_and_grad(lambda *a: slstm_steps(*a), (gates, R), state, leaves)
    n = 11 if with_state else 7
    assert_all_close([*got[0], *got[1]], [*want[0], *want[1]], SLSTM_NAMES[:n], 1e-12)


@pytest.mark.parametrize("B,S,NH,DH", [(1, 1, 1, 16), (2, 9, 2, 8)])
@pytest.mark.parametrize("with_state", [False, True])
def test_slstm_triton_form_matches_reference(B, S, NH, DH, with_state):
    kernel = in_float32(triton_module("slstm.fused_recurrent_triton").slstm_triton)
    gates, R, state = slstm_leaves(B, S, NH, DH, state=with_state)
    leaves = [gates, R, *(state or ())]
    want = run_and_grad(lambda *a: slstm_recurrent(*a), (gates, R), state, leaves)
    got = run_and_grad(lambda *a: kernel(*a), (gates, R), state, leaves)
    n = 11 if with_state else 7
    assert_close_relative([*got[0], *got[1]], [*want[0], *want[1]], SLSTM_NAMES[:n], 1e-4)


def test_slstm_fused_tied_stabiliser_splits_like_torch_max(step_loops):
    # ĩ = logσ(f̃) + m_{t-1} exactly: torch.maximum sends half the gradient each way
    gates, R, _ = slstm_leaves(1, 2, 1, 2, state=False)
    R = torch.zeros_like(R).requires_grad_()
    with torch.no_grad():
        gates[:, 1, 0] = torch.nn.functional.logsigmoid(gates[:, 1, 1]) + gates[:, 0, 0]
    want = run_and_grad(lambda *a: slstm_recurrent(*a), (gates, R), None, [gates, R])
    got = run_and_grad(lambda *a: slstm_fused(*a), (gates, R), None, [gates, R])
    assert_all_close([*got[0], *got[1]], [*want[0], *want[1]], SLSTM_NAMES[:7], 1e-12)


def test_slstm_fused_float32_extreme_gates_are_finite(step_loops):
    gates, R, _ = slstm_leaves(2, 17, 2, 4, state=False)
    extreme = (torch.sign(gates.detach()) * 1e3).float().requires_grad_()
    h, (hT, c, n, m) = slstm_fused(extreme, R.detach().float())
    assert torch.isfinite(h).all() and (n >= 1).all()
    (grad,) = torch.autograd.grad(h.sum() + c.sum(), [extreme])
    assert torch.isfinite(grad).all()


@pytest.mark.slow
@pytest.mark.parametrize("S", [1000, 4099])
def test_long_sequences_float32_close_to_float64_reference(S, step_loops):
    args, state = mlstm_leaves(1, 2, S, 16, 16, state=True)
    want = run_and_grad(lambda *a: mlstm_chunkwise_autograd(*a, chunk_size=64), args, state,
                        args)  # fmt: skip
    args32 = [x.detach().float().requires_grad_() for x in args]
    state32 = tuple(x.detach().float() for x in state)
    got = run_and_grad(lambda *a: mlstm_chunkwise(*a, chunk_size=64), args32, state32, args32)
    for a, b in zip([*got[0], *got[1]], [*want[0], *want[1]], strict=True):
        assert (a.double() - b).abs().max() <= 1e-3 * b.abs().max().clamp(min=1)

    gates, R, st = slstm_leaves(2, S, 2, 8, state=True)
    want = run_and_grad(lambda *a: slstm_recurrent(*a), (gates, R), st, [gates, R])
    g32, R32 = (x.detach().float().requires_grad_() for x in (gates, R))
    got = run_and_grad(lambda *a: slstm_fused(*a), (g32, R32), tuple(x.float() for x in st),
                       [g32, R32])  # fmt: skip
    for a, b in zip([*got[0], *got[1]], [*want[0], *want[1]], strict=True):
        assert (a.double() - b).abs().max() <= 1e-3 * b.abs().max().clamp(min=1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_slstm_c_and_numpy_step_loops_agree(dtype, monkeypatch):
    if fused_recurrent_c.library() is None:
        pytest.skip("no C compiler here: the C step loops are not built")
    gates, R, state = slstm_leaves(3, 40, 2, 8, state=True, scale=4.0)
    args = [x.detach().to(dtype).requires_grad_() for x in (gates, R, *state)]
    got_c = run_and_grad(lambda *a: slstm_fused(*a), args[:2], tuple(args[2:]), args)
    monkeypatch.setattr(fused_recurrent_c, "library", lambda: None)
    got_np = run_and_grad(lambda *a: slstm_fused(*a), args[:2], tuple(args[2:]), args)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert_all_close([*got_c[0], *got_c[1]], [*got_np[0], *got_np[1]], SLSTM_NAMES, tol)


def test_slstm_without_a_compiler_falls_back_to_numpy(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler")
    monkeypatch.setattr(cbuild.shutil, "which", lambda name: None)
    fused_recurrent_c.library.cache_clear()
    try:
        assert fused_recurrent_c.library() is None
        gates, R, _ = slstm_leaves(1, 5, 1, 3, state=False)
        h, _ = slstm_fused(gates, R)
        assert torch.isfinite(h).all()
    finally:
        fused_recurrent_c.library.cache_clear()


@pytest.mark.parametrize("B,S", [(1, 16), (2, 13)])
def test_mlstm_chunkwise_time_major_output_and_gradient(B, S):
    # h comes back as a view of a time-major tensor; a loss read time-major (as the blocks'
    # per-head norm reads it) sends a time-major gradient back: both layouts must give the
    # reference's numbers
    args, state = mlstm_leaves(B, 3, S, 4, 5, state=True)
    leaves = [*args, *state]
    w = torch.randn(B, S, 3, 5, generator=_gen(2), dtype=torch.float64)
    grads = []
    for fn in (mlstm_chunkwise_autograd, mlstm_chunkwise):
        h, _ = fn(*args, state, chunk_size=4)
        loss = (h.transpose(1, 2) * w).sum() + (h * h).sum()
        grads.append(torch.autograd.grad(loss, leaves))
    assert h.transpose(1, 2).is_contiguous()
    for got, want in zip(grads[1], grads[0], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
