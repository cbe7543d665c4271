"""Tests of xlstm_ts.datasets: registry, loading, splits, download, bundled and synthetic sets.

Nothing here reaches the internet: downloads use file:// URLs and a local HTTP server.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from xlstm_ts.datasets import (
    DATA_HOME_ENV,
    ChecksumError,
    DatasetNotFoundError,
    DownloadError,
    download,
    file_sha1,
    get_data_home,
    get_info,
    list_datasets,
    load,
    lorenz63,
    lorenz96,
    mackey_glass,
    split,
    split_bounds,
)

ETTH1_SHA1 = "b22844d8be77297bde809d7ca0132f50fae8590b"
ILI_SHA1 = "a512ca1d79b431f1bf708bf2a8482e740cc35893"


@pytest.fixture
def data_home(shared_datasets: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the data home at the shared data sets through the environment variable."""
    monkeypatch.setenv(DATA_HOME_ENV, str(shared_datasets))
    return shared_datasets


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv(DATA_HOME_ENV, str(home))
    return home


# ----------------------------------------------------------------------------- registry


def test_registry_lists_every_benchmark_and_bundled_set():
    files = list_datasets("file")
    assert files == [
        "ETTh1", "ETTh2", "ETTm1", "ETTm2", "Weather", "Electricity", "Traffic", "ILI",
        "Exchange",
    ]  # fmt: skip
    assert list_datasets("statsmodels") == ["co2", "sunspots", "elnino", "nile"]
    synthetic = ["MackeyGlass17", "MackeyGlass30", "Lorenz63", "Lorenz96"]
    assert list_datasets("synthetic") == synthetic
    m4 = ["M4Yearly", "M4Quarterly", "M4Monthly", "M4Weekly", "M4Daily", "M4Hourly"]
    assert list_datasets("m4") == m4  # their own loader and split: tests/test_m4.py
    assert list_datasets() == files + list_datasets("statsmodels") + synthetic + m4
    for name in files:
        info = get_info(name)
        assert info.filename.endswith(".csv") and info.url.startswith("https://")
        assert info.sha1 is None or len(info.sha1) == 40
    assert get_info("ETTh1").sha1 == ETTH1_SHA1
    assert get_info("ILI").sha1 == ILI_SHA1
    assert get_info("ILI").filename == "national_illness.csv"
    assert get_info("Exchange").filename == "exchange_rate.csv"
    assert get_info("ETTm1").freq == "15min" and get_info("ETTm1").n_rows == 69_680


@pytest.mark.parametrize("alias", ["etth1", " ETTH1 ", "ETTh1.csv"])
def test_names_are_case_insensitive(alias):
    assert get_info(alias).name == "ETTh1"


def test_aliases():
    assert get_info("national_illness").name == "ILI"
    assert get_info("mackey_glass_30").name == "MackeyGlass30"
    assert get_info("MACKEYGLASS17").name == "MackeyGlass17"
    assert get_info("lorenz-63").name == "Lorenz63" and get_info("l96").name == "Lorenz96"
    assert get_info("exchange_rate.csv").name == "Exchange"
    with pytest.raises(TypeError, match="must be a str; got int"):
        get_info(1)


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="unknown data set 'ETTh3'") as err:
        load("ETTh3")
    for name in list_datasets():
        assert name in str(err.value)
    with pytest.raises(ValueError, match="known data sets"):
        split_bounds("nope")
    with pytest.raises(ValueError, match="source must be"):
        list_datasets("web")


# ---------------------------------------------------------------------------- data home


def test_data_home_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_HOME_ENV, raising=False)
    assert get_data_home() == Path("~/.cache/xlstm_ts/datasets").expanduser()
    monkeypatch.setenv(DATA_HOME_ENV, str(tmp_path))
    assert get_data_home() == tmp_path
    assert get_data_home(tmp_path / "x") == tmp_path / "x"


# ------------------------------------------------------------------------------ loading


def test_load_etth1_from_data_home(data_home):
    df = load("ETTh1", verify=True)
    assert df.shape == (17_420, 7)
    assert list(df.columns) == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    assert isinstance(df.index, pd.DatetimeIndex) and df.index.name == "date"
    assert df.index.freq == pd.tseries.frequencies.to_offset("h")
    assert df.index[0] == pd.Timestamp("2016-07-01 00:00")
    assert df.index[-1] == pd.Timestamp("2018-06-26 19:00")
    assert df.attrs["dataset"] == "ETTh1"
    assert not df.isna().any().any()
    assert df["OT"].iloc[0] == pytest.approx(30.5310001373291)


def test_load_ili_by_path(shared_datasets):
    df = load("ILI", path=shared_datasets / "national_illness.csv", verify=True)
    assert df.shape == (966, 7)
    assert df.index.freqstr == "W-TUE"
    assert df.index[0] == pd.Timestamp("2002-01-01") and df.index[-1] == pd.Timestamp("2020-06-30")
    assert df.columns[-1] == "OT"
    # A folder works as a path too.
    assert load("ili", path=shared_datasets).equals(df)


def test_shared_files_match_registry_checksums(shared_datasets):
    assert file_sha1(shared_datasets / "ETTh1.csv") == ETTH1_SHA1
    assert file_sha1(shared_datasets / "national_illness.csv") == ILI_SHA1


def test_missing_file_says_where_and_how(empty_home):
    with pytest.raises(DatasetNotFoundError) as err:
        load("ETTh2")
    assert isinstance(err.value, FileNotFoundError)
    message = str(err.value)
    assert str(empty_home / "ETTh2.csv") in message
    assert "xlstm_ts.datasets.download('ETTh2')" in message
    assert get_info("ETTh2").url in message
    assert "XLSTM_TS_DATA" in message


def test_missing_explicit_path(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="download\\('Weather'\\)"):
        load("Weather", path=tmp_path / "nowhere.csv")
    with pytest.raises(DatasetNotFoundError, match="weather.csv"):
        load("Weather", path=tmp_path)  # a folder without the file


def test_verify_detects_a_changed_file(tmp_path, shared_datasets):
    copy = tmp_path / "ETTh1.csv"
    copy.write_bytes((shared_datasets / "ETTh1.csv").read_bytes()[:-10])
    assert load("ETTh1", path=copy).shape[1] == 7  # without verify, it loads
    with pytest.raises(ChecksumError, match=ETTH1_SHA1):
        load("ETTh1", path=copy, verify=True)


def _write_csv(path: Path, dates: list[str], columns: dict[str, list[float]]) -> Path:
    frame = pd.DataFrame({"date": dates, **columns})
    frame.to_csv(path, index=False)
    return path


def test_load_parses_other_date_formats_and_checks_shape(tmp_path):
    # exchange_rate.csv writes its dates like this.
    dates = ["1990/1/1 0:00", "1990/1/2 0:00", "1990/1/3 0:00", "1990/1/4 0:00"]
    cols = {str(i): [1.0, 2.0, 3.0, 4.0] for i in range(7)} | {"OT": [0.5] * 4}
    file = _write_csv(tmp_path / "exchange_rate.csv", dates, cols)
    df = load("Exchange", path=file)
    assert df.index.freqstr == "D" and df.index[1] == pd.Timestamp("1990-01-02")
    assert df.shape == (4, 8)
    # No SHA-1 is known for Exchange: verify falls back to the published shape.
    with pytest.raises(ChecksumError, match="7588"):
        load("Exchange", path=file, verify=True)


def test_irregular_timestamps_leave_freq_unset(tmp_path):
    dates = ["2020-01-01 00:10:00", "2020-01-01 00:20:00", "2020-01-01 00:40:00"]
    file = _write_csv(tmp_path / "weather.csv", dates, {"OT": [1.0, 2.0, 3.0]})
    df = load("Weather", path=file)
    assert df.index.freq is None and len(df) == 3  # nothing inserted


def test_file_without_date_column(tmp_path):
    file = tmp_path / "weather.csv"
    pd.DataFrame({"time": [1, 2], "OT": [1.0, 2.0]}).to_csv(file, index=False)
    with pytest.raises(ValueError, match="no 'date' column"):
        load("Weather", path=file)


def test_bad_missing_option(data_home):
    with pytest.raises(ValueError, match="missing must be"):
        load("ETTh1", missing="drop")


# ------------------------------------------------------------------------------- splits


def test_etth1_split_rows(data_home):
    df = load("ETTh1")
    train, val, test = split(df, context_length=96)
    assert len(train) == 8640
    assert len(val) == 2880 + 96
    assert len(test) == 2880 + 96
    assert train.index[0] == df.index[0]
    assert val.index[0] == df.index[8640 - 96] and val.index[-1] == df.index[11519]
    assert test.index[0] == df.index[11520 - 96] and test.index[-1] == df.index[14399]
    # A name works too, and gives the same parts.
    for a, b in zip(split("ETTh1", 96), (train, val, test), strict=True):
        assert a.equals(b)


def test_split_bounds_rules():
    assert split_bounds("ETTh1", 96) == ((0, 8640), (8544, 11520), (11424, 14400))
    assert split_bounds("ETTh2", 0) == ((0, 8640), (8640, 11520), (11520, 14400))
    assert split_bounds("ETTm1", 96) == ((0, 34560), (34464, 46080), (45984, 57600))
    # 70/10/20 as in the Autoformer loader: int(966 * 0.7) = 676, int(966 * 0.2) = 193.
    assert split_bounds("ILI", 36) == ((0, 676), (640, 773), (737, 966))
    assert split_bounds("Weather", 96) == ((0, 36887), (36791, 42157), (42061, 52696))
    assert split_bounds(None, 0, n_rows=100) == ((0, 70), (70, 80), (80, 100))
    bounds = split_bounds("Electricity", 336)
    assert bounds.train == (0, 18412) and bounds.test == (26304 - 5260 - 336, 26304)


def test_split_of_ili_and_of_unnamed_frames(shared_datasets):
    train, val, test = split("ILI", 36, path=shared_datasets)
    assert (len(train), len(val), len(test)) == (676, 97 + 36, 193 + 36)
    plain = pd.DataFrame({"a": np.arange(10.0)})
    parts = split(plain, 1)
    assert [len(p) for p in parts] == [7, 2, 3]


def test_split_errors():
    with pytest.raises(ValueError, match="context_length must be an int >= 0"):
        split_bounds("ETTh1", -1)
    with pytest.raises(ValueError, match="longer than the training part"):
        split_bounds("ETTh1", 9000)
    with pytest.raises(ValueError, match="first 14400 rows"):
        split_bounds("ETTh1", 96, n_rows=1000)
    with pytest.raises(ValueError, match="context_length must be an int >= 0; got 1.5"):
        split_bounds("ETTh1", 1.5)
    assert split_bounds("ETTh1", np.int64(96)).val == (8544, 11520)
    with pytest.raises(ValueError, match="n_rows is required"):
        split_bounds(None, 0)
    with pytest.raises(ValueError, match="n_rows must be an int >= 1; got 0"):
        split_bounds(None, 0, n_rows=0)
    with pytest.raises(TypeError, match="DataFrame or a data set name"):
        split(np.zeros((10, 2)), 0)


# ----------------------------------------------------------------------------- download


def test_download_from_file_url(shared_datasets, tmp_path):
    source = shared_datasets / "national_illness.csv"
    path = download("ILI", data_home=tmp_path, url=source.as_uri())
    assert path == tmp_path / "national_illness.csv"
    assert file_sha1(path) == ILI_SHA1
    assert load("ILI", data_home=tmp_path).shape == (966, 7)
    assert not list(tmp_path.glob("*.part"))
    # Already there: returned without fetching (the URL would fail).
    assert download("ILI", data_home=tmp_path, url=(tmp_path / "gone").as_uri()) == path


def test_download_checksum_mismatch_removes_the_file(tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("date,OT\n2016-07-01 00:00:00,1.0\n")
    home = tmp_path / "home"
    with pytest.raises(ChecksumError, match=ETTH1_SHA1):
        download("ETTh1", data_home=home, url=wrong.as_uri())
    assert list(home.iterdir()) == []  # neither ETTh1.csv nor a partial file


def test_download_refuses_a_corrupt_existing_file(tmp_path, shared_datasets):
    (tmp_path / "ETTh1.csv").write_text("not the data\n")
    with pytest.raises(ChecksumError, match="force=True"):
        download("ETTh1", data_home=tmp_path)
    source = (shared_datasets / "ETTh1.csv").as_uri()
    path = download("ETTh1", data_home=tmp_path, url=source, force=True)
    assert file_sha1(path) == ETTH1_SHA1


def test_download_without_known_checksum_warns(tmp_path):
    source = _write_csv(tmp_path / "src.csv", ["2020-01-01 00:10:00"], {"OT": [1.0]})
    home = tmp_path / "home"
    with pytest.warns(UserWarning, match=file_sha1(source)):
        path = download("Weather", data_home=home, url=source.as_uri())
    assert path.read_bytes() == source.read_bytes()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep the test output clean
        pass


@pytest.fixture
def http_server(shared_datasets, tmp_path, monkeypatch):
    """Serve a folder holding the shared files and a corrupt ETTh1 on 127.0.0.1."""
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "served"
    (root / "bad").mkdir(parents=True)
    shutil.copy(shared_datasets / "ETTh1.csv", root / "ETTh1.csv")
    (root / "bad" / "ETTh1.csv").write_text("date,OT\n")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_over_http(http_server, tmp_path):
    home = tmp_path / "home"
    path = download("ETTh1", data_home=home, url=f"{http_server}/ETTh1.csv")
    assert path == home / "ETTh1.csv" and file_sha1(path) == ETTH1_SHA1
    assert [p.name for p in home.iterdir()] == ["ETTh1.csv"]
    assert load("ETTh1", data_home=home, verify=True).shape == (17_420, 7)


def test_download_over_http_checksum_mismatch(http_server, tmp_path):
    home = tmp_path / "home"
    with pytest.raises(ChecksumError, match="discarded"):
        download("ETTh1", data_home=home, url=f"{http_server}/bad/ETTh1.csv")
    assert list(home.iterdir()) == []


def test_download_http_error(http_server, tmp_path):
    home = tmp_path / "home"
    with pytest.raises(DownloadError, match="404"):
        download("ETTh1", data_home=home, url=f"{http_server}/missing.csv")
    assert list(home.iterdir()) == []


def test_download_of_bundled_set_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="nothing to download"):
        download("co2", data_home=tmp_path)


# -------------------------------------------------------------------- statsmodels sets


@pytest.mark.parametrize(
    ("name", "rows", "freq", "first", "column"),
    [
        ("co2", 2284, "W-SAT", "1958-03-29", "co2"),
        ("sunspots", 309, "YS-JAN", "1700-01-01", "SUNACTIVITY"),
        ("elnino", 732, "MS", "1950-01-01", "sst"),
        ("nile", 100, "YS-JAN", "1871-01-01", "volume"),
    ],
)
def test_statsmodels_sets(name, rows, freq, first, column):
    df = load(name)
    assert df.shape == (rows, 1) and list(df.columns) == [column]
    assert df.index.name == "date" and df.index.freqstr == freq
    assert df.index[0] == pd.Timestamp(first)
    assert df.attrs["dataset"] == name
    assert get_info(name).n_rows == rows


def test_elnino_is_read_row_by_row():
    df = load("elnino")
    # statsmodels: 1950 JAN 23.11, FEB 24.20; 1951 JAN 24.19.
    assert df.loc["1950-01-01", "sst"] == pytest.approx(23.11)
    assert df.loc["1950-02-01", "sst"] == pytest.approx(24.20)
    assert df.loc["1951-01-01", "sst"] == pytest.approx(24.19)


def test_co2_missing_values_are_kept_unless_asked():
    assert load("co2")["co2"].isna().sum() == 59
    filled = load("co2", missing="interpolate")
    assert filled["co2"].isna().sum() == 0 and len(filled) == 2284
    with pytest.raises(ValueError, match="'co2': 59"):
        load("co2", missing="raise")


def test_statsmodels_sets_take_no_path(tmp_path):
    with pytest.raises(ValueError, match="bundled with statsmodels"):
        load("nile", path=tmp_path)


def test_split_of_a_statsmodels_set():
    train, val, test = split(load("nile"), 5)
    assert (len(train), len(val), len(test)) == (70, 15, 25)


# -------------------------------------------------------------------- synthetic systems

SYNTHETIC = {
    # name: (generator, columns, seed, tau or None)
    "MackeyGlass17": ("mackey_glass", ["x"], 17, 17.0),
    "MackeyGlass30": ("mackey_glass", ["x"], 30, 30.0),
    "Lorenz63": ("lorenz63", ["x", "y", "z"], 63, None),
    "Lorenz96": ("lorenz96", [f"x{i}" for i in range(10)], 96, None),
}


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_registered_systems_are_generated_deterministically(name):
    from xlstm_ts.datasets.synthetic import GENERATORS

    generator, columns, seed, tau = SYNTHETIC[name]
    info = get_info(name)
    assert info.source == "synthetic" and info.split_rule == "ratio"
    assert info.generator == generator and info.season == 1
    params = dict(info.generator_params)
    assert params["seed"] == seed and params["noise"] == 0.02 and params["n_steps"] == 12_000
    if tau is not None:
        assert params["tau"] == tau and params["dt"] == 1.0
    with pytest.raises(TypeError):
        info.generator_params["seed"] = 0  # read-only: the registry is shared

    a, b = load(name), load(name.lower())
    assert a.shape == (12_000, len(columns)) == (info.n_rows, info.n_columns)
    assert list(a.columns) == columns and info.target == columns[0]
    assert a.index.freqstr == info.freq and a.attrs["dataset"] == name
    assert np.array_equal(a.to_numpy(), b.to_numpy()) and a.index.equals(b.index)  # bit for bit
    assert np.isfinite(a.to_numpy()).all()
    # the observation noise: 2 % of each column's standard deviation, on the same trajectory
    clean = GENERATORS[generator](**{**params, "noise": 0.0})
    ratio = (a - clean).to_numpy().std(axis=0) / clean.to_numpy().std(axis=0)
    np.testing.assert_allclose(ratio, 0.02, rtol=0.05)
    train, val, test = split(a, info.context_length)
    assert (len(train), len(val) - info.context_length, len(test) - info.context_length) == (
        8_400,
        1_200,
        2_400,
    )


def test_registered_systems_take_no_path(tmp_path):
    with pytest.raises(ValueError, match="Lorenz63 is generated; data_home and path"):
        load("Lorenz63", data_home=tmp_path)


@pytest.mark.parametrize(
    "name", [n for n in list_datasets() if get_info(n).horizons and get_info(n).source != "m4"]
)
def test_recommended_settings_fit_the_splits(name):
    info = get_info(name)
    assert info.context_length is not None and list(info.horizons) == sorted(info.horizons)
    bounds = split_bounds(name, info.context_length)
    for H in info.horizons:
        for start, stop in bounds:  # every part holds windows at every horizon
            assert stop - start >= info.context_length + H, (name, H)


@pytest.mark.parametrize(
    "generate",
    [
        functools.partial(lorenz63, 500, burn_in=200),
        functools.partial(lorenz96, 300, n_vars=10, burn_in=200),
        functools.partial(mackey_glass, 300, burn_in=100),
    ],
)
def test_generators_are_seeded(generate):
    a, b, c = generate(seed=1), generate(seed=1), generate(seed=2)
    assert a.equals(b)
    assert not np.allclose(a.to_numpy(), c.to_numpy())
    noisy = generate(seed=1, noise=0.1)
    assert not noisy.equals(a) and noisy.equals(generate(seed=1, noise=0.1))
    # The noise stream is separate: the underlying trajectory is the same.
    resid = (noisy - a).to_numpy()
    ratio = resid.std(axis=0) / a.to_numpy().std(axis=0)
    assert np.allclose(ratio, 0.1, atol=0.03)
    assert isinstance(a.index, pd.DatetimeIndex) and a.index.name == "date"
    assert np.isfinite(a.to_numpy()).all()


def test_lorenz63_stays_on_the_attractor():
    df = lorenz63(5_000, seed=0)
    assert list(df.columns) == ["x", "y", "z"] and len(df) == 5_000
    assert df.index.freqstr == "h" and df.index[0] == pd.Timestamp("2000-01-01")
    assert df["x"].abs().max() < 25 and df["y"].abs().max() < 35
    assert 0 < df["z"].min() and df["z"].max() < 55
    # Both wings are visited.
    assert (df["x"] > 5).any() and (df["x"] < -5).any()


def test_lorenz63_rk4_is_fourth_order():
    ref = lorenz63(101, initial=[1.0, 1.0, 1.0], burn_in=0, substeps=16).to_numpy()
    err = [
        np.abs(lorenz63(101, initial=[1.0, 1.0, 1.0], burn_in=0, substeps=s).to_numpy() - ref)
        for s in (1, 2)
    ]
    assert err[0].max() < 1e-3
    assert 10 < err[0].max() / err[1].max() < 24  # 2^4 = 16


def test_lorenz96_statistics():
    df = lorenz96(3_000, seed=0, start="2020-01-01", freq="6h")
    assert df.shape == (3_000, 40) and df.columns[0] == "x00" and df.columns[-1] == "x39"
    assert df.index.freqstr == "6h" and df.index[0] == pd.Timestamp("2020-01-01")
    values = df.to_numpy()
    # For F = 8 the climatological mean is about 2.3 and the spread about 3.6.
    assert 1.8 < values.mean() < 2.8 and 3.0 < values.std() < 4.2
    assert values.min() > -15 and values.max() < 20
    # Without the chaos there is no motion: x_i = F is an equilibrium.
    still = lorenz96(10, n_vars=5, initial=np.full(5, 8.0), burn_in=0)
    assert np.allclose(still.to_numpy(), 8.0)


def test_mackey_glass_range_and_accuracy():
    df = mackey_glass(2_000, seed=0)
    assert list(df.columns) == ["x"] and len(df) == 2_000
    assert 0.2 < df["x"].min() < 0.6 and 1.1 < df["x"].max() < 1.4
    # The classical history x0 = 1.2; the fine step converges at fourth order.
    ref = mackey_glass(100, x0=1.2, burn_in=0, step=0.0125).to_numpy()
    coarse = np.abs(mackey_glass(100, x0=1.2, burn_in=0, step=0.1).to_numpy() - ref).max()
    finer = np.abs(mackey_glass(100, x0=1.2, burn_in=0, step=0.05).to_numpy() - ref).max()
    assert coarse < 1e-6 and coarse / finer > 10
    assert df.attrs["generator"] == "mackey_glass" and df.attrs["params"]["tau"] == 17.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lorenz63(0), "n_steps must be an int >= 1; got 0"),
        (lambda: lorenz63(10, dt=-0.1), "dt must be a finite number > 0"),
        (lambda: lorenz63(10, initial=[1.0, 2.0]), "3 values"),
        (lambda: lorenz96(10, n_vars=3), "n_vars must be an int >= 4"),
        (lambda: lorenz96(10, noise=-1.0), "noise must be"),
        (lambda: mackey_glass(10, dt=0.25), "whole multiple of step"),
        (lambda: mackey_glass(10, tau=17.05), "tau=17.05 must be a whole multiple"),
        (lambda: mackey_glass(10, x0=-1.0), "x0 must be"),
    ],
)
def test_generator_arguments_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()
