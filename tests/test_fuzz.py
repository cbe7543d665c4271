"""Fuzzed input: malformed frames and parameters for fit, predict, predict_quantiles,
score, update and the command line.

Every generated case must end in a documented exception (``ValueError`` or
``TypeError``, raised by xlstm_ts itself or by scikit-learn's parameter validation, with
a message that says what is wrong), or in a correct result (finite forecasts of the
right shape, at the right timestamps); the input frame must never be changed. The
hypothesis profile ``xlstm-ci`` is derandomised (the same cases on every run) and has
no deadline; the number of cases each test ran is printed at the end of the session
(:func:`tests.conftest.pytest_terminal_summary`).
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import FUZZ_COUNTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlstm_ts import XLSTMForecaster
from xlstm_ts.cli import main
from xlstm_ts.estimators import candidates
from xlstm_ts.stateful import XLSTMStatefulForecaster

settings.register_profile(
    "xlstm-ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
CI = settings.get_profile("xlstm-ci")

XLSTM = str(Path(__file__).resolve().parents[1] / "xlstm_ts")
DOCUMENTED = (ValueError, TypeError)
"""What bad input may raise (see docs/reliability.md)."""

TINY = dict(
    d_model=8, num_blocks=1, num_heads=2, patch_len=2, max_epochs=1, batch_size=64,
    random_state=0, validation_size=0, early_stopping_patience=None,
    trainer_kwargs={"enable_progress_bar": False},
)  # fmt: skip
WINDOW = dict(TINY, linear_path="none")  # not the subject here: no dependence on defaults


@pytest.fixture(scope="module", autouse=True)
def one_network():
    """One network from scratch for ``linear_path="none"``, not a seed ensemble of three."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
        yield


def outcome(name: str, call: Callable[[], Any]) -> tuple[str, Any]:
    """Run ``call``: ``("ok", result)`` or ``("error", exc)`` for a documented error
    raised by our code with a message; anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call()
            _count(name, "ok")
            return "ok", result
        except DOCUMENTED as err:
            _count(name, "error")
            frames = traceback.extract_tb(err.__traceback__)
            origin = frames[-1].filename
            ours = origin.startswith(XLSTM) or "sklearn/utils/_param_validation" in origin
            assert ours, f"{type(err).__name__} from deep inside {origin}: {err}"
            assert len(str(err)) >= 20, f"message too short: {err!r}"
            return "error", err


def _count(name: str, kind: str) -> None:
    key = f"{name}/{kind}"
    FUZZ_COUNTS[key] = FUZZ_COUNTS.get(key, 0) + 1


def frame_unchanged(df: pd.DataFrame, copy: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(df, copy, check_exact=True)


# ---------------------------------------------------------------- frames
FREQS = ["h", "D", "15min", 1, 7]


@st.composite
def times(draw, n: int, freq) -> pd.Index:
    if isinstance(freq, int):
        return pd.Index(draw(st.integers(-50, 50)) + freq * np.arange(n))
    tz = draw(st.sampled_from([None, "UTC", "Europe/Berlin", "Asia/Kolkata"]))
    return pd.date_range("2023-03-24", periods=n, freq=freq, tz=tz)


def _values(draw, n: int) -> np.ndarray:
    scale = draw(st.sampled_from([1.0, 1.0, 1e-9, 1e9, 1e-300, 1e300]))
    t = np.arange(n)
    return scale * (np.sin(t / 3 + draw(st.floats(0, 3))) + 0.01 * t)


MUTATIONS = [
    "none", "nan", "inf", "object", "strings", "bool", "complex", "category", "nullable",
    "float32", "duplicate_row", "shuffle", "gap", "irregular", "nat", "mixed_tz",
    "naive_strings", "float_time", "empty", "single_row", "huge_int_time", "extra_object",
]  # fmt: skip


def _mutate(draw, df: pd.DataFrame, value_cols: list, time_col) -> pd.DataFrame:
    kind = draw(st.sampled_from(["none"] * 12 + MUTATIONS))  # about half are left valid
    df = df.copy()
    n = len(df)
    row = draw(st.integers(0, max(n - 1, 0)))
    col = draw(st.sampled_from(value_cols))
    tcol = df[time_col] if time_col is not None else None
    if kind == "nan":
        df.loc[df.index[row], col] = np.nan
    elif kind == "inf":
        df.loc[df.index[row], col] = draw(st.sampled_from([np.inf, -np.inf]))
    elif kind == "object":
        df[col] = df[col].astype(object)
    elif kind == "strings":
        df[col] = df[col].map(lambda v: f"{v:.3f}")
    elif kind == "bool":
        df[col] = df[col] > 0
    elif kind == "complex":
        df[col] = df[col] + 1j
    elif kind == "category":
        df[col] = df[col].astype("category")
    elif kind == "nullable":
        df[col] = pd.array(np.round(df[col]).astype(int), dtype="Int64")
        df.loc[df.index[row], col] = pd.NA
    elif kind == "float32":
        df[col] = df[col].astype(np.float32)
    elif kind == "duplicate_row":
        df = pd.concat([df, df.iloc[[row]]])
    elif kind == "shuffle":
        df = df.sample(frac=1.0, random_state=draw(st.integers(0, 9)))
    elif kind == "gap" and n > 3:
        df = df.drop(df.index[min(row, n - 2) + 1 if row < n - 1 else 1])
    elif kind == "irregular" and tcol is not None and n > 2:
        if pd.api.types.is_datetime64_any_dtype(tcol):
            df.loc[df.index[row], time_col] = tcol.iloc[row] + pd.Timedelta(minutes=1)
        else:
            df.loc[df.index[row], time_col] = tcol.iloc[row] + 1000
    elif kind == "nat" and tcol is not None and pd.api.types.is_datetime64_any_dtype(tcol):
        df.loc[df.index[row], time_col] = pd.NaT
    elif kind == "mixed_tz" and tcol is not None and pd.api.types.is_datetime64_any_dtype(tcol):
        naive = tcol.dt.tz_localize(None) if tcol.dt.tz is not None else tcol
        df[time_col] = [
            t.tz_localize("UTC") if k % 2 else t.tz_localize("Asia/Tokyo")
            for k, t in enumerate(naive)
        ]
    elif kind == "naive_strings" and tcol is not None:
        df[time_col] = tcol.astype(str)
    elif kind == "float_time" and tcol is not None and pd.api.types.is_integer_dtype(tcol):
        df[time_col] = tcol.astype(float)
    elif kind == "empty":
        df = df.iloc[:0]
    elif kind == "single_row":
        df = df.iloc[[row]]
    elif kind == "huge_int_time" and tcol is not None and pd.api.types.is_integer_dtype(tcol):
        df[time_col] = tcol - tcol.max() + np.iinfo(np.int64).max - 3
    elif kind == "extra_object":
        df["note"] = "ünïcødé"
    return df


ID_SETS = [["a", "b"], [1, 2], [1, "1"], ["é→数", "☃"], [1.5, 2.5], [1, "b", 3.0], [True, 2]]


@st.composite
def long_frames(draw) -> tuple[pd.DataFrame, dict]:
    freq = draw(st.sampled_from(FREQS))
    ids = draw(st.sampled_from(ID_SETS))[: draw(st.integers(1, 2))]
    target = draw(st.sampled_from(["y", "ÿ→値", "value"]))
    parts = []
    for series in ids:
        n = draw(st.one_of(st.integers(1, 24), st.integers(10, 24)))
        index = draw(times(n, freq))
        parts.append(pd.DataFrame({"unique_id": series, "ds": index, target: _values(draw, n)}))
    df = pd.concat(parts, ignore_index=True)
    df = _mutate(draw, df, [target], "ds")
    return df, {"target": target}


@st.composite
def wide_frames(draw) -> tuple[pd.DataFrame, dict]:
    freq = draw(st.sampled_from(FREQS))
    names = draw(
        st.sampled_from([["a", "b"], ["a", "b"], [0, 1], ["é", 2], ["x", "x"], [("m", 1), "z"]])
    )
    names = names[: draw(st.integers(1, 2))]
    n = draw(st.one_of(st.integers(1, 24), st.integers(10, 24)))
    index = draw(times(n, freq))
    df = pd.DataFrame({k: _values(draw, n) for k in range(len(names))}, index=index)
    df.columns = pd.Index(names, tupleize_cols=False)
    df = df.reset_index(names="__t")
    df = _mutate(draw, df, list(df.columns[1:]), "__t")
    index_kind = draw(
        st.sampled_from(["time", "time", "time", "range", "range", "strings", "float", "multi"])
    )
    if index_kind == "time":
        df = df.set_index("__t")
        df.index.name = None
    elif index_kind == "range":
        df = df.drop(columns="__t")
    elif index_kind == "strings":
        df = df.set_index(df["__t"].astype(str)).drop(columns="__t")
    elif index_kind == "float":
        df = df.drop(columns="__t").set_index(pd.Index(np.arange(len(df)) * 0.5))
    else:
        df = df.set_index(["__t", df["__t"]])
    return df, {}


def _check_forecast(model, df: pd.DataFrame, out: pd.DataFrame, h: int) -> None:
    """A successful forecast: finite, ``h`` steps per series, after each series' end."""
    panel = model.to_panel(df)
    if panel.layout == "long":
        assert len(out) == h * len(panel.ids)
        values = out[panel.target].to_numpy(dtype=float)
        for series, last in zip(panel.ids, panel.last_times, strict=True):
            stamps = out.loc[out[model.id_col].map(repr) == repr(series), model.time_col]
            assert len(stamps) == h and (stamps > last).all()
    else:
        assert out.shape == (h, len(panel.ids))
        assert (out.index > panel.last_times[0]).all()
        values = out.to_numpy(dtype=float)
    assert np.isfinite(values).all(), out


def _fit(df: pd.DataFrame, extra: dict, **params) -> tuple[str, Any]:
    copy = df.copy(deep=True)
    model = XLSTMForecaster(**{"horizon": 2, "context_length": 4, **WINDOW, **extra, **params})
    result = outcome("fit", lambda: model.fit(df))
    frame_unchanged(df, copy)
    if result[0] == "ok" and not model.future_covariates:
        kind, out = outcome("predict after fit", model.predict)
        if kind == "ok":
            _check_forecast(model, df, out, 2)
    return result


@settings(CI, max_examples=150)
@given(case=long_frames())
def test_fit_long_frames(case) -> None:
    _fit(*case)


@settings(CI, max_examples=120)
@given(case=wide_frames())
def test_fit_wide_frames(case) -> None:
    _fit(*case)


BAD = [None, -1, 0, 2.5, "3", True, float("nan"), [2], np.int64(2), 10**12]
PARAMS = {
    "horizon": BAD,
    "context_length": BAD,
    "patch_len": BAD + [1, 4, 16],
    "d_model": BAD + [6, 8, 12],
    "num_heads": BAD + [1, 3, 4],
    "num_blocks": [None, -1, 0, 2.5, "1", 1, 2],
    "slstm_at": [(), (0,), (5,), ("a",), (0.5,), None, (-1,)],
    "quantiles": [(0.1, 0.9), (), (0.0,), (1.5,), ("a",), (np.nan,), 0.5, None],
    "dropout": [0.0, 0.5, 1.0, -0.1, "x", np.nan],
    "learning_rate": [1e-3, -1.0, np.inf, np.nan, "fast", 0.0],
    "max_epochs": [1, 0, -1, 1.5, None],
    "batch_size": [1, 64, 0, -5, 1.0],
    "validation_size": [0, 0.2, 3, 1.0, -1, 0.999, "all", np.nan],
    "freq": [None, "h", "D", 1, "every", 0, 3.5],
    "loss": ["quantile", "mse", "mae", None],
    "allow_missing": [True, False, 1, "yes"],
    "past_covariates": [(), ("b",), ("missing",), "b", None],
    "future_covariates": [(), ("b",), ("zzz",)],
    "linear_path": ["none", "auto", "ridge", "lasso", False, True],
    "trainer_kwargs": [None, {}, {"gradient_clip_val": 0.5}, "cpu", []],
    "windows_per_epoch": [None, 1, 0],
    "id_col": ["unique_id", 3, None],
    "target": [None, "a", ["a"], 5, ("a", "b"), "zzz"],
}


@st.composite
def param_sets(draw) -> dict:
    keys = draw(st.lists(st.sampled_from(sorted(PARAMS)), min_size=1, max_size=3, unique=True))
    return {k: draw(st.sampled_from(PARAMS[k])) for k in keys}


@settings(CI, max_examples=120)
@given(params=param_sets())
def test_fit_parameters(params: dict) -> None:
    t = np.arange(40)
    df = pd.DataFrame(
        {"a": np.sin(t / 3), "b": np.cos(t / 4)},
        index=pd.date_range("2024-01-01", periods=40, freq="h"),
    )
    _fit(df, {}, **params)


# ---------------------------------------------------------------- predict, score
def _train_frame(n: int = 40) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame(
        {"a": np.sin(t / 3), "b": np.cos(t / 4)},
        index=pd.date_range("2024-01-01", periods=n, freq="h"),
    )


@pytest.fixture(scope="module")
def wide_model() -> XLSTMForecaster:
    return XLSTMForecaster(horizon=2, context_length=4, **WINDOW).fit(_train_frame())


@pytest.fixture(scope="module")
def covariate_model() -> XLSTMForecaster:
    df = _train_frame()
    df["cal"] = np.arange(len(df)) % 24
    return XLSTMForecaster(
        horizon=2, context_length=4, future_covariates=("cal",), target=["a", "b"], **WINDOW
    ).fit(df)


@st.composite
def histories(draw) -> pd.DataFrame:
    """Histories for the wide model: often valid, often malformed."""
    n = draw(st.one_of(st.integers(0, 30), st.integers(6, 30)))
    start = draw(st.sampled_from(["2024-03-01", "2024-01-02 05:00"]))
    freq = draw(st.sampled_from(["h"] * 5 + ["D"]))
    tz = draw(st.sampled_from([None] * 4 + ["UTC"]))
    df = pd.DataFrame(
        {"a": _values(draw, n), "b": _values(draw, n)},
        index=pd.date_range(start, periods=n, freq=freq, tz=tz),
    )
    df = df.reset_index(names="__t")
    df = _mutate(draw, df, ["a", "b"], "__t") if n else df
    df = df.set_index("__t")
    df.index.name = None
    columns = draw(st.sampled_from([["a", "b"]] * 4 + [["a"], ["b", "a"], ["a", "c"]]))
    return df[[c for c in columns if c in df.columns]] if "c" not in columns else df


H_VALUES = [None, 1, 2, 5, 0, -1, 2.5, "2", True, np.int64(3)]


@settings(CI, max_examples=120)
@given(X=st.one_of(st.none(), histories()), h=st.sampled_from(H_VALUES))
def test_predict(wide_model: XLSTMForecaster, X, h) -> None:
    copy = None if X is None else X.copy(deep=True)
    kind, out = outcome("predict", lambda: wide_model.predict(X, h=h))
    if X is not None:
        frame_unchanged(X, copy)
    if kind == "ok":
        _check_forecast(wide_model, wide_model.panel_ if X is None else X, out, h or 2)


QUANTILES = [None, [0.1], [0.5, 0.9], [0.3], ["a"], [np.nan], 0.5, "0.5", [], [0.9, 0.1]]


@settings(CI, max_examples=60)
@given(X=st.one_of(st.none(), histories()), q=st.sampled_from(QUANTILES))
def test_predict_quantiles(wide_model: XLSTMForecaster, X, q) -> None:
    kind, out = outcome("predict_quantiles", lambda: wide_model.predict_quantiles(X, quantiles=q))
    if kind == "ok":
        assert np.isfinite(out.to_numpy(dtype=float)).all()


@settings(CI, max_examples=60)
@given(X=histories())
def test_score(wide_model: XLSTMForecaster, X) -> None:
    copy = X.copy(deep=True)
    kind, out = outcome("score", lambda: wide_model.score(X))
    frame_unchanged(X, copy)
    if kind == "ok":
        assert isinstance(out, float) and not np.isnan(out) and out <= 0


@st.composite
def futures(draw) -> pd.DataFrame | None:
    n = draw(st.sampled_from([0, 1, 2, 2, 2, 3]))
    index = pd.date_range("2024-01-02 16:00", periods=n, freq="h")
    kind = draw(
        st.sampled_from(
            ["ok", "ok", "ok", "shifted", "tz", "missing_col", "nan", "object", "not_frame"]
            + ["none", "dup", "extra_rows"]
        )
    )
    df = pd.DataFrame({"cal": np.arange(len(index), dtype=float)}, index=index)
    if kind == "shifted":
        df.index = df.index + pd.Timedelta(hours=5)
    elif kind == "tz":
        df.index = df.index.tz_localize("UTC")
    elif kind == "missing_col":
        df = df.rename(columns={"cal": "other"})
    elif kind == "nan" and len(df):
        df.iloc[0, 0] = np.nan
    elif kind == "object":
        df["cal"] = df["cal"].astype(str)
    elif kind == "not_frame":
        return df["cal"].to_numpy()
    elif kind == "none":
        return None
    elif kind == "dup" and len(df):
        df = pd.concat([df, df.iloc[:1]])
    elif kind == "extra_rows":
        more = pd.date_range("2023-01-01", periods=3, freq="D")
        df = pd.concat([pd.DataFrame({"cal": 1.0}, index=more), df])
    return df


@settings(CI, max_examples=50)
@given(X_future=futures())
def test_misaligned_future_covariates(covariate_model: XLSTMForecaster, X_future) -> None:
    kind, out = outcome("predict X_future", lambda: covariate_model.predict(X_future=X_future))
    if kind == "ok":
        assert np.isfinite(out.to_numpy(dtype=float)).all() and out.shape == (2, 2)


# ---------------------------------------------------------------- update
@pytest.fixture(scope="module")
def stateful_model() -> XLSTMStatefulForecaster:
    return XLSTMStatefulForecaster(horizon=2, segment_length=8, **TINY).fit(_train_frame())


@st.composite
def new_steps(draw) -> pd.DataFrame:
    offset = draw(st.sampled_from([0, 0, 0, 0, 0, 1, -1, -5, 3]))  # 0: right after the end
    n = draw(st.one_of(st.integers(0, 6), st.integers(1, 6)))
    freq = draw(st.sampled_from(["h", "h", "h", "30min"]))
    start = pd.Timestamp("2024-01-02 16:00") + offset * pd.Timedelta(hours=1)
    df = pd.DataFrame(
        {"a": _values(draw, n), "b": _values(draw, n)},
        index=pd.date_range(start, periods=n, freq=freq),
    )
    if n:
        df = _mutate(draw, df.reset_index(names="__t"), ["a", "b"], "__t").set_index("__t")
        df.index.name = None
    columns = draw(st.sampled_from([["a", "b"], ["a", "b"], ["a"], ["a", "b", "new"]]))
    if "new" in columns:
        df["new"] = np.arange(len(df), dtype=float)
    return df[[c for c in columns if c in df.columns]]


@settings(CI, max_examples=100)
@given(X_new=new_steps())
def test_update(stateful_model: XLSTMStatefulForecaster, X_new) -> None:
    before = stateful_model.predict()
    steps = stateful_model.n_steps_
    model = XLSTMStatefulForecaster(**stateful_model.get_params())
    model.fitted_ = stateful_model.fitted_
    kind, out = outcome("update", lambda: model.update(X_new))
    if kind == "error":  # the model is left as it was
        assert model.n_steps_ == steps
        pd.testing.assert_frame_equal(model.predict(), before)
    else:
        forecast = model.predict()
        assert np.isfinite(forecast.to_numpy(dtype=float)).all()
        assert forecast.index[0] > stateful_model.panel_.last_times[0]
    pd.testing.assert_frame_equal(stateful_model.predict(), before)


# ---------------------------------------------------------------- command line
@st.composite
def csv_texts(draw) -> str:
    kind = draw(
        st.sampled_from(
            ["valid", "valid", "valid", "mutated", "mutated", "empty", "header", "garbage"]
            + ["bad_dates", "long", "long"]
        )
    )
    if kind == "empty":
        return ""
    if kind == "header":
        return "time,load\n"
    if kind == "garbage":
        return draw(st.text(min_size=1, max_size=60))
    n = draw(st.one_of(st.integers(3, 30), st.integers(12, 30)))
    t = np.arange(n)
    df = pd.DataFrame(
        {"time": pd.date_range("2024-01-01", periods=n, freq="h"), "load": np.sin(t / 3)}
    )
    if kind == "bad_dates":
        df["time"] = ["not a date"] * n
    elif kind == "mutated":
        df = _mutate(draw, df, ["load"], "time")
    elif kind == "long":
        df.insert(0, "unique_id", draw(st.sampled_from(["a", "é"])))
    return df.to_csv(index=False)


@settings(CI, max_examples=60)
@given(
    text=csv_texts(),
    extra=st.sampled_from([[], [], ["--target", "nope"], ["--allow-missing"], ["--seed", "x"]]),
)
def test_cli_forecast(tmp_path_factory, capsys, text: str, extra: list[str]) -> None:
    path = tmp_path_factory.mktemp("cli") / "in.csv"
    path.write_text(text, encoding="utf-8")
    args = ["forecast", str(path), "--horizon", "2", "--context-length", "4", "--epochs", "1"]
    args += ["--d-model", "8", "--num-blocks", "1", *extra]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main(args)
    except SystemExit as exit:  # argparse
        code = exit.code
    out, err = capsys.readouterr()
    _count("cli", "ok" if code == 0 else "error")
    assert code in (0, 2), err
    if code == 2:
        assert "error:" in err and "Traceback" not in err
    else:
        lines = out.strip().splitlines()
        assert len(lines) >= 3 and "nan" not in out.lower()
