"""Shared test set-up.

``TRITON_INTERPRET=1`` must be in the environment before any module defining
``@triton.jit`` functions is imported, so that Triton kernels run on the CPU.
"""

import os
from pathlib import Path

os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

# Tests use small tensors, for which extra intra-op threads only add overhead; on a busy
# machine spinning threads can slow them down a hundredfold.
torch.set_num_threads(1)

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture
def shared_datasets() -> Path:
    """Folder of the real data sets shared with the project (``../shared/datasets``)."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared data sets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


FUZZ_COUNTS: dict[str, int] = {}
"""Cases run by each fuzzed entry point (tests/test_fuzz.py), reported at the end."""

DOCS_SKIPPED: dict[str, list[str]] = {}
"""Documentation examples not run, per page, with their reasons (tests/test_docs_examples.py)."""


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if FUZZ_COUNTS:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(FUZZ_COUNTS.items()))
        total = sum(FUZZ_COUNTS.values())
        terminalreporter.write_line(f"fuzz: {total} generated cases run ({parts})")
    for page, reasons in sorted(DOCS_SKIPPED.items()):
        for reason in reasons:
            terminalreporter.write_line(f"docs example not run: {page} {reason}")
