"""The xLSTM network in torch: layers, the mLSTM and sLSTM blocks, and the stack."""

from .layers import CausalConv1d, GatedMLP, HeadwiseLinear, MultiHeadNorm
from .mlstm_block import MLSTMBlock
from .slstm_block import SLSTMBlock
from .stack import XLSTMStack

__all__ = [
    "CausalConv1d",
    "GatedMLP",
    "HeadwiseLinear",
    "MLSTMBlock",
    "MultiHeadNorm",
    "SLSTMBlock",
    "XLSTMStack",
]
