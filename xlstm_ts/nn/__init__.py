"""The xLSTM network in torch: layers, the mLSTM and sLSTM blocks, the stack, and the
forecasting network with its recursive rollout."""

from .calibration import CalibratedQuantiles
from .causal_conv import CausalConv1d
from .combination import ForecastCombination
from .forecast_net import InstanceNorm, XLSTMForecastNet
from .layers import GatedMLP, HeadwiseLinear, MultiHeadNorm
from .mlstm_block import MLSTMBlock
from .rollout import rollout
from .slstm_block import SLSTMBlock
from .stack import XLSTMStack

__all__ = [
    "CalibratedQuantiles",
    "CausalConv1d",
    "ForecastCombination",
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
