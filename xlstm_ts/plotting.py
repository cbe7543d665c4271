"""Pictures of forecasts: history, median, quantile band and, when known, the truth."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from xlstm_ts.data import Panel, quantile_column
from xlstm_ts.metrics import mae, mse


def _history(panel: Panel, k: int) -> pd.Series:
    """Series ``k`` of a panel on its time index."""
    values, last, freq = panel.values[k], panel.last_times[k], panel.freq
    if isinstance(freq, int):
        index = pd.Index(last - freq * np.arange(len(values) - 1, -1, -1))
    else:
        index = pd.date_range(end=last, periods=len(values), freq=freq)
    return pd.Series(values, index=index)


def plot_forecast(
    model: Any,
    X: pd.DataFrame | pd.Series | None = None,
    *,
    X_future: pd.DataFrame | None = None,
    series: Hashable | None = None,
    actual: pd.Series | None = None,
    h: int | None = None,
    history: int | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Plot one series' history, its forecast (median and outermost quantile band), the
    forecast origin and, when given, the actual values with the forecast's MAE and MSE.

    Parameters
    ----------
    model : fitted forecaster
        Anything with ``predict_quantiles``, ``to_panel``, ``quantile_levels_`` and
        ``panel_`` (e.g. :class:`~xlstm_ts.XLSTMForecaster`).
    X : DataFrame or Series, optional
        History to forecast from; the training data when ``None``.
    X_future : DataFrame, optional
        The future covariates' values over the forecast (rows after the end of ``X``,
        or of the training data), as ``predict`` takes them; needed by a model with
        ``future_covariates``.
    series : hashable, optional
        Which series (an id of a long frame or a column of a wide one); the first if
        ``None``.
    actual : Series, optional
        The true values after the history, on the forecast's time index.
    h : int, optional
        Steps to forecast (default: the model's horizon).
    history : int, optional
        Steps of history shown (default: four horizons, zoomed on the recent past).
    ax : matplotlib Axes, optional
        Where to draw; a new figure if ``None``.
    title : str, optional
        Figure title (default: the series name, and the metrics when ``actual`` is given).

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    panel = model.panel_ if X is None else model.to_panel(X)
    ids = list(panel.ids)
    name = ids[0] if series is None else series
    if name not in ids:
        raise ValueError(f"series {name!r} is not among the series {ids}")
    k = ids.index(name)
    levels = list(model.quantile_levels_)
    if X_future is None:
        frame = model.predict_quantiles(X, h=h)
    else:  # only models with future covariates take it (a stateful one does not)
        frame = model.predict_quantiles(X, h=h, X_future=X_future)
    if panel.layout == "long":
        rows = frame[frame[model.id_col] == name]
        index = pd.Index(rows[model.time_col])
        q = {lev: rows[f"q{lev:g}"].to_numpy() for lev in levels}
    else:
        index = frame.index
        q = {lev: frame[quantile_column(lev, name)].to_numpy() for lev in levels}
    past = _history(panel, k)
    shown = 4 * len(index) if history is None else history
    past = past.iloc[-shown:]

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    ax.plot(past.index, past.to_numpy(), color="black", lw=1, label="history")
    ax.axvline(past.index[-1], color="grey", ls="--", lw=0.8, label="forecast origin")
    if len(levels) > 1:
        lo, hi = levels[0], levels[-1]
        ax.fill_between(index, q[lo], q[hi], color="C0", alpha=0.25, label=f"{lo:g}–{hi:g} band")
    ax.plot(index, q[0.5], color="C0", lw=1.5, label="forecast (median)")
    heading = str(name)
    if actual is not None:
        truth = pd.Series(actual).reindex(index)
        ax.plot(index, truth.to_numpy(), color="black", ls=":", lw=1.2, label="actual")
        ok = truth.notna().to_numpy()
        if ok.any():
            err_mae = mae(truth.to_numpy()[ok], q[0.5][ok])
            err_mse = mse(truth.to_numpy()[ok], q[0.5][ok])
            heading += f" — MAE {err_mae:.3g}, MSE {err_mse:.3g}"
    ax.set_title(title or heading)
    wide = panel.layout == "wide"
    ax.set_xlabel((panel.index_name or "time") if wide else model.time_col)
    ax.set_ylabel(panel.target if panel.layout == "long" else str(name))
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    return ax
