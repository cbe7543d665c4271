"""The one-step forms equal the sequence forms: cells, blocks, and the stateful network
advanced patch by patch."""

import numpy as np
import pytest
import torch
from xlstm_ts.kernels import mlstm, slstm
from xlstm_ts.kernels.mlstm import mlstm_recurrent, mlstm_step
from xlstm_ts.kernels.slstm import slstm_recurrent, slstm_step

from xlstm_ts.nn import MLSTMBlock, SLSTMBlock
from xlstm_ts.stateful import StatefulForecastNet


def _mlstm_inputs(B=2, NH=3, S=5, D=8, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, NH, S, D, generator=g, dtype=dtype) for _ in range(3))
    i, f = (2 * torch.randn(B, NH, S, generator=g, dtype=dtype) for _ in range(2))
    return q, k, v, i, f


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mlstm_step_equals_the_recurrent_form_step_by_step(dtype):
    q, k, v, i, f = _mlstm_inputs(dtype=dtype)
    want, want_state = mlstm_recurrent(q, k, v, i, f)
    state, outs = None, []
    for t in range(q.shape[2]):  # from the empty memory, then from each state
        h, state = mlstm_step(*(x[:, :, t : t + 1] for x in (q, k, v, i, f)), state)
        outs.append(h)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.cat(outs, 2), want, **tol)
    for a, b in zip(state, want_state, strict=True):
        torch.testing.assert_close(a, b, **tol)
    # the dispatch entry takes the step form for one step in every mode
    h, _ = mlstm(*(x[:, :, :1] for x in (q, k, v, i, f)), mode="chunkwise", backend="torch")
    torch.testing.assert_close(h, want[:, :, :1], **tol)


def test_slstm_step_equals_the_reference_loop_step_by_step():
    g = torch.Generator().manual_seed(1)
    gates = torch.randn(2, 6, 4, 3, 5, generator=g)
    R = 0.3 * torch.randn(3, 4, 5, 5, generator=g)
    want, want_state = slstm_recurrent(gates, R)
    state, outs = None, []
    for t in range(gates.shape[1]):
        h, state = slstm_step(gates[:, t : t + 1], R, state)
        outs.append(h)
    torch.testing.assert_close(torch.cat(outs, 1), want, rtol=1e-5, atol=1e-6)
    for a, b in zip(state, want_state, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    h, _ = slstm(gates[:, :1], R, backend="torch")
    torch.testing.assert_close(h, want[:, :1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("block_cls", [MLSTMBlock, SLSTMBlock])
def test_block_steps_without_grad_equal_the_sequence_form(block_cls):
    torch.manual_seed(0)
    block = block_cls(16, num_heads=2).eval()
    with torch.no_grad():  # gates that are not at their initial (zero-weight) values
        for p in block.parameters():
            p.add_(0.2 * torch.randn_like(p))
    x = torch.randn(2, 12, 16)
    want, want_state = block(x)  # gradients on: the sequence form throughout
    with torch.no_grad():
        _, state = block(x[:, :5])
        outs = []
        for t in range(5, 12):  # the fused one-step path
            y, state = block(x[:, t : t + 1], state)
            outs.append(y)
    torch.testing.assert_close(torch.cat(outs, 1), want[:, 5:], rtol=1e-4, atol=1e-5)
    for a, b in zip(_leaves(state), _leaves(want_state), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_step_weights_follow_changes_of_the_parameters():
    torch.manual_seed(0)
    block = MLSTMBlock(16, num_heads=2).eval()
    x = torch.randn(1, 3, 16)
    with torch.no_grad():
        _, state = block(x[:, :2])
        before, _ = block(x[:, 2:], state)  # builds the fused weights
        block.q.weight.mul_(3.0)  # in place: the fused weights must be rebuilt
        block.igate.weight.add_(0.5)
        _, state = block(x[:, :2])
        after, _ = block(x[:, 2:], state)
    want, _ = block(x)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, want[:, 2:], rtol=1e-4, atol=1e-5)


def test_network_advanced_patch_by_patch_equals_one_pass():
    torch.manual_seed(0)
    net = StatefulForecastNet(horizon=4, patch_len=4, d_model=16, slstm_at=(1,), num_heads=2)
    net.eval()
    patches = torch.randn(1, 9, 4)
    with torch.no_grad():
        whole = net.advance(patches)
        state = net.advance(patches[:, :3])
        for t in range(3, 9):
            state = net.advance(patches[:, t : t + 1], state)
    for a, b in zip(_leaves(state), _leaves(whole), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def _leaves(state):
    if isinstance(state, list | tuple):
        return [x for s in state for x in _leaves(s)]
    return [] if state is None else [state]


def _perturbed_net_and_inputs(seed: int, missing: tuple[int, int], tails: list[int]):
    """A stateful net with non-trivial weights, a state, windows with one missing value."""
    torch.manual_seed(seed)
    net = StatefulForecastNet(horizon=5, quantiles=(0.1, 0.5, 0.9), patch_len=4, window_len=7)
    net.eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    state = net.advance(torch.randn(3, 4, 4))
    windows = torch.randn(3, 7)
    windows[missing] = float("nan")  # a missing value reads as the mean (zero)
    return net, state, windows, torch.tensor(tails)


def test_inference_head_equals_the_training_head():
    net, state, windows, tails = _perturbed_net_and_inputs(0, (1, 2), [0, 2, 3])
    want = net.forecast(windows, tails, state)  # gradients on: the training head
    with torch.no_grad():
        got = net.forecast(windows, tails, state)  # the fused inference head
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert want.requires_grad and not got.requires_grad


def test_numpy_head_equals_the_torch_head():
    net, state, windows, tails = _perturbed_net_and_inputs(1, (0, 3), [1, 0, 3])
    want = net.forecast(windows, tails, state)  # the training head
    got = net.forecast_array(windows.numpy(), tails.numpy(), state[1].detach())
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        net.head.bias.add_(1.0)  # the cached arrays follow the parameters
    got = net.forecast_array(windows.numpy(), tails.numpy(), state[1].detach())
    np.testing.assert_allclose(got, want.detach().numpy() + 1.0, rtol=1e-5, atol=1e-5)


def test_headwise_linear_small_inputs_take_the_same_map():
    from xlstm_ts.nn.layers import HeadwiseLinear, block_diagonal

    torch.manual_seed(0)
    layer = HeadwiseLinear(12, 3, bias=True)
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(40, 12, requires_grad=True)  # 40 rows: the einsum path
    dense = torch.nn.functional.linear(x, block_diagonal(layer.weight), layer.bias)
    torch.testing.assert_close(layer(x), dense)
    small = layer(x[:2])  # 2 rows: the matmul path, differentiable too
    torch.testing.assert_close(small, dense[:2])
    small.sum().backward()
    assert x.grad is not None and layer.weight.grad is not None
