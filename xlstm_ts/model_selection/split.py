"""Cross-validation by time for the forecasters' frames."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd


class TimeSeriesSplitter:
    """Folds by time over long or wide frames: training on the past, testing after it.

    Time is the frame's time axis (``time_col`` of a long frame, the index of a wide
    one), shared by every series: fold ``k`` trains on the rows up to a cut-off and tests
    on the ``test_size`` timestamps after ``gap`` more, so no training row lies after a
    test timestamp. The last fold's test period ends at the last timestamp, and each
    earlier one ``step`` timestamps before.

    A test fold also holds the rows before its test period (``history`` timestamps of
    them, or all): a forecaster's ``score`` and the scorers of
    :mod:`xlstm_ts.model_selection` forecast the fold's last ``horizon`` timestamps from
    the rows before them. Set ``test_size`` to the forecaster's ``horizon``.

    Parameters
    ----------
    n_splits : int
        Number of folds.
    test_size : int
        Timestamps in each test period.
    gap : int
        Timestamps between the end of training and the test period, left out of the
        training rows (the forecast still sees them as history).
    max_train_size : int, optional
        Training on at most the last ``max_train_size`` timestamps before the cut-off (a
        sliding window); all earlier timestamps when ``None`` (an expanding window).
    history : int, optional
        Timestamps before the test period included in the test fold (at least the
        forecaster's ``context_length``); all when ``None``.
    step : int, optional
        Timestamps between the test periods of successive folds; ``test_size`` when
        ``None`` (test periods side by side).
    time_col : str
        Time column of long frames (a frame without it is read as wide).

    Examples
    --------
    >>> cv = TimeSeriesSplitter(n_splits=3, test_size=24)
    >>> GridSearchCV(XLSTMForecaster(horizon=24), grid, cv=cv).fit(df)  # doctest: +SKIP
    """

    def __init__(
        self,
        n_splits: int = 3,
        test_size: int = 24,
        *,
        gap: int = 0,
        max_train_size: int | None = None,
        history: int | None = None,
        step: int | None = None,
        time_col: str = "ds",
    ) -> None:
        self.n_splits, self.test_size, self.gap = n_splits, test_size, gap
        self.max_train_size, self.history, self.step = max_train_size, history, step
        self.time_col = time_col

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds."""
        return self.n_splits

    def _check(self) -> None:
        ints = dict(n_splits=1, test_size=1, gap=0, max_train_size=1, history=0, step=1)
        for name, low in ints.items():
            value = getattr(self, name)
            if value is None and name in ("max_train_size", "history", "step"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")

    def _times(self, X: Any) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        if self.time_col in X.columns:
            return X[self.time_col].to_numpy()
        return X.index.to_numpy()

    def split(
        self, X: pd.DataFrame, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Row positions ``(train, test)`` of each fold, oldest fold first."""
        self._check()
        times = self._times(X)
        grid = np.unique(times)
        rank = np.searchsorted(grid, times)  # each row's position on the time axis
        T, step = len(grid), self.step or self.test_size
        first_test = T - self.test_size - (self.n_splits - 1) * step
        if first_test - self.gap < 1:
            raise ValueError(
                f"X has {T} timestamps: too few for n_splits={self.n_splits} test periods of "
                f"test_size={self.test_size} every step={step} after gap={self.gap} with "
                "training rows before them"
            )
        for k in range(self.n_splits):
            test_start = first_test + k * step  # position of the first test timestamp
            train_end = test_start - self.gap  # exclusive
            train_start = 0 if self.max_train_size is None else train_end - self.max_train_size
            test_from = 0 if self.history is None else test_start - self.history
            train = (rank >= max(train_start, 0)) & (rank < train_end)
            test = (rank >= max(test_from, 0)) & (rank < test_start + self.test_size)
            yield np.flatnonzero(train), np.flatnonzero(test)
