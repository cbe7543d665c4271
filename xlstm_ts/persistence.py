"""Saving and loading forecasters: weights in safetensors, everything else in JSON.

A saved forecaster is a folder holding ``config.json`` (format version, parameters and
fitted metadata) and ``model.safetensors`` (network weights and the last context of each
series and of its covariates). Neither format can carry code, so loading never runs
anything from the files.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from xlstm_ts.data import Panel

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
_HISTORY = "history."
_COVARIATES = "covariates."


def _jsonable(value: Any) -> Any:
    """Plain JSON types for parameter values (tuples become lists, numpy scalars numbers)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _encode_time(t: Any) -> dict[str, Any]:
    if isinstance(t, pd.Timestamp):
        return {"timestamp": t.isoformat()}
    return {"step": int(t)}


def _decode_time(d: dict[str, Any]) -> Any:
    return pd.Timestamp(d["timestamp"]) if "timestamp" in d else d["step"]


def _encode_id(series: Any) -> Any:
    if isinstance(series, np.generic):
        series = series.item()
    if not isinstance(series, str | int):
        raise TypeError(
            f"series id {series!r} of type {type(series).__name__} cannot be saved; "
            "use str or int ids"
        )
    return series


def save_forecaster(model: Any, folder: Path) -> None:
    """Write a fitted forecaster to ``folder`` (created if needed)."""
    params = {k: _jsonable(v) for k, v in model.get_params().items()}
    try:
        json.dumps(params["trainer_kwargs"])
    except TypeError:
        warnings.warn(
            "trainer_kwargs hold objects that JSON cannot store; they are saved as None",
            stacklevel=3,
        )
        params["trainer_kwargs"] = None
    panel: Panel = model.panel_
    config = {
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "params": params,
        "fitted": {
            "quantile_levels": model.quantile_levels_,
            "freq": panel.freq,
            "layout": panel.layout,
            "target": panel.target,
            "index_name": _encode_id(panel.index_name) if panel.index_name is not None else None,
            "ids": [_encode_id(s) for s in panel.ids],
            "last_times": [_encode_time(t) for t in panel.last_times],
            "n_epochs": model.n_epochs_,
            "best_val_loss": model.best_val_loss_,
        },
    }
    tensors = {f"model.{k}": v.contiguous() for k, v in model.model_.state_dict().items()}
    L = model.context_length
    for k, (values, covariates) in enumerate(zip(panel.values, panel.covariates, strict=True)):
        tensors[f"{_HISTORY}{k}"] = torch.tensor(np.array(values[-L:]))
        tensors[f"{_COVARIATES}{k}"] = torch.tensor(np.array(covariates[-L:]))
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / WEIGHTS_FILE))
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2))


def load_forecaster(cls: type, folder: Path) -> Any:
    """Read a forecaster written by :func:`save_forecaster`."""
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} not found: is {folder} a saved forecaster?")
    config = json.loads(config_path.read_text())
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{folder} has format version {version!r}; this version of xlstm_ts reads "
            f"version {FORMAT_VERSION}"
        )
    params = config["params"]
    model = cls(**params)
    fitted = config["fitted"]
    model.quantile_levels_ = [float(q) for q in fitted["quantile_levels"]]
    tensors = load_file(str(folder / WEIGHTS_FILE))
    network = model._build_network()
    prefix = "model."
    network.load_state_dict(
        {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    )
    model.model_ = network.eval()
    ids = fitted["ids"]
    model.panel_ = Panel(
        values=[tensors[f"{_HISTORY}{k}"].numpy() for k in range(len(ids))],
        ids=ids,
        last_times=[_decode_time(t) for t in fitted["last_times"]],
        freq=fitted["freq"],
        layout=fitted["layout"],
        target=fitted["target"],
        index_name=fitted["index_name"],
        covariates=[tensors[f"{_COVARIATES}{k}"].numpy() for k in range(len(ids))],
    )
    model.freq_ = fitted["freq"]
    model.n_epochs_ = fitted["n_epochs"]
    model.best_val_loss_ = fitted["best_val_loss"]
    return model
