"""``XLSTMForecaster``: the scikit-learn-style forecaster with an xLSTM encoder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from xlstm_ts.data import Panel, scaled, series_scales, train_val_windows

from .base import BaseForecaster
from .candidates import fit_auto, fit_network
from .mixing import ChannelMixing
from .state import ForecasterState
from .validation import (
    FORECASTER_CONSTRAINTS,
    check_correction_params,
    check_forecaster_params,
)


class XLSTMForecaster(ChannelMixing, BaseForecaster):
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
        future values in ``X_future``. With covariates, ``h`` is at most ``horizon``.
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
    d_model, num_blocks, slstm_at, num_heads, patch_len, dropout, chunk_size : network
        Width, depth, positions of sLSTM blocks (e.g. ``num_blocks=4, slstm_at=(3,)`` is
        xLSTM[3:1]), heads, steps per patch, dropout and mLSTM chunk size.
    linear_path : bool, "ridge" or "auto"
        Add a linear path from the (normalised) context to the forecast beside the
        encoder, which then learns what a linear forecaster misses. ``"ridge"`` starts it
        from the ridge-regression solution on the training windows (the ridge
        baseline's, with its constant level term, penalty chosen on the validation
        windows) with the encoder's head at zero, so
        training begins from a strong linear forecaster; if no epoch beats that start on
        the validation loss, the start is kept. ``"auto"``: train two networks, one with
        the ridge-started path and one without a linear path; keep their weighted
        combination if it passes a cross-fitted check on the validation windows
        (``combination_``), else one of them: the network without linear path only if
        its point forecast has the lower error on both halves of the validation windows
        (the evidence the check asks for; with ``blend_check=False`` or ``combine=False``,
        on all of them), else the ridge-started one (validation MSE in
        ``candidate_scores_``); without validation windows, ``"ridge"``. Near-linear
        data keep the ridge start or a combination, strongly nonlinear data (chaotic
        systems) the network trained from scratch; fitting trains ``1 + n_models``
        networks.
    train_linear_path : bool, optional
        Train the linear path with the rest; ``False`` keeps it at its ridge start so that
        only the encoder learns, as a correction. ``None`` (default): ``False`` for a
        ridge-started path, ``True`` for ``linear_path=True``.
    head : {"last", "flatten"}
        The encoder's head reads only the last patch encoding (``"last"``, the default:
        ``d_model`` inputs, far fewer weights, memorises less) or all of them
        (``"flatten"``, as PatchTST).
    encoder_context : int, optional
        The encoder sees only the last ``encoder_context`` steps (the linear path sees the
        whole context); ``None``: all ``context_length`` steps.
    input_noise : float
        Standard deviation of Gaussian noise added to the encoder's normalised input in
        training: a regulariser against memorising the training period.
    blend : bool, optional
        Forecast ``linear + α · correction`` with the weight α in ``[0, 2]`` that minimises
        the squared error of the median on the validation windows (closed form); epochs
        are compared by that blended validation MSE, and α is chosen again for the kept
        weights. Needs a linear path and validation windows; on those windows the model
        is then never worse than its linear part. ``None`` (default): ``True`` for a
        network with a linear path.
    blend_check : bool
        With ``blend``, keep the correction only if it also helps out of sample: α fitted
        on the earlier half of the validation windows must lower the error of the later
        half, and the other way round; otherwise α = 0 and the model forecasts with its
        linear part (``blend_check_`` records both gains). The same check applies to the
        combination of ``combine``, and the choice of the network without linear path
        of ``linear_path="auto"`` needs its lower error on both halves.
    combine : bool
        With ``linear_path="auto"``: combine the two candidates with a weight fitted on
        the validation windows when that passes the check of ``blend_check``
        (``combination_``); ``False``: keep the one with the lower validation MSE alone.
    n_models : int
        A network that does not start from the ridge solution (``linear_path=False`` or
        ``True``, and the candidate without linear path of ``"auto"``) is trained
        ``n_models`` times, with seeds ``random_state``, ``random_state + 1``, …, and
        their forecasts are averaged with equal weights (a ``ForecastCombination``): the
        seed ensemble lowers the variance one training run leaves, at ``n_models`` times
        its cost. A ridge-started network is trained once (every seed starts from the
        same solution). The default, 3, was chosen in a nested study on validation data
        (see the benchmark page); ``1`` trains one network.
    backend : {"auto", "torch", "triton"}
        Cell implementation.
    max_epochs, batch_size, learning_rate, weight_decay, gradient_clip_val : training
        Training settings (AdamW).
    lr_schedule : {"constant", "cosine"}
        ``"cosine"``: linear warm-up over the first 5 % of the steps, then cosine decay
        of the learning rate to zero at the end of ``max_epochs``.
    windows_per_epoch : int, optional
        Training windows drawn at random per epoch; all windows when ``None``.
    early_stopping_patience : int, optional
        Epochs without improvement of the validation loss before stopping; ``None`` trains
        ``max_epochs`` epochs. The best epoch's weights are restored at the end of ``fit``.
    validation_size : int or float
        End of each series held out for validation: a number of steps, or a fraction of
        the series' length (at least ``horizon`` steps); ``0`` means no validation.
    accelerator, devices, strategy, precision :
        Passed to ``lightning.Trainer``; e.g. ``accelerator="cpu", devices=2,
        strategy="ddp"`` trains in two processes.
    random_state : int, optional
        Seed for initialisation and sampling; the same seed and the same ``num_threads``
        give the same forecasts on the CPU.
    num_threads : int, optional
        Torch threads while fitting and predicting (restored afterwards); ``None`` leaves
        torch's setting. The default, 1, is the fastest for models of this size on a
        shared machine: beside another CPU-bound process two threads made the demo's
        epochs 11× slower (see the quick start); with DDP on the CPU each process gets at
        most ``cores // devices``.
    progress_bar : bool or "auto"
        Show Lightning's progress bar; ``"auto"``: only when standard error is a terminal.
    verbose : bool
        Print one summary line per epoch (losses and time) to standard error.
    trainer_kwargs : dict, optional
        Further ``lightning.Trainer`` arguments (e.g. ``logger``, ``callbacks``). Every
        network ``fit`` trains (with the defaults four: the ridge start and three networks
        from scratch) gets a Trainer of its own with these arguments, so the same callback
        objects see each training in turn; a callback that keeps state from one training
        to the next must reset it in ``setup`` (Lightning's ``EMAWeightAveraging`` does
        not: use it with ``linear_path=False, n_models=1``, see the quickstart).
    checkpoint_dir : str or path, optional
        Keep the training checkpoints in this folder and resume from it: a ``fit`` whose
        process was killed continues from the last finished epoch when called again with
        the same folder, parameters and data, and ends with the same weights as an
        uninterrupted run (on the CPU, with ``random_state`` set). A finished run's folder
        gives its weights back without training. With ``linear_path="auto"`` each
        candidate has its own subfolder. ``None``: a temporary folder.

    Attributes
    ----------
    fitted_ : ForecasterState
        Everything ``fit`` learned, in one object (replaced by each ``fit``, written by
        :meth:`save`); the attributes below read from it.
    model_ : XLSTMForecastNet or ForecastCombination
        The trained network (on the CPU, in evaluation mode); with
        ``linear_path="auto"``, possibly the combination of the two candidates; with
        ``n_models > 1``, the networks trained from scratch are a seed ensemble.
    panel_ : Panel
        The training series, their ids, last timestamps and frequency.
    freq_ : str or int
        The series' frequency.
    n_epochs_ : int
        Epochs trained.
    best_val_loss_ : float or None
        Best validation loss.
    quantile_levels_ : list of float
        Quantile levels of the outputs (``quantiles`` with 0.5, sorted).
    blend_alpha_ : float or None
        Weight of the encoder's correction chosen on validation (``blend=True`` only;
        ``None`` for a seed ensemble, whose networks each keep their own).
    blend_check_ : dict or None
        The out-of-sample check of the correction (``blend=True`` only): the weights
        fitted on each half of the validation windows (``alpha_halves``), the relative
        change of the other half's squared error with them (``gain_halves``) and whether
        the correction was kept (``accepted``).
    linear_path_ : bool, "ridge" or "combined"
        The linear path of the kept network (the choice of ``linear_path="auto"``;
        ``"combined"``: both candidates, weighted).
    candidate_scores_ : dict or None
        With ``linear_path="auto"`` and validation windows: the validation MSE of the
        point forecast of each candidate, ``"ridge"`` and ``"none"``, and of their
        combination (``"combined"``) if kept.
    combination_ : dict or None
        With ``linear_path="auto"`` and validation windows: the weight ``w`` (``alpha``)
        of the candidate without linear path in ``(1 − w)·ridge + w·none``, fitted on all
        validation windows, the weights fitted on each half (``alpha_halves``), the
        relative change of the other half's squared error with them (``gain_halves``),
        and whether the combination passed (``accepted``; kept when ``0 < w < 1``).
    ridge_lambda_ : float or None
        Relative ridge penalty chosen for the linear path (with ``linear_path="ridge"``
        only).

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
        chunk_size: int = 64,
        linear_path: bool | Literal["ridge", "auto"] = "auto",
        train_linear_path: bool | None = None,
        head: Literal["flatten", "last"] = "last",
        encoder_context: int | None = None,
        input_noise: float = 0.0,
        blend: bool | None = None,
        blend_check: bool = True,
        combine: bool = True,
        n_models: int = 3,
        backend: str = "auto",
        max_epochs: int = 20,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        gradient_clip_val: float | None = 1.0,
        lr_schedule: Literal["constant", "cosine"] = "constant",
        windows_per_epoch: int | None = None,
        early_stopping_patience: int | None = 5,
        validation_size: int | float = 0.1,
        accelerator: str = "auto",
        devices: int | str = "auto",
        strategy: str = "auto",
        precision: str | int = "32-true",
        random_state: int | None = None,
        num_threads: int | None = 1,
        progress_bar: bool | Literal["auto"] = "auto",
        verbose: bool = False,
        trainer_kwargs: dict[str, Any] | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
    ) -> None:
        self.horizon = horizon
        self.context_length = context_length
        self.id_col = id_col
        self.time_col = time_col
        self.target = target
        self.freq = freq
        self.past_covariates = past_covariates
        self.future_covariates = future_covariates
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
        self.chunk_size = chunk_size
        self.linear_path = linear_path
        self.train_linear_path = train_linear_path
        self.head = head
        self.encoder_context = encoder_context
        self.input_noise = input_noise
        self.blend = blend
        self.blend_check = blend_check
        self.combine = combine
        self.n_models = n_models
        self.backend = backend
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.gradient_clip_val = gradient_clip_val
        self.lr_schedule = lr_schedule
        self.windows_per_epoch = windows_per_epoch
        self.early_stopping_patience = early_stopping_patience
        self.validation_size = validation_size
        self.accelerator = accelerator
        self.devices = devices
        self.strategy = strategy
        self.precision = precision
        self.random_state = random_state
        self.num_threads = num_threads
        self.progress_bar = progress_bar
        self.verbose = verbose
        self.trainer_kwargs = trainer_kwargs
        self.checkpoint_dir = checkpoint_dir

    # ------------------------------------------------------------------ fitting
    def _validation_steps(self, n: int) -> int:
        v = self.validation_size
        if v == 0:
            return 0
        steps = int(round(v * n)) if isinstance(v, float) else int(v)
        return max(steps, self.horizon)

    def _network_config(
        self, quantile_levels: list[float], linear_path: bool, n_series: int
    ) -> dict[str, Any]:
        mixed = n_series - 1 if self.channel_mixing else 0  # the other series' columns
        return dict(
            context_length=self.context_length,
            horizon=self.horizon,
            quantiles=quantile_levels,
            patch_len=self.patch_len,
            d_model=self.d_model,
            num_blocks=self.num_blocks,
            slstm_at=list(self.slstm_at),
            num_heads=self.num_heads,
            dropout=float(self.dropout),
            chunk_size=self.chunk_size,
            backend=self.backend,
            linear_path=linear_path,
            n_covariates=mixed + len(self._covariate_names()),
            n_future=len(self.future_covariates),
            head=self.head,
            encoder_context=self.encoder_context,
            input_noise=float(self.input_noise),
        )

    def fit(self, X: pd.DataFrame | Panel, y: None = None) -> XLSTMForecaster:
        """Train on the series of ``X``: a long or a wide frame, or a ``Panel``.

        Returns
        -------
        self
        """
        from xlstm_ts.training import torch_threads

        self._validate_params()
        levels = check_forecaster_params(self)
        check_correction_params(self)
        self.__dict__.pop("fitted_", None)  # a failed fit leaves no stale model behind
        with torch_threads(self.num_threads):
            self.fitted_ = self._fit(X, levels)
        return self

    def _fit(self, X: pd.DataFrame | Panel, levels: list[float]) -> ForecasterState:
        panel = self._panel(X)
        # extreme magnitudes are read divided by a power of two (exact; see data.scaling)
        values = scaled(panel.values, series_scales(panel.values))
        train, val = train_val_windows(
            values,
            panel.ids,
            self.context_length,
            self.horizon,
            [self._validation_steps(len(v)) for v in panel.values],
            panel.covariates,
            len(self.future_covariates),
        )
        if self.linear_path == "auto":
            return fit_auto(self, panel, train, val, levels)
        return fit_network(self, self.linear_path, panel, train, val, levels)
