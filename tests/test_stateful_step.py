"""The stateful network's one-patch step (NumPy and C forms) equals the torch blocks'
forms."""

import numpy as np
import pytest
import torch

from xlstm_ts.nn import SLSTMBlock, XLSTMStack
from xlstm_ts.stateful import StatefulForecastNet, step_c
from xlstm_ts.stateful.net import _gather_parameters
from xlstm_ts.stateful.step_numpy import encoder_plan, encoder_step

FORMS = ["c", "numpy"]


@pytest.fixture(params=FORMS)
def form(request, monkeypatch):
    """Runs a test with the C step, then with the NumPy step."""
    if request.param == "c" and step_c.library() is None:
        pytest.skip("no C compiler here: the C step is not built")
    if request.param == "numpy":
        monkeypatch.setattr(step_c, "library", lambda: None)
    return request.param


def _perturb(module: torch.nn.Module, scale: float = 0.2, seed: int = 0) -> None:
    """Weights away from their initial values (zero gate weights, unit norms)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))


def _leaves(state):
    if isinstance(state, list | tuple):
        return [x for s in state for x in _leaves(s)]
    return [] if state is None else [state]


def _assert_states_close(got, want, tol):
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **tol)


TOL = {torch.float32: dict(rtol=1e-4, atol=2e-5), torch.float64: dict(rtol=1e-10, atol=1e-12)}

CONFIGS = [
    # slstm_at, num_blocks, num_heads, d_model, patch_len, extra mLSTM block arguments
    ((), 2, 4, 32, 16, {}),
    ((1,), 2, 4, 64, 16, {}),
    ((0, 2), 3, 2, 16, 8, {}),
    ((0,), 1, 1, 8, 4, {}),
    ((1,), 2, 2, 16, 5, dict(qkv_block_size=8, conv_kernel=2, proj_factor=1.5)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"slstm{c[0]}-h{c[2]}-d{c[3]}-p{c[4]}")
def test_encoder_step_equals_the_sequence_form(form, config, dtype):
    slstm_at, blocks, heads, d, P, kwargs = config
    torch.manual_seed(0)
    embed = torch.nn.Linear(P, d).to(dtype)
    stack = XLSTMStack(d, blocks, slstm_at, heads, **kwargs).to(dtype).eval()
    _perturb(embed)
    _perturb(stack)
    patches = torch.randn(3, 7, P, dtype=dtype)
    patches[1, 4, 2] = float("nan")  # a missing value reads as zero
    want, want_state = stack(embed(torch.nan_to_num(patches)))  # gradients on: sequence form
    plan = encoder_plan(embed, stack)
    assert (plan["compiled"] is not None) == (form == "c")
    tol = TOL[dtype]
    with torch.no_grad():
        _, state = stack(embed(torch.nan_to_num(patches[:, :3])))  # a state of the torch form
        for t in range(3, 7):
            encoding, state = encoder_step(plan, patches[:, t], state)
            np.testing.assert_allclose(encoding.numpy(), want[:, t].detach().numpy(), **tol)
        _assert_states_close(state, want_state, tol)
        state = None  # from the empty state, every step in the one-patch form
        for t in range(7):
            encoding, state = encoder_step(plan, patches[:, t], state)
        np.testing.assert_allclose(encoding.numpy(), want[:, -1].detach().numpy(), **tol)
        _assert_states_close(state, want_state, tol)


def test_encoder_step_without_the_slstm_convolution(form):
    torch.manual_seed(1)
    embed, stack = torch.nn.Linear(4, 16), XLSTMStack(16, 2, (0,), 2).eval()
    stack.blocks[0] = SLSTMBlock(16, 2, conv_kernel=0)
    _perturb(embed)
    _perturb(stack)
    patches = torch.randn(2, 5, 4)
    want, want_state = stack(embed(patches))
    plan, state = encoder_plan(embed, stack), None
    with torch.no_grad():
        for t in range(5):
            encoding, state = encoder_step(plan, patches[:, t], state)
    np.testing.assert_allclose(encoding.numpy(), want[:, -1].detach().numpy(), **TOL[torch.float32])
    _assert_states_close(state, want_state, TOL[torch.float32])


def test_the_c_and_numpy_steps_agree_on_large_gates(monkeypatch):
    if step_c.library() is None:
        pytest.skip("no C compiler here: the C step is not built")
    torch.manual_seed(2)
    embed, stack = torch.nn.Linear(8, 16), XLSTMStack(16, 2, (1,), 2).eval()
    _perturb(embed, 2.0)
    _perturb(stack, 2.0)  # gates far from zero: the stabilisers matter
    patches = 10 * torch.randn(2, 12, 8, dtype=torch.float32)
    states = {}
    with torch.no_grad():
        for form in FORMS:
            if form == "numpy":
                monkeypatch.setattr(step_c, "library", lambda: None)
            plan, state = encoder_plan(embed, stack), None
            for t in range(12):
                encoding, state = encoder_step(plan, patches[:, t], state)
            states[form] = (encoding, state)
    _assert_states_close(states["c"], states["numpy"], dict(rtol=1e-4, atol=1e-4))
    assert all(torch.isfinite(x).all() for x in _leaves(states["c"][1]) if x.numel())


def test_network_fast_step_follows_parameter_changes(form):
    torch.manual_seed(3)
    net = StatefulForecastNet(horizon=3, patch_len=4, d_model=16, slstm_at=(1,), num_heads=2)
    net.eval()
    _perturb(net)
    patches = torch.randn(1, 6, 4)
    with torch.no_grad():
        state = net.advance(patches[:, :5])
        net.advance(patches[:, 5:], state)  # builds the cached arrays
        net.encoder.blocks[0].up.weight.mul_(1.5)  # in place
        net.encoder.blocks[1].R = torch.nn.Parameter(net.encoder.blocks[1].R + 0.3)  # replaced
        got = net.advance(patches[:, 5:], net.advance(patches[:, :5]))
    want = net.advance(patches)  # gradients on: the sequence form
    _assert_states_close(got, want, TOL[torch.float32])


def test_network_fast_step_only_in_inference():
    torch.manual_seed(4)
    net = StatefulForecastNet(horizon=3, patch_len=4, d_model=16, slstm_at=(1,), num_heads=2)
    state = net.advance(torch.randn(1, 2, 4))
    assert net.advance(torch.randn(1, 1, 4), state)[1].requires_grad  # training: autograd
    with torch.no_grad():
        net.train()  # dropout would differ: the torch blocks
        assert not net._fast_step(torch.randn(1, 1, 4))
        net.eval()
        assert net._fast_step(torch.randn(1, 1, 4))
        assert not net._fast_step(torch.randn(1, 1, 4, dtype=torch.float64))


def test_gathered_parameters_are_the_modules_parameters():
    net = StatefulForecastNet(horizon=3, patch_len=4, d_model=16, slstm_at=(1,), num_heads=2)
    params: list[torch.Tensor] = []
    _gather_parameters(net, params)
    assert [id(p) for p in params] == [id(p) for p in net.parameters()]


def test_forecast_head_equals_the_torch_head(form):
    torch.manual_seed(5)
    net = StatefulForecastNet(horizon=5, quantiles=(0.1, 0.5, 0.9), patch_len=4, window_len=7)
    net.eval()
    _perturb(net, 0.1)
    with torch.no_grad():
        state = net.advance(torch.randn(3, 4, 4))
    windows = torch.randn(3, 7)
    windows[1, 2] = float("nan")  # a missing value reads as the mean (zero)
    tails = torch.tensor([0, 3, 1])
    want = net.forecast(windows, tails, state).detach().numpy()  # the training head
    got = net.forecast_array(windows.numpy(), tails.numpy(), state[1])
    assert bool(net._head_arrays.value[-1]) == (form == "c")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    read_only = windows.numpy().copy()
    read_only.flags.writeable = False  # read, not written
    got = net.forecast_array(read_only, tails.numpy(), state[1])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("quantiles", [(0.5,), (0.9, 0.1, 0.5)])
def test_forecast_values_are_the_head_on_the_series_scale(form, quantiles):
    torch.manual_seed(6)
    net = StatefulForecastNet(horizon=4, quantiles=quantiles, patch_len=4, window_len=6)
    net.eval()
    _perturb(net, 0.5)  # quantile outputs that cross before sorting
    with torch.no_grad():
        state = net.advance(torch.randn(2, 3, 4))
    values = 100.0 + 5.0 * np.random.default_rng(0).normal(size=(2, 6))
    values[1, :2] = np.nan  # a series shorter than the window
    mean, scale = np.array([100.0, 99.0]), np.array([5.0, 4.0])
    tails = np.array([2, 0])
    windows = torch.from_numpy(((values - mean[:, None]) / scale[:, None]).astype(np.float32))
    raw = net.forecast(windows, torch.from_numpy(tails), state).detach().numpy()
    want = np.sort(raw, axis=-1).astype(np.float64) * scale[:, None, None] + mean[:, None, None]
    got = net.forecast_values(values, tails, state[1], mean, scale)
    assert got.dtype == np.float64 and got.shape == (2, 4, len(quantiles))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    assert (np.diff(got, axis=-1) >= 0).all()


def test_a_network_with_step_caches_copies_and_pickles():
    import copy
    import pickle

    torch.manual_seed(7)
    net = StatefulForecastNet(horizon=3, patch_len=4, d_model=16, slstm_at=(1,), num_heads=2)
    net.eval()
    patches = torch.randn(1, 3, 4)
    with torch.no_grad():
        state = net.advance(patches[:, 2:], net.advance(patches[:, :2]))  # caches built
        net.forecast_array(np.zeros((1, 4), np.float32), np.array([1]), state[1])
        for other in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
            with torch.no_grad():
                other.encoder.blocks[0].up.weight.add_(0.1)  # its own weights, not net's
                got = other.advance(patches[:, 2:], other.advance(patches[:, :2]))
            _assert_states_close(got, other.advance(patches), TOL[torch.float32])


def test_without_a_compiler_the_numpy_step_runs(monkeypatch):
    from xlstm_ts.kernels import cbuild

    monkeypatch.setattr(cbuild.shutil, "which", lambda name: None)
    monkeypatch.setenv("CC", "no-such-compiler")
    step_c.library.cache_clear()
    try:
        assert step_c.library() is None
        torch.manual_seed(8)
        net = StatefulForecastNet(horizon=3, patch_len=4, d_model=16, slstm_at=(0,), num_heads=2)
        net.eval()
        patches = torch.randn(1, 3, 4)
        with torch.no_grad():
            got = net.advance(patches[:, 2:], net.advance(patches[:, :2]))
        assert net._encoder_plan.value["compiled"] is None
        _assert_states_close(got, net.advance(patches), TOL[torch.float32])
    finally:
        step_c.library.cache_clear()
