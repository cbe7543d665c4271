"""Peak memory and time of training XLSTMForecaster with a long context on the CPU.

Run::

    python benchmarks/long_context.py                       # context 8,192
    python benchmarks/long_context.py --context 16384 --batch-size 16
"""

from __future__ import annotations

import argparse
import resource
import time

import torch
from xlstm_ts.datasets import mackey_glass

from xlstm_ts import XLSTMForecaster


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--context", type=int, default=8192)
    p.add_argument("--horizon", type=int, default=96)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--windows", type=int, default=256, help="training windows in the epoch")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    df = mackey_glass(n_steps=args.context + args.horizon + 3000, seed=0)
    model = XLSTMForecaster(
        horizon=args.horizon,
        context_length=args.context,
        patch_len=16,
        d_model=64,
        num_blocks=4,
        slstm_at=(3,),
        max_epochs=1,
        batch_size=args.batch_size,
        windows_per_epoch=args.windows,
        validation_size=200,
        progress_bar=False,
        random_state=0,
    )
    base = peak_rss_mib()
    start = time.perf_counter()
    model.fit(df)
    elapsed = time.perf_counter() - start
    print("| context | batch | windows | fit time | peak memory above start |")
    print("|---|---|---|---|---|")
    print(
        f"| {args.context} | {args.batch_size} | {args.windows} (+ validation) | "
        f"{elapsed:.1f} s | {peak_rss_mib() - base:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
