"""``XLSTMSearchCV``: hyperparameter search with Optuna and rolling-origin validation."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.exceptions import ExperimentalWarning
from optuna.pruners import BasePruner, MedianPruner
from optuna.samplers import BaseSampler, TPESampler
from optuna.storages import BaseStorage
from optuna.trial import TrialState
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions

from xlstm_ts.data import Panel
from xlstm_ts.jsonable import jsonable

from .budget import trial_budget
from .folds import Fold, RollingOrigin, read_series
from .results import cv_results, trial_params
from .scoring import SCORERS, Scorer, fold_error, scoring_name
from .space import DefaultSearchSpace, SearchSpace, explicit_params, resolve_space
from .storage import open_storage, worker_id


class XLSTMSearchCV(BaseEstimator):
    """Search an estimator's hyperparameters with Optuna, scored by rolling origin.

    Each trial sets the suggested parameters on a clone of ``estimator``, fits it on the
    data before each fold's test block and forecasts that block (see
    :class:`~xlstm_ts.tuning.RollingOrigin`). ``scoring`` scores each forecast, greater is
    better as in scikit-learn; the trial's value is the mean fold error (minus the score)
    over the folds, which the study minimises. Estimators trained with Lightning (those with a
    ``trainer_kwargs`` parameter) report their validation loss after every epoch and are
    pruned by ``pruner`` while they train; other estimators report each fold's error.

    Any estimator of the library's protocol can be searched: ``get_params``/``set_params``,
    ``fit(X)``, ``predict(h=None, X_future=None)`` returning a frame shaped like ``X``
    (``predict_quantiles`` for ``scoring="neg_mean_pinball_loss"``, ``score(X)`` for
    ``"score"``).

    Parameters
    ----------
    estimator : estimator
        The estimator to tune (not changed; clones are fitted).
    search_space : mapping, list of str, callable or DefaultSearchSpace, optional
        What is searched. ``None``: the built-in distributions
        (:class:`~xlstm_ts.tuning.DefaultSearchSpace`: learning rate, width, depth, sLSTM
        positions, patch length, dropout and the context lengths the data allow) of the
        parameters left at the estimator's defaults: what the user set on ``estimator``
        stays as set. A mapping: parameter name → Optuna distribution, or ``"default"``
        for the built-in one; a list of names: each with its built-in distribution; a
        parameter named is searched even if set on ``estimator``. Or ``space(trial) ->
        dict`` of estimator parameters, or a ``DefaultSearchSpace`` taken as it says.
    n_trials : int, optional
        Trials this call of ``fit`` runs (added to those already in a resumed study);
        ``None``: until ``timeout`` or a callback stops the study.
    timeout : float, optional
        Seconds after which no new trial starts.
    cv : int or RollingOrigin
        Number of rolling-origin folds, or the folds' definition.
    scoring : str or callable
        The scorer, greater is better as in scikit-learn: ``"neg_mean_squared_error"``,
        ``"neg_mean_absolute_error"``, ``"neg_mase"``, ``"neg_mean_pinball_loss"``,
        ``"score"`` (the estimator's own ``score``), or ``f(y_true, y_pred, y_train) ->
        score`` (see :data:`~xlstm_ts.tuning.scoring.SCORERS`; negate an error). The study
        minimises minus the score.
    storage : str or optuna storage, optional
        ``None``: in memory. A database URL (``"sqlite:///study.db"``,
        ``"postgresql://user:password@host/db"``) keeps the study, so that several
        processes can share it and a later ``fit`` with the same ``study_name`` resumes it.
    study_name : str, optional
        Name of the study in ``storage``; an existing study of that name is resumed.
    pruner : optuna pruner, optional
        ``None``: ``MedianPruner(n_startup_trials=5, n_warmup_steps=2)``; pass
        ``optuna.pruners.NopPruner()`` to prune nothing.
    sampler : optuna sampler, optional
        ``None``: ``TPESampler(seed=random_state, constant_liar=True)`` (the running
        trials of other workers count as poor ones, so that workers spread out).
    n_jobs : int
        Trials run at once in threads of this process (Optuna's ``n_jobs``; -1: one per
        CPU); for parallel training prefer several processes sharing a database
        ``storage``.
    refit : bool
        Fit the best configuration on all of ``X`` (``best_estimator_``).
    random_state : int, optional
        Seed of the default sampler. Give each worker of a shared study its own seed.
    heartbeat_interval : int, optional
        Seconds between heartbeats of running trials when ``storage`` is a database URL;
        the trials of a worker that stopped beating for twice as long are failed and
        queued again (see :func:`~xlstm_ts.tuning.open_storage`). ``None`` turns this
        off; a storage object keeps its own settings.
    callbacks : list, optional
        Optuna callbacks ``f(study, trial)`` called after each trial of this process,
        e.g. ``optuna.study.MaxTrialsCallback(100)`` to stop every worker of a shared
        study once it holds 100 finished trials.
    trial_budget : "default", mapping or None
        Estimator parameters that bound each trial's training. ``"default"``:
        :data:`~xlstm_ts.tuning.budget.TRIAL_BUDGET` (3 epochs of 1,024 windows, the
        ridge-started network only, validated on the last ``horizon`` steps of each
        series); a mapping: those parameters; ``None``: trials train as ``estimator`` says.
        Only parameters the estimator has are set, and none the user set on
        ``estimator`` (an explicit ``max_epochs`` wins) or that the trial searches. The
        refit of the best configuration trains as ``estimator`` says.
    verbose : bool, optional
        Optuna's log line per trial (its INFO level); otherwise only its warnings.
        ``None``: the estimator's ``verbose``. Optuna's level is restored after ``fit``.

    Attributes
    ----------
    best_params_ : dict
        Estimator parameters of the best complete trial of the study.
    best_score_ : float
        Its mean score over the folds (greater is better: minus the mean fold error that
        the study minimised, ``-study_.best_value``).
    best_index_ : int
        Its position in ``cv_results_``.
    best_estimator_ : estimator
        ``estimator`` with ``best_params_``, fitted on all of ``X`` (``refit=True``).
    study_ : optuna.Study
        The study, with every trial (also those of earlier runs and other workers).
    cv_results_ : dict of arrays
        One entry per trial of the study (see :func:`~xlstm_ts.tuning.results.cv_results`);
        pruned trials have state ``"PRUNED"``.
    n_splits_ : int
        Number of folds.
    refit_time_ : float
        Seconds spent refitting the best configuration.
    trial_budget_ : dict
        The parameters of the trial budget set on every trial (``trial_budget`` less what
        the user set); recorded on each trial as ``user_attrs["budget"]``.

    Examples
    --------
    >>> from xlstm_ts import XLSTMForecaster
    >>> from xlstm_ts.tuning import XLSTMSearchCV
    >>> search = XLSTMSearchCV(XLSTMForecaster(horizon=24, max_epochs=5), n_trials=20)
    >>> search.fit(df).best_params_                      # doctest: +SKIP
    >>> search.predict()                                 # doctest: +SKIP
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "estimator": [HasMethods(["fit", "predict", "get_params", "set_params"])],
        "search_space": [Mapping, list, tuple, callable, DefaultSearchSpace, None],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "cv": [Interval(Integral, 1, None, closed="left"), RollingOrigin],
        "scoring": [StrOptions(set(SCORERS)), callable],
        "storage": [str, BaseStorage, None],
        "study_name": [str, None],
        "pruner": [BasePruner, None],
        "sampler": [BaseSampler, None],
        "n_jobs": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1})],
        "refit": ["boolean"],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "heartbeat_interval": [Interval(Integral, 1, None, closed="left"), None],
        "callbacks": [list, tuple, None],
        "trial_budget": [StrOptions({"default"}), Mapping, None],
        "verbose": ["boolean", None],
    }

    def __init__(
        self,
        estimator: Any,
        search_space: SearchSpace | DefaultSearchSpace | None = None,
        *,
        n_trials: int | None = 10,
        timeout: float | None = None,
        cv: int | RollingOrigin = 3,
        scoring: str | Scorer = "neg_mean_squared_error",
        storage: str | BaseStorage | None = None,
        study_name: str | None = None,
        pruner: BasePruner | None = None,
        sampler: BaseSampler | None = None,
        n_jobs: int = 1,
        refit: bool = True,
        random_state: int | None = None,
        heartbeat_interval: int | None = 60,
        callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] | None = None,
        trial_budget: str | Mapping[str, Any] | None = "default",
        verbose: bool | None = None,
    ) -> None:
        self.estimator = estimator
        self.search_space = search_space
        self.n_trials = n_trials
        self.timeout = timeout
        self.cv = cv
        self.scoring = scoring
        self.storage = storage
        self.study_name = study_name
        self.pruner = pruner
        self.sampler = sampler
        self.n_jobs = n_jobs
        self.refit = refit
        self.random_state = random_state
        self.heartbeat_interval = heartbeat_interval
        self.callbacks = callbacks
        self.trial_budget = trial_budget
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def _folds(self, X: Any, params: Mapping[str, Any]) -> tuple[Panel, list[Fold]]:
        cv = self.cv if isinstance(self.cv, RollingOrigin) else RollingOrigin(n_folds=self.cv)
        horizon = cv.horizon or params.get("horizon")
        if horizon is None:
            raise ValueError(
                f"{type(self.estimator).__name__} has no horizon parameter: give the folds' "
                "horizon with cv=RollingOrigin(n_folds, horizon=...)"
            )
        panel = read_series(X, params)
        return panel, cv.split(X, panel, int(horizon), params)

    def _study(self) -> optuna.Study:
        storage = open_storage(self.storage, heartbeat_interval=self.heartbeat_interval)
        pruner = self.pruner
        if pruner is None:
            pruner = MedianPruner(n_startup_trials=5, n_warmup_steps=2)
        sampler = self.sampler
        if sampler is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                # constant liar: other workers' running trials count as poor, so that
                # workers sharing a study spread out instead of trying the same region
                sampler = TPESampler(seed=self.random_state, constant_liar=True)
        return optuna.create_study(
            storage=storage,
            study_name=self.study_name,
            sampler=sampler,
            pruner=pruner,
            direction="minimize",
            load_if_exists=True,
        )

    def _check_resumed(self, study: optuna.Study, n_folds: int) -> None:
        """A resumed study must have been scored the same way."""
        setup = {"scoring": scoring_name(self.scoring), "n_folds": n_folds}
        for key, value in setup.items():
            stored = study.user_attrs.get(key)
            if stored is None:
                study.set_user_attr(key, value)
            elif stored != value:
                raise ValueError(
                    f"study {study.study_name!r} was scored with {key}={stored!r}; this "
                    f"search uses {key}={value!r}. Use another study_name or the same setting"
                )

    def fit(self, X: pd.DataFrame | Panel, y: None = None) -> XLSTMSearchCV:
        """Run the trials on ``X`` (a frame or a Panel), then refit the best configuration.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If no trial of the study completed (all pruned or failed).
        """
        self._validate_params()
        for name in (
            "best_estimator_", "best_params_", "best_score_", "best_index_", "study_",
            "cv_results_", "n_splits_", "refit_time_", "trial_budget_",
        ):  # fmt: skip
            self.__dict__.pop(name, None)  # a failed search leaves no stale result
        params = self.estimator.get_params(deep=False)
        panel, folds = self._folds(X, params)
        shortest = min(len(h) for fold in folds for h in fold.history)
        explicit = explicit_params(self.estimator)
        space = resolve_space(self.search_space, params, shortest, explicit)
        budget = self._budget(params, explicit)
        verbose = self.verbose if self.verbose is not None else bool(params.get("verbose"))
        level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.WARNING)
        try:
            study = self._study()
            self._check_resumed(study, len(folds))
            objective = _Objective(self.estimator, space, folds, panel, self.scoring, budget)
            study.optimize(
                objective,
                n_trials=self.n_trials,
                timeout=self.timeout,
                n_jobs=self.n_jobs,
                callbacks=list(self.callbacks or []),
            )
        finally:
            optuna.logging.set_verbosity(level)
        self.trial_budget_ = budget
        self.study_ = study
        trials = study.trials
        self.cv_results_ = cv_results(trials)
        self.n_splits_ = len(folds)
        if not any(t.state == TrialState.COMPLETE for t in trials):
            states = pd.Series([t.state.name for t in trials]).value_counts().to_dict()
            raise ValueError(
                f"no trial of study {study.study_name!r} completed ({states}); relax the "
                "pruner, widen the search space or give more trials"
            )
        best = study.best_trial
        self.best_index_ = next(i for i, t in enumerate(trials) if t.number == best.number)
        self.best_params_ = trial_params(best)
        self.best_score_ = -float(best.value)  # the study minimises minus the score
        if self.refit:
            start = time.perf_counter()
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_).fit(X)
            self.refit_time_ = time.perf_counter() - start
        return self

    def _budget(self, params: Mapping[str, Any], explicit: Sequence[str]) -> dict[str, Any]:
        """The budget's parameters that the estimator has and the user left alone."""
        return trial_budget(self.trial_budget, params, explicit)

    # ------------------------------------------------------------------ using the best
    def _best(self) -> Any:
        try:
            return self.best_estimator_
        except AttributeError:
            reason = "refit=False" if hasattr(self, "best_params_") else "call fit(X) first"
            raise NotFittedError(
                f"This {type(self).__name__} has no best_estimator_ ({reason})"
            ) from None

    def predict(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """``best_estimator_.predict``: point forecasts of the best configuration."""
        return self._best().predict(*args, **kwargs)

    def predict_quantiles(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """``best_estimator_.predict_quantiles``: quantile forecasts of the best configuration."""
        return self._best().predict_quantiles(*args, **kwargs)

    def score(self, X: Any, y: None = None) -> float:
        """``best_estimator_.score(X)``."""
        return self._best().score(X)

    def save_plots(self, folder: str | Path) -> dict[str, Path]:
        """Write the study's optimisation history and parameter importances as PNG files
        (see :func:`~xlstm_ts.tuning.save_plots`)."""
        from .plots import save_plots

        if not hasattr(self, "study_"):
            raise NotFittedError(f"This {type(self).__name__} has no study_; call fit(X) first")
        return save_plots(self.study_, folder)


class _Objective:
    """One trial: suggest, fit and score on every fold, report for pruning."""

    def __init__(
        self,
        estimator: Any,
        space: Callable[[optuna.Trial], dict[str, Any]],
        folds: Sequence[Fold],
        panel: Panel,
        scoring: str | Scorer,
        budget: Mapping[str, Any],
    ) -> None:
        self.estimator, self.space, self.folds = estimator, space, folds
        self.panel, self.scoring, self.budget = panel, scoring, dict(budget)
        self.lightning = "trainer_kwargs" in estimator.get_params(deep=False)

    def __call__(self, trial: optuna.Trial) -> float:
        from .pruning import with_pruning

        params = self.space(trial)
        trial.set_user_attr("params", jsonable(params))
        trial.set_user_attr("folds", [fold.describe() for fold in self.folds])
        trial.set_user_attr("worker", worker_id())
        trial.set_user_attr("fold_errors", [])  # a retry must not show the dead trial's
        budget = {k: v for k, v in self.budget.items() if k not in params}  # searched wins
        trial.set_user_attr("budget", jsonable(budget))
        configured = clone(self.estimator).set_params(**budget, **params)
        all_params = configured.get_params(deep=False)
        errors: list[float] = []
        for fold in self.folds:
            model = clone(configured)
            if self.lightning:
                model = with_pruning(model, trial, fold.index)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                model.fit(fold.train)
            errors.append(fold_error(model, fold, self.panel, self.scoring, all_params))
            trial.set_user_attr("fold_errors", jsonable(errors))
            if not self.lightning:
                trial.report(float(np.mean(errors)), fold.index)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after fold {fold.index}")
        return float(np.mean(errors))
