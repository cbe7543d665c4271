"""Scorers for forecasters: ``scorer(estimator, X, y=None)``, greater is better.

Scorers follow scikit-learn's sign convention: a score is greater for a better forecast,
so an error metric (MSE, MASE, CRPS, …) is negated and its scorer's name starts with
``neg_`` (``"neg_mean_squared_error"``, as in scikit-learn).

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

GREATER_IS_BETTER: dict[str, bool] = {
    "mse": False,
    "mae": False,
    "smape": False,
    "mase": False,
    "pinball": False,
    "crps": False,
    "width": False,
    "width_conformal": False,
    "coverage": True,
    "coverage_conformal": True,
}
"""Whether each metric of :func:`~xlstm_ts.model_selection.forecast_metrics` is better when
greater: the errors and interval widths are not (their scorers negate them), the coverages
are."""


class ForecastScorer:
    """A scorer built on a forecast metric, usable as ``scoring=`` in scikit-learn.

    Parameters
    ----------
    metric : str or callable
        A key of :data:`GREATER_IS_BETTER` (a metric of
        :func:`~xlstm_ts.model_selection.forecast_metrics`: ``"mse"``, ``"mase"``,
        ``"crps"``, ``"coverage"``, …), or a function: ``f(y_true, y_pred)`` of the point
        forecast (the median) for ``response="point"``, ``f(y_true, q_pred, quantiles)``
        for ``response="quantiles"``.
    greater_is_better : bool, optional
        Whether ``metric`` is a score (greater is better) or an error, which the scorer
        negates so that its score is greater for a better forecast, as
        :func:`sklearn.metrics.make_scorer` does. ``None``: the metric's own direction
        (:data:`GREATER_IS_BETTER`); a function needs it said.
    response : {"point", "quantiles"}
        What a callable ``metric`` receives.
    season : int
        Season of MASE's naive forecast.
    """

    def __init__(
        self,
        metric: str | Callable[..., float],
        greater_is_better: bool | None = None,
        response: Response = "point",
        season: int = 1,
    ) -> None:
        if isinstance(metric, str):
            if metric not in GREATER_IS_BETTER:
                raise ValueError(
                    f"unknown forecast metric {metric!r}; choose from {sorted(GREATER_IS_BETTER)}"
                )
            own = GREATER_IS_BETTER[metric]
            if greater_is_better is None:
                greater_is_better = own
            elif greater_is_better != own:
                kind = "a score (greater is better)" if own else "an error (lower is better)"
                raise ValueError(
                    f"metric {metric!r} is {kind}; greater_is_better={greater_is_better} "
                    "would prefer worse forecasts. Leave greater_is_better=None"
                )
        elif greater_is_better is None:
            raise ValueError(
                "say whether the metric function is a score or an error: "
                "greater_is_better=True (a score) or False (an error, which the scorer negates)"
            )
        self.metric, self.greater_is_better = metric, bool(greater_is_better)
        self.response, self.season = response, season

    def __repr__(self) -> str:
        name = self.metric if isinstance(self.metric, str) else self.metric.__name__
        return f"ForecastScorer({name!r}, greater_is_better={self.greater_is_better})"

    def __call__(self, estimator: Any, X: pd.DataFrame, y: None = None) -> float:
        """The score of ``estimator``'s forecast of the last ``horizon`` timestamps of ``X``:
        the metric, negated when it is an error (greater is better)."""
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
    greater_is_better: bool | None = None,
    response: Response = "point",
    season: int = 1,
) -> ForecastScorer:
    """A :class:`ForecastScorer`, in the form of :func:`sklearn.metrics.make_scorer`.

    ``greater_is_better=False`` marks ``metric`` as an error, which the scorer negates;
    for a named metric it may be left out (see :class:`ForecastScorer`).

    Examples
    --------
    >>> from xlstm_ts.metrics import smape
    >>> scorer = make_forecast_scorer(smape, greater_is_better=False)  # minus sMAPE
    """
    return ForecastScorer(metric, greater_is_better, response, season)


SCORERS: dict[str, str] = {
    "neg_mean_squared_error": "mse",
    "neg_mean_absolute_error": "mae",
    "neg_mase": "mase",
    "neg_smape": "smape",
    "neg_mean_pinball_loss": "pinball",
    "neg_crps": "crps",
    "neg_interval_width": "width",
    "coverage": "coverage",
}
"""Named scorers: name → the metric of
:func:`~xlstm_ts.model_selection.forecast_metrics` it scores. Every score is greater for a
better forecast: a ``neg_`` scorer returns minus its error, ``"coverage"`` the share of
actual values inside the interval between the lowest and the highest quantile."""


def get_forecast_scorer(name: str) -> ForecastScorer:
    """The scorer called ``name`` (a key of :data:`SCORERS`), e.g. ``"neg_mase"``."""
    if name not in SCORERS:
        raise ValueError(f"unknown forecast scorer {name!r}; choose from {sorted(SCORERS)}")
    return ForecastScorer(SCORERS[name])


def forecast_scorers(*names: str) -> dict[str, ForecastScorer]:
    """Several named scorers as a dict, for ``scoring=`` of ``cross_validate`` or a search
    (all of :data:`SCORERS` when no name is given)."""
    return {name: get_forecast_scorer(name) for name in names or SCORERS}
