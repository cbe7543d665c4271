"""Every series in its own unit: what a panel sums (training losses, the ridge start and
its level term, the decision's validation scores) weighs every series alike, so that a
series forecast beside one 10^4 times larger is forecast as beside one of its own size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlstm_ts import XLSTMForecaster
from xlstm_ts.data import unit_scale
from xlstm_ts.estimators import candidates


def test_a_unit_is_the_spread_and_survives_extreme_magnitudes():
    rng = np.random.default_rng(0)
    v = rng.normal(25, 2, 500)
    assert unit_scale(v) == pytest.approx(v.std())
    assert unit_scale(1e300 * v) == pytest.approx(1e300 * v.std())
    assert unit_scale(1e-300 * v) == pytest.approx(1e-300 * v.std())
    assert unit_scale(np.full(10, 4.0)) == pytest.approx(4e-6)  # constant: its resolution
    assert unit_scale(np.zeros(5)) == 1.0 and unit_scale(np.array([np.nan])) == 1.0


def ar(n: int, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.9 * y[t - 1] + rng.standard_normal()
    return level + 0.02 * level * y + 0.3 * level * np.sin(np.arange(n) * 2 * np.pi / 12) * 0.1


SMALL = dict(horizon=6, context_length=36, d_model=8, num_heads=2, patch_len=6, max_epochs=2,
             windows_per_epoch=256, validation_size=60, random_state=0,
             trainer_kwargs={"enable_progress_bar": False})  # fmt: skip


@pytest.mark.parametrize("linear_path", ["ridge", "none"])
def test_a_series_is_forecast_alike_beside_a_series_ten_thousand_times_larger(
    monkeypatch, linear_path
):
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
    small, other = ar(400, 25.0, 0), ar(400, 25.0, 1)
    same_size = pd.DataFrame({"small": small, "other": other})
    mixed_sizes = pd.DataFrame({"small": small, "other": 1e4 * other})
    a = XLSTMForecaster(**SMALL, linear_path=linear_path).fit(same_size)
    b = XLSTMForecaster(**SMALL, linear_path=linear_path).fit(mixed_sizes)
    fa, fb = a.predict_quantiles(), b.predict_quantiles()
    small, other = (fa.filter(regex=f"^{s}").columns for s in ("small", "other"))
    np.testing.assert_allclose(fb[small], fa[small], rtol=1e-3)
    np.testing.assert_allclose(fb[other], 1e4 * fa[other], rtol=1e-3)
    assert b.best_val_loss_ == pytest.approx(a.best_val_loss_, rel=1e-3)
    # no forecast leaves its series' range by much
    for column, values in mixed_sizes.items():
        span = values.max() - values.min()
        assert fb[column].to_numpy().min() > values.min() - span
        assert fb[column].to_numpy().max() < values.max() + span
