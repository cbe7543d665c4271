"""``XLSTMForecaster``: the scikit-learn-style forecaster with an xLSTM encoder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from xlstm_ts.data import Panel, scaled, train_val_windows, unit_scale
from xlstm_ts.data.static import StaticEncoding, static_table

from .base import fit_seed
from .candidates import TrainingPlan, fit_candidates
from .mixing import ChannelMixing
from .state import ForecasterState
from .validation import FORECASTER_CONSTRAINTS, check_forecaster_params
from .window_base import BaseWindowForecaster


class XLSTMForecaster(ChannelMixing, BaseWindowForecaster):
    """Direct multi-step forecaster with an xLSTM encoder, trained with Lightning.

    ``fit`` takes a long or a wide frame, or a :class:`~xlstm_ts.data.Panel` of arrays
    (``Panel.from_arrays``). Each series is forecast from its own last ``context_length`` values
    (channel-independent): the context is normalised per instance, cut into patches,
    encoded by a stack of mLSTM/sLSTM blocks, and a linear head outputs every step of
    the horizon for every quantile at once. The point forecast is the median
    (quantile 0.5, always trained).

    Parameters
    ----------
    horizon : int
        Steps forecast at once.
    context_length : int
        Steps of history the model sees.
    id_col, time_col : str
        Series-id and time columns of long frames.
    target : str or list of str, optional
        Long frames: the target column (default ``"y"``). Wide frames: the columns to
        forecast (default all).
    freq : str or int, optional
        Frequency of the series; inferred with pandas when ``None`` (and checked either way).
    past_covariates : sequence of str
        Columns observed alongside the target, known only up to the forecast origin (long
        frames: per row; wide frames: shared by all series and not forecast themselves).
    future_covariates : sequence of str
        Columns also known over the horizon (calendar features, planned values): the
        model sees them over the context and the horizon; ``predict`` then needs their
        future values in ``X_future``. With past or future covariates, ``h`` is at most
        ``horizon``; static covariates and calendar features do not limit it.
    static_covariates : sequence of str
        Columns of a long frame that hold one value per series (a store's type or size):
        numeric columns are read as numbers, text, category and bool columns as one
        indicator per category seen in ``fit`` (an embedding of the category; one not
        seen reads as none). The network and the linear path read them at every step.
        ``predict`` with a new history needs the same columns; a table of attributes
        kept apart joins on first: ``X.merge(static_df, on="unique_id")``.
    calendar_features : sequence of str
        Calendar covariates built from the timestamps, known over any horizon:
        ``"hour"``, ``"dayofweek"``, ``"dayofmonth"``, ``"month"`` (one indicator per
        value) and ``"dayofyear"`` (an annual sine and cosine). Datetime series only.
    holidays : sequence of date-like, optional
        Dates to flag: a ``holiday`` covariate is 1 on every step of those days (e.g.
        ``pandas.tseries.holiday.USFederalHolidayCalendar().holidays(start, end)``).
    quantiles : sequence of float
        Quantile levels to learn; 0.5 is added if missing.
    loss : {"quantile", "mse"}
        ``"quantile"``: pinball loss on all quantiles; ``"mse"``: squared error on the
        median plus the pinball loss of the others.
    allow_missing : bool
        Accept NaN in the target: missing context values are ignored by the normalisation
        and read as the context mean; missing targets are left out of the loss.
    channel_mixing : bool
        Each series also sees the contexts of the other series of the panel: their
        values enter its patch embeddings beside its own, as past covariates ordered
        relative to it (the next series first, wrapping around), so one set of weights
        reads every series alike. For coupled variables such as a dynamical system's
        coordinates or neighbouring sensors. The series must share one time index (a
        wide frame does) and ``predict`` and ``score`` need the same series; beyond
        ``horizon`` all series are continued together from their medians (not with other
        covariates). The embeddings' inputs grow with the number of series, and the
        memory of the inputs with its square. The linear path stays per series.
    d_model, num_blocks, slstm_at, num_heads, patch_len, dropout : network
        Width, depth, positions of sLSTM blocks (e.g. ``num_blocks=4, slstm_at=(3,)`` is
        xLSTM[3:1]), heads, steps per patch and dropout.
    linear_path : {"auto", "ridge", "none"}
        ``"ridge"``: one network whose linear path from the (normalised) context to the
        forecast starts at, and keeps, the ridge-regression solution on the training
        windows (the ridge baseline's, penalty chosen on the validation windows), while
        the encoder learns a correction from a zero head; the correction's weight α in
        ``[0, 2]`` is then chosen on the validation windows and kept only if it passes a
        cross-fitted check (else α = 0: the ridge forecast). ``"none"``: no linear path,
        a seed ensemble of three networks trained from scratch (seeds ``random_state``,
        ``+1``, ``+2``), their forecasts averaged. ``"auto"`` (default): train both and
        keep, on the validation windows, their weighted combination if it passes the
        cross-fitted check, else the networks from scratch if their error is lower on
        both halves of the validation windows, else the ridge start (``decision_``);
        without validation windows, ``"ridge"``. Near-linear data keep the ridge start
        or a combination, strongly nonlinear data (chaotic systems) the networks from
        scratch. The decision is :func:`xlstm_ts.training.decide`.
    max_epochs, batch_size, learning_rate, weight_decay : training
        Training settings of each network (AdamW).
    windows_per_epoch : int, optional
        Training windows drawn at random (without replacement) per epoch; all windows
        when ``None``. With the default, an epoch is at most 128 optimiser steps at the
        default batch size, so the cost of a fit is bounded by ``max_epochs ×
        windows_per_epoch / batch_size`` steps per network whatever the size of the
        panel; a panel with fewer windows reads each of them once per epoch. Each
        epoch's validation (early stopping) reads at most a quarter as many validation
        windows, evenly spaced and the same every epoch; the choice between the
        candidates reads them all.
    early_stopping_patience : int, optional
        Epochs without improvement of the validation loss before stopping; ``None`` trains
        ``max_epochs`` epochs. The best epoch's weights are restored at the end of ``fit``.
    validation_size : int or float
        End of each series held out for validation: a number of steps, or a fraction of
        the series' length (at least ``horizon`` steps); ``0`` means no validation.
    random_state : int, optional
        Seed for initialisation and sampling; the same seed and the same ``num_threads``
        give the same forecasts on the CPU. ``None``: a fresh seed each ``fit``.
    num_threads : int, optional
        Torch threads while fitting and predicting (restored afterwards); ``None`` leaves
        torch's setting. The default, 1, is the fastest for models of this size on a
        shared machine: beside another CPU-bound process two threads made the demo's
        epochs 11× slower (see the quick start); with DDP on the CPU each process gets at
        most ``cores // devices``.
    verbose : bool
        Say which network is training and print one summary line per epoch (losses and
        time) to standard error.
    trainer_kwargs : dict, optional
        Arguments of ``lightning.Trainer`` for every network ``fit`` trains (with the
        defaults four: the ridge start and three networks from scratch), e.g.
        ``accelerator``, ``devices``, ``strategy`` (``{"accelerator": "cpu", "devices":
        2, "strategy": "ddp"}`` trains in two processes), ``precision``,
        ``gradient_clip_val`` (default 1.0), ``enable_progress_bar`` (default: when
        standard error is a terminal), ``logger``, ``callbacks``. The same callback
        objects see each training in turn; one that keeps state from one training to the
        next must reset it in ``setup`` (Lightning's ``EMAWeightAveraging`` does not: use
        it with ``linear_path="ridge"``, which trains one network).

    Attributes
    ----------
    fitted_ : ForecasterState
        Everything ``fit`` learned, in one object (replaced by each ``fit``, written by
        :meth:`save`); the attributes below read from it.
    model_ : XLSTMForecastNet or ForecastCombination
        The trained network (on the CPU, in evaluation mode): the ridge-started one, the
        seed ensemble of the networks from scratch, or the combination of the two.
    panel_ : Panel
        The training series, their ids, last timestamps and frequency.
    freq_ : str or int
        The series' frequency.
    n_epochs_ : list of int
        Epochs trained by each network of the kept model (the ridge start first).
    best_val_loss_ : float or None
        Validation MSE of the kept model's point forecast, each series measured in its
        unit (its training part's standard deviation), so that every series weighs alike
        (``None`` without validation windows).
    quantile_levels_ : list of float
        Quantile levels of the outputs (``quantiles`` with 0.5, sorted).
    linear_path_ : {"ridge", "none", "combined"}
        What was kept: the ridge start, the networks from scratch, or their combination.
    decision_ : dict or None
        With validation windows, what :func:`xlstm_ts.training.decide` chose: ``kept``;
        ``blend``, the weight ``alpha`` of the ridge start's correction with its
        cross-fitted check (``alpha_halves``, the weights fitted on each half of the
        validation windows; ``gain_halves``, the relative change of the other half's
        squared error with them; ``accepted``); ``combination``, the weight of the
        networks from scratch in ``(1 − w)·ridge + w·scratch`` with its check;
        ``scores``, the validation MSE of each candidate (``"ridge"``, ``"none"``) and
        of the combination (``"combined"``) when kept.
    ridge_lambda_ : float or None
        Relative ridge penalty chosen for the linear path (when a ridge start was trained).

    Examples
    --------
    >>> model = XLSTMForecaster(horizon=24, context_length=96, max_epochs=2)
    >>> model.fit(df)                                   # doctest: +SKIP
    >>> model.predict()                                 # doctest: +SKIP
    """

    _parameter_constraints = FORECASTER_CONSTRAINTS

    def __init__(
        self,
        horizon: int = 24,
        context_length: int = 96,
        *,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target: str | Sequence[str] | None = None,
        freq: str | int | None = None,
        past_covariates: Sequence[str] = (),
        future_covariates: Sequence[str] = (),
        static_covariates: Sequence[str] = (),
        calendar_features: Sequence[str] = (),
        holidays: Sequence[Any] | None = None,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        loss: Literal["quantile", "mse"] = "quantile",
        allow_missing: bool = False,
        channel_mixing: bool = False,
        d_model: int = 64,
        num_blocks: int = 2,
        slstm_at: Sequence[int] = (),
        num_heads: int = 4,
        patch_len: int = 16,
        dropout: float = 0.1,
        linear_path: Literal["auto", "ridge", "none"] = "auto",
        max_epochs: int = 20,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        windows_per_epoch: int | None = 8192,
        early_stopping_patience: int | None = 5,
        validation_size: int | float = 0.1,
        random_state: int | None = None,
        num_threads: int | None = 1,
        verbose: bool = False,
        trainer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.horizon = horizon
        self.context_length = context_length
        self.id_col = id_col
        self.time_col = time_col
        self.target = target
        self.freq = freq
        self.past_covariates = past_covariates
        self.future_covariates = future_covariates
        self.static_covariates = static_covariates
        self.calendar_features = calendar_features
        self.holidays = holidays
        self.quantiles = quantiles
        self.loss = loss
        self.allow_missing = allow_missing
        self.channel_mixing = channel_mixing
        self.d_model = d_model
        self.num_blocks = num_blocks
        self.slstm_at = slstm_at
        self.num_heads = num_heads
        self.patch_len = patch_len
        self.dropout = dropout
        self.linear_path = linear_path
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.windows_per_epoch = windows_per_epoch
        self.early_stopping_patience = early_stopping_patience
        self.validation_size = validation_size
        self.random_state = random_state
        self.num_threads = num_threads
        self.verbose = verbose
        self.trainer_kwargs = trainer_kwargs

    # ------------------------------------------------------------------ fitting
    def _validation_steps(self, n: int) -> int:
        v = self.validation_size
        if v == 0:
            return 0
        steps = int(round(v * n)) if isinstance(v, float) else int(v)
        return max(steps, self.horizon)

    def _network_config(
        self, quantile_levels: list[float], n_series: int, n_known: int = 0
    ) -> dict[str, Any]:
        """Keyword arguments of :class:`~xlstm_ts.nn.XLSTMForecastNet` but ``linear_path``;
        ``n_known``: the covariates the model builds (static and calendar columns)."""
        mixed = n_series - 1 if self.channel_mixing else 0  # the other series' columns
        # plain ints (a numpy integer passes the checks but not every torch call)
        return dict(
            context_length=int(self.context_length),
            horizon=int(self.horizon),
            quantiles=quantile_levels,
            patch_len=int(self.patch_len),
            d_model=int(self.d_model),
            num_blocks=int(self.num_blocks),
            slstm_at=[int(p) for p in self.slstm_at],
            num_heads=int(self.num_heads),
            dropout=float(self.dropout),
            n_covariates=mixed + len(self._covariate_names()) + n_known,
            n_future=len(self.future_covariates) + n_known,
            n_mixed=mixed,
        )

    def fit(
        self,
        X: pd.DataFrame | Panel,
        y: None = None,
        *,
        checkpoint_dir: str | os.PathLike | None = None,
    ) -> XLSTMForecaster:
        """Train on the series of ``X``: a long or a wide frame, or a ``Panel``.

        Parameters
        ----------
        X : DataFrame or Panel
            The training series.
        y : None
            Ignored (the targets are columns of ``X``).
        checkpoint_dir : str or path, optional
            Keep the training checkpoints in this folder and resume from it: a ``fit``
            whose process was killed continues from the last finished epoch when called
            again with the same folder, parameters and data, and ends with the same weights
            as an uninterrupted run (on the CPU, with ``random_state`` set). A finished
            run's folder gives its weights back without training. Each network has its own
            subfolder. ``None``: a temporary folder.

        Returns
        -------
        self
        """
        from xlstm_ts.training import torch_threads

        self._validate_params()
        levels = check_forecaster_params(self)
        self.__dict__.pop("fitted_", None)  # a failed fit leaves no stale model behind
        with torch_threads(self.num_threads):
            self.fitted_ = self._fit(X, levels, checkpoint_dir)
        return self

    def _fit(
        self, X: pd.DataFrame | Panel, levels: list[float], checkpoint_dir: Any
    ) -> ForecasterState:
        static = None
        if self.static_covariates:  # the categories seen in training
            static = StaticEncoding.learn(static_table(X, self.id_col, self.static_covariates))
        panel = self._panel(X, static=static)
        n_known = len(self._known_names(static))
        held = [self._validation_steps(len(v)) for v in panel.values]
        # each series in its own unit, so that every sum over the panel weighs all alike
        training_parts = [v[: len(v) - k] for v, k in zip(panel.values, held, strict=True)]
        units = np.array([unit_scale(v) for v in training_parts])
        train, val = train_val_windows(
            scaled(panel.values, units),
            panel.ids,
            self.context_length,
            self.horizon,
            held,
            panel.covariates,
            len(self.future_covariates) + n_known,
        )
        plan = TrainingPlan(
            network=self._network_config(levels, len(panel.values), n_known),
            loss=self.loss,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            batch_size=int(self.batch_size),
            windows_per_epoch=_int_or_none(self.windows_per_epoch),
            seed=fit_seed(self.random_state),
            run=self._train_config(
                checkpoint_dir=checkpoint_dir,
                checkpoint_key=self._checkpoint_key(panel) if checkpoint_dir else None,
            ),
        )
        state = fit_candidates(plan, self.linear_path, panel, train, val)
        return replace(state, units=units.tolist(), static=static.to_dict() if static else None)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
