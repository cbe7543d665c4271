"""Saving and loading fitted estimators: weights in safetensors, everything else in JSON.

A saved forecaster is a folder holding ``config.json`` (format version, class name,
parameters, network configuration and fitted metadata) and ``model.safetensors`` (the
network's weights and the last context of each series and of its covariates). Neither
format can carry code, so loading never runs anything from the files.
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
from xlstm_ts.jsonable import jsonable

from .state import ForecasterState

FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
_NETWORK, _HISTORY, _COVARIATES = "model.", "history.", "covariates."


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


def _params(params: dict[str, Any]) -> dict[str, Any]:
    params = {k: jsonable(v) for k, v in params.items()}
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
        "params": _params(params),
        "network": jsonable(state.network_config),
        "fitted": {
            **panel_metadata(panel),
            "n_epochs": state.n_epochs,
            "best_val_loss": state.best_val_loss,
            "ridge_lambda": state.ridge_lambda,
            "blend_alpha": state.blend_alpha,
            "blend_check": state.blend_check,
            "linear_path": state.linear_path,
            "candidate_scores": state.candidate_scores,
        },
    }
    tensors = {f"{_NETWORK}{k}": v.contiguous() for k, v in state.network.state_dict().items()}
    L = state.network_config["context_length"]
    for k, (values, covariates) in enumerate(zip(panel.values, panel.covariates, strict=True)):
        tensors[f"{_HISTORY}{k}"] = torch.tensor(np.array(values[-L:]))
        tensors[f"{_COVARIATES}{k}"] = torch.tensor(np.array(covariates[-L:]))
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / WEIGHTS_FILE))
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2))


def load_state(folder: Path) -> tuple[str, dict[str, Any], ForecasterState]:
    """Read what :func:`save_state` wrote: ``(class name, parameters, state)``."""
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} not found: is {folder} a saved forecaster?")
    config = json.loads(config_path.read_text())
    if "format" in config:  # another format, e.g. a stateful forecaster's
        raise ValueError(
            f"{folder} holds a saved {config.get('class')} in format {config['format']!r}; "
            "load it with that class"
        )
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{folder} has format version {version!r}; this version of xlstm_ts reads "
            f"version {FORMAT_VERSION}"
        )
    tensors = load_file(str(folder / WEIGHTS_FILE))
    network = ForecasterState.build_network(config["network"])
    n = len(_NETWORK)
    network.load_state_dict({k[n:]: v for k, v in tensors.items() if k.startswith(_NETWORK)})
    fitted = config["fitted"]
    ids = fitted["ids"]
    panel = panel_from_metadata(
        fitted,
        [tensors[f"{_HISTORY}{k}"].numpy() for k in range(len(ids))],
        [tensors[f"{_COVARIATES}{k}"].numpy() for k in range(len(ids))],
    )
    state = ForecasterState(
        network=network.eval(),
        network_config=config["network"],
        panel=panel,
        n_epochs=fitted["n_epochs"],
        best_val_loss=fitted["best_val_loss"],
        ridge_lambda=fitted["ridge_lambda"],
        blend_alpha=fitted.get("blend_alpha"),
        blend_check=fitted.get("blend_check"),
        linear_path=fitted.get("linear_path"),
        candidate_scores=fitted.get("candidate_scores"),
    )
    return config["class"], config["params"], state
