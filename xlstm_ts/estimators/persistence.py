"""Saving and loading fitted estimators: weights in safetensors, everything else in JSON.

A saved forecaster is a folder holding ``config.json`` (format version, class name,
parameters, network configuration, fitted metadata and the SHA-256 of the weights file)
and ``model.safetensors`` (the network's weights and the last context of each series and
of its covariates). Neither format can carry code, so loading never runs anything from
the files.

Writing is atomic (:func:`~.model_folder.write_folder`): both files go to a temporary sibling folder
that then replaces the old one by renames, so a crash or a kill mid-write leaves the old
model (or, between the two renames, no model at all), never a mixture. Reading
(:func:`~.model_folder.read_folder` and the checks of :func:`load_state`) refuses, with a
``ValueError`` that names the file, key or tensor, anything that is not exactly what
``save`` wrote: invalid JSON, a weights file that does not match its hash, a truncated
file, missing or extra tensors, wrong shapes or dtypes, non-finite weights, another
format version, or a file that is a symlink out of the folder.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from xlstm_ts.data import Panel
from xlstm_ts.jsonable import jsonable

from .model_folder import (  # noqa: F401  (_sha256 and CorruptModelError: re-exported)
    CONFIG_FILE,
    FORMAT_VERSION,
    WEIGHTS_FILE,
    CorruptModelError,
    _sha256,
    build_checked,
    check_tensors,
    network_expectations,
    read_folder,
    require,
    write_folder,
)
from .state import ForecasterState

_NETWORK, _HISTORY, _COVARIATES = "model.", "history.", "covariates."


def _encode_time(t: Any) -> dict[str, Any]:
    if isinstance(t, pd.Timestamp):
        out = {"timestamp": t.isoformat()}
        if t.tz is not None:  # the zone's name: an offset alone loses daylight saving
            out["tz"] = str(t.tz)
        return out
    return {"step": int(t)}


def _decode_time(d: Any) -> Any:
    try:
        if "timestamp" in d:
            t = pd.Timestamp(d["timestamp"])
            return t.tz_convert(d["tz"]) if d.get("tz") else t
        step = d["step"]
        if not isinstance(step, int) or isinstance(step, bool):
            raise TypeError(f"step {step!r} is not an integer")
        return step
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise CorruptModelError(f"last time {d!r} in config.json is not readable: {err}") from err


def _encode_id(series: Any) -> Any:
    if isinstance(series, np.generic):
        series = series.item()
    if not isinstance(series, str | int):
        raise TypeError(
            f"series id {series!r} of type {type(series).__name__} cannot be saved; "
            "use str or int ids"
        )
    return series


def panel_metadata(panel: Panel) -> dict[str, Any]:
    """What a panel needs besides its arrays, as JSON values."""
    return {
        "freq": panel.freq,
        "layout": panel.layout,
        "target": panel.target,
        "index_name": None if panel.index_name is None else _encode_id(panel.index_name),
        "ids": [_encode_id(s) for s in panel.ids],
        "last_times": [_encode_time(t) for t in panel.last_times],
    }


def check_panel_metadata(meta: Any, where: str) -> list[Any]:
    """Refuse panel metadata that :func:`panel_metadata` could not have written; returns
    the series ids."""
    ids = require(meta, "ids", list, where)
    if not all(isinstance(i, str | int) for i in ids):
        raise CorruptModelError(f"{where}['ids'] must hold strings and integers")
    if len(set(map(repr, ids))) != len(ids):
        raise CorruptModelError(f"{where}['ids'] holds duplicated series ids")
    last = require(meta, "last_times", list, where)
    if len(last) != len(ids):
        raise CorruptModelError(
            f"{where} has {len(ids)} ids but {len(last)} last_times; they must match"
        )
    freq = require(meta, "freq", (str, int), where)
    if isinstance(freq, str):
        try:
            pd.tseries.frequencies.to_offset(freq)
        except ValueError as err:
            raise CorruptModelError(f"{where}['freq']={freq!r} is not a frequency") from err
    elif freq < 1:
        raise CorruptModelError(f"{where}['freq']={freq!r} must be a positive step")
    layout = require(meta, "layout", str, where)
    if layout not in ("long", "wide"):
        raise CorruptModelError(f"{where}['layout']={layout!r} must be 'long' or 'wide'")
    require(meta, "target", str, where)
    return ids


def panel_from_metadata(
    meta: dict[str, Any], values: list[np.ndarray], covariates: list[np.ndarray]
) -> Panel:
    """The panel that :func:`panel_metadata` described, with its arrays."""
    return Panel(
        values=values,
        ids=meta["ids"],
        last_times=[_decode_time(t) for t in meta["last_times"]],
        freq=meta["freq"],
        layout=meta["layout"],
        target=meta["target"],
        index_name=meta["index_name"],
        covariates=covariates,
    )


def jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """An estimator's parameters as JSON values (``trainer_kwargs`` that JSON cannot store
    become ``None``, with a warning)."""
    params = {
        k: os.fspath(v) if isinstance(v, os.PathLike) else jsonable(v) for k, v in params.items()
    }
    try:
        json.dumps(params["trainer_kwargs"], allow_nan=False)
    except (TypeError, ValueError):
        warnings.warn(
            "trainer_kwargs hold objects that JSON cannot store; they are saved as None",
            stacklevel=4,
        )
        params["trainer_kwargs"] = None
    return params


def save_state(
    folder: Path, class_name: str, params: dict[str, Any], state: ForecasterState
) -> None:
    """Write an estimator's parameters and fitted state to ``folder`` (created if needed)."""
    panel = state.panel
    config = {
        "format_version": FORMAT_VERSION,
        "class": class_name,
        "params": jsonable_params(params),
        "network": jsonable(state.network_config),
        "fitted": {
            **panel_metadata(panel),
            "n_epochs": list(state.n_epochs),
            "best_val_loss": state.best_val_loss,
            "ridge_lambda": state.ridge_lambda,
            "linear_path": state.linear_path,
            "decision": state.decision,
            "units": [float(u) for u in state.units],
            "static": state.static,
        },
    }
    tensors = {f"{_NETWORK}{k}": v.contiguous() for k, v in state.network.state_dict().items()}
    L = state.network_config["context_length"]
    for k, (values, covariates) in enumerate(zip(panel.values, panel.covariates, strict=True)):
        tensors[f"{_HISTORY}{k}"] = torch.tensor(np.array(values[-L:], dtype=np.float64))
        tensors[f"{_COVARIATES}{k}"] = torch.tensor(np.array(covariates[-L:], dtype=np.float64))
    write_folder(folder, tensors, config)


def check_params(params: Any, where: str, names: Any) -> dict[str, Any]:
    """The saved parameters: a JSON object whose keys are parameters of the class."""
    if not isinstance(params, dict):
        raise CorruptModelError(f"{where}['params'] must be a JSON object")
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise CorruptModelError(f"{where}['params'] holds unknown parameter(s) {unknown}")
    return params


def load_state(folder: Path) -> tuple[str, dict[str, Any], ForecasterState]:
    """Read what :func:`save_state` wrote: ``(class name, parameters, state)``.

    Raises
    ------
    FileNotFoundError
        When ``folder`` or its ``config.json`` does not exist.
    CorruptModelError (a ValueError)
        When anything in the folder differs from what ``save_state`` writes.
    """
    config, tensors = read_folder(folder)
    where = f"{folder / CONFIG_FILE}"
    if "format" in config:  # another format, e.g. a stateful forecaster's
        raise ValueError(
            f"{folder} holds a saved {config.get('class')} in format {config['format']!r}; "
            "load it with that class"
        )
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{folder} has format version {version!r}; this version of xlstm_ts reads "
            f"version {FORMAT_VERSION}: fit the model again and save it"
        )
    name = require(config, "class", str, where)
    params = require(config, "params", dict, where)
    net_config = require(config, "network", dict, where)
    fitted = require(config, "fitted", dict, where)
    network = build_checked(ForecasterState.build_network, net_config, where)
    ids = check_panel_metadata(fitted, f"{where}['fitted']")
    for key in ("horizon", "context_length"):
        if key in params and params[key] != net_config.get(key):
            raise CorruptModelError(
                f"{where}: params[{key!r}]={params[key]!r} differs from the network's "
                f"{net_config.get(key)!r}"
            )
    L, n_cov = net_config["context_length"], net_config.get("n_covariates", 0)
    expected = network_expectations(network, _NETWORK)
    for k in range(len(ids)):
        expected[f"{_HISTORY}{k}"] = ((L,), torch.float64, False)
        expected[f"{_COVARIATES}{k}"] = ((L, n_cov), torch.float64, False)
    check_tensors(tensors, expected, str(folder / WEIGHTS_FILE))
    for k in range(len(ids)):  # NaN marks a missing value; inf is never saved
        if bool(torch.isinf(tensors[f"{_HISTORY}{k}"]).any()):
            raise CorruptModelError(f"tensor {_HISTORY}{k!s} holds inf")
    n = len(_NETWORK)
    network.load_state_dict({k[n:]: v for k, v in tensors.items() if k.startswith(_NETWORK)})
    panel = panel_from_metadata(
        fitted,
        [tensors[f"{_HISTORY}{k}"].numpy() for k in range(len(ids))],
        [tensors[f"{_COVARIATES}{k}"].numpy() for k in range(len(ids))],
    )
    state = ForecasterState(
        network=network.eval(),
        network_config=net_config,
        panel=panel,
        n_epochs=require(fitted, "n_epochs", list, where),
        best_val_loss=fitted.get("best_val_loss"),
        ridge_lambda=fitted.get("ridge_lambda"),
        linear_path=fitted.get("linear_path"),
        decision=fitted.get("decision"),
        units=_units(require(fitted, "units", list, where), len(ids), where),
        static=_static(fitted.get("static"), where),
    )
    return name, params, state


def _static(static: Any, where: str) -> dict[str, Any] | None:
    """The saved encoding of the static covariates (``None`` when the model has none)."""
    if static is None:
        return None
    ok = (
        isinstance(static, dict)
        and isinstance(static.get("columns"), list)
        and isinstance(static.get("categories"), dict)
        and all(isinstance(v, list) for v in static["categories"].values())
        and set(static["categories"]) <= set(static["columns"])
    )
    if not ok:
        raise CorruptModelError(
            f"{where}: 'static' must hold 'columns' (a list) and 'categories' (a list per "
            "categorical column)"
        )
    return static


def _units(units: list[Any], n_series: int, where: str) -> list[float]:
    """The saved units: one positive finite number per series."""
    ok = len(units) == n_series and all(
        isinstance(u, int | float) and not isinstance(u, bool) and 0 < u < float("inf")
        for u in units
    )
    if not ok:
        raise CorruptModelError(
            f"{where}: 'units' must hold one positive number per series ({n_series})"
        )
    return [float(u) for u in units]
