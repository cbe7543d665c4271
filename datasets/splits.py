"""Canonical train/validation/test splits of the long-horizon benchmarks.

The rules are those of the Informer/Autoformer/DLinear data loaders, so results are
comparable with the published tables. For a context length ``L`` (the model's input length):

* ``ett_hour`` (ETTh1, ETTh2): the first 12/4/4 months of 30 days, i.e.
  train ``[0, 8640)``, val ``[8640 - L, 11520)``, test ``[11520 - L, 14400)``.
  The last 3,020 rows are not used.
* ``ett_15min`` (ETTm1, ETTm2): the same months at 15 minutes, every bound times 4:
  train ``[0, 34560)``, val ``[34560 - L, 46080)``, test ``[46080 - L, 57600)``.
* ``ratio`` (all others, and any frame without a name): with ``n`` rows,
  ``n_train = int(n * 0.7)``, ``n_test = int(n * 0.2)``, ``n_val = n - n_train - n_test``;
  train ``[0, n_train)``, val ``[n_train - L, n - n_test)``, test ``[n - n_test - L, n)``.

Validation and test parts start ``L`` rows early so that their first window has a full
context; the targets of every window still lie inside the part.
"""

from __future__ import annotations

import operator
import os
from typing import NamedTuple

import pandas as pd

from .load import load
from .registry import SplitRule, get_info

__all__ = ["SplitBounds", "split", "split_bounds"]

_HOURS_PER_MONTH = 30 * 24


class SplitBounds(NamedTuple):
    """Row bounds ``(start, stop)`` of each part, half-open, for ``DataFrame.iloc``."""

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]


def _rule_bounds(rule: SplitRule, n_rows: int, context_length: int) -> SplitBounds:
    if rule == "ratio":
        n_train = int(n_rows * 0.7)
        n_test = int(n_rows * 0.2)
        val_end = n_rows - n_test
    else:
        per_month = _HOURS_PER_MONTH * (1 if rule == "ett_hour" else 4)
        n_train, val_end, end = 12 * per_month, 16 * per_month, 20 * per_month
        if n_rows < end:
            raise ValueError(
                f"the {rule} split uses the first {end} rows; the data have only {n_rows}"
            )
        n_rows = end
    if context_length > n_train:
        raise ValueError(
            f"context_length={context_length} is longer than the training part ({n_train} rows); "
            f"expected 0 <= context_length <= {n_train}"
        )
    return SplitBounds(
        train=(0, n_train),
        val=(n_train - context_length, val_end),
        test=(val_end - context_length, n_rows),
    )


def _check_count(name: str, value: int, minimum: int) -> int:
    try:
        # operator.index accepts Python and numpy integers, and refuses floats.
        count = operator.index(value)
    except TypeError:
        count = None
    if isinstance(value, bool) or count is None or count < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return count


def split_bounds(
    name: str | None, context_length: int = 0, *, n_rows: int | None = None
) -> SplitBounds:
    """Row bounds of the canonical train/validation/test parts.

    Parameters
    ----------
    name : str or None
        A registered data set (its rule is used), or ``None`` for the 70/10/20 rule.
    context_length : int, default 0
        Input length ``L``; validation and test start ``L`` rows early.
    n_rows : int, optional
        Number of rows of the data. Defaults to the registry's count; required when
        ``name`` is ``None``.

    Returns
    -------
    SplitBounds
        ``(start, stop)`` per part. E.g. ETTh1 with ``context_length=96``:
        train ``(0, 8640)``, val ``(8544, 11520)``, test ``(11424, 14400)``.

    Raises
    ------
    ValueError
        Unknown name, a negative context_length, a context_length longer than the training part,
        too few rows for an ETT rule, or an M4 set (split by its own files: see
        :func:`~xlstm_ts.datasets.m4.load_m4`).
    """
    context_length = _check_count("context_length", context_length, 0)
    if name is None:
        if n_rows is None:
            raise ValueError("n_rows is required when name is None (the 70/10/20 rule)")
        rule: SplitRule = "ratio"
    else:
        info = get_info(name)
        rule = info.split_rule
        if rule == "m4":
            raise ValueError(
                f"{info.name} has the M4 competition's own split (the test file holds the "
                f"next {info.horizons[0]} values of every series): read both parts with "
                f"xlstm_ts.datasets.load_m4({info.name!r})"
            )
        n_rows = info.n_rows if n_rows is None else n_rows
    return _rule_bounds(rule, _check_count("n_rows", n_rows, 1), context_length)


def split(
    data: pd.DataFrame | str,
    context_length: int = 0,
    *,
    name: str | None = None,
    data_home: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split a data set into its canonical (train, val, test) parts.

    Parameters
    ----------
    data : DataFrame or str
        A frame, or a registered name to :func:`~xlstm_ts.datasets.load` first.
    context_length : int, default 0
        Input length ``L``; validation and test start ``L`` rows early (see
        :func:`split_bounds` for the exact rows).
    name : str, optional
        Registered name whose rule applies to a frame. Defaults to
        ``data.attrs["dataset"]`` (set by ``load``); a frame with neither is split 70/10/20.
    data_home, path : path-like, optional
        Passed to ``load`` when ``data`` is a name.

    Returns
    -------
    (train, val, test) : tuple of DataFrame
        Consecutive row ranges of ``data``, in time order, index and columns unchanged.
    """
    if isinstance(data, str):
        data = load(data, data_home=data_home, path=path)
    elif not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a DataFrame or a data set name; got {type(data).__name__}")
    if name is None:
        name = data.attrs.get("dataset")
    bounds = split_bounds(name, context_length, n_rows=len(data))
    train, val, test = (data.iloc[start:stop] for start, stop in bounds)
    return train, val, test
