"""One example per bug that the fuzzer (tests/test_fuzz.py) and the fault tests found:
each crashed deep inside pandas or torch, changed the data silently, gave an unclear
message or a non-finite / off-scale forecast before it was fixed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlstm_ts import XLSTMForecaster
from xlstm_ts.data import frame_to_panel
from xlstm_ts.estimators import candidates
from xlstm_ts.stateful import XLSTMStatefulForecaster

TINY = dict(
    d_model=8, num_blocks=1, num_heads=2, patch_len=2, max_epochs=1, batch_size=64,
    random_state=0, validation_size=0, early_stopping_patience=None,
    trainer_kwargs={"enable_progress_bar": False},
)  # fmt: skip
WINDOW = dict(TINY, linear_path="none")  # not the subject here: no dependence on defaults
HOURS = pd.date_range("2024-01-01", periods=40, freq="h")


@pytest.fixture(autouse=True)
def one_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """One network from scratch for ``linear_path="none"``, not a seed ensemble of three."""
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)


def _wide(n: int = 40) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame({"a": np.sin(t / 3), "b": np.cos(t / 4)}, index=HOURS[:n])


def test_duplicated_column_names_are_named() -> None:
    # was: AttributeError 'DataFrame' object has no attribute 'dtype' (inside pandas)
    df = pd.DataFrame(np.ones((10, 2)), index=HOURS[:10], columns=["x", "x"])
    with pytest.raises(ValueError, match=r"duplicated column name\(s\) \['x'\]"):
        frame_to_panel(df)


def test_complex_values_are_refused_not_truncated() -> None:
    # was: the imaginary part silently dropped
    df = pd.DataFrame({"a": np.arange(10) + 1j}, index=HOURS[:10])
    with pytest.raises(TypeError, match=r"must be numeric .*, got dtype complex"):
        frame_to_panel(df)


def test_missing_timestamp_is_named() -> None:
    # was: "irregular time index: the step at NaT (NaT) differs ..."
    df = pd.DataFrame({"unique_id": 1, "ds": list(HOURS[:9]) + [pd.NaT], "y": 1.0})
    with pytest.raises(ValueError, match=r"time column 'ds' is missing \(NaT\) in 1 row"):
        frame_to_panel(df)


def test_mixed_time_zones_are_named() -> None:
    times = [t.tz_localize("UTC" if k % 2 else "Asia/Tokyo") for k, t in enumerate(HOURS[:6])]
    df = pd.DataFrame({"unique_id": 1, "ds": times, "y": 1.0})
    with pytest.raises(TypeError, match="mixes time zones"):
        frame_to_panel(df)


@pytest.mark.parametrize(
    "index, freq, message",
    [
        (pd.RangeIndex(10), "h", "integer index: freq must be its step"),  # was int('h')
        (HOURS[:10], 2, "freq must be a pandas frequency string"),  # was inside pandas
        (HOURS[:10], "every", "freq='every' is not a pandas frequency"),  # was inside pandas
    ],
)
def test_freq_that_does_not_fit_the_index(index, freq, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        frame_to_panel(pd.DataFrame({"a": np.ones(10)}, index=index), freq=freq)


def test_wide_frame_of_covariates_only_is_refused() -> None:
    # was: a panel of no series, failing later
    df = pd.DataFrame({"c": np.ones(10)}, index=HOURS[:10])
    with pytest.raises(ValueError, match="no column to forecast"):
        frame_to_panel(df, covariates=["c"])


def test_scalar_non_string_target_of_a_wide_frame() -> None:
    # was: TypeError 'int' object is not iterable
    panel = frame_to_panel(pd.DataFrame({0: np.ones(10), 1: 2.0}, index=HOURS[:10]), target=0)
    assert panel.ids == [0]


def test_unsigned_integer_times_stay_integers() -> None:
    # was: uint64 + int64 steps made the forecast's time column float64
    df = pd.DataFrame({"unique_id": "s", "ds": np.arange(30, dtype=np.uint64), "y": np.sin(
        np.arange(30.0))})  # fmt: skip
    out = XLSTMForecaster(horizon=2, context_length=4, **WINDOW).fit(df).predict()
    assert pd.api.types.is_integer_dtype(out["ds"]) and list(out["ds"]) == [30, 31]


def test_integer_times_at_the_end_of_int64_do_not_wrap() -> None:
    # was: future steps wrapped round to negative times
    top = np.iinfo(np.int64).max
    df = pd.DataFrame({"unique_id": "s", "ds": top - 3 - np.arange(30)[::-1], "y": 1.0})
    model = XLSTMForecaster(horizon=4, context_length=4, **WINDOW).fit(df)
    with pytest.raises(ValueError, match="beyond the largest int64 time"):
        model.predict()


def _covariate_model() -> XLSTMForecaster:
    df = _wide()
    df["cal"] = np.arange(40) % 24
    return XLSTMForecaster(
        horizon=2, context_length=4, future_covariates=("cal",), target=["a", "b"], **WINDOW
    ).fit(df)


def test_future_covariates_with_duplicated_rows() -> None:
    # was: RuntimeError "mat1 and mat2 shapes cannot be multiplied" inside torch
    model = _covariate_model()
    future = pd.DataFrame({"cal": [16.0, 17.0, 16.0]}, index=HOURS[-1:].shift(1, "h").append(
        HOURS[-1:].shift(2, "h")).append(HOURS[-1:].shift(1, "h")))  # fmt: skip
    with pytest.raises(ValueError, match="X_future has duplicate rows for series 'a'"):
        model.predict(X_future=future)


def test_future_covariates_in_another_time_zone() -> None:
    model = _covariate_model()
    index = pd.date_range(HOURS[-1], periods=3, freq="h")[1:].tz_localize("UTC")
    with pytest.raises(ValueError, match="X_future's times .* in time zone UTC"):
        model.predict(X_future=pd.DataFrame({"cal": [1.0, 2.0]}, index=index))


def _stateful() -> XLSTMStatefulForecaster:
    return XLSTMStatefulForecaster(horizon=2, segment_length=8, **TINY).fit(_wide())


def test_update_in_another_time_zone() -> None:
    # was: TypeError "Cannot compare tz-naive and tz-aware timestamps" inside pandas
    model = _stateful()
    index = pd.date_range("2024-01-02 16:00", periods=2, freq="h", tz="Asia/Tokyo")
    with pytest.raises(ValueError, match="zone-naive"):
        model.update(pd.DataFrame({"a": [0.0, 0.1], "b": [0.0, 0.1]}, index=index))


def test_update_far_beyond_the_fixed_normalisation() -> None:
    # was: an infinite forecast (the new value overflowed float32 once normalised)
    model = _stateful()
    before = model.predict()
    index = pd.date_range("2024-01-02 16:00", periods=1, freq="h")
    with pytest.raises(ValueError, match="too far for the network"):
        model.update(pd.DataFrame({"a": [8e299], "b": [0.0]}, index=index))
    pd.testing.assert_frame_equal(model.predict(), before)  # left as it was


@pytest.mark.parametrize(
    "quantiles, message",
    [(["a"], "quantiles must hold numbers"), (0.5, "sequence of levels"), ([], "is empty")],
)
def test_predict_quantiles_names_a_bad_quantiles_argument(quantiles, message: str) -> None:
    # was: "could not convert string to float: 'a'" / "'float' object is not iterable"
    model = XLSTMForecaster(horizon=2, context_length=4, **WINDOW).fit(_wide())
    with pytest.raises((TypeError, ValueError), match=message):
        model.predict_quantiles(quantiles=quantiles)


@pytest.mark.parametrize("scale", [1e-9, 1e200])
def test_window_forecaster_on_extreme_scales(scale: float) -> None:
    # was: 1e-9 forecast on the scale of the normalisation's eps (1e-3, a million times
    # too large); 1e200 overflowed float32 and ended in a NaN loss
    t = np.arange(60)
    df = pd.DataFrame({"s": scale * (2 + np.sin(t / 3))})
    out = XLSTMForecaster(horizon=2, context_length=8, **WINDOW).fit(df).predict()["s"]
    assert np.isfinite(out).all() and (out.abs() < 10 * scale).all() and (out > 0).all()


@pytest.mark.parametrize("level", [0.0, 5.0])
def test_ridge_start_on_a_constant_series(level: float) -> None:
    # was: numpy LinAlgError "Singular matrix" (all normalised features are zero)
    df = pd.DataFrame({"s": np.full(60, level)})
    model = XLSTMForecaster(horizon=2, context_length=8, **{**WINDOW, "linear_path": "ridge"})
    out = model.fit(df).predict()["s"]
    np.testing.assert_allclose(out, level, atol=1e-3 * max(1.0, level))


@pytest.mark.parametrize("params", [{"d_model": 10**12}, {"patch_len": 10**12}])
def test_absurd_network_sizes_are_refused_before_allocation(params: dict) -> None:
    # was: RuntimeError from torch's allocator ("can't allocate memory")
    model = XLSTMForecaster(horizon=2, context_length=4, **{**WINDOW, **params})
    with pytest.raises(ValueError, match="would make a network of more than"):
        model.fit(_wide())
