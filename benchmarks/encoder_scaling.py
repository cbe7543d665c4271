"""Time and peak memory of the xLSTM cells and encoder against sequence length, on the CPU.

For each sequence length, forward + backward of each target is timed (median of repeats,
after one warm-up call); each measurement runs in a fresh process so that its peak
resident memory (above the process's baseline after its inputs were made) can be read
from the OS. Anchors are measured in the same run: ``torch.nn.LSTM`` of the same hidden
size, and the ``mlstm_kernels`` package's chunkwise mLSTM with its hand-written backward
(``chunkwise--native_custbw``) where that package imports.

Targets
-------
chunkwise, chunkwise_autograd, parallel, recurrent
    The mLSTM cell (``batch × heads × S × head_dim``), torch backend: the hand-written
    backward (default), the plain-autograd chunkwise reference, the O(S²) parallel form,
    the step loop.
mlstm_kernels
    The anchor ``chunkwise--native_custbw`` at the same shapes and chunk size.
slstm, slstm_numpy, lstm
    An sLSTM layer of hidden size ``d_model`` (input projection to the four gates, then the
    cell, ``heads`` heads) with the cell's step loops in C (compiled on first use), the same
    with the NumPy loops (the fallback where no C compiler is found), and the anchor
    ``torch.nn.LSTM(d_model, d_model)``.
stack, stack_mlstm
    The encoder ``XLSTMStack(d_model, num_blocks=2, num_heads=heads)``: xLSTM[1:1]
    (``slstm_at=(1,)``) and mLSTM only.
stack_reference, stack_mlstm_reference
    The same stacks on the plain-autograd references (the chunkwise mLSTM differentiated
    by autograd, the sLSTM reference loop): the code path before the hand-written
    backward passes, measured in the same run.

Run::

    python benchmarks/encoder_scaling.py                 # 256 … 16,384
    python benchmarks/encoder_scaling.py --lengths 1024 16384 --targets chunkwise mlstm_kernels
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

TARGETS = (
    "chunkwise",
    "mlstm_kernels",
    "chunkwise_autograd",
    "parallel",
    "recurrent",
    "slstm",
    "slstm_numpy",
    "lstm",
    "stack",
    "stack_mlstm",
    "stack_reference",
    "stack_mlstm_reference",
)
# The O(S²) parallel form needs ~S² × heads × 4 bytes per intermediate; the recurrent form's
# autograd graph of S small steps takes minutes past a few thousand steps.
MAX_LENGTH = {"parallel": 4096, "recurrent": 2048}
# ratios printed under the table: (target, anchor)
RATIOS = (
    ("chunkwise", "mlstm_kernels"),
    ("chunkwise", "chunkwise_autograd"),
    ("slstm", "lstm"),
    ("slstm_numpy", "lstm"),
    ("stack", "stack_reference"),
    ("stack_mlstm", "stack_mlstm_reference"),
)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mlstm_kernels_fn():
    """The anchor kernel, or ``None`` with the reason when it does not import."""
    try:
        from mlstm_kernels.torch import get_mlstm_kernel

        return get_mlstm_kernel("chunkwise--native_custbw"), ""
    except Exception as exc:  # noqa: BLE001 - any failure means "anchor not available"
        return None, f"{type(exc).__name__}: {exc}"


def make_case(args: argparse.Namespace):
    """A closure running forward + backward of ``args.target`` at ``args.length`` steps."""
    from xlstm_ts.kernels import mlstm, slstm
    from xlstm_ts.kernels.mlstm import mlstm_chunkwise_autograd

    from xlstm_ts.nn import XLSTMStack

    torch.manual_seed(0)
    t, S, B, NH, D = args.target, args.length, args.batch, args.heads, args.d_model
    if t.endswith("_reference"):
        from xlstm_ts.kernels import dispatch
        from xlstm_ts.kernels.slstm import slstm_recurrent

        dispatch.mlstm_chunkwise = mlstm_chunkwise_autograd
        dispatch.slstm_fused = slstm_recurrent
        t = t.removesuffix("_reference")
    if t in ("stack", "stack_mlstm"):
        slstm_at = (1,) if t == "stack" else ()
        model = XLSTMStack(D, num_blocks=2, slstm_at=slstm_at, num_heads=NH, chunk_size=64)
        x = torch.randn(B, S, D, requires_grad=True)
        return lambda: model(x)[0].square().mean().backward()
    if t == "slstm_numpy":
        from xlstm_ts.kernels.slstm import fused_recurrent_c as compiled

        compiled.library = lambda: None
        t = "slstm"
    if t == "lstm":
        lstm = torch.nn.LSTM(D, D, batch_first=True)
        x = torch.randn(B, S, D, requires_grad=True)
        return lambda: lstm(x)[0].square().mean().backward()
    if t == "slstm":
        proj = torch.nn.Linear(D, 4 * D)
        R = torch.nn.Parameter(torch.randn(NH, 4, D // NH, D // NH) / (D // NH))
        x = torch.randn(B, S, D, requires_grad=True)

        def run_slstm():
            gates = proj(x).view(B, S, 4, NH, D // NH)
            slstm(gates, R, backend="torch")[0].square().mean().backward()

        return run_slstm
    q, k, v = (torch.randn(B, NH, S, args.head_dim, requires_grad=True) for _ in range(3))
    i = torch.randn(B, NH, S, requires_grad=True)
    f = (torch.randn(B, NH, S) + 3).requires_grad_()
    if t == "mlstm_kernels":
        fn, why = mlstm_kernels_fn()
        if fn is None:
            raise RuntimeError(why)
        return lambda: fn(q, k, v, i, f, chunk_size=64).square().mean().backward()
    if t == "chunkwise_autograd":
        return lambda: mlstm_chunkwise_autograd(q, k, v, i, f)[0].square().mean().backward()

    def run_mlstm():
        h, _ = mlstm(q, k, v, i, f, mode=t, chunk_size=64, backend="torch")
        h.square().mean().backward()

    return run_mlstm


def worker(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    run = make_case(args)
    base = peak_rss_mib()
    run()  # warm-up: first-call allocations, lazy imports
    wall, cpu = [], []
    for _ in range(args.repeats):
        w, c = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    out = {
        "time_s": statistics.median(wall),
        "cpu_s": statistics.median(cpu),
        "peak_mib": peak_rss_mib() - base,
    }
    print(json.dumps(out))


def measure(args: argparse.Namespace, target: str, S: int) -> dict | None:
    if S > MAX_LENGTH.get(target, S):
        return None
    cmd = [sys.executable, __file__, "--worker", "--target", target, "--length", str(S)]
    for name in ("batch", "heads", "head_dim", "d_model", "threads", "repeats"):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        print(f"  {target} at S={S} failed: {out.stderr.strip().splitlines()[-1]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[256, 1024, 2048, 4096, 8192, 16384])
    p.add_argument("--targets", nargs="+", default=list(TARGETS), choices=TARGETS)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--head-dim", type=int, default=32)
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

    targets = list(args.targets)
    if "mlstm_kernels" in targets:
        fn, why = mlstm_kernels_fn()
        if fn is None:
            print(f"mlstm_kernels anchor skipped (the package does not import: {why})\n")
            targets.remove("mlstm_kernels")
    from xlstm_ts.kernels.slstm import fused_recurrent_c as compiled

    loops = "C" if compiled.library() is not None else "NumPy (no C compiler found)"
    print(
        f"torch {torch.__version__}, CPU, {args.threads} thread(s); sLSTM step loops: {loops}; "
        f"mLSTM cell: batch "
        f"{args.batch}, {args.heads} heads × {args.head_dim}, chunk 64; sLSTM layer, LSTM "
        f"and stacks: d_model {args.d_model}, {args.heads} heads; forward + backward, "
        f"median of {args.repeats} after a warm-up; wall time and CPU time of the process; "
        f"memory: peak RSS above the baseline after the inputs were made\n"
    )
    results = {}
    for t in targets:
        results[t] = {S: measure(args, t, S) for S in args.lengths}
        print(f"  measured {t}", file=sys.stderr)
    head = "| {} | " + " | ".join(f"S={S}" for S in args.lengths) + " |"
    rule = "|---" * (len(args.lengths) + 1) + "|"
    print(head.format("target (wall time / CPU time / peak memory)"))
    print(rule)
    for t in targets:
        cells = [
            "—"
            if r is None
            else f"{r['time_s'] * 1e3:.0f} / {r['cpu_s'] * 1e3:.0f} ms / {r['peak_mib']:.0f} MiB"
            for r in results[t].values()
        ]
        print(f"| {t} | " + " | ".join(cells) + " |")

    print("\nRatios of the medians, wall time (CPU time); < 1: the first is faster:\n")
    print(head.format("ratio"))
    print(rule)
    for a, b in RATIOS:
        if a in results and b in results:
            cells = []
            for S in args.lengths:
                ra, rb = results[a][S], results[b][S]
                if ra and rb:
                    wall, cpu = ra["time_s"] / rb["time_s"], ra["cpu_s"] / rb["cpu_s"]
                    cells.append(f"{wall:.2f} ({cpu:.2f})")
                else:
                    cells.append("—")
            print(f"| {a} / {b} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
