"""What every forecaster shares: pandas in and out, the fitted state, training, saving.

:class:`BaseForecaster` turns frames into series and forecasts back into frames, reads
the learned attributes from ``fitted_``, builds the Lightning run's settings and saves
and loads. Subclasses define the parameters, ``fit`` (which sets ``fitted_`` to a
:class:`~xlstm_ts.estimators.state.BaseForecasterState`), :meth:`~BaseForecaster._forecast`
and :meth:`~BaseForecaster._storage`. They have the parameters ``horizon``, ``id_col``,
``time_col``, ``target``, ``freq``, ``allow_missing``, ``max_epochs``,
``early_stopping_patience``, ``random_state``, ``num_threads``, ``verbose`` and
``trainer_kwargs``. The window forecasters' own parts are
:class:`~xlstm_ts.estimators.window_base.BaseWindowForecaster`.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from xlstm_ts.data import Panel, forecast_columns, forecasts_to_frame, frame_to_panel, same_freq

from .state import BaseForecasterState
from .validation import requested_levels

TRAINER_DEFAULTS: dict[str, Any] = {"gradient_clip_val": 1.0}
"""``lightning.Trainer`` arguments the estimators set unless ``trainer_kwargs`` says
otherwise (besides a progress bar only when standard error is a terminal)."""


def fit_seed(random_state: int | None) -> int:
    """The seed of a fit: ``random_state``, or a fresh one when it is ``None``."""
    if random_state is not None:
        return int(random_state)
    return int(np.random.SeedSequence().generate_state(1)[0] >> 1)


def learned(name: str) -> property:
    """A learned attribute: the field ``name`` of the fitted state (``NotFittedError``,
    an ``AttributeError``, before ``fit``)."""
    return property(lambda self: getattr(self._state(), name))


class BaseForecaster(BaseEstimator, ABC):
    """Frames in and out, learned attributes and persistence of a forecaster whose
    ``fit`` sets ``fitted_``."""

    def _state(self) -> BaseForecasterState:
        try:
            return self.fitted_
        except AttributeError:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit(X) first"
            ) from None

    model_ = learned("network")
    panel_ = learned("panel")
    quantile_levels_ = learned("quantile_levels")
    n_epochs_ = learned("n_epochs")
    best_val_loss_ = learned("best_val_loss")

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

    # ------------------------------------------------------------------ series
    def to_panel(self, X: Any) -> Panel:
        """The series of ``X`` (a frame, a Series or a ``Panel``) as this model reads them,
        validated with its column roles and frequency rules."""
        return self._panel(X)

    def _panel(self, X: Any) -> Panel:
        """The series of ``X``: their target only (see :meth:`_read_panel`)."""
        return self._read_panel(X, ())

    def _read_panel(self, X: Any, covariates: Sequence[str]) -> Panel:
        """The series of ``X`` with the covariate columns ``covariates``."""
        if isinstance(X, Panel):
            n_cov = {c.shape[1] for c in X.covariates}
            if n_cov - {len(covariates)}:
                raise ValueError(
                    f"the panel has {sorted(n_cov)} covariates per series; this model uses "
                    f"{len(covariates)} ({list(covariates)})"
                )
            return X
        return frame_to_panel(
            X,
            id_col=self.id_col,
            time_col=self.time_col,
            target=self.target,
            freq=self.freq,
            allow_missing=self.allow_missing,
            covariates=list(covariates),
        )

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

    # ------------------------------------------------------------------ predicting
    @abstractmethod
    def _forecast(self, X: Any, h: int | None) -> tuple[Panel, np.ndarray]:
        """The series forecast from (``X``, or the training series when ``None``) and
        their quantile forecasts (n_series, h, Q) on the data's scale; ``h`` defaults to
        ``horizon``."""

    def _point_frame(self, panel: Panel, forecasts: np.ndarray) -> pd.DataFrame:
        """The point forecasts of ``forecasts`` as the forecast frame (``predict``)."""
        return self._quantile_frame(panel, forecasts, [])

    def _levels(self, quantiles: Sequence[float] | None) -> list[float]:
        """The levels asked of :meth:`predict_quantiles`, checked against those trained."""
        trained = self._state().quantile_levels
        levels = trained if quantiles is None else requested_levels(quantiles, trained)
        unknown = [q for q in levels if q not in trained]
        if unknown:
            raise ValueError(f"quantiles {unknown} were not trained; available: {trained}")
        return levels

    def _quantile_frame(
        self, panel: Panel, forecasts: np.ndarray, levels: list[float]
    ) -> pd.DataFrame:
        """The forecast frame of ``forecasts`` (n_series, h, Q): the point forecast (the
        median), then the quantiles ``levels`` (see :mod:`xlstm_ts.data.forecast_frame`)."""
        state = self._state()
        picked = [state.point_index, *(state.quantile_levels.index(q) for q in levels)]
        columns = forecast_columns(panel.target, levels)
        return self._build_frame(panel, forecasts[..., picked], columns)

    def _build_frame(self, panel: Panel, values: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """:func:`~xlstm_ts.data.forecasts_to_frame` with this model's column names."""
        return forecasts_to_frame(
            panel, values, columns, id_col=self.id_col, time_col=self.time_col
        )

    def predict(self, X: pd.DataFrame | None = None, h: int | None = None) -> pd.DataFrame:
        """Point forecasts (the median) with real future timestamps.

        Parameters
        ----------
        X : DataFrame, optional
            History to forecast from (same shape and frequency as in ``fit``); ``None``
            forecasts after the end of the training data. The model is not refitted.
        h : int, optional
            Steps to forecast; defaults to ``horizon``. Beyond ``horizon`` the forecast
            continues recursively from its own median.

        Returns
        -------
        DataFrame
            The point columns of the forecast frame (:mod:`xlstm_ts.data.forecast_frame`).
            Long input: columns ``id_col``, ``time_col`` and the target. Wide input: the
            future timestamps as index, one column per series.
        """
        return self._point_frame(*self._forecast(X, h))

    def predict_quantiles(
        self,
        X: pd.DataFrame | None = None,
        h: int | None = None,
        quantiles: Sequence[float] | None = None,
    ) -> pd.DataFrame:
        """The forecast frame: the point forecast (the median) and one column per quantile.

        ``quantiles`` must be among the levels trained (``quantile_levels_``); all of them
        by default. Long input gives the columns ``id_col``, ``time_col``, the target (the
        median), ``q0.1``, ``q0.5``, …; wide input the future timestamps as index and,
        per series, a column named as the series (the median), ``<series>_q0.1``, … (see
        :mod:`xlstm_ts.data.forecast_frame`). ``X`` and ``h`` as in :meth:`predict`.
        """
        levels = self._levels(quantiles)
        return self._quantile_frame(*self._forecast(X, h), levels)

    # ------------------------------------------------------------------ persistence
    @staticmethod
    @abstractmethod
    def _storage() -> Any:
        """The module that writes and reads this estimator's folder (``save_state`` and
        ``load_state``)."""

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
