"""Quantiles calibrated on the validation windows: the default's 10–90 % band covers
about 80 % of held-out values, whatever the kept network's own quantiles are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlstm_ts import XLSTMForecaster
from xlstm_ts.nn import CalibratedQuantiles
from xlstm_ts.training import conformal_shifts


def test_conformal_shifts_are_order_statistics_and_cover_new_draws():
    rng = np.random.default_rng(0)
    residuals = rng.standard_normal((199, 2, 3))
    residuals[::10, 1, 0] = np.nan  # missing targets are left out
    shift = conformal_shifts(residuals, [0.1, 0.5, 0.9])
    assert (shift[:, 1] == 0).all()
    r = np.sort(residuals[:, 0, 2])
    assert shift[0, 2] == r[int(np.ceil(200 * 0.9)) - 1]  # the 180th of 199
    assert shift[0, 0] == np.sort(residuals[:, 0, 0])[int(np.floor(200 * 0.1)) - 1]
    known = np.sort(residuals[:, 1, 0][~np.isnan(residuals[:, 1, 0])])
    assert shift[1, 0] == known[int(np.floor((len(known) + 1) * 0.1)) - 1]
    fresh = rng.standard_normal(100_000)
    assert np.mean(fresh <= shift[0, 2]) == pytest.approx(0.9, abs=0.03)
    assert np.mean(fresh >= shift[0, 0]) == pytest.approx(0.9, abs=0.03)


def ar_series(n: int = 2400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.8 * y[t - 1] + rng.standard_normal()
    return 10 + y


def held_out_coverage(model: XLSTMForecaster, y: np.ndarray, start: int) -> tuple[float, float]:
    """Coverage and mean width of the 10–90 % band over every window after ``start``."""
    L, H = model.context_length, model.horizon
    origins = np.arange(start, len(y) - H)
    contexts = np.stack([y[o - L : o] for o in origins])
    actual = np.stack([y[o : o + H] for o in origins])
    q = model.predict_contexts(contexts, quantiles=True)
    lo, hi = q[..., 0], q[..., -1]
    return float(np.mean((actual >= lo) & (actual <= hi))), float(np.mean(hi - lo))


@pytest.mark.parametrize("learning_rate", [0.0, 3e-3])
def test_the_band_covers_about_80_percent_of_held_out_values(learning_rate):
    # learning rate 0: the ridge start untouched, its quantiles all equal to its forecast
    y = ar_series()
    fit_end = 1600
    model = XLSTMForecaster(
        horizon=6, context_length=48, d_model=8, num_heads=2, patch_len=8,
        linear_path="ridge", max_epochs=2, windows_per_epoch=256, validation_size=400,
        learning_rate=learning_rate, random_state=0,
        trainer_kwargs={"enable_progress_bar": False},
    ).fit(pd.DataFrame({"y": y[:fit_end]}))  # fmt: skip
    assert isinstance(model.model_, CalibratedQuantiles)
    coverage, width = held_out_coverage(model, y, fit_end)
    assert 0.74 <= coverage <= 0.86
    # the Gaussian noise's 10-90 % band at one step is 2.56 wide, wider further out
    assert 2.0 < width < 6.0
    if learning_rate == 0.0:  # without calibration the band would be empty
        raw = model.model_.network
        model.fitted_.network = raw
        assert held_out_coverage(model, y, fit_end)[0] < 0.05


def test_a_median_only_model_and_a_fit_without_validation_are_not_wrapped():
    df = pd.DataFrame({"y": ar_series(600)})
    small = dict(horizon=6, context_length=48, d_model=8, num_heads=2, patch_len=8,
                 linear_path="ridge", max_epochs=1, random_state=0,
                 trainer_kwargs={"enable_progress_bar": False})  # fmt: skip
    assert not isinstance(XLSTMForecaster(**small, quantiles=(0.5,)).fit(df).model_,
                          CalibratedQuantiles)  # fmt: skip
    assert not isinstance(XLSTMForecaster(**small, validation_size=0).fit(df).model_,
                          CalibratedQuantiles)  # fmt: skip
