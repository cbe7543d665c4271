"""benchmarks/train_step.py at a tiny size: it runs and prints one row per measurement."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_step_benchmark_prints_its_rows(monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location(
        "step_bench", ROOT / "benchmarks" / "train_step.py"
    )
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "step_bench", module)
    spec.loader.exec_module(module)
    assert module.main(["--batch-sizes", "2", "--repeats", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 1 + 3  # the header, one batch size, three cell forms
    assert all(float(row.split("|")[2]) > 0 for row in rows[1:])
