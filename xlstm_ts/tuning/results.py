"""A study's trials as scikit-learn's ``cv_results_``: a dict of equally long arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial, TrialState


def trial_params(trial: FrozenTrial) -> dict[str, Any]:
    """The estimator parameters a trial tried (its suggested values when it has no record)."""
    return dict(trial.user_attrs.get("params", trial.params))


def cv_results(trials: Sequence[FrozenTrial]) -> dict[str, np.ndarray]:
    """One entry per trial, in trial order.

    Keys: ``number``, ``state`` (``"COMPLETE"``, ``"PRUNED"``, ``"FAIL"``, ``"RUNNING"``,
    ``"WAITING"``), ``params`` (dicts), ``param_<name>`` (masked where a trial lacks the
    parameter), ``split<i>_test_score`` (the score on fold ``i``, greater is better as in
    scikit-learn: minus the trial's fold error; NaN if not reached), ``mean_test_score``
    and ``std_test_score`` (over the folds, complete trials only; NaN otherwise),
    ``rank_test_score`` (1 = highest score; trials without a score rank last),
    ``duration_s``, ``worker`` and ``retried_from`` (the trial a retry repeats, or -1).
    ``pd.DataFrame(cv_results)`` gives a table.
    """
    n = len(trials)
    params = [trial_params(t) for t in trials]
    names = sorted({name for p in params for name in p})
    errors = [t.user_attrs.get("fold_errors", []) for t in trials]
    n_folds = max((len(e) for e in errors), default=0)
    split = np.full((n, n_folds), np.nan)  # scores: minus the fold errors
    for row, values in enumerate(errors):
        split[row, : len(values)] = [np.nan if v is None else -v for v in values]
    complete = np.array([t.state == TrialState.COMPLETE for t in trials], dtype=bool)
    mean, std = np.full(n, np.nan), np.full(n, np.nan)
    if n_folds and complete.any():
        mean[complete] = np.nanmean(split[complete], axis=1)
        std[complete] = np.nanstd(split[complete], axis=1)
    out: dict[str, Any] = {
        "number": np.array([t.number for t in trials], dtype=int),
        "state": np.array([t.state.name for t in trials], dtype=object),
        "params": _objects(params),
    }
    for name in names:
        values = np.ma.masked_all(n, dtype=object)
        for row, p in enumerate(params):
            if name in p:
                values[row] = p[name]
        out[f"param_{name}"] = values
    for i in range(n_folds):
        out[f"split{i}_test_score"] = split[:, i]
    out["mean_test_score"] = mean
    out["std_test_score"] = std
    out["rank_test_score"] = _ranks(mean)
    out["duration_s"] = np.array(
        [t.duration.total_seconds() if t.duration is not None else np.nan for t in trials]
    )
    out["worker"] = np.array([t.user_attrs.get("worker", "") for t in trials], dtype=object)
    out["retried_from"] = np.array(
        [t.system_attrs.get("failed_trial", -1) for t in trials], dtype=int
    )
    return out


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks as scikit-learn gives them: 1 for the highest score, ties share the lower
    rank, missing scores after all others."""
    ranks = np.full(len(scores), len(scores), dtype=np.int32)
    finite = ~np.isnan(scores)
    order = np.sort(-scores[finite])
    ranks[finite] = np.searchsorted(order, -scores[finite], side="left") + 1
    return ranks


def _objects(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out
