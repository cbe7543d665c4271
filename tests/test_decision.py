"""The default's decision (``xlstm_ts.training.decide``) on constructed validation
forecasts: the correction's weight, the combination's weight, their cross-fitted check
and the choice between the candidates."""

from __future__ import annotations

import numpy as np
import pytest

from xlstm_ts.data import Windows
from xlstm_ts.training import decide, later_half

N, H = 60, 3
RNG = np.random.default_rng(0)
TARGET = RNG.normal(size=(N, H))
LATER = np.arange(N) >= N // 2
ZERO = np.zeros((N, H))


def test_later_half_splits_each_series_by_origin():
    w = Windows([np.zeros(12), np.zeros(9)], [(0, 9), (2, 6)], 2, 0)
    assert later_half(w).tolist() == [False] * 5 + [True] * 5 + [False] * 3 + [True] * 2


def test_later_half_puts_series_with_one_window_in_the_two_halves_in_turn():
    # four series with one validation window each (the M4 protocol), one with four
    w = Windows([np.zeros(6)] * 4 + [np.zeros(9)], [(3, 3)] * 4 + [(2, 5)], 2, 0)
    later = later_half(w).tolist()
    assert later[:4] == [False, True, False, True]
    assert later[4:] == [False, False, True, True]
    # so a weight's cross-fitted check has windows on both sides
    target = RNG.normal(size=(4, H))
    d = decide(target, np.array(later[:4]), linear=np.zeros((4, H)), correction=target)
    assert d.blend.accepted and d.blend.alpha == pytest.approx(1.0)


def test_a_correction_that_helps_on_both_halves_is_kept_with_the_in_sample_weight():
    d = decide(TARGET, LATER, linear=ZERO, correction=0.5 * TARGET, alpha_max=3.0)
    assert d.kept == "ridge" and d.blend.accepted
    assert d.blend.alpha == pytest.approx(2.0)
    assert all(g < 0 for g in d.blend.gain_halves)
    assert d.score == pytest.approx(0.0, abs=1e-20)
    clipped = decide(TARGET, LATER, linear=ZERO, correction=0.25 * TARGET)  # alpha_max 2
    assert clipped.blend.alpha == 2.0


def test_a_correction_that_helps_only_on_one_half_is_dropped():
    noise = 3.0 * RNG.normal(size=(N, H))
    # the target itself on the later half, noise on the earlier one
    correction = np.where(LATER[:, None], TARGET, noise)
    unchecked = decide(TARGET, LATER, linear=ZERO, correction=correction, check=False)
    assert unchecked.blend.alpha > 0.05 and unchecked.blend.accepted
    checked = decide(TARGET, LATER, linear=ZERO, correction=correction)
    assert not checked.blend.accepted and checked.blend.alpha == 0.0
    assert checked.blend.gain_halves[0] > 0  # the earlier half with the later half's weight
    assert checked.blend.alpha_halves[1] == pytest.approx(1.0)  # exact on the later half
    assert checked.scores["ridge"] == pytest.approx(np.mean(TARGET**2))  # the linear part


def test_the_combination_weight_is_the_least_squares_one_when_both_halves_gain():
    d = decide(TARGET, LATER, linear=ZERO, correction=ZERO, scratch=2.0 * TARGET)
    assert d.kept == "combined"
    assert d.combination.accepted and d.combination.alpha == pytest.approx(0.5)
    assert d.combination.alpha_halves == pytest.approx((0.5, 0.5))
    assert all(g == pytest.approx(-1.0) for g in d.combination.gain_halves)  # exact halves
    assert d.scores["combined"] == pytest.approx(0.0, abs=1e-20) and d.score == d.scores["combined"]


def test_a_better_forecast_from_scratch_everywhere_is_kept_alone():
    d = decide(TARGET, LATER, linear=ZERO, correction=ZERO, scratch=0.5 * TARGET)
    assert d.combination.alpha == 1.0  # clipped: the ridge start never helps
    assert d.kept == "none" and "combined" not in d.scores
    assert d.scores["none"] < d.scores["ridge"]


def test_the_ridge_start_stays_unless_both_halves_prefer_the_networks_from_scratch():
    # from scratch: exact on the earlier half, the wrong sign on the later half
    flips = np.where(LATER[:, None], -TARGET, TARGET)
    d = decide(TARGET, LATER, linear=ZERO, correction=ZERO, scratch=flips)
    assert not d.combination.accepted and d.combination.alpha == 0.0
    assert d.combination.alpha_halves == pytest.approx((1.0, 0.0))
    assert d.kept == "ridge"
    # made to have the lower validation MSE overall, it still needs both halves
    half_right = np.where(LATER[:, None], 0.2 * TARGET, TARGET)
    linear = np.where(LATER[:, None], 0.5 * TARGET, 0.0)
    d = decide(TARGET, LATER, linear=linear, correction=ZERO, scratch=half_right)
    assert d.scores["none"] < d.scores["ridge"] and d.kept == "ridge"
    unchecked = decide(TARGET, LATER, linear=linear, correction=ZERO, scratch=half_right,
                       check=False, combine=False)  # fmt: skip
    assert unchecked.combination is None and unchecked.kept == "none"


def test_missing_targets_are_left_out_of_every_sum():
    target = TARGET.copy()
    target[::7, 1] = np.nan
    filled = np.where(np.isnan(target), 1e6, 0.5 * TARGET)  # a wild value where unknown
    d = decide(target, LATER, linear=ZERO, correction=filled, scratch=ZERO)
    assert d.blend.alpha == pytest.approx(2.0) and np.isfinite(d.score)


def test_the_candidates_are_named():
    only_scratch = decide(TARGET, LATER, scratch=ZERO)
    assert only_scratch.kept == "none" and only_scratch.blend is None
    assert only_scratch.score == pytest.approx(np.mean(TARGET**2))
    with pytest.raises(ValueError, match="at least one candidate"):
        decide(TARGET, LATER)
    with pytest.raises(ValueError, match="both linear and correction"):
        decide(TARGET, LATER, linear=ZERO)
