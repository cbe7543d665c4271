"""What the commands read: one reader for every command, every input checked before
training, messages in the command line's words, ``--param`` and a clean ``--help``."""

import re

import numpy as np
import pandas as pd
import pytest

from xlstm_ts import XLSTMForecaster
from xlstm_ts.cli import COMMANDS, _parser, main

TINY = ["--epochs", "1", "--d-model", "8", "--num-blocks", "1", "--context-length", "14"]
PYTHON_WORDS = ("id_col=", "time_col=", "target=", "X_future", "allow_missing=")


def _long_csv(path, n=90, promo=True):
    """Two stores, the id column first (as a database export writes it)."""
    t = np.arange(n)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"store_0{j}",
                "ds": pd.date_range("2021-01-01", periods=n, freq="D"),
                "y": 20 + 10 * np.sin(t / 7 + j),
                **({"promo": (t % 10 == 0).astype(int)} if promo else {}),
            }
        )
        for j in range(2)
    ]
    pd.concat(frames).to_csv(path, index=False)
    return path


def _future_csv(path, steps=7, drop_last=False):
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"store_0{j}",
                "ds": pd.date_range("2021-04-01", periods=steps, freq="D"),
                "promo": 0,
            }
        )
        for j in range(2)
    ]
    future = pd.concat(frames)
    (future.iloc[:-1] if drop_last else future).to_csv(path, index=False)
    return path


class Trained(Exception):
    """Raised in place of training: what is checked must be checked before it."""


@pytest.fixture
def no_training(monkeypatch):
    """``fit`` raises :class:`Trained` after recording the estimator's parameters."""
    seen = {}

    def fit(self, X, y=None, **kwargs):
        seen.update(self.get_params())
        raise Trained

    monkeypatch.setattr(XLSTMForecaster, "fit", fit)
    return seen


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not [w for w in PYTHON_WORDS if w in err], err  # the command line's words
    return err


# ---------------------------------------------------------------------------- one reader


def test_tune_and_forecast_find_the_columns_of_a_long_file_alike(tmp_path, no_training):
    # the id column comes first: tune once took it for the time column
    data = str(_long_csv(tmp_path / "long.csv", promo=False))
    with pytest.raises(Trained):
        main(["forecast", data, "--horizon", "7", *TINY])
    assert (no_training["id_col"], no_training["time_col"], no_training["target"]) == (
        "unique_id",
        "ds",
        "y",
    )
    from xlstm_ts.tuning import command

    for argv in ([data], [data, "--id-col", "unique_id", "--time-col", "ds", "--target", "y"]):
        args = _parser(["tune"]).parse_args(["tune", *argv, "--horizon", "7"])
        table = command._data(args, {})
        assert table.columns == {"id_col": "unique_id", "time_col": "ds", "target": "y"}
        assert pd.api.types.is_datetime64_any_dtype(table.frame["ds"])


def test_tune_runs_on_a_long_file_without_naming_its_columns(tmp_path, capsys):
    data = str(_long_csv(tmp_path / "long.csv", n=70, promo=False))
    params = ["d_model=8", "num_blocks=1", "max_epochs=1", "linear_path='ridge'"]
    params += ["windows_per_epoch=16", "validation_size=0", "patch_len=7"]
    argv = ["tune", data, "--horizon", "7", "--context-length", "14", "--trials", "1"]
    argv += ["--folds", "1", *(w for p in params for w in ("--param", p))]
    assert main(argv) == 0
    assert "best trial #0" in capsys.readouterr().out


def test_every_command_that_reads_a_csv_has_the_same_column_options():
    for name in ("forecast", "tune"):
        options = _parser([name])._subparsers._group_actions[0].choices[name]._option_string_actions
        for flag in ("--id-col", "--time-col", "--target", "--param"):
            assert flag in options, (name, flag)


# ---------------------------------------------------------------------------- checks first


def test_future_covariates_without_a_future_file_fail_before_training(
    tmp_path, capsys, no_training
):
    data = str(_long_csv(tmp_path / "long.csv"))
    err = _error(capsys, ["forecast", data, "--horizon", "7", "--future-covariates", "promo"])
    assert "--future-file" in err and "promo" in err and "7 steps" in err


def test_a_future_file_that_misses_a_step_fails_before_training(tmp_path, capsys, no_training):
    data = str(_long_csv(tmp_path / "long.csv"))
    short = str(_future_csv(tmp_path / "future.csv", drop_last=True))
    argv = ["forecast", data, "--horizon", "7", "--future-covariates", "promo"]
    err = _error(capsys, [*argv, "--future-file", short])
    assert "--future-file" in err and "'store_01'" in err and "2021-04-07" in err
    err = _error(capsys, [*argv, "--future-file", str(tmp_path / "none.csv")])
    assert "no file at" in err and "--future-file" in err
    # a complete file passes the checks: training is reached
    with pytest.raises(Trained):
        main([*argv, "--future-file", str(_future_csv(tmp_path / "full.csv")), *TINY])


def test_a_future_file_without_future_covariates_is_refused(tmp_path, capsys, no_training):
    data = str(_long_csv(tmp_path / "long.csv"))
    future = str(_future_csv(tmp_path / "future.csv"))
    err = _error(capsys, ["forecast", data, "--horizon", "7", "--future-file", future])
    assert "--future-covariates" in err


def test_a_saved_model_with_future_covariates_needs_the_future_file(tmp_path, capsys):
    data = _long_csv(tmp_path / "long.csv")
    model = XLSTMForecaster(
        horizon=7, context_length=14, patch_len=7, d_model=8, num_blocks=1, max_epochs=1,
        linear_path="ridge", windows_per_epoch=16, future_covariates=["promo"], random_state=0,
    ).fit(pd.read_csv(data, parse_dates=["ds"]))  # fmt: skip
    model.save(tmp_path / "model")
    err = _error(capsys, ["forecast", str(data), "--model", str(tmp_path / "model")])
    assert "--future-file" in err and str(tmp_path / "model") in err
    future = str(_future_csv(tmp_path / "future.csv"))
    argv = ["forecast", str(data), "--model", str(tmp_path / "model"), "--future-file", future]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "unique_id,ds,y,q0.1,q0.5,q0.9" and len(out) == 1 + 2 * 7


def test_a_value_that_is_not_a_number_is_named_with_its_row(tmp_path, capsys, no_training):
    frame = pd.read_csv(_long_csv(tmp_path / "long.csv"))
    frame["y"] = frame["y"].astype(object)
    frame.loc[56, "y"] = "abc"  # the 57th data row, line 58 of the file
    frame.to_csv(tmp_path / "bad.csv", index=False)
    err = _error(capsys, ["forecast", str(tmp_path / "bad.csv"), "--horizon", "7"])
    assert "'y'" in err and "row 57 (line 58)" in err and "'abc'" in err
    frame.loc[56, "y"] = 1.0
    frame["promo"] = frame["promo"].astype(object)
    frame.loc[3, "promo"] = "yes"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    argv = ["forecast", str(tmp_path / "bad.csv"), "--horizon", "7", "--past-covariates", "promo"]
    err = _error(capsys, argv)
    assert "covariate column 'promo'" in err and "row 4 (line 5)" in err and "'yes'" in err


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--target", "sales"], "name the target column with --target"),
        (["--id-col", "store"], "name the id column with --id-col"),
        (["--time-col", "when"], "name the time column with --time-col"),
        (["--time-col", "unique_id"], "name the time column with --time-col"),
        (["--target", "y", "promo"], "one target column; got --target y promo"),
        (["--past-covariates", "price"], "no covariate column 'price'"),
    ],
)
def test_column_mistakes_name_the_option(tmp_path, capsys, no_training, argv, message):
    data = str(_long_csv(tmp_path / "long.csv"))
    assert message in _error(capsys, ["forecast", data, "--horizon", "7", *argv])


def test_a_wide_file_with_a_text_column_is_refused_not_dropped(tmp_path, capsys, no_training):
    t = pd.date_range("2024-01-01", periods=60, freq="h")
    wide = pd.DataFrame({"time": t, "load": np.arange(60.0), "note": ["ok"] * 60})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    err = _error(capsys, ["forecast", str(tmp_path / "wide.csv"), "--horizon", "6"])
    assert "'note'" in err and "row 1 (line 2)" in err and "--target" in err
    with pytest.raises(Trained):
        main(["forecast", str(tmp_path / "wide.csv"), "--horizon", "6", "--target", "load"])
    assert no_training["target"] == ["load"] and no_training["time_col"] == "time"


# ---------------------------------------------------------------------------- --param


def test_param_and_the_cheap_fit_options_reach_the_estimator(tmp_path, no_training):
    data = str(_long_csv(tmp_path / "long.csv"))
    argv = ["forecast", data, "--horizon", "7", "--patch-len", "7", "--windows-per-epoch", "32"]
    argv += ["--param", "loss=mse", "--param", "slstm_at=(0,)", "--param", "dropout=0.0"]
    with pytest.raises(Trained):
        main([*argv, "--param", "validation_size=0.2"])
    assert no_training["patch_len"] == 7 and no_training["windows_per_epoch"] == 32
    assert no_training["loss"] == "mse" and no_training["slstm_at"] == (0,)
    assert no_training["dropout"] == 0.0 and no_training["validation_size"] == 0.2
    with pytest.raises(Trained):
        main(["forecast", data, "--horizon", "7", "--windows-per-epoch", "all"])
    assert no_training["windows_per_epoch"] is None


@pytest.mark.parametrize(
    "param,message",
    [
        ("colour=1", "--param colour: not a parameter; the parameters are batch_size,"),
        ("max_epochs=3", "--param max_epochs: set it with --epochs"),
        ("horizon=3", "--param horizon: set it with --horizon"),
        ("dropout", "--param expects KEY=VALUE; got 'dropout'"),
        ("dropout=2.0", "dropout"),
    ],
)
def test_bad_params_are_refused_before_reading(tmp_path, capsys, no_training, param, message):
    argv = ["forecast", str(tmp_path / "absent.csv"), "--horizon", "7", "--param", param]
    err = _error(capsys, argv)
    assert message in err
    if "not a parameter" in message:
        assert "learning_rate" in err and "max_epochs" not in err  # flags are not listed


def test_tune_refuses_an_unknown_param(tmp_path, capsys):
    data = str(_long_csv(tmp_path / "long.csv"))
    argv = ["tune", data, "--horizon", "7", "--param", "colour=1"]
    assert "--param colour: not a parameter" in _error(capsys, argv)


# ---------------------------------------------------------------------------- --help


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_each_default_once(name, capsys):
    with pytest.raises(SystemExit):
        main([name, "--help"])
    text = re.sub(r"\s+", " ", capsys.readouterr().out)
    assert "(default: None)" not in text and "(default: [])" not in text
    doubled = re.findall(r"\(default: [^()]*\) ?\(default:", text)
    assert not doubled, doubled
    # each option's help: its default said at most once
    parser = _parser([name])._subparsers._group_actions[0].choices[name]
    formatter = parser._get_formatter()
    for action in parser._actions:
        help = formatter._get_help_string(action) or ""
        assert help.count("(default:") <= 1, (action.option_strings, help)


def test_benchmark_refuses_an_unknown_param_and_reads_the_time_column_by_name(tmp_path, capsys):
    wide = pd.DataFrame({"load": np.arange(50.0), "ds": pd.date_range("2024", periods=50)})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    argv = ["benchmark", "--csv", str(tmp_path / "wide.csv"), "--param", "colour=1"]
    assert "--param colour: not a parameter" in _error(capsys, argv)
    from xlstm_ts.data import read_csv

    frame, time_col = read_csv(tmp_path / "wide.csv")  # ds, though it is not the first
    assert time_col == "ds" and pd.api.types.is_datetime64_any_dtype(frame["ds"])


def test_demo_takes_param_too(capsys):
    assert "--param colour: not a parameter" in _error(capsys, ["demo", "--param", "colour=1"])
    assert "--param max_epochs: set it with --epochs" in _error(
        capsys, ["demo", "--param", "max_epochs=1"]
    )


# ---------------------------------------------------------------------------- attributes


def test_static_covariates_and_calendar_options_reach_the_estimator(tmp_path, no_training):
    frame = pd.read_csv(_long_csv(tmp_path / "long.csv"))
    frame["store_type"] = np.where(frame.unique_id == "store_00", "small", "large")
    frame.to_csv(tmp_path / "typed.csv", index=False)
    argv = ["forecast", str(tmp_path / "typed.csv"), "--horizon", "7"]
    argv += ["--static-covariates", "store_type", "--calendar-features", "dayofweek", "month"]
    with pytest.raises(Trained):
        main([*argv, "--holidays", "2021-01-01", "2021-04-05"])
    assert no_training["static_covariates"] == ("store_type",)
    assert no_training["calendar_features"] == ("dayofweek", "month")
    assert no_training["holidays"] == ("2021-01-01", "2021-04-05")


def test_static_and_calendar_mistakes_are_named_as_options(tmp_path, capsys, no_training):
    data = str(_long_csv(tmp_path / "long.csv"))
    base = ["forecast", data, "--horizon", "7"]
    err = _error(capsys, [*base, "--static-covariates", "shop"])
    assert "has no static covariate column 'shop'" in err and "--static-covariates" in err
    assert "--holidays: 'soon' is not a date" in _error(capsys, [*base, "--holidays", "soon"])
    with pytest.raises(SystemExit):  # argparse's own check of the choices
        main([*base, "--calendar-features", "weekday"])
    assert "--calendar-features: invalid choice: 'weekday'" in capsys.readouterr().err
    wide = tmp_path / "wide.csv"
    pd.DataFrame({"ds": pd.date_range("2021", periods=40), "a": np.arange(40.0)}).to_csv(
        wide, index=False
    )
    err = _error(capsys, ["forecast", str(wide), "--horizon", "7", "--static-covariates", "a"])
    assert "is wide (no id column): static covariates a need a long file" in err


def test_a_forecast_with_a_store_type_and_calendar_runs_end_to_end(tmp_path, capsys):
    frame = pd.read_csv(_long_csv(tmp_path / "long.csv", promo=False))
    frame["store_type"] = np.where(frame.unique_id == "store_00", "small", "large")
    frame.to_csv(tmp_path / "typed.csv", index=False)
    argv = ["forecast", str(tmp_path / "typed.csv"), "--horizon", "7", *TINY]
    argv += ["--static-covariates", "store_type", "--calendar-features", "dayofweek"]
    assert main([*argv, "--save", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "unique_id,ds,y,q0.1,q0.5,q0.9"
    assert len(out.strip().splitlines()) == 1 + 2 * 7
    assert main(["forecast", str(tmp_path / "typed.csv"), "--model", str(tmp_path / "m")]) == 0
    assert capsys.readouterr().out == out  # the saved model reads the same columns
