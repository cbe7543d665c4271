"""Scorers of a search and the error of a fitted estimator on one fold.

A scorer, asked for by ``scoring``, follows scikit-learn's sign convention: greater is
better, so an error is negated and its name starts with ``neg_``. The study minimises
the mean fold error, which is minus the score (lower is better).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from xlstm_ts.data import Panel, frame_to_forecasts
from xlstm_ts.metrics import mae, mse, naive_scale, pinball

from .folds import Fold

SCORERS = (
    "neg_mean_squared_error",
    "neg_mean_absolute_error",
    "neg_mase",
    "neg_mean_pinball_loss",
    "score",
)
"""Names accepted by ``scoring``; each score is greater for a better forecast:

- ``"neg_mean_squared_error"``, ``"neg_mean_absolute_error"``: minus the MSE or MAE of
  the point forecast (``predict``);
- ``"neg_mase"``: minus the MAE scaled by each series' in-sample naive error (season 1);
- ``"neg_mean_pinball_loss"``: minus the mean pinball loss of ``predict_quantiles`` over
  the trained levels;
- ``"score"``: the estimator's own ``score`` on the data through the test block.
"""

Scorer = Callable[[np.ndarray, np.ndarray, Sequence[np.ndarray]], float]
"""A user scorer ``f(y_true, y_pred, y_train) -> score``, greater is better (negate an
error): ``y_true`` and ``y_pred`` of shape (n_series, horizon), ``y_train`` the training
values of each series."""


def check_scoring(scoring: str | Scorer) -> str | Scorer:
    """``scoring`` if it names a scorer of :data:`SCORERS` or is callable."""
    if callable(scoring) or scoring in SCORERS:
        return scoring
    raise ValueError(
        f"scoring={scoring!r} is not a scorer; use one of {list(SCORERS)} or a function "
        "f(y_true, y_pred, y_train) -> score (greater is better)"
    )


def scoring_name(scoring: str | Scorer) -> str:
    """A name for ``scoring`` (stored with the study)."""
    return scoring if isinstance(scoring, str) else getattr(scoring, "__name__", repr(scoring))


def error_name(scoring: str | Scorer) -> str:
    """The name of the error that a search with ``scoring`` minimises: minus the score,
    e.g. ``"mean_squared_error"`` for ``"neg_mean_squared_error"``."""
    name = scoring_name(scoring)
    return name.removeprefix("neg_") if name.startswith("neg_") else f"minus {name}"


def fold_error(
    estimator: Any, fold: Fold, panel: Panel, scoring: str | Scorer, params: Mapping[str, Any]
) -> float:
    """The error of ``estimator`` (fitted on ``fold.train``) on the fold's test block:
    minus its score by ``scoring``, so lower is better.

    ``panel`` holds the full series (their ids and layout); ``params`` are the estimator's
    parameters.
    """
    if scoring == "score":
        return -float(estimator.score(fold.through_test))
    kwargs: dict[str, Any] = {}
    if fold.horizon != params.get("horizon", fold.horizon):
        kwargs["h"] = fold.horizon
    if params.get("future_covariates"):
        if fold.test_rows is None:
            raise ValueError(
                "an estimator with future_covariates is scored from a frame, not a Panel: "
                "pass X as a DataFrame"
            )
        kwargs["X_future"] = fold.test_rows
    id_col, time_col = params.get("id_col", "unique_id"), params.get("time_col", "ds")
    if scoring == "neg_mean_pinball_loss":
        frame = estimator.predict_quantiles(**kwargs)
        hint = getattr(estimator, "quantile_levels_", [0.5])
        levels, pred = quantile_arrays(frame, panel, id_col, time_col, fold.horizon, hint)
        return pinball(fold.actual, pred, levels)
    pred = point_arrays(estimator.predict(**kwargs), panel, id_col, time_col, fold.horizon)
    if callable(scoring):
        return -float(scoring(fold.actual, pred, fold.history))
    if scoring == "neg_mase":
        return series_mase(fold.actual, pred, fold.history)
    known = ~np.isnan(fold.actual)  # missing actual values are left out
    metric = mse if scoring == "neg_mean_squared_error" else mae
    return metric(fold.actual[known], pred[known])


def series_mase(
    y_true: np.ndarray, y_pred: np.ndarray, y_train: Sequence[np.ndarray], season: int = 1
) -> float:
    """MASE averaged over series: each series' MAE (missing actual values left out) over
    its own in-sample naive error (:func:`xlstm_ts.metrics.naive_scale`)."""
    if len(y_train) != len(y_true):
        raise ValueError(f"{len(y_train)} training series for {len(y_true)} forecast series")
    errors = []
    for actual, pred, history in zip(y_true, y_pred, y_train, strict=True):
        known = ~np.isnan(actual)
        errors.append(mae(actual[known], pred[known]) / naive_scale(history, season))
    return float(np.mean(errors))


def _rows(frame: pd.DataFrame, series: Any, id_col: str, time_col: str) -> pd.DataFrame:
    return frame[frame[id_col] == series].sort_values(time_col)


def point_arrays(
    frame: pd.DataFrame, panel: Panel, id_col: str, time_col: str, horizon: int
) -> np.ndarray:
    """Point forecasts of ``predict`` as an array (n_series, horizon), series in panel order."""
    if panel.layout == "long":
        rows = [_rows(frame, s, id_col, time_col)[panel.target].to_numpy() for s in panel.ids]
    else:
        rows = [frame[s].to_numpy() for s in panel.ids]
    return _stack(rows, horizon)


def quantile_arrays(
    frame: pd.DataFrame,
    panel: Panel,
    id_col: str,
    time_col: str,
    horizon: int,
    levels_hint: Sequence[float],
) -> tuple[list[float], np.ndarray]:
    """Levels and forecasts (n_series, horizon, Q) of ``predict_quantiles``.

    Levels come from the quantile columns of the forecast frame
    (:func:`xlstm_ts.data.frame_to_forecasts`); a frame without any gives its point
    forecasts as the level ``levels_hint[0]``.
    """
    point, levels, values = frame_to_forecasts(frame, panel, id_col=id_col, time_col=time_col)
    if not levels:
        return [float(levels_hint[0])], _stack(list(point), horizon)[..., None]
    return levels, _stack(list(values), horizon)


def _stack(rows: list[np.ndarray], horizon: int) -> np.ndarray:
    out = np.stack([np.asarray(r, dtype=float) for r in rows])
    if out.shape[1] != horizon:
        raise ValueError(
            f"the estimator forecast {out.shape[1]} steps per series; the folds score {horizon}"
        )
    return out
