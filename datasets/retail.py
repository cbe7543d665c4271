"""A seeded retail-like panel of daily store sales whose data-generating truth is known.

:func:`retail_panel` draws ``n_series`` stores with levels spread over more than two
orders of magnitude, weekly and yearly seasonality, a trend, promotions with a known
lift, a holiday effect and multiplicative noise. It returns the long frame a user would
have and, row for row beside it, the noise-free expected sales with the promotion as it
was, switched off and switched on, so that a model's forecasts and its response to the
promotion flag can be scored against the truth.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["RETAIL_HOLIDAYS", "STORE_TYPES", "retail_panel"]

RETAIL_HOLIDAYS: tuple[str, ...] = (
    "01-01",
    "01-06",
    "05-01",
    "08-15",
    "11-01",
    "12-24",
    "12-25",
    "12-26",
    "12-31",
)
"""Month-day of the holidays of every year (the ``holiday`` column is 1 on them)."""

_WEEKLY = {  # relative sales Monday … Sunday, before normalising to a mean of 1
    "convenience": (1.00, 0.98, 0.98, 1.00, 1.06, 1.04, 0.94),
    "supermarket": (0.90, 0.88, 0.92, 0.97, 1.10, 1.25, 0.98),
    "hypermarket": (0.80, 0.78, 0.82, 0.90, 1.15, 1.45, 1.10),
}
STORE_TYPES: tuple[str, ...] = tuple(_WEEKLY)
"""Store types, from the smallest stores to the largest (the ``store_type`` column)."""


def _check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def _check_float(name: str, value: float, low: float, high: float) -> float:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if not (ok and math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be a number in [{low}, {high}]; got {value!r}")
    return float(value)


def _promotions(rng: np.random.Generator, n_days: int, rate: float, length: tuple[int, int]):
    """0/1 flags of one store: runs of ``length`` days (uniform) separated by geometric gaps
    whose mean makes the expected share of promotion days ``rate``."""
    flags = np.zeros(n_days, dtype=np.int64)
    if rate == 0:
        return flags
    mean_run = (length[0] + length[1]) / 2
    p_gap = 1 / (1 + mean_run * (1 - rate) / rate)  # gaps >= 0 days with that mean
    t = int(rng.geometric(p_gap)) - 1
    while t < n_days:
        run = int(rng.integers(length[0], length[1] + 1))
        flags[t : t + run] = 1
        t += run + int(rng.geometric(p_gap)) - 1
    return flags


def retail_panel(
    n_series: int = 50,
    n_days: int = 3 * 365,
    horizon: int = 28,
    *,
    promo_rate: float = 0.1,
    promo_lift: float = 0.35,
    holiday_effect: float = -0.4,
    noise: float = 0.15,
    level_range: tuple[float, float] = (5.0, 2000.0),
    promo_length: tuple[int, int] = (3, 10),
    start: str | pd.Timestamp = "2021-01-01",
    seed: int | np.random.SeedSequence | None = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily sales of ``n_series`` stores with promotions and holidays, and their truth.

    Store ``i`` on day ``t`` sells ``y = m · exp(σ·ε − σ²/2)`` with ``ε`` standard normal
    (so that ``m`` is the expected value) and

    ``m = level_i · week_i(weekday) · year_i(t) · exp(growth_i · t / 365.25)
    · (1 + holiday_effect · holiday_t) · (1 + promo_lift · promo_{i,t})``.

    * ``level_i``: log-spaced from ``level_range[0]`` to ``level_range[1]`` over the
      stores, assigned in random order (with the defaults 5 to 2,000: 400×).
    * ``store_type``: ``"convenience"``, ``"supermarket"`` or ``"hypermarket"`` for the
      lowest, middle and highest third of the levels; it sets the weekly profile
      ``week_i`` (flat, peak on Saturdays, a strong Saturday peak), perturbed per store
      by 3 % and normalised to a mean of 1 over the week.
    * ``year_i(t) = 1 + a_i cos(2π (day of year − peak_i) / 365.25)`` with ``a_i``
      uniform in [0.05, 0.25] and ``peak_i`` uniform in days 330 to 380 (late November
      to mid-January).
    * ``growth_i`` uniform in [−0.1, 0.2] a year.
    * ``holiday_t``: 1 on the month-days of :data:`RETAIL_HOLIDAYS`, the same for all
      stores.
    * ``promo_{i,t}``: runs of ``promo_length`` days (uniform) separated by random gaps,
      so that a share ``promo_rate`` of the days is on promotion in expectation,
      independently per store.

    Parameters
    ----------
    n_series : int
        Number of stores (series), at least 1.
    n_days : int
        Days per store (all stores share the dates), at least ``horizon + 1``.
    horizon : int
        Days at the end of each series that a benchmark holds out: the truth's
        ``holdout`` column marks them. It changes nothing else.
    promo_rate : float
        Expected share of days on promotion, in [0, 1).
    promo_lift : float
        Relative lift of the expected sales on a promotion day (0.35: +35 %), > −1.
    holiday_effect : float
        Relative change of the expected sales on a holiday (−0.4: 40 % less), > −1.
    noise : float
        Standard deviation ``σ`` of the multiplicative log-normal noise, >= 0.
    level_range : (float, float)
        Lowest and highest store level (expected daily sales before the other
        factors), ``0 < low <= high``.
    promo_length : (int, int)
        Shortest and longest promotion, in days.
    start : str or Timestamp
        First date.
    seed : int or SeedSequence, optional
        Seed of the stores' parameters, the promotions and the noise (three independent
        streams: the same seed gives the same stores and promotions whatever ``noise``).
        The same seed gives the same frames bit for bit; ``None`` draws fresh entropy.

    Returns
    -------
    df : DataFrame
        The long frame, ``n_series · n_days`` rows sorted by store and date, columns
        ``unique_id`` (``"store_00"``, …), ``ds`` (daily), ``y`` (sales, > 0), ``promo``
        and ``holiday`` (int 0/1) and ``store_type`` (text, constant per store).
        ``df.attrs`` records ``generator``, ``params`` and ``horizon``.
    truth : DataFrame
        Row for row beside ``df``: ``unique_id``, ``ds``, ``expected`` (the noise-free
        expected sales ``m``), ``expected_promo_off`` and ``expected_promo_on`` (``m``
        with the promotion switched off and on; on = off · (1 + ``promo_lift``) on every
        row), and ``holdout`` (bool, the last ``horizon`` days of each store).
        ``truth.attrs["series"]`` holds each store's parameters (``level``,
        ``store_type``, ``growth``, ``yearly_amplitude``, ``yearly_peak``, ``weekly``).

    Examples
    --------
    >>> df, truth = retail_panel(n_series=4, n_days=400, seed=1)
    >>> df.columns.tolist()
    ['unique_id', 'ds', 'y', 'promo', 'holiday', 'store_type']
    >>> bool(np.allclose(truth.expected_promo_on, 1.35 * truth.expected_promo_off))
    True
    """
    n_series = _check_int("n_series", n_series, 1)
    horizon = _check_int("horizon", horizon, 1)
    n_days = _check_int("n_days", n_days, horizon + 1)
    promo_rate = _check_float("promo_rate", promo_rate, 0.0, 1.0)
    if promo_rate >= 1:
        raise ValueError(f"promo_rate must be below 1; got {promo_rate!r}")
    promo_lift = _check_float("promo_lift", promo_lift, -1.0, math.inf)
    holiday_effect = _check_float("holiday_effect", holiday_effect, -1.0, math.inf)
    for name, value in (("promo_lift", promo_lift), ("holiday_effect", holiday_effect)):
        if value <= -1:
            raise ValueError(f"{name} must be above -1 (sales stay positive); got {value!r}")
    noise = _check_float("noise", noise, 0.0, math.inf)
    low, high = (float(v) for v in level_range)
    if not (math.isfinite(high) and 0 < low <= high):
        raise ValueError(f"level_range must be (low, high) with 0 < low <= high; got {level_range}")
    shortest, longest = (_check_int("promo_length", int(v), 1) for v in promo_length)
    if shortest > longest:
        raise ValueError(f"promo_length must be (shortest, longest); got {promo_length}")

    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    store_rng, promo_rng, noise_rng = (np.random.default_rng(s) for s in seq.spawn(3))

    dates = pd.date_range(start, periods=n_days, freq="D")
    t = np.arange(n_days, dtype=np.float64)
    weekday = dates.day_of_week.to_numpy()
    day_of_year = dates.day_of_year.to_numpy().astype(np.float64)
    holiday = dates.strftime("%m-%d").isin(RETAIL_HOLIDAYS).astype(np.int64)

    # stores: levels on a log grid in random order; the type follows the level's third
    levels = np.geomspace(low, high, n_series)[store_rng.permutation(n_series)]
    rank = np.argsort(np.argsort(levels))
    types = [STORE_TYPES[3 * int(r) // n_series] for r in rank]
    growth = store_rng.uniform(-0.1, 0.2, n_series)
    amplitude = store_rng.uniform(0.05, 0.25, n_series)
    peak = store_rng.uniform(330.0, 380.0, n_series)
    weekly = np.array([_WEEKLY[k] for k in types]) * np.exp(
        0.03 * store_rng.standard_normal((n_series, 7))
    )
    weekly /= weekly.mean(axis=1, keepdims=True)

    yearly = 1 + amplitude[:, None] * np.cos(2 * np.pi * (day_of_year - peak[:, None]) / 365.25)
    trend = np.exp(growth[:, None] * t / 365.25)
    off = levels[:, None] * weekly[:, weekday] * yearly * trend * (1 + holiday_effect * holiday)
    on = off * (1 + promo_lift)
    promo = np.stack(
        [_promotions(promo_rng, n_days, promo_rate, (shortest, longest)) for _ in range(n_series)]
    )
    expected = np.where(promo == 1, on, off)
    eps = noise_rng.standard_normal((n_series, n_days))
    y = expected * np.exp(noise * eps - noise**2 / 2)

    width = max(2, len(str(n_series - 1)))
    ids = [f"store_{k:0{width}d}" for k in range(n_series)]
    unique_id = np.repeat(ids, n_days)
    ds = np.tile(dates.to_numpy(), n_series)
    df = pd.DataFrame(
        {
            "unique_id": unique_id,
            "ds": ds,
            "y": y.ravel(),
            "promo": promo.ravel(),
            "holiday": np.tile(holiday, n_series),
            "store_type": np.repeat(types, n_days),
        }
    )
    truth = pd.DataFrame(
        {
            "unique_id": unique_id,
            "ds": ds,
            "expected": expected.ravel(),
            "expected_promo_off": off.ravel(),
            "expected_promo_on": on.ravel(),
            "holdout": np.tile(np.arange(n_days) >= n_days - horizon, n_series),
        }
    )
    params = dict(
        n_series=n_series,
        n_days=n_days,
        horizon=horizon,
        promo_rate=promo_rate,
        promo_lift=promo_lift,
        holiday_effect=holiday_effect,
        noise=noise,
        level_range=[low, high],
        promo_length=[shortest, longest],
        start=str(pd.Timestamp(start).date()),
        seed=int(seed) if isinstance(seed, (int, np.integer)) else None,
    )
    for frame in (df, truth):
        frame.attrs["generator"] = "retail_panel"
        frame.attrs["params"] = dict(params)
        frame.attrs["horizon"] = horizon
    truth.attrs["series"] = {
        name: {
            "level": float(levels[k]),
            "store_type": types[k],
            "growth": float(growth[k]),
            "yearly_amplitude": float(amplitude[k]),
            "yearly_peak": float(peak[k]),
            "weekly": [float(v) for v in weekly[k]],
        }
        for k, name in enumerate(ids)
    }
    return df, truth
