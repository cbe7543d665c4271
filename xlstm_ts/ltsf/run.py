"""Running the benchmark: fit every model at every horizon, score on the test windows."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from xlstm_ts.data import Windows
from xlstm_ts.jsonable import jsonable

from .data import LTSFData
from .models import MODELS, LTSFModel
from .report import versions

Log = Callable[[str], None]
OnFit = Callable[[str, int, int | None, LTSFModel], None]


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


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_benchmark(
    data: LTSFData,
    horizons: Sequence[int],
    models: Sequence[str],
    seeds: Sequence[int] = (0,),
    model_params: Mapping[str, Mapping[str, Any]] | None = None,
    log: Log | None = _stderr,
    on_fit: OnFit | None = None,
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
    on_fit : callable, optional
        Called as ``on_fit(name, horizon, seed, model)`` after each model is fitted and
        scored, e.g. to draw its forecasts (``seed`` is ``None`` for deterministic
        models); the model is refitted for the next seed or horizon.

    Returns
    -------
    dict
        JSON-ready: ``config`` (with ``missing``: the treatment of missing values and
        the values filled per column), ``data`` (rows, channels, split bounds, windows
        per part; for synthetic sets the generator and its parameters), ``versions``
        and ``runs`` (one entry per model, horizon and seed with ``mse``, ``mae``,
        ``fit_seconds``, ``predict_seconds`` and ``info``).
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
    if data.missing["filled"]:
        filled = ", ".join(f"{c}: {n}" for c, n in data.missing["filled"].items())
        say(f"[ltsf] {data.name}: missing values interpolated linearly in time ({filled})")
    windows: dict[str, dict[str, int]] = {}
    runs: list[dict[str, Any]] = []
    instances = {name: MODELS[name](**params.get(name, {})) for name in models}
    for H in horizons:
        test = data.windows("test", H)
        windows[str(H)] = {
            part: len(data.windows(part, H)) // data.n_channels for part in ("train", "val")
        } | {"test": int(test.counts[0])}
        for name, model in instances.items():
            for seed in seeds if model.stochastic else [None]:
                tag = f"{name} H={H}" + ("" if seed is None else f" seed={seed}")
                say(f"[ltsf] {data.name} L={data.context_length} {tag}: fitting")
                t0 = time.perf_counter()
                info = model.fit(data, H, 0 if seed is None else seed)
                t1 = time.perf_counter()
                scores = evaluate(model, test)
                t2 = time.perf_counter()
                say(
                    f"[ltsf] {tag}: MSE {scores['mse']:.4f} MAE {scores['mae']:.4f} "
                    f"(fit {t1 - t0:.1f} s, predict {t2 - t1:.1f} s)"
                )
                if on_fit is not None:
                    on_fit(name, H, seed, model)
                runs.append(
                    {
                        "model": name,
                        "horizon": H,
                        "seed": seed,
                        **scores,
                        "fit_seconds": t1 - t0,
                        "predict_seconds": t2 - t1,
                        "info": jsonable(info),
                    }
                )
    return {
        "config": {
            "dataset": data.name,
            "context_length": data.context_length,
            "horizons": list(horizons),
            "models": list(models),
            "seeds": list(seeds),
            "model_params": jsonable(params),
            "missing": jsonable(data.missing),
        },
        "data": {
            "n_rows_used": data.values.shape[1],
            "channels": data.columns,
            "freq": data.freq,
            "bounds": {k: list(v) for k, v in data.bounds._asdict().items()},
            "windows_per_channel": windows,
            **({} if data.generator is None else {"generator": jsonable(data.generator)}),
        },
        "versions": versions(),
        "runs": runs,
    }
