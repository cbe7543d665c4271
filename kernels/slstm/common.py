"""Pieces shared by every form of the sLSTM cell."""

from __future__ import annotations

import torch
from torch import Tensor

SLSTMState = tuple[Tensor, Tensor, Tensor, Tensor]
"""``(h, c, n, m)``, each ``(B, NH, DH)``."""

GATES = ("i", "f", "z", "o")
"""Order of the gates along dimension 2 of ``gates_x`` and dimension 1 of ``R``."""


def state_dtype(dtype: torch.dtype) -> torch.dtype:
    """States and accumulations are kept in at least float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def empty_state(gates_x: Tensor) -> SLSTMState:
    """The empty state ``h=0, c=0, n=0, m=-inf`` for gates shaped ``(B, S, 4, NH, DH)``."""
    B, _, _, NH, DH = gates_x.shape
    zeros = gates_x.new_zeros(B, NH, DH, dtype=state_dtype(gates_x.dtype))
    return zeros, zeros, zeros, torch.full_like(zeros, float("-inf"))
