"""Rolling-origin validation: test blocks at the end of each series, no look-ahead.

Fold ``i`` of ``k`` (oldest first) cuts every series before its test block: the
estimator is fitted on everything before the cut and forecasts the ``horizon`` steps
after it. The cuts lie ``step`` apart and the last test block ends with the series.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from xlstm_ts.data import Panel, frame_to_panel


@dataclass(frozen=True)
class RollingOrigin:
    """Rolling-origin (time-series) cross-validation.

    Parameters
    ----------
    n_folds : int
        Number of forecast origins, hence of fits per trial.
    horizon : int, optional
        Steps forecast and scored after each origin; the estimator's ``horizon`` when
        ``None``.
    step : int, optional
        Steps between consecutive origins; ``horizon`` when ``None`` (test blocks then
        tile the end of each series without overlap).

    Examples
    --------
    With ``n_folds=3, horizon=24`` a series of length 500 gives folds that train on
    steps ``[0, 428)``, ``[0, 452)`` and ``[0, 476)`` and are scored on the 24 steps after.
    """

    n_folds: int = 3
    horizon: int | None = None
    step: int | None = None

    def __post_init__(self) -> None:
        for name in ("n_folds", "horizon", "step"):
            value = getattr(self, name)
            if value is None and name != "n_folds":
                continue
            if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"RollingOrigin {name} must be a positive int; got {value!r}")

    def held_out(self, horizon: int) -> list[int]:
        """Steps cut from the end of each series before each fold's training, oldest first."""
        step = self.step or horizon
        return [(self.n_folds - 1 - i) * step + horizon for i in range(self.n_folds)]

    def split(self, X: Any, panel: Panel, horizon: int, columns: Mapping[str, Any]) -> list[Fold]:
        """The folds of ``X`` (a frame or a :class:`~xlstm_ts.data.Panel`).

        ``panel`` holds the series of ``X`` (from :func:`read_series`); ``columns`` the
        estimator's ``id_col`` and ``time_col``.

        Raises
        ------
        ValueError
            If a series is too short to leave any training steps before the first fold.
        """
        cuts = self.held_out(horizon)
        for series, values in zip(panel.ids, panel.values, strict=True):
            if len(values) <= cuts[0]:
                raise ValueError(
                    f"series {series!r} has {len(values)} steps, but {self.n_folds} "
                    f"rolling-origin folds of horizon {horizon} (step {self.step or horizon}) "
                    f"hold out its last {cuts[0]}; use fewer folds (cv=, --folds) or a smaller "
                    "step (step=, --fold-step)"
                )
        folds = []
        for i, removed in enumerate(cuts):
            ends = [len(v) - removed for v in panel.values]
            actual = np.stack([v[e : e + horizon] for v, e in zip(panel.values, ends, strict=True)])
            folds.append(
                Fold(
                    index=i,
                    removed=removed,
                    horizon=horizon,
                    train=_head(X, panel, removed, columns),
                    through_test=_head(X, panel, removed - horizon, columns),
                    test_rows=_block(X, panel, removed, horizon, columns),
                    actual=actual,
                    history=[v[: len(v) - removed] for v in panel.values],
                    times=_times(panel, removed, horizon),
                )
            )
        return folds


@dataclass
class Fold:
    """One rolling-origin fold.

    Attributes
    ----------
    index : int
        Position among the folds, oldest first.
    removed : int
        Steps cut from the end of each series before training.
    horizon : int
        Steps forecast and scored.
    train : DataFrame or Panel
        The data before the cut, shaped like the input.
    through_test : DataFrame or Panel
        The data up to the end of the test block (for an estimator's own ``score``).
    test_rows : DataFrame or None
        The rows of the test block (the future covariates' values), ``None`` for a Panel.
    actual : ndarray of shape (n_series, horizon)
        The values to forecast.
    history : list of ndarray
        The training values of each series.
    times : dict
        ``train_end``, ``test_start`` and ``test_end`` of the first series, as text.
    """

    index: int
    removed: int
    horizon: int
    train: Any
    through_test: Any
    test_rows: pd.DataFrame | None
    actual: np.ndarray
    history: list[np.ndarray]
    times: dict[str, str]

    def describe(self) -> dict[str, Any]:
        """What the fold is, as JSON values (stored on each trial)."""
        return {"fold": self.index, "held_out": self.removed, "horizon": self.horizon, **self.times}


def read_series(X: Any, params: Mapping[str, Any]) -> Panel:
    """The series of ``X`` read with an estimator's column parameters.

    ``params`` are the estimator's parameters (``id_col``, ``time_col``, ``target``,
    ``freq``, ``allow_missing``, ``past_covariates``, ``future_covariates``; the
    library's defaults for those it lacks).
    """
    if isinstance(X, Panel):
        return X
    return frame_to_panel(
        X,
        id_col=params.get("id_col", "unique_id"),
        time_col=params.get("time_col", "ds"),
        target=params.get("target"),
        freq=params.get("freq"),
        allow_missing=bool(params.get("allow_missing", False)),
        covariates=[*params.get("past_covariates", ()), *params.get("future_covariates", ())],
    )


def _back(last: Any, freq: str | int, steps: int) -> Any:
    """The time ``steps`` steps before ``last``."""
    if isinstance(freq, int):
        return last - steps * freq
    return pd.Timestamp(last) - steps * pd.tseries.frequencies.to_offset(freq)


def _times(panel: Panel, removed: int, horizon: int) -> dict[str, str]:
    last, freq = panel.last_times[0], panel.freq
    return {
        "train_end": str(_back(last, freq, removed)),
        "test_start": str(_back(last, freq, removed - 1)),
        "test_end": str(_back(last, freq, removed - horizon)),
    }


def _from_end(X: pd.DataFrame, columns: Mapping[str, Any]) -> np.ndarray:
    """For each row of a long frame, its position from its series' end (1 = last)."""
    ranks = X.groupby(columns.get("id_col", "unique_id"), sort=False)[
        columns.get("time_col", "ds")
    ].rank(method="first", ascending=False)
    return ranks.to_numpy()


def _head(X: Any, panel: Panel, removed: int, columns: Mapping[str, Any]) -> Any:
    """``X`` without the last ``removed`` steps of each series."""
    if removed == 0:
        return X
    if isinstance(X, Panel):
        return Panel(
            values=[v[:-removed] for v in X.values],
            ids=list(X.ids),
            last_times=[_back(t, X.freq, removed) for t in X.last_times],
            freq=X.freq,
            layout=X.layout,
            target=X.target,
            index_name=X.index_name,
            covariates=[c[:-removed] for c in X.covariates],
        )
    if panel.layout == "wide":
        return X.sort_index().iloc[: len(X) - removed]
    return X[_from_end(X, columns) > removed]


def _block(
    X: Any, panel: Panel, removed: int, horizon: int, columns: Mapping[str, Any]
) -> pd.DataFrame | None:
    """The rows of the ``horizon`` steps after the cut that leaves out ``removed`` steps."""
    if isinstance(X, Panel):
        return None
    if panel.layout == "wide":
        start = len(X) - removed
        return X.sort_index().iloc[start : start + horizon]
    position = _from_end(X, columns)
    return X[(position <= removed) & (position > removed - horizon)]
