"""What every window forecaster shares: pandas in and out, prediction, scoring, saving.

:class:`BaseForecaster` turns frames into series, cuts the windows to forecast from,
runs the network's recursive rollout and turns forecasts back into frames; subclasses
define the parameters and ``fit``, which must set ``fitted_`` to a
:class:`~xlstm_ts.estimators.ForecasterState`. Subclasses have the parameters
``horizon``, ``context_length``, ``id_col``, ``time_col``, ``target``, ``freq``,
``allow_missing``, ``past_covariates``, ``future_covariates`` and ``num_threads``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from xlstm_ts.data import (
    Panel,
    final_windows,
    forecasts_to_frame,
    frame_to_panel,
    future_covariate_values,
    magnitude_scale,
    same_freq,
    scaled,
    series_scales,
)
from xlstm_ts.metrics import mse
from xlstm_ts.nn import rollout

from .state import ForecasterState
from .validation import requested_levels

TRAINER_DEFAULTS: dict[str, Any] = {"gradient_clip_val": 1.0}
"""``lightning.Trainer`` arguments the estimators set unless ``trainer_kwargs`` says
otherwise (besides a progress bar only when standard error is a terminal)."""


def fit_seed(random_state: int | None) -> int:
    """The seed of a fit: ``random_state``, or a fresh one when it is ``None``."""
    if random_state is not None:
        return int(random_state)
    return int(np.random.SeedSequence().generate_state(1)[0] >> 1)


def _learned(name: str) -> property:
    """A learned attribute: the field ``name`` of the fitted state (``NotFittedError``,
    an ``AttributeError``, before ``fit``)."""
    return property(lambda self: getattr(self._state(), name))


class BaseForecaster(BaseEstimator):
    """Prediction, scoring and persistence of a forecaster whose ``fit`` sets ``fitted_``."""

    def _state(self) -> ForecasterState:
        try:
            return self.fitted_
        except AttributeError:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit(X) first"
            ) from None

    model_ = _learned("network")
    panel_ = _learned("panel")
    quantile_levels_ = _learned("quantile_levels")
    n_epochs_ = _learned("n_epochs")
    best_val_loss_ = _learned("best_val_loss")
    linear_path_ = _learned("linear_path")
    decision_ = _learned("decision")
    ridge_lambda_ = _learned("ridge_lambda")

    @property
    def freq_(self) -> str | int:
        return self._state().panel.freq

    # ------------------------------------------------------------------ training
    def _train_config(
        self, *, trainer_defaults: dict[str, Any] | None = None, **overrides: Any
    ) -> Any:
        """The Lightning run's settings from the estimator's parameters (``max_epochs``,
        ``early_stopping_patience``, ``random_state``, ``num_threads``, ``verbose``,
        ``trainer_kwargs``); ``trainer_defaults`` are Trainer arguments that the user's
        ``trainer_kwargs`` may override, ``overrides`` other fields of
        :class:`~xlstm_ts.training.TrainConfig`."""
        from xlstm_ts.training import TrainConfig

        trainer = {
            **TRAINER_DEFAULTS,
            "enable_progress_bar": sys.stderr.isatty(),
            **(trainer_defaults or {}),
            **(self.trainer_kwargs or {}),
        }
        patience = self.early_stopping_patience
        return TrainConfig(
            max_epochs=int(self.max_epochs),
            early_stopping_patience=None if patience is None else int(patience),
            accelerator=trainer.get("accelerator", "auto"),
            devices=trainer.get("devices", "auto"),
            deterministic=self.random_state is not None,
            num_threads=self.num_threads,
            verbose=self.verbose,
            trainer_kwargs=trainer,
            **overrides,
        )

    _RUNTIME_PARAMS = ("verbose", "num_threads", "trainer_kwargs")

    def _checkpoint_key(self, panel: Panel) -> str | None:
        """A fingerprint of the parameters and the series, stored beside the checkpoints of
        ``checkpoint_dir`` so that a folder is resumed only by the same run."""
        import hashlib
        import json

        from xlstm_ts.jsonable import jsonable

        params = {k: v for k, v in self.get_params().items() if k not in self._RUNTIME_PARAMS}
        digest = hashlib.sha256(json.dumps(jsonable(params), sort_keys=True, default=repr).encode())
        digest.update(repr((list(panel.ids), panel.freq, panel.layout)).encode())
        for values, covariates in zip(panel.values, panel.covariates, strict=True):
            digest.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
            digest.update(np.ascontiguousarray(covariates, dtype=np.float64).tobytes())
        return digest.hexdigest()

    # ------------------------------------------------------------------ series
    def _covariate_names(self) -> list[str]:
        """Covariate columns, the future-known ones last."""
        return [*self.past_covariates, *self.future_covariates]

    def to_panel(self, X: Any) -> Panel:
        """The series of ``X`` (a frame, a Series or a ``Panel``) as this model reads them,
        validated with its column roles and frequency rules."""
        return self._panel(X)

    def _panel(self, X: Any) -> Panel:
        if isinstance(X, Panel):
            n_cov = {c.shape[1] for c in X.covariates}
            if n_cov - {len(self._covariate_names())}:
                raise ValueError(
                    f"the panel has {sorted(n_cov)} covariates per series; this model uses "
                    f"{len(self._covariate_names())} ({self._covariate_names()})"
                )
            return X
        return frame_to_panel(
            X,
            id_col=self.id_col,
            time_col=self.time_col,
            target=self.target,
            freq=self.freq,
            allow_missing=self.allow_missing,
            covariates=self._covariate_names(),
        )

    # ------------------------------------------------------------------ predicting
    def _history(self, X: Any) -> Panel:
        """The series to forecast from: ``X``, or the training series."""
        state = self._state()
        if X is None:
            return state.panel
        panel = self._panel(X)
        if not same_freq(panel.freq, state.panel.freq):
            raise ValueError(
                f"X has frequency {panel.freq!r}, but the model was fitted on {state.panel.freq!r}"
            )
        return panel

    def _future(self, panel: Panel, X_future: pd.DataFrame | None) -> np.ndarray:
        """Future covariates over the horizon after each series' end (n, horizon, n_future)."""
        names = list(self.future_covariates)
        if not names:
            return np.zeros((len(panel.values), self.horizon, 0))
        if X_future is None:
            raise ValueError(
                f"this model uses future covariates {names}: pass their values for the "
                f"{self.horizon} steps after each series' end as X_future"
            )
        kw = dict(id_col=self.id_col, time_col=self.time_col)
        return np.stack(future_covariate_values(X_future, panel, names, self.horizon, **kw))

    def _rollout(self, contexts, covariates, future, h: int | None) -> np.ndarray:
        from xlstm_ts.training import torch_threads

        state = self._state()
        h = self.horizon if h is None else h
        with torch_threads(self.num_threads):
            return rollout(
                state.network,
                contexts,
                covariates,
                future,
                h,
                horizon=self.horizon,
                point_index=state.point_index,
            )

    def _forecast(
        self, X: Any, h: int | None, X_future: pd.DataFrame | None
    ) -> tuple[Panel, np.ndarray]:
        """Quantile forecasts (n_series, h, Q) after the end of ``X`` (or of the training data)."""
        panel = self._history(X)
        L = self.context_length
        # extreme magnitudes are read divided by a power of two (exact; see data.scaling)
        scales = series_scales([v[-L:] for v in panel.values])
        values = scaled(panel.values, scales)
        windows = final_windows(values, panel.ids, L, 0, panel.covariates)
        contexts, covariates, _, _ = windows.arrays()
        out = self._rollout_series(contexts, covariates, self._future(panel, X_future), h)
        return panel, out * scales[:, None, None]

    def _rollout_series(self, contexts, covariates, future, h: int | None) -> np.ndarray:
        """:meth:`_rollout` from the last windows of a panel's series, in its order."""
        return self._rollout(contexts, covariates, future, h)

    def predict_contexts(
        self,
        contexts: np.ndarray,
        h: int | None = None,
        quantiles: bool = False,
        covariates: np.ndarray | None = None,
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
        covariates : array of shape (n, context_length, n_covariates), optional
            The past covariates over each context, for a model that has them: with
            ``channel_mixing`` the other series first, in the order of
            :func:`~xlstm_ts.data.with_other_series`. Models with future covariates
            forecast with :meth:`predict` only.
        """
        state = self._state()
        n_cov = state.network_config.get("n_covariates", 0)
        if state.network_config.get("n_future", 0):
            raise ValueError(
                "predict_contexts takes past inputs only, but this model uses future "
                f"covariates {list(self.future_covariates)}; use predict(X, X_future=...)"
            )
        contexts = np.asarray(contexts, dtype=np.float64)
        if contexts.ndim != 2 or contexts.shape[1] != self.context_length:
            raise ValueError(
                f"contexts must have shape (n, {self.context_length}), got {contexts.shape}"
            )
        if covariates is None and n_cov:
            raise ValueError(
                f"this model reads {n_cov} covariate(s) beside each context; pass them as "
                f"covariates of shape (n, {self.context_length}, {n_cov})"
            )
        covariates = np.zeros((*contexts.shape, 0)) if covariates is None else covariates
        covariates = np.asarray(covariates, dtype=np.float32)
        if covariates.shape != (*contexts.shape, n_cov):
            raise ValueError(
                f"covariates must have shape {(*contexts.shape, n_cov)}, got {covariates.shape}"
            )
        scales = np.array([magnitude_scale(c) for c in contexts]).reshape(-1, 1)
        empty = np.zeros((len(contexts), self.horizon, 0), dtype=np.float32)
        out = self._rollout((contexts / scales).astype(np.float32), covariates, empty, h)
        out = out * scales[..., None]
        return out if quantiles else out[..., state.point_index]

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
        point = self._state().point_index
        return forecasts_to_frame(
            panel,
            forecasts[..., point : point + 1],
            [panel.target],
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
        trained = self._state().quantile_levels
        levels = trained if quantiles is None else requested_levels(quantiles, trained)
        unknown = [q for q in levels if q not in trained]
        if unknown:
            raise ValueError(f"quantiles {unknown} were not trained; available: {trained}")
        panel, forecasts = self._forecast(X, h, X_future)
        return forecasts_to_frame(
            panel,
            forecasts[..., [trained.index(q) for q in levels]],
            [f"q{q:g}" for q in levels],
            id_col=self.id_col,
            time_col=self.time_col,
        )

    def score(self, X: pd.DataFrame, y: None = None) -> float:
        """Negative mean squared error of the forecast of the last ``horizon`` steps of ``X``.

        The model forecasts from ``X`` without its last ``horizon`` steps (whose future
        covariates, if any, it is given); higher is better, as scikit-learn's model
        selection expects. Missing actual values are left out.
        """
        panel = self._history(X)
        L, H = self.context_length, self.horizon
        scales = series_scales([v[len(v) - L - H : len(v) - H] for v in panel.values])
        windows = final_windows(
            scaled(panel.values, scales),
            panel.ids,
            L,
            H,
            panel.covariates,
            len(self.future_covariates),
        )
        contexts, covariates, future, actual = windows.arrays()
        pred = self._rollout(contexts, covariates, future, None)[..., self._state().point_index]
        pred, actual = pred * scales[:, None], actual * scales[:, None]
        mask = ~np.isnan(actual)
        return -mse(actual[mask], pred[mask])

    # ------------------------------------------------------------------ persistence
    @staticmethod
    def _storage() -> Any:
        """The module that writes and reads this estimator's folder (``save_state`` and
        ``load_state``); subclasses with other fitted state name their own."""
        from . import persistence

        return persistence

    def save(self, path: str | Path) -> None:
        """Save to the folder ``path``: weights in safetensors, the rest in JSON.

        The write is atomic: the files go to a temporary sibling folder that then replaces
        ``path``, so an interrupted save leaves the previous model whole. ``path`` must be
        new, or hold nothing but a saved model.
        """
        state = self._state()
        self._storage().save_state(Path(path), type(self).__name__, self.get_params(), state)

    @classmethod
    def load(cls, path: str | Path) -> BaseForecaster:
        """Load a forecaster saved with :meth:`save`; no code in the files is run.

        Raises ``FileNotFoundError`` when there is no saved model at ``path``, and a
        ``ValueError`` (:class:`~xlstm_ts.estimators.persistence.CorruptModelError` for a
        damaged or altered folder) naming the file, key or tensor at fault.
        """
        from .persistence import CONFIG_FILE, check_params

        name, params, state = cls._storage().load_state(Path(path))
        if name != cls.__name__:
            raise ValueError(f"{path} holds a saved {name}, not a {cls.__name__}")
        check_params(params, str(Path(path) / CONFIG_FILE), cls().get_params())
        model = cls(**params)
        model._validate_params()  # a saved value that was altered is named here
        model.fitted_ = state
        return model
