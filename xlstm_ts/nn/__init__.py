"""The xLSTM network in torch: layers, the mLSTM and sLSTM blocks, and the stack."""

from .forecast_net import InstanceNorm, XLSTMForecastNet
from .layers import CausalConv1d, GatedMLP, HeadwiseLinear, MultiHeadNorm
from .mlstm_block import MLSTMBlock
from .slstm_block import SLSTMBlock
from .stack import XLSTMStack

__all__ = [
    "CausalConv1d",
    "GatedMLP",
    "HeadwiseLinear",
    "InstanceNorm",
    "MLSTMBlock",
    "MultiHeadNorm",
    "SLSTMBlock",
    "XLSTMForecastNet",
    "XLSTMStack",
]
