"""Killed processes: a fit with ``checkpoint_dir`` (an argument of ``fit``) survives SIGKILL
and resumes to the same result as an uninterrupted run (fixed seed, CPU)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from xlstm_ts import XLSTMForecaster
from xlstm_ts.estimators import candidates

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    import torch
    torch.set_num_threads(1)
    from xlstm_ts import XLSTMForecaster

    n = 300
    t = np.arange(n)
    df = pd.DataFrame(
        {"a": np.sin(t / 5) + 0.01 * t, "b": np.cos(t / 7)},
        index=pd.date_range("2021-01-01", periods=n, freq="h"),
    )
    model = XLSTMForecaster(
        horizon=4, context_length=16, d_model=8, num_blocks=1, num_heads=2, patch_len=4,
        max_epochs=int(sys.argv[2]), batch_size=8, dropout=0.1, random_state=0,
        linear_path="ridge",  # one network, its checkpoints in the folder itself
        early_stopping_patience=None, trainer_kwargs={"enable_progress_bar": False},
    ).fit(df, checkpoint_dir=sys.argv[1])
    np.save(sys.argv[3], model.predict_quantiles().to_numpy())
    print("epochs", model.n_epochs_, flush=True)
    """
)

EPOCHS = 6


def _child(tmp_path: Path, folder: Path, out: Path) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), str(folder), str(EPOCHS), str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen) -> None:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]


def _kill_after_checkpoint(proc: subprocess.Popen, folder: Path, delay: float) -> bool:
    """SIGKILL ``proc`` ``delay`` seconds after its first ``last.ckpt``; whether it was
    still running when killed."""
    deadline = time.monotonic() + 240
    while not (folder / "last.ckpt").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no checkpoint appeared: {proc.communicate()[1][-2000:]}")
        time.sleep(0.02)
    time.sleep(delay)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return alive


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path: Path) -> None:
    # the uninterrupted run
    ref_out = tmp_path / "ref.npy"
    _finish(_child(tmp_path, tmp_path / "ref_ck", ref_out))
    reference = np.load(ref_out)

    # the same run, killed with SIGKILL at random points after the first checkpoint
    # (inside an epoch, in a validation or while a checkpoint is written), then resumed
    folder, out = tmp_path / "ck", tmp_path / "out.npy"
    rng = np.random.default_rng(1)
    kills = 0
    for _ in range(2):
        if _kill_after_checkpoint(_child(tmp_path, folder, out), folder, rng.uniform(0, 0.6)):
            kills += 1
        run = json.loads((folder / "run.json").read_text())
        assert not run["finished"]
    assert kills >= 1
    _finish(_child(tmp_path, folder, out))
    resumed = np.load(out)
    np.testing.assert_allclose(resumed, reference, rtol=1e-6, atol=1e-6)
    assert json.loads((folder / "run.json").read_text())["finished"]
    # no temporary files are left beside the checkpoints
    assert not [p.name for p in folder.iterdir() if "tmp" in p.name]


def _small(**kw) -> XLSTMForecaster:
    """One network (``linear_path="ridge"``): its checkpoints lie in the folder itself."""
    params = dict(
        horizon=2, context_length=8, d_model=8, num_blocks=1, num_heads=2, patch_len=4,
        linear_path="ridge", max_epochs=2, batch_size=16, random_state=0,
        trainer_kwargs={"enable_progress_bar": False},
    )  # fmt: skip
    return XLSTMForecaster(**{**params, **kw})


def _frame(n: int = 80) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame({"a": np.sin(t / 3)}, index=pd.date_range("2022", periods=n, freq="D"))


def test_finished_folder_gives_weights_back_without_training(tmp_path: Path) -> None:
    df = _frame()
    first = _small().fit(df, checkpoint_dir=tmp_path / "ck")
    again = _small(max_epochs=2).fit(df, checkpoint_dir=tmp_path / "ck")
    pd.testing.assert_frame_equal(first.predict(), again.predict())
    assert again.n_epochs_ == first.n_epochs_


def test_each_network_of_auto_has_its_own_subfolder(tmp_path: Path) -> None:
    df, folder = _frame(), tmp_path / "ck"
    first = _small(linear_path="auto").fit(df, checkpoint_dir=folder)
    members = [folder / "none" / f"member={k}" for k in range(candidates.SCRATCH_ENSEMBLE)]
    for sub in (folder / "ridge", *members):
        assert json.loads((sub / "run.json").read_text())["finished"], sub
    again = _small(linear_path="auto").fit(df, checkpoint_dir=folder)  # read back, not trained
    pd.testing.assert_frame_equal(first.predict(), again.predict(), check_exact=True)
    assert again.decision_ == first.decision_


def test_folder_of_another_run_is_refused(tmp_path: Path) -> None:
    df = _frame()
    _small().fit(df, checkpoint_dir=tmp_path / "ck")
    with pytest.raises(ValueError, match="another run"):
        _small(learning_rate=0.01).fit(df, checkpoint_dir=tmp_path / "ck")
    with pytest.raises(ValueError, match="another run"):
        _small().fit(df * 2, checkpoint_dir=tmp_path / "ck")


def test_corrupt_last_checkpoint_is_refused_clearly(tmp_path: Path) -> None:
    df = _frame()
    folder = tmp_path / "ck"
    _small().fit(df, checkpoint_dir=folder)
    run = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**run, "finished": False}))
    data = (folder / "last.ckpt").read_bytes()
    (folder / "last.ckpt").write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(ValueError, match="cannot resume from .*last.ckpt"):
        _small().fit(df, checkpoint_dir=folder)


def test_foreign_checkpoint_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / "last.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not written by xlstm_ts"):
        _small().fit(_frame(), checkpoint_dir=folder)


def test_checkpoint_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        _small().fit(_frame(), checkpoint_dir=path)


def test_crash_while_writing_a_checkpoint_keeps_the_last_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlstm_ts.training import run

    # noise the ridge start cannot forecast, so that a later epoch improves and writes again
    df = _frame(200) + np.random.default_rng(0).normal(0, 0.3, (200, 1))
    reference = _small(max_epochs=3).fit(df, checkpoint_dir=tmp_path / "ref").predict()
    real = run.torch.save

    def crash_in_epoch_one(obj, f, *args, **kwargs):
        if obj.get("epoch") == 1:  # epoch 1's first checkpoint
            f.write(b"half a checkpoint")
            raise OSError("killed while writing")
        return real(obj, f, *args, **kwargs)

    monkeypatch.setattr(run.torch, "save", crash_in_epoch_one)
    with pytest.raises(OSError, match="killed while writing"):
        _small(max_epochs=3).fit(df, checkpoint_dir=tmp_path / "ck")
    monkeypatch.undo()
    saved = torch.load(tmp_path / "ck" / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["epoch"] == 0  # the previous checkpoint, whole
    assert not [p.name for p in (tmp_path / "ck").iterdir() if "tmp" in p.name]
    resumed = _small(max_epochs=3).fit(df, checkpoint_dir=tmp_path / "ck").predict()
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_model_fitted_with_a_checkpoint_folder_saves_and_loads(tmp_path: Path) -> None:
    model = _small().fit(_frame(), checkpoint_dir=tmp_path / "ck")  # given as a Path
    model.save(tmp_path / "m")
    again = XLSTMForecaster.load(tmp_path / "m")
    assert "checkpoint_dir" not in again.get_params()  # an argument of fit, not a parameter
    pd.testing.assert_frame_equal(again.predict(), model.predict())
