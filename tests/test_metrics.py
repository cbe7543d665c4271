"""Each metric against a computation by hand on a few numbers."""

import numpy as np
import pytest
from sklearn.metrics import make_scorer

from xlstm_ts.metrics import (
    coverage,
    crps,
    interval_width,
    mae,
    mase,
    mse,
    naive_scale,
    pinball,
    smape,
)

Y = np.array([1.0, 2.0, 4.0])
P = np.array([2.0, 2.0, 1.0])  # errors -1, 0, 3


def test_mse_and_mae():
    assert mse(Y, P) == pytest.approx((1 + 0 + 9) / 3)
    assert mae(Y, P) == pytest.approx((1 + 0 + 3) / 3)


def test_mase_scales_by_the_in_sample_naive_error():
    history = np.array([1.0, 3.0, 2.0, 6.0])  # naive errors 2, 1, 4 -> 7/3
    assert naive_scale(history) == pytest.approx(7 / 3)
    assert mase(Y, P, history) == pytest.approx((4 / 3) / (7 / 3))
    # season 2: |2 - 1|, |6 - 3| -> 2
    assert mase(Y, P, history, season=2) == pytest.approx((4 / 3) / 2)
    with pytest.raises(ValueError, match="in-sample MAE 0.0"):
        mase(Y, P, np.ones(5))
    with pytest.raises(ValueError, match="longer than season=4"):
        mase(Y, P, history, season=4)


def test_smape_in_percent_and_zero_over_zero():
    # 2|e|/(|y|+|p|): 2/3, 0, 6/5
    assert smape(Y, P) == pytest.approx(100 * (2 / 3 + 0 + 6 / 5) / 3)
    assert smape([0.0, 1.0], [0.0, 3.0]) == pytest.approx(100 * (0 + 4 / 4) / 2)


def test_pinball_and_crps_from_quantiles():
    levels = [0.1, 0.5, 0.9]
    y = np.array([3.0, 0.0])
    q = np.array([[2.0, 3.0, 5.0], [-1.0, 1.0, 2.0]])
    # d = y - q: [1, 0, -2] and [1, -1, -2]
    # losses: [0.1, 0, 0.2] and [0.1, 0.5, 0.2]
    expected = (0.1 + 0 + 0.2 + 0.1 + 0.5 + 0.2) / 6
    assert pinball(y, q, levels) == pytest.approx(expected)
    assert crps(y, q, levels) == pytest.approx(2 * expected)
    # the median alone: CRPS is the MAE
    assert crps(y, q[:, 1:2], [0.5]) == pytest.approx(mae(y, q[:, 1]))
    with pytest.raises(ValueError, match=r"shape y_true.shape \+ \(len\(quantiles\),\)"):
        pinball(y, q[:, :2], levels)


def test_crps_approaches_the_closed_form_of_a_normal():
    # CRPS of N(0, 1) at y = 0 is 2φ(0) - 1/√π ≈ 0.2337; many even levels converge to it
    from scipy.stats import norm

    levels = (np.arange(999) + 1) / 1000
    exact = 2 * norm.pdf(0) - 1 / np.sqrt(np.pi)
    assert crps([0.0], norm.ppf(levels)[None], levels) == pytest.approx(exact, rel=1e-2)


def test_coverage_and_width():
    lo, hi = np.array([0.0, 2.0, 3.0, 0.0]), np.array([1.0, 3.0, 5.0, 4.0])
    y = np.array([1.0, 1.0, 4.0, 5.0])  # inside (bound), below, inside, above
    assert coverage(y, lo, hi) == pytest.approx(0.5)
    assert interval_width(lo, hi) == pytest.approx((1 + 1 + 2 + 4) / 4)
    with pytest.raises(ValueError, match=r"lower > upper at flat position 1 \(2.0 > 1.0\)"):
        coverage(y, lo, np.array([1.0, 1.0, 5.0, 4.0]))


def test_shapes_must_agree():
    with pytest.raises(ValueError, match=r"y_true has shape \(3,\) but y_pred has shape \(2,\)"):
        mse(Y, P[:2])


def test_point_metrics_plug_into_make_scorer():
    from sklearn.dummy import DummyRegressor

    X, y = np.zeros((3, 1)), Y
    model = DummyRegressor().fit(X, y)
    scorer = make_scorer(smape, greater_is_better=False)
    assert scorer(model, X, y) == pytest.approx(-smape(y, np.full(3, y.mean())))
