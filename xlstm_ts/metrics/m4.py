"""The M4 competition's accuracy measures: sMAPE, MASE and OWA against Naive2 (numpy).

As in the competition's guide and its published R code ("Benchmarks and Evaluation.R"
of the M4-methods repository), for a set of series with forecasts of ``h`` steps each:

* **sMAPE** of a series: ``(200 / h) · Σ |y - ŷ| / (|y| + |ŷ|)`` (percent), the same as
  :func:`xlstm_ts.metrics.smape`; **MASE**: the mean absolute error divided by the
  in-sample mean absolute difference at the seasonal lag ``m``,
  ``mean_{t > m} |y_t - y_{t-m}|`` (:func:`xlstm_ts.metrics.mase`). Each is averaged
  over the series (:func:`mean_smape`, :func:`mean_mase`).
* **Naive2** (:func:`naive2`): the last value of the seasonally adjusted series,
  re-seasonalised. A series is adjusted only when :func:`seasonality_test` finds it
  seasonal at lag ``m`` (90 % autocorrelation test; never for ``m = 1``, nor with fewer
  than ``3m`` values), by the classical multiplicative decomposition
  (:func:`seasonal_indices`, R's ``decompose(type = "multiplicative")``).
* **OWA** (:func:`owa`): ``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``, with the
  averages over all series of the set; below 1 the method beats Naive2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from .point import mase, smape
from .probabilistic import coverage, pinball

__all__ = [
    "acf",
    "interval_scores",
    "largest_ratio",
    "m4_scores",
    "mean_mase",
    "mean_smape",
    "naive2",
    "owa",
    "seasonal_indices",
    "seasonality_test",
]

TCRIT = 1.645
"""Critical value of the seasonality test (90 %, as in the competition's code)."""


def _series(y: ArrayLike, what: str = "y") -> np.ndarray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{what} must be one non-empty 1-D series; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} holds missing or infinite values")
    return arr


def _season(m: int) -> int:
    if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 1:
        raise ValueError(f"the seasonal period m must be an int >= 1; got {m!r}")
    return int(m)


def acf(y: ArrayLike, max_lag: int) -> np.ndarray:
    """Sample autocorrelations at lags ``1 … max_lag`` (R's ``acf``).

    ``r_k = Σ_{t=1}^{n-k} (y_t - ȳ)(y_{t+k} - ȳ) / Σ_{t=1}^{n} (y_t - ȳ)²``; NaN for
    a constant series.

    Parameters
    ----------
    y : array-like of shape (n,)
        The series.
    max_lag : int
        Last lag, ``1 <= max_lag < n``.

    Returns
    -------
    ndarray of shape (max_lag,)
        ``r_1 … r_max_lag``.
    """
    d = _series(y)
    if not 1 <= max_lag < len(d):
        raise ValueError(f"max_lag must lie in [1, {len(d) - 1}] for {len(d)} values")
    d = d - d.mean()
    denom = float(d @ d)
    if denom == 0:
        return np.full(max_lag, np.nan)
    return np.array([float(d[:-k] @ d[k:]) / denom for k in range(1, max_lag + 1)])


def seasonality_test(y: ArrayLike, m: int) -> bool:
    """Whether ``y`` is seasonal at lag ``m``: the competition's 90 % autocorrelation test.

    Seasonal when ``|r_m| > 1.645 · sqrt((1 + 2 Σ_{k=1}^{m-1} r_k²) / n)`` (the lag-``m``
    autocorrelation outside the 90 % limit of Bartlett's formula). Never for ``m = 1``,
    with fewer than ``3m`` values, or for a constant series.

    Parameters
    ----------
    y : array-like of shape (n,)
        In-sample values.
    m : int
        Seasonal period (4 quarterly, 12 monthly, 24 hourly; 1 for the others in M4).

    Returns
    -------
    bool
    """
    y, m = _series(y), _season(m)
    if m == 1 or len(y) < 3 * m:
        return False
    r = acf(y, m)
    if np.isnan(r).any():
        return False
    limit = TCRIT * np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / len(y))
    return bool(abs(r[-1]) > limit)


def seasonal_indices(y: ArrayLike, m: int) -> np.ndarray:
    """Seasonal factors of the classical multiplicative decomposition (R's ``decompose``).

    The trend is the centred moving average of order ``m`` (``2×m`` for even ``m``:
    weights ``1/2m, 1/m, …, 1/m, 1/2m``); each factor is the mean of ``y / trend`` over
    the steps of its phase where the trend exists, and the factors are divided by their
    mean. Phases count from the first value: step ``t`` (from 0) has factor
    ``indices[t % m]``.

    Parameters
    ----------
    y : array-like of shape (n,)
        Positive values, at least two full periods (``n >= 2m``).
    m : int
        Seasonal period, ``>= 2``.

    Returns
    -------
    ndarray of shape (m,)
        Factors with mean 1.
    """
    y, m = _series(y), _season(m)
    if m < 2 or len(y) < 2 * m:
        raise ValueError(
            f"the decomposition needs m >= 2 and at least two periods ({2 * m} values); "
            f"got m={m} and {len(y)} values"
        )
    weights = np.full(m, 1.0 / m) if m % 2 else np.r_[0.5, np.ones(m - 1), 0.5] / m
    half = len(weights) // 2
    trend = np.full(len(y), np.nan)
    trend[half : len(y) - half] = np.convolve(y, weights, mode="valid")
    ratio = y / trend
    figure = np.array([np.nanmean(ratio[phase::m]) for phase in range(m)])
    return figure / figure.mean()


def naive2(y: ArrayLike, h: int, m: int) -> np.ndarray:
    """The competition's Naive2 forecast: naive on the seasonally adjusted series.

    When :func:`seasonality_test` finds ``y`` seasonal at lag ``m``, ``y`` is divided by
    its :func:`seasonal_indices`, and the last adjusted value is multiplied by the
    factors of the forecast steps' phases; otherwise (always for ``m = 1``) the forecast
    is the last value.

    Parameters
    ----------
    y : array-like of shape (n,)
        In-sample values.
    h : int
        Steps to forecast.
    m : int
        Seasonal period.

    Returns
    -------
    ndarray of shape (h,)
    """
    y, m = _series(y), _season(m)
    if h < 1:
        raise ValueError(f"h must be >= 1; got {h}")
    if not seasonality_test(y, m):
        return np.full(h, y[-1])
    indices = seasonal_indices(y, m)
    n = len(y)
    level = y[-1] / indices[(n - 1) % m]
    return level * indices[(n + np.arange(h)) % m]


def _pairs(
    y_true: Sequence[ArrayLike] | np.ndarray, y_pred: Sequence[ArrayLike] | np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} series of actual values but {len(y_pred)} forecasts")
    if len(y_true) == 0:
        raise ValueError("no series to score")
    return [
        (np.asarray(a, dtype=np.float64), np.asarray(b))
        for a, b in zip(y_true, y_pred, strict=True)
    ]


def mean_smape(
    y_true: Sequence[ArrayLike] | np.ndarray, y_pred: Sequence[ArrayLike] | np.ndarray
) -> float:
    """sMAPE (percent) of each series, averaged over the series.

    Parameters
    ----------
    y_true, y_pred : sequence of array-like, or array of shape (n_series, h)
        Actual values and forecasts, series by series.

    Returns
    -------
    float
    """
    return float(np.mean([smape(a, b) for a, b in _pairs(y_true, y_pred)]))


def mean_mase(
    y_true: Sequence[ArrayLike] | np.ndarray,
    y_pred: Sequence[ArrayLike] | np.ndarray,
    y_train: Sequence[ArrayLike],
    m: int,
) -> float:
    """MASE of each series (scale: its in-sample mean absolute lag-``m`` difference),
    averaged over the series.

    Parameters
    ----------
    y_true, y_pred : sequence of array-like, or array of shape (n_series, h)
        Actual values and forecasts, series by series.
    y_train : sequence of array-like
        Each series' in-sample values (of any lengths), for the scale.
    m : int
        Seasonal period of the scale.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        A series with at most ``m`` in-sample values or without change at lag ``m``
        (MASE undefined); the message names its position.
    """
    pairs, m = _pairs(y_true, y_pred), _season(m)
    if len(y_train) != len(pairs):
        raise ValueError(f"{len(y_train)} in-sample series for {len(pairs)} forecasts")
    values = []
    for k, ((a, b), history) in enumerate(zip(pairs, y_train, strict=True)):
        try:
            values.append(mase(a, b, history, season=m))
        except ValueError as exc:
            raise ValueError(f"series {k}: {exc}") from exc
    return float(np.mean(values))


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average: ``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``.

    Parameters
    ----------
    smape_value, mase_value : float
        A method's sMAPE and MASE, averaged over the series of a set.
    smape_naive2, mase_naive2 : float
        Naive2's on the same series.

    Returns
    -------
    float
        1 for Naive2 itself; below 1 the method is better.
    """
    if not (smape_naive2 > 0 and mase_naive2 > 0):
        raise ValueError(
            f"Naive2's sMAPE and MASE must be positive; got {smape_naive2} and {mase_naive2}"
        )
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)


def m4_scores(
    y_true: Sequence[ArrayLike] | np.ndarray,
    y_pred: Sequence[ArrayLike] | np.ndarray,
    y_train: Sequence[ArrayLike],
    m: int,
    reference: Sequence[ArrayLike] | np.ndarray | None = None,
) -> dict[str, float]:
    """sMAPE, MASE and OWA of forecasts of a set of series.

    Parameters
    ----------
    y_true, y_pred : sequence of array-like, or array of shape (n_series, h)
        Actual values and forecasts.
    y_train : sequence of array-like
        In-sample values of each series.
    m : int
        Seasonal period (MASE's lag and Naive2's season).
    reference : sequence of array-like, optional
        Naive2's forecasts; computed with :func:`naive2` when not given.

    Returns
    -------
    dict
        ``smape``, ``mase``, ``owa``.
    """
    pairs = _pairs(y_true, y_pred)
    if reference is None:
        reference = [naive2(hist, len(a), m) for hist, (a, _) in zip(y_train, pairs, strict=True)]
    s, q = mean_smape(y_true, y_pred), mean_mase(y_true, y_pred, y_train, m)
    s2, q2 = mean_smape(y_true, reference), mean_mase(y_true, reference, y_train, m)
    return {"smape": s, "mase": q, "owa": owa(s, q, s2, q2)}


def interval_scores(
    actual: np.ndarray, quantiles: np.ndarray, series: list[np.ndarray]
) -> dict[str, float]:
    """What a user of the (0.1, 0.5, 0.9) quantiles sees, series where they exist only.

    ``coverage``: the share of test values within the 10–90 % band (80 % when
    calibrated); ``width``: the band's mean width over the mean absolute test value of
    its series, averaged; ``scaled_pinball``: the mean pinball loss of the three
    quantiles over the series' in-sample mean absolute difference (MASE's scale), averaged.
    """
    known = [k for k in range(len(series)) if np.isfinite(quantiles[k]).all()]
    if not known:
        return {}
    lo, hi = quantiles[known, :, 0], quantiles[known, :, 2]
    widths, losses = [], []
    for k in known:
        a = actual[k]
        widths.append(np.mean(quantiles[k, :, 2] - quantiles[k, :, 0]) / np.mean(np.abs(a)))
        scale = np.mean(np.abs(np.diff(series[k])))
        losses.append(pinball(a, quantiles[k], (0.1, 0.5, 0.9)) / scale)
    return {
        "coverage": coverage(actual[known], lo, hi),
        "width": float(np.mean(widths)),
        "scaled_pinball": float(np.mean(losses)),
        "interval_series": len(known),
    }


def largest_ratio(pred: np.ndarray, series: list[np.ndarray]) -> float:
    """The largest forecast over the largest training value of its series, over all
    series (series of positive values)."""
    return float(max(np.max(p) / np.max(y) for p, y in zip(pred, series, strict=True)))
