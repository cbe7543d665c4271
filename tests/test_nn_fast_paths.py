"""The fast paths of the blocks against their plain definitions, in float64.

:class:`HeadwiseLinear` multiplies small groups by the dense block-diagonal matrix, and
the mLSTM block folds its gate projections into the head-wise q, k, v maps; both must
compute the same outputs and the same gradients as the plain per-group products and
``igate(cat(q, k, v))``.
"""

import pytest
import torch
import torch.nn.functional as F
from xlstm_ts.kernels import mlstm

from xlstm_ts.nn import HeadwiseLinear, MLSTMBlock


def _headwise_plain(layer: HeadwiseLinear, x: torch.Tensor) -> torch.Tensor:
    shape = x.shape
    xg = x.reshape(*shape[:-1], layer.num_groups, -1)
    y = torch.einsum("...hd,hde->...he", xg, layer.weight).reshape(shape)
    return y if layer.bias is None else y + layer.bias


def _mlstm_block_plain(block: MLSTMBlock, x: torch.Tensor) -> torch.Tensor:
    """The mLSTM block's forward pass written plainly (no state), as in the xLSTM paper."""
    B, S, _ = x.shape
    x_m, z = block.up(block.norm(x)).chunk(2, dim=-1)
    conv = block.conv.conv
    padded = F.pad(x_m.transpose(1, 2), (conv.kernel_size[0] - 1, 0))
    x_conv = conv(padded).transpose(1, 2)
    x_conv = F.silu(x_conv)
    q, k, v = (_headwise_plain(m, s) for m, s in ((block.q, x_conv), (block.k, x_conv),
                                                   (block.v, x_m)))  # fmt: skip
    qkv = torch.cat([q, k, v], dim=-1)
    i, f = block.igate(qkv), block.fgate(qkv)

    def heads(t):
        return t.view(B, S, block.num_heads, -1).transpose(1, 2)

    h, _ = mlstm(heads(q), heads(k), heads(v), i.transpose(1, 2), f.transpose(1, 2),
                 mode=block.mode, chunk_size=block.chunk_size, backend="torch")  # fmt: skip
    h = block.out_norm(h.transpose(1, 2)) + block.conv_skip * x_conv
    return x + block.down(h * F.silu(z))


def _grads(module: torch.nn.Module, x: torch.Tensor, fn) -> list[torch.Tensor]:
    x = x.detach().requires_grad_()
    y = fn(x)
    w = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=y.dtype)
    params = [p for p in module.parameters() if p.requires_grad]
    return [y, *torch.autograd.grad((y * w).sum(), [x, *params])]


@pytest.mark.parametrize("features,groups,bias", [(16, 4, False), (64, 4, True), (128, 32, False),
                                                  (64, 2, False)])  # fmt: skip
def test_headwise_linear_matches_per_group_products(features, groups, bias):
    torch.manual_seed(0)
    layer = HeadwiseLinear(features, groups, bias=bias).double()
    if bias:
        torch.nn.init.normal_(layer.bias)
    x = torch.randn(3, 7, features, dtype=torch.float64)
    got = _grads(layer, x, layer)
    want = _grads(layer, x, lambda t: _headwise_plain(layer, t))
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


# the last case has head-wise groups across heads (head dim 6, groups of 4): dense path
@pytest.mark.parametrize(
    "d_model,heads,block_size,S,B",
    [(16, 2, 4, 37, 2), (32, 4, 4, 64, 1), (24, 3, 8, 10, 3), (12, 4, 4, 19, 2)],
)
def test_mlstm_block_matches_its_plain_definition(d_model, heads, block_size, S, B):
    torch.manual_seed(0)
    block = MLSTMBlock(d_model, heads, qkv_block_size=block_size, chunk_size=8).double()
    for p in (block.igate.weight, block.fgate.weight, block.conv_skip):  # not their init
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(B, S, d_model, dtype=torch.float64)
    got = _grads(block, x, lambda t: block(t)[0])
    want = _grads(block, x, lambda t: _mlstm_block_plain(block, t))
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
