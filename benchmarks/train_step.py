"""Milliseconds per training step of the default forecasting network on the CPU, and of
the mLSTM forms at the default's sequence length.

The network is ``XLSTMForecaster``'s default (``d_model=64``, two mLSTM blocks,
``context_length=96`` in patches of 16: six steps per sequence, quantile outputs); a step
is forward, pinball loss, backward, gradient clipping and AdamW, on random windows. The
cell rows time forward + backward of the mLSTM cell alone on the inputs of one block at
batch 64 (``B·NH = 256`` sequences of six steps, head size 32): the hand-written
chunkwise form, :func:`xlstm_ts.kernels.mlstm` in its default chunkwise mode (a
sequence of one chunk takes the parallel form), and the recurrent loop. Medians of
``--repeats`` calls after warm-up, one torch thread unless ``--threads``; all rows in
one process, so that their ratios are measured side by side.

Run::

    python benchmarks/train_step.py
    python benchmarks/train_step.py --batch-sizes 64 --repeats 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def network_rows(batch_sizes: list[int], repeats: int) -> list[str]:
    from xlstm_ts import XLSTMForecaster
    from xlstm_ts.estimators.state import ForecasterState
    from xlstm_ts.metrics import pinball_loss
    from xlstm_ts.training import ForecastModule

    # the default estimator's network (from scratch) and optimiser, as fit builds them
    model = XLSTMForecaster(horizon=48)
    levels = [0.1, 0.5, 0.9]
    torch.manual_seed(0)
    net = ForecasterState.build_network({**model._network_config(levels, 1), "linear_path": False})
    optimizer = ForecastModule(
        net, levels, 1, learning_rate=model.learning_rate, weight_decay=model.weight_decay
    ).configure_optimizers()
    rows = []
    for batch in batch_sizes:
        x, y = torch.randn(batch, model.context_length), torch.randn(batch, model.horizon)

        def step(x: torch.Tensor = x, y: torch.Tensor = y) -> None:
            optimizer.zero_grad()
            pinball_loss(net(x), y, levels).backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()

        @torch.no_grad()
        def evaluate(x: torch.Tensor = x) -> None:
            net.eval()
            net(x)
            net.train()

        train, forward = median_ms(step, repeats), median_ms(evaluate, repeats)
        rows.append(f"| network, batch {batch} | {train:.1f} | {forward:.1f} | "
                    f"{1e3 * train / batch:.0f} |")  # fmt: skip
    return rows


def cell_rows(repeats: int) -> list[str]:
    from xlstm_ts.kernels import mlstm
    from xlstm_ts.kernels.mlstm import mlstm_chunkwise

    torch.manual_seed(0)
    q, k, v = (torch.randn(64, 4, 6, 32, requires_grad=True) for _ in range(3))
    i, f = (torch.randn(64, 4, 6, requires_grad=True) for _ in range(2))
    forms = {
        "mLSTM hand-written chunkwise form, one chunk": lambda: mlstm_chunkwise(q, k, v, i, f),
        "mLSTM chunkwise through the dispatch (one chunk: the parallel form)": lambda: mlstm(
            q, k, v, i, f, backend="torch"
        ),
        "mLSTM recurrent": lambda: mlstm(q, k, v, i, f, mode="recurrent", backend="torch"),
    }
    rows = []
    for name, form in forms.items():

        def call(form=form) -> None:
            h, _ = form()
            h.sum().backward()

        rows.append(f"| {name} | {median_ms(call, repeats):.2f} | – | – |")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), medians of {args.repeats}")
    print("| what | train step (fwd+bwd) ms | forward ms (eval) | µs per window |")
    print("|---|---:|---:|---:|")
    for row in network_rows(args.batch_sizes, args.repeats) + cell_rows(args.repeats):
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
