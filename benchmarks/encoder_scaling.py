"""Time and peak memory of the xLSTM encoder against sequence length, on the CPU.

For each sequence length, forward + backward of (a) each mLSTM cell form and (b) a small
xLSTM stack are timed (median of repeats); each measurement runs in a fresh process so that
its peak resident memory (above the process's baseline) can be read from the OS.

Run::

    python benchmarks/encoder_scaling.py                 # 256 … 16,384
    python benchmarks/encoder_scaling.py --lengths 256 1024 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

# The O(S²) parallel form needs ~S² × heads × 4 bytes per intermediate: past 4,096 steps it
# would not fit in the memory of a small machine. The recurrent form is a Python loop meant
# for streaming; its autograd graph of S small steps makes long runs take many minutes.
MAX_LENGTH = {"parallel": 4096, "recurrent": 4096}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_case(target: str, S: int, batch: int, heads: int, head_dim: int, d_model: int):
    from xlstm_ts.kernels import mlstm

    from xlstm_ts.nn import XLSTMStack

    torch.manual_seed(0)
    if target == "stack":
        model = XLSTMStack(d_model, num_blocks=2, slstm_at=(1,), num_heads=4, chunk_size=64)
        x = torch.randn(batch, S, d_model, requires_grad=True)

        def run():
            model(x)[0].square().mean().backward()

        return run
    q, k, v = (torch.randn(batch, heads, S, head_dim, requires_grad=True) for _ in range(3))
    i = torch.randn(batch, heads, S, requires_grad=True)
    f = (torch.randn(batch, heads, S) + 3).requires_grad_()

    def run():
        h, _ = mlstm(q, k, v, i, f, mode=target, chunk_size=64, backend="torch")
        h.square().mean().backward()

    return run


def worker(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    run = make_case(args.target, args.length, args.batch, args.heads, args.head_dim, args.d_model)
    base = peak_rss_mib()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"time_s": statistics.median(times), "peak_mib": peak_rss_mib() - base}))


def measure(args: argparse.Namespace, target: str, S: int) -> dict | None:
    if S > MAX_LENGTH.get(target, S):
        return None
    repeats = args.repeats if S <= 4096 else 1
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--target",
        target,
        "--length",
        str(S),
        "--repeats",
        str(repeats),
    ]
    for name in ("batch", "heads", "head_dim", "d_model", "threads"):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[256, 1024, 2048, 4096, 8192, 16384])
    p.add_argument("--targets", nargs="+", default=["chunkwise", "parallel", "recurrent", "stack"])
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--target", help=argparse.SUPPRESS)
    p.add_argument("--length", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return

    print(
        f"torch {torch.__version__}, CPU, {args.threads} threads; mLSTM cell: batch "
        f"{args.batch}, {args.heads} heads, head size {args.head_dim}; stack: xLSTM[1:1], "
        f"d_model {args.d_model}; forward + backward, median of {args.repeats} "
        f"(1 above 4,096 steps)\n"
    )
    results = {t: {S: measure(args, t, S) for S in args.lengths} for t in args.targets}
    print("| target | " + " | ".join(f"S={S}" for S in args.lengths) + " |")
    print("|---" * (len(args.lengths) + 1) + "|")
    for t in args.targets:
        cells = [
            "—" if r is None else f"{r['time_s'] * 1e3:.0f} ms / {r['peak_mib']:.0f} MiB"
            for r in results[t].values()
        ]
        print(f"| {t} | " + " | ".join(cells) + " |")
    if 1024 in args.lengths and 16384 in args.lengths:
        print("\nTime at 16,384 over time at 1,024 (16× the tokens; linear scaling = 16):")
        for t in args.targets:
            a, b = results[t][1024], results[t][16384]
            if a and b:
                print(
                    f"- {t}: {b['time_s'] / a['time_s']:.1f}×, "
                    f"memory {b['peak_mib'] / max(a['peak_mib'], 1):.1f}×"
                )


if __name__ == "__main__":
    main()
