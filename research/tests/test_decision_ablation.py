"""``research/decision_ablation.py``: the ablation's decision variants replayed on one
training of the default's candidates."""

from __future__ import annotations

import ablation
import decision_ablation as study
import numpy as np
import pytest
import switches
import torch

from xlstm_ts import ltsf
from xlstm_ts.ltsf.run import evaluate


def test_the_moments_give_the_error_of_every_blend():
    g = torch.Generator().manual_seed(0)
    target, linear, correction, scratch = torch.randn(4, 30, 5, generator=g, dtype=torch.float64)
    target[3, 2] = float("nan")  # a missing target step is left out
    m = study.blend_moments(target, linear, correction, scratch)
    for alpha, weight in ((0.0, 0.0), (0.7, 0.0), (1.3, 0.4), (0.0, 1.0)):
        forecast = (1 - weight) * (linear + alpha * correction) + weight * scratch
        error = (forecast - target).double()
        expected = float(error[~torch.isnan(error)].pow(2).mean())
        assert study.mse(m, alpha, weight) == pytest.approx(expected, rel=1e-12)


def _split_cell(earlier_scratch: float, later_scratch: float, n: int = 200) -> tuple:
    """Validation moments: no correction of the ridge start, whose errors have variance
    1; the networks from scratch with independent errors of the given variances on the
    earlier and the later half of the windows."""
    g = torch.Generator().manual_seed(1)
    target = torch.zeros(n, 24)
    linear = torch.randn(n, 24, generator=g)
    scale = torch.where(torch.arange(n) < n // 2, earlier_scratch, later_scratch) ** 0.5
    scratch = scale[:, None] * torch.randn(n, 24, generator=g)
    later = np.arange(n) >= n // 2
    return study.blend_moments(target, linear, torch.zeros(n, 24), scratch), later


def test_the_variants_decide_as_the_estimator():
    # better on the later half only: the checks refuse the combination and the default
    # keeps the ridge start; without the check the in-sample weight is kept; without
    # the combination the lower MSE (the networks from scratch)
    m, later = _split_cell(earlier_scratch=1.5, later_scratch=0.2)
    assert study.decide("default", m, later) == (0.0, 0.0)
    assert 0.0 < study.decide("no_check", m, later)[1] < 1.0
    assert study.decide("no_combination", m, later) == (0.0, 1.0)
    assert study.decide("ridge_only", m, later)[1] == 0.0
    assert study.decide("no_linear", m, later)[1] == 1.0
    # better on both halves: the checked combination, near its least-squares weight 2/3
    m, later = _split_cell(earlier_scratch=0.5, later_scratch=0.5)
    for variant in ("default", "no_check"):
        assert study.decide(variant, m, later)[1] == pytest.approx(2 / 3, abs=0.05)


@pytest.mark.parametrize("horizon", [6, 22])
def test_the_replay_equals_fits_of_the_variants(tmp_path, horizon):
    """Each replayed variant has the test MSE of the estimator fitted with that
    variant's parameters (``ablation.VARIANTS``) on the same data and seed."""
    torch.set_num_threads(1)
    data = ltsf.prepare("sunspots")
    path = tmp_path / "cell.npz"
    study.fit_cell(data, horizon, 0, path)
    replayed = study.runs(dict(np.load(path)), horizon, 0)
    assert len({round(r["mse"], 8) for r in replayed.values()}) >= 3  # the variants differ
    test = data.windows("test", horizon)
    for variant in study.VARIANTS:
        model = switches.ResearchModel(**ablation.VARIANTS[variant][1])
        model.fit(data, horizon, 0)
        assert replayed[variant]["mse"] == pytest.approx(evaluate(model, test)["mse"], rel=1e-5)
    ridge = ltsf.models.RidgeModel()
    ridge.fit(data, horizon, 0)
    assert replayed["baselines"]["mse"] == pytest.approx(evaluate(ridge, test)["mse"])


def test_the_script_fits_each_cell_once_and_reports_it(tmp_path, capsys, monkeypatch):
    argv = ["--dataset", "sunspots", "--horizons", "6", "--seeds", "0", "--out", str(tmp_path)]
    study.main(argv)
    assert [p.name for p in tmp_path.iterdir()] == ["sunspots_H6_seed0.npz"]
    first = capsys.readouterr().out
    assert "| default | 0.7" in first and "| ridge (baseline) |" in first

    def refit(*args):
        raise AssertionError("a saved cell is read, not refitted")

    monkeypatch.setattr(study, "fit_cell", refit)
    study.main(argv)
    assert capsys.readouterr().out == first.replace("sunspots_H6_seed0: fitting\n", "")
