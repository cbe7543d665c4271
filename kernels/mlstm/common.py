"""Pieces shared by every torch form of the mLSTM cell."""

from __future__ import annotations

import torch
from torch import Tensor

EPS = 1e-6
"""Added to the normaliser's denominator, as in the cell equations."""

MAX_LOG_DENOMINATOR = 60.0
"""Cap on ``-m`` inside ``exp(-m)``.

When every input gate is hugely negative, ``m`` falls far below zero and ``exp(-m)``
would overflow to ``inf``; its gradient would then be ``0 * inf = nan``. Capping the
exponent changes nothing unless ``m < -60``, where the output is zero to working
precision either way.
"""

MLSTMState = tuple[Tensor, Tensor, Tensor]


def empty_state(q: Tensor, v: Tensor) -> MLSTMState:
    """The empty memory ``C=0, n=0, m=-inf`` for inputs shaped like ``q`` and ``v``."""
    B, NH, _, DHQK = q.shape
    DHV = v.shape[-1]
    dtype = state_dtype(q.dtype)
    C = q.new_zeros(B, NH, DHQK, DHV, dtype=dtype)
    n = q.new_zeros(B, NH, DHQK, dtype=dtype)
    m = q.new_full((B, NH), float("-inf"), dtype=dtype)
    return C, n, m


def state_dtype(dtype: torch.dtype) -> torch.dtype:
    """States and accumulations are kept in at least float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def denominator(nq: Tensor, m: Tensor) -> Tensor:
    """``max(|n·q|, exp(-m)) + eps`` with the overflow guard of ``MAX_LOG_DENOMINATOR``."""
    return torch.maximum(nq.abs(), torch.exp((-m).clamp(max=MAX_LOG_DENOMINATOR))) + EPS
