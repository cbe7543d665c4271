"""What every window forecaster adds to :class:`~xlstm_ts.estimators.base.BaseForecaster`:
covariates, forecasts from the last ``context_length`` steps, scoring, the checkpoint key.

:class:`BaseWindowForecaster` cuts the windows to forecast from, runs the network's
recursive rollout and reads the future covariates; subclasses define the parameters and
``fit``, which must set ``fitted_`` to a :class:`~xlstm_ts.estimators.ForecasterState`.
Besides those of :class:`~xlstm_ts.estimators.base.BaseForecaster`, they have the
parameters ``context_length``, ``past_covariates`` and ``future_covariates``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from xlstm_ts.data import (
    Panel,
    final_windows,
    future_covariate_values,
    future_index,
    magnitude_scale,
    scaled,
    unit_scale,
)
from xlstm_ts.data.calendar import (
    calendar_names,
    calendar_values,
    check_calendar_features,
    holiday_dates,
    series_times,
)
from xlstm_ts.data.static import StaticEncoding, static_table
from xlstm_ts.metrics import mse
from xlstm_ts.nn import rollout

from .base import BaseForecaster, learned


class BaseWindowForecaster(BaseForecaster):
    """Forecasts from context windows, covariates, scoring and the checkpoint key of a
    forecaster whose ``fit`` sets ``fitted_`` to a
    :class:`~xlstm_ts.estimators.ForecasterState`."""

    linear_path_ = learned("linear_path")
    decision_ = learned("decision")
    ridge_lambda_ = learned("ridge_lambda")

    # ------------------------------------------------------------------ training
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

    def _panel(self, X: Any, static: StaticEncoding | None = None) -> Panel:
        """The series of ``X`` with their covariates, the generated ones last (see
        :meth:`_with_known_columns`); ``static``: the static covariates' encoding (default:
        the fitted one)."""
        panel = self._read_panel(X, self._covariate_names())
        return self._with_known_columns(panel, X, static)

    # ------------------------------------------------------------------ generated covariates
    def _static_encoding(self) -> StaticEncoding | None:
        fitted = self._state().static
        return None if fitted is None else StaticEncoding.from_dict(fitted)

    def _calendar(self) -> tuple[list[str], pd.DatetimeIndex | None]:
        features = check_calendar_features(getattr(self, "calendar_features", ()))
        holidays = getattr(self, "holidays", None)
        return features, None if holidays is None else holiday_dates(holidays)

    def _known_names(self, static: StaticEncoding | None = None) -> list[str]:
        """Names of the covariates the model builds itself, known at every step: the
        static covariates' columns, then the calendar's."""
        if static is None and getattr(self, "static_covariates", ()):
            static = self._static_encoding()
        features, holidays = self._calendar()
        return [*(static.names if static else []), *calendar_names(features, holidays is not None)]

    def _n_future(self) -> int:
        """Covariates known over the horizon: the user's future covariates, then the
        generated ones."""
        return int(self._state().network_config.get("n_future", 0))

    def _with_known_columns(self, panel: Panel, X: Any, static: StaticEncoding | None) -> Panel:
        """``panel`` with the static and calendar columns after its covariates."""
        statics = list(getattr(self, "static_covariates", ()))
        features, holidays = self._calendar()
        if not statics and not features and holidays is None:
            return panel
        if statics:
            if panel.layout != "long" or isinstance(X, Panel):
                raise ValueError(
                    f"static_covariates {statics} are read from a long frame (id, time, "
                    "target and the static columns, one value per series)"
                )
            table = static_table(X, self.id_col, statics).loc[panel.ids]
            if static is None:  # the fitted categories; before fit (to_panel), X's own
                fitted = "fitted_" in self.__dict__
                static = self._static_encoding() if fitted else StaticEncoding.learn(table)
            static_values = static.values(table)
        covariates = []
        for k, (values, cov) in enumerate(zip(panel.values, panel.covariates, strict=True)):
            parts = [cov]
            if statics:
                parts.append(np.repeat(static_values[k : k + 1], len(values), axis=0))
            if features or holidays is not None:
                times = series_times(panel.last_times[k], panel.freq, len(values))
                parts.append(calendar_values(times, features, holidays))
            covariates.append(np.concatenate(parts, axis=1))
        return replace(panel, covariates=covariates)

    def _known_future(self, panel: Panel, h: int) -> np.ndarray:
        """The generated covariates over the ``h`` steps after each series' end (n, h,
        n_generated): the static columns repeated, the calendar at the future timestamps."""
        statics = getattr(self, "static_covariates", ())
        n_static = len(self._static_encoding().names) if statics else 0
        n_known = len(self._known_names())
        features, holidays = self._calendar()
        out = []
        for k, cov in enumerate(panel.covariates):
            start = cov.shape[1] - n_known  # the generated columns come last
            parts = [np.repeat(cov[-1:, start : start + n_static], h, axis=0)]
            if features or holidays is not None:
                times = future_index(panel.last_times[k], panel.freq, h)
                parts.append(calendar_values(times, features, holidays))
            out.append(np.concatenate(parts, axis=1))
        return np.stack(out) if out else np.zeros((0, h, 0))

    # ------------------------------------------------------------------ predicting
    def _future(
        self, panel: Panel, X_future: pd.DataFrame | None, h: int | None = None
    ) -> np.ndarray:
        """Future covariates after each series' end (n, steps, n_future): over the
        horizon, or, when only generated columns (static, calendar) are known ahead, over
        ``h`` rounded up to whole horizons (a forecast beyond the horizon reads them)."""
        names = list(self.future_covariates)
        if not names:
            h = self.horizon if h is None else h
            return self._known_future(panel, self.horizon * math.ceil(h / self.horizon))
        known = self._known_future(panel, self.horizon)
        if X_future is None:
            raise ValueError(
                f"this model uses future covariates {names}: pass their values for the "
                f"{self.horizon} steps after each series' end as X_future"
            )
        kw = dict(id_col=self.id_col, time_col=self.time_col)
        given = np.stack(future_covariate_values(X_future, panel, names, self.horizon, **kw))
        return np.concatenate([given, known], axis=2)

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
        self, X: Any, h: int | None, X_future: pd.DataFrame | None = None
    ) -> tuple[Panel, np.ndarray]:
        """Quantile forecasts (n_series, h, Q) after the end of ``X`` (or of the training data)."""
        panel = self._history(X)
        units = self._units(panel)
        windows = final_windows(scaled(panel.values, units), panel.ids, self.context_length, 0,
                                panel.covariates)  # fmt: skip
        contexts, covariates, _, _ = windows.arrays()
        future = self._future(panel, X_future, h)
        out = self._rollout_series(contexts, covariates, future, h, units)
        return panel, out * units[:, None, None]

    def _units(self, panel: Panel) -> np.ndarray:
        """Each series' unit: the training series' own, and for a series ``fit`` did not
        see, :func:`~xlstm_ts.data.unit_scale` of the history given."""
        state = self._state()
        known = dict(zip(state.panel.ids, state.units, strict=True))
        return np.array([
            _within_range(known[k] if k in known else unit_scale(v), v)
            for k, v in zip(panel.ids, panel.values, strict=True)
        ])  # fmt: skip

    def _rollout_series(
        self, contexts, covariates, future, h: int | None, units: np.ndarray
    ) -> np.ndarray:
        """:meth:`_rollout` from the last windows of a panel's series, in its order (each
        divided by its unit, ``units``)."""
        return self._rollout(contexts, covariates, future, h)

    def predict_contexts(
        self,
        contexts: np.ndarray,
        h: int | None = None,
        quantiles: bool = False,
        covariates: np.ndarray | None = None,
        series: Any = None,
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
        series : hashable, optional
            The training series the contexts come from: they are read in its unit.
            ``None``: the unit of the one training series, or, for a model fitted on
            several, each context's own (:func:`~xlstm_ts.data.unit_scale`).
        """
        state = self._state()
        n_cov = state.network_config.get("n_covariates", 0)
        if state.network_config.get("n_future", 0):
            raise ValueError(
                "predict_contexts takes past inputs only, but this model uses future "
                f"covariates {[*self.future_covariates, *self._known_names()]}; use "
                "predict(X, X_future=...)"
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
        scales = self._context_units(contexts, series).reshape(-1, 1)
        empty = np.zeros((len(contexts), self.horizon, 0), dtype=np.float32)
        out = self._rollout((contexts / scales).astype(np.float32), covariates, empty, h)
        out = out * scales[..., None]
        return out if quantiles else out[..., state.point_index]

    def _context_units(self, contexts: np.ndarray, series: Any) -> np.ndarray:
        """The unit of each context of :meth:`predict_contexts`."""
        state = self._state()
        ids, units = list(state.panel.ids), state.units
        if series is not None:
            if series not in ids:
                raise ValueError(f"series={series!r} is not a training series; known: {ids[:10]}")
            unit = units[ids.index(series)]
        elif len(units) == 1:
            unit = units[0]
        else:
            return np.array([unit_scale(c) for c in contexts])
        return np.array([_within_range(unit, c) for c in contexts])

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
            continues recursively from its own median; with covariates only when all of them
            are generated (static covariates, calendar features, holidays), which are
            known at every future step.
        X_future : DataFrame, optional
            Values of the ``future_covariates`` over the ``horizon`` steps after each
            series' end, shaped like ``X`` (long: id, time and covariate columns; wide:
            future timestamps as index). Needed only when the model has future covariates.

        Returns
        -------
        DataFrame
            The point columns of the forecast frame (:mod:`xlstm_ts.data.forecast_frame`).
            Long input: columns ``id_col``, ``time_col`` and the target. Wide input: the
            future timestamps as index, one column per series.
        """
        return self._point_frame(*self._forecast(X, h, X_future))

    def predict_quantiles(
        self,
        X: pd.DataFrame | None = None,
        h: int | None = None,
        quantiles: Sequence[float] | None = None,
        X_future: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The forecast frame: the point forecast (the median) and one column per quantile.

        ``quantiles`` must be among the levels trained (``quantile_levels_``); all of them
        by default. Long input gives the columns ``id_col``, ``time_col``, the target (the
        median), ``q0.1``, ``q0.5``, …; wide input the future timestamps as index and,
        per series, a column named as the series (the median), ``<series>_q0.1``, … (see
        :mod:`xlstm_ts.data.forecast_frame`). ``X``, ``h`` and ``X_future`` as in
        :meth:`predict`.
        """
        levels = self._levels(quantiles)
        return self._quantile_frame(*self._forecast(X, h, X_future), levels)

    def score(self, X: pd.DataFrame, y: None = None) -> float:
        """Negative mean squared error of the forecast of the last ``horizon`` steps of ``X``.

        The model forecasts from ``X`` without its last ``horizon`` steps (whose future
        covariates, if any, it is given); higher is better, as scikit-learn's model
        selection expects. Missing actual values are left out.
        """
        panel = self._history(X)
        L, H = self.context_length, self.horizon
        scales = self._units(panel)
        windows = final_windows(
            scaled(panel.values, scales),
            panel.ids,
            L,
            H,
            panel.covariates,
            self._n_future(),
        )
        contexts, covariates, future, actual = windows.arrays()
        pred = self._rollout(contexts, covariates, future, None)[..., self._state().point_index]
        pred, actual = pred * scales[:, None], actual * scales[:, None]
        mask = ~np.isnan(actual)
        return -mse(actual[mask], pred[mask])

    # ------------------------------------------------------------------ persistence
    @staticmethod
    def _storage() -> Any:
        from . import persistence

        return persistence


def _within_range(unit: float, values: np.ndarray) -> float:
    """``unit``, times the power of two that brings ``values / unit`` within the range the
    network reads (1 unless the history lies many orders of magnitude from the series'
    training part; see :func:`~xlstm_ts.data.magnitude_scale`)."""
    return unit * magnitude_scale(np.asarray(values, dtype=np.float64) / unit)
