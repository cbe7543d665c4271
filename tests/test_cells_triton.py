"""The Triton kernels against the torch forms: outputs, final states, every gradient.

On a machine without a GPU the kernels run in Triton's interpreter (``TRITON_INTERPRET=1``,
set by ``conftest.py``), so the default tests use tiny shapes. ``-m slow`` runs a fuller
grid; ``-m gpu`` runs the compiled kernels on CUDA in float32 and bfloat16 and needs
``TRITON_INTERPRET=0`` in the environment (the conftest default would interpret them).
"""

from __future__ import annotations

import importlib

import pytest
import torch

pytest.importorskip("triton")

from xlstm_ts.kernels import mlstm, slstm  # noqa: E402
from xlstm_ts.kernels.mlstm import mlstm_chunkwise  # noqa: E402
from xlstm_ts.kernels.slstm import slstm_recurrent  # noqa: E402

tc = importlib.import_module("xlstm_ts.kernels.mlstm.chunk_triton")
tf = importlib.import_module("xlstm_ts.kernels.slstm.fused_recurrent_triton")

MLSTM_NAMES = ("h", "C", "n", "m", "dq", "dk", "dv", "di", "df", "dC0", "dn0", "dm0")
SLSTM_NAMES = ("h", "hT", "cT", "nT", "mT", "dgates_x", "dR", "dh0", "dc0", "dn0", "dm0")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def mlstm_inputs(B, NH, S, DQK, DV, *, state, seed=0, i_shift=0.0, i_scale=2.0):
    """Random float32 leaves ``[q, k, v, i, f]`` and an optional state ``(C, n, m)``."""
    g = _gen(seed)

    def r(*shape, scale=1.0, shift=0.0):
        return (torch.randn(*shape, generator=g) * scale + shift).requires_grad_()

    args = [
        r(B, NH, S, DQK),
        r(B, NH, S, DQK),
        r(B, NH, S, DV),
        r(B, NH, S, scale=i_scale, shift=i_shift),
        r(B, NH, S, scale=2.0, shift=2.0),
    ]
    init = None
    if state:
        init = (r(B, NH, DQK, DV), r(B, NH, DQK).detach().abs().requires_grad_(), r(B, NH))
    return args, init


def slstm_inputs(B, S, NH, DH, *, state, seed=0, scale=1.0):
    """Random float32 leaves ``gates_x, R`` and an optional state ``(h, c, n, m)``."""
    g = _gen(seed)

    def r(*shape, s=1.0, shift=0.0):
        return (torch.randn(*shape, generator=g) * s + shift).requires_grad_()

    gx, R = r(B, S, 4, NH, DH, s=scale), r(NH, 4, DH, DH, s=DH**-0.5)
    init = None
    if state:
        n0 = (torch.rand(B, NH, DH, generator=g) + 1.0).requires_grad_()
        init = (r(B, NH, DH), r(B, NH, DH), n0, r(B, NH, DH))
    return [gx, R], init


def _run(fn, args, init, cast, seed=1, loss_on=None):
    """Outputs of ``fn`` and the gradients of a random linear loss of all of them (or of
    the first ``loss_on``)."""
    outs = fn([cast(x) for x in args], None if init is None else tuple(cast(x) for x in init))
    g = _gen(seed)
    loss = sum((o * torch.randn(o.shape, generator=g).to(o)).sum() for o in outs[:loss_on])
    leaves = list(args) + (list(init) if init is not None else [])
    return list(outs) + list(torch.autograd.grad(loss, leaves))


def _assert_all_close(names, got, want, rel):
    """Each result within ``rel`` times the largest magnitude of the reference."""
    for name, a, b in zip(names, got, want, strict=False):
        a, b = a.detach().double().cpu(), b.detach().double().cpu()
        assert a.shape == b.shape, name
        assert torch.isfinite(a).all(), f"{name} is not finite"
        err = (a - b).abs().max().item()
        bound = rel * max(b.abs().max().item(), 1e-2)
        assert err <= bound, f"{name}: max error {err:.3g} > {bound:.3g}"


def _mlstm_fn(kernel, chunk):
    def fn(args, init):
        h, (C, n, m) = kernel(*args, init, chunk_size=chunk)
        return h, C, n, m

    return fn


def check_mlstm(B, NH, S, DQK, DV, *, state, chunk=16, rel=5e-5, **kw):
    args, init = mlstm_inputs(B, NH, S, DQK, DV, state=state, **kw)
    got = _run(_mlstm_fn(tc.mlstm_chunkwise_triton, chunk), args, init, lambda x: x)
    want = _run(_mlstm_fn(mlstm_chunkwise, chunk), args, init, lambda x: x.double())
    _assert_all_close(MLSTM_NAMES, got, want, rel)


def _slstm_fn(kernel):
    def fn(args, init):
        h, state = kernel(*args, init)
        return (h, *state)

    return fn


def check_slstm(B, S, NH, DH, *, state, rel=5e-5, **kw):
    args, init = slstm_inputs(B, S, NH, DH, state=state, **kw)
    got = _run(_slstm_fn(tf.slstm_triton), args, init, lambda x: x)
    want = _run(_slstm_fn(slstm_recurrent), args, init, lambda x: x.double())
    _assert_all_close(SLSTM_NAMES, got, want, rel)


# --------------------------------------------------------------------------------------
# mLSTM
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [False, True])
@pytest.mark.parametrize(
    "B, S, DQK, DV",
    [(1, 32, 16, 16), (1, 37, 32, 16), (2, 21, 16, 32)],
    ids=["S32-d16", "S37-dqk32", "S21-dv32"],
)
def test_mlstm_matches_reference(B, S, DQK, DV, state):
    check_mlstm(B, 2, S, DQK, DV, state=state)


@pytest.mark.parametrize(
    "i_shift, i_scale",
    [(-30.0, 1.0), (-80.0, 1.0), (8.0, 3.0)],
    ids=["exp-branch", "capped-exp", "large-m"],
)
def test_mlstm_extreme_input_gates(i_shift, i_scale):
    # exp(-m) wins the denominator; -m beyond the cap of 60; m large (eps matters)
    check_mlstm(1, 2, 40, 16, 16, state=True, i_shift=i_shift, i_scale=i_scale, rel=1e-4)


def test_mlstm_tiled_heads(monkeypatch):
    # blocks smaller than the head sizes exercise every tile loop of the kernels
    orig = tc._launch_config
    blocks = dict(BK=16, BV=16, BKs=16, BVs=16, BVb=16)
    monkeypatch.setattr(tc, "_launch_config", lambda *a: {**orig(*a), **blocks})
    check_mlstm(1, 1, 37, 32, 48, state=True)


def test_mlstm_odd_head_sizes_and_short_sequence():
    check_mlstm(1, 2, 5, 8, 12, state=True, chunk=64)


def test_mlstm_state_continues_the_sequence():
    (q, k, v, i, f), init = mlstm_inputs(1, 2, 40, 16, 16, state=True)
    h, state = mlstm(q, k, v, i, f, init, chunk_size=16, backend="triton")
    h1, s1 = mlstm(*(x[:, :, :23] for x in (q, k, v, i, f)), init, backend="triton")
    h2, s2 = mlstm(*(x[:, :, 23:] for x in (q, k, v, i, f)), s1, backend="triton")
    torch.testing.assert_close(torch.cat([h1, h2], 2), h, rtol=1e-5, atol=1e-5)
    for a, b in zip(s2, state, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["parallel", "recurrent", "chunkwise"])
def test_mlstm_dispatch_triton_serves_every_mode(mode):
    (q, k, v, i, f), _ = mlstm_inputs(1, 2, 19, 16, 16, state=False)
    with torch.no_grad():
        want, _ = mlstm(q, k, v, i, f, mode=mode, backend="torch")
        got, _ = mlstm(q, k, v, i, f, mode=mode, backend="triton")
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_mlstm_half_precision_inputs():
    # the interpreter computes in float32; compare on the same rounded inputs
    args, init = mlstm_inputs(1, 2, 24, 16, 16, state=True)
    for dtype in (torch.bfloat16, torch.float16):
        low = [x.detach().to(dtype) for x in args]
        h, _ = tc.mlstm_chunkwise_triton(*low, init, chunk_size=16)
        assert h.dtype == dtype
        want, _ = mlstm_chunkwise(*(x.float() for x in low), init, chunk_size=16)
        torch.testing.assert_close(h.float(), want, rtol=2e-2, atol=2e-2)


# --------------------------------------------------------------------------------------
# sLSTM
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [False, True])
@pytest.mark.parametrize("B, S, DH", [(2, 12, 16), (3, 9, 8)], ids=["d16", "d8-padded"])
def test_slstm_matches_reference(B, S, DH, state):
    check_slstm(B, S, 2, DH, state=state)


def test_slstm_several_batch_blocks(monkeypatch):
    # dR is summed over batch blocks on the host
    orig = tf._launch_config
    monkeypatch.setattr(tf, "_launch_config", lambda *a: {**orig(*a), "BB": 16})
    check_slstm(20, 5, 2, 16, state=True)


def test_slstm_large_gates():
    check_slstm(2, 10, 2, 16, state=True, scale=4.0, rel=1e-4)


def test_slstm_state_continues_the_sequence():
    (gx, R), init = slstm_inputs(2, 12, 2, 16, state=True)
    h, state = slstm(gx, R, init, backend="triton")
    h1, s1 = slstm(gx[:, :5], R, init, backend="triton")
    h2, s2 = slstm(gx[:, 5:], R, s1, backend="triton")
    torch.testing.assert_close(torch.cat([h1, h2], 1), h, rtol=1e-5, atol=1e-5)
    for a, b in zip(s2, state, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_slstm_half_precision_inputs():
    (gx, R), init = slstm_inputs(2, 8, 2, 16, state=False)
    low = gx.detach().to(torch.bfloat16)
    h, _ = tf.slstm_triton(low, R.detach())
    assert h.dtype == torch.bfloat16
    want, _ = slstm_recurrent(low.float(), R.detach())
    torch.testing.assert_close(h.float(), want, rtol=2e-2, atol=2e-2)


# --------------------------------------------------------------------------------------
# dispatch
# --------------------------------------------------------------------------------------


def test_auto_backend_keeps_cpu_tensors_on_torch():
    (q, k, v, i, f), _ = mlstm_inputs(1, 1, 9, 8, 8, state=False)
    with torch.no_grad():
        got, _ = mlstm(q, k, v, i, f, backend="auto", chunk_size=4)
        want, _ = mlstm_chunkwise(q, k, v, i, f, chunk_size=4)
    assert torch.equal(got, want)


def test_triton_backend_on_cpu_needs_the_interpreter(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    (q, k, v, i, f), _ = mlstm_inputs(1, 1, 9, 8, 8, state=False)
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET"):
        mlstm(q, k, v, i, f, backend="triton")
    (gx, R), _ = slstm_inputs(1, 3, 1, 8, state=False)
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET"):
        slstm(gx, R, backend="triton")


def test_triton_backend_rejects_float64():
    (q, k, v, i, f), _ = mlstm_inputs(1, 1, 9, 8, 8, state=False)
    with pytest.raises(ValueError, match="float64"):
        mlstm(q.double(), k.double(), v.double(), i, f, backend="triton")


# --------------------------------------------------------------------------------------
# fuller grids
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("state", [False, True])
@pytest.mark.parametrize("chunk", [16, 32, 64])
@pytest.mark.parametrize("S", [1, 16, 50, 129])
@pytest.mark.parametrize("DQK, DV", [(16, 16), (32, 64), (64, 32), (24, 40)])
def test_mlstm_grid(S, DQK, DV, chunk, state):
    check_mlstm(2, 2, S, DQK, DV, state=state, chunk=chunk, seed=S + DQK)


@pytest.mark.slow
@pytest.mark.parametrize("state", [False, True])
@pytest.mark.parametrize("S", [1, 7, 40])
@pytest.mark.parametrize("B, NH, DH", [(1, 1, 16), (5, 3, 32), (17, 2, 12), (2, 2, 64)])
def test_slstm_grid(B, S, NH, DH, state):
    check_slstm(B, S, NH, DH, state=state, seed=S + DH)


# --------------------------------------------------------------------------------------
# compiled kernels on a GPU
# --------------------------------------------------------------------------------------


def _need_compiled_gpu():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    if tc.INTERPRETED or tf.INTERPRETED:
        pytest.skip("kernels were imported in interpreter mode; run with TRITON_INTERPRET=0")


@pytest.fixture
def no_tf32():
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32 = before


def _to_cuda(args, init):
    args = [x.detach().cuda().requires_grad_() for x in args]
    if init is not None:
        init = tuple(x.detach().cuda().requires_grad_() for x in init)
    return args, init


@pytest.mark.gpu
@pytest.mark.parametrize("dtype, rel", [(torch.float32, 1e-4), (torch.bfloat16, 5e-2)])
@pytest.mark.parametrize("state", [False, True])
@pytest.mark.parametrize("S, D", [(1000, 64), (4096, 128), (77, 48)])
def test_mlstm_gpu(S, D, state, dtype, rel, no_tf32):
    _need_compiled_gpu()
    args, init = _to_cuda(*mlstm_inputs(2, 4, S, D, D, state=state))
    # the reference sees the same rounded inputs, computed in float64
    got = _run(_mlstm_fn(tc.mlstm_chunkwise_triton, 64), args, init, lambda x: x.to(dtype))
    want = _run(_mlstm_fn(mlstm_chunkwise, 64), args, init, lambda x: x.to(dtype).double())
    _assert_all_close(MLSTM_NAMES, got, want, rel)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype, rel", [(torch.float32, 1e-4), (torch.bfloat16, 5e-2)])
@pytest.mark.parametrize("state", [False, True])
@pytest.mark.parametrize("B, S, NH, DH", [(8, 200, 4, 64), (300, 50, 2, 32), (3, 64, 4, 24)])
def test_slstm_gpu(B, S, NH, DH, state, dtype, rel, no_tf32):
    _need_compiled_gpu()
    args, init = _to_cuda(*slstm_inputs(B, S, NH, DH, state=state))
    # The final c, n and m move with the stabiliser m_t = max(logσ(f̃) + m_{t-1}, ĩ), whose
    # gradient jumps where its two arguments tie; bfloat16 rounding of the pre-activations
    # moves about 0.5 % of steps across a tie (gap < 1e-2), so at B = 300 some element of
    # dgates_x takes the other side's gradient. The loss then weighs only h and the final h,
    # which the stabiliser leaves unchanged; float32 keeps every output in the loss.
    loss_on = 2 if dtype == torch.bfloat16 else None
    got = _run(_slstm_fn(tf.slstm_triton), args, init, lambda x: x.to(dtype), loss_on=loss_on)
    want = _run(
        _slstm_fn(slstm_recurrent), args, init, lambda x: x.to(dtype).double(), loss_on=loss_on
    )
    _assert_all_close(SLSTM_NAMES, got, want, rel)
