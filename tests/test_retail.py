"""The retail-like panel (xlstm_ts.datasets.retail_panel) and its benchmark script.

The generator: deterministic for a seed, the promised columns, levels and flags, and a
truth that is consistent with itself and with the frame. The script
(benchmarks/retail.py): runs end to end on a tiny configuration and writes its JSON with
every field.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from xlstm_ts.datasets import RETAIL_HOLIDAYS, STORE_TYPES, retail_panel

ROOT = Path(__file__).resolve().parents[1]


def test_deterministic_for_a_seed():
    a, ta = retail_panel(4, 200, 28, seed=3)
    b, tb = retail_panel(4, 200, 28, seed=3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ta, tb)
    assert ta.attrs == tb.attrs
    c, _ = retail_panel(4, 200, 28, seed=4)
    assert not np.allclose(a["y"], c["y"])
    # noise has its own stream: the stores and promotions do not change with it
    d, td = retail_panel(4, 200, 28, seed=3, noise=0.0)
    np.testing.assert_array_equal(d["promo"], a["promo"])
    np.testing.assert_array_equal(td["expected"], ta["expected"])
    np.testing.assert_allclose(d["y"], td["expected"], rtol=1e-12)


def test_columns_levels_and_flags():
    df, truth = retail_panel(6, 730, 28, seed=0)
    assert df.columns.tolist() == ["unique_id", "ds", "y", "promo", "holiday", "store_type"]
    assert truth.columns.tolist() == [
        "unique_id", "ds", "expected", "expected_promo_off", "expected_promo_on", "holdout",
    ]  # fmt: skip
    assert len(df) == len(truth) == 6 * 730
    assert df["unique_id"].nunique() == 6
    assert (df.groupby("unique_id")["ds"].diff().dropna() == pd.Timedelta(days=1)).all()
    assert (df["y"] > 0).all() and np.isfinite(df["y"]).all()
    assert set(df["promo"].unique()) <= {0, 1} and set(df["holiday"].unique()) <= {0, 1}
    assert df["promo"].dtype.kind == df["holiday"].dtype.kind == "i"
    # holidays: exactly the listed month-days, the same for every store
    on_holiday = df["ds"].dt.strftime("%m-%d").isin(RETAIL_HOLIDAYS)
    np.testing.assert_array_equal(df["holiday"] == 1, on_holiday)
    # a text store type, constant per store, from the listed types
    assert df.groupby("unique_id")["store_type"].nunique().eq(1).all()
    assert set(df["store_type"]) <= set(STORE_TYPES) and isinstance(df["store_type"][0], str)
    # levels span at least two orders of magnitude between stores
    levels = df.groupby("unique_id")["y"].mean()
    assert levels.max() / levels.min() > 100
    series = truth.attrs["series"]
    assert max(s["level"] for s in series.values()) / min(s["level"] for s in series.values()) > 100
    # the promotions come near the rate asked for (a share of days, in expectation)
    share = retail_panel(40, 1000, seed=1, promo_rate=0.2)[0]["promo"].mean()
    assert 0.15 < share < 0.25
    assert retail_panel(2, 100, 10, promo_rate=0.0)[0]["promo"].eq(0).all()


def test_truth_is_consistent():
    lift = 0.35
    df, truth = retail_panel(5, 400, 28, promo_lift=lift, seed=2)
    pd.testing.assert_series_equal(truth["unique_id"], df["unique_id"])
    pd.testing.assert_series_equal(truth["ds"], df["ds"])
    on, off = truth["expected_promo_on"], truth["expected_promo_off"]
    np.testing.assert_allclose(on, off * (1 + lift), rtol=1e-12)
    promo = df["promo"] == 1
    np.testing.assert_array_equal(truth["expected"], np.where(promo, on, off))
    # holidays move the expected sales by holiday_effect, promotions aside
    plain = retail_panel(5, 400, 28, promo_lift=lift, seed=2, holiday_effect=0.0)[1]
    ratio = truth["expected_promo_off"] / plain["expected_promo_off"]
    np.testing.assert_allclose(ratio, np.where(df["holiday"] == 1, 0.6, 1.0), rtol=1e-12)
    # the noise is multiplicative with mean 1: log(y / expected) has mean −σ²/2, sd σ
    r = np.log(df["y"] / truth["expected"])
    assert abs(r.std() - 0.15) < 0.01 and abs(r.mean() + 0.15**2 / 2) < 0.01
    # the holdout is the last horizon days of each store
    held = truth[truth["holdout"]]
    assert held.groupby("unique_id").size().eq(28).all()
    assert (held.groupby("unique_id")["ds"].min() == df["ds"].max() - pd.Timedelta(days=27)).all()
    assert df.attrs["params"]["promo_lift"] == lift and df.attrs["horizon"] == 28


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_series=0),
        dict(n_days=28),
        dict(promo_rate=1.0),
        dict(promo_lift=-1.0),
        dict(noise=-0.1),
        dict(level_range=(10, 1)),
        dict(promo_length=(5, 2)),
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        retail_panel(**{"n_series": 2, "n_days": 100, **kwargs})


def test_benchmark_runs_end_to_end(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("retail_bench", ROOT / "benchmarks" / "retail.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "retail_bench", bench)
    spec.loader.exec_module(bench)
    out = tmp_path / "retail.json"
    argv = ["--series", "4", "--days", "200", "--epochs", "1", "--windows-per-epoch", "64",
            "--param", "verbose=false", "--out", str(out)]  # fmt: skip
    bench.main(argv)
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert set(result) >= {
        "command", "argv", "date", "data", "held_out_days", "true_lift", "models", "xlstm",
        "ets", "table", "code", "torch_threads", "machine", "total_s",
    }  # fmt: skip
    assert result["argv"] == argv and "benchmarks/retail.py" in result["command"]
    assert result["torch_threads"] == 1 and result["true_lift"] == 0.35
    assert result["data"]["n_series"] == 4 and result["data"]["n_days"] == 200
    assert result["xlstm"]["params"]["max_epochs"] == 1
    assert result["xlstm"]["params"]["future_covariates"] == ["promo", "holiday"]
    models = result["models"]
    assert list(models) == [
        "XLSTMForecaster", "seasonal naive (weekly)", "AutoETS-like (statsmodels)",
        "truth (true quantiles; not a model)",
    ]  # fmt: skip
    fields = {
        "mae", "smape", "mae_over_mean", "coverage_10_90", "width_10_90",
        "width_10_90_over_mean", "max_forecast_over_max_train", "fit_s",
    }  # fmt: skip
    for name, row in models.items():
        assert set(row) >= fields, name
        assert row["mae"] > 0 and 0 <= row["smape"] <= 200
        assert row["max_forecast_over_max_train"] > 0
        assert (row["coverage_10_90"] is None) == (name == "seasonal naive (weekly)")
        assert name in printed
    assert models["XLSTMForecaster"]["fit_s"] > 0
    assert len(models["XLSTMForecaster"]["promo_response"]["per_store"]) == 4
    truth = models["truth (true quantiles; not a model)"]
    assert truth["promo_response"]["mean"] == pytest.approx(0.35)
    assert sum(result["ets"]["chosen"].values()) == 4
