"""Set-up of the studies' tests.

The studies are scripts in ``research/`` that import each other plainly (``from
selection_rules import ...``), as they do when run as ``python research/NAME.py``; the
tests import them the same way, with ``research/`` first on ``sys.path``.
``TRITON_INTERPRET=1`` must be in the environment before any module defining
``@triton.jit`` functions is imported, as in ``tests/conftest.py``.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TRITON_INTERPRET", "1")

RESEARCH = Path(__file__).resolve().parents[1]
if str(RESEARCH) not in sys.path:
    sys.path.insert(0, str(RESEARCH))

import torch  # noqa: E402

# small tensors: extra intra-op threads only add overhead on a busy machine
torch.set_num_threads(1)
