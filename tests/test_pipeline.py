"""XLSTMForecaster as the last step of a scikit-learn pipeline of pandas transformers."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from xlstm_ts import XLSTMForecaster
from xlstm_ts.model_selection import backtest, forecast

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


def load_and_temperature(n=160) -> pd.DataFrame:
    """An hourly load around 1000 and a temperature with two gaps."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    index = pd.date_range("2024-01-01", periods=n, freq="h", name="time")
    frame = pd.DataFrame(
        {
            "load": 1000 + 50 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 5, n),
            "temp": 20 + rng.normal(0, 3, n),
        },
        index=index,
    )
    frame.iloc[[5, 50], 1] = np.nan
    return frame


def calendar(df: pd.DataFrame) -> pd.DataFrame:
    """Hour and weekday of each row, from the time index."""
    return df.assign(hour=df.index.hour.astype(float), weekday=df.index.day_of_week.astype(float))


def pipeline(**forecaster):
    # impute and scale the temperature only; the load passes through under its own name
    temperature = ColumnTransformer(
        [("temp", make_pipeline(SimpleImputer(), StandardScaler()), ["temp"])],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    features = FunctionTransformer(
        calendar, feature_names_out=lambda _, names: [*names, "hour", "weekday"]
    )
    model = XLSTMForecaster(target="load", **{**TINY, **forecaster})
    return make_pipeline(temperature, features, model).set_output(transform="pandas")


def test_pipeline_fits_predicts_on_the_users_scale_and_index_and_clones():
    frame = load_and_temperature()
    pipe = pipeline(past_covariates=["temp", "hour", "weekday"]).fit(frame)
    pred = pipe.predict(frame.iloc[:-6])  # history: everything but the last 6 hours
    assert pred.index.equals(frame.index[-6:])  # the hours after the history
    assert list(pred.columns) == ["load"]
    # the model saw the temperature imputed and scaled, the load as it is
    panel = pipe[-1].panel_
    assert np.isfinite(panel.covariates[0]).all()
    assert abs(panel.covariates[0][:, 0].mean()) < 1e-6
    assert abs(pred["load"].mean() - 1000) < 150  # the load's scale, not a scaled one
    twin = clone(pipe)
    assert not hasattr(twin[-1], "fitted_")
    pd.testing.assert_frame_equal(twin.fit(frame).predict(frame.iloc[:-6]), pred)
    assert np.isfinite(pipe.score(frame))


def test_future_covariates_through_the_pipeline():
    frame = load_and_temperature()
    pipe = pipeline(past_covariates=["temp"], future_covariates=["hour", "weekday"])
    pipe.fit(frame.iloc[:-6])
    # the next 6 hours: the load is unknown, the calendar is derived from the index
    future = frame.iloc[-6:].assign(load=np.nan)
    pred = forecast(pipe, frame.iloc[:-6], X_future=future)
    assert pred.index.equals(frame.index[-6:])
    # no history given: after the training data, which is the same history here
    pd.testing.assert_frame_equal(forecast(pipe, X_future=future), pred)
    quantiles = forecast(pipe, frame.iloc[:-6], X_future=future, quantiles=True)
    np.testing.assert_allclose(quantiles["load_q0.5"], pred["load"])
    with pytest.raises(ValueError, match="pass their values"):
        pipe.predict(frame.iloc[:-6])  # Pipeline.predict alone has no future rows
    # the backtest and the scorers hand the pipeline its future rows the same way
    result = backtest(pipe, frame, n_windows=2)
    assert result.forecasts["y"].notna().all()
    np.testing.assert_allclose(result.forecasts["y"].to_numpy()[-6:], frame["load"].to_numpy()[-6:])


def test_long_frame_pipeline_in_a_conformal_wrapper():
    from xlstm_ts.model_selection import ConformalForecaster

    wide = load_and_temperature(120)
    long = wide.rename_axis("ds").reset_index().rename(columns={"load": "y"})
    long = pd.concat([long.assign(unique_id="north"), long.assign(unique_id="south")])
    scaler = ColumnTransformer(
        [("temp", make_pipeline(SimpleImputer(), StandardScaler()), ["temp"])],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    pipe = make_pipeline(scaler, XLSTMForecaster(past_covariates=["temp"], **TINY)).set_output(
        transform="pandas"
    )
    model = ConformalForecaster(pipe, calibration_windows=5).fit(long)
    bounds = model.predict_interval(long)
    point = model.predict(long)
    assert list(bounds.columns) == ["unique_id", "ds", "lower", "upper"]
    assert bounds["ds"].min() == long["ds"].max() + pd.Timedelta(hours=1)
    for _, part in bounds.merge(point, on=["unique_id", "ds"]).groupby("unique_id"):
        np.testing.assert_allclose(part["upper"] - part["y"], model.radius_)
        np.testing.assert_allclose(part["y"] - part["lower"], model.radius_)


def test_a_transformed_target_comes_back_on_its_own_scale():
    from xlstm_ts.model_selection import TransformedTargetForecaster

    frame = load_and_temperature()
    inner = XLSTMForecaster(target="load", past_covariates=["temp"], **TINY)
    scaled = TransformedTargetForecaster(inner, StandardScaler())
    pipe = make_pipeline(
        ColumnTransformer(
            [("temp", SimpleImputer(), ["temp"])],
            remainder="passthrough",
            verbose_feature_names_out=False,
        ),
        scaled,
    ).set_output(transform="pandas")
    pipe.fit(frame)
    model = pipe[-1]
    # the network was trained on the standardised load ...
    assert abs(model.forecaster_.panel_.values[0].mean()) < 1e-6
    # ... and the forecasts are the inner ones mapped back to the load's scale
    history = pipe[:-1].transform(frame)
    inner_pred = model.forecaster_.predict(model._forward(history))
    pred = pipe.predict(frame)
    np.testing.assert_allclose(
        pred["load"], model.transformer_.inverse_transform(inner_pred[["load"]].to_numpy())[:, 0]
    )
    assert abs(pred["load"].mean() - 1000) < 150 and pred.index[0] > frame.index[-1]
    q = model.predict_quantiles(history)
    np.testing.assert_allclose(q["load_q0.5"], pred["load"])
    np.testing.assert_allclose(q["load"], pred["load"])
    assert clone(pipe).get_params()["transformedtargetforecaster__transformer"] is not None

    # a decreasing transform: the quantiles are mapped back and put in order again
    flipped = TransformedTargetForecaster(
        XLSTMForecaster(target="load", **TINY),
        FunctionTransformer(np.negative, inverse_func=np.negative),
    ).fit(frame[["load"]])
    q = flipped.predict_quantiles()
    inner_q = flipped.forecaster_.predict_quantiles()
    np.testing.assert_allclose(q["load_q0.1"], -inner_q["load_q0.9"])
    np.testing.assert_allclose(q["load"], -inner_q["load"])
    assert (q["load_q0.1"] <= q["load_q0.9"]).all()
    # the backtest and the scorers compare on the user's scale too
    result = backtest(pipe, frame, n_windows=2)
    assert abs(result.forecasts["q0.5"].mean() - 1000) < 150


def test_a_logged_target_of_a_long_frame():
    from xlstm_ts.model_selection import TransformedTargetForecaster

    wide = load_and_temperature(120)
    long = wide.rename_axis("ds").reset_index()[["ds", "load"]].rename(columns={"load": "y"})
    long = pd.concat(
        [long.assign(unique_id="north"), long.assign(unique_id="south", y=long.y / 10)]
    )
    log = FunctionTransformer(np.log1p, inverse_func=np.expm1)
    model = TransformedTargetForecaster(XLSTMForecaster(**TINY), log).fit(long)
    assert model.target_columns_ == ["y"]
    np.testing.assert_allclose(
        np.expm1(model.forecaster_.panel_.values[1]), long["y"].to_numpy()[120:]
    )
    pred, inner = model.predict(), model.forecaster_.predict()
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    np.testing.assert_allclose(pred["y"], np.expm1(inner["y"]))
    q = model.predict_quantiles()
    inner_q = model.forecaster_.predict_quantiles()
    assert list(q.columns) == ["unique_id", "ds", "y", "q0.1", "q0.5", "q0.9"]
    np.testing.assert_allclose(q["q0.9"], np.expm1(inner_q["q0.9"]))
    np.testing.assert_allclose(q["y"], pred["y"])  # the point column is mapped back too


def test_a_pipeline_that_renames_the_target_is_named_when_scored():
    frame = load_and_temperature()
    renaming = ColumnTransformer(
        [("temp", SimpleImputer(), ["temp"])], remainder="passthrough"
    )  # verbose names: "remainder__load"
    pipe = make_pipeline(renaming, XLSTMForecaster(target="remainder__load", **TINY))
    pipe.set_output(transform="pandas").fit(frame)
    from xlstm_ts.model_selection import get_forecast_scorer

    with pytest.raises(ValueError, match=r"no column for series \['remainder__load'\]"):
        get_forecast_scorer("neg_mean_absolute_error")(pipe, frame)


def test_conformal_intervals_of_a_pipeline_from_future_rows_alone():
    # a long frame whose pipeline scales a price known in advance; the future rows hold
    # the prices only: the target is unknown there and may be left out
    from xlstm_ts.model_selection import ConformalForecaster

    rng = np.random.default_rng(0)
    parts = []
    for shop in ("north", "south"):
        ds = pd.date_range("2024-01-01", periods=126, freq="h")
        price = rng.normal(size=126)
        parts.append(pd.DataFrame({"unique_id": shop, "ds": ds, "price": price, "y": 3 * price}))
    long = pd.concat(parts, ignore_index=True)
    train = long.groupby("unique_id").head(120)
    future = long.groupby("unique_id").tail(6).drop(columns="y")
    scaler = ColumnTransformer(
        [("price", StandardScaler(), ["price"])],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    forecaster = XLSTMForecaster(future_covariates=["price"], **{**TINY, "linear_path": "ridge"})
    pipe = make_pipeline(scaler, forecaster).set_output(transform="pandas")
    model = ConformalForecaster(pipe, calibration_windows=5).fit(train)
    bounds = model.predict_interval(X_future=future)
    assert list(bounds.columns) == ["unique_id", "ds", "lower", "upper"]
    assert bounds["ds"].min() == train["ds"].max() + pd.Timedelta(hours=1)
    # the same as with the target given as missing values, or with the history given
    pd.testing.assert_frame_equal(model.predict_interval(X_future=future.assign(y=np.nan)), bounds)
    pd.testing.assert_frame_equal(model.predict_interval(train, X_future=future), bounds)
    quantiles = model.predict_quantiles(X_future=future)
    np.testing.assert_allclose(quantiles["q0.5"], (bounds["lower"] + bounds["upper"]) / 2)
    # a covariate left out is named, with what to pass
    with pytest.raises(ValueError, match=r"X_future lacks the columns \['price'\].*target"):
        model.predict_interval(X_future=future.drop(columns="price"))
