"""Frames cut at a forecast origin, forecasts from them, and their actual values.

Shared by the scorers, the backtest and the conformal intervals. Time is the frame's
time axis (the ``time_col`` of a long frame, the index of a wide one); an origin is a
timestamp: the history is every row up to it, the future the next ``h`` timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from xlstm_ts.data import forecast_to_long


def final_step(estimator: Any) -> Any:
    """The forecaster inside a pipeline or a wrapper (its fitted ``forecaster_`` if there
    is one, else ``forecaster``), or ``estimator`` itself."""
    while True:
        if hasattr(estimator, "steps"):
            estimator = estimator.steps[-1][1]
        elif hasattr(estimator, "forecaster") and not hasattr(estimator, "horizon"):
            estimator = getattr(estimator, "forecaster_", estimator.forecaster)
        else:
            return estimator


@dataclass(frozen=True)
class Roles:
    """The column roles of a forecaster: where ids, times and targets are."""

    id_col: str
    time_col: str
    target: Any
    horizon: int
    future_covariates: tuple[str, ...]

    @classmethod
    def of(cls, estimator: Any) -> Roles:
        f = final_step(estimator)
        missing = [a for a in ("horizon", "id_col", "time_col", "target") if not hasattr(f, a)]
        if missing:
            raise TypeError(
                f"{type(f).__name__} is not a forecaster of xlstm_ts: it lacks {missing} "
                "(expected an XLSTMForecaster, or a Pipeline or wrapper ending in one)"
            )
        future = tuple(getattr(f, "future_covariates", ()))  # none for a stateful forecaster
        return cls(f.id_col, f.time_col, f.target, f.horizon, future)

    def is_long(self, X: pd.DataFrame) -> bool:
        return self.id_col in X.columns or self.time_col in X.columns

    def times(self, X: Any) -> np.ndarray:
        """The timestamp of every row of ``X``."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        if self.is_long(X):
            if self.time_col not in X.columns:
                raise ValueError(f"long frame has no time column {self.time_col!r}")
            return X[self.time_col].to_numpy()
        return X.index.to_numpy()

    def actuals(self, future: pd.DataFrame, ids: list[Any], target: str) -> pd.DataFrame:
        """Actual values of the future rows as a tidy frame ``(id, time, y)``."""
        if self.is_long(future):
            missing = [c for c in (self.id_col, self.time_col, target) if c not in future.columns]
            if missing:
                raise ValueError(
                    f"the frame has no column {missing} to compare the forecasts with; a "
                    "pipeline must keep the target's name (verbose_feature_names_out=False)"
                )
            out = future[[self.id_col, self.time_col, target]]
            return out.rename(columns={target: "y"})
        missing = [c for c in ids if c not in future.columns]
        if missing:
            raise ValueError(
                f"the frame has no column for series {missing} to compare the forecasts "
                "with; a pipeline must keep the target's name (verbose_feature_names_out=False)"
            )
        return _columns_to_long(future[ids], self.id_col, self.time_col, "y")


def _columns_to_long(wide: pd.DataFrame, id_col: str, time_col: str, name: str) -> pd.DataFrame:
    """One column per series to ``(id, time, name)`` rows, series after series (a series
    may be called like any of the new columns, which ``melt`` refuses)."""
    parts = [
        pd.DataFrame({id_col: [k] * len(wide), time_col: wide.index, name: wide[k].to_numpy()})
        for k in wide.columns
    ]
    return pd.concat(parts, ignore_index=True)


def time_axis(X: pd.DataFrame, roles: Roles) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps of the rows and the sorted distinct timestamps."""
    times = roles.times(X)
    return times, np.unique(times)


def last_step(estimator: Any) -> Any:
    """The estimator that forecasts: a pipeline's last step (a forecaster or a wrapper,
    which handles its own inner forecaster), or ``estimator`` itself."""
    return estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator


def transform(estimator: Any, X: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    """The last step and ``X`` through the steps before it (for a pipeline)."""
    if not hasattr(estimator, "steps") or len(estimator.steps) == 1:
        return last_step(estimator), X
    Xt = estimator[:-1].transform(X)
    if not isinstance(Xt, pd.DataFrame) or len(Xt) != len(X):
        raise ValueError(
            "the pipeline's transformers must return a DataFrame with the rows of X (call "
            'set_output(transform="pandas") on the pipeline); got '
            f"{type(Xt).__name__} with {len(Xt)} rows for {len(X)}"
        )
    return estimator[-1], Xt


def predict_with(
    estimator: Any,
    method: str,
    history: pd.DataFrame | None,
    future: pd.DataFrame | None,
    h: int | None,
    **kwargs: Any,
) -> pd.DataFrame:
    """``method`` (``"predict"`` or ``"predict_quantiles"``) of the forecaster inside
    ``estimator`` after ``history`` (``None``: after its training data).

    A pipeline's transformers are applied to the history and the future rows together
    (fitted transformers see nothing beyond what they are given); the future rows give
    the forecaster its future covariates, if it has any.
    """
    roles = Roles.of(estimator)
    needs_future = bool(roles.future_covariates) and future is not None
    if history is None:
        model, Xt = last_step(estimator), None
        Xt_future = transform(estimator, future)[1] if needs_future else None
    else:
        rows = pd.concat([history, future]) if needs_future else history
        model, Xt = transform(estimator, rows)
        Xt_future = Xt.iloc[len(history) :] if needs_future else None
        Xt = Xt.iloc[: len(history)]
    if roles.future_covariates:  # only a forecaster with future covariates takes X_future
        kwargs["X_future"] = Xt_future
    return getattr(model, method)(Xt, h=h, **kwargs)


def forecast(
    estimator: Any,
    X: pd.DataFrame | None = None,
    X_future: pd.DataFrame | None = None,
    h: int | None = None,
    quantiles: bool = False,
) -> pd.DataFrame:
    """Forecast with a fitted forecaster or pipeline, its future covariates included.

    ``Pipeline.predict(X)`` passes ``X`` through the transformers and forecasts after its
    end, but hands ``X_future`` to the forecaster untransformed. This function
    transforms the history ``X`` and the future rows ``X_future`` (raw, as the pipeline's
    first step takes them: the target may be missing there) together and passes both on.

    Parameters
    ----------
    estimator : forecaster or Pipeline
        Fitted.
    X : DataFrame, optional
        History to forecast from; the training data when ``None``.
    X_future : DataFrame, optional
        Rows after each series' end with the future covariates.
    h : int, optional
        Steps to forecast (the forecaster's ``horizon`` by default).
    quantiles : bool
        Return all quantile levels (``predict_quantiles``) instead of the median.
    """
    method = "predict_quantiles" if quantiles else "predict"
    return predict_with(estimator, method, X, X_future, h)


def quantile_forecast(
    estimator: Any, history: pd.DataFrame, future: pd.DataFrame | None, h: int
) -> pd.DataFrame:
    """Tidy quantile forecasts ``(id, time, q…)`` of ``estimator`` after ``history``."""
    roles = Roles.of(estimator)
    if hasattr(estimator, "predict_interval"):  # a wrapper: it transforms by itself
        return tidy(estimator.predict_quantiles(history, h=h, X_future=future), roles)
    return tidy(predict_with(estimator, "predict_quantiles", history, future, h), roles)


def tidy(pred: pd.DataFrame, roles: Roles) -> pd.DataFrame:
    """A forecast frame (:mod:`xlstm_ts.data.forecast_frame`), or an interval frame, as
    a long frame ``(id, time, columns…)`` without the point column (``q0.5`` is the
    median)."""
    if isinstance(pred.columns, pd.MultiIndex):  # wide intervals: (series, "lower"), …
        out = pred.stack(level=0, future_stack=True)
        out.index.names = [roles.time_col, roles.id_col]
        out = out.reset_index()
        out.columns.name = None
        return out[[roles.id_col, roles.time_col, *pred.columns.get_level_values(1).unique()]]
    point = roles.target if isinstance(roles.target, str) else "y"
    return forecast_to_long(pred, id_col=roles.id_col, time_col=roles.time_col, point=point)


def cut(X: pd.DataFrame, times: np.ndarray, origin: Any, end: Any) -> tuple[pd.DataFrame, ...]:
    """Rows up to ``origin`` and rows in ``(origin, end]``."""
    return X[times <= origin], X[(times > origin) & (times <= end)]


def series_target(estimator: Any, X: pd.DataFrame, roles: Roles) -> tuple[list[Any], str]:
    """Ids of the series forecast and the target column of long frames."""
    model = final_step(estimator)
    panel = model.panel_
    return list(panel.ids), panel.target if roles.is_long(X) else "y"


def naive_scales(history: pd.DataFrame, ids: list[Any], target: str, roles: Roles, season: int):
    """Per series: the in-sample MAE of the seasonal naive forecast on ``history`` (the
    denominator of MASE), NaN where it is 0 or undefined."""
    if roles.is_long(history):
        groups = history.sort_values(roles.time_col).groupby(roles.id_col, sort=False)[target]
        values = {k: g.to_numpy(dtype=float) for k, g in groups}
    else:
        values = {k: history.sort_index()[k].to_numpy(dtype=float) for k in ids}
    out = {}
    for k, v in values.items():
        diff = np.abs(v[season:] - v[:-season]) if len(v) > season else np.array([])
        scale = np.nanmean(diff) if np.isfinite(diff).any() else np.nan
        out[k] = scale if scale > 0 else np.nan
    return out


def forecast_at(
    estimator: Any,
    X: pd.DataFrame,
    times: np.ndarray,
    grid: np.ndarray,
    position: int,
    h: int,
    season: int = 1,
) -> pd.DataFrame:
    """Tidy forecasts from the origin ``grid[position]`` with the actual values.

    Columns: ``id``, ``time``, ``step`` (1 … h), the quantile columns (``q0.5`` is the
    point forecast), for a wrapper with intervals ``lower`` and ``upper``, ``y`` (the
    actual value from ``X``, NaN where ``X`` has none) and ``scale`` (the series'
    in-sample seasonal naive MAE up to the origin, for MASE).
    """
    roles = Roles.of(estimator)
    end = grid[min(position + h, len(grid) - 1)]
    history, future = cut(X, times, grid[position], end)
    ids, target = series_target(estimator, history, roles)
    # the forecaster gets the future rows for their covariates only: their target values
    # are hidden, so that no transformer can pass them on
    hidden = [c for c in ([target] if roles.is_long(X) else ids) if c in future.columns]
    blind = future.copy()
    blind[hidden] = np.nan
    pred = quantile_forecast(estimator, history, blind, h)
    if hasattr(estimator, "predict_interval"):
        bounds = tidy(estimator.predict_interval(history, X_future=blind), roles)
        pred = pred.merge(bounds, on=[roles.id_col, roles.time_col], how="left")
    actual = roles.actuals(future, ids, target)
    out = pred.merge(actual, on=[roles.id_col, roles.time_col], how="left")
    # series after series, as the long frames are; stable keeps the series' order
    out = out.iloc[np.argsort(pd.factorize(out[roles.id_col])[0], kind="stable")]
    out = out.reset_index(drop=True)
    out.insert(2, "step", out.groupby(roles.id_col, sort=False).cumcount() + 1)
    out["scale"] = out[roles.id_col].map(naive_scales(history, ids, target, roles, season))
    return out
