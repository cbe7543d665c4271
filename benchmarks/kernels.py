"""Speed of the Triton cell kernels against torch baselines; prints markdown tables.

On a GPU::

    python benchmarks/kernels.py                 # full run
    python benchmarks/kernels.py --quick         # fewer sequence lengths

mLSTM: the chunkwise Triton kernels, the torch chunkwise reference and
``torch.nn.functional.scaled_dot_product_attention`` (causal, flash back-end) at the same
batch, heads and head size, for sequence lengths 2k…64k at a constant number of tokens
per step. sLSTM: the fused Triton kernel, the torch reference and ``torch.nn.LSTM``
(cuDNN) at equal hidden size. Times are medians (``triton.testing.do_bench``); "fwd+bwd"
includes the forward pass; memory is the peak allocated during the call beyond the inputs.

Without a GPU it prints that it needs one and runs a small correctness pass of the Triton
kernels (in Triton's interpreter) against the torch reference instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

import torch

if not torch.cuda.is_available():
    # must happen before the kernels are imported
    os.environ.setdefault("TRITON_INTERPRET", "1")

import torch.nn.functional as F  # noqa: E402
from xlstm_ts.kernels import mlstm, slstm  # noqa: E402
from xlstm_ts.kernels.mlstm import mlstm_chunkwise  # noqa: E402
from xlstm_ts.kernels.slstm import slstm_recurrent  # noqa: E402

Row = dict[str, str]


def _table(rows: list[Row]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(r[c] for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def _measure(fn: Callable[[], object]) -> tuple[float, float]:
    """Median milliseconds and peak extra MiB of ``fn`` (``nan`` on out-of-memory)."""
    import triton.testing

    try:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        ms = triton.testing.do_bench(fn, warmup=10, rep=50, return_mode="median")
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        return float("nan"), float("nan")
    return ms, peak


def _fwd_bwd(forward: Callable[[], torch.Tensor], leaves: list[torch.Tensor]) -> Callable:
    def run() -> None:
        out = forward()
        torch.autograd.grad(out, leaves, torch.ones_like(out))

    return run


def _fmt(ms: float, peak: float, tokens: int) -> tuple[str, str, str]:
    if ms != ms:  # nan: out of memory
        return "OOM", "-", "-"
    return f"{ms:.2f}", f"{tokens / ms / 1e3:.2f}", f"{peak:.0f}"


def bench_mlstm(lengths: list[int], tokens: int, NH: int, D: int, dtype: torch.dtype) -> str:
    rows: list[Row] = []
    for S in lengths:
        rows += _mlstm_rows(max(1, tokens // S), S, NH, D, dtype)
    return _table(rows)


def _mlstm_rows(B: int, S: int, NH: int, D: int, dtype: torch.dtype) -> list[Row]:
    def rnd(*shape: int, shift: float = 0.0) -> torch.Tensor:
        x = torch.randn(*shape, device="cuda", dtype=dtype) + shift
        return x.requires_grad_()

    q, k, v = rnd(B, NH, S, D), rnd(B, NH, S, D), rnd(B, NH, S, D)
    i, f = rnd(B, NH, S), rnd(B, NH, S, shift=4.0)
    candidates = {
        "mLSTM Triton": (lambda: mlstm(q, k, v, i, f, backend="triton")[0], [q, k, v, i, f]),
        "mLSTM torch chunkwise": (lambda: mlstm_chunkwise(q, k, v, i, f)[0], [q, k, v, i, f]),
        "SDPA flash (causal)": (lambda: _sdpa(q, k, v), [q, k, v]),
    }
    rows = []
    for name, (forward, leaves) in candidates.items():
        with torch.no_grad():
            ms_f, mem_f = _measure(forward)
        ms_b, mem_b = _measure(_fwd_bwd(forward, leaves))
        t_f, tps_f, m_f = _fmt(ms_f, mem_f, B * S)
        t_b, tps_b, m_b = _fmt(ms_b, mem_b, B * S)
        rows.append(
            {
                "S": f"{S}",
                "B": f"{B}",
                "kernel": name,
                "fwd ms": t_f,
                "fwd Mtok/s": tps_f,
                "fwd MiB": m_f,
                "fwd+bwd ms": t_b,
                "fwd+bwd Mtok/s": tps_b,
                "fwd+bwd MiB": m_b,
            }
        )
        print(rows[-1], file=sys.stderr)
    return rows


def _sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def bench_slstm(configs: list[tuple[int, int, int, int]], dtype: torch.dtype) -> str:
    rows: list[Row] = []
    for B, S, NH, DH in configs:
        rows += _slstm_rows(B, S, NH, DH, dtype)
    return _table(rows)


def _slstm_rows(B: int, S: int, NH: int, DH: int, dtype: torch.dtype) -> list[Row]:
    H = NH * DH
    gx = torch.randn(B, S, 4, NH, DH, device="cuda", dtype=dtype).requires_grad_()
    R = (torch.randn(NH, 4, DH, DH, device="cuda") / DH**0.5).requires_grad_()
    lstm = torch.nn.LSTM(H, H, batch_first=True).cuda().to(dtype)
    x = torch.randn(B, S, H, device="cuda", dtype=dtype).requires_grad_()
    candidates = {
        "sLSTM Triton": (lambda: slstm(gx, R, backend="triton")[0], [gx, R]),
        "sLSTM torch": (lambda: slstm_recurrent(gx, R)[0], [gx, R]),
        "nn.LSTM cuDNN": (lambda: lstm(x)[0], [x, *lstm.parameters()]),
    }
    rows = []
    for name, (forward, leaves) in candidates.items():
        with torch.no_grad():
            ms_f, mem_f = _measure(forward)
        ms_b, mem_b = _measure(_fwd_bwd(forward, leaves))
        t_f, tps_f, _ = _fmt(ms_f, mem_f, B * S)
        t_b, tps_b, m_b = _fmt(ms_b, mem_b, B * S)
        rows.append(
            {
                "B": f"{B}",
                "S": f"{S}",
                "hidden": f"{H} ({NH}×{DH})",
                "kernel": name,
                "fwd ms": t_f,
                "fwd Mtok/s": tps_f,
                "fwd+bwd ms": t_b,
                "fwd+bwd Mtok/s": tps_b,
                "fwd+bwd MiB": m_b,
            }
        )
        print(rows[-1], file=sys.stderr)
    return rows


def correctness_pass() -> str:
    """Small shapes, Triton (interpreted on a CPU) against the float64 torch reference."""
    rows = []
    g = torch.Generator().manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    def r(*shape, shift=0.0):
        return (torch.randn(*shape, generator=g) + shift).to(device).requires_grad_()

    for S, state in ((32, False), (45, True)):
        leaves = [r(1, 2, S, 16), r(1, 2, S, 16), r(1, 2, S, 16), r(1, 2, S), r(1, 2, S, shift=3)]
        init = (r(1, 2, 16, 16), r(1, 2, 16), r(1, 2)) if state else None
        res = []
        for backend, cast in (("triton", lambda x: x), ("torch", lambda x: x.double())):
            h, st = mlstm(*(cast(x) for x in leaves), None if init is None else tuple(
                cast(x) for x in init), chunk_size=16, backend=backend)  # fmt: skip
            loss = h.sum() + sum(x.sum() for x in st)
            res.append([h, *torch.autograd.grad(loss, leaves)])
        rows.append(_errors(f"mLSTM S={S} state={state}", res))
    for S, state in ((12, False), (9, True)):
        gx, R = r(2, S, 4, 2, 16), r(2, 4, 16, 16) * 0.25
        init = (r(2, 2, 16), r(2, 2, 16), r(2, 2, 16, shift=2), r(2, 2, 16)) if state else None
        res = []
        for backend, cast in (("triton", lambda x: x), ("torch", lambda x: x.double())):
            h, st = slstm(cast(gx), cast(R), None if init is None else tuple(
                cast(x) for x in init), backend=backend)  # fmt: skip
            loss = h.sum() + sum(x.sum() for x in st)
            res.append([h, *torch.autograd.grad(loss, [gx, R])])
        rows.append(_errors(f"sLSTM S={S} state={state}", res))
    return _table(rows)


def _errors(case: str, res: list[list[torch.Tensor]]) -> Row:
    """Largest error of ``h`` and of any gradient, relative to the reference's largest value."""
    err = [
        (a.double() - b.double()).abs().max().item() / max(b.abs().max().item(), 1e-6)
        for a, b in zip(*res, strict=True)
    ]
    return {
        "case": case,
        "rel. error h": f"{err[0]:.1e}",
        "rel. error grads": f"{max(err[1:]):.1e}",
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (GPU) or the correctness pass (CPU) and print tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="only 2k and 8k for the mLSTM")
    p.add_argument("--tokens", type=int, default=65536, help="tokens per step (mLSTM)")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("This benchmark needs a CUDA GPU; none was found.")
        print("Running a small correctness pass of the Triton kernels (interpreter) instead.\n")
        t0 = time.perf_counter()
        print(correctness_pass())
        print(f"\n({time.perf_counter() - t0:.1f} s)")
        return
    from xlstm_ts.kernels.mlstm import chunk_triton as triton_chunk

    if triton_chunk.INTERPRETED:
        sys.exit("TRITON_INTERPRET=1 is set: unset it to time the compiled kernels")
    dtype = getattr(torch, args.dtype)
    print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}, dtype {dtype}\n")
    print("Correctness (float32, vs float64 torch reference):\n")
    print(correctness_pass())
    lengths = [2048, 8192] if args.quick else [2048, 8192, 32768, 65536]
    print(f"\nmLSTM, {args.tokens} tokens per step, 16 heads, head size 128:\n")
    print(bench_mlstm(lengths, args.tokens, 16, 128, dtype))
    print("\nsLSTM vs nn.LSTM at equal hidden size (LSTM includes its input projection):\n")
    print(bench_slstm([(64, 1024, 4, 64), (16, 4096, 8, 32), (256, 512, 4, 64)], dtype))


if __name__ == "__main__":
    main()
