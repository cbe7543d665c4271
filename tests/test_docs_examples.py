"""The examples of docs/sklearn.md run as they stand, in order."""

import re
from pathlib import Path

import matplotlib
import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "sklearn.md"


def code_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_sklearn_page_examples_run(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # the examples save backtest.png in the working folder
    blocks = code_blocks(DOC)
    assert len(blocks) >= 6
    namespace: dict = {}
    for k, block in enumerate(blocks):
        try:
            exec(compile(block, f"{DOC.name}[block {k}]", "exec"), namespace)
        except Exception as error:  # name the block that failed
            pytest.fail(f"example {k} of {DOC.name} failed: {error!r}\n{block}")
    assert (tmp_path / "backtest.png").stat().st_size > 10_000
    cover = namespace["result"].metrics.loc["all", "coverage_conformal"]
    assert 0 <= cover <= 1
