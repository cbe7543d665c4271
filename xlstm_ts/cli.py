"""Command-line interface: ``xlstm-ts``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def demo(args: argparse.Namespace) -> int:
    """Encode a real series (statsmodels' sunspots) in one pass and in streamed pieces."""
    import numpy as np
    import torch
    from statsmodels.datasets import sunspots

    from xlstm_ts.nn import XLSTMStack

    series = sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(dtype=np.float32)
    x = torch.from_numpy((series - series.mean()) / series.std())[None, :, None]
    torch.manual_seed(0)
    embed = torch.nn.Linear(1, 32)
    stack = XLSTMStack(32, num_blocks=4, slstm_at=(3,), num_heads=4).eval()
    with torch.no_grad():
        tokens = embed(x)
        full, _ = stack(tokens)
        state, pieces = None, []
        for piece in tokens.split(50, dim=1):
            out, state = stack(piece, state)
            pieces.append(out)
    gap = (torch.cat(pieces, 1) - full).abs().max().item()
    print(f"sunspots: {len(series)} yearly values encoded by xLSTM[3:1] (d_model 32)")
    print(f"one pass vs streamed in pieces of 50: max difference {gap:.2e}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xlstm-ts", description="xLSTM time-series tools")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the demonstration on built-in data").set_defaults(
        func=demo
    )
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
