"""Past-observed and future-known covariates in XLSTMForecaster."""

import numpy as np
import pandas as pd
import pytest

from xlstm_ts import XLSTMForecaster

BASE = dict(
    horizon=8,
    context_length=32,
    d_model=16,
    num_heads=2,
    patch_len=8,
    batch_size=32,
    windows_per_epoch=512,
    validation_size=16,
    trainer_kwargs={"enable_progress_bar": False},
    random_state=0,
    quantiles=(0.5,),
    loss="mse",
)


def driven_frame(n=400, seed=0):
    """Two series driven by a random, unpredictable input ``x``: y = 2x + 1 and y = x / 2 - 3."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2022-01-01", periods=n, freq="h")
    frames = []
    for name, (a, b) in {"up": (2.0, 1.0), "down": (0.5, -3.0)}.items():
        x = rng.normal(size=n)
        frames.append(pd.DataFrame({"unique_id": name, "ds": ds, "x": x, "y": a * x + b}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def driven():
    df = driven_frame()
    history = df.groupby("unique_id").head(392)
    future = df.groupby("unique_id").tail(8)
    return df, history, future


@pytest.fixture(scope="module")
def with_future(driven):
    _, history, _ = driven
    params = {**BASE, "future_covariates": ["x"], "max_epochs": 6, "learning_rate": 1e-2}
    return XLSTMForecaster(**params).fit(history)


def test_future_covariates_are_used(driven, with_future):
    df, history, future = driven
    pred = with_future.predict(X_future=future[["unique_id", "ds", "x"]])
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    assert pred["ds"].tolist() == future["ds"].tolist()
    err_with = np.mean((pred["y"].to_numpy() - future["y"].to_numpy()) ** 2)
    params = {**BASE, "max_epochs": 6, "learning_rate": 1e-2}
    blind = XLSTMForecaster(**params).fit(history).predict()
    err_without = np.mean((blind["y"].to_numpy() - future["y"].to_numpy()) ** 2)
    # the input is white noise: only a model that sees its future values can follow it
    assert err_with < 0.25 * err_without
    # score() takes the future covariates from the frame's last horizon
    assert with_future.score(df) == pytest.approx(-err_with, rel=1e-5)


def test_save_and_load_keep_covariates(with_future, driven, tmp_path):
    _, _, future = driven
    with_future.save(tmp_path / "m")
    loaded = XLSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(
        loaded.predict(X_future=future), with_future.predict(X_future=future)
    )


def test_future_covariate_errors(with_future, driven):
    _, history, future = driven
    with pytest.raises(ValueError, match="pass their values for the 8 steps"):
        with_future.predict()
    with pytest.raises(ValueError, match="no row for series 'up' at 2022-01-17 08:00"):
        with_future.predict(X_future=future.iloc[1:])
    with pytest.raises(ValueError, match=r"lacks the future covariate column\(s\) \['x'\]"):
        with_future.predict(X_future=future.drop(columns="x"))
    with pytest.raises(ValueError, match="cannot continue recursively"):
        with_future.predict(h=9, X_future=future)
    with pytest.raises(ValueError, match=r"uses future covariates \['x'\]"):
        with_future.predict_contexts(np.zeros((1, 32)))


def test_covariate_input_errors(driven):
    _, history, _ = driven
    model = XLSTMForecaster(**{**BASE, "past_covariates": ["temperature"], "max_epochs": 1})
    with pytest.raises(ValueError, match=r"covariate column\(s\) \['temperature'\] not found"):
        model.fit(history)
    bad = history.assign(x=history["x"].where(history.index != 5))
    model = XLSTMForecaster(**{**BASE, "past_covariates": ["x"], "max_epochs": 1})
    with pytest.raises(ValueError, match="non-finite covariate 'x' value nan"):
        model.fit(bad)


def test_wide_frame_with_a_shared_past_covariate():
    rng = np.random.default_rng(1)
    idx = pd.date_range("2023-01-01", periods=300, freq="D")
    temp = np.sin(np.arange(300) / 10)
    df = pd.DataFrame({"a": temp + rng.normal(0, 0.1, 300), "b": -temp, "temp": temp}, index=idx)
    model = XLSTMForecaster(**{**BASE, "past_covariates": ["temp"], "max_epochs": 1}).fit(df)
    pred = model.predict(h=5)
    assert list(pred.columns) == ["a", "b"]  # the covariate is not forecast
    assert pred.index[0] == pd.Timestamp("2023-10-28") and len(pred) == 5
    assert np.isfinite(pred.to_numpy()).all()
    # predict_contexts takes the past covariates beside each context
    contexts = df[["a", "b"]].to_numpy()[-32:].T
    covariates = np.broadcast_to(df[["temp"]].to_numpy()[-32:], (2, 32, 1))
    for k, series in enumerate(["a", "b"]):  # each read in its series' unit
        out = model.predict_contexts(contexts[k : k + 1], h=5, covariates=covariates[k : k + 1],
                                     series=series)  # fmt: skip
        np.testing.assert_allclose(out[0], pred[series].to_numpy(), rtol=1e-5, atol=1e-6)
