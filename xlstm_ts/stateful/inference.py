"""The stateful network at inference: moving the series' states forward by new steps,
forecasting from them, and encoding whole histories.

Series are passed as parallel lists (states, lengths, last values) with their fixed
normalisation (:mod:`.fitted`); nothing here changes a fitted state in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .carried import cat_states, split_state
from .fitted import StatefulForecasterState, fit_normalisation, normalised
from .net import StatefulForecastNet

ENCODE_BLOCK = 4096
"""Patches encoded per call when taking in a long history (bounds the memory)."""


# advance, forecast and forecasts_at run their torch operations under torch.inference_mode
# (not just no_grad): it skips autograd's version counting and view tracking, which an
# update by one step, of many small operations, pays for noticeably. The states they return
# are inference tensors (or plain ones from the NumPy and C steps), which later inference
# and no-grad calls read freely.


def _batched(states: Sequence[Any]) -> Any:
    """The states of single series as one batch (one series: its own state, no copy)."""
    if len(states) == 1:
        return states[0]
    with torch.inference_mode():
        return cat_states(list(states))


def advance(
    network: StatefulForecastNet,
    states: Sequence[Any],
    lengths: Sequence[int],
    recents: Sequence[np.ndarray],
    news: Sequence[np.ndarray],
    mean: np.ndarray,
    scale: np.ndarray,
) -> list[Any]:
    """The states after taking in the steps ``news[k]`` of each series.

    Series ``k`` has seen ``lengths[k]`` steps, the last of which are ``recents[k]``, and
    is in state ``states[k]`` (``None`` before any patch). Its tail (the steps after its
    last complete patch) and the new steps make complete patches, which are encoded in
    blocks of :data:`ENCODE_BLOCK`; what is left becomes the new tail. Only the series
    that complete a patch are encoded, those whose sequences have the same length
    together, in one network call.
    """
    P = network.patch_len
    todo = [
        k for k, (n, new) in enumerate(zip(lengths, news, strict=True)) if n % P + len(new) >= P
    ]
    if not todo:
        return list(states)  # no patch completed (most one-step updates): the states stay
    sequences = []
    for k in todo:
        n, recent, new = lengths[k], recents[k], news[k]
        tail = n % P
        sequences.append(np.concatenate([recent[len(recent) - tail :], new]) if tail else new)
    with torch.inference_mode():
        moved = _encode(
            network, [states[k] for k in todo], sequences, np.asarray(mean)[todo],
            np.asarray(scale)[todo],
        )  # fmt: skip
    out = list(states)
    for k, s in zip(todo, moved, strict=True):
        out[k] = s
    return out


def _encode(
    network: StatefulForecastNet,
    states: Sequence[Any],
    sequences: list,
    mean: np.ndarray,
    scale: np.ndarray,
) -> list[Any]:
    """The states after the complete patches of each sequence (on the series' scale,
    normalised here with ``mean`` and ``scale``)."""
    P = network.patch_len
    groups: dict[tuple[int, bool], list[int]] = defaultdict(list)
    for k, seq in enumerate(sequences):
        groups[len(seq) // P, states[k] is None].append(k)
    out = list(states)
    for (count, fresh), members in groups.items():
        if count == 0:
            continue
        # NumPy shapes and normalises the patches of the group at once: a few of its
        # calls cost less than torch's, or than one call per series
        raw = np.stack([np.asarray(sequences[k][: count * P], dtype=np.float64) for k in members])
        z = normalised(raw, mean[members, None], scale[members, None])
        patches = torch.from_numpy(z.reshape(len(members), count, P))
        state = None if fresh else _batched([states[k] for k in members])
        if count <= ENCODE_BLOCK:
            state = network.advance(patches, state)
        else:
            for a in range(0, count, ENCODE_BLOCK):
                state = network.advance(patches[:, a : a + ENCODE_BLOCK], state)
        out_states = [state] if len(members) == 1 else split_state(state, len(members))
        for k, s in zip(members, out_states, strict=True):
            out[k] = s
    return out


def forecast(
    network: StatefulForecastNet,
    states: Sequence[Any],
    lengths: Sequence[int],
    recents: Sequence[np.ndarray],
    mean: np.ndarray,
    scale: np.ndarray,
) -> np.ndarray:
    """Quantile forecasts (n, horizon, Q) after the end of each series, on the data's
    scale, sorted along the quantiles (so that they never cross)."""
    P, W = network.patch_len, network.window_len
    one = len(recents) == 1  # one series (a one-step update): no stacking
    # a series shorter than the window reads as its mean before its start (as in training)
    if one and len(recents[0]) >= W:
        values = np.asarray(recents[0][-W:], dtype=np.float64)[None]
    else:
        values = np.stack(
            [
                r[-W:] if len(r) >= W else np.concatenate([np.full(W - len(r), np.nan), r])
                for r in recents
            ]
        )
    tails = np.array([lengths[0] % P] if one else [n % P for n in lengths], dtype=np.int64)
    # the head reads the encodings only: the rest of the states is not batched
    state = states[0] if one else (None, torch.cat([s[1] for s in states]))
    if state[1].device.type == "cpu":  # NumPy or C: no torch operation, no inference mode
        return network.forecast_values(values, tails, state[1], mean, scale)
    windows = ((values - mean[:, None]) / scale[:, None]).astype(np.float32)
    with torch.inference_mode():
        out = network.forecast(torch.from_numpy(windows), torch.from_numpy(tails), state)
    out = np.sort(out.cpu().numpy(), axis=-1)
    return out.astype(np.float64) * scale[:, None, None] + mean[:, None, None]


def rollout(
    network: StatefulForecastNet,
    states: Sequence[Any],
    lengths: Sequence[int],
    recents: Sequence[np.ndarray],
    mean: np.ndarray,
    scale: np.ndarray,
    h: int,
    point_index: int,
) -> np.ndarray:
    """Forecasts (n, h, Q): ``horizon`` steps at once, then continued from the point
    forecast, which is taken in as if observed (the stored states are not changed)."""
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise ValueError(f"h must be a positive integer, got {h!r}")
    W, parts = network.window_len, []
    states, lengths, recents = list(states), list(lengths), list(recents)
    while True:
        out = forecast(network, states, lengths, recents, mean, scale)
        parts.append(out)
        if sum(p.shape[1] for p in parts) >= h:
            return np.concatenate(parts, axis=1)[:, :h]
        point = out[..., point_index]
        states = advance(network, states, lengths, recents, list(point), mean, scale)
        recents = [np.concatenate([r, p])[-W:] for r, p in zip(recents, point, strict=True)]
        lengths = [n + point.shape[1] for n in lengths]


def encode_panel(
    state: StatefulForecasterState, panel: Any
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """States of the series of ``panel`` (a :class:`~xlstm_ts.data.Panel`) encoded from
    their start, with the model's normalisation for the series it knows (their own for
    the others), and that normalisation."""
    P = state.network.patch_len
    for series, v in zip(panel.ids, panel.values, strict=True):
        if len(v) < P:
            raise ValueError(
                f"series {series!r} has {len(v)} steps; forecasting needs at least patch_len={P}"
            )
    known = {series: k for k, series in enumerate(state.panel.ids)}
    own_mean, own_scale = fit_normalisation(panel.values)
    at = [known.get(s, -1) for s in panel.ids]
    mean = np.array([state.mean[k] if k >= 0 else m for k, m in zip(at, own_mean, strict=True)])
    scale = np.array([state.scale[k] if k >= 0 else c for k, c in zip(at, own_scale, strict=True)])
    n = len(panel.values)
    states = advance(
        state.network, [None] * n, [0] * n, [np.zeros(0)] * n, panel.values, mean, scale
    )
    return states, mean, scale


SCAN_BLOCK = 2048
"""Steps per network call when forecasting from every position (a multiple of any usual
``patch_len``; bounds the memory of :func:`forecasts_at`)."""


@torch.inference_mode()
def forecasts_at(
    network: StatefulForecastNet,
    values: np.ndarray,
    mean: float,
    scale: float,
    positions: np.ndarray,
) -> np.ndarray:
    """Forecasts (len(positions), horizon, Q) made at ``positions`` of one series, on the
    data's scale, sorted along the quantiles.

    The series is read once from its start, as in training (the state carried from
    block to block), and only up to the last position asked for: the forecast at ``t``
    depends on ``values[: t + 1]`` only, and equals that of the history ``values[: t + 1]``
    encoded from scratch (:func:`encode_panel` then :func:`forecast`).
    """
    positions = np.asarray(positions, dtype=np.int64)
    if positions.size == 0:
        return np.zeros((0, network.horizon, network.num_quantiles))
    if positions.min() < network.patch_len - 1:
        raise ValueError(
            f"forecasts start at position patch_len - 1 = {network.patch_len - 1} (the first "
            f"complete patch); got position {int(positions.min())}"
        )
    P, W = network.patch_len, network.window_len
    stop = int(positions.max()) + 1  # nothing after the last position is read
    if stop > len(values):
        raise ValueError(f"position {stop - 1} lies beyond the series' {len(values)} steps")
    n = -(-stop // P) * P  # whole patches; the padding after `stop` is never read back
    x = normalised(values[:stop], mean, scale)
    padded = np.concatenate([np.full(W - 1, np.nan), x, np.full(n - stop, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded.astype(np.float32), W)
    block = max(SCAN_BLOCK // P, 1) * P
    out = np.empty((len(positions), network.horizon, network.num_quantiles), dtype=np.float32)
    state = None
    for a in range(0, n, block):
        chunk = torch.from_numpy(np.ascontiguousarray(windows[a : a + block]))[None]
        pred, state = network(chunk, state)
        here = (positions >= a) & (positions < a + block)
        out[here] = pred[0, positions[here] - a].numpy()
    return np.sort(out, axis=-1).astype(np.float64) * scale + mean
