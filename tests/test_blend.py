"""The blend weight of the encoder's correction, the combination weight of two networks,
and their out-of-sample check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from xlstm_ts.data import Windows
from xlstm_ts.training.blend import fit_blend, fit_combination, later_half


class FixedParts(nn.Module):
    """A network whose linear part is 0 and whose correction is a given function of the
    window's last context value (the series below encode the target there)."""

    def __init__(self, correction) -> None:
        super().__init__()
        self.correction = correction
        self.register_buffer("correction_scale", torch.ones(()))

    def forward_parts(self, context, covariates=None, future=None):
        linear = torch.zeros(context.shape[0], 1)
        return linear, self.correction(context[:, -1:])[..., None]


def windows(n_windows: int, n_series: int = 2) -> tuple[Windows, dict[float, tuple[float, bool]]]:
    """Windows of context 1 and horizon 1 over random series, and for each context
    value (all distinct) the window's target and whether it lies in the later half."""
    rng = np.random.default_rng(0)
    series = [rng.normal(size=n_windows + 1) for _ in range(n_series)]
    w = Windows(series, [(0, n_windows - 1)] * n_series, 1, 1)
    later = later_half(w)
    context, *_, target = w.batch(np.arange(len(w)))
    facts = {
        float(c): (float(t), bool(h))
        for c, t, h in zip(context[:, 0], target[:, 0], later, strict=True)
    }
    return w, facts


def from_facts(facts, rule):
    """A correction ``rule(target, later)`` looked up from the window's context value."""

    def correction(x):
        return torch.tensor([[rule(*facts[float(v)])] for v in x[:, 0]])

    return correction


def test_later_half_splits_each_series_by_origin():
    w = Windows([np.zeros(12), np.zeros(9)], [(0, 9), (2, 6)], 2, 0)
    later = later_half(w)
    assert later.tolist() == [False] * 5 + [True] * 5 + [False, False, False, True, True]


def test_a_correction_that_helps_on_both_halves_is_kept_with_the_in_sample_weight():
    w, facts = windows(50)
    # correction = 0.5 * target: the best weight is 2 everywhere
    net = FixedParts(from_facts(facts, lambda target, later: 0.5 * target))
    fit = fit_blend(net, w, point=0, alpha_max=3.0)
    assert fit.accepted
    assert fit.alpha == pytest.approx(2.0)
    assert all(g < 0 for g in fit.gain_halves)
    assert float(net.correction_scale) == pytest.approx(2.0)


def test_a_correction_that_helps_only_on_one_half_is_dropped():
    w, facts = windows(60)
    noise = np.random.default_rng(1)
    # the correction is the target on the later half and noise on the earlier half: in
    # sample alpha > 0, but the weight fitted on the later half makes the earlier half
    # worse, so the check rejects it
    correction = from_facts(facts, lambda t, later: t if later else 3.0 * noise.normal())
    net = FixedParts(correction)
    unchecked = fit_blend(net, w, point=0, cross_check=False)
    assert unchecked.alpha > 0.05 and unchecked.accepted
    checked = fit_blend(net, w, point=0)
    assert not checked.accepted
    assert checked.alpha == 0.0 and float(net.correction_scale) == 0.0
    assert checked.gain_halves[0] > 0  # the earlier half, forecast with the later half's weight
    assert checked.alpha_halves[1] == pytest.approx(1.0)  # exact on the later half
    assert checked.gain_halves[1] <= 0


class Lookup(nn.Module):
    """A forecaster (horizon 1, one quantile) whose forecast is ``rule(target, later)``
    of the window, looked up from its context value (see ``test_blend.windows``)."""

    def __init__(self, facts, rule) -> None:
        super().__init__()
        self.facts, self.rule = facts, rule

    def forward(self, context, covariates=None, future=None):
        out = [self.rule(*self.facts[float(v)]) for v in context[:, -1]]
        return torch.tensor(out, dtype=torch.float32)[:, None, None]


def test_the_combination_weight_is_the_least_squares_one_when_both_halves_gain():
    w, facts = windows(60)
    first = Lookup(facts, lambda target, later: 0.0)
    second = Lookup(facts, lambda target, later: 2.0 * target)  # best weight: 1/2
    fit = fit_combination(first, second, w, point=0)
    assert fit.accepted and fit.alpha == pytest.approx(0.5)
    assert fit.alpha_halves == pytest.approx((0.5, 0.5))
    assert all(g == pytest.approx(-1.0) for g in fit.gain_halves)  # the halves become exact


def test_the_combination_weight_is_clipped_to_one_and_refused_when_one_half_loses():
    w, facts = windows(60)
    first = Lookup(facts, lambda target, later: 0.0)
    fit = fit_combination(first, Lookup(facts, lambda target, later: 0.5 * target), w, 0)
    assert fit.accepted and fit.alpha == 1.0  # the second alone: the first is never better
    # the second forecasts the earlier half well and the later half with the wrong sign:
    # the weight fitted on one half makes the other worse, so it is refused
    flips = Lookup(facts, lambda target, later: -target if later else target)
    fit = fit_combination(first, flips, w, 0)
    assert not fit.accepted and fit.alpha == 0.0
    assert fit.alpha_halves == pytest.approx((1.0, 0.0))
    unchecked = fit_combination(first, flips, w, 0, cross_check=False)
    assert unchecked.alpha > 0 and unchecked.accepted
