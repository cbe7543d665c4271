"""Scorers for forecasters: ``scorer(estimator, X, y=None)``, higher is better.

A scorer forecasts the last ``horizon`` timestamps of ``X`` from the rows before them
(a pipeline transforms the rows first) and compares the forecast with the actual values
in ``X``. That is what scikit-learn's ``GridSearchCV``, ``RandomizedSearchCV`` and
``cross_validate`` call with each test fold of a
:class:`~xlstm_ts.model_selection.TimeSeriesSplitter`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pandas as pd

from ._frames import Roles, forecast_at, time_axis
from .evaluation import forecast_metrics, quantile_columns

Response = Literal["point", "quantiles"]


class ForecastScorer:
    """A scorer built on a forecast metric, usable as ``scoring=`` in scikit-learn.

    Parameters
    ----------
    metric : str or callable
        A key of :func:`~xlstm_ts.model_selection.forecast_metrics` (``"mse"``,
        ``"mase"``, ``"crps"``, ``"coverage"``, …), or a function: ``f(y_true, y_pred)``
        of the point forecast (the median) for ``response="point"``, ``f(y_true, q_pred,
        quantiles)`` for ``response="quantiles"``.
    greater_is_better : bool
        ``False`` negates the metric, so that higher scores are better.
    response : {"point", "quantiles"}
        What a callable ``metric`` receives.
    season : int
        Season of MASE's naive forecast.
    """

    def __init__(
        self,
        metric: str | Callable[..., float],
        greater_is_better: bool = False,
        response: Response = "point",
        season: int = 1,
    ) -> None:
        self.metric, self.greater_is_better = metric, greater_is_better
        self.response, self.season = response, season

    def __repr__(self) -> str:
        name = self.metric if isinstance(self.metric, str) else self.metric.__name__
        return f"ForecastScorer({name!r}, greater_is_better={self.greater_is_better})"

    def __call__(self, estimator: Any, X: pd.DataFrame, y: None = None) -> float:
        roles = Roles.of(estimator)
        times, grid = time_axis(X, roles)
        h = roles.horizon
        if len(grid) <= h:
            raise ValueError(
                f"X has {len(grid)} timestamps; scoring forecasts its last horizon={h} "
                "from the rows before them, so it needs more"
            )
        frame = forecast_at(estimator, X, times, grid, len(grid) - 1 - h, h, self.season)
        if isinstance(self.metric, str):
            metrics = forecast_metrics(frame)
            if self.metric not in metrics:
                raise ValueError(
                    f"metric {self.metric!r} is not available for this forecast; "
                    f"available: {sorted(metrics)}"
                )
            value = metrics[self.metric]
        else:
            f = frame[frame["y"].notna()]
            if self.response == "point":
                value = self.metric(f["y"].to_numpy(float), f["q0.5"].to_numpy(float))
            else:
                columns, levels = quantile_columns(f)
                value = self.metric(f["y"].to_numpy(float), f[columns].to_numpy(float), levels)
        return float(value) if self.greater_is_better else -float(value)


def make_forecast_scorer(
    metric: str | Callable[..., float],
    *,
    greater_is_better: bool = False,
    response: Response = "point",
    season: int = 1,
) -> ForecastScorer:
    """A :class:`ForecastScorer`, in the form of :func:`sklearn.metrics.make_scorer`."""
    return ForecastScorer(metric, greater_is_better, response, season)


SCORERS: dict[str, tuple[str, bool]] = {
    "neg_mse": ("mse", False),
    "neg_mae": ("mae", False),
    "neg_mase": ("mase", False),
    "neg_smape": ("smape", False),
    "neg_pinball": ("pinball", False),
    "neg_crps": ("crps", False),
    "coverage": ("coverage", True),
    "neg_width": ("width", False),
}
"""Named scorers: name → (metric, greater is better)."""


def get_forecast_scorer(name: str) -> ForecastScorer:
    """The scorer called ``name`` (a key of :data:`SCORERS`), e.g. ``"neg_mase"``."""
    if name not in SCORERS:
        raise ValueError(f"unknown forecast scorer {name!r}; choose from {sorted(SCORERS)}")
    metric, greater = SCORERS[name]
    return ForecastScorer(metric, greater)


def forecast_scorers(*names: str) -> dict[str, ForecastScorer]:
    """Several named scorers as a dict, for ``scoring=`` of ``cross_validate`` or a search
    (all of :data:`SCORERS` when no name is given)."""
    return {name: get_forecast_scorer(name) for name in names or SCORERS}
