"""The state a stateful network carries from patch to patch, and what is done with it:
batching the states of single series, splitting a batch, detaching, flattening for
saving.

A state is nested tuples and lists of tensors (the stack's per-block states, ``None``
before the first patch); every function here keeps that structure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from xlstm_ts.nn.stack import StackState

CarriedState = tuple[StackState, Tensor]
"""The encoder's state after the last complete patch, and that patch's encoding (B, d)."""


def map_state(fn: Any, state: Any) -> Any:
    """Apply ``fn`` to every tensor of a (nested) state; ``None`` stays ``None``."""
    if state is None:
        return None
    if isinstance(state, list | tuple):
        return type(state)(map_state(fn, s) for s in state)
    return fn(state)


def cat_states(states: Sequence[Any]) -> Any:
    """States of single series (batch 1, same structure) stacked into one batch."""
    first = states[0]
    if first is None:
        return None
    if isinstance(first, list | tuple):
        return type(first)(cat_states([s[k] for s in states]) for k in range(len(first)))
    return torch.cat(list(states), dim=0)


def split_state(state: Any, batch: int) -> list[Any]:
    """A batched state split into ``batch`` states of one series each (views)."""
    # one split per tensor and one pass per level of the structure, not a walk of the
    # structure per series: for a thousand series, several times faster
    leaves = iter([leaf.split(1) for leaf in flatten_state(state)[0]])
    return _split(state, leaves, batch)


def _split(state: Any, leaves: Any, batch: int) -> list[Any]:
    if state is None:
        return [None] * batch
    if isinstance(state, list | tuple):
        parts = [_split(s, leaves, batch) for s in state]
        kind = type(state)
        return [kind(p) for p in zip(*parts, strict=True)]
    return list(next(leaves))


def flatten_state(state: Any) -> tuple[list[Tensor], Any]:
    """The tensors of a nested state, in order, and its structure as JSON values."""
    if state is None:
        return [], "none"
    if isinstance(state, list | tuple):
        leaves, spec = [], []
        for s in state:
            more, sub = flatten_state(s)
            leaves += more
            spec.append(sub)
        return leaves, spec
    return [state], "tensor"


def unflatten_state(leaves: Sequence[Tensor], spec: Any) -> Any:
    """Rebuild a state from :func:`flatten_state`'s output (lists for tuples)."""
    it = iter(leaves)

    def build(s: Any) -> Any:
        if s == "none":
            return None
        if s == "tensor":
            return next(it)
        return [build(sub) for sub in s]

    return build(spec)
