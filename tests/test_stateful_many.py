"""XLSTMStatefulForecaster streaming many series: one frame conversion per update, batch
updates equal to series-by-series ones, arrays, errors that name the series, and the
forecast frame built from whole arrays."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

import xlstm_ts.stateful.frames as frames_module
import xlstm_ts.stateful.update as update_module
from xlstm_ts import XLSTMStatefulForecaster
from xlstm_ts.data import Panel, forecasts_to_frame
from xlstm_ts.stateful.carried import cat_states, flatten_state, split_state
from xlstm_ts.stateful.frames import forecast_frame
from xlstm_ts.stateful.times import Clock

TINY = dict(
    horizon=5, patch_len=4, segment_length=16, d_model=8, num_blocks=2, slstm_at=(1,),
    num_heads=2, max_epochs=1, batch_size=16, validation_size=0, random_state=0,
    trainer_kwargs={"enable_progress_bar": False, "enable_model_summary": False},
)  # fmt: skip
N_SERIES, N_FIT, N_ALL = 12, 40, 70


def values(n_series: int = N_SERIES, n: int = N_ALL) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(n)
    phase = rng.uniform(0, 6, (n_series, 1))
    level = rng.uniform(-5, 5, (n_series, 1))
    return np.sin(t / 3.0 + phase) + level + 0.1 * rng.normal(size=(n_series, n))


IDS = [f"s{k}" for k in range(N_SERIES)]
TIMES = pd.date_range("2024-01-01", periods=N_ALL, freq="h")


def long_rows(v: np.ndarray, a: int, b: int, ids=IDS, times=TIMES) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {"unique_id": np.repeat(ids, b - a), "ds": np.tile(times[a:b], n), "y": v[:, a:b].ravel()}
    )


@pytest.fixture(scope="module")
def v() -> np.ndarray:
    return values()


@pytest.fixture(scope="module")
def fitted_long(v) -> XLSTMStatefulForecaster:
    return XLSTMStatefulForecaster(**TINY).fit(long_rows(v, 0, N_FIT))


@pytest.fixture(scope="module")
def fitted_wide(v) -> XLSTMStatefulForecaster:
    wide = pd.DataFrame(v[:, :N_FIT].T, index=TIMES[:N_FIT], columns=IDS)
    return XLSTMStatefulForecaster(**TINY).fit(wide)


def copy_of(model: XLSTMStatefulForecaster) -> XLSTMStatefulForecaster:
    out = clone(model)
    out.fitted_ = model.fitted_
    return out


def assert_same_states(a: XLSTMStatefulForecaster, b: XLSTMStatefulForecaster) -> None:
    sa, sb = a.fitted_, b.fitted_
    assert a.n_steps_ == b.n_steps_
    assert sa.panel.ids == sb.panel.ids
    assert sa.panel.last_times == sb.panel.last_times
    for ra, rb in zip(sa.panel.values, sb.panel.values, strict=True):
        np.testing.assert_array_equal(ra, rb)
    for xa, xb in zip(sa.states, sb.states, strict=True):
        la, lb = flatten_state(xa)[0], flatten_state(xb)[0]
        assert len(la) == len(lb)
        for ta, tb in zip(la, lb, strict=True):
            torch.testing.assert_close(ta, tb, rtol=1e-5, atol=1e-6)


class Counting:
    """A function that counts its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


@pytest.fixture
def counted(monkeypatch):
    """The per-series conversion and checks of update, and the per-series frame."""
    counters = {
        "frame_to_panel": Counting(update_module.frame_to_panel),
        "future_index": Counting(update_module.future_index),
        "forecasts_to_frame": Counting(frames_module.forecasts_to_frame),
    }
    monkeypatch.setattr(update_module, "frame_to_panel", counters["frame_to_panel"])
    monkeypatch.setattr(update_module, "future_index", counters["future_index"])
    monkeypatch.setattr(frames_module, "forecasts_to_frame", counters["forecasts_to_frame"])
    return counters


# ---------------------------------------------------------------- one conversion per update


def test_a_many_series_update_converts_the_frame_once(fitted_long, v, counted):
    model = copy_of(fitted_long)
    for j in range(N_FIT, N_FIT + 6):  # six steps: one completes a patch of every series
        model.update(long_rows(v, j, j + 1))
        model.predict()
    assert model.n_steps_ == [N_FIT + 6] * N_SERIES
    # no per-series reading, check or frame: the rows were converted as one array
    assert {k: c.calls for k, c in counted.items()} == {
        "frame_to_panel": 0,
        "future_index": 0,
        "forecasts_to_frame": 0,
    }


def test_new_series_alone_are_read_series_by_series(fitted_long, v, counted):
    model = copy_of(fitted_long)
    new = pd.DataFrame({"unique_id": "new", "ds": TIMES[:30], "y": np.cos(np.arange(30))})
    model.update(pd.concat([long_rows(v, N_FIT, N_FIT + 3), new]))
    assert counted["frame_to_panel"].calls == 1  # the new series' rows only
    assert model.panel_.ids == [*IDS, "new"]
    assert model.n_steps_ == [N_FIT + 3] * N_SERIES + [30]
    full = pd.concat([long_rows(v, 0, N_FIT + 3), new])
    np.testing.assert_allclose(model.predict()["y"], model.predict(full)["y"], rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- the same as series by series


def test_batch_update_equals_series_by_series_and_the_whole_history(fitted_long, v):
    rng = np.random.default_rng(1)
    batch, single = copy_of(fitted_long), copy_of(fitted_long)
    seen = [N_FIT] * N_SERIES
    for _ in range(4):
        # each series gets 0 to 6 rows (some complete a patch, some not), rows shuffled
        counts = rng.integers(0, 7, N_SERIES)
        parts = [
            pd.DataFrame(
                {
                    "unique_id": s,
                    "ds": TIMES[seen[k] : seen[k] + c],
                    "y": v[k, seen[k] : seen[k] + c],
                }
            )
            for k, (s, c) in enumerate(zip(IDS, counts, strict=True))
        ]
        rows = pd.concat(parts).sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
        batch.update(rows)
        for k, part in enumerate(parts):
            if len(part):  # the per-series path: a Panel of one series
                single.update(
                    Panel([part["y"].to_numpy()], [IDS[k]], [part["ds"].iloc[-1]], "h", "long", "y")
                )
            seen[k] += counts[k]
    assert batch.n_steps_ == seen
    assert_same_states(batch, single)
    pd.testing.assert_frame_equal(batch.predict_quantiles(h=8), single.predict_quantiles(h=8))
    history = pd.concat(
        [pd.DataFrame({"unique_id": s, "ds": TIMES[: seen[k]], "y": v[k, : seen[k]]})
         for k, s in enumerate(IDS)]
    )  # fmt: skip
    np.testing.assert_allclose(
        batch.predict(h=8)["y"], batch.predict(history, h=8)["y"], rtol=1e-4, atol=1e-4
    )


def test_an_array_equals_the_wide_frame_and_the_long_frame(fitted_wide, fitted_long, v):
    by_array, by_frame = copy_of(fitted_wide), copy_of(fitted_wide)
    by_array.update(v[:, N_FIT])  # (n_series,): one step of every series
    by_array.update(v[:, N_FIT + 1 : N_FIT + 7].T)  # (steps, n_series)
    shuffled = list(reversed(IDS))  # the columns in another order
    frame = pd.DataFrame(v[:, N_FIT : N_FIT + 7].T, index=TIMES[N_FIT : N_FIT + 7], columns=IDS)
    by_frame.update(frame[shuffled].iloc[::-1])  # and the rows too
    assert_same_states(by_array, by_frame)
    pd.testing.assert_frame_equal(by_array.predict(), by_frame.predict())
    assert by_array.panel_.last_times == [TIMES[N_FIT + 6]] * N_SERIES
    # a long model takes arrays too, in the order of its ids
    long_array, long_frame = copy_of(fitted_long), copy_of(fitted_long)
    long_array.update(v[:, N_FIT : N_FIT + 5].T)
    long_frame.update(long_rows(v, N_FIT, N_FIT + 5))
    assert_same_states(long_array, long_frame)
    pd.testing.assert_frame_equal(long_array.predict(), long_frame.predict())


def test_an_integer_time_index_and_a_longer_head_window():
    v = values(5, 80)
    model = XLSTMStatefulForecaster(**{**TINY, "window_len": 10}).fit(Panel.from_arrays(v[:, :50]))
    single = copy_of(model)
    frame = pd.DataFrame(v[:, 50:57].T, index=pd.RangeIndex(50, 57))
    model.update(frame)
    for j in range(50, 57):
        single.update(
            Panel([v[k, j : j + 1] for k in range(5)], list(range(5)), [j] * 5, 1, "wide", "y")
        )
    assert_same_states(model, single)
    assert model.panel_.values[0].tolist() == v[0, 47:57].tolist()
    np.testing.assert_allclose(
        model.predict(), model.predict(Panel.from_arrays(v[:, :57])), rtol=1e-4, atol=1e-4
    )


# ---------------------------------------------------------------- errors name what is wrong


@pytest.mark.parametrize(
    "edit,match",
    [
        (lambda r: r[r.unique_id != "s7"], None),  # a subset of the series: fine
        (lambda r: r.assign(ds=r.ds.where(r.unique_id != "s7", TIMES[N_FIT + 1])),
         r"leaves a gap for series 's7'.*the next step is 2024-01-02 16:00"),
        (lambda r: r.assign(ds=r.ds.where(r.unique_id != "s3", TIMES[N_FIT - 1])),
         r"overlaps .* series 's3'"),
        (lambda r: r.assign(y=r.y.where(r.unique_id != "s5", np.inf)),
         r"series 's5' has a non-finite target value inf at 2024-01-02 16:00"),
        (lambda r: r.assign(y=r.y.where(r.unique_id != "s2", 1e40)),
         r"X_new's value 1e\+40 for series 's2' \(step 0\)"),
        (lambda r: pd.concat([r, r.iloc[[4]]]), r"series 's4' has duplicate timestamps"),
        (lambda r: r.assign(y=r.unique_id == "s1"), r"target of series 's\d+' must be numeric"),
    ],
)  # fmt: skip
def test_bad_rows_among_many_are_named(fitted_long, v, edit, match):
    model = copy_of(fitted_long)
    rows = edit(long_rows(v, N_FIT, N_FIT + 1))
    if match is None:
        model.update(rows)
        assert model.n_steps_[7] == N_FIT and model.n_steps_[6] == N_FIT + 1
        return
    with pytest.raises((ValueError, TypeError), match=match):
        model.update(rows)
    assert model.n_steps_ == [N_FIT] * N_SERIES  # left as it was
    assert model.fitted_ is fitted_long.fitted_


def test_bad_arrays_are_named(fitted_wide, v):
    model = copy_of(fitted_wide)
    with pytest.raises(
        ValueError,
        match=r"shape \(n_series,\) or \(steps, n_series\) with n_series=12.*got shape \(11,\)",
    ):
        model.update(v[:11, N_FIT])
    bad = v[:, N_FIT : N_FIT + 3].T.copy()
    bad[2, 4] = np.nan
    with pytest.raises(ValueError, match=r"X_new\[2, 4\] = nan for series 's4' is not finite"):
        model.update(bad)
    bad[2, 4] = -1e40
    with pytest.raises(ValueError, match=r"X_new\[2, 4\] = -1e\+40 for series 's4' is .* times"):
        model.update(bad)
    with pytest.raises(TypeError, match="real numbers, got dtype bool"):
        model.update(np.ones(N_SERIES, dtype=bool))
    assert model.fitted_ is fitted_wide.fitted_
    # with allow_missing, NaN is a missing value
    missing = clone(model).set_params(allow_missing=True)
    missing.fitted_ = model.fitted_
    bad[2, 4] = np.nan
    missing.update(bad)
    assert missing.n_steps_ == [N_FIT + 3] * N_SERIES
    assert np.isnan(missing.panel_.values[4][-1])


# ---------------------------------------------------------------- pieces


@pytest.mark.parametrize(
    "freq,tz,ids",
    [
        ("h", None, ["a", "b", "c"]),
        ("15min", "UTC", [3, 1, 2]),
        ("D", "Europe/Berlin", ["a", "b", "c"]),  # across a change of daylight saving time
        ("MS", None, ["x", 7, "z"]),
        ("W-SUN", None, ["a", "b", "c"]),
        ("B", None, ["a", "b", "c"]),
        (2, None, ["a", "b", "c"]),  # integer times, step 2
    ],
)
def test_forecast_frame_equals_the_per_series_frame(freq, tz, ids):
    if isinstance(freq, int):
        last = [10, 14, 20]
    else:
        start = pd.Timestamp("2024-03-25", tz=tz)
        last = list(pd.date_range(start, periods=9, freq=freq)[[2, 5, 8]])
    forecasts = np.random.default_rng(0).normal(size=(3, 6, 2))
    for layout in ("long", "wide"):
        at = last if layout == "long" else [last[0]] * 3
        panel = Panel([np.zeros(4)] * 3, ids, at, freq, layout, "y", "when")
        kw = dict(id_col="unique_id", time_col="ds")
        fast = forecast_frame(panel, forecasts, ["y", "q0.9"], **kw)
        pd.testing.assert_frame_equal(
            fast, forecasts_to_frame(panel, forecasts, ["y", "q0.9"], **kw)
        )
    clock = Clock.of(freq, last)
    codes = clock.codes(last)
    moved = clock.shift(codes, np.array([1, 2, 3]))
    if isinstance(freq, int):
        assert moved.tolist() == [12, 18, 26]
    else:  # the offsets of pandas, across daylight saving time and month ends
        expected = [
            pd.date_range(t, periods=k + 1, freq=freq)[-1]
            for t, k in zip(last, [1, 2, 3], strict=True)
        ]
        assert clock.times(moved) == expected


def test_split_state_is_the_inverse_of_cat_states():
    torch.manual_seed(0)
    state = ([(torch.randn(3, 2, 4), (torch.randn(3, 2), None)), None], torch.randn(3, 5))
    parts = split_state(state, 3)
    assert len(parts) == 3 and isinstance(parts[0], tuple) and isinstance(parts[0][0], list)
    assert parts[1][0][1] is None and parts[2][0][0][1][1] is None
    torch.testing.assert_close(parts[1][1], state[1][1:2])
    torch.testing.assert_close(parts[2][0][0][1][0], state[0][0][1][0][2:3])
    back = cat_states(parts)
    for a, b in zip(flatten_state(back)[0], flatten_state(state)[0], strict=True):
        torch.testing.assert_close(a, b)
