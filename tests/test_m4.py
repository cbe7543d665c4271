"""M4: the loader, the competition's metrics on hand-computed cases, and the protocol."""

import json

import numpy as np
import pandas as pd
import pytest
from xlstm_ts.datasets import (
    DatasetNotFoundError,
    download,
    get_info,
    list_datasets,
    load,
    split_bounds,
)
from xlstm_ts.datasets.m4 import M4Data, load_m4, m4_names

from xlstm_ts.cli import main
from xlstm_ts.ltsf import m4 as protocol
from xlstm_ts.metrics import (
    acf,
    m4_scores,
    mean_mase,
    mean_smape,
    naive2,
    owa,
    seasonal_indices,
    seasonality_test,
)

WEEKLY_SHA1 = (
    "0b445f2a57754566997f16aca589f481928a9ecc",
    "7d0c40219fee3e4edada2372ed9eb081273e1197",
)


# ----------------------------------------------------------------------------- registry
def test_registry_has_every_frequency_with_its_horizon_and_season():
    assert m4_names() == list_datasets("m4") == [
        "M4Yearly", "M4Quarterly", "M4Monthly", "M4Weekly", "M4Daily", "M4Hourly",
    ]  # fmt: skip
    expected = {
        "M4Yearly": (6, 1), "M4Quarterly": (8, 4), "M4Monthly": (18, 12),
        "M4Weekly": (13, 1), "M4Daily": (14, 1), "M4Hourly": (48, 24),
    }  # fmt: skip
    for name, (h, m) in expected.items():
        info = get_info(name)
        assert (info.horizons, info.season, info.source, info.split_rule) == ((h,), m, "m4", "m4")
        frequency = name.removeprefix("M4")
        assert info.filename == f"m4/{frequency}-train.csv"
        assert info.test_filename == f"m4/{frequency}-test.csv"
    weekly = get_info("m4_weekly")
    assert (weekly.name, weekly.n_rows, weekly.n_columns) == ("M4Weekly", 359, 2597)
    assert (weekly.sha1, weekly.test_sha1) == WEEKLY_SHA1


def test_the_wide_frame_tools_point_to_load_m4(tmp_path):
    with pytest.raises(ValueError, match=r"load_m4\('M4Weekly'\)"):
        load("M4Weekly")
    with pytest.raises(ValueError, match="M4 competition's own split"):
        split_bounds("M4Monthly", 24)
    with pytest.raises(ValueError, match="Test/Weekly-test.csv"):
        download("M4Weekly", data_home=tmp_path)
    with pytest.raises(ValueError, match="not an M4 frequency"):
        load_m4("ETTh1")


# ----------------------------------------------------------------------------- loader
def test_load_m4_weekly_from_the_shared_files(shared_datasets, monkeypatch):
    if not (shared_datasets / "m4" / "Weekly-train.csv").is_file():
        pytest.skip("the M4 Weekly files are not in the shared data sets")
    monkeypatch.setenv("XLSTM_TS_DATA", str(shared_datasets))
    m4 = load_m4("M4Weekly", verify=True)  # from the data home, SHA-1 checked
    assert (m4.horizon, m4.season) == (13, 1)
    assert list(m4.train.columns) == ["unique_id", "ds", "y"] == list(m4.test.columns)
    lengths = m4.train.groupby("unique_id", sort=False).size()
    assert len(lengths) == 359 and (lengths.min(), lengths.max()) == (80, 2597)
    assert m4.ids[:3] == ["W1", "W2", "W3"] and len(m4.test) == 359 * 13
    assert m4.train["y"].notna().all() and m4.train["ds"].dtype == np.int64
    # the file's first cells, and the test part continuing each series' step count
    w1 = m4.train[m4.train.unique_id == "W1"]
    assert w1["y"].iloc[:2].tolist() == [1089.20, 1078.91] and w1["ds"].iloc[0] == 0
    t1 = m4.test[m4.test.unique_id == "W1"]
    assert t1["ds"].tolist() == list(range(len(w1), len(w1) + 13))
    assert t1["y"].iloc[0] == 35397.16
    assert m4.test_values().shape == (359, 13) and len(m4.series()[0]) == len(w1)
    same = load_m4("m4-weekly", path=shared_datasets / "m4")  # the folder itself
    assert same.train.equals(m4.train) and same.test.equals(m4.test)


def _write_m4(folder, frequency, rows, test_rows):
    (folder / "m4").mkdir(parents=True, exist_ok=True)
    for part, data in (("train", rows), ("test", test_rows)):
        width = max(len(v) for _, v in data)
        lines = [",".join(f'"V{i + 1}"' for i in range(width + 1))]
        for uid, values in data:
            cells = [f'"{uid}"', *(f'"{v}"' for v in values), *([""] * (width - len(values)))]
            lines.append(",".join(cells))
        (folder / "m4" / f"{frequency}-{part}.csv").write_text("\n".join(lines) + "\n")


def test_load_m4_reads_any_frequency_from_a_data_home(tmp_path):
    rows = [("Q1", [1.0, 2.0, 3.0]), ("Q2", [5.0, 6.0, 7.0, 8.0, 9.0])]
    tests = [(uid, [10.0 + i for i in range(8)]) for uid, _ in rows]
    _write_m4(tmp_path, "Quarterly", rows, tests)
    m4 = load_m4("M4Quarterly", data_home=tmp_path)
    assert (m4.horizon, m4.season, m4.ids) == (8, 4, ["Q1", "Q2"])
    assert m4.train["ds"].tolist() == [0, 1, 2, 0, 1, 2, 3, 4]
    assert m4.test.loc[m4.test.unique_id == "Q2", "ds"].tolist() == list(range(5, 13))
    assert [len(y) for y in m4.series()] == [3, 5]
    # missing files name the path and the published address
    with pytest.raises(DatasetNotFoundError, match="Monthly-train.csv") as err:
        load_m4("M4Monthly", data_home=tmp_path)
    assert "Mcompetitions/M4-methods" in str(err.value)


@pytest.mark.parametrize(
    ("rows", "tests", "message"),
    [
        ([("Q1", [1.0, "", 3.0])], [("Q1", [1.0] * 8)], "inside the series"),
        ([("Q1", [1.0, 2.0])], [("Q9", [1.0] * 8)], "same order"),
        ([("Q1", [1.0, 2.0])], [("Q1", [1.0] * 7)], "do not have 8 test values"),
    ],
)
def test_load_m4_refuses_files_of_another_layout(tmp_path, rows, tests, message):
    _write_m4(tmp_path, "Quarterly", rows, tests)
    with pytest.raises(ValueError, match=message):
        load_m4("M4Quarterly", data_home=tmp_path)


# ----------------------------------------------------------------------------- metrics
# d = y - 10 repeats (-2, 2, -1, 1): per period Σd² = 10, lag sums -9 (1), 8 (2), -9 (3),
# 10 (4). For 10 periods (n = 40) the lag-k sums run over n - k terms:
#   r1 = (9·(-9) - 4 - 2 - 1) / 100 = -0.88, r2 = 38·2 / 100 = 0.76,
#   r3 = (9·(-9) - 2) / 100 = -0.83,          r4 = 9·10 / 100 = 0.90;
# limit = 1.645·sqrt((1 + 2(0.88² + 0.76² + 0.83²)) / 40) = 0.5863 < 0.90: seasonal.
# For 3 periods (n = 12): r = (-25, 20, -20, 20) / 30, limit = 1.645·sqrt((150/36)/12) =
# 0.9693 > 2/3: not seasonal.
SEASON = np.array([0.8, 1.2, 0.9, 1.1])


def test_acf_and_the_seasonality_test_by_hand():
    y = 10 * np.tile(SEASON, 10)
    np.testing.assert_allclose(acf(y, 4), [-0.88, 0.76, -0.83, 0.90])
    assert seasonality_test(y, 4)
    np.testing.assert_allclose(acf(y[:12], 4), np.array([-25, 20, -20, 20]) / 30)
    assert not seasonality_test(y[:12], 4)
    assert not seasonality_test(y, 1)  # m = 1: never seasonal
    assert not seasonality_test(y[:11], 4)  # fewer than 3m values
    assert not seasonality_test(np.full(40, 3.0), 4)  # constant: no autocorrelation


def test_seasonal_indices_by_hand_and_against_statsmodels():
    # m = 2: trend = (y[t-1] + 2 y[t] + y[t+1]) / 4 = 2.25, 3.25, 4.25, 5.25 at t = 1..4;
    # ratios 3/2.25, 2/3.25, 6/4.25, 3/5.25; phase means 0.593407 (even t), 1.372549 (odd t),
    # divided by their mean 0.982978
    np.testing.assert_allclose(
        seasonal_indices([1, 3, 2, 6, 3, 9], 2), [0.6036826, 1.3963174], rtol=1e-6
    )
    np.testing.assert_allclose(seasonal_indices(10 * np.tile(SEASON, 3), 4), SEASON)
    from statsmodels.tsa.seasonal import seasonal_decompose

    y = 50 + 10 * np.random.default_rng(0).random(41)
    for m in (3, 4, 12):
        reference = seasonal_decompose(y, model="multiplicative", period=m).seasonal[:m]
        np.testing.assert_allclose(seasonal_indices(y, m), reference)
    with pytest.raises(ValueError, match="two periods"):
        seasonal_indices(y[:7], 4)


def test_naive2_by_hand():
    y = 10 * np.tile(SEASON, 10)  # seasonal: adjusted values all 10, then re-seasonalised
    np.testing.assert_allclose(naive2(y, 6, 4), [8, 12, 9, 11, 8, 12])
    # started mid-period: phases count from the first value
    np.testing.assert_allclose(naive2(y[1:], 3, 4), [8, 12, 9])
    np.testing.assert_allclose(naive2(y[:12], 3, 4), [11, 11, 11])  # not seasonal: naive
    np.testing.assert_allclose(naive2(y, 3, 1), [11, 11, 11])  # m = 1: naive


def test_smape_mase_and_owa_by_hand():
    y_train = [np.array([1.0, 2, 4, 7]), np.array([10.0, 10, 12, 12, 16])]
    y_true = np.array([[8.0, 10], [20, 20]])
    y_pred = np.array([[7.0, 7], [20, 10]])
    # sMAPE, 100 · mean(2|y - ŷ| / (|y| + |ŷ|)): series 1: 100 (2/15 + 6/17) / 2 = 24.314;
    # series 2: 100 (0 + 20/30) / 2 = 33.333
    expected_smape = (50 * (2 / 15 + 6 / 17) + 50 * (20 / 30)) / 2
    assert expected_smape == pytest.approx(28.8235, abs=1e-4)
    assert mean_smape(y_true, y_pred) == pytest.approx(expected_smape)
    # MASE, m = 1: scales mean(1, 2, 3) = 2 and mean(0, 2, 0, 4) = 1.5; MAE 2 and 5
    assert mean_mase(y_true, y_pred, y_train, 1) == pytest.approx((2 / 2 + 5 / 1.5) / 2)
    # m = 2: scales mean(3, 5) = 4 and mean(2, 2, 4) = 8/3
    assert mean_mase(y_true, y_pred, y_train, 2) == pytest.approx((2 / 4 + 5 / (8 / 3)) / 2)
    assert owa(10.0, 1.5, 20.0, 2.0) == pytest.approx(0.5 * (0.5 + 0.75))
    scores = m4_scores(y_true, y_pred, y_train, 1)
    # Naive2 with m = 1 is the last value: (7, 7) and (16, 16)
    n2_smape = (50 * (2 / 15 + 6 / 17) + 50 * (8 / 36 + 8 / 36)) / 2
    n2_mase = (2 / 2 + 4 / 1.5) / 2
    expected_owa = 0.5 * (expected_smape / n2_smape + scores["mase"] / n2_mase)
    assert scores["owa"] == pytest.approx(expected_owa)
    naive = np.array([[7.0, 7], [16, 16]])
    assert m4_scores(y_true, naive, y_train, 1)["owa"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="series 0"):
        mean_mase(y_true, y_pred, [np.ones(4), y_train[1]], 1)  # a constant history


# ----------------------------------------------------------------------------- protocol
def _panel(lengths, h=5, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"S{k}" for k in range(len(lengths))]
    values = [
        50 + np.cumsum(rng.normal(size=n + h)) + 5 * np.sin(np.arange(n + h)) for n in lengths
    ]

    def frame(parts, first):
        return pd.DataFrame(
            {
                "unique_id": np.repeat(ids, [len(p) for p in parts]),
                "ds": np.concatenate(
                    [f + np.arange(len(p)) for p, f in zip(parts, first, strict=True)]
                ),
                "y": np.concatenate(parts),
            }
        )

    train = frame([v[:-h] for v in values], [0] * len(values))
    test = frame([v[-h:] for v in values], list(lengths))
    return M4Data("M4Weekly", train, test, h, 1, ())


TINY = {
    "d_model": 8, "num_blocks": 1, "num_heads": 2, "patch_len": 4, "max_epochs": 1,
    "windows_per_epoch": 32, "batch_size": 16,
}  # fmt: skip


def test_the_context_is_the_longest_every_series_allows():
    assert protocol.choose_context([80, 500], 13, None) == 54  # 80 - 13 - 13
    assert protocol.choose_context([1000], 13, None) == 96  # the estimator's default
    assert protocol.choose_context([20, 500], 6, None) == 8  # 20 - 12
    assert protocol.choose_context([13, 500], 6, None) == 6  # at least the horizon
    assert protocol.choose_context([13, 500], 6, 30) == 30


def test_short_series_are_forecast_with_naive_and_named(monkeypatch):
    data = _panel([30, 60, 80])
    monkeypatch.setattr(protocol, "statsforecast_available", lambda: False)
    result = protocol.run_m4(
        data, ["xlstm", "naive", "naive2", "theta"], xlstm_params=TINY, context_length=40, log=None
    )
    xlstm = next(r for r in result["runs"] if r["model"] == "xlstm")
    info = xlstm["info"]
    # 40 + 5 + 5 values needed: S0 (30) is left out, the others are fitted
    assert info["series_left_out"] == ["S0"] and info["series_fitted"] == 2
    assert info["context_length"] == 40 and info["validation_steps"] == 5
    assert set(result["skipped"]) == {"theta"} and "statsforecast" in result["skipped"]["theta"]
    naive = next(r for r in result["runs"] if r["model"] == "naive")
    naive2_run = next(r for r in result["runs"] if r["model"] == "naive2")
    assert naive2_run["owa"] == pytest.approx(1.0) and naive["owa"] == pytest.approx(1.0)
    table = protocol.format_m4_table(result)
    assert "| theta |" + " – |" * 8 in table
    assert "1 series too short for its windows forecast with Naive (S0)" in table
    assert "theta skipped: statsforecast is not installed" in table
    # by default the context fits the shortest series: every series is fitted
    result = protocol.run_m4(data, ["xlstm"], xlstm_params=TINY, log=None)
    assert result["runs"][0]["info"]["series_left_out"] == []
    assert result["runs"][0]["info"]["context_length"] == 20
    with pytest.raises(ValueError, match="set by the M4 protocol"):
        protocol.run_m4(data, ["xlstm"], xlstm_params={"horizon": 3}, log=None)
    with pytest.raises(ValueError, match="not in the M4 protocol"):
        protocol.run_m4(data, ["ridge"], log=None)


@pytest.mark.parametrize(
    "model",
    # Theta's numba functions compile on first use, about 20 s on a shared CPU
    ["autoets", pytest.param("theta", marks=pytest.mark.slow)],
)
def test_statsforecast_baselines_when_installed(model):
    pytest.importorskip("statsforecast")
    data = _panel([40, 50])
    result = protocol.run_m4(data, [model], log=None)
    (run,) = result["runs"]
    assert run["model"] == model and run["info"]["season_length"] == 1
    assert np.isfinite(run["owa"]) and not run["info"]["failed_series"]
    assert result["versions"]["statsforecast"] is not None and not result["skipped"]


def test_benchmark_command_on_five_weekly_series(shared_datasets, tmp_path, capsys):
    if not (shared_datasets / "m4" / "Weekly-train.csv").is_file():
        pytest.skip("the M4 Weekly files are not in the shared data sets")
    out = tmp_path / "m4.json"
    argv = [
        "benchmark", "--dataset", "M4Weekly", "--data-home", str(shared_datasets),
        "--max-series", "5", "--seeds", "0", "--models", "xlstm", "naive", "seasonal_naive",
        "naive2", "--param", "max_epochs=1", "--param", "windows_per_epoch=64",
        "--output", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    table = capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0] == (
        "| model | sMAPE | MASE | OWA | 10–90 % coverage | width | scaled pinball | "
        "largest ratio | fit (s) |"
    )
    assert [line.split("|")[1].strip() for line in lines[2:6]] == [
        "xlstm", "naive", "seasonal_naive", "naive2",
    ]  # fmt: skip
    assert "context 96" in table and "every series fitted" in table
    result = json.loads(out.read_text())
    assert result["config"]["command"] == "xlstm-ts benchmark " + " ".join(argv[1:])
    assert result["data"]["n_series"] == 5 and result["config"]["horizon"] == 13
    xlstm = result["runs"][0]
    assert xlstm["info"]["params"]["max_epochs"] == 1 and np.isfinite(xlstm["smape"])
    assert 0 <= xlstm["coverage"] <= 1 and xlstm["interval_series"] == 5
    assert "coverage" not in result["runs"][1]  # the naive forecast has no interval

    n2 = next(r for r in result["runs"] if r["model"] == "naive2")
    assert n2["owa"] == pytest.approx(1.0)
    # options of the long-horizon benchmark that do not apply are refused
    assert main(["benchmark", "--dataset", "M4Weekly", "--season", "4"]) == 2
    assert "do not apply to the M4 protocol" in capsys.readouterr().err
    argv = ["benchmark", "--dataset", "M4Weekly", "--data-home", str(shared_datasets)]
    assert main([*argv, "--horizons", "26"]) == 2
    assert "horizon 13" in capsys.readouterr().err
    assert main(["benchmark", "--dataset", "ETTh1", "--models", "naive2"]) == 2
    assert "belong to the M4 protocol" in capsys.readouterr().err


def test_interval_scores_count_the_band_and_scale_the_pinball_loss():
    series = [np.array([1.0, 3.0, 5.0]), np.array([10.0, 10.0, 12.0])]  # scales 2 and 1
    actual = np.array([[2.0, 6.0], [10.0, 10.0]])
    q = np.stack([actual - 1, actual, actual + 1], axis=-1)  # every value inside, median exact
    q[0, 1] = [7.0, 7.5, 8.0]  # one value below its band
    scores = protocol.interval_scores(actual, q, series)
    assert scores["coverage"] == pytest.approx(3 / 4) and scores["interval_series"] == 2
    # widths (2 + 1)/2 over mean |actual| 4, and 2 over 10
    assert scores["width"] == pytest.approx((1.5 / 4 + 2 / 10) / 2)
    loss0 = np.mean([0.1, 0, 0.1, 0.9 * 1, 0.5 * 1.5, 0.1 * 2]) / 2  # pinball of series 0
    loss1 = np.mean([0.1, 0, 0.1] * 2) / 1
    assert scores["scaled_pinball"] == pytest.approx((loss0 + loss1) / 2)
    no_band = np.full_like(q, np.nan)
    assert protocol.interval_scores(actual, no_band, series) == {}
    assert protocol.largest_ratio(q[..., 1], series) == pytest.approx(7.5 / 5)
