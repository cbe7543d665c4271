"""``n_models``: networks trained from scratch as a seed ensemble, alone and as the
candidate without linear path of ``linear_path="auto"``."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from test_combination import series  # the combination tests' series

from xlstm_ts import XLSTMForecaster
from xlstm_ts.nn import ForecastCombination, XLSTMForecastNet
from xlstm_ts.training.blend import BlendFit

TINY = dict(horizon=6, context_length=24, d_model=8, num_blocks=1, num_heads=2, patch_len=6,
            max_epochs=2, batch_size=16, windows_per_epoch=32, validation_size=12,
            progress_bar=False, quantiles=(0.1, 0.5, 0.9))  # fmt: skip


def test_the_ensemble_averages_the_networks_of_consecutive_seeds(tmp_path):
    df = series()
    ensemble = XLSTMForecaster(**TINY, linear_path=False, n_models=3, random_state=5).fit(df)
    one = dict(TINY, linear_path=False, n_models=1)
    singles = [XLSTMForecaster(**one, random_state=seed).fit(df) for seed in (5, 6, 7)]
    # the networks' outputs (before ``predict`` sorts each forecast's quantiles)
    x = torch.randn(5, 24, dtype=torch.float32)
    with torch.no_grad():
        expected = sum(m.model_(x) for m in singles) / 3
        torch.testing.assert_close(ensemble.model_(x), expected)
    assert isinstance(ensemble.model_, ForecastCombination) and len(ensemble.model_.members) == 3
    assert ensemble.n_epochs_ == sum(m.n_epochs_ for m in singles)
    # the members differ: the seeds are not all the same
    assert not singles[0].predict().equals(singles[1].predict())
    ensemble.save(tmp_path / "m")
    loaded = XLSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict_quantiles(), ensemble.predict_quantiles())
    assert loaded.best_val_loss_ == ensemble.best_val_loss_


def test_auto_trains_the_ridge_start_once_and_the_network_from_scratch_n_models_times(
    monkeypatch, tmp_path
):
    import xlstm_ts.training as training

    def fake(first, second, windows, point, batch_size=1024, cross_check=True):
        return BlendFit(0.4, (0.4, 0.4), (-0.1, -0.1), True)

    monkeypatch.setattr(training, "fit_combination", fake)
    model = XLSTMForecaster(**TINY, n_models=2, random_state=0).fit(series())
    ridge, none = model.model_.members
    assert isinstance(ridge, XLSTMForecastNet)
    assert isinstance(none, ForecastCombination) and len(none.members) == 2
    assert model.model_.weights.tolist() == pytest.approx([0.6, 0.4])
    model.save(tmp_path / "m")
    loaded = XLSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict_quantiles(), model.predict_quantiles())


def test_each_member_keeps_its_own_checkpoints(tmp_path):
    params = dict(**TINY, linear_path=False, n_models=2, random_state=0)
    first = XLSTMForecaster(**params, checkpoint_dir=tmp_path).fit(series())
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["member=0", "member=1"]
    again = XLSTMForecaster(**params, checkpoint_dir=tmp_path).fit(series())
    pd.testing.assert_frame_equal(again.predict_quantiles(), first.predict_quantiles())


def test_n_models_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="n_models"):
        XLSTMForecaster(**TINY, n_models=0).fit(series())
