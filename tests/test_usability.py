"""A new user's first hour: quiet fits, threads, Series input, named errors, pictures."""

import numpy as np
import pandas as pd
import pytest
import torch

from xlstm_ts import XLSTMForecaster
from xlstm_ts.estimators import candidates
from xlstm_ts.training.environment import threads_per_process

TINY = dict(
    horizon=6,
    context_length=24,
    d_model=8,
    num_blocks=1,
    num_heads=2,
    patch_len=6,
    max_epochs=1,
    windows_per_epoch=32,
    validation_size=12,
    random_state=0,
)
QUIET = {"enable_progress_bar": False}


def _series(n=200) -> pd.Series:
    t = np.arange(n)
    index = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.Series(np.sin(2 * np.pi * t / 24) + 0.01 * t, index=index, name="load")


def test_a_fit_prints_nothing_by_default(capfd):
    # no progress bar unless standard error is a terminal (here it is captured)
    XLSTMForecaster(**TINY).fit(_series())
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_verbose_prints_one_line_per_epoch(capfd, monkeypatch):
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
    params = {**TINY, "max_epochs": 2, "linear_path": "none"}
    XLSTMForecaster(**params, verbose=True, trainer_kwargs=QUIET).fit(_series())
    lines = capfd.readouterr().err.strip().splitlines()
    assert lines[0] == "training network 1 of 1 from scratch"
    assert lines[-1].startswith("kept 'none' (validation MSE none ")
    epochs = lines[1:-1]
    assert [line.split("  ")[0] for line in epochs] == ["epoch 1/2", "epoch 2/2"]
    assert all("val_loss" in line and line.endswith(" s") for line in epochs)


def test_verbose_names_the_candidates_of_the_automatic_linear_path(capfd, monkeypatch):
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 2)
    params = {**TINY, "max_epochs": 1, "linear_path": "auto"}
    model = XLSTMForecaster(**params, verbose=True, trainer_kwargs=QUIET).fit(_series())
    lines = capfd.readouterr().err.strip().splitlines()
    assert lines[0] == "training the ridge-started network"
    assert "training network 1 of 2 from scratch" in lines
    assert "training network 2 of 2 from scratch" in lines
    assert model.linear_path_ == model.decision_["kept"]
    kept = model.linear_path_
    assert lines[-1].startswith(f"kept {kept!r} (validation MSE ridge ")


def test_threads_are_set_while_fitting_and_restored(monkeypatch):
    seen = []
    original = XLSTMForecaster._fit

    def spy(self, X, levels, checkpoint_dir):
        seen.append(torch.get_num_threads())
        return original(self, X, levels, checkpoint_dir)

    monkeypatch.setattr(XLSTMForecaster, "_fit", spy)
    before = torch.get_num_threads()
    XLSTMForecaster(**TINY, num_threads=2, trainer_kwargs=QUIET).fit(_series())
    assert seen == [2] and torch.get_num_threads() == before


def test_ddp_processes_share_the_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert threads_per_process(4, "cpu", 4) == 2  # 4 processes × 2 threads = 8 cores
    assert threads_per_process(1, "cpu", 16) == 1
    assert threads_per_process(3, "gpu", 2) == 3
    assert threads_per_process(None, "cpu", 2) is None


def test_same_seed_and_threads_give_identical_forecasts():
    a = XLSTMForecaster(**TINY, trainer_kwargs=QUIET).fit(_series()).predict()
    b = XLSTMForecaster(**TINY, trainer_kwargs=QUIET).fit(_series()).predict()
    pd.testing.assert_frame_equal(a, b)


def test_without_a_seed_each_fit_differs_and_with_one_they_agree(monkeypatch):
    # one network from scratch (the ridge start may keep the plain ridge forecast,
    # which no seed changes)
    monkeypatch.setattr(candidates, "SCRATCH_ENSEMBLE", 1)
    params = {**TINY, "linear_path": "none", "trainer_kwargs": QUIET}
    unseeded = {**params, "random_state": None}
    a = XLSTMForecaster(**unseeded).fit(_series()).predict()
    b = XLSTMForecaster(**unseeded).fit(_series()).predict()
    assert not np.array_equal(a.to_numpy(), b.to_numpy())
    c = XLSTMForecaster(**params).fit(_series()).predict()
    d = XLSTMForecaster(**params).fit(_series()).predict()
    pd.testing.assert_frame_equal(c, d, check_exact=True)


def test_a_bool_where_a_number_is_expected_is_named():
    with pytest.raises(TypeError, match="horizon"):
        XLSTMForecaster(horizon=True).fit(_series())


def test_a_series_is_one_column_of_a_wide_frame():
    series = _series()
    model = XLSTMForecaster(**TINY, trainer_kwargs=QUIET).fit(series)
    forecast = model.predict()
    assert list(forecast.columns) == ["load"] and len(forecast) == 6
    assert forecast.index[0] == series.index[-1] + pd.Timedelta("1h")


def test_rows_without_a_series_id_are_refused():
    frame = _series().rename_axis("ds").reset_index(name="y").assign(unique_id="a")
    frame.loc[[3, 7], "unique_id"] = None
    with pytest.raises(ValueError, match=r"'unique_id' is missing in 2 row\(s\), e.g. row 3"):
        XLSTMForecaster(**TINY).fit(frame)


def test_plot_forecast_draws_history_band_median_truth_and_origin(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from xlstm_ts.plotting import plot_forecast

    series = _series()
    model = XLSTMForecaster(**TINY, trainer_kwargs=QUIET).fit(series.iloc[:-6])
    ax = plot_forecast(model, actual=series.iloc[-6:], history=48)
    labels = [line.get_label() for line in ax.get_lines()]
    assert {"history", "forecast (median)", "actual", "forecast origin"} <= set(labels)
    assert "MAE" in ax.get_title() and ax.get_xlabel() and ax.get_ylabel() == "load"
    history = ax.get_lines()[labels.index("history")]
    assert len(history.get_xdata()) == 48
    ax.figure.savefig(tmp_path / "f.png")
    with pytest.raises(ValueError, match="series 'x' is not among"):
        plot_forecast(model, series="x")
