"""The command-line interface."""

import numpy as np
import pandas as pd

from xlstm_ts.cli import main


def test_forecast_writes_median_and_quantiles_for_a_wide_csv(tmp_path, capsys):
    t = np.arange(300)
    df = pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=300, freq="h"),
            "load": np.sin(t / 4) + 0.1 * t / 300,
            "other": np.cos(t / 5),
        }
    )
    df.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.csv"
    code = main(
        [
            "forecast",
            str(tmp_path / "in.csv"),
            "--target",
            "load",
            "--horizon",
            "12",
            "--epochs",
            "1",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    result = pd.read_csv(out, parse_dates=["time"])
    assert list(result.columns) == ["time", "load", "load_q0.1", "load_q0.9"]
    assert result["time"].iloc[0] == pd.Timestamp("2024-01-13 12:00")
    assert len(result) == 12 and np.isfinite(result[["load"]].to_numpy()).all()
    assert (result["load_q0.1"] <= result["load"]).all()
    assert (result["load"] <= result["load_q0.9"]).all()


def test_forecast_long_csv(tmp_path):
    t = np.arange(200)
    frames = [
        pd.DataFrame(
            {
                "id": k,
                "day": pd.date_range("2020-01-01", periods=200, freq="D"),
                "sales": np.sin(t / 7 + len(k)),
            }
        )
        for k in ("a", "b")
    ]
    pd.concat(frames).to_csv(tmp_path / "long.csv", index=False)
    out = tmp_path / "f.csv"
    main(
        [
            "forecast",
            str(tmp_path / "long.csv"),
            "--target",
            "sales",
            "--id-col",
            "id",
            "--time-col",
            "day",
            "--horizon",
            "7",
            "--epochs",
            "1",
            "--output",
            str(out),
        ]
    )
    result = pd.read_csv(out)
    assert list(result.columns) == ["id", "day", "sales", "q0.1", "q0.9"]
    assert sorted(result["id"].unique()) == ["a", "b"] and len(result) == 14


def test_demo_reports_both_errors_and_writes_a_plot(tmp_path, capsys):
    plot = tmp_path / "demo.png"
    assert main(["demo", "--epochs", "1", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "xLSTM (median)" in out and "seasonal naive (12)" in out
    assert "s per epoch" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
