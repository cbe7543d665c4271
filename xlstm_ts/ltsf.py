"""The long-horizon forecasting (LTSF) benchmark protocol.

For a data set, a lookback ``L`` and a horizon ``H``:

1. canonical train/validation/test rows from :func:`xlstm_ts.datasets.split_bounds`
   (ETTh: ``[0, 8640)``, ``[8640 − L, 11520)``, ``[11520 − L, 14400)``; others 70/10/20);
2. a per-channel z-score (:class:`~sklearn.preprocessing.StandardScaler`) fitted on the
   training rows only and applied to all rows;
3. every stride-1 window ``(context of L, target of H)`` that lies inside a part, built
   lazily as a view (no copy of all windows); each channel is a series of its own;
4. MSE and MAE on the scaled data over every test window of every channel (no
   ``drop_last``); model selection (early stopping, penalties) sees the validation
   windows only.

>>> from xlstm_ts import ltsf
>>> data = ltsf.prepare("ETTh1", lookback=336)                     # doctest: +SKIP
>>> result = ltsf.run_benchmark(data, horizons=[96], models=["ridge"])  # doctest: +SKIP
>>> print(ltsf.format_table(result))                               # doctest: +SKIP
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import StandardScaler

from xlstm_ts.baselines import (
    ETSOrigins,
    RidgeNLinear,
    fit_dlinear,
    season_length,
    seasonal_naive,
)
from xlstm_ts.datasets import SplitBounds, split_bounds

__all__ = [
    "MODELS",
    "LTSFData",
    "LTSFModel",
    "Windows",
    "evaluate",
    "format_table",
    "prepare",
    "run_benchmark",
    "summarize",
]

Part = Literal["train", "val", "test"]
Log = Callable[[str], None]


# ---------------------------------------------------------------------------- data
class Windows:
    """Every stride-1 window of one part of the scaled data, for one horizon.

    Window ``j`` of channel ``c`` has its context at rows ``[o − L, o)`` and its target at
    rows ``[o, o + H)`` of the full series, with origin ``o = start + L + j``. Windows are
    views into the series (:func:`numpy.lib.stride_tricks.sliding_window_view`); only
    the blocks asked for are copied.

    Parameters
    ----------
    values : ndarray of shape (C, T)
        Scaled series, one row per channel.
    start, stop : int
        Rows of the part, half-open (its first ``lookback`` rows are context only).
    lookback, horizon : int
        ``L`` and ``H``.
    """

    def __init__(self, values: np.ndarray, start: int, stop: int, lookback: int, horizon: int):
        self.lookback, self.horizon = lookback, horizon
        self.start, self.stop = start, stop
        self.n_channels = values.shape[0]
        self.n_per_channel = stop - start - lookback - horizon + 1
        if self.n_per_channel < 1:
            raise ValueError(
                f"rows [{start}, {stop}) hold no window of lookback {lookback} + horizon "
                f"{horizon}; the part needs at least {lookback + horizon} rows"
            )
        # (C, n, L + H) view; no copy
        self._view = sliding_window_view(values[:, start:stop], lookback + horizon, axis=1)

    def __len__(self) -> int:
        return self.n_channels * self.n_per_channel

    @property
    def origins(self) -> np.ndarray:
        """Row of the first target step of each window of a channel, shape (n_per_channel,)."""
        return np.arange(self.n_per_channel) + self.start + self.lookback

    def channel(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Views ``(contexts (n, L), targets (n, H))`` of channel ``c``."""
        w = self._view[c]
        return w[:, : self.lookback], w[:, self.lookback :]

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Copies ``(X (n, L), Y (n, H))`` of windows numbered ``c·n_per_channel + j``."""
        idx = np.asarray(idx, dtype=np.int64)
        w = self._view[idx // self.n_per_channel, idx % self.n_per_channel]
        return w[:, : self.lookback], w[:, self.lookback :]

    def blocks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every window once, channel by channel, at most ``size`` at a time (copies)."""
        for _, _, X, Y in self.iter_blocks(size):
            yield X, Y

    def iter_blocks(self, size: int) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """``(channel, origins, X, Y)`` for every block of at most ``size`` windows."""
        origins = self.origins
        for c in range(self.n_channels):
            w = self._view[c]
            for a in range(0, self.n_per_channel, size):
                block = np.ascontiguousarray(w[a : a + size])
                yield c, origins[a : a + size], block[:, : self.lookback], block[:, self.lookback :]


@dataclass
class LTSFData:
    """A data set prepared for the benchmark: canonical splits and train-only scaling.

    Attributes
    ----------
    name : str
        Data set name, or the CSV file's stem.
    values : ndarray of shape (C, T)
        Z-scored channels, rows ``[0, bounds.test[1])`` (later rows are not used).
    columns : list of str
        Channel names.
    lookback : int
    bounds : SplitBounds
        Rows of the train, validation and test parts.
    freq : str or None
        Pandas frequency of the rows, where known.
    scaler : StandardScaler
        Fitted on the training rows; ``scaler.mean_``/``scaler.scale_`` per channel.
    """

    name: str
    values: np.ndarray
    columns: list[str]
    lookback: int
    bounds: SplitBounds
    freq: str | None
    scaler: StandardScaler = field(repr=False)

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return self.values.shape[0]

    def windows(self, part: Part, horizon: int) -> Windows:
        """Lazy windows of ``part`` (``"train"``, ``"val"`` or ``"test"``) for ``horizon``."""
        if part not in ("train", "val", "test"):
            raise ValueError(f"part must be 'train', 'val' or 'test'; got {part!r}")
        start, stop = getattr(self.bounds, part)
        return Windows(self.values, start, stop, self.lookback, horizon)

    def frame(self, stop: int) -> pd.DataFrame:
        """Scaled rows ``[0, stop)`` as a wide frame (``RangeIndex``, one column per channel)."""
        return pd.DataFrame(self.values[:, :stop].T, columns=self.columns)


def _read_csv(path: Path, time_col: str | None) -> tuple[pd.DataFrame, str | None]:
    frame = pd.read_csv(path)
    time_col = frame.columns[0] if time_col is None else time_col
    if time_col not in frame.columns:
        raise ValueError(f"time column {time_col!r} is not in {path} (columns: {list(frame)})")
    times = frame.pop(time_col)
    freq = None
    if not pd.api.types.is_numeric_dtype(times):
        try:
            index = pd.DatetimeIndex(pd.to_datetime(times))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: cannot parse column {time_col!r} as times: {exc}") from exc
        if not index.is_monotonic_increasing:
            raise ValueError(f"{path}: the times in {time_col!r} are not in increasing order")
        frame.index = index
        if len(index) >= 3:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas 3 announces offsets instead of str
                inferred = pd.infer_freq(index)
            freq = None if inferred is None else pd.tseries.frequencies.to_offset(inferred).freqstr
    return frame, freq


def prepare(
    dataset: str | None = None,
    *,
    lookback: int,
    csv: str | os.PathLike[str] | None = None,
    target: Sequence[str] | None = None,
    time_col: str | None = None,
    data_home: str | os.PathLike[str] | None = None,
) -> LTSFData:
    """Load, split and scale a data set for the benchmark.

    Parameters
    ----------
    dataset : str, optional
        A registered name (see :func:`xlstm_ts.datasets.list_datasets`); its canonical
        split rule applies. With ``csv``, a registered name picks the rule for that file.
    lookback : int
        ``L``: validation and test parts start ``L`` rows early.
    csv : path-like, optional
        A wide CSV file (a time column, then one column per series) instead of, or as the
        file of, ``dataset``. Without ``dataset`` it is split 70/10/20.
    target : sequence of str, optional
        Columns to use; default all.
    time_col : str, optional
        Time column of ``csv``; default its first column.
    data_home : path-like, optional
        Where registered files are read from.

    Returns
    -------
    LTSFData
    """
    from xlstm_ts.datasets import get_info, load

    if dataset is None and csv is None:
        raise ValueError("give a registered dataset name or a csv path")
    if csv is not None:
        frame, freq = _read_csv(Path(csv), time_col)
        name = Path(csv).stem if dataset is None else get_info(dataset).name
        freq = freq or (get_info(dataset).freq if dataset is not None else None)
    else:
        frame = load(dataset, data_home=data_home)
        name = frame.attrs["dataset"]
        freq = get_info(name).freq
    if target is not None:
        missing = [c for c in target if c not in frame.columns]
        if missing:
            raise ValueError(f"target columns {missing} not found; columns are {list(frame)}")
        frame = frame[list(target)]
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"columns {bad} are not numeric; pass target=[...] to choose columns")
    bounds = split_bounds(dataset if dataset is not None else None, lookback, n_rows=len(frame))
    raw = frame.to_numpy(dtype=np.float64)[: bounds.test[1]]
    if np.isnan(raw).any():
        has_nan = np.isnan(raw).any(axis=0)
        cols = [str(c) for c, nan in zip(frame.columns, has_nan, strict=True) if nan]
        raise ValueError(f"missing values in columns {cols}; fill them before benchmarking")
    train_stop = bounds.train[1]
    scaler = StandardScaler().fit(raw[:train_stop])
    values = np.ascontiguousarray(scaler.transform(raw).T)
    return LTSFData(
        name=name,
        values=values,
        columns=[str(c) for c in frame.columns],
        lookback=lookback,
        bounds=bounds,
        freq=freq,
        scaler=scaler,
    )


# ---------------------------------------------------------------------------- models
class LTSFModel(Protocol):
    """What the benchmark needs of a model.

    ``fit`` sees the training and validation windows (never the test part) and returns
    a dict of facts worth recording (chosen penalty, epochs, …); ``predict`` forecasts
    a block of test windows of one channel, given their contexts and origins (the row of
    their first target step).
    """

    stochastic: bool

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]: ...

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray: ...


class RidgeModel:
    """:class:`~xlstm_ts.baselines.RidgeNLinear`, penalty chosen on the validation windows."""

    stochastic = False

    def __init__(self, **params: Any) -> None:
        self.params = params

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        self.model = RidgeNLinear(**self.params).fit(
            data.windows("train", horizon), data.windows("val", horizon)
        )
        return {"lambda": self.model.lambda_}

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        return self.model.predict(contexts)


class DLinearModel:
    """DLinear (:func:`~xlstm_ts.baselines.fit_dlinear`), early-stopped on validation."""

    stochastic = True

    def __init__(self, **params: Any) -> None:
        self.params = params

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        import torch

        self.net, info = fit_dlinear(
            data.windows("train", horizon),
            data.windows("val", horizon),
            data.lookback,
            horizon,
            seed=seed,
            **self.params,
        )
        self._torch = torch
        return info

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        with self._torch.no_grad():
            x = self._torch.from_numpy(np.asarray(contexts, dtype=np.float32))
            return self.net(x).double().numpy()


def _season(data: LTSFData, season: int | None) -> int:
    m = season_length(data.freq) if season is None else int(season)
    if m < 1:
        raise ValueError(f"season must be >= 1; got {m}")
    return m


class SeasonalNaiveModel:
    """Repeat the window's last season (24 for hourly data; see ``season_length``)."""

    stochastic = False

    def __init__(self, season: int | None = None) -> None:
        self.season = season

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        self.m, self.horizon = _season(data, self.season), horizon
        if self.m > data.lookback:
            raise ValueError(
                f"seasonal naive needs season <= lookback; got season {self.m} and "
                f"lookback {data.lookback}"
            )
        return {"season": self.m}

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        return seasonal_naive(contexts, self.m, self.horizon)


class ETSBenchmarkModel:
    """Additive damped-trend seasonal ETS per channel (:class:`~xlstm_ts.baselines.ETSOrigins`).

    Fitted once per channel on the training rows; the filter then runs once over the
    training, validation and test rows with the fitted parameters, and each test origin's
    forecast follows in closed form from the state there.
    """

    stochastic = False

    def __init__(
        self, season: int | None = None, trend: str | None = "add", damped_trend: bool = True
    ) -> None:
        self.season, self.trend, self.damped_trend = season, trend, damped_trend

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        # the fit and the filter do not depend on the horizon: reuse them across horizons
        reused = getattr(self, "_data", None) is data
        if not reused:
            m = _season(data, self.season)
            train_stop, stop = data.bounds.train[1], data.bounds.test[1]
            self.models, self.states = [], []
            for y in data.values:
                model = ETSOrigins(m, self.trend, self.damped_trend).fit(y[:train_stop])
                self.models.append(model)
                self.states.append(model.states(y[:stop]))
            self._data = data
        self.horizon = horizon
        return {"params": [m.params_ for m in self.models], "fit_reused": reused}

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        model = self.models[channel]
        return model.forecast_from_states(self.states[channel], origins, self.horizon)


class XLSTMModel:
    """:class:`~xlstm_ts.XLSTMForecaster` on the protocol's windows.

    Fitted on the scaled training and validation rows as a wide frame with
    ``validation_size`` equal to the validation part's target steps, so that the
    estimator's validation windows (early stopping, checkpoint choice) are exactly the
    protocol's. ``context_length``, ``horizon``, ``validation_size`` and
    ``random_state`` are set by the protocol.
    """

    stochastic = True
    _FIXED = ("context_length", "horizon", "validation_size", "random_state")

    def __init__(self, **params: Any) -> None:
        fixed = [k for k in self._FIXED if k in params]
        if fixed:
            raise ValueError(
                f"xLSTM parameters {fixed} are set by the benchmark (lookback, horizon, "
                "validation part, seed); leave them out"
            )
        self.params = {"progress_bar": False, **params}

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        from xlstm_ts import XLSTMForecaster

        train_stop, val_stop = data.bounds.train[1], data.bounds.val[1]
        data.windows("val", horizon)  # raises if the validation part holds no window
        self.model = XLSTMForecaster(
            horizon=horizon,
            context_length=data.lookback,
            validation_size=val_stop - train_stop,
            random_state=seed,
            **self.params,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            self.model.fit(data.frame(val_stop))
        return {"epochs": self.model.n_epochs_, "best_val_loss": self.model.best_val_loss_}

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        return self.model.predict_contexts(contexts)


MODELS: dict[str, Callable[..., LTSFModel]] = {
    "xlstm": XLSTMModel,
    "ridge": RidgeModel,
    "dlinear": DLinearModel,
    "seasonal_naive": SeasonalNaiveModel,
    "ets": ETSBenchmarkModel,
}
"""Model names accepted by :func:`run_benchmark`, and their factories."""


# ---------------------------------------------------------------------------- evaluation
def evaluate(model: LTSFModel, windows: Windows, block_size: int = 2048) -> dict[str, float]:
    """MSE and MAE of ``model`` over every window of ``windows``.

    Parameters
    ----------
    model : LTSFModel
        A fitted model.
    windows : Windows
        Usually ``data.windows("test", H)``.
    block_size : int
        Windows forecast at once.

    Returns
    -------
    dict
        ``mse``, ``mae`` (means over all channels, windows and steps) and ``n_windows``.
    """
    sse = sae = 0.0
    n = 0
    for c, origins, X, Y in windows.iter_blocks(block_size):
        pred = np.asarray(model.predict(X, c, origins), dtype=np.float64)
        if pred.shape != Y.shape:
            raise ValueError(
                f"the model returned forecasts of shape {pred.shape}; expected {Y.shape}"
            )
        err = pred - Y
        sse += float(np.einsum("ij,ij->", err, err))
        sae += float(np.abs(err).sum())
        n += err.size
    return {"mse": sse / n, "mae": sae / n, "n_windows": len(windows)}


def _versions() -> dict[str, str]:
    import sklearn
    import statsmodels
    import torch

    import xlstm_ts

    return {
        "xlstm_ts": xlstm_ts.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "statsmodels": statsmodels.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": str(os.cpu_count()),
    }


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_benchmark(
    data: LTSFData,
    horizons: Sequence[int],
    models: Sequence[str],
    seeds: Sequence[int] = (0,),
    model_params: Mapping[str, Mapping[str, Any]] | None = None,
    log: Log | None = _stderr,
) -> dict[str, Any]:
    """Fit and evaluate each model at each horizon on the same test windows.

    Stochastic models (``xlstm``, ``dlinear``) run once per seed; deterministic ones
    once (their seed is recorded as ``None``).

    Parameters
    ----------
    data : LTSFData
        From :func:`prepare`.
    horizons : sequence of int
    models : sequence of str
        Names from :data:`MODELS`.
    seeds : sequence of int
    model_params : mapping, optional
        Keyword arguments per model name, e.g. ``{"xlstm": {"d_model": 64}}``.
    log : callable, optional
        Receives progress lines (default: standard error); ``None`` is silent.

    Returns
    -------
    dict
        JSON-ready: ``config``, ``data`` (rows, channels, split bounds, windows per
        part), ``versions`` and ``runs`` (one entry per model, horizon and seed with
        ``mse``, ``mae``, ``fit_seconds``, ``predict_seconds`` and ``info``).
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown models {unknown}; expected some of {sorted(MODELS)}")
    params = {k: dict(v) for k, v in (model_params or {}).items()}
    unknown = [m for m in params if m not in MODELS]
    if unknown:
        raise ValueError(f"parameters given for unknown models {unknown}")
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    say = log or (lambda _: None)
    windows: dict[str, dict[str, int]] = {}
    runs: list[dict[str, Any]] = []
    instances = {name: MODELS[name](**params.get(name, {})) for name in models}
    for H in horizons:
        test = data.windows("test", H)
        windows[str(H)] = {
            part: len(data.windows(part, H)) // data.n_channels for part in ("train", "val")
        } | {"test": test.n_per_channel}
        for name, model in instances.items():
            for seed in seeds if model.stochastic else [None]:
                tag = f"{name} H={H}" + ("" if seed is None else f" seed={seed}")
                say(f"[ltsf] {data.name} L={data.lookback} {tag}: fitting")
                t0 = time.perf_counter()
                info = model.fit(data, H, 0 if seed is None else seed)
                t1 = time.perf_counter()
                scores = evaluate(model, test)
                t2 = time.perf_counter()
                say(
                    f"[ltsf] {tag}: MSE {scores['mse']:.4f} MAE {scores['mae']:.4f} "
                    f"(fit {t1 - t0:.1f} s, predict {t2 - t1:.1f} s)"
                )
                runs.append(
                    {
                        "model": name,
                        "horizon": H,
                        "seed": seed,
                        **scores,
                        "fit_seconds": t1 - t0,
                        "predict_seconds": t2 - t1,
                        "info": _jsonable(info),
                    }
                )
    return {
        "config": {
            "dataset": data.name,
            "lookback": data.lookback,
            "horizons": list(horizons),
            "models": list(models),
            "seeds": list(seeds),
            "model_params": _jsonable(params),
        },
        "data": {
            "n_rows_used": data.values.shape[1],
            "channels": data.columns,
            "freq": data.freq,
            "bounds": {k: list(v) for k, v in data.bounds._asdict().items()},
            "windows_per_channel": windows,
        },
        "versions": _versions(),
        "runs": runs,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def summarize(result: Mapping[str, Any]) -> dict[tuple[str, int], dict[str, float]]:
    """Mean and standard deviation (over seeds, ``ddof=1``; 0 for one run) per model and horizon."""
    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for run in result["runs"]:
        groups.setdefault((run["model"], run["horizon"]), []).append(run)
    out = {}
    for key, runs in groups.items():
        mse, mae = (np.array([r[m] for r in runs]) for m in ("mse", "mae"))
        spread = len(runs) > 1
        out[key] = {
            "mse": float(mse.mean()),
            "mse_std": float(mse.std(ddof=1)) if spread else 0.0,
            "mae": float(mae.mean()),
            "mae_std": float(mae.std(ddof=1)) if spread else 0.0,
            "n": len(runs),
        }
    return out


def format_table(result: Mapping[str, Any], digits: int = 3) -> str:
    """Markdown table: one row per horizon, one column per model, cells ``MSE / MAE``.

    Models run with several seeds show ``mean±std``.
    """
    stats = summarize(result)
    models = list(result["config"]["models"])
    lines = [
        "| H | " + " | ".join(f"{m} MSE / MAE" for m in models) + " |",
        "|---:|" + "---|" * len(models),
    ]

    def cell(s: dict[str, float] | None) -> str:
        if s is None:
            return "–"
        if s["n"] > 1:
            return (
                f"{s['mse']:.{digits}f}±{s['mse_std']:.{digits}f} / "
                f"{s['mae']:.{digits}f}±{s['mae_std']:.{digits}f}"
            )
        return f"{s['mse']:.{digits}f} / {s['mae']:.{digits}f}"

    for H in result["config"]["horizons"]:
        lines.append(f"| {H} | " + " | ".join(cell(stats.get((m, H))) for m in models) + " |")
    return "\n".join(lines)
