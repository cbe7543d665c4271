"""Triton's environment in one place: the interpreter switch and the supported dtypes.

The dispatcher and both Triton modules read these, so that they agree on when the
kernels run in Triton's CPU interpreter and on which dtypes they take. This module does
not import Triton.
"""

from __future__ import annotations

import importlib
import os
from functools import cache

import torch

TRITON_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
"""Input dtypes the Triton kernels take (float64 runs on the torch backend only)."""


def interpreting() -> bool:
    """Whether ``TRITON_INTERPRET=1`` is set: ``@triton.jit`` functions defined from now on
    run in Triton's CPU interpreter (the flag is read when their module is imported)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@cache
def triton_available() -> bool:
    """Whether the ``triton`` package imports in this environment."""
    try:
        importlib.import_module("triton")
    except ImportError:
        return False
    return True
