"""Untrusted files: loading never unpickles; a damaged or altered model folder gives a
clear error; saving is atomic."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from xlstm_ts import XLSTMForecaster
from xlstm_ts.estimators import model_folder, persistence
from xlstm_ts.estimators.persistence import CorruptModelError
from xlstm_ts.stateful import XLSTMStatefulForecaster

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(
    d_model=8, num_blocks=1, num_heads=2, patch_len=4, max_epochs=1, batch_size=16,
    random_state=0, trainer_kwargs={"enable_progress_bar": False},
)  # fmt: skip
WINDOW = dict(SMALL, linear_path="ridge")  # one network


def _frame(n: int = 80, tz: str | None = None) -> pd.DataFrame:
    t = np.arange(n)
    index = pd.date_range("2022-03-20", periods=n, freq="h", tz=tz)
    return pd.DataFrame({"a": np.sin(t / 3), "b": np.cos(t / 5)}, index=index)


@pytest.fixture(scope="module")
def fitted() -> XLSTMForecaster:
    return XLSTMForecaster(horizon=3, context_length=12, **WINDOW).fit(_frame())


@pytest.fixture(scope="module")
def fitted_stateful() -> XLSTMStatefulForecaster:
    return XLSTMStatefulForecaster(horizon=3, segment_length=16, **SMALL).fit(_frame())


@pytest.fixture
def saved(fitted: XLSTMForecaster, tmp_path: Path) -> Path:
    fitted.save(tmp_path / "model")
    return tmp_path / "model"


# ---------------------------------------------------------------- never unpickle
def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


def test_every_load_path_refuses_pickles() -> None:
    """Each torch.load and Trainer.fit/validate call of the package passes
    weights_only=True; nothing calls pickle, joblib, np.load with allow_pickle, or
    torch.jit.load."""
    files = [*ROOT.joinpath("xlstm_ts").rglob("*.py"), *ROOT.joinpath("kernels").rglob("*.py")]
    files += list(ROOT.joinpath("datasets").rglob("*.py"))
    loads, bad = 0, []
    for path in files:
        for node, name in _calls(ast.parse(path.read_text())):
            kw = {k.arg: ast.unparse(k.value) for k in node.keywords}
            where = f"{path.relative_to(ROOT)}:{node.lineno} {name}"
            if name.endswith("torch.load") or name == "load" and "weights_only" in kw:
                loads += 1
                if kw.get("weights_only") != "True":
                    bad.append(where)
            if name in ("trainer.fit", "trainer.validate", "trainer.test") and "ckpt_path" in kw:
                if kw.get("weights_only") != "True":
                    bad.append(where)
            if name.split(".")[0] in ("pickle", "cPickle", "joblib", "dill", "cloudpickle"):
                bad.append(where)
            if (
                name.endswith("jit.load")
                or name.endswith("np.load")
                and (kw.get("allow_pickle") == "True")
            ):
                bad.append(where)
    assert not bad, f"load paths that may unpickle: {bad}"
    assert loads >= 2  # the best checkpoint, the checked last.ckpt


def test_a_pickle_in_place_of_the_weights_is_never_run(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    torch.save({"x": Payload()}, saved / "model.safetensors")
    _rehash(saved)
    with pytest.raises(CorruptModelError, match="not a valid safetensors file"):
        XLSTMForecaster.load(saved)
    assert not marker.exists()


# ---------------------------------------------------------------- tampering
def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def _write_config(folder: Path, config: dict) -> None:
    (folder / "config.json").write_text(json.dumps(config))


def _edit(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        config = _config(folder)
        change(config)
        _write_config(folder, config)

    return apply


def _rehash(folder: Path) -> None:
    """Record the weights' new hash, as a careful tamperer would."""
    config = _config(folder)
    config["weights_sha256"] = persistence._sha256(folder / "model.safetensors")
    _write_config(folder, config)


def _tensors(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        tensors = load_file(str(folder / "model.safetensors"))
        change(tensors)
        save_file(tensors, str(folder / "model.safetensors"))
        _rehash(folder)

    return apply


def _first_weight(tensors: dict) -> str:
    return next(k for k in tensors if k.startswith("model."))


def _truncate(name: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])

    return apply


def _symlink_out(name: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        outside = folder.parent / f"outside-{name}"
        (folder / name).rename(outside)
        (folder / name).symlink_to(outside)

    return apply


def _set(path: tuple, value) -> Callable[[dict], None]:
    def change(config: dict) -> None:
        target = config
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _no_hash_then(apply: Callable[[Path], None]) -> Callable[[Path], None]:
    def both(folder: Path) -> None:
        _edit(lambda c: c.pop("weights_sha256"))(folder)
        apply(folder)

    return both


TAMPER = {
    "config not JSON": (_truncate("config.json"), r"config.json is not valid JSON"),
    "config a list": (lambda f: (f / "config.json").write_text("[1, 2]"), "JSON object"),
    "format version": (_edit(_set(("format_version",), 99)), "format version 99"),
    "class missing": (_edit(lambda c: c.pop("class")), "lacks the key 'class'"),
    "other class": (_edit(_set(("class",), "XLSTMStatefulForecaster")), "not a XLSTMForecaster"),
    "network width": (_edit(_set(("network", "calibrated", "d_model"), 16)), r"has shape"),
    "network garbage": (_edit(_set(("network", "calibrated", "d_model"), "wide")), "network"),
    "horizon changed": (_edit(_set(("params", "horizon"), 5)), "differs from the network"),
    "unknown param": (_edit(_set(("params", "evil"), 1)), "unknown parameter"),
    "bad param value": (_edit(_set(("params", "max_epochs"), -3)), "max_epochs"),
    "ids added": (_edit(lambda c: c["fitted"]["ids"].append("c")), "last_times"),
    "ids duplicated": (_edit(_set(("fitted", "ids"), ["a", "a"])), "duplicated"),
    "freq garbage": (_edit(_set(("fitted", "freq"), "every full moon")), "not a frequency"),
    "last time garbage": (
        _edit(_set(("fitted", "last_times"), [{"when": 1}, {"when": 2}])),
        "not readable",
    ),
    "weights truncated": (_truncate("model.safetensors"), "does not match the SHA-256"),
    "weights truncated, hash gone": (
        _no_hash_then(_truncate("model.safetensors")),
        "not a valid safetensors",
    ),
    "weights missing": (lambda f: (f / "model.safetensors").unlink(), "is missing"),
    "tensor extra": (_tensors(lambda t: t.update(extra=torch.zeros(3))), "unexpected tensor"),
    "tensor missing": (_tensors(lambda t: t.pop(_first_weight(t))), "lacks tensor"),
    "tensor shape": (
        _tensors(lambda t: t.update({_first_weight(t): torch.zeros(1, 2, 3)})),
        "has shape",
    ),
    "tensor dtype": (
        _tensors(lambda t: t.update({_first_weight(t): t[_first_weight(t)].half()})),
        "has dtype",
    ),
    "tensor NaN": (
        _tensors(lambda t: t.update({_first_weight(t): t[_first_weight(t)] * float("nan")})),
        "NaN or inf",
    ),
    "history shape": (_tensors(lambda t: t.update({"history.0": torch.zeros(3)})), "history.0"),
    "history dtype": (
        _tensors(lambda t: t.update({"history.1": t["history.1"].float()})),
        "has dtype",
    ),
    "config symlink out": (_symlink_out("config.json"), "symlink"),
    "weights symlink out": (_symlink_out("model.safetensors"), "symlink"),
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_tampered_folder_gives_a_clear_error(case: str, saved: Path) -> None:
    tamper, message = TAMPER[case]
    tamper(saved)
    with pytest.raises(ValueError, match=message):
        XLSTMForecaster.load(saved)


STATEFUL_TAMPER = {
    "weights changed": (_truncate("model.safetensors"), "does not match the SHA-256"),
    "state NaN": (_tensors(lambda t: t["state.0.0"].fill_(float("nan"))), "holds NaN"),
    "scale shape": (
        _tensors(lambda t: t.update(scale=torch.ones(5, dtype=torch.float64))),
        "scale",
    ),
    "recent too long": (
        _tensors(lambda t: t.update({"recent.0": torch.zeros(999, dtype=torch.float64)})),
        "window_len",
    ),
    "state missing": (_tensors(lambda t: t.pop("state.1.0")), "lacks tensor"),
    "lengths garbage": (_edit(_set(("fitted", "lengths"), ["x", 1])), "lengths"),
    "format version": (_edit(_set(("format_version",), 7)), "version 7"),
}


@pytest.mark.parametrize("case", list(STATEFUL_TAMPER))
def test_tampered_stateful_folder_gives_a_clear_error(
    case: str, fitted_stateful: XLSTMStatefulForecaster, tmp_path: Path
) -> None:
    fitted_stateful.save(tmp_path / "m")
    tamper, message = STATEFUL_TAMPER[case]
    tamper(tmp_path / "m")
    with pytest.raises(ValueError, match=message):
        XLSTMStatefulForecaster.load(tmp_path / "m")


def test_untampered_folders_load_and_forecast_the_same(
    fitted: XLSTMForecaster, fitted_stateful: XLSTMStatefulForecaster, tmp_path: Path
) -> None:
    for model in (fitted, fitted_stateful):
        model.save(tmp_path / type(model).__name__)
        again = type(model).load(tmp_path / type(model).__name__)
        pd.testing.assert_frame_equal(model.predict_quantiles(), again.predict_quantiles())


def test_time_zone_survives_save_and_load(tmp_path: Path) -> None:
    """Regression: a zone-aware series came back from a saved folder with a fixed UTC
    offset instead of its zone, so forecasts after loading were in another time zone
    (13:00+01:00 instead of 14:00+02:00 after the switch to summer time)."""
    df = _frame(tz="Europe/Berlin")  # crosses the switch to summer time on 2022-03-27
    model = XLSTMForecaster(horizon=3, context_length=12, **WINDOW).fit(df.iloc[:150])
    model.save(tmp_path / "m")
    again = XLSTMForecaster.load(tmp_path / "m")
    assert str(again.panel_.last_times[0].tz) == "Europe/Berlin"
    pd.testing.assert_frame_equal(model.predict(h=200), again.predict(h=200))


# ---------------------------------------------------------------- atomic writes
def test_crash_while_writing_keeps_the_old_model(
    fitted: XLSTMForecaster, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = XLSTMForecaster.load(saved).predict()
    other = XLSTMForecaster(horizon=3, context_length=12, **{**WINDOW, "random_state": 1})
    other.fit(_frame())

    def crash(tensors, path, *args, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(model_folder, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        other.save(saved)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(XLSTMForecaster.load(saved).predict(), before)
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model"]


def test_crash_between_renames_puts_the_old_model_back(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = XLSTMForecaster.load(saved).predict()
    other = XLSTMForecaster(horizon=3, context_length=12, **{**WINDOW, "random_state": 1})
    other.fit(_frame())
    real = os.replace
    calls = []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("killed")
        return real(src, dst)

    monkeypatch.setattr(persistence.os, "replace", second_fails)
    with pytest.raises(OSError, match="killed"):
        other.save(saved)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(XLSTMForecaster.load(saved).predict(), before)
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model"]


def test_save_refuses_a_folder_holding_other_files(fitted: XLSTMForecaster, tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a saved model"):
        fitted.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


SAVER = textwrap.dedent(
    """
    import sys
    from xlstm_ts import XLSTMForecaster
    models = [XLSTMForecaster.load(p) for p in sys.argv[2:4]]
    print("ready", flush=True)
    k = 0
    while True:
        models[k % 2].save(sys.argv[1])
        k += 1
    """
)


def test_sigkill_during_repeated_saves_never_leaves_a_wrong_model(tmp_path: Path) -> None:
    """A process saves two models in turn into one folder and is killed at random
    points: the folder then loads as one of the two models, or is absent (killed between
    the two renames), never something else."""
    a = XLSTMForecaster(horizon=3, context_length=12, **WINDOW).fit(_frame())
    b = XLSTMForecaster(horizon=3, context_length=12, **{**WINDOW, "random_state": 1})
    b.fit(_frame())
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    expected = [a.predict().to_numpy(), b.predict().to_numpy()]
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    rng = np.random.default_rng(0)
    outcomes = []
    for _ in range(4):
        target = tmp_path / "target"
        proc = subprocess.Popen(
            [sys.executable, str(script), str(target), str(tmp_path / "a"), str(tmp_path / "b")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        try:
            got = XLSTMForecaster.load(target).predict().to_numpy()
        except FileNotFoundError:
            outcomes.append("absent")
            continue
        assert any(np.array_equal(got, e) for e in expected)
        outcomes.append("whole")
    assert "whole" in outcomes
