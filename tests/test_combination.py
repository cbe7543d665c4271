"""The networks a fit keeps: the combination of the two candidates of
``linear_path="auto"``, the seed ensemble of the networks from scratch, and the decision
they follow (the decision itself on constructed cases: ``test_decision.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from xlstm_ts import XLSTMForecaster
from xlstm_ts.estimators import candidates
from xlstm_ts.nn import ForecastCombination, XLSTMForecastNet
from xlstm_ts.training import Decision, WeightFit


class Constant(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, context, covariates=None, future=None):
        return torch.full((len(context), 3, 2), self.value)


class Refuses(nn.Module):
    def forward(self, *inputs):
        raise AssertionError("a member without weight must not run")


def test_the_combination_is_the_weighted_sum_of_its_members():
    x = torch.zeros(4, 8)
    combined = ForecastCombination([Constant(1.0), Constant(3.0)], [0.25, 0.75])
    assert torch.equal(combined(x), torch.full((4, 3, 2), 2.5))
    equal_weights = ForecastCombination([Constant(2.0), Constant(4.0)])
    assert torch.equal(equal_weights(x), torch.full((4, 3, 2), 3.0))
    assert torch.equal(ForecastCombination([Constant(2.0), Refuses()], [1.0, 0.0])(x),
                       torch.full((4, 3, 2), 2.0))  # fmt: skip
    assert "weights" in ForecastCombination([Constant(1.0)]).state_dict()
    with pytest.raises(ValueError, match="2 members but 1 weights"):
        ForecastCombination([Constant(1.0), Constant(2.0)], [1.0])


# the kept network, inside the calibration of its quantiles (model_.network; test_calibration)
TINY = dict(horizon=6, context_length=24, d_model=8, num_blocks=1, num_heads=2, patch_len=6,
            max_epochs=1, batch_size=16, windows_per_epoch=32, validation_size=12,
            random_state=0, quantiles=(0.1, 0.5, 0.9),
            trainer_kwargs={"enable_progress_bar": False})  # fmt: skip


def series(n: int = 240) -> pd.DataFrame:
    t = np.arange(n)
    rng = np.random.default_rng(1)
    y = np.sin(2 * np.pi * t / 12) + 0.3 * np.tanh(np.sin(2 * np.pi * t / 31) * 3)
    return pd.DataFrame({"y": y + 0.1 * rng.standard_normal(n) + 2.0})


def _decides(monkeypatch, kept: str, w: float = 0.0, alpha: float = 0.5) -> list:
    """Make the fit's decision ``kept`` (with combination weight ``w`` and blend weight
    ``alpha``); returns the list that receives the forecasts it was given."""
    import xlstm_ts.training as training

    seen = []

    def decide(target, later, **parts):
        seen.append((target, later, parts))
        weight = WeightFit(w, (w, w), (-0.1, -0.1), True)
        blend = WeightFit(alpha, (alpha, alpha), (-0.1, -0.1), True)
        scores = {"ridge": 1.0, "none": 2.0, **({"combined": 0.5} if kept == "combined" else {})}
        return Decision(kept, blend, weight, scores)

    monkeypatch.setattr(training, "decide", decide)
    return seen


def test_the_decision_sees_each_candidates_validation_forecasts(monkeypatch):
    from xlstm_ts.training import forecast_parts, point_forecasts

    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 2)
    seen = _decides(monkeypatch, "combined", w=0.4, alpha=0.5)
    model = XLSTMForecaster(**TINY).fit(series())
    ((target, later, parts),) = seen
    assert target.shape == parts["linear"].shape == parts["scratch"].shape
    assert later.dtype == bool and later.any() and not later.all()
    ridge, scratch = model.model_.network.members
    assert isinstance(scratch, ForecastCombination) and len(scratch.members) == 2
    assert float(ridge.correction_scale) == 0.5  # the blend weight, set on the network
    # what the decision saw is what the kept networks forecast on the validation windows
    from xlstm_ts.data import scaled, train_val_windows

    values = scaled(model.panel_.values, np.array(model.fitted_.units))  # each in its unit
    _, val = train_val_windows(values, model.panel_.ids, 24, 6, [12], model.panel_.covariates, 0)
    np.testing.assert_allclose(forecast_parts(ridge, val, 1)[0], parts["linear"])
    np.testing.assert_allclose(point_forecasts(scratch, val, 1), parts["scratch"], rtol=1e-6)
    assert model.model_.network.weights.tolist() == pytest.approx([0.6, 0.4])
    assert model.linear_path_ == "combined" and model.best_val_loss_ == 0.5
    assert len(model.n_epochs_) == 3  # the ridge start and two networks from scratch
    assert model.decision_["combination"]["alpha"] == 0.4


@pytest.mark.parametrize("kept", ["ridge", "none"])
def test_one_candidate_kept_alone(monkeypatch, kept):
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 2)
    _decides(monkeypatch, kept)
    model = XLSTMForecaster(**TINY).fit(series())
    assert model.linear_path_ == kept and model.decision_["kept"] == kept
    if kept == "ridge":
        assert isinstance(model.model_.network, XLSTMForecastNet) and len(model.n_epochs_) == 1
    else:
        assert isinstance(model.model_.network, ForecastCombination) and len(model.n_epochs_) == 2


def test_a_combined_model_predicts_the_weighted_forecasts_and_survives_save_and_load(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
    _decides(monkeypatch, "combined", w=0.3)
    model = XLSTMForecaster(**TINY).fit(series())
    ridge, scratch = (m.eval() for m in model.model_.network.members)
    x = torch.randn(5, 24)
    with torch.no_grad():
        torch.testing.assert_close(model.model_.network(x), 0.7 * ridge(x) + 0.3 * scratch(x))
    quantiles = model.predict_quantiles()
    assert (np.diff(quantiles.filter(like="_q").to_numpy(), axis=1) >= 0).all()
    model.save(tmp_path / "m")
    loaded = XLSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    assert loaded.decision_ == model.decision_ and loaded.linear_path_ == "combined"
    assert loaded.n_epochs_ == model.n_epochs_
    assert isinstance(loaded.model_.network, ForecastCombination)
    assert loaded.model_.network.weights.tolist() == pytest.approx([0.7, 0.3])


def test_the_networks_from_scratch_average_consecutive_seeds(tmp_path):
    one = dict(TINY, linear_path="ridge")  # one network per fit, to compare members with
    ensemble = XLSTMForecaster(**{**TINY, "linear_path": "none", "random_state": 5})
    ensemble.fit(series())
    assert isinstance(ensemble.model_.network, ForecastCombination)
    assert len(ensemble.model_.network.members) == candidates.SCRATCH_ENSEMBLE == 3
    assert len(ensemble.n_epochs_) == 3 and ensemble.linear_path_ == "none"
    members = ensemble.model_.network.members
    x = torch.randn(5, 24)
    with torch.no_grad():
        outputs = [m.eval()(x) for m in members]
        torch.testing.assert_close(ensemble.model_.network(x), sum(outputs) / 3)
    assert not torch.equal(outputs[0], outputs[1])  # the seeds differ
    assert XLSTMForecaster(**one).fit(series()).decision_["kept"] == "ridge"
    ensemble.save(tmp_path / "m")
    loaded = XLSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict_quantiles(), ensemble.predict_quantiles())
    assert loaded.best_val_loss_ == ensemble.best_val_loss_


def test_each_network_keeps_its_own_checkpoints(monkeypatch, tmp_path):
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 2)
    first = XLSTMForecaster(**TINY).fit(series(), checkpoint_dir=tmp_path)
    folders = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_dir())
    assert folders == ["none", "none/member=0", "none/member=1", "ridge"]
    again = XLSTMForecaster(**TINY).fit(series(), checkpoint_dir=tmp_path)
    pd.testing.assert_frame_equal(again.predict_quantiles(), first.predict_quantiles())
