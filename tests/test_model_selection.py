"""Forecasters inside scikit-learn: the time splitter, scorers, searches, backtests and
conformal intervals."""

import math
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)

from xlstm_ts import XLSTMForecaster
from xlstm_ts.metrics import mae, smape
from xlstm_ts.model_selection import (
    SCORERS,
    ConformalForecaster,
    TimeSeriesSplitter,
    backtest,
    forecast_scorers,
    get_forecast_scorer,
    make_forecast_scorer,
)

matplotlib.use("Agg")

TINY = dict(
    horizon=6,
    context_length=24,
    d_model=8,
    num_blocks=1,
    num_heads=2,
    patch_len=6,
    max_epochs=1,
    batch_size=32,
    windows_per_epoch=64,
    validation_size=0,
    random_state=0,
    trainer_kwargs={"enable_progress_bar": False},
)


def panel(n=160, seed=0) -> pd.DataFrame:
    """Two noisy daily cycles, hourly, as a wide frame."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    index = pd.date_range("2024-01-01", periods=n, freq="h", name="time")
    return pd.DataFrame(
        {
            "a": 10 + np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, n),
            "b": 5 + 2 * np.cos(2 * np.pi * t / 24) + rng.normal(0, 0.3, n),
        },
        index=index,
    )


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    long = wide.rename_axis("ds").reset_index()
    return long.melt(id_vars="ds", var_name="unique_id", value_name="y")


# ---------------------------------------------------------------------------- splitter


def test_expanding_folds_by_time_without_look_ahead():
    long = to_long(panel(100))
    cv = TimeSeriesSplitter(n_splits=3, test_size=6, gap=2, history=30)
    folds = list(cv.split(long))
    assert len(folds) == cv.get_n_splits() == 3
    grid = np.sort(long["ds"].unique())
    for k, (train, test) in enumerate(folds):
        train_t, test_t = long["ds"].iloc[train], long["ds"].iloc[test]
        test_start = 100 - 6 - (2 - k) * 6  # test periods side by side, the last at the end
        assert train_t.max() == grid[test_start - 2 - 1]  # gap of two timestamps
        assert test_t.max() == grid[test_start + 5]
        assert test_t.min() == grid[test_start - 30]  # the history the forecast needs
        # every series has the same rows: the cut is by time, per series
        assert long["unique_id"].iloc[train].value_counts().nunique() == 1
    assert len(folds[0][0]) < len(folds[1][0]) < len(folds[2][0])  # expanding


def test_sliding_folds_keep_max_train_size_and_wide_frames_cut_the_index():
    wide = panel(60)
    cv = TimeSeriesSplitter(n_splits=2, test_size=5, max_train_size=20, step=3)
    (train0, test0), (train1, test1) = cv.split(wide)
    assert len(train0) == len(train1) == 20
    assert train1[0] - train0[0] == 3
    assert test1[-1] == 59 and test0[-1] == 56 and test0[0] == 0  # history: all before


def test_splitter_names_what_does_not_fit():
    with pytest.raises(ValueError, match="X has 20 timestamps: too few for n_splits=4"):
        list(TimeSeriesSplitter(n_splits=4, test_size=6).split(panel(20)))
    with pytest.raises(ValueError, match="gap must be an integer >= 0, got -1"):
        list(TimeSeriesSplitter(gap=-1).split(panel(20)))


# ---------------------------------------------------------------------------- scorers


@pytest.fixture(scope="module")
def fitted() -> tuple[XLSTMForecaster, pd.DataFrame]:
    wide = panel()
    return XLSTMForecaster(**TINY).fit(wide), wide


def test_scorers_compare_the_last_horizon_with_its_forecast(fitted):
    model, wide = fitted
    pred = model.predict(wide.iloc[:-6])
    actual = wide.iloc[-6:]
    assert get_forecast_scorer("neg_mean_absolute_error")(model, wide) == pytest.approx(
        -mae(actual.to_numpy(), pred.to_numpy())
    )
    # MASE: each series' error over its in-sample naive error up to the origin
    scale = wide.iloc[:-6].diff().abs().mean()
    mase = ((actual - pred).abs() / scale).to_numpy().mean()
    assert get_forecast_scorer("neg_mase")(model, wide) == pytest.approx(-mase)
    # the estimator's own score is the negative MSE of the same forecast
    assert get_forecast_scorer("neg_mean_squared_error")(model, wide) == pytest.approx(
        model.score(wide)
    )
    custom = make_forecast_scorer(
        lambda y, p: float(np.max(np.abs(y - p))), greater_is_better=False
    )
    assert custom(model, wide) == pytest.approx(-np.abs(actual - pred).to_numpy().max())
    q = model.predict_quantiles(wide.iloc[:-6])
    assert list(q.columns) == ["a", "a_q0.1", "a_q0.5", "a_q0.9", "b", "b_q0.1", "b_q0.5", "b_q0.9"]
    lo, hi = (
        q[[f"{c}_q{level}" for c in actual]].set_axis(actual.columns, axis=1)
        for level in (0.1, 0.9)
    )
    inside = (lo <= actual) & (actual <= hi)
    assert get_forecast_scorer("coverage")(model, wide) == pytest.approx(inside.to_numpy().mean())
    with pytest.raises(ValueError, match="unknown forecast scorer 'r2'"):
        get_forecast_scorer("r2")


def test_grid_search_with_the_splitter_over_two_values():
    long = to_long(panel())
    cv = TimeSeriesSplitter(n_splits=2, test_size=6)
    search = GridSearchCV(
        XLSTMForecaster(**TINY),
        {"d_model": [8, 16]},
        cv=cv,
        scoring=get_forecast_scorer("neg_mean_absolute_error"),
    ).fit(long)
    assert [p["d_model"] for p in search.cv_results_["params"]] == [8, 16]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.d_model == search.best_params_["d_model"]
    assert len(search.predict(long)) == 2 * 6


def test_randomized_search_and_cross_validate_run_unchanged():
    wide = panel()
    cv = TimeSeriesSplitter(n_splits=2, test_size=6)
    scores = cross_validate(
        XLSTMForecaster(**TINY),
        wide,
        cv=cv,
        scoring=forecast_scorers("neg_mean_squared_error", "neg_crps"),
    )
    assert scores["test_neg_mean_squared_error"].shape == (2,)
    assert (scores["test_neg_crps"] < 0).all()
    search = RandomizedSearchCV(
        XLSTMForecaster(**TINY), {"learning_rate": [1e-3, 1e-2]}, n_iter=2, cv=cv, random_state=0
    ).fit(wide)  # the estimator's own score
    assert len(search.cv_results_["params"]) == 2


class DriftQuantiles(BaseEstimator):
    """The last value plus ``slope`` per step, quantiles 0.1 and 0.9 one below and one
    above: a forecaster whose errors are known exactly, for the scorers' signs."""

    id_col, time_col, target, future_covariates = "unique_id", "ds", None, ()

    def __init__(self, horizon: int = 4, slope: float = 0.0) -> None:
        self.horizon = horizon
        self.slope = slope

    def fit(self, X, y=None):
        self.panel_ = SimpleNamespace(ids=list(X.columns), target="y")
        return self

    def predict_quantiles(self, X, h=None, X_future=None):
        h = h or self.horizon
        point = self.slope * np.arange(1, h + 1)
        index = pd.RangeIndex(X.index[-1] + 1, X.index[-1] + 1 + h)
        columns = {}
        for c in X.columns:  # the forecast frame of a wide input
            columns[c] = X[c].iloc[-1] + point
            for level, shift in ((0.1, -1.0), (0.5, 0.0), (0.9, 1.0)):
                columns[f"{c}_q{level}"] = X[c].iloc[-1] + point + shift
        return pd.DataFrame(columns, index=index)


def ramps(n: int = 40) -> pd.DataFrame:
    """Two series rising by 2 per step: drift 2 forecasts them exactly."""
    t = np.arange(n, dtype=float)
    return pd.DataFrame({"a": 2 * t, "b": 2 * t + 7}, index=pd.RangeIndex(n))


@pytest.mark.parametrize("name", sorted(set(SCORERS) - {"neg_interval_width"}))
def test_every_named_scorer_gives_the_better_forecast_the_higher_score(name):
    # drift s misses the ramps by |2 - s| per step: slope 2 is exact, the others worse
    cv = TimeSeriesSplitter(n_splits=2, test_size=4)
    scorer = get_forecast_scorer(name)
    good = cross_val_score(DriftQuantiles(slope=2.0), ramps(), cv=cv, scoring=scorer)
    poor = cross_val_score(DriftQuantiles(slope=0.5), ramps(), cv=cv, scoring=scorer)
    assert (good > poor).all()
    grid = {"slope": [0.0, 1.0, 2.0, 3.0]}
    search = GridSearchCV(DriftQuantiles(), grid, cv=cv, scoring=scorer).fit(ramps())
    assert search.best_params_ == {"slope": 2.0}
    assert search.cv_results_["rank_test_score"][grid["slope"].index(0.0)] == 4


def test_error_scorers_return_minus_the_error_and_scores_as_they_are():
    model, X = DriftQuantiles(slope=0.0).fit(ramps()), ramps()
    # drift 0 misses by 2, 4, 6, 8 over the last four steps
    assert get_forecast_scorer("neg_mean_absolute_error")(model, X) == pytest.approx(-5.0)
    assert get_forecast_scorer("neg_mean_squared_error")(model, X) == pytest.approx(-30.0)
    assert get_forecast_scorer("neg_interval_width")(model, X) == pytest.approx(-2.0)
    assert get_forecast_scorer("coverage")(model, X) == pytest.approx(0.0)
    assert make_forecast_scorer("mae")(model, X) == pytest.approx(-5.0)
    y, p = 2.0 * np.arange(36, 40), np.full(4, 70.0)  # series "a" alone
    one = DriftQuantiles(slope=0.0).fit(X[["a"]])
    negated = make_forecast_scorer(smape, greater_is_better=False)(one, X[["a"]])
    assert negated == pytest.approx(-smape(y, p))
    kept = make_forecast_scorer(lambda y, p: -mae(y, p), greater_is_better=True)
    assert kept(model, X) == pytest.approx(-5.0)


def test_a_scorer_whose_sign_would_prefer_worse_forecasts_is_refused():
    with pytest.raises(ValueError, match="'mse' is an error.*would prefer worse forecasts"):
        make_forecast_scorer("mse", greater_is_better=True)
    with pytest.raises(ValueError, match="'coverage' is a score.*would prefer worse"):
        make_forecast_scorer("coverage", greater_is_better=False)
    with pytest.raises(ValueError, match="say whether the metric function is a score"):
        make_forecast_scorer(mae)
    with pytest.raises(ValueError, match="unknown forecast metric 'rmse'"):
        make_forecast_scorer("rmse")


# ---------------------------------------------------------------------------- backtest


class CountingForecaster(XLSTMForecaster):
    """Records the last timestamp of every frame it is fitted on."""

    fitted_until: list = []

    def fit(self, X, y=None):
        type(self).fitted_until.append(X.index.max())
        return super().fit(X, y)


def test_backtest_frame_metrics_refits_and_plot():
    wide = panel()
    CountingForecaster.fitted_until = []
    result = backtest(CountingForecaster(**TINY), wide, n_windows=3, step=4, refit=2)
    f = result.forecasts
    origins = wide.index[[160 - 1 - 6 - 8, 160 - 1 - 6 - 4, 160 - 1 - 6]]
    assert list(f["origin"].unique()) == list(origins)
    # refit=2: fitted at origins 0 and 2, each time on the rows up to the origin only
    assert CountingForecaster.fitted_until == [origins[0], origins[2]]
    assert len(f) == 3 * 2 * 6 and f["step"].tolist()[:6] == [1, 2, 3, 4, 5, 6]
    first = f[(f["origin"] == origins[0]) & (f["unique_id"] == "b")]
    np.testing.assert_allclose(first["y"], wide["b"].iloc[146:152])
    # metrics by hand from the frame
    err = (f["y"] - f["q0.5"]).abs()
    assert result.metrics.loc["all", "mae"] == pytest.approx(err.mean())
    assert result.metrics.loc[3, "mae"] == pytest.approx(err[f["step"] == 3].mean())
    assert result.metrics.loc["all", "mase"] == pytest.approx((err / f["scale"]).mean())
    assert first["scale"].iloc[0] == pytest.approx(wide["b"].iloc[:146].diff().abs().mean())
    assert result.metrics.loc["all", "n"] == 36
    ax = result.plot("b")
    assert len(ax.lines) == 1 + 3  # the actual values and one median per origin
    with pytest.raises(ValueError, match="series 'c' is not in the backtest"):
        result.plot("c")


def test_backtest_names_bad_arguments():
    with pytest.raises(ValueError, match="refit must be False, True or a positive integer"):
        backtest(XLSTMForecaster(**TINY), panel(), n_windows=2, refit=0)
    with pytest.raises(ValueError, match="too few for n_windows=40 origins"):
        backtest(XLSTMForecaster(**TINY), panel(), n_windows=40)
    with pytest.raises(TypeError, match="LinearRegression is not a forecaster of xlstm_ts"):
        backtest(LinearRegression(), panel(), n_windows=2)
    conformal = ConformalForecaster(XLSTMForecaster(**TINY))
    with pytest.raises(ValueError, match="h=12 exceeds horizon=6: conformal intervals"):
        backtest(conformal, panel(), n_windows=2, h=12)
    # the wrapper clones and searches like any estimator, its forecaster's parameters too
    assert clone(conformal).set_params(forecaster__d_model=16).forecaster.d_model == 16


# ---------------------------------------------------------------------------- conformal


def test_conformal_radius_is_the_conformal_quantile_of_held_out_errors():
    wide = panel()
    model = ConformalForecaster(XLSTMForecaster(**TINY), coverage=0.8, calibration_windows=9)
    model.fit(wide)
    cal = model.calibration_
    assert cal["origin"].nunique() == 9
    assert model.forecaster_.panel_.last_times[0] == wide.index[160 - 1 - 6 - 8]
    for s in range(1, 7):
        e = np.sort((cal["y"] - cal["q0.5"]).abs()[cal["step"] == s].to_numpy())
        assert len(e) == model.n_calibration_[s - 1] == 2 * 9
        assert model.radius_[s - 1] == e[math.ceil(19 * 0.8) - 1]
    bounds = model.predict_interval()
    point = model.predict()
    np.testing.assert_allclose(bounds[("a", "upper")] - point["a"], model.radius_)
    np.testing.assert_allclose(point["a"] - bounds[("a", "lower")], model.radius_)
    # the model's own quantiles stay available beside the intervals
    assert model.predict_quantiles().shape == (6, 2 * 4)  # per series: the median, 3 levels


def test_conformal_intervals_cover_about_their_level_on_held_out_windows():
    # a daily cycle with known Gaussian noise; the ridge start forecasts the cycle
    n, sigma = 900, 0.5
    rng = np.random.default_rng(1)
    t = np.arange(n)
    y = 10 + 2 * np.sin(2 * np.pi * t / 24) + rng.normal(0, sigma, n)
    frame = pd.DataFrame({"y": y}, index=pd.RangeIndex(n))
    base = {**TINY, "linear_path": "ridge", "validation_size": 48, "learning_rate": 0.0}
    model = ConformalForecaster(XLSTMForecaster(**base), coverage=0.8, calibration_windows=60)
    result = backtest(model, frame, n_windows=60, step=6)  # 360 held-out points
    coverage = result.metrics.loc["all", "coverage_conformal"]
    # 360 points of a nominal 80% interval: a binomial spread of about ±2%; the bound
    # is looser because errors of overlapping calibration windows are correlated
    assert 0.7 <= coverage <= 0.9
    # no interval can be much narrower than the noise's own 80% interval (±1.28σ)
    width = result.metrics.loc["all", "width_conformal"]
    assert width > 0.9 * 2 * 1.2816 * sigma
    # beside them, the model's own q0.1-q0.9: learning rate 0 leaves its quantile head at
    # the ridge start's zero, but fit calibrates them on its validation windows
    assert 0.65 <= result.metrics.loc["all", "coverage"] <= 0.9
