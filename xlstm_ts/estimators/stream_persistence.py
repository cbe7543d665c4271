"""Saving and loading stateful forecasters: the format of :mod:`.persistence`, plus the
per-series states.

The folder holds ``config.json`` (format ``"stateful"``, its version, class name,
parameters, network configuration, series ids, last times, lengths and the structure of
a state) and ``model.safetensors`` (the network's weights; each series' normalisation,
last ``patch_len`` values and state tensors). Neither format can carry code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from xlstm_ts.jsonable import jsonable
from xlstm_ts.nn import flatten_state, unflatten_state

from .persistence import CONFIG_FILE, WEIGHTS_FILE, _params, panel_from_metadata, panel_metadata
from .stream_state import StatefulState

FORMAT = "stateful"
FORMAT_VERSION = 1
_NETWORK, _RECENT, _STATE = "model.", "recent.", "state."


def _count_leaves(spec: Any) -> int:
    if isinstance(spec, list):
        return sum(_count_leaves(s) for s in spec)
    return int(spec == "tensor")


def save_state(folder: Path, class_name: str, params: dict[str, Any], state: StatefulState) -> None:
    """Write a stateful estimator's parameters and fitted state to ``folder``."""
    panel = state.panel
    tensors = {f"{_NETWORK}{k}": v.contiguous() for k, v in state.network.state_dict().items()}
    tensors["mean"] = torch.tensor(np.asarray(state.mean, dtype=np.float64))
    tensors["scale"] = torch.tensor(np.asarray(state.scale, dtype=np.float64))
    spec = None
    for k, (recent, series_state) in enumerate(zip(panel.values, state.states, strict=True)):
        tensors[f"{_RECENT}{k}"] = torch.tensor(np.array(recent, dtype=np.float64))
        leaves, spec = flatten_state(series_state)
        for i, leaf in enumerate(leaves):
            tensors[f"{_STATE}{k}.{i}"] = leaf.detach().contiguous().clone()
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": class_name,
        "params": _params(params),
        "network": jsonable(state.network_config),
        "fitted": {
            **panel_metadata(panel),
            "lengths": [int(n) for n in state.lengths],
            "state_spec": spec,
            "n_epochs": state.n_epochs,
            "best_val_loss": state.best_val_loss,
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / WEIGHTS_FILE))
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2))


def load_state(folder: Path) -> tuple[str, dict[str, Any], StatefulState]:
    """Read what :func:`save_state` wrote: ``(class name, parameters, state)``."""
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} not found: is {folder} a saved forecaster?")
    config = json.loads(config_path.read_text())
    found = (config.get("format"), config.get("format_version"))
    if found != (FORMAT, FORMAT_VERSION):
        raise ValueError(
            f"{folder} has format {found[0]!r} version {found[1]!r}; this version of "
            f"xlstm_ts reads stateful forecasters in format {FORMAT!r} version {FORMAT_VERSION}"
        )
    tensors = load_file(str(folder / WEIGHTS_FILE))
    network = StatefulState.build_network(config["network"])
    n = len(_NETWORK)
    network.load_state_dict({k[n:]: v for k, v in tensors.items() if k.startswith(_NETWORK)})
    fitted = config["fitted"]
    ids, spec = fitted["ids"], fitted["state_spec"]
    n_leaves = _count_leaves(spec)
    recents = [tensors[f"{_RECENT}{k}"].numpy() for k in range(len(ids))]
    states = [
        unflatten_state([tensors[f"{_STATE}{k}.{i}"] for i in range(n_leaves)], spec)
        for k in range(len(ids))
    ]
    panel = panel_from_metadata(fitted, recents, [np.zeros((len(r), 0)) for r in recents])
    state = StatefulState(
        network=network.eval(),
        network_config=config["network"],
        panel=panel,
        n_epochs=fitted["n_epochs"],
        best_val_loss=fitted["best_val_loss"],
        mean=tensors["mean"].numpy(),
        scale=tensors["scale"].numpy(),
        lengths=list(fitted["lengths"]),
        states=states,
    )
    return config["class"], config["params"], state
