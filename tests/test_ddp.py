"""Distributed training: two CPU processes with Lightning's DDP, then a normal predict."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os
    import numpy as np, pandas as pd, torch, torch.distributed as dist
    from xlstm_ts import XLSTMForecaster

    t = np.arange(600)
    df = pd.DataFrame(
        {"a": np.sin(t / 6.0), "b": np.cos(t / 9.0)},
        index=pd.date_range("2021-01-01", periods=600, freq="h"),
    )
    model = XLSTMForecaster(
        horizon=12, context_length=48, d_model=16, num_heads=2, patch_len=8, max_epochs=2,
        windows_per_epoch=128, validation_size=24, random_state=0,
        trainer_kwargs={"accelerator": "cpu", "devices": 2, "strategy": "ddp",
                        "enable_progress_bar": False},
    ).fit(df)
    pred = model.predict()
    world = dist.get_world_size() if dist.is_initialized() else 1
    rank = int(os.environ.get("LOCAL_RANK", 0))
    # one file per process: lines two processes print to one pipe can interleave
    with open(f"result_{rank}.json", "w") as f:
        json.dump({
            "rank": rank, "world": world, "threads": torch.get_num_threads(),
            "rows": len(pred), "values": pred.to_numpy().round(6).tolist(),
            "timestamps": [str(t) for t in pred.index],
        }, f)
    """
)


@pytest.mark.ddp
def test_ddp_trains_in_two_processes_and_predicts_in_each(tmp_path):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [json.loads((tmp_path / f"result_{rank}.json").read_text()) for rank in (0, 1)]
    assert sorted(r["rank"] for r in results) == [0, 1]
    assert all(r["world"] == 2 for r in results)
    assert all(r["rows"] == 12 for r in results)
    # both processes end with the same trained model, hence the same forecast
    assert results[0]["values"] == results[1]["values"]
    assert results[0]["timestamps"][0] == "2021-01-26 00:00:00"
