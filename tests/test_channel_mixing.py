"""``channel_mixing``: each series also reads the other series' contexts."""

import numpy as np
import pandas as pd
import pytest
from xlstm_ts.datasets import SplitBounds

from xlstm_ts import XLSTMForecaster
from xlstm_ts.data import Panel, with_other_series
from xlstm_ts.estimators import candidates
from xlstm_ts.ltsf.data import LTSFData
from xlstm_ts.ltsf.models import XLSTMModel

BASE = dict(
    horizon=8,
    context_length=48,
    d_model=16,
    num_heads=2,
    num_blocks=1,
    patch_len=8,
    batch_size=32,
    windows_per_epoch=1024,
    validation_size=64,
    max_epochs=6,
    learning_rate=1e-2,
    linear_path="none",
    trainer_kwargs={"enable_progress_bar": False},
    random_state=0,
    quantiles=(0.5,),
    loss="mse",
)


def wave_frame(n=700, lag=12, seed=0):
    """A wave passing along three series: ``s1`` repeats ``s0`` ``lag`` steps later, and
    ``s2`` repeats ``s1``. A follower's next steps are in its leader's context, not in
    its own (the wave is smoothed noise, predictable from itself for a step or two)."""
    rng = np.random.default_rng(seed)
    base = np.convolve(rng.normal(size=n + 3 * lag + 2), np.ones(3) / 3, "valid")
    index = pd.date_range("2023-01-01", periods=n, freq="h")
    return pd.DataFrame({f"s{k}": base[lag * (3 - k) : lag * (3 - k) + n] for k in range(3)}, index)


HELD_OUT = 80


def held_out_errors(model, frame, columns):
    """Squared errors of ``columns`` over the held-out steps, forecast 8 at a time."""
    errors = []
    for origin in range(len(frame) - HELD_OUT, len(frame), 8):
        pred = model.predict(frame.iloc[:origin])[columns].to_numpy()
        errors.append((pred - frame[columns].iloc[origin : origin + 8].to_numpy()) ** 2)
    return np.concatenate(errors)


@pytest.fixture(scope="module", autouse=True)
def one_network():
    """One network from scratch instead of a seed ensemble of three: faster, same test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
        yield


@pytest.fixture(scope="module")
def frame():
    return wave_frame()


@pytest.fixture(scope="module")
def mixed(frame):
    return XLSTMForecaster(**BASE, channel_mixing=True).fit(frame.iloc[:-HELD_OUT])


def test_other_series_come_first_in_relative_order():
    values = [np.arange(5.0) + 10 * k for k in range(3)]
    panel = Panel.from_arrays(values, ids=["a", "b", "c"])
    panel.covariates = [np.full((5, 1), -k, dtype=float) for k in range(3)]
    mixed = with_other_series(panel)
    for k in range(3):
        expected = [values[(k + 1) % 3], values[(k + 2) % 3], panel.covariates[k][:, 0]]
        np.testing.assert_array_equal(mixed.covariates[k], np.column_stack(expected))
    assert mixed.values is panel.values and mixed.ids == panel.ids


def test_other_series_are_views_of_one_array_without_own_covariates():
    values = [np.arange(6.0) + 10 * k for k in range(4)]
    mixed = with_other_series(Panel.from_arrays(values))
    for k in range(4):
        expected = [values[(k + j) % 4] for j in (1, 2, 3)]
        np.testing.assert_array_equal(mixed.covariates[k], np.column_stack(expected))
        assert mixed.covariates[k].base is mixed.covariates[0].base
        assert not mixed.covariates[k].flags.writeable  # a write would change the others
    assert mixed.covariates[0].base.size == (2 * 4 - 1) * 6  # not 4 · 3 · 6


def test_series_must_share_one_time_index():
    with pytest.raises(ValueError, match="at least two series"):
        with_other_series(Panel.from_arrays([np.zeros(5)]))
    with pytest.raises(ValueError, match="series 1 has 4 steps ending at 3"):
        with_other_series(Panel.from_arrays([np.zeros(5), np.zeros(4)]))


def test_the_other_series_are_learned_from(frame, mixed):
    """Only a model that reads the leader can forecast its followers."""
    blind = XLSTMForecaster(**BASE).fit(frame.iloc[:-HELD_OUT])
    assert mixed.best_val_loss_ < 0.85 * blind.best_val_loss_
    err_mixed = held_out_errors(mixed, frame, ["s1", "s2"]).mean()
    err_blind = held_out_errors(blind, frame, ["s1", "s2"]).mean()
    assert err_mixed < 0.7 * err_blind, (err_mixed, err_blind)


def test_forecast_changes_with_another_series_history(frame, mixed):
    history = frame.iloc[:-8]
    changed = history.assign(s0=history["s0"].to_numpy()[::-1])
    before, after = mixed.predict(), mixed.predict(changed)
    assert not np.allclose(before["s1"], after["s1"])
    blind = XLSTMForecaster(**{**BASE, "max_epochs": 1}).fit(history)
    np.testing.assert_allclose(blind.predict()["s1"], blind.predict(changed)["s1"])


def test_predict_contexts_takes_the_other_series(frame, mixed):
    values = frame.iloc[:-8].to_numpy().T
    L, C = BASE["context_length"], values.shape[0]
    contexts = values[:, -L:]
    others = [np.column_stack([contexts[(k + j) % C] for j in (1, 2)]) for k in range(C)]
    covariates = np.stack(others)
    out = mixed.predict_contexts(contexts, covariates=covariates)
    expected = mixed.predict(frame.iloc[:-8]).to_numpy()
    np.testing.assert_allclose(out.T, expected, rtol=1e-5, atol=1e-6)
    actual = frame.iloc[-8:].to_numpy()
    assert mixed.score(frame) == pytest.approx(-np.mean((expected - actual) ** 2), rel=1e-6)
    with pytest.raises(ValueError, match="2 covariate"):
        mixed.predict_contexts(contexts)
    with pytest.raises(ValueError, match=r"covariates must have shape \(3, 48, 2\)"):
        mixed.predict_contexts(contexts, covariates=covariates[..., :1])


def test_the_same_series_are_required(frame, mixed):
    with pytest.raises(ValueError, match="same series in the same order"):
        mixed.predict(frame.iloc[:-8][["s1", "s0", "s2"]])
    with pytest.raises(ValueError, match="same series in the same order"):
        mixed.predict(frame.iloc[:-8][["s0", "s1"]])


def test_beyond_the_horizon_every_series_continues_together(frame, mixed):
    """The second 8 steps are the forecast from the history extended by the first 8
    steps' medians of all three series."""
    history = frame.iloc[:-8]
    long = mixed.predict(history, h=20)
    first = mixed.predict(history)
    pd.testing.assert_frame_equal(long.iloc[:8], first)
    extended = pd.concat([history, first])
    np.testing.assert_allclose(long.iloc[8:16], mixed.predict(extended), rtol=1e-4, atol=1e-5)
    extended = pd.concat([extended, long.iloc[8:16]])
    np.testing.assert_allclose(
        long.iloc[16:], mixed.predict(extended).iloc[:4], rtol=1e-4, atol=1e-5
    )
    assert list(long.index) == list(pd.date_range(history.index[-1], periods=21, freq="h")[1:])


def test_save_and_load(tmp_path, mixed):
    mixed.save(tmp_path / "m")
    loaded = XLSTMForecaster.load(tmp_path / "m")
    assert loaded.channel_mixing
    pd.testing.assert_frame_equal(loaded.predict(), mixed.predict())


def test_ridge_start_and_combination_run_with_mixing(frame, monkeypatch):
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 2)
    params = {**BASE, "linear_path": "auto", "max_epochs": 2}
    model = XLSTMForecaster(**params, channel_mixing=True).fit(frame.iloc[:-8])
    assert model.linear_path_ in ("ridge", "none", "combined")
    assert set(model.decision_["scores"]) >= {"ridge", "none"}
    assert model.predict().shape == (8, 3)


def test_benchmark_model_reads_the_other_channels(frame):
    """The benchmark's forecast of a window is the estimator's forecast from that window."""
    values = frame.to_numpy().T
    n = values.shape[1]
    bounds = SplitBounds(train=(0, 500), val=(452, 600), test=(552, n))
    data = LTSFData("wave", values, list(frame.columns), 48, bounds, None, scaler=None)
    fixed = ("horizon", "context_length", "validation_size", "random_state")
    params = {k: v for k, v in BASE.items() if k not in fixed}
    model = XLSTMModel(**{**params, "max_epochs": 1}, channel_mixing=True)
    model.fit(data, 8, 0)
    origins = np.array([600, 650])
    for c in range(3):
        contexts = np.stack([values[c, o - 48 : o] for o in origins])
        pred = model.predict(contexts, c, origins)
        for i, o in enumerate(origins):
            expected = model.model.predict(Panel.from_arrays(values[:, :o]))[c].to_numpy()
            np.testing.assert_allclose(pred[i], expected, rtol=1e-5, atol=1e-6)


def test_missing_values_of_another_series_are_read_as_missing(frame):
    """With allow_missing, a gap in one series is a gap in the others' covariates too."""
    gappy = frame.iloc[:-8].copy()
    gappy.iloc[-30:-20, 0] = np.nan
    params = {**BASE, "max_epochs": 1, "allow_missing": True, "channel_mixing": True}
    model = XLSTMForecaster(**params).fit(gappy)
    assert np.isnan(model.panel_.covariates[1][-30:-20, -1]).all()  # s0 seen by s1, last
    assert np.isfinite(model.predict().to_numpy()).all()
