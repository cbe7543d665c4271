"""Static covariates (one value per series) and calendar features built from the
timestamps: their columns, their checks, and that the model's forecast answers to them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlstm_ts import XLSTMForecaster
from xlstm_ts.data import Panel
from xlstm_ts.data.calendar import calendar_names, calendar_values, holiday_dates
from xlstm_ts.data.static import StaticEncoding, static_table

FAST = dict(d_model=16, num_blocks=1, num_heads=2, max_epochs=1, random_state=0)


def trend_panel(n_series: int = 8, n: int = 160, seed: int = 0) -> pd.DataFrame:
    """Noisy series whose category decides their trend: ``up`` rises 0.1 per step,
    ``down`` falls as fast; the noise hides most of it within one context."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_series):
        kind = "up" if k % 2 else "down"
        slope = 0.1 if kind == "up" else -0.1
        y = 50 + slope * np.arange(n) + 2.0 * rng.normal(size=n)
        rows.append(pd.DataFrame({
            "unique_id": f"s{k}", "ds": pd.date_range("2023-01-01", periods=n, freq="D"),
            "y": y, "kind": kind, "size": float(k % 3),
        }))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


# ------------------------------------------------------------------ calendar columns
def test_calendar_columns_are_indicators_of_the_timestamps_values():
    times = pd.date_range("2024-02-26 22:00", periods=5, freq="h")  # a Monday night
    names = calendar_names(["hour", "dayofweek", "month"], holidays=True)
    values = calendar_values(times, ["hour", "dayofweek", "month"], holiday_dates(["2024-02-27"]))
    assert values.shape == (5, 24 + 7 + 12 + 1) and len(names) == values.shape[1]
    frame = pd.DataFrame(values, columns=names)
    assert frame["hour=22"].tolist() == [1, 0, 0, 0, 0]
    assert frame["hour=2"].tolist() == [0, 0, 0, 0, 1]
    assert frame.filter(like="hour=").sum(axis=1).tolist() == [1] * 5  # one hour each
    assert frame["dayofweek=0"].tolist() == [1, 1, 0, 0, 0]  # Monday, then Tuesday
    assert frame["dayofweek=1"].tolist() == [0, 0, 1, 1, 1]
    assert frame["month=2"].tolist() == [1] * 5
    assert frame["holiday"].tolist() == [0, 0, 1, 1, 1]  # every hour of the listed day


def test_day_of_year_is_on_the_unit_circle_and_holidays_ignore_time_zones():
    times = pd.date_range("2024-01-01", periods=3, freq="D", tz="Europe/Berlin")
    values = calendar_values(times, ["dayofyear"], holiday_dates([pd.Timestamp("2024-01-02")]))
    assert values[0, :2] == pytest.approx([0.0, 1.0])
    assert np.hypot(values[:, 0], values[:, 1]) == pytest.approx(np.ones(3))
    assert values[:, 2].tolist() == [0, 1, 0]


def test_calendar_features_need_datetimes_and_known_names():
    with pytest.raises(TypeError, match="integer time index"):
        calendar_values(pd.Index([1, 2, 3]), ["month"], None)
    with pytest.raises(ValueError, match=r"\['weekday'\] are not known; choose among"):
        XLSTMForecaster(calendar_features=["weekday"]).fit(trend_panel())
    with pytest.raises(ValueError, match="holidays: 'soon' is not a date"):
        XLSTMForecaster(holidays=["soon"]).fit(trend_panel())
    with pytest.raises(TypeError, match="integer time index"):
        XLSTMForecaster(horizon=4, context_length=8, calendar_features=["month"], **FAST).fit(
            Panel.from_arrays([np.arange(40.0)])
        )


# ------------------------------------------------------------------ static columns
def test_static_table_takes_one_value_per_series_and_names_what_is_wrong():
    df = trend_panel(n_series=3, n=5)
    table = static_table(df, "unique_id", ["kind", "size"])
    assert table.index.tolist() == ["s0", "s1", "s2"]
    assert table["kind"].tolist() == ["down", "up", "down"]
    changing = df.copy()
    changing.loc[2, "kind"] = "up"  # s0 changes from "down" to "up" on its third row
    with pytest.raises(ValueError, match="'kind' changes within series 's0'"):
        static_table(changing, "unique_id", ["kind"])
    missing = df.copy()
    missing.loc[6, "size"] = np.nan
    with pytest.raises(ValueError, match="'size' is missing for series 's1' \\(row 6\\)"):
        static_table(missing, "unique_id", ["size"])
    with pytest.raises(ValueError, match=r"column\(s\) \['shop'\] not found"):
        static_table(df, "unique_id", ["shop"])


def test_categories_become_indicators_and_unseen_ones_read_as_none():
    table = pd.DataFrame({"kind": ["a", "b", "a"], "size": [1.0, 2.0, 3.0]}, index=[0, 1, 2])
    encoding = StaticEncoding.learn(table)
    assert encoding.names == ["kind=a", "kind=b", "size"]
    assert encoding.values(table).tolist() == [[1, 0, 1], [0, 1, 2], [1, 0, 3]]
    new = pd.DataFrame({"kind": ["c"], "size": [4.0]})
    assert encoding.values(new).tolist() == [[0, 0, 4]]
    assert StaticEncoding.from_dict(encoding.to_dict()) == encoding
    with pytest.raises(TypeError, match="'size' was numeric in fit"):
        encoding.values(pd.DataFrame({"kind": ["a"], "size": ["big"]}))


def test_static_covariates_are_refused_outside_a_long_frame_and_in_two_roles():
    wide = pd.DataFrame({"a": np.arange(40.0)}, index=pd.date_range("2024", periods=40))
    with pytest.raises(ValueError, match="static_covariates \\['kind'\\] are read from a long"):
        XLSTMForecaster(horizon=4, context_length=8, static_covariates=["kind"], **FAST).fit(wide)
    with pytest.raises(ValueError, match="'kind' is in both past_covariates and static"):
        XLSTMForecaster(past_covariates=["kind"], static_covariates=["kind"]).fit(trend_panel())


# ------------------------------------------------------------------ the forecast answers
def category_response(model: XLSTMForecaster, df: pd.DataFrame) -> np.ndarray:
    """Forecast of each ``down`` series when its category reads ``up``, minus its own."""
    swapped = df.assign(kind="up")
    down = model.predict(df).set_index("unique_id")
    up = model.predict(swapped).set_index("unique_id")
    ids = df.loc[df.kind == "down", "unique_id"].unique()
    return (up.loc[ids, "y"] - down.loc[ids, "y"]).to_numpy()


@pytest.mark.parametrize("linear_path", ["ridge", "none"])
def test_the_category_that_decides_the_trend_moves_the_forecast(linear_path):
    df = trend_panel()
    model = XLSTMForecaster(
        horizon=8, context_length=32, patch_len=8, static_covariates=["kind", "size"],
        linear_path=linear_path, **{**FAST, "max_epochs": 4},
    ).fit(df)  # fmt: skip
    response = category_response(model, df)
    # an "up" series ends 0.2 per step of distance above a "down" one with the same context:
    # 0.2 · (16 + 1 … 16 + 8) from the middle of the context; half of it at least
    truth = 0.2 * (16 + np.arange(1, 9))
    assert response.mean() > 0.5 * truth.mean()
    plain = XLSTMForecaster(horizon=8, context_length=32, patch_len=8, linear_path=linear_path,
                            **FAST).fit(df)  # fmt: skip
    assert np.abs(category_response(plain, df)).max() == 0.0  # nothing reads the column


def test_static_and_calendar_columns_survive_save_and_load(tmp_path):
    df = trend_panel(n_series=4, n=80)
    model = XLSTMForecaster(
        horizon=7, context_length=14, patch_len=7, static_covariates=["kind", "size"],
        calendar_features=["dayofweek", "month"], holidays=["2023-03-01"], **FAST,
    ).fit(df)  # fmt: skip
    assert model.fitted_.network_config["n_future"] == 2 + 1 + 7 + 12 + 1
    model.save(tmp_path / "m")
    loaded = XLSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict(df), model.predict(df))
    with pytest.raises(ValueError, match="predict\\(X, X_future"):
        model.predict_contexts(np.zeros((1, 14)))


def holiday_panel(n_series: int = 4, n: int = 730, seed: int = 0):
    """Daily series at 100 with noise, at 40 % on 40 random holidays a year."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2022-01-01", periods=n + 14, freq="D")
    holidays = pd.DatetimeIndex(rng.choice(times, size=80, replace=False)).sort_values()
    rows = []
    for k in range(n_series):
        y = 100 + 5 * rng.normal(size=len(times))
        y[times.isin(holidays)] *= 0.4
        rows.append(pd.DataFrame({"unique_id": k, "ds": times, "y": y}))
    return pd.concat(rows, ignore_index=True), holidays


def test_a_listed_holiday_lowers_the_forecast_of_its_day():
    full, holidays = holiday_panel()
    end = full.ds.max() - pd.Timedelta(days=14)
    day = end + pd.Timedelta(days=3)  # a holiday three days after the series end
    holidays = holidays[holidays <= end].union([day])
    train = full[full.ds <= end]
    model = XLSTMForecaster(horizon=7, context_length=28, patch_len=7, holidays=holidays,
                            linear_path="ridge", **FAST).fit(train)  # fmt: skip
    forecast = model.predict().groupby("ds").y.mean()  # over the series
    others = forecast.drop(day)
    assert forecast[day] < others.mean() - 0.5 * 60  # the truth: 60 below
    plain = XLSTMForecaster(horizon=7, context_length=28, patch_len=7, linear_path="ridge",
                            **FAST).fit(train)  # fmt: skip
    flat = plain.predict().groupby("ds").y.mean()
    assert flat[day] > flat.drop(day).mean() - 10  # without the list nothing marks the day


def test_generated_columns_carry_a_forecast_beyond_the_horizon():
    full, holidays = holiday_panel()
    end = full.ds.max() - pd.Timedelta(days=14)
    day = end + pd.Timedelta(days=10)  # in the second horizon of the forecast
    holidays = holidays[holidays <= end].union([day])
    train = full[full.ds <= end].assign(kind="a")
    model = XLSTMForecaster(horizon=7, context_length=28, patch_len=7, holidays=holidays,
                            static_covariates=["kind"], linear_path="ridge",
                            **FAST).fit(train)  # fmt: skip
    long = model.predict(h=14)
    assert long.groupby("unique_id").size().tolist() == [14] * 4
    assert long.ds.max() == end + pd.Timedelta(days=14)
    first = long[long.ds <= end + pd.Timedelta(days=7)].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, model.predict())  # the first horizon as before
    forecast = long.groupby("ds").y.mean()
    assert forecast[day] < forecast.drop(day).mean() - 0.5 * 60  # the truth: 60 below


def test_future_covariates_given_for_the_horizon_stop_the_forecast_there():
    df = trend_panel(n_series=2, n=60).assign(flag=0.0)
    model = XLSTMForecaster(horizon=4, context_length=8, patch_len=4,
                            future_covariates=["flag"], **FAST).fit(df)  # fmt: skip
    ends = df.groupby("unique_id").ds.max()
    X_future = pd.DataFrame([
        {"unique_id": k, "ds": ends[k] + pd.Timedelta(days=j), "flag": 0.0}
        for k in ends.index for j in range(1, 9)
    ])  # fmt: skip
    with pytest.raises(ValueError, match="h=8 exceeds horizon=4"):
        model.predict(h=8, X_future=X_future)


def test_channel_mixing_with_calendar_columns_stops_at_the_horizon():
    times = pd.date_range("2024-01-01", periods=120, freq="h")
    df = pd.DataFrame({"a": np.sin(np.arange(120) / 5), "b": np.cos(np.arange(120) / 5)},
                      index=times)  # fmt: skip
    model = XLSTMForecaster(horizon=6, context_length=12, patch_len=6, channel_mixing=True,
                            calendar_features=["hour"], **FAST).fit(df)  # fmt: skip
    assert model.predict(h=6).shape == (6, 2)
    with pytest.raises(ValueError, match="h=12 exceeds horizon=6: with channel_mixing"):
        model.predict(h=12)
