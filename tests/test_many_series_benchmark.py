"""benchmarks/many_series.py on a tiny panel: its data, its scores and its JSON."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench(monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "many_bench", ROOT / "benchmarks" / "many_series.py"
    )
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "many_bench", module)
    spec.loader.exec_module(module)
    return module


def test_the_panel_spans_four_orders_of_magnitude_and_holds_out_the_horizon(bench):
    frame, trains, actual = bench.hourly_panel(40, 24, 100, 120, seed=0)
    assert actual.shape == (40, 24) and len(trains) == 40
    assert all(100 <= len(y) <= 120 for y in trains)
    sizes = frame.groupby("unique_id", sort=False).size().tolist()
    assert sizes == [len(y) for y in trains]  # the frame holds the training parts only
    levels = np.array([np.median(y) for y in trains])
    assert levels.min() < 100 and levels.max() > 1000  # sizes of very different scales
    naive = np.stack([np.resize(y[-24:], 24) for y in trains])
    s = bench.scores(actual, naive, trains)
    assert s["largest_ratio"] <= 1.0 and s["smape"] > 0 and s["mase"] > 0


def test_the_benchmark_runs_end_to_end(bench, tmp_path, capsys):
    out = tmp_path / "many.json"
    argv = ["--series", "4", "--horizon", "6", "--min-length", "60", "--max-length", "80",
            "--param", "max_epochs=1", "--param", "context_length=24", "--param", "patch_len=8",
            "--out", str(out)]  # fmt: skip
    assert bench.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| model | sMAPE | MASE | largest ratio | fit s |"
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["xlstm", "seasonal_naive"]
    result = json.loads(out.read_text())
    assert result["xlstm"]["params"]["max_epochs"] == 1 and result["data"]["series"] == 4
    assert np.isfinite(result["xlstm"]["mase"]) and result["xlstm"]["fit_seconds"] > 0
