"""The command-line interface."""

import io

import numpy as np
import pandas as pd
import pytest

from xlstm_ts import XLSTMForecaster
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
    assert list(result.columns) == ["time", "load", "load_q0.1", "load_q0.5", "load_q0.9"]
    np.testing.assert_allclose(result["load"], result["load_q0.5"])  # the point is the median
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
    assert list(result.columns) == ["id", "day", "sales", "q0.1", "q0.5", "q0.9"]
    assert sorted(result["id"].unique()) == ["a", "b"] and len(result) == 14


def test_demo_reports_both_errors_and_writes_a_plot(tmp_path, capsys):
    plot = tmp_path / "demo.png"
    assert main(["demo", "--epochs", "1", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "xLSTM (median)" in out and "seasonal naive (12)" in out
    assert "s per epoch" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _long_csv(path, n=160):
    t = np.arange(n)
    frames = [
        pd.DataFrame(
            {
                "unique_id": k,
                "ds": pd.date_range("2021-01-01", periods=n, freq="D"),
                "y": np.sin(t / 7 + j) * 100,
            }
        )
        for j, k in enumerate(("s0", "s1"))
    ]
    pd.concat(frames).to_csv(path, index=False)  # the id column comes first
    return path


FAST = ["--epochs", "1", "--d-model", "8", "--num-blocks", "1", "--context-length", "28"]


def test_long_csv_with_the_usual_names_anywhere_and_a_saved_model(tmp_path, capsys):
    data = _long_csv(tmp_path / "long.csv")
    saved = tmp_path / "model"
    code = main(["forecast", str(data), "--horizon", "14", *FAST, "--save", str(saved)])
    assert code == 0
    out = capsys.readouterr().out
    result = pd.read_csv(io.StringIO(out))
    assert list(result.columns) == ["unique_id", "ds", "y", "q0.1", "q0.5", "q0.9"]
    assert len(result) == 28 and result["ds"].iloc[0] == "2021-06-10"
    # tidy numbers: at most 7 significant digits (forecasts are float32)
    digits = out.splitlines()[1].split(",")[2].replace("-", "").replace(".", "").lstrip("0")
    assert len(digits) <= 7
    # forecasting from the saved model needs no training and gives the same numbers
    assert main(["forecast", str(data), "--model", str(saved)]) == 0
    again = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(again, result)
    # the command line writes the frame predict_quantiles returns in Python
    python = XLSTMForecaster.load(saved).predict_quantiles()
    assert list(python.columns) == list(result.columns)
    np.testing.assert_allclose(python[["y", "q0.1", "q0.9"]], result[["y", "q0.1", "q0.9"]], 1e-6)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--horizon", "7", "--quantiles", "0.5", "1.5"], "strictly between 0 and 1"),
        (["--horizon", "7", "--target", "sales"], "no target column 'sales'"),
        (["--horizon", "7", "--id-col", "store"], "no id column 'store'"),
    ],
)
def test_mistakes_give_one_line_and_status_2(tmp_path, capsys, argv, message):
    data = _long_csv(tmp_path / "long.csv")
    assert main(["forecast", str(data), *argv, *FAST]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_file_and_nan_advice_name_the_cli_option(tmp_path, capsys):
    assert main(["forecast", str(tmp_path / "nope.csv"), "--horizon", "7"]) == 2
    assert "no file at" in capsys.readouterr().err
    frame = pd.read_csv(_long_csv(tmp_path / "long.csv"))
    frame.loc[5, "y"] = np.nan
    frame.to_csv(tmp_path / "gap.csv", index=False)
    assert main(["forecast", str(tmp_path / "gap.csv"), "--horizon", "7", *FAST]) == 2
    assert "--allow-missing" in capsys.readouterr().err
    code = main(["forecast", str(tmp_path / "gap.csv"), "--horizon", "7", "--allow-missing", *FAST])
    assert code == 0


def test_a_bad_option_value_is_named_by_argparse(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["forecast", str(tmp_path / "x.csv"), "--horizon", "0"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "argument --horizon: expected a positive whole number" in err


def test_debug_shows_the_traceback_and_version_prints(tmp_path, capsys):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "forecast", str(tmp_path / "nope.csv"), "--horizon", "7"])
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and "xlstm-ts 0.1.0" in capsys.readouterr().out


def test_channel_mixing_from_the_command_line(tmp_path, capsys):
    data = _long_csv(tmp_path / "long.csv")
    saved = tmp_path / "model"
    args = ["forecast", str(data), "--horizon", "14", *FAST, "--channel-mixing"]
    assert main([*args, "--save", str(saved)]) == 0
    result = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(result) == 28 and result["y"].notna().all()
    assert XLSTMForecaster.load(saved).channel_mixing
