"""Exponential smoothing (ETS) fitted once and forecasting from many origins."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError


class ETSOrigins:
    """Additive exponential smoothing fitted once, then forecasting from many origins.

    ``fit`` estimates the model (statsmodels ``ETSModel``, maximum likelihood) on a
    training series. ``forecast`` runs the fitted model's filter once over a longer
    series with the same parameters and initial states, and turns the state after each
    origin into its multi-step forecast in closed form:
    ``ŷ_{t+h} = ℓ_t + (φ + … + φ^h)·b_t + s_{t+h−m⌈h/m⌉}``. No refit per origin, and
    the forecasts equal statsmodels' own ``forecast`` from a model smoothed on
    ``y[:origin]`` with the fitted parameters.

    Parameters
    ----------
    season : int
        Seasonal period ``m``; 1 means no seasonal component.
    trend : {"add", None}
        Additive trend, or none.
    damped_trend : bool
        Damp the trend (only with ``trend="add"``).

    Attributes
    ----------
    params_ : dict
        Smoothing parameters (and ``damping_trend``) of the fitted model.
    initial_ : dict
        Fitted initial level, trend and seasonal states.
    """

    def __init__(self, season: int, trend: str | None = "add", damped_trend: bool = True) -> None:
        self.season = season
        self.trend = trend
        self.damped_trend = damped_trend

    def _spec(self) -> dict[str, Any]:
        if self.trend not in ("add", None):
            raise ValueError(f"trend must be 'add' or None; got {self.trend!r}")
        if isinstance(self.season, bool) or not isinstance(self.season, int) or self.season < 1:
            raise ValueError(f"season must be an int >= 1; got {self.season!r}")
        seasonal = self.season > 1
        return dict(
            error="add",
            trend=self.trend,
            damped_trend=bool(self.damped_trend and self.trend),
            seasonal="add" if seasonal else None,
            seasonal_periods=self.season if seasonal else None,
        )

    def fit(self, y: np.ndarray) -> ETSOrigins:
        """Estimate parameters and initial states on the series ``y`` (1-D)."""
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1 or len(y) < 2 * self.season + 2:
            raise ValueError(
                f"ETS needs a 1-D series of at least two seasons (2·{self.season} + 2 steps); "
                f"got shape {y.shape}"
            )
        with warnings.catch_warnings():
            # convergence chatter of the optimiser; the fit is checked through the metrics
            warnings.simplefilter("ignore")
            result = ETSModel(y, **self._spec()).fit(disp=False)
        names = result.model.param_names
        params = zip(names, result.params, strict=True)
        self.params_ = {n: float(v) for n, v in params if not n.startswith("initial")}
        self.initial_ = {"initial_level": float(result.initial_level)}
        if self.trend:
            self.initial_["initial_trend"] = float(result.initial_trend)
        if self.season > 1:
            self.initial_["initial_seasonal"] = np.asarray(result.initial_seasonal, dtype=float)
        return self

    def states(self, y: np.ndarray) -> np.ndarray:
        """Filtered states (T, 3): level, trend, seasonal after observing each ``y_t``.

        Missing components are zero.
        """
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        if not hasattr(self, "params_"):
            raise NotFittedError("ETSOrigins is not fitted yet; call fit(y_train) first")
        model = ETSModel(
            np.asarray(y, dtype=np.float64),
            **self._spec(),
            initialization_method="known",
            **self.initial_,
        )
        result = model.smooth([self.params_[n] for n in model.param_names])
        states = np.zeros((len(y), 3))
        columns = (
            ["level"]
            + (["trend"] if self.trend else [])
            + (["seasonal"] if self.season > 1 else [])
        )
        for j, name in enumerate(columns):
            states[:, ("level", "trend", "seasonal").index(name)] = result.states[:, j]
        return states

    def forecast(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """Forecasts (n, horizon) of ``y[t : t + horizon]`` from ``y[:t]`` for each origin t.

        Parameters
        ----------
        y : ndarray of shape (T,)
            The series; only ``y[: max(origins)]`` is read.
        origins : ndarray of int, shape (n,)
            Each at least ``season`` and at most ``T``.
        horizon : int
        """
        origins = np.asarray(origins, dtype=np.int64)
        if origins.size and (origins.min() < self.season or origins.max() > len(y)):
            raise ValueError(
                f"origins must lie in [{self.season}, {len(y)}]; got "
                f"[{origins.min()}, {origins.max()}]"
            )
        stop = int(origins.max()) if origins.size else 0
        return self.forecast_from_states(self.states(y[:stop]), origins, horizon)

    def forecast_from_states(
        self, states: np.ndarray, origins: np.ndarray, horizon: int
    ) -> np.ndarray:
        """Closed-form forecasts from precomputed :meth:`states` (see :meth:`forecast`)."""
        origins = np.asarray(origins, dtype=np.int64)
        h = np.arange(1, horizon + 1)
        phi = self.params_.get("damping_trend", 1.0)
        damp = np.cumsum(phi**h) if self.trend else np.zeros(horizon)
        now = states[origins - 1]
        out = now[:, :1] + now[:, 1:2] * damp
        if self.season > 1:
            m = self.season
            # the seasonal state of step t + h was last updated at t + h - m·ceil(h/m)
            lag = (h - 1) % m - m  # offsets −m … −1 from the origin
            out = out + states[origins[:, None] + lag[None, :], 2]
        return out
