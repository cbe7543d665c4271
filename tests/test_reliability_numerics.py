"""Numerical faults: a NaN or inf in training stops fit with a clear error and the last
good weights; extreme series give finite forecasts on the data's scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from sklearn.exceptions import NotFittedError

from xlstm_ts import XLSTMForecaster
from xlstm_ts.estimators import candidates
from xlstm_ts.stateful import XLSTMStatefulForecaster
from xlstm_ts.training import ForecastModule, NonFiniteLossError

SMALL = dict(
    d_model=8, num_blocks=1, num_heads=2, patch_len=4, batch_size=16, random_state=0,
    early_stopping_patience=None, trainer_kwargs={"enable_progress_bar": False},
)  # fmt: skip
# not the subject here: no dependence on defaults
WINDOW = dict(SMALL, linear_path="none")


def _with_callbacks(*callbacks: Callback) -> dict:
    """``WINDOW`` with Lightning callbacks, still without a progress bar."""
    return {**WINDOW, "trainer_kwargs": {"enable_progress_bar": False, "callbacks": [*callbacks]}}


@pytest.fixture(autouse=True)
def one_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """One network from scratch for ``linear_path="none"``, not a seed ensemble of three."""
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)


def _frame(n: int = 160) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame({"a": np.sin(t / 4)}, index=pd.date_range("2020", periods=n, freq="h"))


class Snapshot(Callback):
    """Keeps the network's weights after every finished step."""

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        self.weights = {k: v.detach().clone() for k, v in module.network.state_dict().items()}


class InfInputs(Callback):
    """Fault: the contexts of one batch become infinite (bad data reaching training)."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.at = (epoch, batch)

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        if (trainer.current_epoch, batch_idx) == self.at:
            batch[0][:] = float("inf")


class InfGradient(Callback):
    """Fault: one gradient becomes infinite after a backward pass."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.at = (epoch, batch)

    def on_after_backward(self, trainer, module) -> None:
        if (trainer.current_epoch, trainer.fit_loop.epoch_loop.batch_idx) == self.at:
            next(p for p in module.parameters() if p.grad is not None).grad[...] = float("inf")


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


@pytest.mark.parametrize("epoch, batch", [(0, 0), (1, 3)])
def test_infinite_inputs_stop_fit_with_epoch_batch_and_cause(epoch: int, batch: int) -> None:
    snap = Snapshot()
    model = XLSTMForecaster(
        horizon=4, context_length=16, max_epochs=3, **_with_callbacks(snap, InfInputs(epoch, batch))
    )  # fmt: skip
    with pytest.raises(NonFiniteLossError) as info:
        model.fit(_frame())
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, FloatingPointError)
    assert (err.epoch, err.batch, err.stage) == (epoch, batch, "loss")
    message = str(err)
    assert f"at epoch {epoch}, batch {batch}" in message
    assert "infinite input" in message and "learning_rate" in message
    # the last good weights: those after the last finished step, all finite
    assert all(torch.isfinite(v).all() for v in err.state_dict.values())
    if (epoch, batch) != (0, 0):
        _assert_same(err.state_dict, snap.weights)
    with pytest.raises(NotFittedError):  # no half-trained model is left behind
        model.predict()


def test_infinite_gradient_stops_before_the_optimiser_step() -> None:
    snap = Snapshot()
    model = XLSTMForecaster(
        horizon=4, context_length=16, max_epochs=2, **_with_callbacks(snap, InfGradient(1, 2))
    )  # fmt: skip
    with pytest.raises(NonFiniteLossError, match=r"non-finite gradient .* at epoch 1, batch 2"):
        model.fit(_frame())


def test_nan_loss_stops_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    loss = ForecastModule.loss

    def flaky(self, pred, target):
        calls["n"] += 1
        out = loss(self, pred, target)
        return out * float("nan") if calls["n"] == 5 and self.training else out

    monkeypatch.setattr(ForecastModule, "loss", flaky)
    model = XLSTMForecaster(horizon=4, context_length=16, max_epochs=2, **WINDOW)
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss \(nan\) at epoch 0, batch 4"):
        model.fit(_frame())


def test_nan_validation_loss_stops_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    loss = ForecastModule.loss

    def nan_in_validation(self, pred, target):
        out = loss(self, pred, target)
        return out if self.training else out * float("nan")

    monkeypatch.setattr(ForecastModule, "loss", nan_in_validation)
    model = XLSTMForecaster(
        horizon=4, context_length=16, max_epochs=2, **{**WINDOW, "validation_size": 0.2}
    )
    with pytest.raises(NonFiniteLossError, match="non-finite validation .* after epoch 0"):
        model.fit(_frame())


def test_fault_keeps_last_finished_epoch_in_checkpoint_dir(tmp_path) -> None:
    model = XLSTMForecaster(
        horizon=4, context_length=16, max_epochs=3, **_with_callbacks(InfInputs(1, 2))
    )  # fmt: skip
    with pytest.raises(NonFiniteLossError, match="last.ckpt"):
        model.fit(_frame(), checkpoint_dir=tmp_path)
    # linear_path="none": each network of the seed ensemble in its own subfolder
    saved = torch.load(tmp_path / "member=0" / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["epoch"] == 0
    assert all(torch.isfinite(v).all() for v in saved["state_dict"].values())


# ---------------------------------------------------------------- extreme series
N = 120
_t = np.arange(N)
_base = np.sin(_t / 4) + 0.3 * np.random.default_rng(0).normal(size=N)
_spikes = _base.copy()
_spikes[::17] += 1e4
_flat = _base.copy()
_flat[10:110] = 3.0
EXTREME = {
    "constant": np.full(N, 5.0),
    "scale_1e9": 1e9 * (1 + 0.01 * _base),
    "scale_1e-9": 1e-9 * _base,
    "level_1e-9": 1e-9 * (2 + 0.1 * _base),
    "spikes": _spikes,
    "long_flat": _flat,
    "scale_1e200": 1e200 * _base,
    "scale_1e-300": -1e-300 * (2 + _base),
}


@pytest.mark.parametrize("estimator", ["window", "window_auto", "stateful"])
@pytest.mark.parametrize("name", list(EXTREME))
def test_extreme_series_give_finite_forecasts_on_their_scale(name: str, estimator: str) -> None:
    values = EXTREME[name]
    df = pd.DataFrame({"s": values})
    if estimator.startswith("window"):
        linear_path = "auto" if estimator == "window_auto" else "none"  # auto: ridge start too
        params = {**WINDOW, "linear_path": linear_path}
        model = XLSTMForecaster(horizon=4, context_length=16, max_epochs=1, **params)
    else:
        model = XLSTMStatefulForecaster(horizon=4, segment_length=16, max_epochs=1, **SMALL)
    pred = model.fit(df).predict()["s"].to_numpy()
    assert np.isfinite(pred).all()
    lo, hi = values.min(), values.max()
    spread = max(hi - lo, abs(hi), abs(lo))  # a constant's scale is its level
    assert np.all(pred >= lo - spread) and np.all(pred <= hi + spread), pred
    quantiles = model.predict_quantiles().to_numpy(dtype=float)
    assert np.isfinite(quantiles).all()
