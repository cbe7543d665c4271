"""``research/network_sweep.py``: settings of the network from scratch, on validation."""

from __future__ import annotations

from types import SimpleNamespace

import network_sweep as sweep
import numpy as np
import pytest
import torch
from switches import single_network


def test_file_names_hold_plain_characters_only():
    names = [sweep.slug(v) for v in sweep.VARIANTS]
    assert len(set(names)) == len(names)
    assert all(n.replace("_", "").replace(".", "").replace("-", "").isalnum() for n in names)
    assert sweep.slug("slstm_at=(1,)") == "slstm_at-1"


def test_a_cell_scores_the_network_alone_and_the_ridge(tmp_path, monkeypatch):
    from xlstm_ts.ltsf import prepare
    from xlstm_ts.nn import XLSTMForecastNet

    trained = []

    class Recording(sweep.ResearchModel):
        def fit(self, *args):
            info = super().fit(*args)
            trained.append(self.model.model_)
            return info

    monkeypatch.setattr(sweep, "ResearchModel", Recording)
    cell = ("sunspots", 6, 0), "num_blocks=1", str(tmp_path), None, "raise"
    assert sweep._run(*cell).endswith("done")
    (path,) = tmp_path.glob("*.npz")
    assert path.name == "sunspots_H6_seed0__num_blocks-1.npz"
    (net,) = trained
    net = single_network(net)  # one network, without linear path, one block
    assert isinstance(net, XLSTMForecastNet) and net.linear_path is None
    assert len(net.encoder.blocks) == 1

    sums = dict(np.load(path))
    outer = sweep.shifted(prepare("sunspots")).windows("test", 6)
    *inputs, target = outer.batch(np.arange(len(outer)))
    with torch.no_grad():
        mse = float(((net.eval()(*inputs)[..., 0] - target) ** 2).mean())
    total = sums["test"].sum(0)
    assert sweep.weighted_sse(total, 1.0) / total[3] == pytest.approx(mse, rel=1e-4)
    assert total[3] == target.numel() and len(sums["val"]) == len(sums["val_later"])

    table = sweep.report(tmp_path)
    assert "| sunspots_H6 | num_blocks=1 |" in table and "| num_blocks=1 | 1 |" in table
    monkeypatch.setattr(sweep, "fit_cell", lambda *a: pytest.fail("a saved cell is refitted"))
    assert sweep._run(*cell).endswith("exists")


def test_every_fit_gets_fresh_callbacks(tmp_path, monkeypatch):
    # a weight-averaging callback keeps its step count: shared by two fits it would
    # stop averaging in the second
    seen = []

    class Recording(sweep.ResearchModel):
        def fit(self, *args):
            seen.append(self.params["trainer_kwargs"]["callbacks"][0])
            self.model = SimpleNamespace(model_=None)  # not trained: only the params matter
            return {"epochs": 0}

    monkeypatch.setattr(sweep, "ResearchModel", Recording)
    monkeypatch.setattr(sweep, "combination_sums", lambda *a: np.zeros((1, 4)))
    monkeypatch.setattr(sweep.np, "savez", lambda *a, **k: None)
    data = sweep._data("sunspots", None, "raise")
    for seed in (0, 1):
        sweep.fit_cell(data, 6, seed, "ema=0.99", tmp_path / f"{seed}.npz")
    assert len(seen) == 2 and seen[0] is not seen[1]
    assert seen[0] is not sweep.VARIANTS["ema=0.99"]["trainer_kwargs"]["callbacks"][0]
