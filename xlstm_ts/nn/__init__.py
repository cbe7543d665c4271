"""The xLSTM network in torch: layers, the mLSTM and sLSTM blocks, the stack, and the
forecasting network with its recursive rollout."""

from .causal_conv import CausalConv1d
from .combination import ForecastCombination
from .forecast_net import InstanceNorm, XLSTMForecastNet
from .layers import GatedMLP, HeadwiseLinear, MultiHeadNorm
from .mlstm_block import MLSTMBlock
from .rollout import rollout
from .slstm_block import SLSTMBlock
from .stack import XLSTMStack
from .stateful_net import (
    StatefulForecastNet,
    StreamState,
    cat_states,
    flatten_state,
    map_state,
    split_state,
    unflatten_state,
)

__all__ = [
    "CausalConv1d",
    "ForecastCombination",
    "GatedMLP",
    "HeadwiseLinear",
    "InstanceNorm",
    "MLSTMBlock",
    "MultiHeadNorm",
    "SLSTMBlock",
    "StatefulForecastNet",
    "StreamState",
    "XLSTMForecastNet",
    "XLSTMStack",
    "cat_states",
    "flatten_state",
    "map_state",
    "rollout",
    "split_state",
    "unflatten_state",
]
