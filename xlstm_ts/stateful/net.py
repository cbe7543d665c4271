"""The stateful forecasting network: patches, an xLSTM encoder carried over the whole
series, and a head that forecasts from every position.

Unlike :class:`~xlstm_ts.nn.XLSTMForecastNet`, which reads a fixed window, this network
reads a series of any length patch after patch and keeps the encoder's state, so a
forecast depends on the whole history and new steps cost O(new steps) to take in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from xlstm_ts.nn import XLSTMStack
from xlstm_ts.nn.layers import StepWeights

from . import step_c
from .carried import CarriedState
from .step_numpy import encoder_plan, encoder_step


class StatefulForecastNet(nn.Module):
    """Forecasts ``horizon`` steps from every position of a series, through a carried state.

    The series (already normalised) is cut into patches of ``patch_len`` steps aligned to
    its start; each complete patch is embedded linearly and encoded by an
    :class:`~xlstm_ts.nn.XLSTMStack`, whose state carries everything seen so far. The forecast from
    position ``t`` reads the encoding of the last complete patch up to ``t``, the last
    ``window_len`` values up to ``t`` (so the steps after that patch, the *tail*, are seen
    too) and the tail's length, and is added to the value at ``t`` (a level skip): the
    head learns changes from the last value, as NLinear does.

    Parameters
    ----------
    horizon : int
        Steps forecast from each position.
    quantiles : sequence of float
        Quantile levels of the outputs.
    patch_len : int
        Steps per patch (token).
    window_len : int, optional
        Steps of the recent past the head reads directly, beside the state (at least
        ``patch_len``; ``patch_len`` when ``None``).
    d_model, num_blocks, slstm_at, num_heads, dropout, chunk_size, backend
        Passed to :class:`~xlstm_ts.nn.XLSTMStack`.
    """

    def __init__(
        self,
        horizon: int,
        quantiles: Sequence[float] = (0.5,),
        patch_len: int = 16,
        d_model: int = 64,
        num_blocks: int = 2,
        slstm_at: Sequence[int] = (),
        num_heads: int = 4,
        dropout: float = 0.0,
        chunk_size: int = 64,
        backend: str = "auto",
        window_len: int | None = None,
    ) -> None:
        super().__init__()
        self.horizon, self.patch_len, self.d_model = horizon, patch_len, d_model
        self.window_len = patch_len if window_len is None else window_len
        if self.window_len < patch_len:
            raise ValueError(f"window_len={window_len} must be at least patch_len={patch_len}")
        self.num_quantiles = len(quantiles)
        self.embed = nn.Linear(patch_len, d_model)
        self.encoder = XLSTMStack(
            d_model,
            num_blocks,
            slstm_at,
            num_heads,
            dropout=dropout,
            chunk_size=chunk_size,
            backend=backend,
        )
        self.mix = nn.Linear(d_model, d_model)
        self.window = nn.Linear(self.window_len, d_model)
        self.tail = nn.Embedding(patch_len, d_model)
        self.head_dropout = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, horizon * self.num_quantiles)
        self._head_weights = StepWeights(_fused_head_input)
        self._head_arrays = StepWeights(_head_arrays)
        self._encoder_plan = StepWeights(encoder_plan)

    # ------------------------------------------------------------------ state
    def empty_state(self, batch: int, like: Tensor) -> CarriedState:
        """The state before any patch: no memory, a zero encoding."""
        return None, like.new_zeros(batch, self.d_model)

    def advance(self, patches: Tensor, state: CarriedState | None = None) -> CarriedState:
        """Take in complete patches (B, T, patch_len) and return the state after them."""
        if state is None:
            state = self.empty_state(patches.shape[0], patches)
        if patches.shape[1] == 0:
            return state
        if patches.shape[1] == 1 and self._fast_step(patches):
            return self._advance_one(patches, state)
        encoded, stack_state = self.encoder(self.embed(torch.nan_to_num(patches)), state[0])
        return stack_state, encoded[:, -1]

    def _fast_step(self, patches: Tensor) -> bool:
        """Whether a patch may take the NumPy step: inference on the CPU, in the
        parameters' dtype (float32 or float64)."""
        weight = self._modules["embed"]._parameters["weight"]
        return (
            not (self.training or torch.is_grad_enabled())
            and patches.device.type == "cpu"
            and weight.device.type == "cpu"
            and patches.dtype == weight.dtype
            and weight.dtype in (torch.float32, torch.float64)
        )

    def _advance_one(self, patch: Tensor, state: CarriedState) -> CarriedState:
        """:meth:`advance` by one patch (B, 1, patch_len) through
        :func:`~xlstm_ts.stateful.step_numpy.encoder_step`: the same map (tested), at a
        fraction of torch's fixed cost per operation."""
        m = self._modules
        params: list[Tensor] = []
        _gather_parameters(m["embed"], params)
        _gather_parameters(m["encoder"], params)
        plan = self._encoder_plan.get(params, m["embed"], m["encoder"])
        encoding, blocks = encoder_step(plan, patch, state[0])
        return blocks, encoding

    # ------------------------------------------------------------------ forecasts
    def _head(self, encoding: Tensor, windows: Tensor, tail: Tensor) -> Tensor:
        """Forecasts (..., horizon, Q) from encodings (..., d), windows (..., window_len)
        and tail lengths (...)."""
        windows = torch.nan_to_num(windows)  # a missing value reads as the series' mean
        last = windows[..., -1:]
        hidden = self.mix(encoding) + self.window(windows - last) + self.tail(tail)
        out = self.head(self.head_dropout(F.gelu(hidden)))
        out = out.view(*out.shape[:-1], self.horizon, self.num_quantiles)
        return out + last[..., None]

    def forecast(self, windows: Tensor, tails: Tensor | int, state: CarriedState) -> Tensor:
        """Forecasts (B, horizon, Q) from the ends of series: their last ``window_len``
        values (B, window_len), the number of steps after their last complete patch (an
        int or (B,)) and the state after that patch."""
        tails = torch.as_tensor(tails, dtype=torch.long, device=windows.device)
        tails = tails.expand(windows.shape[0])
        if self.training or torch.is_grad_enabled():
            return self._head(state[1], windows, tails)
        # inference (forecasts after updates): the same map with fewer, fused operations
        weight, bias = self._head_weights.get(
            (self.mix.weight, self.mix.bias, self.window.weight, self.window.bias)
        )
        windows = torch.nan_to_num(windows)
        hidden = torch.addmm(bias, torch.cat([state[1], windows], dim=1), weight)
        hidden = F.gelu(hidden + self.tail.weight.index_select(0, tails))
        out = F.linear(hidden, self.head.weight, self.head.bias)
        return out.view(-1, self.horizon, self.num_quantiles) + windows[:, -1:, None]

    def forecast_array(
        self, windows: np.ndarray, tails: np.ndarray, encoding: Tensor
    ) -> np.ndarray:
        """:meth:`forecast` in inference, in NumPy: forecasts (B, horizon, Q) from the
        last ``window_len`` values (B, window_len), the tail lengths (B,) and the
        encoding of the state (B, d) on the CPU.

        The same map as :meth:`forecast` (tested), for forecasts step by step: at one
        series and one step, torch's fixed cost per operation is most of the time of its
        small products, and NumPy's is a fraction of it; where the C step is built
        (float32 encodings), the head is one C call. No autograd; dropout is off (as in
        ``eval``).
        """
        w_in, b_in, tail, w_out, b_out, address = self._head_plan()
        if address and encoding.dtype == torch.float32:  # the C head: one call
            out = step_c.head(address, windows, tails, encoding, self.patch_len,
                                       len(b_out))  # fmt: skip
            return out.reshape(len(out), self.horizon, self.num_quantiles)
        windows = np.asarray(windows, dtype=np.float32)
        if not np.isfinite(windows).all():  # rare: np.nan_to_num costs more than the head
            windows = np.nan_to_num(windows)
        hidden = np.concatenate([encoding.numpy(), windows], axis=1) @ w_in + b_in + tail[tails]
        # exact GELU, as in training; torch.erf is cheap where F.gelu's CPU kernel is not
        hidden *= 0.5 * (1.0 + torch.erf(torch.from_numpy(hidden * np.float32(0.5**0.5))).numpy())
        out = hidden @ w_out + b_out
        return out.reshape(len(windows), self.horizon, self.num_quantiles) + windows[:, -1:, None]

    def _head_plan(self) -> tuple[Any, ...]:
        """The head's cached arrays (:func:`_head_arrays`), rebuilt when a weight changes."""
        # the parameters through the modules' dicts: nn.Module.__getattr__ on fourteen
        # names would cost a sixth of a forecast after a one-step update
        m = self._modules
        mix, window, tail, head = (m[k]._parameters for k in ("mix", "window", "tail", "head"))
        return self._head_arrays.get(
            (mix["weight"], mix["bias"], window["weight"], window["bias"], tail["weight"],
             head["weight"], head["bias"])
        )  # fmt: skip

    def forecast_values(
        self,
        values: np.ndarray,
        tails: np.ndarray,
        encoding: Tensor,
        mean: np.ndarray,
        scale: np.ndarray,
    ) -> np.ndarray:
        """:meth:`forecast_array` on the series' own scale, with sorted quantiles.

        For forecasts step by step: with the C step built this is one call,
        normalisation and sorting included; otherwise NumPy around :meth:`forecast_array`
        (the same numbers).

        Parameters
        ----------
        values : ndarray of shape (B, window_len)
            The last ``window_len`` values of each series on its own scale (NaN before a
            short series' start reads as its mean).
        tails : ndarray of shape (B,)
            Steps after each series' last complete patch.
        encoding : Tensor of shape (B, d_model)
            The encodings of the states, on the CPU.
        mean, scale : ndarray of shape (B,)
            What puts each series on the network's scale: ``(values - mean) / scale``.

        Returns
        -------
        ndarray of shape (B, horizon, Q)
            float64 forecasts on the series' scale, each step's quantiles in increasing
            order (so that they never cross).
        """
        values = np.asarray(values, dtype=np.float64)
        address = self._head_plan()[-1]
        if address and encoding.dtype == torch.float32:
            return step_c.head_scaled(address, values, tails, encoding, mean, scale,
                                               self.patch_len, self.horizon,
                                               self.num_quantiles)  # fmt: skip
        windows = ((values - mean[:, None]) / scale[:, None]).astype(np.float32)
        out = np.sort(self.forecast_array(windows, tails, encoding), axis=-1)
        return out.astype(np.float64) * scale[:, None, None] + mean[:, None, None]

    def forward(
        self, windows: Tensor, state: CarriedState | None = None
    ) -> tuple[Tensor, CarriedState]:
        """Forecasts from every position of a segment, and the state after it.

        Parameters
        ----------
        windows : Tensor of shape (B, S, window_len)
            For each position ``t`` of the segment, the last ``window_len`` values up to
            and including ``t``. The segment starts on a patch boundary and ``S`` is a
            multiple of ``patch_len``, so its patches are the last ``patch_len`` values
            of the windows at positions ``patch_len - 1, 2 * patch_len - 1, …``.
        state : CarriedState, optional
            The state after the previous segment; ``None`` at the start of a series.

        Returns
        -------
        forecasts : Tensor of shape (B, S, horizon, Q)
        state : CarriedState
        """
        (B, S, _), P = windows.shape, self.patch_len
        if S % P:
            raise ValueError(f"segment length {S} is not a multiple of patch_len={P}")
        if state is None:
            state = self.empty_state(B, windows)
        patches = torch.nan_to_num(windows[:, P - 1 :: P, -P:])
        encoded, stack_state = self.encoder(self.embed(patches), state[0])
        # position t reads the last patch complete at t: number (t + 1) // P, where 0 is
        # the last patch of the previous segment
        encodings = torch.cat([state[1][:, None], encoded], dim=1)
        position = torch.arange(1, S + 1, device=windows.device)
        out = self._head(encodings[:, position // P], windows, (position % P).expand(B, S))
        return out, (stack_state, encoded[:, -1])


def _gather_parameters(module: nn.Module, out: list[Tensor]) -> None:
    """``module.parameters()`` appended to ``out`` (with repeats), through the modules'
    dicts: several times cheaper than the generators, which a one-step update pays for."""
    out.extend(p for p in module._parameters.values() if p is not None)
    for child in module._modules.values():
        if child is not None:
            _gather_parameters(child, out)


def _fused_head_input(
    w_mix: Tensor, b_mix: Tensor, w_window: Tensor, b_window: Tensor
) -> tuple[Tensor, Tensor]:
    """One matrix (d + window_len, d) and bias taking ``[encoding, window]`` to
    ``mix(encoding) + window(window - last)``: subtracting the last value is linear in
    the window, so it is folded into the window's last column."""
    w_window = w_window.clone()
    w_window[:, -1] -= w_window.sum(1)
    return torch.cat([w_mix, w_window], dim=1).t().contiguous(), b_mix + b_window


def _head_arrays(*params: Tensor) -> tuple[Any, ...]:
    """The head's weights as float32 NumPy arrays for
    :meth:`StatefulForecastNet.forecast_array` (copies: later in-place changes of the
    parameters rebuild them), views of one array whose address (0 without the C step)
    comes last, for the C head."""
    w_mix, b_mix, w_window, b_window, tail, w_head, b_head = params
    w_in, b_in = _fused_head_input(w_mix, b_mix, w_window, b_window)
    arrays = [a.detach().cpu().float() for a in (w_in, b_in, tail, w_head.t(), b_head)]
    packed = torch.cat([a.reshape(-1) for a in arrays]).numpy()
    views, at = [], 0
    for a in arrays:
        views.append(packed[at : at + a.numel()].reshape(a.shape))
        at += a.numel()
    address = packed.ctypes.data if step_c.library() is not None else 0
    return (*views, address)
