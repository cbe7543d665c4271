"""``research/selection_rules.py``: the shifted protocol and the candidate-choice rules."""

from __future__ import annotations

import numpy as np
import pytest
import selection_rules as rules

from xlstm_ts import ltsf


def cell(earlier_none: float, later_none: float, ridge: float = 1.0) -> dict:
    """Inner validation of 4 + 4 windows whose squared errors are ``ridge`` for the ridge
    start and ``earlier_none``/``later_none`` for the network without linear path, with
    uncorrelated errors (so the best weight of a half is ridge / (ridge + none))."""

    def sums(none):  # r = target − ridge, c = none − ridge with r·(r − c) = 0
        return [ridge, ridge, ridge + none, 1.0]

    val = np.array([sums(earlier_none)] * 4 + [sums(later_none)] * 4)
    later = np.array([False] * 4 + [True] * 4)
    return {"val": val, "val_later": later, "test": val, "ridge_test": np.float64(1.0)}


def test_the_rules_choose_as_documented():
    # the network from scratch is better on the later half only, and on all windows:
    # the combination check fails; only the rule without halves leaves the ridge start
    split = cell(earlier_none=1.5, later_none=0.2)
    assert rules.weight(split, "ridge_start") == 0.0
    assert rules.weight(split, "both_halves") == 0.0
    assert rules.weight(split, "lower_mse") == 1.0
    assert 0.0 < rules.weight(split, "no_check") < 1.0  # the in-sample weight, unchecked
    # better on both halves: a checked combination with the least-squares weight
    both = cell(earlier_none=0.5, later_none=0.5)
    for rule in ("lower_mse", "both_halves", "no_check"):
        assert rules.weight(both, rule) == pytest.approx(1.0 / 1.5)


def test_the_shifted_protocol_scores_on_the_real_validation_part():
    data = ltsf.prepare("sunspots")
    inner = rules.shifted(data)
    (t0, t1), (v0, v1), _ = data.bounds
    assert inner.bounds.test == (v0, v1)
    assert inner.bounds.train == (t0, t1 - (v1 - t1))
    assert inner.bounds.val[1] == t1 and inner.values.shape[1] == v1  # no test row


def test_the_script_fits_a_cell_once_and_reports_it(tmp_path, capsys, monkeypatch):
    argv = ["--dataset", "sunspots", "--horizons", "6", "--out", str(tmp_path)]
    rules.main(argv)
    assert [p.name for p in tmp_path.iterdir()] == ["sunspots_H6_seed0.npz"]
    first = capsys.readouterr().out
    assert "| sunspots | 1 |" in first and "| all | 1 |" in first

    def refit(*args):
        raise AssertionError("a saved cell is read, not refitted")

    monkeypatch.setattr(rules, "fit_cell", refit)
    rules.main(argv)
    assert capsys.readouterr().out.split("\n")[-5:] == first.split("\n")[-5:]
