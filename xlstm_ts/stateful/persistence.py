"""Saving and loading stateful forecasters: the folder of
:mod:`xlstm_ts.estimators.persistence`, with the per-series states.

The folder holds ``config.json`` (format ``"stateful"``, its version, class name,
parameters, network configuration, series ids, last times, lengths and the structure of
a state) and ``model.safetensors`` (the network's weights; each series' normalisation,
last ``patch_len`` values and state tensors). Neither format can carry code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from xlstm_ts.estimators.persistence import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    CorruptModelError,
    build_checked,
    check_panel_metadata,
    check_tensors,
    jsonable_params,
    network_expectations,
    panel_from_metadata,
    panel_metadata,
    read_folder,
    require,
    write_folder,
)
from xlstm_ts.jsonable import jsonable

from .carried import flatten_state, unflatten_state
from .fitted import StatefulForecasterState

FORMAT = "stateful"
FORMAT_VERSION = 3
"""Version 3: the class is stored as ``XLSTMStatefulForecaster`` (version 2 and before:
``XLSTMStateForecaster``, refused)."""
_NETWORK, _RECENT, _STATE = "model.", "recent.", "state."


def _count_leaves(spec: Any) -> int:
    if isinstance(spec, list):
        return sum(_count_leaves(s) for s in spec)
    return int(spec == "tensor")


def save_state(
    folder: Path, class_name: str, params: dict[str, Any], state: StatefulForecasterState
) -> None:
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
        "params": jsonable_params(params),
        "network": jsonable(state.network_config),
        "fitted": {
            **panel_metadata(panel),
            "lengths": [int(n) for n in state.lengths],
            "state_spec": spec,
            "n_epochs": list(state.n_epochs),
            "best_val_loss": state.best_val_loss,
        },
    }
    write_folder(folder, tensors, config)


def load_state(folder: Path) -> tuple[str, dict[str, Any], StatefulForecasterState]:
    """Read what :func:`save_state` wrote: ``(class name, parameters, state)``."""
    config, tensors = read_folder(folder)
    where = f"{folder / CONFIG_FILE}"
    found = (config.get("format"), config.get("format_version"))
    if found != (FORMAT, FORMAT_VERSION):
        raise ValueError(
            f"{folder} has format {found[0]!r} version {found[1]!r}; this version of "
            f"xlstm_ts reads stateful forecasters in format {FORMAT!r} version {FORMAT_VERSION}: "
            "fit the model again and save it"
        )
    name = require(config, "class", str, where)
    params = require(config, "params", dict, where)
    net_config = require(config, "network", dict, where)
    fitted = require(config, "fitted", dict, where)
    network = build_checked(StatefulForecasterState.build_network, net_config, where)
    ids = check_panel_metadata(fitted, f"{where}['fitted']")
    spec = fitted.get("state_spec")
    lengths = require(fitted, "lengths", list, where)
    if len(lengths) != len(ids) or not all(isinstance(n, int) and n >= 0 for n in lengths):
        raise CorruptModelError(f"{where}['fitted']['lengths'] must hold one count per series")
    n_leaves = _count_leaves(spec)
    expected = network_expectations(network, _NETWORK)
    expected["mean"] = ((len(ids),), torch.float64, True)
    expected["scale"] = ((len(ids),), torch.float64, True)
    for k in range(len(ids)):
        expected[f"{_RECENT}{k}"] = (None, torch.float64, False)
        for i in range(n_leaves):
            expected[f"{_STATE}{k}.{i}"] = (None, None, False)
    check_tensors(tensors, expected, str(folder / WEIGHTS_FILE))
    for k in range(len(ids)):
        recent = tensors[f"{_RECENT}{k}"]
        if recent.dim() != 1 or len(recent) > network.window_len:
            raise CorruptModelError(
                f"tensor {_RECENT}{k} has shape {tuple(recent.shape)}; expected at most "
                f"window_len={network.window_len} steps"
            )
        for i in range(n_leaves):
            if bool(torch.isnan(tensors[f"{_STATE}{k}.{i}"]).any()):
                raise CorruptModelError(f"tensor {_STATE}{k}.{i} holds NaN")
    n = len(_NETWORK)
    network.load_state_dict({k[n:]: v for k, v in tensors.items() if k.startswith(_NETWORK)})
    recents = [tensors[f"{_RECENT}{k}"].numpy() for k in range(len(ids))]
    try:
        states = [
            unflatten_state([tensors[f"{_STATE}{k}.{i}"] for i in range(n_leaves)], spec)
            for k in range(len(ids))
        ]
    except (TypeError, ValueError, IndexError) as err:
        raise CorruptModelError(f"{where}['fitted']['state_spec'] is malformed: {err}") from err
    panel = panel_from_metadata(fitted, recents, [np.zeros((len(r), 0)) for r in recents])
    state = StatefulForecasterState(
        network=network.eval(),
        network_config=net_config,
        panel=panel,
        n_epochs=require(fitted, "n_epochs", list, where),
        best_val_loss=fitted.get("best_val_loss"),
        mean=tensors["mean"].numpy(),
        scale=tensors["scale"].numpy(),
        lengths=list(lengths),
        states=states,
    )
    return name, params, state
