"""``XLSTMForecaster``: the scikit-learn-style forecaster."""

from __future__ import annotations

import copy
import math
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from xlstm_ts.data import (
    Panel,
    WindowDataModule,
    WindowDataset,
    forecasts_to_frame,
    frame_to_panel,
    future_covariates,
    split_starts,
)
from xlstm_ts.metrics import mse
from xlstm_ts.nn import XLSTMForecastNet

_FITTED = "model_"


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float32)


class XLSTMForecaster(BaseEstimator):
    """Direct multi-step forecaster with an xLSTM encoder, trained with Lightning.

    Each series is forecast from its own last ``context_length`` values
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
    d_model, num_blocks, slstm_at, num_heads, patch_len, dropout, chunk_size : network
        Width, depth, positions of sLSTM blocks (e.g. ``num_blocks=4, slstm_at=(3,)`` is
        xLSTM[3:1]), heads, steps per patch, dropout and mLSTM chunk size.
    linear_skip : bool or "ridge"
        Add a linear path from the (normalised) context to the forecast beside the
        encoder, which then learns what a linear forecaster misses. ``"ridge"`` starts it
        from the ridge-regression solution on the training windows (penalty chosen on the
        validation windows) with the encoder's head at zero, so training begins from a
        strong linear forecaster; if no epoch beats that start on the validation loss,
        the start is kept.
    backend : {"auto", "torch", "triton"}
        Cell implementation.
    max_epochs, batch_size, learning_rate, weight_decay, gradient_clip_val : training
        Training settings (AdamW).
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
        Seed for initialisation and sampling; the same seed gives the same forecasts on
        the CPU.
    progress_bar : bool
        Show Lightning's progress bar.
    trainer_kwargs : dict, optional
        Further ``lightning.Trainer`` arguments (e.g. ``logger``, ``callbacks``).

    Attributes
    ----------
    model_ : XLSTMForecastNet
        The trained network (on the CPU, in evaluation mode).
    panel_ : Panel
        The training series, their ids, last timestamps and frequency.
    freq_ : str or int
        The series' frequency.
    n_epochs_ : int
        Epochs trained.
    best_val_loss_ : float or None
        Best validation loss.
    ridge_lambda_ : float
        Relative ridge penalty chosen for the linear skip path (with
        ``linear_skip="ridge"`` only).

    Examples
    --------
    >>> model = XLSTMForecaster(horizon=24, context_length=96, max_epochs=2)
    >>> model.fit(df)                                   # doctest: +SKIP
    >>> model.predict()                                 # doctest: +SKIP
    """

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
        d_model: int = 64,
        num_blocks: int = 2,
        slstm_at: Sequence[int] = (),
        num_heads: int = 4,
        patch_len: int = 16,
        dropout: float = 0.1,
        chunk_size: int = 64,
        linear_skip: bool | Literal["ridge"] = False,
        backend: str = "auto",
        max_epochs: int = 20,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        gradient_clip_val: float | None = 1.0,
        windows_per_epoch: int | None = None,
        early_stopping_patience: int | None = 5,
        validation_size: int | float = 0.1,
        accelerator: str = "auto",
        devices: int | str = "auto",
        strategy: str = "auto",
        precision: str | int = "32-true",
        random_state: int | None = None,
        progress_bar: bool = True,
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
        self.quantiles = quantiles
        self.loss = loss
        self.allow_missing = allow_missing
        self.d_model = d_model
        self.num_blocks = num_blocks
        self.slstm_at = slstm_at
        self.num_heads = num_heads
        self.patch_len = patch_len
        self.dropout = dropout
        self.chunk_size = chunk_size
        self.linear_skip = linear_skip
        self.backend = backend
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.gradient_clip_val = gradient_clip_val
        self.windows_per_epoch = windows_per_epoch
        self.early_stopping_patience = early_stopping_patience
        self.validation_size = validation_size
        self.accelerator = accelerator
        self.devices = devices
        self.strategy = strategy
        self.precision = precision
        self.random_state = random_state
        self.progress_bar = progress_bar
        self.trainer_kwargs = trainer_kwargs

    # ------------------------------------------------------------------ validation
    def _quantile_levels(self) -> list[float]:
        levels = sorted({float(q) for q in self.quantiles} | {0.5})
        bad = [q for q in levels if not 0 < q < 1]
        if bad:
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {bad}")
        return levels

    def _check_params(self) -> None:
        for name in ("horizon", "context_length", "patch_len", "max_epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.linear_skip not in (True, False, "ridge"):
            raise ValueError(
                f"linear_skip must be True, False or 'ridge', got {self.linear_skip!r}"
            )
        if self.loss not in ("quantile", "mse"):
            raise ValueError(f"loss must be 'quantile' or 'mse', got {self.loss!r}")
        v = self.validation_size
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            raise ValueError(f"validation_size must be a number of steps or a fraction, got {v!r}")
        if isinstance(v, float) and v >= 1:
            raise ValueError(f"a fractional validation_size must be below 1, got {v}")

    def _validation_steps(self, n: int) -> int:
        v = self.validation_size
        if v == 0:
            return 0
        steps = int(round(v * n)) if isinstance(v, float) else int(v)
        return max(steps, self.horizon)

    def _covariate_names(self) -> list[str]:
        """Covariate columns, the future-known ones last."""
        return [*self.past_covariates, *self.future_covariates]

    def _panel(self, X: Any) -> Panel:
        return frame_to_panel(
            X,
            id_col=self.id_col,
            time_col=self.time_col,
            target=self.target,
            freq=self.freq,
            allow_missing=self.allow_missing,
            covariates=self._covariate_names(),
        )

    # ------------------------------------------------------------------ fitting
    def _build_network(self) -> XLSTMForecastNet:
        return XLSTMForecastNet(
            context_length=self.context_length,
            horizon=self.horizon,
            quantiles=self.quantile_levels_,
            patch_len=self.patch_len,
            d_model=self.d_model,
            num_blocks=self.num_blocks,
            slstm_at=tuple(self.slstm_at),
            num_heads=self.num_heads,
            dropout=self.dropout,
            chunk_size=self.chunk_size,
            backend=self.backend,
            linear_skip=bool(self.linear_skip),
            n_covariates=len(self._covariate_names()),
            n_future=len(self.future_covariates),
        )

    def _window_datasets(self, panel: Panel) -> tuple[WindowDataset, WindowDataset]:
        """Training windows and validation windows (the end of each series)."""
        lengths = [len(v) for v in panel.values]
        val_steps = [self._validation_steps(n) for n in lengths]
        for series, n, v in zip(panel.ids, lengths, val_steps, strict=True):
            need = self.context_length + self.horizon + v
            if n < need:
                raise ValueError(
                    f"series {series!r} has {n} steps; context_length + horizon"
                    + (f" + validation ({v})" if v else "")
                    + f" = {need} are needed. Shorten context_length or validation_size"
                )
        train_starts, val_starts = split_starts(
            lengths, self.context_length, self.horizon, val_steps
        )
        windows = dict(
            context_length=self.context_length,
            horizon=self.horizon,
            covariates=panel.covariates,
            n_future=len(self.future_covariates),
        )
        return (
            WindowDataset(panel.values, train_starts, **windows),
            WindowDataset(panel.values, val_starts, **windows),
        )

    def _trainer_kwargs(self, root: str, checkpoint: Any | None) -> dict[str, Any]:
        """``lightning.Trainer`` arguments: ours, then the user's ``trainer_kwargs``."""
        from lightning.pytorch.callbacks import EarlyStopping

        callbacks: list[Any] = []
        if checkpoint is not None:
            callbacks.append(checkpoint)
            if self.early_stopping_patience is not None:
                callbacks.append(EarlyStopping("val_loss", patience=self.early_stopping_patience))
        kwargs: dict[str, Any] = dict(
            max_epochs=self.max_epochs,
            accelerator=self.accelerator,
            devices=self.devices,
            strategy=self.strategy,
            precision=self.precision,
            gradient_clip_val=self.gradient_clip_val,
            enable_progress_bar=self.progress_bar,
            enable_checkpointing=checkpoint is not None,
            enable_model_summary=False,
            logger=False,
            deterministic=self.random_state is not None,
            default_root_dir=root,
            num_sanity_val_steps=0,
        )
        kwargs.update(self.trainer_kwargs or {})
        kwargs["callbacks"] = callbacks + list(kwargs.get("callbacks") or [])
        return kwargs

    def fit(self, X: pd.DataFrame, y: None = None) -> XLSTMForecaster:
        """Train on the series of ``X`` (a long or a wide frame).

        Returns
        -------
        self
        """
        import lightning as L
        from lightning.pytorch.callbacks import ModelCheckpoint

        from xlstm_ts.training import ForecastModule, ridge_init_skip

        self._check_params()
        self.quantile_levels_ = self._quantile_levels()
        panel = self._panel(X)
        train, val = self._window_datasets(panel)
        has_val = len(val) > 0

        seed = 0 if self.random_state is None else int(self.random_state)
        L.seed_everything(seed, verbose=False)
        module = ForecastModule(
            self._build_network(),
            self.quantile_levels_,
            self.quantile_levels_.index(0.5),
            loss=self.loss,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
        )
        if self.linear_skip == "ridge":
            self.ridge_lambda_ = ridge_init_skip(module.network, train, val if has_val else None)
        data = WindowDataModule(
            train, val if has_val else None, self.batch_size, self.windows_per_epoch, seed
        )
        with tempfile.TemporaryDirectory(prefix="xlstm_ts_") as tmp:
            checkpoint = ModelCheckpoint(dirpath=tmp, monitor="val_loss") if has_val else None
            kwargs = self._trainer_kwargs(tmp, checkpoint)
            trainer = L.Trainer(**kwargs)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", ".*does not have many workers.*")
                start = None
                if self.linear_skip == "ridge" and checkpoint is not None:
                    # the ridge start is a model in its own right: keep it if no epoch beats it
                    metrics = trainer.validate(module, datamodule=data, verbose=False)
                    start = (metrics[0]["val_loss"], copy.deepcopy(module.state_dict()))
                trainer.fit(module, datamodule=data)
            self.best_val_loss_ = None
            if checkpoint is not None and checkpoint.best_model_path:
                state = torch.load(
                    checkpoint.best_model_path, map_location="cpu", weights_only=True
                )["state_dict"]
                module.load_state_dict(state)
                self.best_val_loss_ = float(checkpoint.best_model_score)
            if start is not None and (
                self.best_val_loss_ is None or start[0] <= self.best_val_loss_
            ):
                module.load_state_dict(start[1])
                self.best_val_loss_ = float(start[0])
            # every process must have read the best checkpoint before rank 0 deletes it
            trainer.strategy.barrier()
        self.model_ = module.network.cpu().eval()
        self.panel_ = panel
        self.freq_ = panel.freq
        self.n_epochs_ = trainer.current_epoch
        return self

    # ------------------------------------------------------------------ predicting
    def _check_fitted(self) -> None:
        if not hasattr(self, _FITTED):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit(X) first"
            )

    def _contexts(self, panel: Panel) -> tuple[torch.Tensor, torch.Tensor]:
        """The last ``context_length`` steps of each series' target (n, L) and covariates
        (n, L, n_covariates)."""
        L = self.context_length
        for series, values in zip(panel.ids, panel.values, strict=True):
            if len(values) < L:
                raise ValueError(
                    f"series {series!r} has {len(values)} steps; forecasting needs the last "
                    f"context_length={L}"
                )
        contexts = np.stack([v[-L:] for v in panel.values])
        covariates = np.stack([c[-L:] for c in panel.covariates])
        return _tensor(contexts), _tensor(covariates)

    def _future(self, panel: Panel, X_future: pd.DataFrame | None) -> torch.Tensor:
        """Future covariates over the horizon after each series' end (n, horizon, n_future)."""
        names = list(self.future_covariates)
        if not names:
            return torch.zeros(len(panel.values), self.horizon, 0)
        if X_future is None:
            raise ValueError(
                f"this model uses future covariates {names}: pass their values for the "
                f"{self.horizon} steps after each series' end as X_future"
            )
        kw = dict(id_col=self.id_col, time_col=self.time_col)
        return _tensor(np.stack(future_covariates(X_future, panel, names, self.horizon, **kw)))

    def _forecast(
        self, X: pd.DataFrame | None, h: int | None, X_future: pd.DataFrame | None = None
    ) -> tuple[Panel, np.ndarray]:
        """Quantile forecasts (n_series, h, Q) after the end of ``X`` (or of the training data)."""
        self._check_fitted()
        panel = self.panel_ if X is None else self._panel(X)
        if X is not None:
            self._check_same_freq(panel)
        h = self.horizon if h is None else h
        future = self._future(panel, X_future)
        return panel, self._forecast_inputs(*self._contexts(panel), future, h=h)

    def _forecast_inputs(
        self,
        contexts: torch.Tensor,
        covariates: torch.Tensor,
        future: torch.Tensor,
        h: int,
        batch: int = 4096,
    ) -> np.ndarray:
        """Quantile forecasts (n, h, Q) from the network's inputs."""
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise ValueError(f"h must be a positive integer, got {h!r}")
        if covariates.shape[-1] and h > self.horizon:
            raise ValueError(
                f"h={h} exceeds horizon={self.horizon}: with covariates the forecast cannot "
                "continue recursively (their values beyond the horizon are unknown)"
            )
        point = self.quantile_levels_.index(0.5)
        results = []
        with torch.no_grad():
            for ctx, cov, fut in zip(
                contexts.split(batch), covariates.split(batch), future.split(batch), strict=True
            ):
                outputs = []
                for _ in range(math.ceil(h / self.horizon)):
                    # monotone rearrangement: sorted quantile outputs never cross
                    out = self.model_(ctx, cov, fut).sort(dim=-1).values
                    outputs.append(out)
                    # beyond the horizon, forecasts are recursive on the median
                    ctx = torch.cat([ctx, out[..., point]], dim=1)[:, -self.context_length :]
                results.append(torch.cat(outputs, dim=1)[:, :h])
        return torch.cat(results).numpy().astype(np.float64)

    def predict_contexts(
        self, contexts: np.ndarray, h: int | None = None, quantiles: bool = False
    ) -> np.ndarray:
        """Forecasts from raw context windows, for evaluating many windows at once.

        Parameters
        ----------
        contexts : array of shape (n, context_length)
            Each row is the history of one window, oldest first, on the data's scale.
        h : int, optional
            Steps to forecast; defaults to ``horizon``.
        quantiles : bool
            Return all quantiles (n, h, len(quantile_levels_)) instead of the median (n, h).
        """
        self._check_fitted()
        if self._covariate_names():
            raise ValueError(
                "predict_contexts takes target contexts only, but this model uses "
                f"covariates {self._covariate_names()}; use predict(X, X_future=...)"
            )
        contexts = np.asarray(contexts, dtype=np.float32)
        if contexts.ndim != 2 or contexts.shape[1] != self.context_length:
            raise ValueError(
                f"contexts must have shape (n, {self.context_length}), got {contexts.shape}"
            )
        ctx = torch.from_numpy(contexts)
        empty = torch.zeros(len(ctx), self.horizon, 0)
        out = self._forecast_inputs(ctx, empty, empty, self.horizon if h is None else h)
        return out if quantiles else out[..., self.quantile_levels_.index(0.5)]

    def _check_same_freq(self, panel: Panel) -> None:
        to_offset = pd.tseries.frequencies.to_offset
        a, b = panel.freq, self.freq_
        same = a == b if isinstance(a, int) or isinstance(b, int) else to_offset(a) == to_offset(b)
        if not same:
            raise ValueError(f"X has frequency {a!r}, but the model was fitted on {b!r}")

    def predict(
        self,
        X: pd.DataFrame | None = None,
        h: int | None = None,
        X_future: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Point forecasts (the median) with real future timestamps.

        Parameters
        ----------
        X : DataFrame, optional
            History to forecast from (same shape and frequency as in ``fit``); ``None``
            forecasts after the end of the training data. The model is not refitted.
        h : int, optional
            Steps to forecast; defaults to ``horizon``. Beyond ``horizon`` the forecast
            continues recursively from its own median (not with covariates).
        X_future : DataFrame, optional
            Values of the ``future_covariates`` over the ``horizon`` steps after each
            series' end, shaped like ``X`` (long: id, time and covariate columns; wide:
            future timestamps as index). Needed only when the model has future covariates.

        Returns
        -------
        DataFrame
            Long input: columns ``id_col``, ``time_col`` and the target. Wide input: the
            future timestamps as index, one column per series.
        """
        panel, forecasts = self._forecast(X, h, X_future)
        point = self.quantile_levels_.index(0.5)
        name = panel.target
        return forecasts_to_frame(
            panel,
            forecasts[..., point : point + 1],
            [name],
            id_col=self.id_col,
            time_col=self.time_col,
        )

    def predict_quantiles(
        self,
        X: pd.DataFrame | None = None,
        h: int | None = None,
        quantiles: Sequence[float] | None = None,
        X_future: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Quantile forecasts, one column per level (named ``"q0.1"``, ``"q0.5"``, ...).

        ``quantiles`` must be among the levels trained (``quantile_levels_``); all of them
        by default. Long input gives columns ``id_col``, ``time_col``, ``q…``; wide input
        gives columns ``(series, "q…")``. ``X``, ``h`` and ``X_future`` as in :meth:`predict`.
        """
        panel, forecasts = self._forecast(X, h, X_future)
        levels = self.quantile_levels_ if quantiles is None else [float(q) for q in quantiles]
        unknown = [q for q in levels if q not in self.quantile_levels_]
        if unknown:
            raise ValueError(
                f"quantiles {unknown} were not trained; available: {self.quantile_levels_}"
            )
        idx = [self.quantile_levels_.index(q) for q in levels]
        return forecasts_to_frame(
            panel,
            forecasts[..., idx],
            [f"q{q:g}" for q in levels],
            id_col=self.id_col,
            time_col=self.time_col,
        )

    def score(self, X: pd.DataFrame, y: None = None) -> float:
        """Negative mean squared error of the forecast of the last ``horizon`` steps of ``X``.

        The model forecasts from ``X`` without its last ``horizon`` steps (whose future
        covariates, if any, it is given); higher is better, as scikit-learn's model
        selection expects.
        """
        self._check_fitted()
        panel = self._panel(X)
        self._check_same_freq(panel)
        H = self.horizon
        history = replace(
            panel,
            values=[v[:-H] for v in panel.values],
            covariates=[c[:-H] for c in panel.covariates],
        )
        n_future = len(self.future_covariates)
        future = _tensor(np.stack([c[-H:, c.shape[1] - n_future :] for c in panel.covariates]))
        pred = self._forecast_inputs(*self._contexts(history), future, H)
        pred = pred[..., self.quantile_levels_.index(0.5)]
        actual = np.stack([v[-H:] for v in panel.values])
        mask = ~np.isnan(actual)
        return -mse(actual[mask], pred[mask])

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Save to the folder ``path``: weights in safetensors, the rest in JSON."""
        from xlstm_ts.persistence import save_forecaster

        self._check_fitted()
        save_forecaster(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> XLSTMForecaster:
        """Load a forecaster saved with :meth:`save`; no code in the files is run."""
        from xlstm_ts.persistence import load_forecaster

        return load_forecaster(cls, Path(path))
