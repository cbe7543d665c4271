"""The xLSTM network in torch: layers, the mLSTM and sLSTM blocks, the stack, and the
forecasting network with its recursive rollout."""

from .forecast_net import InstanceNorm, XLSTMForecastNet
from .layers import CausalConv1d, GatedMLP, HeadwiseLinear, MultiHeadNorm
from .mlstm_block import MLSTMBlock
from .rollout import rollout
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
    "rollout",
]
