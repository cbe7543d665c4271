"""Seconds per training epoch of the demo's model against torch's thread count, on an idle
machine and beside a CPU-bound process (the situation of parallel workers, DDP processes
or a second job on a shared machine).

Run::

    python benchmarks/threads.py --epochs 3

Prints one row per (load, threads) with the median epoch time, and the ratio to one
thread under the same load. Each fit runs in a fresh process, so thread pools do not
carry over; the competing load is a pure-Python busy loop in another process.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import subprocess
import sys
import time

FIT = """
import json, sys
import numpy as np
from xlstm_ts import XLSTMForecaster
from xlstm_ts.datasets import load
from xlstm_ts.training import EpochSummary

threads, epochs = int(sys.argv[1]), int(sys.argv[2])
timer = EpochSummary(stream=open("/dev/null", "w"))
df = load("elnino").iloc[:-24]
XLSTMForecaster(horizon=24, context_length=120, patch_len=12, d_model=32, num_blocks=2,
                slstm_at=(1,), num_heads=4, max_epochs=epochs, batch_size=32,
                learning_rate=3e-3, validation_size=48, early_stopping_patience=None,
                random_state=0, num_threads=threads, progress_bar=False,
                trainer_kwargs={"callbacks": [timer]}).fit(df)
print(json.dumps(timer.times))
"""


def _busy(stop: float) -> None:
    while time.time() < stop:
        pass


def epoch_seconds(threads: int, epochs: int) -> float:
    """Median epoch time of one fit in a fresh process."""
    import json
    import statistics

    out = subprocess.run(
        [sys.executable, "-c", FIT, str(threads), str(epochs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return statistics.median(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print("| load | threads | s per epoch | vs 1 thread |")
    print("|---|---:|---:|---:|")
    for load in ("idle", "one busy process"):
        base = None
        for threads in args.threads:
            busy = None
            if load != "idle":
                busy = mp.Process(target=_busy, args=(time.time() + 3600,), daemon=True)
                busy.start()
            try:
                seconds = epoch_seconds(threads, args.epochs)
            finally:
                if busy is not None:
                    busy.terminate()
            base = seconds if base is None else base
            print(f"| {load} | {threads} | {seconds:.2f} | {seconds / base:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
