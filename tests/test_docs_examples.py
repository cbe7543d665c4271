"""The ```python examples of every documentation page run as they stand.

Every page of ``docs/`` and ``README.md`` with ```python blocks is one test: its blocks
run in order in one namespace, as a reader would run them, in a temporary working folder
(the examples write files there), with the data home at the shared data sets. A failure
names the page, the block and its line.

The examples use realistic settings (twenty epochs, every window, three networks from
scratch, tens of trials). The test keeps them cheap without changing what they say: every
training run is capped at ``MAX_EPOCHS`` epochs of at most ``MAX_WINDOWS`` windows (at
:func:`xlstm_ts.training.fit_module`, which every estimator trains through), the
forecaster trains one network from scratch instead of an ensemble
(``xlstm_ts.estimators.candidates.SCRATCH_ENSEMBLE``), and a search runs at most
``MAX_TRIALS`` trials per ``fit``.

A block that cannot run in a test (it needs a CUDA device, a download, a database server
or a folder of the reader's) is preceded in its page by an HTML comment, which the site
does not show::

    <!-- docs-test: skip (needs a CUDA device) -->

``SKIPPED`` states how many blocks each page skips, so that nothing is skipped silently;
the reasons are listed at the end of the test run.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from conftest import DOCS_SKIPPED, SHARED_DATASETS

ROOT = Path(__file__).resolve().parents[1]

MAX_EPOCHS = 1
MAX_WINDOWS = 128
MAX_TRIALS = 2

SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>.+)\)\s*-->")


@dataclasses.dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, counted from 1
    code: str
    skip: str | None  # the reason, for a block that is not run


def code_blocks(path: Path) -> list[Block]:
    """The page's ```python blocks, with the skip comment right before each (blank lines
    between them allowed). A skip comment anywhere else is an error."""
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    pending: tuple[int, str] | None = None  # (line, reason) of a skip comment
    k = 0
    while k < len(lines):
        text = lines[k].strip()
        found = SKIP.fullmatch(text)
        if found or (text.startswith("<!--") and "docs-test" in text):
            if found is None or pending is not None:
                raise ValueError(f"{path.name}:{k + 1}: a malformed or doubled docs-test comment")
            pending = (k + 1, found["reason"].strip())
        elif text.startswith("```"):
            end = next(j for j in range(k + 1, len(lines)) if lines[j].strip() == "```")
            if text == "```python":
                code = "\n".join(lines[k + 1 : end]) + "\n"
                blocks.append(Block(k + 1, code, None if pending is None else pending[1]))
            elif pending is not None:
                raise ValueError(f"{path.name}:{pending[0]}: skip comment before a {text} block")
            pending = None
            k = end
        elif text and pending is not None:
            raise ValueError(f"{path.name}:{pending[0]}: skip comment not before a code block")
        k += 1
    if pending is not None:
        raise ValueError(f"{path.name}:{pending[0]}: skip comment at the end of the page")
    return blocks


PAGES = sorted(
    str(p.relative_to(ROOT))
    for p in [*(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]
    if "```python" in p.read_text()
)

SKIPPED = {
    "docs/datasets.md": 3,  # files in the reader's folders, a download
    "docs/ltsf-benchmark.md": 1,  # a benchmark run on the reader's data folder
    "docs/tuning.md": 1,  # a PostgreSQL server given by the reader
}
"""Blocks each page marks as not run (pages not named skip none)."""

SETUP = {
    # the walk of ``fit`` starts from "a DataFrame": the reader's own, here ETTh1's start
    "docs/architecture.md": (
        "from xlstm_ts import XLSTMForecaster\n"
        "from xlstm_ts.datasets import load\n"
        "df = load('ETTh1').iloc[:3000]\n"
    ),
}
"""Code run before a page's blocks, for a page whose example stands for the reader's data."""

NEEDS_SHARED_DATA = {"docs/architecture.md", "docs/datasets.md"}

TRAINS = {
    "README.md", "docs/architecture.md", "docs/index.md", "docs/quickstart.md",
    "docs/sklearn.md", "docs/stateful.md", "docs/tuning.md",
}  # fmt: skip
"""Pages whose examples train: the caps must have reached their training."""


@pytest.fixture
def capped_training(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Cap every training run and search; returns the list of capped runs' epoch caps,
    one entry per run (so a test sees that the caps were applied)."""
    import xlstm_ts.training as training
    from xlstm_ts.estimators import candidates
    from xlstm_ts.tuning import XLSTMSearchCV

    runs: list[int] = []
    fit_module = training.fit_module

    def capped_fit_module(module, data, config):
        config = dataclasses.replace(config, max_epochs=min(config.max_epochs, MAX_EPOCHS))
        if hasattr(data, "windows_per_epoch"):  # WindowDataModule
            cap = data.windows_per_epoch
            data.windows_per_epoch = MAX_WINDOWS if cap is None else min(cap, MAX_WINDOWS)
        runs.append(config.max_epochs)
        return fit_module(module, data, config)

    search_fit = XLSTMSearchCV.fit

    def capped_search_fit(self, X, y=None):
        if self.n_trials is None or self.n_trials > MAX_TRIALS:
            self.n_trials = MAX_TRIALS
        return search_fit(self, X, y)

    # the estimators import fit_module from xlstm_ts.training when they train
    monkeypatch.setattr(training, "fit_module", capped_fit_module)
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
    monkeypatch.setattr(XLSTMSearchCV, "fit", capped_search_fit)
    return runs


# ----------------------------------------------------------------------------- checks
# What a page's text promises, checked after its blocks ran (where cheap).


def _check_readme(ns: dict, folder: Path) -> None:
    forecast = ns["model"].predict()
    assert forecast.shape == (24, 1) and forecast.index[0] > ns["df"].index[-1]
    assert "all" in ns["result"].metrics.index
    assert ns["y"].shape == ns["y2"].shape == (8, 2048, 64)


def _check_index(ns: dict, folder: Path) -> None:
    assert ns["model"].predict().shape == (24, 1)
    assert ns["model"].linear_path_ in ("combined", "none", "ridge")
    assert ns["y"].shape == (2, 1000, 64)


def _check_quickstart(ns: dict, folder: Path) -> None:
    assert (folder / "forecast.png").stat().st_size > 10_000
    saved = folder / "elnino_model"
    assert (saved / "config.json").is_file() and (saved / "model.safetensors").is_file()
    np.testing.assert_array_equal(ns["same"].predict(), ns["model"].predict())


def _check_sklearn(ns: dict, folder: Path) -> None:
    assert (folder / "backtest.png").stat().st_size > 10_000
    cover = ns["result"].metrics.loc["all", "coverage_conformal"]
    assert 0 <= cover <= 1
    assert len(ns["conformal"].radius_) == 24


def _check_architecture(ns: dict, folder: Path) -> None:
    # one subfolder per network, kept after the fit
    assert (folder / "ckpt" / "ridge" / "run.json").is_file()
    assert (folder / "ckpt" / "none" / "member=0" / "run.json").is_file()


def _check_cells(ns: dict, folder: Path) -> None:
    # the mLSTM in two pieces continues the sequence (the sLSTM block then reuses ``h``)
    pieces = torch.cat([ns["h1"], ns["h2"]], dim=2)
    assert (pieces - ns["h_par"]).abs().max() / ns["h_par"].abs().max() < 1e-3
    assert ns["h"].shape == (2, 100, 4, 16) and ns["h_T"].shape == (2, 4, 16)


def _check_network(ns: dict, folder: Path) -> None:
    assert (torch.cat(ns["outs"], 1) - ns["y_full"]).abs().max() < 1e-4
    assert ns["net"](torch.randn(8, 512)).shape == (8, 96, 3)


def _check_kernels_triton(ns: dict, folder: Path) -> None:
    assert ns["h"].shape == (2, 4, 1000, 64) and ns["h_s"].shape == (2, 1000, 4, 32)
    assert ns["q"].grad is not None and torch.isfinite(ns["q"].grad).all()


def _check_datasets(ns: dict, folder: Path) -> None:
    assert ns["info"].context_length == 104 and tuple(ns["info"].horizons) == (24, 36, 48, 60)
    assert ns["co2"]["co2"].isna().sum() == 59 and ns["elnino"].index.freqstr == "MS"
    assert ns["l63"].shape == (10_000, 3)
    assert ns["mg"].shape == (12_000, 1)
    assert (ns["m4"].horizon, ns["m4"].season, len(ns["series"])) == (13, 1, 359)
    assert ns["actual"].shape == (359, 13)


def _check_covariates(ns: dict, folder: Path) -> None:
    # the shrinking stores read as growing: their forecast rises (by about 4 at the truth)
    shift = (ns["as_growing"].y - ns["as_is"].y).groupby(ns["as_is"].unique_id).mean()
    assert (shift[["store_0", "store_2", "store_4", "store_6"]] > 1.0).all()
    assert (shift[["store_1", "store_3", "store_5", "store_7"]] == 0.0).all()
    # hour (24) and day of week (7) indicators and the holiday flag
    assert ns["model"].fitted_.network_config["n_future"] == 24 + 7 + 1


def _check_m4_benchmark(ns: dict, folder: Path) -> None:
    assert ns["scores"] == pytest.approx({"smape": 15.942, "mase": 5.845, "owa": 7.603}, abs=1e-3)


def _check_tuning(ns: dict, folder: Path) -> None:
    assert (folder / "tuning_pictures" / "optimization_history.png").is_file()
    assert (folder / "tuning.db").is_file()
    assert len(ns["search"].study_.trials) == 2 * MAX_TRIALS  # resumed: the second fit adds
    assert ns["search"].predict().shape[0] == 12


def _check_stateful(ns: dict, folder: Path) -> None:
    assert (folder / "mg-model").is_dir()


NO_CHECKS = {"docs/ltsf-benchmark.md"}  # its one example is not run

CHECKS: dict[str, Callable[[dict, Path], None]] = {
    "README.md": _check_readme,
    "docs/architecture.md": _check_architecture,
    "docs/cells.md": _check_cells,
    "docs/covariates.md": _check_covariates,
    "docs/datasets.md": _check_datasets,
    "docs/index.md": _check_index,
    "docs/kernels-triton.md": _check_kernels_triton,
    "docs/m4-benchmark.md": _check_m4_benchmark,
    "docs/network.md": _check_network,
    "docs/quickstart.md": _check_quickstart,
    "docs/sklearn.md": _check_sklearn,
    "docs/stateful.md": _check_stateful,
    "docs/tuning.md": _check_tuning,
}


# ----------------------------------------------------------------------------- tests


def test_every_page_with_examples_is_checked():
    assert set(SKIPPED) <= set(PAGES)
    assert set(CHECKS) | NO_CHECKS == set(PAGES), "a page gained or lost its examples"


def test_parser_reads_fences_and_skip_comments(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```python\na = 1\n```\n\n<!-- docs-test: skip (needs a CUDA device) -->\n\n"
        "```python\nb = 2\n```\n\n```bash\necho\n```\n"
    )
    blocks = code_blocks(page)
    assert [(b.line, b.code, b.skip) for b in blocks] == [
        (3, "a = 1\n", None),
        (9, "b = 2\n", "needs a CUDA device"),
    ]
    page.write_text("<!-- docs-test: skip (x) -->\ntext\n```python\na = 1\n```\n")
    with pytest.raises(ValueError, match="not before a code block"):
        code_blocks(page)
    page.write_text("<!-- docs-test: skip (x) -->\n```bash\necho\n```\n")
    with pytest.raises(ValueError, match="before a ```bash block"):
        code_blocks(page)


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page, tmp_path, monkeypatch, capped_training, request):
    path = ROOT / page
    blocks = code_blocks(path)
    assert len(blocks) == path.read_text().count("```python"), "a python block was not parsed"
    skipped = [(b.line, b.skip) for b in blocks if b.skip is not None]
    DOCS_SKIPPED[page] = [f"line {line}: {reason}" for line, reason in skipped]
    assert len(skipped) == SKIPPED.get(page, 0), (
        f"{page} skips {len(skipped)} block(s) {skipped}; SKIPPED says {SKIPPED.get(page, 0)}"
    )
    if page in NEEDS_SHARED_DATA:
        request.getfixturevalue("shared_datasets")  # skips the page without them
    if SHARED_DATASETS.is_dir():
        monkeypatch.setenv("XLSTM_TS_DATA", str(SHARED_DATASETS))
    else:
        monkeypatch.setenv("XLSTM_TS_DATA", str(tmp_path / "no-data"))
    monkeypatch.chdir(tmp_path)  # the examples write files in the working folder
    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__docs__"}
    try:
        if page in SETUP:
            exec(compile(SETUP[page], f"{page}[setup]", "exec"), namespace)
        for k, block in enumerate(blocks):
            if block.skip is not None:
                continue
            where = f"{page}, block {k} (line {block.line})"
            code = "\n" * block.line + block.code  # tracebacks give the page's line numbers
            try:
                exec(compile(code, page, "exec"), namespace)
            except Exception as error:  # name the block that failed
                pytest.fail(f"example {where} failed: {error!r}\n{block.code}")
        if page in CHECKS:
            CHECKS[page](namespace, tmp_path)
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
    if page in TRAINS:
        assert capped_training, f"{page} trained, but not through the capped fit_module"
        assert max(capped_training) <= MAX_EPOCHS
