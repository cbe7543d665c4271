"""``XLSTMStatefulForecaster``: trained on whole series, updated in O(new steps).

A class of its own rather than a mode of :class:`~xlstm_ts.XLSTMForecaster`: what it learns (a fixed
normalisation and an encoder state per series instead of a window read afresh), its
network (a head at every position instead of one over a window), its training
(segments in order with a carried state instead of shuffled windows) and its parameters
(``segment_length``, no ``context_length``) all differ, and ``update`` has no meaning for
a window model; a mode would make half the parameters conditional on another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from numbers import Integral
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from xlstm_ts.data import Panel
from xlstm_ts.estimators.base import BaseForecaster, fit_seed
from xlstm_ts.estimators.validation import (
    FORECASTER_CONSTRAINTS,
    check_network_params,
    quantile_levels,
    refuse_bools,
)

from . import inference
from .fitted import StatefulForecasterState, fit_normalisation, normalised
from .frames import forecast_frame
from .rows import append_rows, cached_codes, read_array, read_frame
from .update import check_update, new_steps, take_in

_WINDOW_ONLY = {"context_length", "past_covariates", "future_covariates", "linear_path",
                "windows_per_epoch", "channel_mixing", "static_covariates",
                "calendar_features", "holidays"}  # fmt: skip
_POSITIVE = Interval(Integral, 1, None, closed="left")


class XLSTMStatefulForecaster(BaseForecaster):
    """Forecaster whose forecast depends on each series' whole history through the
    state of an xLSTM encoder.

    Each series is normalised with its own mean and scale, fitted on its training part
    and then fixed, so that the encoding of the past never changes when steps are
    appended. It is read patch after patch by a :class:`~xlstm_ts.stateful.StatefulForecastNet`;
    the forecast reads the encoding of the last complete patch and the last ``patch_len``
    values. Training runs over whole series in consecutive segments of
    ``segment_length`` steps, the state carried from one to the next (truncated
    backpropagation through time), with a loss at every position; :meth:`update` takes in
    new steps without refitting. The point forecast is the median. Covariates are not
    supported yet.

    The parameters not listed below (``id_col``, ``time_col``, ``target``, ``freq``,
    ``quantiles``, ``loss``, ``allow_missing``, the network's ``d_model``,
    ``num_blocks``, ``slstm_at``, ``num_heads``, ``dropout``, and the training's
    ``max_epochs``, ``learning_rate``, ``weight_decay``, ``early_stopping_patience``,
    ``random_state``, ``num_threads``, ``verbose``, ``trainer_kwargs``) mean what they
    mean in :class:`~xlstm_ts.XLSTMForecaster`. Under DDP (``trainer_kwargs={"accelerator": "cpu",
    "devices": 2, "strategy": "ddp"}``) each process trains on its own share of the
    series.

    Parameters
    ----------
    horizon : int
        Steps forecast at once (from every position when training).
    patch_len : int
        Steps per token. A forecast also sees the steps after the last complete patch.
    window_len : int, optional
        Steps of the recent past the head reads directly, beside the encoder's state (at
        least ``patch_len``; ``patch_len`` when ``None``).
    segment_length : int
        Steps per training segment, a multiple of ``patch_len``: gradients reach this far
        back, and training memory grows with it (and ``batch_size``), not with the
        series' length.
    batch_size : int
        Segments (of different series) per batch.
    validation_size : int or float
        End of each series held out for validation (steps, or a fraction of its length;
        at least ``horizon`` steps); ``0``: none. The normalisation is fitted on the rest.

    Attributes
    ----------
    fitted_ : StatefulForecasterState
        Everything ``fit`` learned and ``update`` moved forward.
    model_ : StatefulForecastNet
        The trained network (on the CPU, in evaluation mode).
    panel_ : Panel
        The series' ids, last timestamps, frequency and last ``window_len`` values.
    n_steps_ : list of int
        Steps seen of each series.
    freq_, n_epochs_, best_val_loss_, quantile_levels_
        As in :class:`~xlstm_ts.XLSTMForecaster`.
    """

    _parameter_constraints = {
        **{k: v for k, v in FORECASTER_CONSTRAINTS.items() if k not in _WINDOW_ONLY},
        "segment_length": [_POSITIVE],
        "window_len": [_POSITIVE, None],
    }

    def __init__(
        self,
        horizon: int = 24,
        *,
        patch_len: int = 16,
        segment_length: int = 1024,
        window_len: int | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target: str | Sequence[str] | None = None,
        freq: str | int | None = None,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        loss: Literal["quantile", "mse"] = "quantile",
        allow_missing: bool = False,
        d_model: int = 64,
        num_blocks: int = 2,
        slstm_at: Sequence[int] = (),
        num_heads: int = 4,
        dropout: float = 0.1,
        max_epochs: int = 20,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        early_stopping_patience: int | None = 5,
        validation_size: int | float = 0.1,
        random_state: int | None = None,
        num_threads: int | None = 1,
        verbose: bool = False,
        trainer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.horizon = horizon
        self.patch_len = patch_len
        self.segment_length = segment_length
        self.window_len = window_len
        self.id_col = id_col
        self.time_col = time_col
        self.target = target
        self.freq = freq
        self.quantiles = quantiles
        self.loss = loss
        self.allow_missing = allow_missing
        self.d_model = d_model
        self.num_blocks = num_blocks
        self.slstm_at = slstm_at
        self.num_heads = num_heads
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.early_stopping_patience = early_stopping_patience
        self.validation_size = validation_size
        self.random_state = random_state
        self.num_threads = num_threads
        self.verbose = verbose
        self.trainer_kwargs = trainer_kwargs

    @property
    def n_steps_(self) -> list[int]:
        return list(self._state().lengths)

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> list[float]:
        self._validate_params()
        refuse_bools(self)
        levels = quantile_levels(self.quantiles)
        check_network_params(self)
        if self.segment_length % self.patch_len:
            raise ValueError(
                f"segment_length={self.segment_length} must be a multiple of "
                f"patch_len={self.patch_len}"
            )
        if self.window_len is not None and self.window_len < self.patch_len:
            raise ValueError(
                f"window_len={self.window_len} must be at least patch_len={self.patch_len}"
            )
        return levels

    def _network_config(self, levels: list[float]) -> dict[str, Any]:
        # plain ints (a numpy integer passes the checks but not every torch call)
        return dict(
            horizon=int(self.horizon),
            quantiles=levels,
            patch_len=int(self.patch_len),
            window_len=None if self.window_len is None else int(self.window_len),
            d_model=int(self.d_model),
            num_blocks=int(self.num_blocks),
            slstm_at=[int(p) for p in self.slstm_at],
            num_heads=int(self.num_heads),
            dropout=float(self.dropout),
        )

    def _train_ends(self, panel: Panel) -> list[int]:
        ends = []
        for series, v in zip(panel.ids, panel.values, strict=True):
            n, size = len(v), self.validation_size
            held = 0 if size == 0 else int(round(size * n)) if isinstance(size, float) else size
            held = max(held, self.horizon) if held else 0
            need = self.patch_len + self.horizon + held
            if n < need:
                raise ValueError(
                    f"series {series!r} has {n} steps; patch_len + horizon"
                    + (f" + validation ({held})" if held else "")
                    + f" = {need} are needed. Shorten patch_len or validation_size"
                )
            ends.append(n - held)
        return ends

    def fit(self, X: pd.DataFrame | Panel, y: None = None) -> XLSTMStatefulForecaster:
        """Train on the whole series of ``X`` (a long or wide frame, or a ``Panel``).

        Returns
        -------
        self
        """
        from xlstm_ts.training import torch_threads

        levels = self._check_params()
        self.__dict__.pop("fitted_", None)  # a failed fit leaves no stale model behind
        with torch_threads(self.num_threads):
            self.fitted_ = self._fit(X, levels)
        return self

    def _fit(self, X: pd.DataFrame | Panel, levels: list[float]) -> StatefulForecasterState:
        from lightning.pytorch import seed_everything

        from xlstm_ts.training import fit_module

        from .datamodule import SegmentDataModule
        from .module import StatefulForecastModule

        panel = self._panel(X)
        ends = self._train_ends(panel)
        mean, scale = fit_normalisation([v[:e] for v, e in zip(panel.values, ends, strict=True)])
        series = [normalised(v, m, s) for v, m, s in zip(panel.values, mean, scale, strict=True)]
        seed = fit_seed(self.random_state)
        seed_everything(seed, verbose=False)
        config = self._network_config(levels)
        network = StatefulForecasterState.build_network(config)
        module = StatefulForecastModule(
            network,
            levels,
            levels.index(0.5),
            loss=self.loss,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
        )
        data = SegmentDataModule(
            series,
            ends,
            self.patch_len,
            self.horizon,
            int(self.segment_length),
            int(self.batch_size),
            seed,
            network.window_len,
        )
        # each process reads its own series' segments in order (SegmentDataModule)
        run = self._train_config(trainer_defaults={"use_distributed_sampler": False})
        result = fit_module(module, data, run)
        network = network.cpu().eval()
        n = len(panel.values)
        states = inference.advance(
            network, [None] * n, [0] * n, [np.zeros(0)] * n, panel.values, mean, scale
        )
        W = network.window_len
        return StatefulForecasterState(
            network=network,
            network_config=config,
            panel=replace(panel, values=[np.array(v[-W:]) for v in panel.values]),
            n_epochs=[result.n_epochs],
            best_val_loss=result.best_val_loss,
            mean=mean,
            scale=scale,
            lengths=[len(v) for v in panel.values],
            states=states,
        )

    # ------------------------------------------------------------------ updating
    def update(self, X_new: pd.DataFrame | Panel | np.ndarray) -> XLSTMStatefulForecaster:
        """Take in new observations without refitting, in O(new steps).

        Each series of ``X_new`` must start right after the last step the model has seen
        of it (no gap, no overlap) at the model's frequency; a series the model does not
        know is added, normalised on the steps given and encoded from its start (it needs
        at least ``patch_len`` steps). A wide frame must hold every series of the model.
        On error the model is left as it was.

        New rows for many series are read in one pass (one conversion of the frame,
        not one per series), and the series that complete a patch are encoded in one
        network call; a long frame may hold rows of any subset of the series.

        Parameters
        ----------
        X_new : DataFrame, Panel or ndarray
            The new rows, shaped like the training frame (long or wide), or an array
            of shape ``(n_series,)`` (one new step of every series) or
            ``(steps, n_series)``, its columns in the order of ``panel_.ids``: each
            series moves on by that many steps of the model's frequency. An array is
            the fastest form (no frame to read).

        Returns
        -------
        self
        """
        from xlstm_ts.training import torch_threads

        state = self._state()
        if isinstance(X_new, np.ndarray):
            rows = read_array(X_new, state, allow_missing=self.allow_missing)
        elif isinstance(X_new, Panel):
            rows = None
        else:
            rows = read_frame(
                X_new,
                state,
                id_col=self.id_col,
                time_col=self.time_col,
                target=self.target,
                allow_missing=self.allow_missing,
            )
        kw = dict(id_col=self.id_col, time_col=self.time_col, target=self.target)
        if rows is None:  # series by series: the checks that name what is wrong
            new = new_steps(X_new, state, allow_missing=self.allow_missing, **kw)
            wide = state.panel.layout == "wide" and not isinstance(X_new, Panel)
            check_update(state, new, self.patch_len, every_series=wide)
        elif rows.added is not None:  # series the model does not know, read one by one
            new = new_steps(rows.added, state, allow_missing=self.allow_missing, **kw)
            check_update(state, new, self.patch_len, every_series=False)
        else:
            new = None
        with torch_threads(self.num_threads):
            if rows is not None:
                state = append_rows(state, rows)
            self.fitted_ = state if new is None else take_in(state, new)
        return self

    # ------------------------------------------------------------------ predicting
    def _forecast(self, X: Any, h: int | None) -> tuple[Panel, np.ndarray]:
        from xlstm_ts.training import torch_threads

        state = self._state()
        h = self.horizon if h is None else h
        with torch_threads(self.num_threads):
            if X is None:
                panel, states = state.panel, state.states
                mean, scale, lengths = state.mean, state.scale, state.lengths
            else:
                panel = self._history(X)
                states, mean, scale = inference.encode_panel(state, panel)
                lengths = [len(v) for v in panel.values]
            out = inference.rollout(
                state.network, states, lengths, panel.values, mean, scale, h, state.point_index
            )
        return panel, out

    def _build_frame(self, panel: Panel, values: np.ndarray, columns: list[str]) -> pd.DataFrame:
        state = self._state()
        codes = cached_codes(state) if panel is state.panel else None
        return forecast_frame(
            panel, values, columns, id_col=self.id_col, time_col=self.time_col, last_codes=codes
        )

    def score(self, X: pd.DataFrame, y: None = None) -> float:
        """Negative mean squared error of the forecast of the last ``horizon`` steps of
        ``X`` from the steps before them (encoded from scratch; the model is not
        changed); missing actual values are left out."""
        panel = self._history(X)
        H = self.horizon
        short = [
            s for s, v in zip(panel.ids, panel.values, strict=True) if len(v) < self.patch_len + H
        ]
        if short:
            raise ValueError(
                f"series {short} are shorter than patch_len + horizon = {self.patch_len + H}"
            )
        head = replace(panel, values=[v[:-H] for v in panel.values])
        _, pred = self._forecast(head, None)
        actual = np.stack([v[-H:] for v in panel.values])
        pred, mask = pred[..., self._state().point_index], ~np.isnan(actual)
        return -float(np.mean((actual[mask] - pred[mask]) ** 2))

    # ------------------------------------------------------------------ persistence
    @staticmethod
    def _storage() -> Any:
        # weights, per-series states and buffers in safetensors, the rest in JSON:
        # update() continues after load() as before
        from . import persistence

        return persistence
