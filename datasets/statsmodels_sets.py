"""Real series bundled with statsmodels, as timestamped wide frames (no download needed).

statsmodels is imported only when one of these sets is loaded. Values are returned as
published; missing values stay missing (``co2`` has 59 missing weeks).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

__all__ = ["load_bundled"]


def _sm_datasets():
    try:
        from statsmodels import datasets
    except ImportError as exc:  # pragma: no cover - statsmodels is a dependency
        raise ImportError(
            "the co2, sunspots, elnino and nile data sets come from statsmodels; "
            "install it with `pip install statsmodels`"
        ) from exc
    return datasets


def _yearly(years: pd.Series) -> pd.DatetimeIndex:
    first, n = int(years.iloc[0]), len(years)
    index = pd.date_range(f"{first}-01-01", periods=n, freq="YS", name="date")
    expected = pd.RangeIndex(first, first + n)
    if not (years.astype(int).to_numpy() == expected.to_numpy()).all():
        raise ValueError(f"years are not consecutive from {first}; cannot build a yearly index")
    return index


def _co2() -> pd.DataFrame:
    data = _sm_datasets().co2.load_pandas().data
    index = pd.DatetimeIndex(data.index, name="date")
    # The weeks are regular (Saturdays); setting the frequency checks that.
    index = pd.DatetimeIndex(index, freq="W-SAT")
    return pd.DataFrame({"co2": data["co2"].to_numpy(dtype=float)}, index=index)


def _sunspots() -> pd.DataFrame:
    data = _sm_datasets().sunspots.load_pandas().data
    values = data["SUNACTIVITY"].to_numpy(dtype=float)
    return pd.DataFrame({"SUNACTIVITY": values}, index=_yearly(data["YEAR"]))


def _nile() -> pd.DataFrame:
    data = _sm_datasets().nile.load_pandas().data
    values = data["volume"].to_numpy(dtype=float)
    return pd.DataFrame({"volume": values}, index=_yearly(data["year"]))


def _elnino() -> pd.DataFrame:
    # One row per year, one column per month: read row by row into one monthly series.
    data = _sm_datasets().elnino.load_pandas().data
    months = data.drop(columns="YEAR")
    first = int(data["YEAR"].iloc[0])
    _yearly(data["YEAR"])  # checks that the years are consecutive
    index = pd.date_range(f"{first}-01-01", periods=months.size, freq="MS", name="date")
    return pd.DataFrame({"sst": months.to_numpy(dtype=float).ravel()}, index=index)


_LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "co2": _co2,
    "sunspots": _sunspots,
    "elnino": _elnino,
    "nile": _nile,
}


def load_bundled(name: str) -> pd.DataFrame:
    """Load one of the statsmodels sets by its registry name.

    Parameters
    ----------
    name : {"co2", "sunspots", "elnino", "nile"}
        Canonical registry name.

    Returns
    -------
    pandas.DataFrame
        One float column, a regular :class:`~pandas.DatetimeIndex` named ``date`` with its
        frequency set: ``co2`` weekly on Saturdays (``W-SAT``), ``sunspots`` and ``nile``
        yearly (``YS``, stamped on 1 January), ``elnino`` monthly (``MS``).
    """
    if name not in _LOADERS:
        raise ValueError(f"no statsmodels data set {name!r}; expected one of {list(_LOADERS)}")
    return _LOADERS[name]()
