"""``research/fit_budget.py``: the outer cut, one tiny cell and the report."""

from __future__ import annotations

import json

import fit_budget
import numpy as np
import pandas as pd


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    parts = []
    for k, n in enumerate((80, 96)):
        t = np.arange(n)
        y = 10 ** (k + 1) * (2 + np.sin(2 * np.pi * t / 8) + 0.1 * rng.normal(size=n))
        ds = pd.date_range("2024-01-01", periods=n, freq="h")
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def test_the_outer_part_is_the_last_steps_of_every_series():
    fit, outer = fit_budget._cut(_frame(), 6)
    assert outer.groupby("unique_id").size().tolist() == [6, 6]
    assert fit.groupby("unique_id").size().tolist() == [74, 90]
    assert (outer.groupby("unique_id")["ds"].min() > fit.groupby("unique_id")["ds"].max()).all()


def test_a_cell_sets_the_validation_share_and_the_report_reads_it(tmp_path):
    import xlstm_ts.training.datamodule as datamodule

    spec = {
        "frame": _frame(),
        "h": 6,
        "m": 8,
        "params": dict(
            context_length=16, d_model=8, num_blocks=1, num_heads=2, patch_len=4, max_epochs=1
        ),
    }
    before = datamodule.VALIDATION_SHARE
    try:
        cell = fit_budget.run_cell(spec, {"val_share": 0.5, "batch_size": 16}, seed=0)
        assert datamodule.VALIDATION_SHARE == 0.5
    finally:
        datamodule.VALIDATION_SHARE = before
    assert np.isfinite(cell["smape"]) and cell["mase"] > 0 and cell["fit_s"] > 0
    cell.update(panel="hourly", variant="val/4", seed=0)
    (tmp_path / "hourly-val_4.json").write_text(json.dumps(cell))
    table = fit_budget.report(tmp_path)
    assert table.splitlines()[2].startswith("| hourly | val/4 | ")
