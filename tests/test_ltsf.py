"""The long-horizon benchmark protocol and its baselines."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from xlstm_ts import ltsf
from xlstm_ts.baselines import ETSOrigins, RidgeNLinear, season_length, seasonal_naive
from xlstm_ts.cli import main
from xlstm_ts.data import split_starts


def _synthetic(values: np.ndarray, context_length: int, name: str = "synthetic") -> ltsf.LTSFData:
    """LTSFData over (C, T) values already on their final scale, split 70/10/20."""
    from sklearn.preprocessing import StandardScaler
    from xlstm_ts.datasets import split_bounds

    bounds = split_bounds(None, context_length, n_rows=values.shape[1])
    scaler = StandardScaler(with_mean=False, with_std=False).fit(values.T)
    columns = [f"c{i}" for i in range(len(values))]
    values = np.ascontiguousarray(values)
    return ltsf.LTSFData(name, values, columns, context_length, bounds, "h", scaler)


# ---------------------------------------------------------------------------- protocol
def test_etth1_splits_scaling_and_window_counts(shared_datasets):
    L, H = 96, 192
    data = ltsf.prepare("ETTh1", context_length=L, data_home=shared_datasets)
    assert tuple(data.bounds) == ((0, 8640), (8640 - L, 11520), (11520 - L, 14400))
    assert data.values.shape == (7, 14400) and data.freq == "h"

    raw = pd.read_csv(shared_datasets / "ETTh1.csv").drop(columns="date").to_numpy()
    # the scaler sees the training rows only
    np.testing.assert_allclose(data.scaler.mean_, raw[:8640].mean(axis=0))
    np.testing.assert_allclose(data.scaler.scale_, raw[:8640].std(axis=0))
    np.testing.assert_allclose(data.values[:, :8640].mean(axis=1), 0, atol=1e-9)
    np.testing.assert_allclose(
        data.values.T, (raw[:14400] - raw[:8640].mean(0)) / raw[:8640].std(0)
    )

    test = data.windows("test", H)
    assert test.counts[0] == (14400 - 11520) - H + 1  # n_test_rows − H + 1, no drop_last
    assert len(test) == 7 * test.counts[0]
    assert test.origins(0)[0] == 11520 and test.origins(6)[-1] + H == 14400
    X, Y = test.series_windows(3)
    assert np.shares_memory(X, data.values)  # a view, not a copy of every window
    np.testing.assert_array_equal(X[0], data.values[3, 11520 - L : 11520])
    np.testing.assert_array_equal(Y[-1], data.values[3, 14400 - H :])
    assert data.windows("val", H).counts[0] == 11520 - 8640 - H + 1
    assert data.windows("train", H).counts[0] == 8640 - L - H + 1

    # every window of every channel enters the metric
    class Zero:
        def predict(self, contexts, channel, origins):
            return np.zeros((len(contexts), H))

    scores = ltsf.evaluate(Zero(), test, block_size=1000)
    targets = np.stack([sliding for sliding in (test.series_windows(c)[1] for c in range(7))])
    assert scores["n_windows"] == 7 * 2689
    assert scores["mse"] == pytest.approx(np.mean(targets**2), rel=1e-12)
    assert scores["mae"] == pytest.approx(np.mean(np.abs(targets)), rel=1e-12)


def test_take_and_blocks_agree_with_the_views():
    data = _synthetic(np.arange(200.0).reshape(2, 100), context_length=10)
    w = data.windows("train", 5)
    X, Y = w.take(np.array([0, w.counts[0] + 3]))
    np.testing.assert_array_equal(X[1], np.arange(103.0, 113.0))
    np.testing.assert_array_equal(Y[0], np.arange(10.0, 15.0))
    blocks = list(w.blocks(7))
    assert sum(len(b[0]) for b in blocks) == len(w)
    with pytest.raises(ValueError, match="needs at least 45 rows"):
        data.windows("val", 35)


def test_xlstm_validation_windows_are_the_protocols():
    data = _synthetic(np.zeros((1, 1000)), context_length=48)
    H = 24
    train_stop, val_stop = data.bounds.train[1], data.bounds.val[1]
    train, val = split_starts([val_stop], 48, H, [val_stop - train_stop])
    assert train[0] == (0, data.windows("train", H).counts[0] - 1)
    origins = data.windows("val", H).origins(0)
    assert val[0] == (origins[0] - 48, origins[-1] - 48)
    with pytest.raises(ValueError, match="context_length"):
        ltsf.XLSTMModel(context_length=12)


# ---------------------------------------------------------------------------- ridge
def test_ridge_matches_lstsq_on_the_penalised_system():
    rng = np.random.default_rng(0)
    data = _synthetic(rng.standard_normal((2, 80)), context_length=6)
    H, lam = 3, 0.1
    train = data.windows("train", H)
    model = RidgeNLinear(lambdas=(lam,), block_size=5).fit(train)

    X, Y = train.take(np.arange(len(train)))
    last = X[:, -1:]
    F = np.hstack([X[:, :-1] - last, np.ones_like(last)])
    scale = np.mean(np.sum(F[:, :-1] ** 2, axis=0))
    P = np.sqrt(lam * scale) * np.eye(F.shape[1])[:-1]  # no penalty on the intercept
    W, *_ = np.linalg.lstsq(np.vstack([F, P]), np.vstack([Y - last, np.zeros((5, H))]))
    np.testing.assert_allclose(model.coef_[:-1], W[:-1], atol=1e-10)
    np.testing.assert_allclose(model.coef_[-1], 0)
    np.testing.assert_allclose(model.intercept_, W[-1], atol=1e-10)
    np.testing.assert_allclose(model.predict(X), F @ W + last, atol=1e-10)


def test_ridge_validation_errors_come_from_the_sums_exactly():
    rng = np.random.default_rng(1)
    data = _synthetic(rng.standard_normal((3, 300)).cumsum(axis=1), context_length=8)
    train, val = data.windows("train", 4), data.windows("val", 4)
    model = RidgeNLinear(lambdas=(1e-3, 1.0, 100.0)).fit(train, val)
    Xv, Yv = val.take(np.arange(len(val)))
    for lam, score in model.val_mse_.items():
        other = RidgeNLinear(lambdas=(lam,)).fit(train)
        assert score == pytest.approx(np.mean((other.predict(Xv) - Yv) ** 2), rel=1e-9)
    assert model.lambda_ == min(model.val_mse_, key=model.val_mse_.get)


def test_ridge_recovers_a_known_linear_process():
    # y_t − y_{t−1} = 0.5 (y_{t−1} − y_{t−2}) + ε: with last-value normalisation the exact
    # forecasts are y_{t+1} − y_t = −0.5 (y_{t−1} − y_t), y_{t+2} − y_t = −0.75 (y_{t−1} − y_t)
    rng = np.random.default_rng(2)
    d = np.zeros(6000)
    eps = rng.standard_normal(6000)
    for t in range(1, 6000):
        d[t] = 0.5 * d[t - 1] + eps[t]
    data = _synthetic(d.cumsum()[None], context_length=5)
    model = RidgeNLinear(lambdas=(1e-8,)).fit(data.windows("train", 2))
    expected = np.zeros((5, 2))
    expected[3] = [-0.5, -0.75]
    np.testing.assert_allclose(model.coef_, expected, atol=0.05)
    np.testing.assert_allclose(model.intercept_, 0, atol=0.1)


# ---------------------------------------------------------------------------- classical
def test_seasonal_naive_is_exact_on_a_periodic_series():
    np.testing.assert_array_equal(seasonal_naive(np.arange(10.0), 4, 6), [6, 7, 8, 9, 6, 7])
    assert (season_length("h"), season_length("15min"), season_length("10min")) == (24, 96, 144)
    assert (season_length("D"), season_length("W-TUE"), season_length("MS")) == (7, 52, 12)
    t = np.arange(600)
    data = _synthetic(np.stack([np.sin(2 * np.pi * t / 24), (t % 24) ** 2.0]), context_length=48)
    model = ltsf.SeasonalNaiveModel()
    assert model.fit(data, 30, 0) == {"season": 24}
    scores = ltsf.evaluate(model, data.windows("test", 30))
    assert scores["mse"] < 1e-20 and scores["n_windows"] == 2 * (120 - 30 + 1)


def test_ets_from_one_filter_pass_equals_statsmodels_forecasts():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(3)
    t = np.arange(320)
    y = np.sin(2 * np.pi * t / 12) + 0.01 * t + 0.3 * rng.standard_normal(320)
    ets = ETSOrigins(season=12).fit(y[:200])
    origins = np.array([200, 237, 251, 300])
    ours = ets.forecast(y, origins, horizon=20)
    spec = dict(error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=12)
    for origin, row in zip(origins, ours, strict=True):
        model = ETSModel(y[:origin], **spec, initialization_method="known", **ets.initial_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = model.smooth([ets.params_[n] for n in model.param_names]).forecast(20)
        np.testing.assert_allclose(row, expected, atol=1e-10)
    # no trend, no season: a constant forecast at the filtered level
    flat = ETSOrigins(season=1, trend=None).fit(y[:200]).forecast(y, origins, 5)
    np.testing.assert_allclose(flat, flat[:, :1] * np.ones(5))


# ---------------------------------------------------------------------------- CLI
def test_benchmark_cli_writes_table_and_json(tmp_path, capsys):
    rng = np.random.default_rng(4)
    t = np.arange(600)
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=600, freq="h"),
            "a": np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(600),
            "b": np.cos(2 * np.pi * t / 24) + 0.01 * t,
            "c": rng.standard_normal(600).cumsum(),
        }
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "results.json"
    # fmt: off
    code = main([
        "benchmark", "--csv", str(tmp_path / "data.csv"), "--target", "a", "b",
        "--context-length", "48", "--horizons", "24", "--seeds", "0", "1",
        "--models", "xlstm", "ridge", "dlinear", "seasonal_naive", "ets",
        "--param", "d_model=16", "--param", "num_blocks=1", "--param", "num_heads=2",
        "--param", "patch_len=8", "--param", "max_epochs=1",
        "--param", "trainer_kwargs={'accelerator': 'cpu', 'enable_progress_bar': False}",
        "--model-param", "dlinear:max_epochs=1", "--output", str(out),
    ])
    # fmt: on
    assert code == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].startswith("| H | xlstm MSE / MAE | ridge MSE / MAE")
    assert table.splitlines()[2].startswith("| 24 |") and "±" in table

    result = json.loads(out.read_text())
    assert result["config"]["context_length"] == 48 and result["config"]["dataset"] == "data"
    assert result["config"]["model_params"]["xlstm"]["d_model"] == 16
    # --threads (default 1) reaches the estimator, which sets threads while it fits
    assert result["config"]["model_params"]["xlstm"]["num_threads"] == 1
    assert result["data"]["channels"] == ["a", "b"] and result["data"]["freq"] == "h"
    # 600 rows split 70/10/20: test rows [480 − 48, 600)
    assert result["data"]["bounds"]["test"] == [432, 600]
    assert result["data"]["windows_per_channel"]["24"]["test"] == 120 - 24 + 1
    runs = result["runs"]
    seeds = {m: sorted(str(r["seed"]) for r in runs if r["model"] == m) for m in {"xlstm", "ets"}}
    assert seeds == {"xlstm": ["0", "1"], "ets": ["None"]}
    assert len(runs) == 2 + 1 + 2 + 1 + 1
    for run in runs:
        assert run["n_windows"] == 2 * 97 and run["horizon"] == 24
        assert np.isfinite(run["mse"]) and np.isfinite(run["mae"]) and run["fit_seconds"] >= 0
    xlstm = next(r for r in runs if r["model"] == "xlstm")
    # epochs per network of the kept model: the ridge start, the networks from scratch or both
    assert set(xlstm["info"]["epochs"]) == {1} and xlstm["info"]["best_val_loss"] is not None
    assert xlstm["info"]["decision"]["kept"] == xlstm["info"]["linear_path"]
    ridge = next(r for r in runs if r["model"] == "ridge")
    assert ridge["mse"] < 0.5 and "lambda" in ridge["info"]
    assert {"torch", "numpy", "statsmodels", "xlstm_ts"} <= set(result["versions"])


def test_benchmark_cli_reports_bad_input(tmp_path, capsys):
    assert main(["benchmark", "--context-length", "48"]) == 2
    assert "--dataset NAME or --csv PATH" in capsys.readouterr().err
    argv = ["benchmark", "--dataset", "ETTh1", "--context-length", "48", "--model-param", "x=1"]
    assert main(argv) == 2
    assert "model:key=value" in capsys.readouterr().err
    # a registered data set that is not downloaded: one line that says where to put it
    argv = ["benchmark", "--dataset", "ETTh2", "--data-home", str(tmp_path)]
    assert main([*argv, "--context-length", "48"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xlstm-ts benchmark: error:") and "Traceback" not in err


def test_the_ridge_start_is_the_ridge_baseline_without_intercept():
    # the network's linear path works in the data's units (context minus its last value),
    # so its ridge start and the baseline share one solver and find the same map
    import torch

    from xlstm_ts.nn import XLSTMForecastNet
    from xlstm_ts.training import ridge_start

    rng = np.random.default_rng(3)
    data = _synthetic(rng.standard_normal((2, 400)).cumsum(axis=1), context_length=12)
    train, val = data.windows("train", 4), data.windows("val", 4)
    baseline = RidgeNLinear(fit_intercept=False).fit(train, val)
    net = XLSTMForecastNet(12, 4, d_model=8, num_blocks=1, num_heads=2, patch_len=4,
                           linear_path=True)  # fmt: skip
    start = ridge_start(net, train, val, level="none")
    assert start.lam == baseline.lambda_ and start.level == "none"
    np.testing.assert_allclose(net.linear_path.weight.detach().T, baseline.coef_, atol=1e-4)
    X, _ = val.take(np.arange(50))
    with torch.no_grad():
        ours = net(torch.from_numpy(X).float())[..., 0].double().numpy()
    np.testing.assert_allclose(ours, baseline.predict(X), atol=1e-3)


def test_the_ridge_start_chooses_its_level_term_on_validation():
    # no level term, the path's bias (in units of each window's scale) or a constant in
    # the data's units; by default the constant (the ridge baseline's form); with
    # level=None the constant unless another is better on both halves of the validation
    # windows, and the kept one is exactly the fit asked for explicitly
    import torch

    from xlstm_ts.nn import XLSTMForecastNet
    from xlstm_ts.training import later_half, ridge_start

    rng = np.random.default_rng(5)
    t = np.arange(600)
    values = np.sin(2 * np.pi * t / 17) + 0.3 * rng.standard_normal((2, 600)) + 0.01 * t
    data = _synthetic(values, context_length=16)
    train, val = data.windows("train", 6), data.windows("val", 6)

    def net():
        torch.manual_seed(0)
        return XLSTMForecastNet(16, 6, d_model=8, num_blocks=1, num_heads=2, patch_len=4,
                                linear_path=True)  # fmt: skip

    explicit = {}
    for level in ("none", "scale", "constant"):
        explicit[level] = (n := net(), ridge_start(n, train, val, level=level))
    nets = {level: n for level, (n, _) in explicit.items()}
    assert nets["none"].linear_path.bias.abs().max() == 0 == nets["none"].linear_offset.abs().max()
    assert nets["scale"].linear_path.bias.abs().max() > 0 == nets["scale"].linear_offset.abs().max()
    assert nets["constant"].linear_offset.abs().max() > 0
    default = ridge_start(net(), train, val)
    assert default.level == "constant" and default.level_scores == {}
    chosen_net = net()
    chosen = ridge_start(chosen_net, train, val, level=None)
    assert set(chosen.level_scores) == {"none", "scale", "constant"}
    ref = chosen.level_scores["constant"]
    better = [
        level
        for level, halves in chosen.level_scores.items()
        if all(a < b for a, b in zip(halves, ref, strict=True))
    ]
    expected = min(better, key=lambda lv: explicit[lv][1].val_mse) if better else "constant"
    assert chosen.level == expected
    kept = explicit[expected][1]
    assert (chosen.lam, chosen.val_mse) == (kept.lam, kept.val_mse)
    # the halves' errors are those of the earlier and the later windows of each series
    X, Y = val.take(np.arange(len(val)))
    later = later_half(val)
    for level, (n, _) in explicit.items():
        with torch.no_grad():
            err = (n(torch.from_numpy(X).float())[..., 0].double().numpy() - Y) ** 2
        got = chosen.level_scores[level]
        assert got == pytest.approx((err[~later].mean(), err[later].mean()), rel=1e-4)
    # the reported validation error is each network's own on those windows
    for n, start in [*explicit.values(), (chosen_net, chosen)]:
        with torch.no_grad():
            pred = n(torch.from_numpy(X).float())[..., 0].double().numpy()
        assert np.mean((pred - Y) ** 2) == pytest.approx(start.val_mse, rel=1e-4)
    # the constant level with the baseline's penalty is the ridge baseline with intercept
    baseline = RidgeNLinear().fit(train, val)
    same = net()
    ridge_start(same, train, val, lambdas=[baseline.lambda_], level="constant")
    with torch.no_grad():
        ours = same(torch.from_numpy(X).float())[..., 0].double().numpy()
    np.testing.assert_allclose(ours, baseline.predict(X), atol=1e-3)


def test_a_level_term_replaces_the_baselines_only_if_better_on_both_halves():
    from xlstm_ts.training.ridge_start import _choose_level

    levels = ["none", "scale", "constant"]
    mse = {"none": 1.0, "scale": 0.9, "constant": 1.1}
    one_half = {"none": (1.0, 1.3), "scale": (0.9, 1.2), "constant": (1.0, 1.2)}
    assert _choose_level(levels, one_half, mse) == "constant"
    both = {"none": (0.95, 1.15), "scale": (0.9, 1.1), "constant": (1.0, 1.2)}
    assert _choose_level(levels, both, mse) == "scale"  # the lower overall of the two
    empty_half = {"none": (0.5, float("nan")), "scale": (0.5, float("nan")),
                  "constant": (1.0, float("nan"))}  # fmt: skip
    assert _choose_level(levels, empty_half, mse) == "constant"
    assert _choose_level(["scale"], {}, mse) == "scale"


# ------------------------------------------------------- registry defaults, scientific sets
SCIENTIFIC = {
    # name: (channels, context length, horizons)
    "MackeyGlass17": (1, 512, [24, 96, 336, 720]),
    "MackeyGlass30": (1, 512, [24, 96, 336, 720]),
    "Lorenz63": (3, 336, [24, 96, 336, 720]),
    "Lorenz96": (10, 96, [4, 16, 64, 96]),
    "sunspots": (1, 44, [6, 11, 22]),
    "co2": (1, 208, [13, 26, 52, 104]),
    "elnino": (1, 120, [6, 12, 24, 48]),
}


@pytest.mark.parametrize("name", list(SCIENTIFIC))
def test_prepare_scientific_sets_with_registry_defaults(name):
    from xlstm_ts.datasets import get_info, load, split_bounds

    channels, L, horizons = SCIENTIFIC[name]
    data = ltsf.prepare(name, missing="interpolate")  # context length from the registry
    info = get_info(name)
    assert data.context_length == L == info.context_length and list(info.horizons) == horizons
    assert ltsf.registry_defaults(name)["horizons"] == horizons
    assert data.values.shape == (channels, info.n_rows) and np.isfinite(data.values).all()
    assert data.bounds == split_bounds(name, L)
    train = data.values[:, : data.bounds.train[1]]
    np.testing.assert_allclose(train.mean(axis=1), 0, atol=1e-9)
    np.testing.assert_allclose(train.std(axis=1), 1, atol=1e-9)
    for H in horizons:  # every part holds windows at every horizon
        assert all(len(data.windows(part, H)) > 0 for part in ("train", "val", "test"))
    if info.source == "synthetic":
        assert data.generator["function"] == info.generator
        assert data.generator["params"]["seed"] == info.generator_params["seed"]
    else:
        assert data.generator is None
    filled = {"co2": 59} if name == "co2" else {}
    assert data.missing == {"policy": "interpolate", "filled": filled}
    if name == "co2":  # the same values as datasets.load(..., missing="interpolate")
        raw = load("co2", missing="interpolate")["co2"].to_numpy()
        np.testing.assert_allclose(data.scaler.inverse_transform(data.values.T)[:, 0], raw)


def test_prepare_refuses_gaps_or_a_missing_context_length(tmp_path):
    with pytest.raises(ValueError, match=r"missing values in columns \['co2'\]; pass missing="):
        ltsf.prepare("co2")  # gaps are refused unless asked for
    with pytest.raises(ValueError, match="recommends none for data set nile"):
        ltsf.prepare("nile")
    assert ltsf.prepare("nile", context_length=5).context_length == 5
    frame = pd.DataFrame(
        {"time": pd.date_range("2024-01-01", periods=50, freq="D"), "a": np.arange(50.0)}
    )
    frame.loc[10, "a"] = np.nan
    frame.to_csv(tmp_path / "gap.csv", index=False)
    with pytest.raises(ValueError, match="recommends none for the file"):
        ltsf.prepare(csv=tmp_path / "gap.csv")
    with pytest.raises(ValueError, match="missing values in columns"):
        ltsf.prepare(csv=tmp_path / "gap.csv", context_length=4)
    data = ltsf.prepare(csv=tmp_path / "gap.csv", context_length=4, missing="interpolate")
    assert data.missing["filled"] == {"a": 1}
    frame.loc[0, "a"] = np.nan  # a leading gap cannot be interpolated
    frame.to_csv(tmp_path / "gap.csv", index=False)
    with pytest.raises(ValueError, match="start or end"):
        ltsf.prepare(csv=tmp_path / "gap.csv", context_length=4, missing="interpolate")


def test_benchmark_cli_takes_the_registry_defaults(tmp_path, capsys):
    out = tmp_path / "sunspots.json"
    argv = ["benchmark", "--dataset", "sunspots", "--models", "ridge", "seasonal_naive"]
    assert main([*argv, "--seeds", "0", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["config"]["context_length"] == 44 and result["config"]["horizons"] == [6, 11, 22]
    assert result["config"]["missing"] == {"policy": "raise", "filled": {}}
    naive = [r for r in result["runs"] if r["model"] == "seasonal_naive"]
    assert [r["info"]["season"] for r in naive] == [11, 11, 11]  # the solar cycle
    assert capsys.readouterr().out.splitlines()[2].startswith("| 6 |")
    # explicit flags win over the registry
    argv = [*argv, "--context-length", "22", "--horizons", "5", "--season", "10"]
    assert main([*argv, "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["config"]["context_length"] == 22 and result["config"]["horizons"] == [5]
    assert {r["info"]["season"] for r in result["runs"] if r["model"] == "seasonal_naive"} == {10}
    # a synthetic system: generated, the generator recorded, the last value as naive forecast
    argv = ["benchmark", "--dataset", "mackey_glass_30", "--models", "seasonal_naive"]
    assert main([*argv, "--horizons", "24", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["config"]["dataset"] == "MackeyGlass30"
    assert result["config"]["context_length"] == 512
    assert result["data"]["generator"]["params"]["tau"] == 30.0
    assert result["runs"][0]["info"]["season"] == 1


def test_benchmark_cli_without_defaults_asks_for_them(tmp_path, capsys):
    frame = pd.DataFrame(
        {"time": pd.date_range("2024-01-01", periods=200, freq="h"), "a": np.arange(200.0)}
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    assert main(["benchmark", "--csv", str(tmp_path / "data.csv"), "--context-length", "8"]) == 2
    assert "give them (--horizons" in capsys.readouterr().err
    assert main(["benchmark", "--csv", str(tmp_path / "data.csv"), "--horizons", "4"]) == 2
    assert "give --context-length L: the registry recommends none for --csv" in (
        capsys.readouterr().err
    )
    assert main(["benchmark", "--dataset", "nile", "--horizons", "4"]) == 2
    assert "recommends none for --dataset nile" in capsys.readouterr().err


def test_on_fit_sees_every_fitted_model():
    data = ltsf.prepare("sunspots")
    seen = []
    ltsf.run_benchmark(
        data, [6, 11], ["ridge", "seasonal_naive"], log=None,
        on_fit=lambda name, H, seed, model: seen.append((name, H, seed)),
    )  # fmt: skip
    assert seen == [
        ("ridge", 6, None), ("seasonal_naive", 6, None),
        ("ridge", 11, None), ("seasonal_naive", 11, None),
    ]  # fmt: skip


def test_scientific_script_writes_json_markdown_and_pictures(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "scientific.py"
    spec = importlib.util.spec_from_file_location("scientific", path)
    scientific = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scientific)
    out = tmp_path / "results"
    argv = ["--datasets", "l96", "sunspots", "--models", "ridge", "--seeds", "0"]
    assert scientific.main([*argv, "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {
        "Lorenz96.json", "Lorenz96.png", "sunspots.json", "sunspots.png", "results.md",
    }  # fmt: skip
    result = json.loads((out / "Lorenz96.json").read_text())
    assert result["config"]["horizons"] == [4, 16, 64, 96] and result["config"]["models"] == [
        "ridge"
    ]
    assert result["config"]["command"].startswith("python benchmarks/scientific.py --datasets")
    assert (out / "Lorenz96.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "results.md").read_text()
    assert md.index("## Lorenz96") < md.index("## sunspots")
    assert "| 16 | 0.94 | ridge |" in md and "![Lorenz96" in md
    assert "| 22 | ridge |" in md  # no Lyapunov time for a real series
    # errors: one line, no traceback
    assert scientific.main(["--datasets", "nile", "--out", str(out)]) == 2
    assert "no recommended context length" in capsys.readouterr().err
