"""The forecast frame (one layout for predict, predict_quantiles and the command line)
and the CSV reader every command uses."""

import numpy as np
import pandas as pd
import pytest

from xlstm_ts.data import (
    FLAG_NAMES,
    Panel,
    forecast_columns,
    forecast_to_long,
    forecasts_to_frame,
    frame_to_forecasts,
    read_table,
)


def _panel(layout: str) -> Panel:
    last = pd.Timestamp("2024-01-01 23:00")
    values = [np.zeros(24), np.ones(24)]
    if layout == "long":
        return Panel(values, ["s0", "s1"], [last, last], "h", "long", "sales")
    return Panel(values, ["a", "b"], [last, last], "h", "wide", "y", "time")


def _forecasts(h: int = 3) -> np.ndarray:
    """(2 series, h steps, point + 3 levels): series k, step t, column j -> 100k + 10t + j."""
    k, t, j = np.meshgrid(np.arange(2), np.arange(h), np.arange(4), indexing="ij")
    return (100 * k + 10 * t + j).astype(float)


def test_long_frame_has_id_time_point_and_every_quantile():
    panel = _panel("long")
    columns = forecast_columns("sales", [0.1, 0.5, 0.9])
    frame = forecasts_to_frame(panel, _forecasts(), columns, id_col="store", time_col="day")
    assert list(frame.columns) == ["store", "day", "sales", "q0.1", "q0.5", "q0.9"]
    assert list(frame["store"]) == ["s0"] * 3 + ["s1"] * 3
    assert frame["day"].iloc[0] == pd.Timestamp("2024-01-02 00:00")
    assert frame.loc[4, "q0.5"] == 100 + 10 + 2  # series 1, step 1, column 2
    point, levels, quantiles = frame_to_forecasts(frame, panel, id_col="store", time_col="day")
    np.testing.assert_array_equal(point, _forecasts()[..., 0])
    np.testing.assert_array_equal(quantiles, _forecasts()[..., 1:])
    assert levels == [0.1, 0.5, 0.9]


def test_wide_frame_has_the_point_named_as_the_series_then_its_quantiles():
    panel = _panel("wide")
    columns = forecast_columns(panel.target, [0.1, 0.5, 0.9])
    frame = forecasts_to_frame(panel, _forecasts(), columns, id_col="unique_id", time_col="ds")
    assert list(frame.columns) == ["a", "a_q0.1", "a_q0.5", "a_q0.9", "b", "b_q0.1", "b_q0.5",
                                   "b_q0.9"]  # fmt: skip
    assert not isinstance(frame.columns, pd.MultiIndex)
    assert frame.index.name == "time" and frame.index[0] == pd.Timestamp("2024-01-02 00:00")
    assert frame["b_q0.9"].iloc[2] == 100 + 20 + 3
    point, levels, quantiles = frame_to_forecasts(frame, panel, id_col="x", time_col="y")
    np.testing.assert_array_equal(point, _forecasts()[..., 0])
    np.testing.assert_array_equal(quantiles, _forecasts()[..., 1:])
    # point forecasts alone (predict): one column per series
    alone = forecasts_to_frame(panel, _forecasts()[..., :1], ["y"], id_col="i", time_col="t")
    assert list(alone.columns) == ["a", "b"]


def test_long_rows_of_a_wide_frame_leave_the_point_out():
    panel = _panel("wide")
    columns = forecast_columns("y", [0.1, 0.9])
    frame = forecasts_to_frame(panel, _forecasts()[..., :3], columns, id_col="i", time_col="t")
    long = forecast_to_long(frame, id_col="unique_id", time_col="ds", point="y")
    assert list(long.columns) == ["unique_id", "ds", "q0.1", "q0.9"]
    assert list(long["unique_id"]) == ["a"] * 3 + ["b"] * 3
    np.testing.assert_array_equal(long["q0.9"], _forecasts()[..., 2].ravel())
    # predict's frame (no quantile columns): its point is the median
    alone = forecasts_to_frame(panel, _forecasts()[..., :1], ["y"], id_col="i", time_col="t")
    assert list(forecast_to_long(alone, id_col="i", time_col="t", point="y").columns) == [
        "i",
        "t",
        "q0.5",
    ]


def test_a_series_named_like_a_quantile_column_is_refused():
    last = pd.Timestamp("2024-01-01")
    panel = Panel([np.zeros(3)] * 2, ["a", "a_q0.5"], [last] * 2, "D", "wide", "y")
    with pytest.raises(ValueError, match="two columns named 'a_q0.5'"):
        forecasts_to_frame(panel, np.zeros((2, 1, 2)), ["y", "q0.5"], id_col="i", time_col="t")


# ---------------------------------------------------------------------------- the reader


def test_the_reader_finds_id_time_and_target_by_name_wherever_they_stand(tmp_path):
    frame = pd.DataFrame(
        {"y": [1.0, 2.0], "unique_id": ["s", "s"], "ds": ["2024-01-01", "2024-01-02"]}
    )
    frame.to_csv(tmp_path / "long.csv", index=False)
    table = read_table(tmp_path / "long.csv")
    assert table.columns == {"id_col": "unique_id", "time_col": "ds", "target": "y"}
    # a wide file: the first column is the time, every other one a series
    wide = pd.DataFrame({"when": [0, 1, 2], "a": [1.0, 2, 3], "b": [4.0, 5, 6]})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    table = read_table(tmp_path / "wide.csv")
    assert table.id_col is None and table.time_col == "when" and table.target == ["a", "b"]
    assert table.frame.index.name == "when" and list(table.frame.columns) == ["a", "b"]


def test_reader_messages_use_the_callers_words(tmp_path):
    frame = pd.DataFrame({"unique_id": ["s"] * 3, "ds": [1, 2, 3], "y": ["1", "x", "3"]})
    frame.to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(ValueError, match=r"row 2 \(line 3\) holds 'x'; .* with target="):
        read_table(tmp_path / "f.csv")
    with pytest.raises(ValueError, match=r"row 2 \(line 3\) holds 'x'; .* with --target"):
        read_table(tmp_path / "f.csv", names=FLAG_NAMES)
    with pytest.raises(ValueError, match="no id column 'store' .* with --id-col"):
        read_table(tmp_path / "f.csv", id_col="store", names=FLAG_NAMES)
