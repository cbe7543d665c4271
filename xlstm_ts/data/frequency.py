"""Frequencies of time indexes: inference with pandas, checks, comparison."""

from __future__ import annotations

import warnings
from collections.abc import Hashable

import numpy as np
import pandas as pd


def infer_freq(index: pd.DatetimeIndex) -> str | None:
    """The pandas frequency string of a regular ``index`` (at least 3 stamps), else ``None``."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces offsets instead of str
        inferred = pd.infer_freq(index)
    return None if inferred is None else pd.tseries.frequencies.to_offset(inferred).freqstr


def same_freq(a: str | int, b: str | int) -> bool:
    """Whether two frequencies (pandas strings, or integer steps) are the same."""
    if isinstance(a, int) or isinstance(b, int):
        return a == b
    to_offset = pd.tseries.frequencies.to_offset
    return to_offset(a) == to_offset(b)


def index_freq(index: pd.Index, series: Hashable, freq: str | int | None) -> str | int:
    """Check that ``index`` (sorted, unique) is regular and return its frequency.

    Datetime indexes give a pandas frequency string (inferred when ``freq`` is ``None``,
    checked otherwise); integer indexes give their step.
    """
    if isinstance(index, pd.DatetimeIndex):
        if freq is not None and not isinstance(freq, str):
            raise TypeError(
                f"series {series!r} has a datetime index: freq must be a pandas frequency "
                f"string such as 'h' or 'D', got {freq!r}"
            )
        return _datetime_freq(index, series, check_freq_string(freq))
    if pd.api.types.is_integer_dtype(index):
        if freq is not None and (not isinstance(freq, int | np.integer) or freq < 1):
            raise TypeError(
                f"series {series!r} has an integer index: freq must be its step, a positive "
                f"integer, got {freq!r}"
            )
        steps = np.diff(index.to_numpy())
        step = int(freq) if freq is not None else int(steps[0]) if len(steps) else 1
        if len(steps) and (steps != step).any():
            row = int((steps != step).argmax()) + 1
            raise ValueError(
                f"series {series!r} has an irregular integer index: step {steps[row - 1]} "
                f"before {index[row]}, expected {step}"
            )
        return step
    raise TypeError(
        f"the time index of series {series!r} must hold datetimes or integers, "
        f"got dtype {index.dtype}"
    )


def check_freq_string(freq: str | None) -> str | None:
    """``freq`` if pandas reads it as a frequency; a ``ValueError`` naming it otherwise."""
    if freq is None:
        return None
    try:
        pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"freq={freq!r} is not a pandas frequency (e.g. 'h', 'D', '15min', 'MS')"
        ) from err
    return freq


def _datetime_freq(index: pd.DatetimeIndex, series: Hashable, freq: str | None) -> str:
    if freq is None:
        if len(index) < 3:
            raise ValueError(
                f"series {series!r} has {len(index)} timestamps; at least 3 are needed to "
                "infer the frequency (or pass freq=...)"
            )
        inferred = infer_freq(index)
        if inferred is None:
            gaps = pd.Series(index[1:] - index[:-1])
            row = int((gaps != gaps.mode()[0]).to_numpy().argmax()) + 1
            raise ValueError(
                f"series {series!r} has an irregular time index: the step at "
                f"{index[row]} ({gaps.iloc[row - 1]}) differs from the usual step "
                f"({gaps.mode()[0]}); resample it to a regular frequency or pass freq=..."
            )
        return inferred
    expected = pd.date_range(index[0], periods=len(index), freq=freq)
    if not expected.equals(index):
        row = int((expected != index).argmax())
        raise ValueError(
            f"series {series!r} does not follow freq={freq!r}: expected {expected[row]} "
            f"at position {row}, found {index[row]}"
        )
    return freq


def common_freq(freqs: list[str | int], ids: list[Hashable]) -> str | int:
    """The one frequency shared by all series; raises naming the first that differs."""
    for series, f in zip(ids, freqs, strict=True):
        if not same_freq(f, freqs[0]):
            raise ValueError(
                f"series {series!r} has frequency {f}, but series {ids[0]!r} has "
                f"{freqs[0]}; all series must share one frequency"
            )
    return freqs[0]


def future_index(last: object, freq: str | int, h: int) -> pd.Index:
    """The ``h`` timestamps (or integer steps) after ``last``."""
    if isinstance(freq, int | np.integer):
        last, freq = int(last), int(freq)
        if last + freq * h > np.iinfo(np.int64).max:
            raise ValueError(
                f"the {h} steps after {last} (step {freq}) go beyond the largest int64 time"
            )
        return pd.Index(last + freq * np.arange(1, h + 1, dtype=np.int64))
    try:
        return pd.date_range(last, periods=h + 1, freq=freq)[1:]
    except (OverflowError, pd.errors.OutOfBoundsDatetime) as err:
        raise ValueError(
            f"the {h} steps after {last} at frequency {freq!r} go beyond the dates pandas "
            f"can hold (up to {pd.Timestamp.max})"
        ) from err
