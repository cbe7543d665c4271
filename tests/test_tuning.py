"""Hyperparameter search: folds, metrics, the search object, pruning, storages, workers, CLI."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from xlstm_ts import XLSTMForecaster
from xlstm_ts.cli import main
from xlstm_ts.data import Panel
from xlstm_ts.metrics import pinball
from xlstm_ts.tuning import (
    DefaultSearchSpace,
    RollingOrigin,
    XLSTMSearchCV,
    open_storage,
    slstm_positions,
)
from xlstm_ts.tuning.folds import read_series
from xlstm_ts.tuning.scoring import error_name, series_mase

optuna.logging.set_verbosity(optuna.logging.WARNING)

TINY = dict(
    horizon=12,
    context_length=48,
    d_model=16,
    num_blocks=1,
    num_heads=2,
    patch_len=8,
    max_epochs=2,
    batch_size=32,
    windows_per_epoch=64,
    validation_size=24,
    early_stopping_patience=None,
    trainer_kwargs={"enable_progress_bar": False},
    random_state=0,
)

# fixed tiny parameters for the command line: only learning_rate, dropout and context
# length are left to search
TINY_ARGS = [
    f"--param={k}={v}"
    for k, v in dict(
        max_epochs=1,
        d_model=16,
        num_blocks=1,
        num_heads=2,
        patch_len=8,
        slstm_at=(),
        windows_per_epoch=64,
        batch_size=32,
        validation_size=24,
        random_state=0,
    ).items()
]


def hourly(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Two noisy daily cycles, hourly, as a wide frame."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="h", name="time")
    return pd.DataFrame(
        {
            "load": np.sin(2 * np.pi * t / 24) + 0.1 * rng.normal(size=n),
            "temp": np.cos(2 * np.pi * t / 24) + 0.1 * rng.normal(size=n) + 2,
        },
        index=index,
    )


def ramp(n: int = 60) -> pd.DataFrame:
    """y = 2 t on an integer index: drift 2 forecasts it exactly."""
    return pd.DataFrame({"y": 2.0 * np.arange(n)}, index=pd.RangeIndex(n))


class DriftForecaster(BaseEstimator):
    """The last value plus ``slope`` per step: the search protocol without Lightning."""

    def __init__(self, horizon: int = 4, slope: float = 0.0) -> None:
        self.horizon = horizon
        self.slope = slope

    def fit(self, X, y=None):
        self.history_ = X.copy()
        return self

    def predict(self, X=None, h=None):
        h = h or self.horizon
        n = len(self.history_)
        steps = self.slope * np.arange(1, h + 1)
        last = self.history_.iloc[-1]
        return pd.DataFrame({c: last[c] + steps for c in last.index}, index=pd.RangeIndex(n, n + h))

    def score(self, X, y=None):
        """Minus the MAE of the forecast of X's last horizon steps from the rest."""
        history, actual = X.iloc[: -self.horizon], X.iloc[-self.horizon :]
        last = history.iloc[-1].to_numpy()
        pred = last + self.slope * np.arange(1, self.horizon + 1)[:, None]
        return -float(np.mean(np.abs(actual.to_numpy() - pred)))


# ---------------------------------------------------------------------------- metrics


def test_pinball_matches_a_hand_computation():
    y = np.array([[1.0, 3.0]])
    pred = np.array([[[0.0, 2.0], [4.0, 3.0]]])  # levels 0.1 and 0.9
    # y - pred: (1, -1) at the first step, (-1, 0) at the second; max(q d, (q - 1) d):
    # step 1: q=0.1, d=1 -> 0.1; q=0.9, d=-1 -> 0.1; step 2: q=0.1, d=-1 -> 0.9; q=0.9, d=0 -> 0
    expected = np.mean([0.1, 0.1, 0.9, 0.0])
    assert pinball(y, pred, [0.1, 0.9]) == pytest.approx(expected)
    # the median's pinball loss is half the absolute error
    assert pinball(y, np.array([[[2.0], [0.0]]]), [0.5]) == pytest.approx(0.5 * np.mean([1, 3]))
    with pytest.raises(ValueError, match=r"= \(1, 2, 2\), got \(1, 2, 1\)"):
        pinball(y, pred[..., :1], [0.1, 0.9])


def test_mase_matches_a_hand_computation():
    train = [np.array([1.0, 3.0, 2.0, 6.0]), np.array([0.0, 1.0, 2.0])]
    y_true = np.array([[5.0, 7.0], [3.0, 4.0]])
    y_pred = np.array([[6.0, 5.0], [3.0, 3.0]])
    # scales: mean |diff| = (2 + 1 + 4) / 3 and 1; MAEs: 1.5 and 0.5
    expected = np.mean([1.5 / (7 / 3), 0.5 / 1.0])
    assert series_mase(y_true, y_pred, train) == pytest.approx(expected)
    # seasonal scale with season 2: |2 - 1|, |6 - 3| -> 2
    assert series_mase(y_true[:1], y_pred[:1], train[:1], season=2) == pytest.approx(1.5 / 2)
    with pytest.raises(ValueError, match="MASE is undefined"):
        series_mase(y_true[:1], y_pred[:1], [np.ones(5)])


# ---------------------------------------------------------------------------- folds


def test_rolling_origin_folds_have_no_look_ahead():
    df = hourly(100)
    panel = read_series(df, {})
    folds = RollingOrigin(n_folds=3, horizon=5, step=7).split(df, panel, 5, {})
    assert [f.removed for f in folds] == [19, 12, 5]
    for fold in folds:
        cut = len(df) - fold.removed
        assert fold.train.index[-1] == df.index[cut - 1]  # everything before the cut
        np.testing.assert_array_equal(fold.actual, df.iloc[cut : cut + 5].to_numpy().T)
        assert fold.through_test.index[-1] == df.index[cut + 4]
        assert fold.describe()["test_start"] == str(df.index[cut])
        np.testing.assert_array_equal(fold.history[0], df["load"].to_numpy()[:cut])
    assert folds[-1].describe()["test_end"] == str(df.index[-1])


def test_rolling_origin_cuts_each_series_of_a_long_frame_and_a_panel():
    long = pd.concat(
        [
            pd.DataFrame({"unique_id": "a", "ds": np.arange(30), "y": np.arange(30.0)}),
            pd.DataFrame({"unique_id": "b", "ds": np.arange(10, 50), "y": -np.arange(40.0)}),
        ]
    ).sample(frac=1, random_state=0)  # row order must not matter
    params = {"id_col": "unique_id", "time_col": "ds"}
    panel = read_series(long, params)
    fold = RollingOrigin(n_folds=2, horizon=4).split(long, panel, 4, params)[0]
    ends = fold.train.groupby("unique_id")["ds"].max().to_dict()
    assert ends == {"a": 21, "b": 41}  # each series loses its own last 8 steps
    np.testing.assert_array_equal(fold.actual, [[22, 23, 24, 25], [-32, -33, -34, -35]])
    assert sorted(fold.test_rows["ds"]) == [22, 23, 24, 25, 42, 43, 44, 45]

    arrays = Panel.from_arrays([np.arange(20.0), np.arange(15.0)])
    fold = RollingOrigin(n_folds=1, horizon=3).split(arrays, arrays, 3, {})[0]
    assert [len(v) for v in fold.train.values] == [17, 12]
    assert fold.train.last_times == [16, 11]


def test_too_short_series_and_bad_fold_settings_are_named():
    df = ramp(20)
    with pytest.raises(ValueError, match=r"series 'y' has 20 steps.*hold out its last 20"):
        RollingOrigin(n_folds=5, horizon=4).split(df, read_series(df, {}), 4, {})
    with pytest.raises(ValueError, match="RollingOrigin n_folds must be a positive int; got 0"):
        RollingOrigin(n_folds=0)


# ---------------------------------------------------------------------------- search spaces


def test_default_space_follows_the_data_and_gives_valid_forecasters():
    from xlstm_ts.estimators.validation import check_forecaster_params

    params = XLSTMForecaster(horizon=12, context_length=48, num_heads=4).get_params()
    space = DefaultSearchSpace()
    d = space.distributions(params, shortest=100)
    # validation 10% of 100 -> 12 steps (at least a horizon); 2 horizons of windows
    assert d["context_length"].choices == (24, 48)
    # patch_len as a number of patches of at least two steps each of the shortest context
    assert d["patches"].choices == (4, 8)
    assert set(d) == {
        "learning_rate", "d_model", "num_blocks", "slstm_at", "patches", "dropout",
        "context_length",
    }  # fmt: skip
    assert "d_model" not in DefaultSearchSpace(exclude=["d_model"]).distributions(params)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    suggest = space.bind(params, shortest=100)
    for _ in range(30):
        trial = study.ask()
        values = suggest(trial)
        check_forecaster_params(XLSTMForecaster(**{**params, **values}))
        # the blocks read 4 or 8 patches whatever the context
        patches = -(-values["context_length"] // values["patch_len"])
        assert patches == trial.params["patches"] and "patches" not in values
    assert slstm_positions("alternate", 4) == (1, 3) and slstm_positions("last", 3) == (2,)


class Recorder(BaseEstimator):
    """A drift forecaster with the training parameters of XLSTMForecaster; every fit
    records its parameters."""

    fits: list[dict] = []

    def __init__(
        self,
        horizon: int = 4,
        context_length: int = 16,
        d_model: int = 64,
        num_heads: int = 4,
        num_blocks: int = 2,
        learning_rate: float = 1e-3,
        max_epochs: int = 20,
        windows_per_epoch: int | None = 8192,
        linear_path: str = "auto",
        validation_size: int | float = 0.1,
        verbose: bool = False,
    ) -> None:
        self.horizon, self.context_length, self.d_model = horizon, context_length, d_model
        self.num_heads, self.num_blocks, self.learning_rate = num_heads, num_blocks, learning_rate
        self.max_epochs, self.windows_per_epoch = max_epochs, windows_per_epoch
        self.linear_path, self.verbose = linear_path, verbose
        self.validation_size = validation_size

    def fit(self, X, y=None):
        Recorder.fits.append(self.get_params())
        self.last_ = float(X["y"].iloc[-1])
        self.n_ = len(X)
        return self

    def predict(self, X=None, h=None):
        steps = np.arange(1, self.horizon + 1)
        return pd.DataFrame(
            {"y": self.last_ + 2.0 * steps}, index=pd.RangeIndex(self.n_, self.n_ + self.horizon)
        )


def test_what_the_user_set_is_not_searched_unless_named():
    from xlstm_ts.tuning.space import explicit_params

    Recorder.fits = []
    user = Recorder(d_model=16, context_length=12, max_epochs=2)
    assert sorted(explicit_params(user)) == ["context_length", "d_model", "max_epochs"]
    # a list and a tuple of the same values are not a user's setting
    assert explicit_params(XLSTMForecaster(quantiles=[0.1, 0.5, 0.9])) == []
    search = XLSTMSearchCV(user, n_trials=3, cv=2, random_state=0).fit(ramp())
    searched = {name for p in search.cv_results_["params"] for name in p}
    assert searched == {"learning_rate", "num_blocks"}  # d_model, context_length kept
    assert {f["d_model"] for f in Recorder.fits} == {16}
    assert {f["context_length"] for f in Recorder.fits} == {12}
    # named in search_space, a parameter is searched though set: built-in distribution
    # ("default", or a list of names) or the user's own
    for space in (["d_model"], {"d_model": "default"}):
        search = XLSTMSearchCV(user, space, n_trials=4, cv=2, random_state=0).fit(ramp())
        tried = {p["d_model"] for p in search.cv_results_["params"]}
        assert set(search.best_params_) == {"d_model"} and tried <= {16, 32, 64, 128}
        assert len(tried) > 1
    space = {"d_model": "default", "learning_rate": FloatDistribution(0.5, 0.6)}
    search = XLSTMSearchCV(user, space, n_trials=2, cv=2, random_state=0).fit(ramp())
    assert 0.5 <= search.best_params_["learning_rate"] <= 0.6
    with pytest.raises(ValueError, match=r"no built-in distribution for \['horizon'\]"):
        XLSTMSearchCV(user, {"horizon": "default"}).fit(ramp())
    with pytest.raises(ValueError, match=r"sets \['context_length', 'd_model'"):
        everything = dict(learning_rate=0.01, num_blocks=3, d_model=16, context_length=12)
        XLSTMSearchCV(Recorder(**everything)).fit(ramp())


def test_trials_train_on_the_budget_and_the_user_setting_wins():
    Recorder.fits = []
    space = {"learning_rate": FloatDistribution(1e-3, 1e-2)}
    search = XLSTMSearchCV(Recorder(max_epochs=2), space, n_trials=2, cv=2).fit(ramp())
    trials, refit = Recorder.fits[:-1], Recorder.fits[-1]
    assert len(trials) == 4  # two trials of two folds
    # the budget's training, but the user's explicit max_epochs
    budget = {(f["max_epochs"], f["windows_per_epoch"], f["linear_path"], f["validation_size"])
              for f in trials}  # fmt: skip
    assert budget == {(2, 1024, "ridge", 1)}  # validation: the last horizon steps
    assert search.trial_budget_ == {
        "windows_per_epoch": 1024, "linear_path": "ridge", "validation_size": 1,
    }  # fmt: skip
    assert search.study_.trials[0].user_attrs["budget"] == search.trial_budget_
    # the best configuration is refitted as the estimator says
    assert (refit["max_epochs"], refit["windows_per_epoch"], refit["linear_path"]) == (
        2, 8192, "auto",
    )  # fmt: skip
    assert refit["validation_size"] == 0.1
    # a budget of one's own, or none; a searched parameter is the search's
    Recorder.fits = []
    own = {"max_epochs": 1, "windows_per_epoch": 64, "no_such_parameter": 1}
    space = {"windows_per_epoch": CategoricalDistribution([128, 256])}
    search = XLSTMSearchCV(Recorder(), space, n_trials=2, cv=1, refit=False, trial_budget=own)
    search.fit(ramp())
    assert {f["max_epochs"] for f in Recorder.fits} == {1}
    assert {f["windows_per_epoch"] for f in Recorder.fits} <= {128, 256}
    Recorder.fits = []
    XLSTMSearchCV(Recorder(), space, n_trials=1, cv=1, refit=False, trial_budget=None).fit(ramp())
    assert Recorder.fits[0]["max_epochs"] == 20


@pytest.mark.parametrize("verbose", [False, True])
def test_optuna_logs_under_verbose_and_its_level_is_restored(verbose, caplog):
    seen = []
    optuna.logging.set_verbosity(optuna.logging.DEBUG)
    optuna.logging.enable_propagation()
    try:
        with caplog.at_level("DEBUG", logger="optuna"):
            XLSTMSearchCV(
                Recorder(),
                {"learning_rate": FloatDistribution(1e-3, 1e-2)},
                n_trials=1,
                cv=1,
                refit=False,
                verbose=verbose,
                callbacks=[lambda study, trial: seen.append(optuna.logging.get_verbosity())],
            ).fit(ramp())
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG  # restored
    finally:
        optuna.logging.disable_propagation()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    assert seen == [optuna.logging.INFO if verbose else optuna.logging.WARNING]
    finished = [r for r in caplog.records if "Trial 0 finished" in r.getMessage()]
    assert bool(finished) == verbose
    # None: the estimator's own verbose decides
    search = XLSTMSearchCV(
        Recorder(verbose=True),
        {"learning_rate": FloatDistribution(0, 1)},
        n_trials=1,
        cv=1,
        refit=False,
        callbacks=[lambda study, trial: seen.append(optuna.logging.get_verbosity())],
    )
    search.fit(ramp())
    assert seen[-1] == optuna.logging.INFO


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(scoring="rmse"), ValueError, r"'scoring' parameter of XLSTMSearchCV must be"),
        # an error's name is not a scorer's: scorers are greater-is-better
        (dict(scoring="mse"), ValueError, r"'scoring' parameter of XLSTMSearchCV must be"),
        (dict(storage="study.db"), ValueError, r"storage='study.db' is not a database URL"),
        (
            dict(search_space={"slop": FloatDistribution(0, 1)}),
            ValueError,
            r"search_space names \['slop'\].*parameters are \['horizon', 'slope'\]",
        ),
        (
            dict(search_space={"slope": 0.5}),
            ValueError,
            r"search_space\['slope'\] must be an Optuna distribution",
        ),
        (dict(cv=RollingOrigin(20)), ValueError, "use fewer folds"),
    ],
)
def test_bad_search_settings_are_named(kwargs, error, match):
    space = {"slope": FloatDistribution(0, 3)}
    search = XLSTMSearchCV(DriftForecaster(), **{"search_space": space, **kwargs})
    with pytest.raises(error, match=match):
        search.fit(ramp())


# ---------------------------------------------------------------------------- any estimator


def test_search_works_on_any_estimator_of_the_protocol_and_finds_the_exact_one():
    space = {"slope": CategoricalDistribution([0.0, 1.0, 2.0, 3.0])}
    search = XLSTMSearchCV(
        DriftForecaster(),
        space,
        n_trials=4,
        cv=3,
        scoring="neg_mean_absolute_error",
        sampler=optuna.samplers.BruteForceSampler(seed=0),
    ).fit(ramp())
    assert search.best_params_ == {"slope": 2.0} and search.best_score_ == 0.0
    results = pd.DataFrame(search.cv_results_)
    assert sorted(results["param_slope"]) == [0.0, 1.0, 2.0, 3.0]
    # drift s misses 2 t by |2 - s| per step: mean over steps 1..4 is 2.5 |2 - s|; the
    # scores are minus that, as in scikit-learn, and rank 1 is the highest
    by_slope = results.set_index("param_slope")
    assert by_slope.loc[0.0, "mean_test_score"] == pytest.approx(-5.0)
    assert by_slope.loc[3.0, "mean_test_score"] == pytest.approx(-2.5)
    assert list(by_slope.loc[[2.0, 1.0, 3.0, 0.0], "rank_test_score"]) == [1, 2, 2, 4]
    assert list(results.columns[results.columns.str.startswith("split")]) == [
        "split0_test_score", "split1_test_score", "split2_test_score",
    ]  # fmt: skip
    pd.testing.assert_frame_equal(
        search.predict(), pd.DataFrame({"y": [120.0, 122, 124, 126]}, index=pd.RangeIndex(60, 64))
    )
    folds = search.study_.trials[0].user_attrs["folds"]
    assert [f["held_out"] for f in folds] == [12, 8, 4]


@pytest.mark.parametrize(
    "scoring,error_of_slope",
    [
        # MASE: MAE 2.5 |2 - s| over the ramp's naive one-step error, 2
        ("neg_mase", lambda s: 2.5 * abs(2 - s) / 2),
        # the estimator's own score: minus the MAE
        ("score", lambda s: 2.5 * abs(2 - s)),
        # a function of (y_true, y_pred, y_train) -> score: minus the largest miss (step 4)
        (lambda y, p, train: -float(np.max(np.abs(y - p))), lambda s: 4 * abs(2 - s)),
    ],
)
def test_scorers_score_minus_the_error_that_the_study_minimises(scoring, error_of_slope):
    # slope 3 misses the ramp by 1 per step, slope 0 by 2: slope 3 is the better one
    space = {"slope": CategoricalDistribution([0.0, 3.0])}
    search = XLSTMSearchCV(
        DriftForecaster(),
        space,
        n_trials=2,
        scoring=scoring,
        sampler=optuna.samplers.BruteForceSampler(seed=0),
        refit=False,
    ).fit(ramp())
    assert search.best_params_ == {"slope": 3.0}
    assert search.best_score_ == pytest.approx(-error_of_slope(3.0))
    assert search.study_.direction == optuna.study.StudyDirection.MINIMIZE
    for slope, score in zip(
        search.cv_results_["param_slope"], search.cv_results_["mean_test_score"], strict=True
    ):
        assert score == pytest.approx(-error_of_slope(slope))
    for trial in search.study_.trials:  # the study keeps errors: lower is better
        error = error_of_slope(trial.params["slope"])
        assert trial.value == pytest.approx(error)
        assert trial.user_attrs["fold_errors"] == pytest.approx([error] * 3)


def test_error_names_say_what_the_study_minimises():
    assert error_name("neg_mean_squared_error") == "mean_squared_error"
    assert error_name("neg_mase") == "mase"
    assert error_name("score") == "minus score"

    def largest_miss(y, p, train):
        return -float(np.max(np.abs(y - p)))

    assert error_name(largest_miss) == "minus largest_miss"


def test_fold_errors_prune_an_estimator_without_lightning():
    space = {"slope": CategoricalDistribution([2.0, 10.0])}
    search = XLSTMSearchCV(
        DriftForecaster(),
        space,
        n_trials=2,
        cv=3,
        scoring="neg_mean_squared_error",
        sampler=optuna.samplers.BruteForceSampler(seed=0),
        pruner=optuna.pruners.ThresholdPruner(upper=1.0),  # on the mean fold error
    ).fit(ramp())
    states = dict(zip(search.cv_results_["param_slope"], search.cv_results_["state"], strict=True))
    assert states == {2.0: "COMPLETE", 10.0: "PRUNED"}
    pruned = next(t for t in search.study_.trials if t.state == TrialState.PRUNED)
    assert list(pruned.intermediate_values) == [0]  # stopped after the first fold
    row = list(search.cv_results_["state"]).index("PRUNED")
    assert np.isnan(search.cv_results_["mean_test_score"][row])
    assert search.cv_results_["rank_test_score"][row] == 2


def test_sqlite_study_resumes_and_adds_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    space = {"slope": FloatDistribution(0.0, 3.0)}
    kw = dict(storage=url, study_name="drift", cv=2, refit=False)
    first = XLSTMSearchCV(DriftForecaster(), space, n_trials=2, random_state=0, **kw).fit(ramp())
    assert len(first.study_.trials) == 2
    second = XLSTMSearchCV(DriftForecaster(), space, n_trials=3, random_state=1, **kw).fit(ramp())
    numbers = list(second.cv_results_["number"])
    assert numbers == [0, 1, 2, 3, 4]
    assert all(second.cv_results_["state"] == "COMPLETE")
    assert second.best_score_ >= first.best_score_  # more trials: a score no lower
    with pytest.raises(NotFittedError, match="refit=False"):
        second.predict()
    # a resumed study must keep its metric
    other = XLSTMSearchCV(
        DriftForecaster(), space, n_trials=1, scoring="neg_mean_absolute_error", **kw
    )
    with pytest.raises(ValueError, match="scored with scoring='neg_mean_squared_error'"):
        other.fit(ramp())


def test_plots_are_written_from_python(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    space = {"slope": CategoricalDistribution([0.0, 1.0, 2.0])}
    search = XLSTMSearchCV(
        DriftForecaster(), space, n_trials=3, sampler=optuna.samplers.BruteForceSampler(seed=0)
    ).fit(ramp())
    written = search.save_plots(tmp_path / "pics")
    assert sorted(p.name for p in written.values()) == [
        "optimization_history.png",
        "param_importances.png",
    ]
    for path in written.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------- XLSTMForecaster


def test_search_on_a_tiny_forecaster_refits_a_best_estimator_that_predicts():
    df = hourly()
    space = {
        "learning_rate": FloatDistribution(1e-3, 1e-2, log=True),
        "d_model": CategoricalDistribution([8, 16]),
    }
    search = XLSTMSearchCV(XLSTMForecaster(**TINY), space, n_trials=3, cv=2, random_state=0)
    twin = clone(search)
    assert twin.get_params()["search_space"] == space and not hasattr(twin, "study_")
    search.fit(df)
    results = search.cv_results_
    assert len(results["number"]) == 3 and set(results["state"]) == {"COMPLETE"}
    best = search.best_index_
    assert results["params"][best] == search.best_params_
    assert results["rank_test_score"][best] == 1
    assert search.best_score_ == pytest.approx(
        np.mean([results["split0_test_score"][best], results["split1_test_score"][best]])
    )
    assert search.best_estimator_.get_params()["d_model"] == search.best_params_["d_model"]
    pred = search.predict()
    assert pred.index[0] == df.index[-1] + pd.Timedelta(hours=1)
    assert list(pred.columns) == ["load", "temp"] and np.isfinite(pred.to_numpy()).all()
    q = search.predict_quantiles()
    assert "load_q0.9" in q.columns and "load" in q.columns
    # the fold error is the MSE of the refitted configuration's forecast of each test block
    assert all(f["horizon"] == 12 for f in search.study_.best_trial.user_attrs["folds"])


def test_pinball_scoring_and_long_frames():
    long = hourly(260).reset_index().melt(id_vars="time", var_name="unique_id", value_name="y")
    long = long.rename(columns={"time": "ds"})
    space = {"learning_rate": FloatDistribution(1e-3, 1e-2, log=True)}
    params = {**TINY, "max_epochs": 1}
    search = XLSTMSearchCV(
        XLSTMForecaster(**params),
        space,
        n_trials=1,
        cv=1,
        scoring="neg_mean_pinball_loss",
        refit=False,
    ).fit(long)
    assert -1 < search.best_score_ < 0  # minus the pinball loss of unit-scale cycles


def test_future_covariates_are_given_for_each_test_block():
    # y follows a price known in advance: the folds must pass its values over each test
    # block (X_future), or predict would refuse to forecast
    t = np.arange(240)
    price = np.random.default_rng(0).normal(size=240)
    df = pd.DataFrame({"unique_id": "plant", "ds": t, "price": price, "y": 3 * price})
    params = {**TINY, "future_covariates": ["price"], "max_epochs": 1}
    space = {"learning_rate": FloatDistribution(1e-3, 1e-2, log=True)}
    search = XLSTMSearchCV(
        XLSTMForecaster(**params), space, n_trials=1, cv=2, refit=False, random_state=0
    ).fit(df)
    assert np.isfinite(search.best_score_)
    assert [f["test_start"] for f in search.study_.best_trial.user_attrs["folds"]] == [
        "216", "228",
    ]  # fmt: skip


def test_lightning_pruning_stops_a_hopeless_learning_rate_after_one_epoch():
    # a good rate, a hopeless one, and the good one again (the same seed gives the same
    # losses), queued in this order in a study that the search then resumes
    storage = optuna.storages.InMemoryStorage()
    queued = optuna.create_study(storage=storage, study_name="rates")
    for rate in (1e-2, 50.0, 1e-2):
        queued.enqueue_trial({"learning_rate": rate})
    params = {**TINY, "max_epochs": 3}
    search = XLSTMSearchCV(
        XLSTMForecaster(**params),
        {"learning_rate": CategoricalDistribution([1e-2, 50.0])},
        n_trials=3,
        cv=1,
        storage=storage,
        study_name="rates",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0),
        refit=False,
    ).fit(hourly())
    trials = search.study_.trials
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert list(trials[0].intermediate_values) == [0, 1, 2]  # one report per epoch
    assert list(trials[1].intermediate_values) == [0]  # pruned after its first epoch
    assert list(search.cv_results_["state"]) == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert search.best_params_["learning_rate"] == 1e-2


def test_each_network_of_each_fold_reports_its_own_steps_and_no_warning():
    # linear_path="auto" trains four networks per fold (the ridge start and three from
    # scratch), each reporting its epochs: no step may be reported twice
    import warnings

    params = {**TINY, "max_epochs": 2}
    search = XLSTMSearchCV(
        XLSTMForecaster(**params),
        {"learning_rate": FloatDistribution(1e-3, 1e-2, log=True)},
        n_trials=1,
        cv=2,
        refit=False,
        trial_budget=None,  # keep "auto"
        pruner=optuna.pruners.NopPruner(),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(hourly())
    assert not [w for w in caught if "already reported" in str(w.message)]
    steps = sorted(search.study_.trials[0].intermediate_values)
    assert steps == [
        fold * 10_000 + network * 1_000 + epoch
        for fold in range(2)
        for network in range(4)
        for epoch in range(2)
    ]


def test_the_default_budget_trains_one_network_a_few_epochs_per_fold():
    params = {k: v for k, v in TINY.items() if k not in ("max_epochs", "early_stopping_patience")}
    search = XLSTMSearchCV(
        XLSTMForecaster(**params),
        {"learning_rate": FloatDistribution(1e-3, 1e-2, log=True)},
        n_trials=1,
        cv=1,
        refit=False,
        pruner=optuna.pruners.NopPruner(),
    ).fit(hourly())
    # the ridge-started network only, at most 3 epochs (windows_per_epoch=64 is the user's)
    assert search.trial_budget_ == {"max_epochs": 3, "linear_path": "ridge"}
    assert set(search.study_.trials[0].intermediate_values) <= {0, 1, 2}


# ---------------------------------------------------------------------------- command line


def write_csv(path: Path) -> Path:
    hourly().reset_index().to_csv(path, index=False)
    return path


def test_tune_command_end_to_end_and_resume(tmp_path, capsys):
    csv = write_csv(tmp_path / "data.csv")
    url = f"sqlite:///{tmp_path / 'tune.db'}"
    args = ["tune", str(csv), "--target", "load", "--horizon", "12", "--folds", "2", *TINY_ARGS]
    args += ["--storage", url, "--study-name", "cli", "--seed", "0"]
    out = tmp_path / "best.json"
    first = [*args, "--trials", "2", "--output", str(out), "--plots", str(tmp_path / "pics")]
    assert main([*first, "--save-model", str(tmp_path / "model")]) == 0
    printed = capsys.readouterr().out
    assert "study 'cli'" in printed and "best trial #" in printed
    result = json.loads(out.read_text())
    assert result["n_trials"] == 2 and result["trials_by_state"]["complete"] == 2
    # the scorer's score (minus the MSE) of the best trial; the study keeps the error
    assert result["scoring"] == "neg_mean_squared_error"
    study_error = optuna.load_study(study_name="cli", storage=url).best_value
    assert study_error > 0 and result["best_score"] == pytest.approx(-study_error)
    assert set(result["best_params"]) == {"learning_rate", "dropout", "context_length"}
    assert result["estimator_params"]["d_model"] == 16  # fixed with --param
    assert result["estimator_params"]["learning_rate"] == result["best_params"]["learning_rate"]
    XLSTMForecaster(**result["estimator_params"])._validate_params()  # ready to use
    assert [f["held_out"] for f in result["folds"]] == [24, 12]
    for name in ("optimization_history.png", "param_importances.png"):
        assert (tmp_path / "pics" / name).read_bytes()[:4] == b"\x89PNG"
    model = XLSTMForecaster.load(tmp_path / "model")
    assert model.context_length == result["best_params"]["context_length"]
    assert len(model.predict()) == 12
    # a second start resumes the study, and stops when the study holds 3 trials
    assert main([*args, "--total-trials", "3", "--output", str(out)]) == 0
    assert json.loads(out.read_text())["n_trials"] == 3


def test_tune_command_passes_the_trial_budget_and_verbose(tmp_path, monkeypatch):
    from xlstm_ts.tuning.search import XLSTMSearchCV as Search

    seen = []

    def record(self, X, y=None):
        seen.append((self.trial_budget, self.verbose))
        raise KeyboardInterrupt  # stop before any training

    monkeypatch.setattr(Search, "fit", record)
    csv = write_csv(tmp_path / "data.csv")
    base = ["tune", str(csv), "--target", "load", "--horizon", "12", *TINY_ARGS]
    for extra in ([], ["--trial-budget", "none", "--verbose"]):
        with pytest.raises(KeyboardInterrupt):
            main([*base, *extra])
    assert seen == [("default", False), (None, True)]


# ---------------------------------------------------------------------------- workers


def tune_worker(csv: Path, url: str, name: str, *extra: str) -> list[str]:
    """The command line of one worker process."""
    base = [sys.executable, "-m", "xlstm_ts.cli", "tune", str(csv), "--target", "load"]
    return [*base, "--horizon", "12", "--folds", "1", *TINY_ARGS, "--storage", url,
            "--study-name", name, *extra]  # fmt: skip


def run_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def postgres():
    """``new_database()``: the URL of a fresh, empty database on the local PostgreSQL
    server, which is started if it is down; the databases are dropped afterwards.

    The server is managed with Debian's ``pg_ctlcluster`` (``.ci/run`` installs
    PostgreSQL); without PostgreSQL the tests that need it are skipped.
    """
    if shutil.which("pg_lsclusters") is None:
        pytest.skip("PostgreSQL is not installed (no pg_lsclusters); .ci/run installs it")
    clusters = [
        line.split() for line in subprocess.check_output(["pg_lsclusters", "-h"], text=True)
        .splitlines() if line.strip()
    ]  # fmt: skip
    if not clusters:
        pytest.fail("PostgreSQL is installed but has no cluster: run pg_createcluster")
    version, cluster, port, status = clusters[0][:4]
    if status != "online":
        subprocess.run(["pg_ctlcluster", version, cluster, "start"], check=True)
    # psql as the server's superuser: root switches user, others need sudo
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() != 0 and os.environ.get("USER") != "postgres":
        as_postgres = ["sudo", "-n", "-u", "postgres"]

    def psql(sql: str) -> None:
        cmd = [*as_postgres, "psql", "-p", port, "-v", "ON_ERROR_STOP=1", "-qc", sql]
        subprocess.run(cmd, check=True, capture_output=True, cwd="/")

    psql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'xlstm_ts_test') "
        "THEN CREATE ROLE xlstm_ts_test LOGIN PASSWORD 'xlstm_ts_test'; END IF; END $$;"
    )
    created = []

    def new_database() -> str:
        name = f"xlstm_ts_test_{os.getpid()}_{len(created)}"
        psql(f"DROP DATABASE IF EXISTS {name}")
        psql(f"CREATE DATABASE {name} OWNER xlstm_ts_test")
        created.append(name)
        return f"postgresql+psycopg2://xlstm_ts_test:xlstm_ts_test@127.0.0.1:{port}/{name}"

    yield new_database
    for name in created:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_workers_that_start_together_on_an_empty_database_all_connect(postgres):
    url = postgres()
    barrier = threading.Barrier(6)

    def connect(_):
        barrier.wait()  # all at once, as workers started by one script
        return open_storage(url)

    with ThreadPoolExecutor(6) as pool:
        storages = list(pool.map(connect, range(6)))
    study = optuna.create_study(storage=storages[0], study_name="together")
    assert optuna.load_study(study_name="together", storage=storages[-1])._study_id == (
        study._study_id
    )


def test_two_workers_share_one_postgres_study(tmp_path, postgres):
    postgres_url = postgres()
    csv = write_csv(tmp_path / "data.csv")
    outputs = [tmp_path / f"worker{k}.json" for k in range(2)]
    workers = [
        subprocess.Popen(
            tune_worker(
                csv,
                postgres_url,
                "shared",
                "--trials",
                "3",
                "--seed",
                str(k),
                "--output",
                str(outputs[k]),
            ),  # fmt: skip
            env=run_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for k in range(2)
    ]
    logs = [w.communicate(timeout=600)[0] for w in workers]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.returncode == 0, log[-3000:]
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == list(range(6))  # none lost, none twice
    assert {t.state for t in trials} == {TrialState.COMPLETE}
    by_worker = pd.Series([t.user_attrs["worker"] for t in trials]).value_counts()
    assert sorted(by_worker) == [3, 3]  # each process ran its own three trials
    assert max(json.loads(p.read_text())["n_trials"] for p in outputs) == 6


def test_a_killed_worker_does_not_stall_the_study(tmp_path):
    csv = write_csv(tmp_path / "data.csv")
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    slow = ["--param=max_epochs=100000", "--param=early_stopping_patience=None"]
    victim = subprocess.Popen(
        tune_worker(csv, url, "kill", "--trials", "1", "--heartbeat-interval", "1", *slow),
        env=run_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while True:  # wait until the victim is inside its trial
            assert victim.poll() is None, "the worker ended before it could be killed"
            assert time.monotonic() < deadline, "the worker never started a trial"
            try:
                study = optuna.load_study(study_name="kill", storage=url)
                if study.get_trials(states=(TrialState.RUNNING,)):
                    break
            except KeyError:  # the study does not exist yet
                pass
            time.sleep(0.2)
        time.sleep(1.5)  # at least one heartbeat
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    [stuck] = optuna.load_study(study_name="kill", storage=url).get_trials()
    assert stuck.state == TrialState.RUNNING  # the killed worker left its trial behind
    time.sleep(3)  # longer than the grace period (2 heartbeats)
    out = tmp_path / "rescue.json"
    # another worker (this process: it need not import torch again) finishes the study
    rescue = tune_worker(csv, url, "kill", "--trials", "2", "--heartbeat-interval", "1")
    assert main([*rescue[3:], "--output", str(out)]) == 0  # without "python -m xlstm_ts.cli"
    trials = optuna.load_study(study_name="kill", storage=url).get_trials()
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    retry = trials[1]
    assert retry.system_attrs["failed_trial"] == 0  # the dead worker's trial, run again
    assert retry.params == stuck.params
    assert json.loads(out.read_text())["trials_by_state"] == {
        "running": 0, "complete": 2, "pruned": 0, "fail": 1, "waiting": 0,
    }  # fmt: skip


def test_open_storage_kinds(tmp_path):
    assert isinstance(open_storage(None), optuna.storages.InMemoryStorage)
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=5)
    assert storage.heartbeat_interval == 5 and storage.failed_trial_callback is not None
    assert open_storage(storage) is storage
    plain = open_storage(f"sqlite:///{tmp_path / 't.db'}", heartbeat_interval=None)
    assert plain.heartbeat_interval is None
