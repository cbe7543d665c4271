"""XLSTMForecaster: the sklearn contract, pandas in and out, persistence, bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from xlstm_ts import XLSTMForecaster

TINY = dict(
    horizon=12,
    context_length=48,
    d_model=16,
    num_blocks=2,
    slstm_at=(1,),
    num_heads=2,
    patch_len=8,
    max_epochs=2,
    batch_size=32,
    windows_per_epoch=128,
    validation_size=24,
    random_state=0,
    trainer_kwargs={"enable_progress_bar": False},
)


@pytest.fixture(scope="module")
def etth1_wide(request) -> pd.DataFrame:
    from conftest import SHARED_DATASETS

    path = SHARED_DATASETS / "ETTh1.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    df = pd.read_csv(path, parse_dates=["date"], index_col="date")
    return df[["OT", "HUFL"]].iloc[:400]


@pytest.fixture(scope="module")
def etth1_long(etth1_wide) -> pd.DataFrame:
    long = etth1_wide.reset_index().melt(id_vars="date", var_name="unique_id", value_name="y")
    return long.rename(columns={"date": "ds"})


@pytest.fixture(scope="module")
def fitted_wide(etth1_wide) -> XLSTMForecaster:
    return XLSTMForecaster(**TINY).fit(etth1_wide)


def test_get_params_set_params_and_clone_round_trip():
    model = XLSTMForecaster(**TINY)
    assert model.get_params()["slstm_at"] == (1,)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    twin.set_params(horizon=5, d_model=8)
    assert (twin.horizon, twin.d_model) == (5, 8)
    assert model.horizon == 12


def test_fit_returns_self_and_learns_attributes(fitted_wide):
    assert fitted_wide.freq_ == "h"
    # the ridge start and three networks from scratch, each trained for max_epochs
    kept = {"ridge": 1, "none": 3, "combined": 4}[fitted_wide.linear_path_]
    assert fitted_wide.n_epochs_ == [2] * kept
    assert np.isfinite(fitted_wide.best_val_loss_)
    assert fitted_wide.quantile_levels_ == [0.1, 0.5, 0.9]


def test_wide_forecast_has_future_timestamps(fitted_wide, etth1_wide):
    pred = fitted_wide.predict()
    expected = pd.date_range(etth1_wide.index[-1], periods=13, freq="h")[1:]
    assert pred.index.equals(expected)
    assert list(pred.columns) == ["OT", "HUFL"]
    assert np.isfinite(pred.to_numpy()).all()
    # forecasts are on the data's scale, not the normalised one
    assert abs(pred["OT"].mean() - etth1_wide["OT"].iloc[-48:].mean()) < 5 * etth1_wide["OT"].std()


def test_long_input_gives_long_output(etth1_long):
    model = XLSTMForecaster(**TINY).fit(etth1_long)
    pred = model.predict()
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    assert len(pred) == 2 * 12
    last = etth1_long["ds"].max()
    for _, part in pred.groupby("unique_id"):
        assert part["ds"].tolist() == list(pd.date_range(last, periods=13, freq="h")[1:])
    assert np.isfinite(pred["y"]).all()


def test_predict_from_new_history_and_longer_h(fitted_wide, etth1_wide):
    history = etth1_wide.iloc[:300]
    pred = fitted_wide.predict(history, h=30)
    assert len(pred) == 30
    assert pred.index[0] == history.index[-1] + pd.Timedelta(hours=1)
    # the first horizon equals the direct forecast from the same history
    direct = fitted_wide.predict(history)
    np.testing.assert_allclose(pred.iloc[:12].to_numpy(), direct.to_numpy())


def test_predict_contexts_matches_predict(fitted_wide, etth1_wide):
    contexts = etth1_wide.to_numpy().T[:, -48:]
    expected = fitted_wide.predict().to_numpy().T
    for k, series in enumerate(fitted_wide.panel_.ids):  # each read in its series' unit
        got = fitted_wide.predict_contexts(contexts[k : k + 1], series=series)
        np.testing.assert_allclose(got[0], expected[k], rtol=1e-6)
    with pytest.raises(ValueError, match="'nope' is not a training series"):
        fitted_wide.predict_contexts(contexts, series="nope")
    assert fitted_wide.predict_contexts(contexts, h=5, quantiles=True).shape == (2, 5, 3)
    with pytest.raises(ValueError, match=r"shape \(n, 48\)"):
        fitted_wide.predict_contexts(contexts[:, :10])


def test_quantiles_are_ordered_and_median_is_the_point_forecast(fitted_wide):
    q = fitted_wide.predict_quantiles()
    for series in ("OT", "HUFL"):
        lo, mid, hi = (q[f"{series}_q{level}"].to_numpy() for level in (0.1, 0.5, 0.9))
        assert (lo <= mid).all() and (mid <= hi).all()
        np.testing.assert_allclose(mid, fitted_wide.predict()[series].to_numpy())
        np.testing.assert_allclose(q[series], mid)  # the point column is the median
    with pytest.raises(ValueError, match="were not trained"):
        fitted_wide.predict_quantiles(quantiles=[0.25])


def test_score_is_negative_mse_on_the_last_horizon(fitted_wide, etth1_wide):
    score = fitted_wide.score(etth1_wide)
    pred = fitted_wide.predict(etth1_wide.iloc[:-12])
    expected = -np.mean((pred.to_numpy() - etth1_wide.iloc[-12:].to_numpy()) ** 2)
    assert score == pytest.approx(expected, rel=1e-5)


def test_save_and_load_give_identical_predictions(fitted_wide, tmp_path):
    fitted_wide.save(tmp_path / "model")
    files = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert files == ["config.json", "model.safetensors"]
    loaded = XLSTMForecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(), fitted_wide.predict())
    pd.testing.assert_frame_equal(
        loaded.predict_quantiles(h=20), fitted_wide.predict_quantiles(h=20)
    )
    assert loaded.get_params() == {
        k: list(v) if isinstance(v, tuple) else v for k, v in fitted_wide.get_params().items()
    }


def test_same_random_state_gives_identical_forecasts(etth1_wide):
    a = XLSTMForecaster(**TINY).fit(etth1_wide).predict()
    b = XLSTMForecaster(**TINY).fit(etth1_wide).predict()
    pd.testing.assert_frame_equal(a, b)
    # another seed: another network (without a linear path, whose ridge start is the same
    # for every seed and may be all that is kept)
    seeded = {**TINY, "linear_path": "none"}
    c = XLSTMForecaster(**seeded).fit(etth1_wide).predict()
    d = XLSTMForecaster(**{**seeded, "random_state": 1}).fit(etth1_wide).predict()
    assert not np.allclose(c.to_numpy(), d.to_numpy())


def test_integer_index_and_missing_values(etth1_wide):
    df = etth1_wide.reset_index(drop=True)
    df.iloc[[10, 200, 390], 0] = np.nan
    with pytest.raises(ValueError, match="allow_missing=True"):
        XLSTMForecaster(**TINY).fit(df)
    model = XLSTMForecaster(**{**TINY, "allow_missing": True, "max_epochs": 1}).fit(df)
    pred = model.predict()
    assert pred.index.tolist() == list(range(400, 412))
    assert np.isfinite(pred.to_numpy()).all()


# ---------------------------------------------------------------------------- bad input


def long_frame(n=200, ids=("a", "b")):
    ds = pd.date_range("2020-01-01", periods=n, freq="D")
    rng = np.random.default_rng(0)
    return pd.concat(
        [pd.DataFrame({"unique_id": i, "ds": ds, "y": rng.normal(size=n)}) for i in ids],
        ignore_index=True,
    )


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: np.zeros((100, 2)), TypeError, "must be a pandas DataFrame"),
        (lambda: long_frame().rename(columns={"y": "value"}), ValueError, r"missing column.*'y'"),
        (lambda: long_frame().assign(y="x"), TypeError, "must be numeric"),
        (lambda: long_frame().assign(ds="2020"), TypeError, "time column 'ds'"),
        (
            lambda: long_frame().assign(y=lambda d: d.y.where(d.index != 7)),
            ValueError,
            r"series 'a' has a non-finite target value nan",
        ),
        (
            lambda: long_frame().assign(y=lambda d: d.y.where(d.index != 250, np.inf)),
            ValueError,
            r"series 'b' has a non-finite target value inf",
        ),
        (
            lambda: pd.concat([long_frame(), long_frame().iloc[[3]]]),
            ValueError,
            "duplicate timestamps",
        ),
        (lambda: long_frame().drop(index=[5, 6]), ValueError, "irregular time index"),
        (lambda: long_frame(n=50), ValueError, r"series 'a' has 50 steps"),
    ],
)
def test_bad_input_is_named(make, error, match):
    model = XLSTMForecaster(**{**TINY, "validation_size": 0})
    with pytest.raises(error, match=match):
        model.fit(make())


@pytest.mark.parametrize("param,value", [("horizon", 0), ("horizon", -3), ("context_length", 1.5)])
def test_non_positive_horizon_is_rejected(param, value):
    expected = rf"The '{param}' parameter of XLSTMForecaster must be an int in the range \[1, inf\)"
    with pytest.raises(ValueError, match=rf"{expected}\. Got {value} instead"):
        XLSTMForecaster(**{**TINY, param: value}).fit(long_frame())


def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        XLSTMForecaster().predict()
    with pytest.raises(NotFittedError):
        XLSTMForecaster().save("unused")


def test_predict_rejects_other_frequency(fitted_wide, etth1_wide):
    daily = etth1_wide.resample("D").mean()
    with pytest.raises(ValueError, match="fitted on 'h'"):
        fitted_wide.predict(daily)


def sinusoids(n=600) -> pd.DataFrame:
    """Two sinusoids and a level: a series that follows a linear recursion."""
    t = np.arange(n)
    series = np.sin(2 * np.pi * t / 12) + 0.5 * np.cos(2 * np.pi * t / 7) + 3
    return pd.DataFrame({"y": series}, index=pd.RangeIndex(n))


def test_ridge_start_forecasts_a_linear_process_exactly():
    # two sinusoids and a level follow a linear recursion, so the ridge-initialised skip
    # path forecasts them almost exactly; learning rate 0 keeps the encoder's head at zero
    df = sinusoids()
    series = df["y"].to_numpy()
    params = {**TINY, "linear_path": "ridge", "learning_rate": 0.0, "max_epochs": 1}
    model = XLSTMForecaster(**params).fit(df.iloc[:-12])
    np.testing.assert_allclose(model.predict()["y"], series[-12:], atol=1e-2)
    assert model.ridge_lambda_ in (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
    # without the ridge start the same untrained model is far off
    params["linear_path"] = "none"
    untrained = XLSTMForecaster(**params).fit(df.iloc[:-12]).predict()["y"]
    assert np.abs(untrained - series[-12:]).max() > 0.1


def test_ridge_start_is_kept_when_training_makes_it_worse():
    df = sinusoids()
    series = df["y"].to_numpy()
    # a wild learning rate ruins every epoch; the validated ridge start must survive
    params = {**TINY, "linear_path": "ridge", "learning_rate": 50.0, "max_epochs": 2}
    model = XLSTMForecaster(**params).fit(df.iloc[:-12])
    np.testing.assert_allclose(model.predict()["y"], series[-12:], atol=1e-2)
    assert model.best_val_loss_ < 1e-3


@pytest.mark.parametrize(
    "param,value,allowed",
    [
        ("num_heads", 0, r"an int in the range \[1, inf\)"),
        ("dropout", 1.5, r"a float in the range \[0(\.0)?, 1(\.0)?\)"),
        ("linear_path", "lasso", r"a str among \{.*'none'.*\}"),
        ("linear_path", False, r"a str among \{.*'ridge'.*\}"),
        ("validation_size", 1.0, r"a float in the range \[0(\.0)?, 1(\.0)?\)"),
    ],
)
def test_parameters_are_checked_before_any_data_is_read(param, value, allowed):
    # the frame is not even a DataFrame: a bad parameter must be reported first
    with pytest.raises(ValueError, match=rf"'{param}' parameter .* must be .*{allowed}"):
        XLSTMForecaster(**{**TINY, param: value}).fit("not a frame")


@pytest.mark.parametrize(
    "params,match",
    [
        ({"slstm_at": (2,)}, r"slstm_at=\(2,\): positions \[2\] are not block indexes"),
        ({"d_model": 18, "num_heads": 4}, "d_model=18 must be even and divisible by num_heads=4"),
        ({"quantiles": (0.1, 1.2)}, r"strictly between 0 and 1, got \[1.2\]"),
    ],
)
def test_parameter_combinations_are_checked(params, match):
    with pytest.raises(ValueError, match=match):
        XLSTMForecaster(**{**TINY, **params}).fit("not a frame")


def test_fit_takes_arrays_as_a_panel(etth1_wide):
    from xlstm_ts.data import Panel

    values = etth1_wide.to_numpy().T
    from_arrays = XLSTMForecaster(**TINY).fit(Panel.from_arrays(values))
    from_frame = XLSTMForecaster(**TINY).fit(etth1_wide.reset_index(drop=True))
    np.testing.assert_array_equal(from_arrays.predict().to_numpy(), from_frame.predict().to_numpy())
    assert list(from_arrays.predict().index) == list(range(400, 412))


def test_refit_replaces_the_whole_fitted_state_and_save_keeps_it(tmp_path):
    df = sinusoids()
    ridge = XLSTMForecaster(**{**TINY, "linear_path": "ridge", "max_epochs": 1}).fit(df)
    assert ridge.ridge_lambda_ is not None
    ridge.save(tmp_path / "m")
    assert XLSTMForecaster.load(tmp_path / "m").ridge_lambda_ == ridge.ridge_lambda_
    ridge.set_params(linear_path="none").fit(df)
    assert ridge.ridge_lambda_ is None
    with pytest.raises(TypeError):
        ridge.fit("not a frame")
    with pytest.raises(NotFittedError):  # a failed fit leaves no stale model behind
        ridge.predict()


def test_frozen_ridge_learns_a_weighted_correction():
    # a nonlinear series: the frozen ridge path stays at its start, the encoder learns a
    # correction, and its weight is chosen on the validation windows
    import torch

    t = np.arange(800)
    s = np.sin(2 * np.pi * t / 24)
    df = pd.DataFrame({"y": np.tanh(2 * s) + 0.3 * s**2 + 0.05 * np.sin(t / 7)})
    params = {**TINY, "linear_path": "ridge", "learning_rate": 3e-3, "max_epochs": 3}
    model = XLSTMForecaster(**params).fit(df)
    net = model.model_.network  # inside the calibration of the quantiles
    alpha = model.decision_["blend"]["alpha"]
    assert 0.0 <= alpha <= 2.0
    assert float(net.correction_scale) == pytest.approx(alpha)
    assert net.head.in_features == params["d_model"]  # the last patch's encoding
    # the linear path is the ridge start, untouched by training
    start = XLSTMForecaster(**{**params, "learning_rate": 0.0, "max_epochs": 1}).fit(df)
    assert torch.equal(net.linear_path.weight, start.model_.network.linear_path.weight)
    # the forecast is the linear part plus alpha times the correction (the network reads
    # the series in its unit)
    y = df["y"].to_numpy() / model.fitted_.units[0]
    ctx = torch.tensor(y[-params["context_length"] :], dtype=torch.float32)
    linear, correction = net.forward_parts(ctx[None])
    full = net(ctx[None])
    torch.testing.assert_close(full, linear[..., None] + alpha * correction)
    # on the validation windows that chose alpha, the blend is no worse than the ridge alone
    from xlstm_ts.data import train_val_windows

    _, val = train_val_windows([y], ["y"], 48, 12, [24])
    ctx, *_, target = val.batch(np.arange(len(val)))
    with torch.no_grad():
        linear, correction = net.forward_parts(ctx)
    blended = linear + alpha * correction[..., 0]
    assert ((blended - target) ** 2).mean() <= ((linear - target) ** 2).mean() + 1e-9
    assert model.best_val_loss_ == pytest.approx(float(((blended - target) ** 2).mean()), rel=1e-4)


def test_user_callbacks_see_every_network_trained():
    from lightning.pytorch.callbacks import Callback

    class Fits(Callback):
        def __init__(self):
            self.modules = []

        def on_fit_start(self, trainer, module):
            self.modules.append(id(module))

    fits = Fits()  # the default trains the ridge start and three networks from scratch
    XLSTMForecaster(**{**TINY, "trainer_kwargs": {"callbacks": [fits]}}).fit(sinusoids())
    assert len(fits.modules) == 4 and len(set(fits.modules)) == 4


def test_auto_linear_path_scores_each_candidate_as_if_fitted_alone():
    from xlstm_ts.data import train_val_windows
    from xlstm_ts.training import point_forecasts, targets

    df = sinusoids()
    auto = XLSTMForecaster(**{**TINY, "linear_path": "auto"}).fit(df)
    scores = auto.decision_["scores"]
    assert {"ridge", "none"} <= set(scores)
    # each score is that candidate's own validation error, refitted on its own (in the
    # series' unit)
    y = df["y"].to_numpy() / auto.fitted_.units[0]
    _, val = train_val_windows([y], ["y"], 48, 12, [24])
    for name in ("ridge", "none"):
        model = XLSTMForecaster(**{**TINY, "linear_path": name}).fit(df)
        error = point_forecasts(model.model_.network, val, model.fitted_.point_index)
        error = error - targets(val)
        assert np.mean(error**2) == pytest.approx(scores[name], rel=1e-5)
        assert model.best_val_loss_ == pytest.approx(scores[name], rel=1e-9)
    # on a linear recursion the ridge start wins (it is nearly exact) and is kept
    assert auto.linear_path_ == "ridge" and scores["ridge"] < scores["none"]
    assert auto.best_val_loss_ == scores["ridge"]
    assert auto.model_.network.linear_path is not None


def test_auto_linear_path_without_validation_is_the_ridge_start():
    params = {**TINY, "linear_path": "auto", "validation_size": 0, "max_epochs": 1}
    model = XLSTMForecaster(**params).fit(sinusoids())
    assert model.linear_path_ == "ridge" and model.decision_ is None
    assert model.n_epochs_ == [1] and model.best_val_loss_ is None
