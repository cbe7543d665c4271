"""Covariates keep a scale learned from the training data: a flag that was constant over
a context (a quiet stretch without promotions) must not become an unbounded input when it
changes over the horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from xlstm_ts import XLSTMForecaster
from xlstm_ts.data import Windows
from xlstm_ts.estimators import candidates
from xlstm_ts.nn import XLSTMForecastNet
from xlstm_ts.training import covariate_scaling


def test_scaling_uses_the_rows_the_training_windows_cover():
    flag = np.array([0, 1, 0, 0, 1, 0, 0, 0, 9, 9], dtype=float)  # 9: after the windows
    price = np.array([1, 2, 3, 4, 5, 6, 7, 8, 100, 100], dtype=float)
    price[3] = np.nan  # missing: left out
    const = np.full(10, 5.0)
    mixed = np.arange(10.0)  # a first column to skip (another series' values)
    cov = np.stack([mixed, flag, price, const], axis=1)
    w = Windows([np.zeros(10)], [(0, 4)], 3, 1, [cov])  # rows 0..7 are covered
    center, scale = covariate_scaling(w, skip=1)
    np.testing.assert_array_equal(center[[0, 2]], [0.0, 5.0])
    assert scale[0] == 1.0 and scale[2] == 1.0  # the flag as it is; a constant: scale 1
    known = np.array([1, 2, 3, 5, 6, 7, 8.0])
    assert center[1] == pytest.approx(known.mean()) and scale[1] == pytest.approx(known.std())


def retail(n_stores: int = 6, n_days: int = 240, seed: int = 0) -> pd.DataFrame:
    """Daily sales with a weekly pattern and a promotion flag on about 10 % of days that
    lifts sales by 35 %."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_stores):
        t = np.arange(n_days)
        promo = (rng.random(n_days) < 0.1).astype(float)
        level = 100 + 30 * k
        y = level * (1 + 0.2 * np.sin(2 * np.pi * t / 7)) * (1 + 0.35 * promo)
        frames.append(pd.DataFrame({
            "unique_id": f"s{k}", "ds": pd.date_range("2024-01-01", periods=n_days),
            "y": y * (1 + 0.02 * rng.standard_normal(n_days)), "promo": promo,
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def test_a_planned_promotion_after_a_quiet_stretch_gives_a_bounded_forecast(monkeypatch):
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
    df = retail()
    H, L = 7, 28
    # every store's last context is quiet: no promotion in its last L days
    df.loc[df.groupby("unique_id").cumcount(ascending=False) < L, "promo"] = 0.0
    model = XLSTMForecaster(
        horizon=H, context_length=L, future_covariates=["promo"], linear_path="none",
        d_model=8, num_heads=2, patch_len=7, max_epochs=2, batch_size=32,
        windows_per_epoch=256, validation_size=14, random_state=0,
        trainer_kwargs={"enable_progress_bar": False},
    ).fit(df)  # fmt: skip
    last = df["ds"].max()
    days = pd.date_range(last + pd.Timedelta(days=1), periods=H)
    future = pd.DataFrame([(s, d) for s in df["unique_id"].unique() for d in days],
                          columns=["unique_id", "ds"])  # fmt: skip
    future["promo"] = (future.groupby("unique_id").cumcount() == 3).astype(float)
    forecast = model.predict(X_future=future)
    largest = df.groupby("unique_id")["y"].max()
    ratio = forecast.groupby("unique_id")["y"].max() / largest
    assert np.isfinite(forecast["y"]).all() and (ratio < 3).all() and (forecast["y"] > 0).all()


def network_with_scaling(values: np.ndarray) -> XLSTMForecastNet:
    torch.manual_seed(0)
    net = XLSTMForecastNet(context_length=16, horizon=4, patch_len=4, d_model=8, num_heads=2,
                           n_covariates=2, n_future=2)  # fmt: skip
    w = Windows([np.zeros(len(values))], [(0, len(values) - 20)], 16, 4, [values])
    net.set_covariate_scaling(*covariate_scaling(w))
    return net.eval()


TRAINING = np.stack(
    [(np.arange(200) % 13 == 0).astype(float), 50 + 10 * np.sin(np.arange(200) / 5)], axis=1
)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_covariate_value_seen_in_training_is_a_bounded_input(data):
    net = network_with_scaling(TRAINING)
    center, scale = net.covariate_center.numpy(), net.covariate_scale.numpy()
    bound = np.abs((TRAINING - center) / scale).max()
    seen = [st.sampled_from(sorted(set(column))) for column in TRAINING.T]
    rows = data.draw(st.lists(st.tuples(*seen), min_size=20, max_size=20))
    constant = data.draw(st.booleans())  # a context where every covariate is constant
    cov = np.array([rows[0]] * 20 if constant else rows, dtype=np.float32)
    inputs = []
    net.embed.register_forward_hook(lambda module, args, out: inputs.append(args[0]))
    context = torch.from_numpy(np.random.default_rng(1).normal(size=(1, 16)).astype(np.float32))
    with torch.no_grad():
        out = net(context, torch.from_numpy(cov[None, :16]), torch.from_numpy(cov[None, 16:]))
    assert torch.isfinite(out).all()
    features = inputs[0].view(1, -1, 4, 3)[..., 1:]  # the covariates of each patch step
    assert float(features.abs().max()) <= bound + 1e-4


@pytest.mark.parametrize("linear_path", ["ridge", "auto"])
def test_the_default_responds_to_a_planned_promotion_as_the_data_do(monkeypatch, linear_path):
    # the linear path reads the future-known covariates, so the ridge start (and with it
    # the default, whatever the decision keeps) forecasts the promotion's lift
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
    df, H, lift = retail(n_days=400), 7, 0.35
    model = XLSTMForecaster(
        horizon=H, context_length=28, future_covariates=["promo"], linear_path=linear_path,
        d_model=8, num_heads=2, patch_len=7, max_epochs=1, batch_size=32,
        windows_per_epoch=128, validation_size=28, random_state=0,
        trainer_kwargs={"enable_progress_bar": False},
    ).fit(df)  # fmt: skip
    days = pd.date_range(df["ds"].max() + pd.Timedelta(days=1), periods=H)
    future = pd.DataFrame([(s, d) for s in df["unique_id"].unique() for d in days],
                          columns=["unique_id", "ds"])  # fmt: skip
    step = future.groupby("unique_id").cumcount() == 3
    off = model.predict(X_future=future.assign(promo=0.0))
    on = model.predict(X_future=future.assign(promo=step.astype(float)))
    response = (on["y"] / off["y"] - 1)[step.to_numpy()]
    assert response.mean() == pytest.approx(lift, rel=0.3)
