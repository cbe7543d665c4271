"""Long-horizon (LTSF) benchmark: canonical splits, train-only scaling, every test window.

The same options as ``xlstm-ts benchmark``; see ``docs/ltsf-benchmark.md`` for the
protocol.

Run::

    python benchmarks/ltsf.py --dataset ETTh1 --data-home PATH --context-length 336 \\
        --models ridge dlinear seasonal_naive ets --output etth1_336.json
    python benchmarks/ltsf.py --dataset ETTh1 --context-length 336 --models xlstm \\
        --seeds 0 1 2 --param d_model=64 --param max_epochs=20
"""

from __future__ import annotations

import sys

from xlstm_ts.ltsf.command import main

if __name__ == "__main__":
    sys.exit(main())
