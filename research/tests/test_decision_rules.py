"""``research/decision_rules.py``: other combination rules, from saved nested cells."""

from __future__ import annotations

import decision_rules as rules
import numpy as np
import pytest


def test_folds_and_series_follow_the_halves():
    later = np.array([0, 0, 0, 1, 1, 1, 0, 0, 1, 1], dtype=bool)  # two series: 6 and 4
    assert rules.series_of(later).tolist() == [0] * 6 + [1] * 4
    assert rules.folds(later, 2).tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 1, 1]
    assert rules.folds(later, 3).tolist() == [0, 0, 1, 1, 2, 2, 0, 0, 1, 2]


def _cell(rng, network_error: float) -> dict[str, np.ndarray]:
    """Two series; the ridge start is off by noise of std 1, the networks from scratch
    by noise of std ``network_error`` (independent of it)."""
    cell = {"val_later": np.tile(np.repeat([False, True], 50), 2)}
    for part, n in (("val", 200), ("test", 160)):
        y = rng.normal(size=(n, 6))
        cell[f"{part}_y"] = y
        cell[f"{part}_ridge"] = y + rng.normal(size=y.shape)
        for m in range(3):
            cell[f"{part}_none{m}"] = y + network_error * rng.normal(size=y.shape)
    cell["ridge_test"] = np.mean((cell["test_ridge"] - cell["test_y"]) ** 2)
    return cell


def test_rules_with_networks_better_and_worse_than_the_ridge_start():
    rng = np.random.default_rng(0)
    names = [*rules.RULES, "per_series"]
    perfect = dict(zip(names, rules.scores(_cell(rng, 0.0)), strict=True))
    for name in ("default", "unchecked", "kfold_4", "margin_0.02", "per_series"):
        assert perfect[name] == pytest.approx(0.0, abs=1e-12)  # the networks alone
    assert perfect["shrunk_0.5"] == pytest.approx(0.25, rel=1e-9)  # half the ridge's error
    # networks averaged to noise of std 5/√3, 8 times the ridge start's variance: no rule
    # keeps them alone, every rule stays near the ridge start
    worse = dict(zip(names, rules.scores(_cell(rng, 5.0)), strict=True))
    assert all(0.85 < v < 1.05 for v in worse.values())
    assert worse["unchecked"] < 1.0  # two unbiased forecasts: some weight always helps
