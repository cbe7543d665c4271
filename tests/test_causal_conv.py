"""The causal depthwise convolution against ``conv1d`` on the padded sequence."""

import pytest
import torch
import torch.nn.functional as F

from xlstm_ts.nn import CausalConv1d


def reference(conv, x, state):
    """``conv1d`` over ``[state, x]`` in the channel-major layout."""
    padded = torch.cat([state, x], dim=1).transpose(1, 2)
    y = F.conv1d(padded, conv.conv.weight, conv.conv.bias, groups=x.shape[2])
    return y.transpose(1, 2)


@pytest.mark.parametrize("S", [1, 2, 3, 4, 17])
@pytest.mark.parametrize("B", [1, 2])
@pytest.mark.parametrize("K", [1, 2, 4])
def test_outputs_gradients_and_state_match_conv1d(S, B, K):
    torch.manual_seed(S + 10 * B + 100 * K)
    C = 5
    conv = CausalConv1d(C, kernel_size=K).double()
    x = torch.randn(B, S, C, dtype=torch.float64, requires_grad=True)
    state = torch.randn(B, K - 1, C, dtype=torch.float64, requires_grad=True)
    y, new_state = conv(x, state)
    torch.testing.assert_close(y, reference(conv, x, state))
    torch.testing.assert_close(new_state, torch.cat([state, x], 1)[:, S:])
    if S > 1:  # the multi-step path has its own backward
        inputs = (x, state, conv.conv.weight, conv.conv.bias)
        dy = torch.randn_like(y)
        got = torch.autograd.grad(y, inputs, dy)
        want = torch.autograd.grad(reference(conv, x, state), inputs, dy)
        for g, w in zip(got, want, strict=True):
            torch.testing.assert_close(g, w)
        assert torch.autograd.gradcheck(lambda *a: conv(a[0], a[1])[0], (x, state))


def test_float32_long_sequence_without_state():
    torch.manual_seed(0)
    conv = CausalConv1d(8)
    x = torch.randn(1, 3000, 8, requires_grad=True)
    y, _ = conv(x)
    zeros = x.new_zeros(1, 3, 8)
    torch.testing.assert_close(y, reference(conv, x, zeros), rtol=1e-5, atol=1e-5)
    dy = torch.randn_like(y)
    got = torch.autograd.grad(y, (x, conv.conv.weight), dy)
    want = torch.autograd.grad(reference(conv, x, zeros), (x, conv.conv.weight), dy)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-3)
