"""``research/seed_ensemble.py``: the nested study of ``n_models``."""

from __future__ import annotations

import numpy as np
import pytest
import seed_ensemble as study
from switches import single_network


def synthetic_cell(n_seeds: int = 3, windows: int = 400, horizon: int = 4) -> dict:
    """Ridge start = target + noise of variance 1; each network from scratch = target +
    its own independent noise of variance 1, so the average of k has variance 1/k."""
    rng = np.random.default_rng(0)
    cell = {"val_later": np.arange(windows) >= windows // 2, "ridge_test": np.float64(1.0)}
    for part in ("val", "test"):
        y = rng.standard_normal((windows, horizon))
        cell[f"{part}_y"] = y
        cell[f"{part}_ridge"] = y + rng.standard_normal(y.shape)
        for s in range(n_seeds):
            cell[f"{part}_none{s}"] = y + rng.standard_normal(y.shape)
    return cell


def test_the_scores_follow_the_variance_of_the_average():
    ridge, one, two, three, alone, alone_all = study.scores(synthetic_cell(), [1, 2, 3])
    assert ridge == pytest.approx(1.0, rel=0.1) and alone == pytest.approx(1.0, rel=0.1)
    assert alone_all == pytest.approx(1 / 3, rel=0.15)
    # the combination of the ridge start (variance 1) with an average of k networks
    # (variance 1/k), weights fitted on the inner windows: 1 / (1 + k)
    for value, k in ((one, 1), (two, 2), (three, 3)):
        assert value == pytest.approx(1 / (1 + k), rel=0.15)


def test_the_script_fits_a_cell_once_and_reports_it(tmp_path, capsys, monkeypatch):
    from xlstm_ts.nn import XLSTMForecastNet

    trained = []

    class Recording(study.ResearchModel):
        def fit(self, *args):
            info = super().fit(*args)
            trained.append(self.model.model_)
            return info

    monkeypatch.setattr(study, "ResearchModel", Recording)
    argv = ["--dataset", "sunspots", "--horizons", "6", "--seeds", "2", "--out", str(tmp_path)]
    study.main(argv)
    # the ridge start and one network per seed (not the estimator's default ensemble)
    assert len(trained) == 3
    assert all(isinstance(single_network(n), XLSTMForecastNet) for n in trained)
    assert [p.name for p in tmp_path.iterdir()] == ["sunspots_H6.npz"]
    first = capsys.readouterr().out
    assert "default, 2 networks" in first and "| sunspots | 1 |" in first

    def refit(*args):
        raise AssertionError("a saved cell is read, not refitted")

    monkeypatch.setattr(study, "fit_cell", refit)
    study.main(argv)
    again = capsys.readouterr().out
    assert "fitting" in first and first.endswith(again) and again.startswith("Outer")
