"""The M4 protocol: one global model over every series of a frequency, scored as in the competition.

For an M4 frequency (:func:`xlstm_ts.datasets.m4.load_m4`), with horizon ``h`` and
seasonal period ``m``:

1. the official split: each series' training part is what the model sees; its test part
   (the next ``h`` values, the competition's test file) is scored only;
2. the xLSTM is one :class:`~xlstm_ts.XLSTMForecaster` fitted on the panel of all the
   training parts, with validation (early stopping, the choice between its candidates)
   on the last ``h`` values of each training part only, and forecasts ``h`` steps after
   each training part;
3. baselines on the same split: Naive, SeasonalNaive and Naive2 (our own code), Theta
   and AutoETS (statsforecast, when it is installed; skipped with a message otherwise);
4. sMAPE and MASE averaged over the series, and OWA relative to Naive2
   (:mod:`xlstm_ts.metrics.m4`).

Series too short for the xLSTM's windows: the estimator needs ``context_length + h +
h`` values of a series (a context, a training target, the validation part). By default
the context is the longest that every series allows (at most the estimator's default of
96 steps, at least ``h``); series shorter than that need, or than a ``context_length``
given, are left out of the fit and forecast with Naive, and the result says which.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from xlstm_ts.baselines import seasonal_naive
from xlstm_ts.datasets.m4 import M4Data
from xlstm_ts.estimators import XLSTMForecaster
from xlstm_ts.jsonable import jsonable
from xlstm_ts.metrics.m4 import interval_scores, largest_ratio, m4_scores, naive2

from .models import QUIET
from .report import versions

M4_MODELS = ("xlstm", "naive", "seasonal_naive", "naive2", "theta", "autoets")
"""Model names of the M4 protocol."""

STATSFORECAST_MODELS = ("theta", "autoets")
"""The models taken from statsforecast (the optional extra ``m4``)."""

DEFAULT_CONTEXT = 96
"""The estimator's default context length: the longest the automatic choice takes."""

_FIXED = ("horizon", "context_length", "validation_size", "random_state")

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def statsforecast_available() -> bool:
    """Whether statsforecast can be imported (``pip install 'xlstm-ts[m4]'``)."""
    return importlib.util.find_spec("statsforecast") is not None


def choose_context(lengths: Sequence[int], horizon: int, context_length: int | None) -> int:
    """The xLSTM's context length: ``context_length`` when given, else the longest that
    every series allows (``min(lengths) - 2h``), at most 96 and at least ``h``."""
    if context_length is not None:
        if context_length < 1:
            raise ValueError(f"context_length must be >= 1; got {context_length}")
        return int(context_length)
    return int(min(DEFAULT_CONTEXT, max(min(lengths) - 2 * horizon, horizon)))


def _naive(series: list[np.ndarray], h: int, m: int = 1) -> np.ndarray:
    return np.stack([seasonal_naive(y, m, h) for y in series])


BAND = (0.1, 0.9)
"""The quantiles of the interval the protocol scores (the estimator's default band)."""


def _statsforecast(
    name: str, series: list[np.ndarray], h: int, m: int
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Theta or AutoETS per series, with its 80 % interval as the (0.1, 0.5, 0.9)
    quantiles; a series where the model fails gets Naive and no interval (counted)."""
    from statsforecast.models import AutoETS, Theta

    make = {"theta": lambda: Theta(season_length=m), "autoets": lambda: AutoETS(season_length=m)}
    out, failed = np.empty((len(series), h)), {}
    quantiles = np.full((len(series), h, 3), np.nan)
    for k, y in enumerate(series):
        try:
            fc = make[name]().forecast(y=y.astype(np.float64), h=h, level=[80])
            out[k] = np.asarray(fc["mean"])
            if not np.isfinite(out[k]).all():
                raise ValueError("non-finite forecast")
            quantiles[k] = np.stack([fc["lo-80"], fc["mean"], fc["hi-80"]], axis=1)
        except Exception as exc:  # noqa: BLE001 - any failure of the library's fit
            failed[k] = f"{type(exc).__name__}: {exc}"
            out[k] = y[-1]
    return out, quantiles, {"failed_series": failed, "season_length": m}


class XLSTMM4:
    """The xLSTM under the M4 protocol: one forecaster fitted on all training parts.

    Parameters
    ----------
    context_length : int, optional
        Context of the estimator; default :func:`choose_context`'s.
    **params
        Estimator parameters beside its defaults (the protocol measures the default).
        ``horizon``, ``context_length``, ``validation_size`` and ``random_state`` are set
        by the protocol.
    """

    def __init__(self, context_length: int | None = None, **params: Any) -> None:
        fixed = [k for k in _FIXED if k in params]
        if fixed:
            raise ValueError(
                f"xLSTM parameters {fixed} are set by the M4 protocol (horizon, validation "
                "part, seed; the context with --context-length); leave them out"
            )
        self.context_length = context_length
        self.params = {**QUIET, **params}

    def forecast(
        self, data: M4Data, series: list[np.ndarray], seed: int
    ) -> tuple[np.ndarray, np.ndarray, dict]:
        """Fit on the training parts, forecast after them: the point forecasts, the
        (0.1, 0.5, 0.9) quantiles and what the fit chose; Naive for the left-out series
        (without quantiles: NaN)."""
        h = data.horizon
        lengths = [len(y) for y in series]
        L = choose_context(lengths, h, self.context_length)
        need = L + 2 * h
        ids = data.ids
        kept = [k for k, n in enumerate(lengths) if n >= need]
        left_out = [ids[k] for k, n in enumerate(lengths) if n < need]
        if not kept:
            raise ValueError(
                f"no series has the {need} values that context_length {L} + horizon {h} + "
                f"validation {h} need; give a shorter --context-length"
            )
        frame = data.train
        if left_out:
            frame = frame[frame["unique_id"].isin([ids[k] for k in kept])]
        model = XLSTMForecaster(
            horizon=h, context_length=L, validation_size=h, random_state=seed, **self.params
        ).fit(frame)
        levels = model.quantile_levels_
        q = (
            model.predict_quantiles(quantiles=[BAND[0], 0.5, BAND[1]])
            if (BAND[0] in levels and BAND[1] in levels)
            else None
        )
        pred = model.predict()
        out = _naive(series, h)
        quantiles = np.full((len(series), h, 3), np.nan)
        by_id = {uid: g["y"].to_numpy() for uid, g in pred.groupby("unique_id", sort=False)}
        columns = [f"q{level:g}" for level in (BAND[0], 0.5, BAND[1])]
        q_by_id = {} if q is None else {
            uid: g[columns].to_numpy() for uid, g in q.groupby("unique_id", sort=False)
        }  # fmt: skip
        for k in kept:
            out[k] = by_id[ids[k]]
            if q_by_id:
                quantiles[k] = q_by_id[ids[k]]
        return (
            out,
            quantiles,
            {
                "context_length": L,
                "validation_steps": h,
                "series_fitted": len(kept),
                "series_left_out": left_out,
                "left_out_forecast": "naive",
                "epochs": model.n_epochs_,
                "best_val_loss": model.best_val_loss_,
                "linear_path": model.linear_path_,
                "decision": model.decision_,
                "params": {k: v for k, v in self.params.items() if k != "trainer_kwargs"},
            },
        )


def run_m4(
    data: M4Data,
    models: Sequence[str] = M4_MODELS,
    seeds: Sequence[int] = (0,),
    xlstm_params: Mapping[str, Any] | None = None,
    context_length: int | None = None,
    max_series: int | None = None,
    log: Log | None = _stderr,
) -> dict[str, Any]:
    """Forecast every series of an M4 frequency with each model and score the test part.

    Parameters
    ----------
    data : M4Data
        From :func:`xlstm_ts.datasets.m4.load_m4`.
    models : sequence of str
        Names from :data:`M4_MODELS`. ``theta`` and ``autoets`` are skipped, with the
        reason in ``skipped``, when statsforecast is not installed.
    seeds : sequence of int
        Seeds of the xLSTM (one fit each); the baselines are deterministic.
    xlstm_params : mapping, optional
        Parameters of :class:`~xlstm_ts.XLSTMForecaster` (see :class:`XLSTMM4`).
    context_length : int, optional
        The xLSTM's context; default :func:`choose_context`'s.
    max_series : int, optional
        Use the first ``max_series`` series only (a quick check, not the benchmark).
    log : callable, optional
        Receives progress lines (default: standard error); ``None`` is silent.

    Returns
    -------
    dict
        JSON-ready: ``config``, ``data`` (series, their lengths), ``versions``,
        ``skipped`` (model: reason) and ``runs`` (one per model and seed: ``smape``,
        ``mase``, ``owa``, ``largest_ratio`` (:func:`largest_ratio`), for the models with
        quantiles those of :func:`interval_scores`, ``fit_seconds``, ``info``).
    """
    unknown = [m for m in models if m not in M4_MODELS]
    if unknown:
        raise ValueError(f"models {unknown} are not in the M4 protocol; choose among {M4_MODELS}")
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    say = log or (lambda _: None)
    series, actual = data.series(), data.test_values()
    if max_series is not None:
        if max_series < 1:
            raise ValueError(f"max_series must be >= 1; got {max_series}")
        series, actual = series[:max_series], actual[:max_series]
        keep = set(data.ids[:max_series])
        data = M4Data(
            data.name, data.train[data.train["unique_id"].isin(keep)],
            data.test[data.test["unique_id"].isin(keep)], data.horizon, data.season, data.files,
        )  # fmt: skip
    h, m = data.horizon, data.season
    reference = np.stack([naive2(y, h, m) for y in series])
    skipped: dict[str, str] = {}
    if any(name in STATSFORECAST_MODELS for name in models) and not statsforecast_available():
        for name in models:
            if name in STATSFORECAST_MODELS:
                skipped[name] = (
                    "statsforecast is not installed (pip install 'xlstm-ts[m4]' or "
                    "pip install statsforecast)"
                )
                say(f"[m4] {name} skipped: {skipped[name]}")
    xlstm = XLSTMM4(context_length, **(xlstm_params or {})) if "xlstm" in models else None
    runs: list[dict[str, Any]] = []
    for name in models:
        if name in skipped:
            continue
        for seed in seeds if name == "xlstm" else [None]:
            tag = name + ("" if seed is None else f" seed={seed}")
            say(f"[m4] {data.name} ({len(series)} series, h={h}, m={m}) {tag}: fitting")
            t0 = time.perf_counter()
            quantiles = None
            if name == "xlstm":
                pred, quantiles, info = xlstm.forecast(data, series, seed)
            elif name in STATSFORECAST_MODELS:
                pred, quantiles, info = _statsforecast(name, series, h, m)
            elif name == "naive2":
                pred, info = reference, {"season": m}
            else:
                pred = _naive(series, h, m if name == "seasonal_naive" else 1)
                info = {"season": m if name == "seasonal_naive" else 1}
            seconds = time.perf_counter() - t0
            scores = m4_scores(actual, pred, series, m, reference=reference)
            scores["largest_ratio"] = largest_ratio(pred, series)
            if quantiles is not None:
                scores.update(interval_scores(actual, quantiles, series))
            say(
                f"[m4] {tag}: sMAPE {scores['smape']:.3f} MASE {scores['mase']:.3f} "
                f"OWA {scores['owa']:.3f} ({seconds:.1f} s)"
            )
            runs.append(
                {
                    "model": name,
                    "seed": seed,
                    **scores,
                    "fit_seconds": seconds,
                    "info": jsonable(info),
                }
            )
    lengths = np.array([len(y) for y in series])
    return {
        "config": {
            "dataset": data.name,
            "protocol": "m4",
            "horizon": h,
            "season": m,
            "models": list(models),
            "seeds": list(seeds),
            "xlstm_params": jsonable(dict(xlstm_params or {})),
            "context_length": context_length,
            "max_series": max_series,
        },
        "data": {
            "n_series": len(series),
            "length_min": int(lengths.min()),
            "length_median": float(np.median(lengths)),
            "length_max": int(lengths.max()),
            "files": [str(f) for f in data.files],
        },
        "versions": versions() | {"statsforecast": _statsforecast_version()},
        "skipped": skipped,
        "runs": runs,
    }


def _statsforecast_version() -> str | None:
    if not statsforecast_available():
        return None
    from importlib.metadata import version

    return version("statsforecast")


def format_m4_table(result: Mapping[str, Any], digits: int = 3) -> str:
    """Markdown table: one row per model (``mean±std`` over the xLSTM's seeds), then notes
    on skipped models and series forecast with Naive instead of the xLSTM."""
    keys = ("smape", "mase", "owa", "coverage", "width", "scaled_pinball", "largest_ratio",
            "fit_seconds")  # fmt: skip
    lines = [
        "| model | sMAPE | MASE | OWA | 10–90 % coverage | width | scaled pinball | "
        "largest ratio | fit (s) |",
        "|---|" + "---:|" * len(keys),
    ]
    notes = []
    for name in result["config"]["models"]:
        runs = [r for r in result["runs"] if r["model"] == name]
        if not runs:
            lines.append(f"| {name} |" + " – |" * len(keys))
            continue
        cells = []
        for key in keys:
            if key not in runs[0]:
                cells.append("–")
                continue
            v = np.array([r[key] for r in runs])
            d = 0 if key == "fit_seconds" else digits
            spread = f"±{v.std(ddof=1):.{d}f}" if len(v) > 1 else ""
            cells.append(f"{v.mean():.{d}f}{spread}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        info = runs[0]["info"]
        if name == "xlstm":
            left = info["series_left_out"]
            notes.append(
                f"xlstm: context {info['context_length']}, validation the last "
                f"{info['validation_steps']} values of each training part; "
                + (
                    f"{len(left)} series too short for its windows forecast with Naive "
                    f"({', '.join(left[:10])}{', ...' if len(left) > 10 else ''})"
                    if left
                    else "every series fitted"
                )
            )
        failed = info.get("failed_series")
        if failed:
            notes.append(f"{name}: {len(failed)} series where the model failed forecast with Naive")
    for name, reason in result["skipped"].items():
        notes.append(f"{name} skipped: {reason}")
    return "\n".join(lines + ([""] + [f"- {n}" for n in notes] if notes else []))
