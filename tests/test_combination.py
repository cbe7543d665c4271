"""The combination of the two candidates of ``linear_path="auto"``: the network that
weights them and the estimator that keeps it, saves and loads it (the checked weight:
``test_blend.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from xlstm_ts import XLSTMForecaster
from xlstm_ts.nn import ForecastCombination
from xlstm_ts.training.blend import BlendFit


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


TINY = dict(horizon=6, context_length=24, d_model=8, num_blocks=1, num_heads=2, patch_len=6,
            max_epochs=1, batch_size=16, windows_per_epoch=32, validation_size=12,
            progress_bar=False, random_state=0, n_models=1)  # fmt: skip


def series(n: int = 240) -> pd.DataFrame:
    t = np.arange(n)
    rng = np.random.default_rng(1)
    y = np.sin(2 * np.pi * t / 12) + 0.3 * np.tanh(np.sin(2 * np.pi * t / 31) * 3)
    return pd.DataFrame({"y": y + 0.1 * rng.standard_normal(n) + 2.0})


def test_a_combined_model_predicts_the_weighted_forecasts_and_survives_save_and_load(tmp_path):
    from xlstm_ts.estimators.state import ForecasterState

    df = series()
    ridge = XLSTMForecaster(**TINY, linear_path="ridge", quantiles=(0.1, 0.5, 0.9)).fit(df)
    none = XLSTMForecaster(**TINY, linear_path=False, quantiles=(0.1, 0.5, 0.9)).fit(df)
    fit = {"alpha": 0.3, "alpha_halves": [0.2, 0.4], "gain_halves": [-0.1, -0.2],
           "accepted": True}  # fmt: skip
    scores = {"ridge": 1.0, "none": 2.0, "combined": 0.9}
    model = XLSTMForecaster(**TINY, quantiles=(0.1, 0.5, 0.9))
    model.fitted_ = ForecasterState.combined(ridge.fitted_, none.fitted_, fit, scores)
    expected = 0.7 * ridge.predict()["y"] + 0.3 * none.predict()["y"]
    pd.testing.assert_series_equal(model.predict()["y"], expected, rtol=1e-5)
    quantiles = model.predict_quantiles()
    assert (np.diff(quantiles.to_numpy(), axis=1) >= 0).all()
    assert model.linear_path_ == "combined" and model.combination_["alpha"] == 0.3
    model.save(tmp_path / "m")
    loaded = XLSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    assert loaded.combination_ == model.combination_
    assert loaded.candidate_scores_ == scores and loaded.linear_path_ == "combined"
    assert isinstance(loaded.model_, ForecastCombination)
    assert loaded.model_.weights.tolist() == pytest.approx([0.7, 0.3])


@pytest.mark.parametrize("alpha", [0.0, 0.4, 1.0])
def test_auto_keeps_the_combination_only_for_a_weight_inside_zero_one(monkeypatch, alpha):
    import xlstm_ts.training as training

    def fake(first, second, windows, point, batch_size=1024, cross_check=True):
        return BlendFit(alpha, (alpha, alpha), (-0.1, -0.1), True)

    monkeypatch.setattr(training, "fit_combination", fake)
    model = XLSTMForecaster(**TINY, linear_path="auto").fit(series())
    scores = model.candidate_scores_
    assert model.combination_["alpha"] == alpha
    if alpha == 0.4:
        assert model.linear_path_ == "combined" and set(scores) == {"ridge", "none", "combined"}
        assert model.model_.weights.tolist() == pytest.approx([0.6, 0.4])
    else:  # 0 or 1: one candidate alone, the one both halves' weights point to
        assert model.linear_path_ == {0.0: "ridge", 1.0: False}[alpha]
        assert not isinstance(model.model_, ForecastCombination)


@pytest.mark.parametrize("blend_check", [True, False])
def test_auto_leaves_the_ridge_start_only_when_both_validation_halves_agree(
    monkeypatch, blend_check
):
    import xlstm_ts.training as training
    from xlstm_ts.training.blend import second_wins_both_halves

    # the check refused the combination: the network without linear path wins the later
    # half (weight 1) and loses the earlier one (weight 0.3 < 1/2)
    refused = BlendFit(0.0, (0.3, 1.0), (0.2, -0.1), False)
    monkeypatch.setattr(training, "fit_combination", lambda *a, **k: refused)
    # whatever the whole validation part says, it is made to prefer the network from scratch
    scores = iter([1.0, 0.5])
    monkeypatch.setattr(training, "validation_mse", lambda *a, **k: next(scores))
    model = XLSTMForecaster(**TINY, linear_path="auto", blend_check=blend_check)
    model.fit(series())
    assert model.candidate_scores_ == {"ridge": 1.0, "none": 0.5}
    # with the check the ridge start stays; without it the lower validation MSE wins
    assert model.linear_path_ == ("ridge" if blend_check else False)
    assert second_wins_both_halves([0.51, 1.0])
    assert not second_wins_both_halves([0.5, 1.0])


def test_auto_without_combine_keeps_one_candidate_and_does_not_combine(monkeypatch):
    import xlstm_ts.training as training

    def refuse(*args, **kwargs):
        raise AssertionError("combine=False must not fit a combination")

    monkeypatch.setattr(training, "fit_combination", refuse)
    model = XLSTMForecaster(**TINY, linear_path="auto", combine=False).fit(series())
    assert model.combination_ is None and model.linear_path_ in ("ridge", False)
