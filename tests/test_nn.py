"""Blocks and the stack: shapes, state passing, streaming, initialisation."""

import pytest
import torch

from xlstm_ts.nn import CausalConv1d, MLSTMBlock, SLSTMBlock, XLSTMForecastNet, XLSTMStack


def make_stack(**kw):
    torch.manual_seed(0)
    defaults = dict(d_model=16, num_blocks=3, slstm_at=(1,), num_heads=2, chunk_size=8)
    return XLSTMStack(**{**defaults, **kw}).double()


def test_causal_conv_is_causal_and_continues_from_state():
    conv = CausalConv1d(3, kernel_size=4).double()
    x = torch.randn(2, 10, 3, dtype=torch.float64)
    y, _ = conv(x)
    x_changed = x.clone()
    x_changed[:, 6:] += 1.0
    assert torch.equal(conv(x_changed)[0][:, :6], y[:, :6])
    y1, s = conv(x[:, :2])
    y2, _ = conv(x[:, 2:], s)
    torch.testing.assert_close(torch.cat([y1, y2], 1), y)


@pytest.mark.parametrize("slstm_at", [(), (1,), (0, 1, 2)])
def test_stack_in_pieces_equals_one_pass(slstm_at):
    stack = make_stack(slstm_at=slstm_at)
    x = torch.randn(2, 45, 16, dtype=torch.float64)
    y, state = stack(x)
    y1, s = stack(x[:, :20])
    y2, s = stack(x[:, 20:44], s)
    y3, s = stack.step(x[:, 44], s)
    torch.testing.assert_close(torch.cat([y1, y2, y3[:, None]], 1), y, rtol=1e-10, atol=1e-10)
    # the final states agree too: continuing from either gives the same next output
    nxt = torch.randn(2, 16, dtype=torch.float64)
    torch.testing.assert_close(stack.step(nxt, s)[0], stack.step(nxt, state)[0])


def test_streaming_step_by_step_equals_one_pass():
    stack = make_stack()
    x = torch.randn(1, 12, 16, dtype=torch.float64)
    y, _ = stack(x)
    state, outs = None, []
    for t in range(12):
        out, state = stack.step(x[:, t], state)
        outs.append(out)
    torch.testing.assert_close(torch.stack(outs, 1), y, rtol=1e-10, atol=1e-10)


def test_stack_is_causal():
    stack = make_stack()
    x = torch.randn(1, 30, 16, dtype=torch.float64)
    x2 = x.clone()
    x2[:, 20:] = torch.randn(1, 10, 16, dtype=torch.float64)
    torch.testing.assert_close(stack(x)[0][:, :20], stack(x2)[0][:, :20])


@pytest.mark.parametrize("mode", ["parallel", "recurrent"])
def test_mlstm_modes_agree_inside_the_stack(mode):
    x = torch.randn(2, 33, 16, dtype=torch.float64)
    ref = make_stack(mlstm_mode="chunkwise")(x)[0]
    torch.testing.assert_close(make_stack(mlstm_mode=mode)(x)[0], ref, rtol=1e-9, atol=1e-9)


def test_gradients_reach_every_parameter():
    stack = make_stack().float()
    for p in stack.parameters():  # move gate weights off their zero initialisation
        p.data += 0.01 * torch.randn_like(p)
    y, _ = stack(torch.randn(2, 20, 16))
    y.square().mean().backward()
    missing = [n for n, p in stack.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing


def test_forget_gates_start_with_long_memory():
    m = MLSTMBlock(16, num_heads=4)
    s = SLSTMBlock(16, num_heads=4)
    assert m.fgate.bias.min() >= 3.0 and m.fgate.bias.max() <= 6.0
    assert s.bias[1].min() >= 3.0
    assert len(set(m.fgate.bias.tolist())) == 4  # spread over heads


def test_bad_configuration_raises():
    with pytest.raises(ValueError, match="slstm_at positions"):
        XLSTMStack(16, num_blocks=2, slstm_at=(2,))
    with pytest.raises(ValueError, match="divisible by num_heads"):
        SLSTMBlock(10, num_heads=4)
    with pytest.raises(ValueError, match="expected 2"):
        XLSTMStack(16, num_blocks=2, num_heads=2)(torch.randn(1, 3, 16), [None])


@pytest.mark.parametrize("linear_path", [False, True])
def test_forecast_net_shapes_scale_and_padding(linear_path):
    torch.manual_seed(0)
    net = XLSTMForecastNet(
        context_length=50,
        horizon=7,
        quantiles=(0.1, 0.5, 0.9),
        patch_len=8,
        d_model=16,
        num_heads=2,
        linear_path=linear_path,
    )
    assert net.num_patches == 7  # 50 steps left-padded to 56
    x = torch.randn(4, 50)
    out = net(x)
    assert out.shape == (4, 7, 3)
    # instance normalisation: shifting and scaling the context does the same to the forecast
    torch.testing.assert_close(net(3 * x + 100), 3 * out + 100, rtol=1e-4, atol=1e-3)
    out.sum().backward()
    if linear_path:
        assert net.linear_path.weight.grad.abs().sum() > 0
