"""The process around a run: torch's thread count, and Lightning's chatter."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")


def threads_per_process(num_threads: int | None, accelerator: str, devices: Any) -> int | None:
    """Torch threads for each training process: ``num_threads``, but with ``devices``
    CPU processes (DDP) at most ``cores // devices`` each, so that processes × threads
    never exceed the cores. ``None`` leaves torch's own setting."""
    if num_threads is None:
        return None
    if accelerator == "cpu" and isinstance(devices, int) and devices > 1:
        return max(1, min(num_threads, (os.cpu_count() or 1) // devices))
    return num_threads


@contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Run the block with ``num_threads`` intra-op threads, then restore the previous
    count (``None``: leave it as it is)."""
    if num_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's start-up lines, tips and dependency warnings for the block.

    Hardware summaries ("GPU available…"), tips about other packages, "``Trainer.fit``
    stopped…" and deprecation warnings raised inside Lightning's own code say nothing
    about the user's model; warnings and errors about it still come through.
    """
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            # no validation windows: Lightning notes the empty validation loader
            warnings.filterwarnings("ignore", ".*Total length of `list` across ranks is zero.*")
            warnings.filterwarnings("ignore", ".*LeafSpec.*")  # torch internals of Lightning
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="lightning")
            yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)
