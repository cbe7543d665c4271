"""Rolling-origin backtests: forecasts, quantiles and actual values per origin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ._frames import Roles, forecast_at, time_axis
from .evaluation import metrics_table, quantile_columns


@dataclass
class BacktestResult:
    """What :func:`backtest` returns.

    Attributes
    ----------
    forecasts : DataFrame
        One row per origin, series and horizon step: ``origin``, the id and time columns,
        ``step`` (1 … h), the quantile columns (``q0.5`` is the point forecast), for a
        :class:`~xlstm_ts.model_selection.ConformalForecaster` ``lower`` and ``upper``,
        ``y`` (the actual value, NaN where the frame has none) and ``scale`` (MASE's
        in-sample naive error of the series up to the origin).
    metrics : DataFrame
        :func:`~xlstm_ts.model_selection.forecast_metrics` per horizon step (index ``1 …
        h``) and over all steps (index ``"all"``); rows without an actual value are left
        out.
    id_col, time_col : str
        Names of the id and time columns of ``forecasts``.
    """

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    id_col: str
    time_col: str

    def plot(self, series: Any = None, ax: Any = None, actual_color: str = "black") -> Any:
        """Plot the actual values and every origin's forecast of one series.

        Each origin's median is a line, the band between the lowest and the highest
        quantile is shaded, and conformal intervals, if any, are dashed.

        Parameters
        ----------
        series : optional
            The series id; the first one by default.
        ax : matplotlib Axes, optional
            Where to draw; a new figure when ``None``.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        f = self.forecasts
        ids = list(dict.fromkeys(f[self.id_col]))
        series = ids[0] if series is None else series
        if series not in ids:
            raise ValueError(f"series {series!r} is not in the backtest; it has {ids}")
        f = f[f[self.id_col] == series]
        if ax is None:
            _, ax = plt.subplots(figsize=(10, 3.5))
        actual = f.drop_duplicates(self.time_col).sort_values(self.time_col)
        ax.plot(actual[self.time_col], actual["y"], color=actual_color, lw=1, label="actual")
        columns, levels = quantile_columns(f)
        for k, (_, part) in enumerate(f.groupby("origin", sort=True)):
            t = part[self.time_col]
            first = k == 0  # one legend entry per kind of line

            def label(text: str, first: bool = first) -> str | None:
                return text if first else None

            ax.plot(t, part["q0.5"], color="C0", lw=1.2, label=label("median"))
            if len(levels) > 1:
                band = f"{columns[0]}–{columns[-1]}"
                ax.fill_between(
                    t,
                    part[columns[0]],
                    part[columns[-1]],
                    color="C0",
                    alpha=0.2,
                    label=label(f"model {band}"),
                )
            if "lower" in part:
                ax.plot(t, part["lower"], color="C1", ls="--", lw=1, label=label("conformal"))
                ax.plot(t, part["upper"], color="C1", ls="--", lw=1)
        ax.set_title(f"backtest of {series!r}: {f['origin'].nunique()} origins")
        ax.legend(loc="upper left", fontsize="small")
        return ax


def _refit_every(refit: bool | int) -> int | None:
    if isinstance(refit, bool | np.bool_):
        return 1 if refit else None
    if isinstance(refit, int | np.integer) and refit >= 1:
        return int(refit)
    raise ValueError(f"refit must be False, True or a positive integer, got {refit!r}")


def backtest(
    estimator: Any,
    X: pd.DataFrame,
    n_windows: int,
    step: int | None = None,
    refit: bool | int = False,
    *,
    h: int | None = None,
    season: int = 1,
) -> BacktestResult:
    """Forecast from ``n_windows`` origins in turn and compare with what happened.

    The last window ends at the last timestamp of ``X``; each earlier origin lies
    ``step`` timestamps before the next. A clone of ``estimator`` is fitted on the rows
    up to the first origin; at every later origin it forecasts from the rows up to that
    origin (new history, no new training), and with ``refit`` it is fitted again on them
    first. ``estimator`` itself is left untouched.

    Parameters
    ----------
    estimator : forecaster
        An :class:`~xlstm_ts.estimators.XLSTMForecaster`, a pipeline ending in one, or a
        :class:`~xlstm_ts.model_selection.ConformalForecaster`.
    X : DataFrame
        Long or wide frame, as ``fit`` takes it.
    n_windows : int
        Number of origins.
    step : int, optional
        Timestamps between origins; ``h`` when ``None`` (windows side by side).
    refit : bool or int
        ``False``: fit once, at the first origin; ``True``: at every origin; ``k``: at
        every ``k``-th origin.
    h : int, optional
        Steps forecast from each origin; the forecaster's ``horizon`` when ``None``.
    season : int
        Season of MASE's naive forecast.

    Returns
    -------
    BacktestResult
        The tidy forecasts and their metrics per horizon step and overall.
    """
    roles = Roles.of(estimator)
    h = roles.horizon if h is None else h
    step = h if step is None else step
    every = _refit_every(refit)
    for name, value in dict(n_windows=n_windows, step=step, h=h, season=season).items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if hasattr(estimator, "predict_interval") and h > roles.horizon:
        raise ValueError(
            f"h={h} exceeds horizon={roles.horizon}: conformal intervals are calibrated "
            "for the horizon's steps only"
        )
    times, grid = time_axis(X, roles)
    first = len(grid) - 1 - h - (n_windows - 1) * step
    if first < 0:
        raise ValueError(
            f"X has {len(grid)} timestamps: too few for n_windows={n_windows} origins "
            f"step={step} apart, each followed by h={h} steps"
        )
    parts, model = [], None
    for k in range(n_windows):
        position = first + k * step
        if model is None or (every is not None and k % every == 0):
            model = clone(estimator).fit(X[times <= grid[position]])
        part = forecast_at(model, X, times, grid, position, h, season)
        part.insert(0, "origin", grid[position])
        parts.append(part)
    forecasts = pd.concat(parts, ignore_index=True)
    return BacktestResult(forecasts, metrics_table(forecasts), roles.id_col, roles.time_col)
