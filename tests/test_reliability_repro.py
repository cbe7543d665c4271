"""Reproducibility: the same seed gives identical forecasts on the CPU, across two
processes and across save/load."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from xlstm_ts import XLSTMForecaster
from xlstm_ts.stateful import XLSTMStatefulForecaster

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from xlstm_ts import XLSTMForecaster
    from xlstm_ts.stateful import XLSTMStatefulForecaster

    t = np.arange(200)
    df = pd.DataFrame(
        {"a": np.sin(t / 5) + 0.01 * t, "b": np.cos(t / 7)},
        index=pd.date_range("2021-01-01", periods=200, freq="h"),
    )
    small = dict(d_model=8, num_blocks=1, num_heads=2, patch_len=4, max_epochs=2,
                 dropout=0.1, random_state=int(sys.argv[2]),
                 trainer_kwargs={"enable_progress_bar": False})
    window = XLSTMForecaster(horizon=4, context_length=16, linear_path="none", **small)
    stateful = XLSTMStatefulForecaster(horizon=4, segment_length=16, **small)
    for name, model in (("window", window), ("stateful", stateful)):
        model.fit(df)
        np.save(f"{sys.argv[1]}-{name}.npy", model.predict_quantiles().to_numpy(dtype=float))
        model.save(f"{sys.argv[1]}-{name}")
    """
)


def _run(tmp_path: Path, tag: str, seed: int) -> str:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    prefix = str(tmp_path / tag)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(script), prefix, str(seed)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return prefix


def test_same_seed_same_forecasts_across_processes_and_save_load(tmp_path: Path) -> None:
    first, second = _run(tmp_path, "p1", 7), _run(tmp_path, "p2", 7)
    other = _run(tmp_path, "p3", 8)
    for name, cls in (("window", XLSTMForecaster), ("stateful", XLSTMStatefulForecaster)):
        a, b = np.load(f"{first}-{name}.npy"), np.load(f"{second}-{name}.npy")
        np.testing.assert_array_equal(a, b)  # bit for bit
        assert not np.array_equal(a, np.load(f"{other}-{name}.npy"))  # the seed matters
        loaded = cls.load(f"{first}-{name}").predict_quantiles().to_numpy(dtype=float)
        np.testing.assert_array_equal(loaded, a)  # loaded in this third process


def test_same_seed_same_forecasts_in_one_process() -> None:
    t = np.arange(120)
    df = pd.DataFrame({"a": np.sin(t / 4)}, index=pd.date_range("2020", periods=120, freq="D"))
    params = dict(
        horizon=3, context_length=12, d_model=8, num_blocks=1, num_heads=2, patch_len=4,
        max_epochs=2, random_state=3, linear_path="none",
        trainer_kwargs={"enable_progress_bar": False},
    )  # fmt: skip
    a = XLSTMForecaster(**params).fit(df).predict()
    b = XLSTMForecaster(**params).fit(df).predict()
    pd.testing.assert_frame_equal(a, b, check_exact=True)
