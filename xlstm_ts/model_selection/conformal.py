"""Split-conformal prediction intervals per horizon step, calibrated on held-out windows."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ._frames import Roles, final_step, forecast_at, predict_with, time_axis


class ConformalForecaster(BaseEstimator):
    """A forecaster with split-conformal intervals around its median, one width per step.

    ``fit`` holds out the end of ``X``: the forecaster (a clone) is fitted on the rows
    up to the first of ``calibration_windows`` origins, ``step`` timestamps apart, whose
    ``horizon`` steps all lie in the held-out part. From each origin it forecasts (no
    refit), and for every horizon step ``s`` the absolute errors ``|y - median|`` of all
    windows and series give the radius ``r_s``: their ``⌈(n + 1)·coverage⌉``-th smallest
    of ``n``. The interval is ``median ± r_s``.

    For exchangeable errors the interval covers the actual value with probability at
    least ``coverage`` (split conformal prediction); errors of a time series are not
    exactly exchangeable, so the coverage is approximate: :func:`backtest` measures it.
    The model's own quantiles stay available beside it (:meth:`predict_quantiles`).

    Parameters
    ----------
    forecaster : estimator
        An :class:`~xlstm_ts.estimators.XLSTMForecaster` or a pipeline ending in one.
    coverage : float
        Nominal coverage of the intervals, in (0, 1).
    calibration_windows : int
        Origins of the held-out windows.
    step : int
        Timestamps between calibration origins.

    Attributes
    ----------
    forecaster_ : estimator
        The forecaster fitted on the rows before the calibration windows.
    radius_ : ndarray of shape (horizon,)
        Half-width of the interval at each horizon step (``inf`` when there are too few
        calibration errors for the coverage asked).
    n_calibration_ : ndarray of shape (horizon,)
        Calibration errors counted at each step.
    calibration_ : DataFrame
        The calibration forecasts, tidy, as :func:`backtest` gives them.
    history_ : DataFrame
        The frame given to ``fit`` (not a copy): forecasts without ``X`` start after its
        end, not after the rows ``forecaster_`` was fitted on.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "forecaster": [HasMethods(["fit", "predict"])],
        "coverage": [Interval(Real, 0, 1, closed="neither")],
        "calibration_windows": [Interval(Integral, 1, None, closed="left")],
        "step": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        forecaster: Any = None,
        *,
        coverage: float = 0.8,
        calibration_windows: int = 20,
        step: int = 1,
    ) -> None:
        self.forecaster = forecaster
        self.coverage = coverage
        self.calibration_windows = calibration_windows
        self.step = step

    def fit(self, X: pd.DataFrame, y: None = None) -> ConformalForecaster:
        """Fit the forecaster on ``X`` less its held-out end, and calibrate on that end.

        Returns
        -------
        self
        """
        self._validate_params()
        roles = Roles.of(self.forecaster)
        h, W = roles.horizon, self.calibration_windows
        times, grid = time_axis(X, roles)
        first = len(grid) - 1 - h - (W - 1) * self.step
        if first < 1:
            raise ValueError(
                f"X has {len(grid)} timestamps: too few to hold out calibration_windows={W} "
                f"windows of horizon={h}, step={self.step} apart, after a training part"
            )
        self.forecaster_ = clone(self.forecaster).fit(X[times <= grid[first]])
        frames = []
        for k in range(W):
            position = first + k * self.step
            frame = forecast_at(self.forecaster_, X, times, grid, position, h)
            frame.insert(0, "origin", grid[position])
            frames.append(frame)
        calibration = pd.concat(frames, ignore_index=True)
        known = calibration[calibration["y"].notna()]
        errors = (known["y"] - known["q0.5"]).abs()
        radius, counts = np.full(h, np.inf), np.zeros(h, dtype=int)
        for s, e in errors.groupby(known["step"]):
            e = np.sort(e.to_numpy())
            # the ⌈(n+1)·coverage⌉-th smallest; the tolerance keeps 19·0.8 from rounding up
            rank = math.ceil((len(e) + 1) * self.coverage - 1e-9)
            counts[int(s) - 1] = len(e)
            if rank <= len(e):
                radius[int(s) - 1] = e[rank - 1]
        self.radius_, self.n_calibration_, self.calibration_ = radius, counts, calibration
        self.history_ = X
        return self

    def score(self, X: pd.DataFrame, y: None = None) -> float:
        """Negative MSE of the forecast of the last ``horizon`` timestamps of ``X`` (as
        ``XLSTMForecaster.score``; the default score of a search)."""
        from .scoring import get_forecast_scorer

        return get_forecast_scorer("neg_mean_squared_error")(self, X)

    # ------------------------------------------------------------------ predicting
    def predict(
        self, X: pd.DataFrame | None = None, h: int | None = None, X_future: Any = None
    ) -> pd.DataFrame:
        """The forecaster's point forecast (see ``XLSTMForecaster.predict``); without ``X``
        after the end of the data given to ``fit``."""
        check_is_fitted(self, "radius_")
        history = self.history_ if X is None else X
        return predict_with(self.forecaster_, "predict", history, self._future(X_future), h)

    def predict_quantiles(
        self,
        X: pd.DataFrame | None = None,
        h: int | None = None,
        quantiles: Any = None,
        X_future: Any = None,
    ) -> pd.DataFrame:
        """The forecaster's own quantiles (see ``XLSTMForecaster.predict_quantiles``);
        without ``X`` after the end of the data given to ``fit``."""
        check_is_fitted(self, "radius_")
        history, future = self.history_ if X is None else X, self._future(X_future)
        return predict_with(
            self.forecaster_, "predict_quantiles", history, future, h, quantiles=quantiles
        )

    def _future(self, X_future: Any) -> Any:
        """``X_future`` with the columns a pipeline's first step was fitted with.

        The future rows pass through the pipeline's transformers, which refuse a frame
        without a column they were fitted with. The target is unknown there: its columns
        are added as missing values. Other missing columns are an error that names them.
        """
        expected = getattr(self.forecaster_, "feature_names_in_", None)
        if X_future is None or expected is None or not hasattr(self.forecaster_, "steps"):
            return X_future  # a forecaster on its own reads its covariates by name
        missing = [c for c in expected if c not in X_future.columns]
        if not missing:
            return X_future
        panel = final_step(self).panel_
        targets = [panel.target] if panel.layout == "long" else list(panel.ids)
        other = [c for c in missing if c not in targets]
        if other:
            raise ValueError(
                f"X_future lacks the columns {other} that the pipeline was fitted with: pass "
                f"X_future with every column of the training frame ({list(expected)}), the "
                f"target {targets} as NaN or left out"
            )
        out = X_future.copy()
        for column in missing:  # in the fitted order: transformers may read by position
            out[column] = np.nan
        return out[[*expected, *(c for c in X_future.columns if c not in set(expected))]]

    def predict_interval(self, X: pd.DataFrame | None = None, X_future: Any = None) -> pd.DataFrame:
        """Conformal intervals over the ``horizon`` steps after ``X`` (or the training data).

        ``X_future`` holds the future covariates' rows when the forecaster has any; given
        without ``X``, it may leave out the target (a pipeline gets it as missing values).

        Returns
        -------
        DataFrame
            Long input: columns ``id_col``, ``time_col``, ``lower``, ``upper``. Wide
            input: the future timestamps as index, columns ``(series, "lower")`` and
            ``(series, "upper")``.
        """
        point = self.predict(X, X_future=X_future)
        roles = Roles.of(self)
        if roles.id_col in point.columns:
            target = final_step(self).panel_.target
            step = point.groupby(roles.id_col, sort=False).cumcount().to_numpy()
            r = self.radius_[step]
            out = point[[roles.id_col, roles.time_col]].copy()
            out["lower"], out["upper"] = point[target] - r, point[target] + r
            return out
        r = self.radius_[: len(point), None]
        lower, upper = point - r, point + r
        out = pd.concat({"lower": lower, "upper": upper}, axis=1).swaplevel(axis=1)
        return out[pd.MultiIndex.from_product([point.columns, ["lower", "upper"]])]
