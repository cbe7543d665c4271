"""Saving and loading fitted estimators: weights in safetensors, everything else in JSON.

A saved forecaster is a folder holding ``config.json`` (format version, class name,
parameters, network configuration, fitted metadata and the SHA-256 of the weights file)
and ``model.safetensors`` (the network's weights and the last context of each series and
of its covariates). Neither format can carry code, so loading never runs anything from
the files.

Writing is atomic (:func:`write_folder`): both files go to a temporary sibling folder
that then replaces the old one by renames, so a crash or a kill mid-write leaves the old
model (or, between the two renames, no model at all), never a mixture. Reading
(:func:`read_folder` and the checks of :func:`load_state`) refuses, with a
``ValueError`` that names the file, key or tensor, anything that is not exactly what
``save`` wrote: invalid JSON, a weights file that does not match its hash, a truncated
file, missing or extra tensors, wrong shapes or dtypes, non-finite weights, another
format version, or a file that is a symlink out of the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
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


class CorruptModelError(ValueError):
    """A saved model's folder is incomplete, damaged or altered; the message names the
    file, key or tensor at fault."""


_OURS = {CONFIG_FILE, WEIGHTS_FILE}


def write_folder(folder: Path, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> None:
    """Write ``model.safetensors`` and ``config.json`` (with the weights' SHA-256) to
    ``folder`` atomically: into a temporary sibling folder, which then replaces
    ``folder`` by renames. An existing ``folder`` must hold nothing but a saved model."""
    folder = Path(folder)
    if folder.exists() or folder.is_symlink():
        if folder.is_symlink() or not folder.is_dir():
            raise ValueError(f"cannot save to {folder}: it exists and is not a folder")
        others = sorted(p.name for p in folder.iterdir() if p.name not in _OURS)
        if others:
            raise ValueError(
                f"cannot save to {folder}: it holds files that are not a saved model "
                f"({others[:5]}); save into a new or empty folder"
            )
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.saving-", dir=parent))
    old = None
    try:
        save_file(tensors, str(tmp / WEIGHTS_FILE))
        config = {**config, "weights_sha256": _sha256(tmp / WEIGHTS_FILE)}
        _write_synced(tmp / CONFIG_FILE, json.dumps(config, indent=2))
        _fsync(tmp / WEIGHTS_FILE)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=parent))
            os.replace(folder, old / "model")
        os.replace(tmp, folder)
    except BaseException:
        if old is not None and not folder.exists():
            os.replace(old / "model", folder)  # put the old model back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused when it is a symlink that leads out of ``folder``."""
    path = folder / name
    if path.is_symlink():
        target = path.resolve()
        if folder.resolve() not in target.parents:
            raise CorruptModelError(
                f"{path} is a symlink to {target}, outside the model's folder; refusing to read it"
            )
    return path


def read_folder(folder: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(config, tensors)`` of a saved model's folder, checked: valid JSON object, a
    weights file that matches its recorded SHA-256 and parses as safetensors (which holds
    only tensors; nothing is unpickled)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: is it a saved forecaster?")
    config_path = _inside(folder, CONFIG_FILE)
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} not found: is {folder} a saved forecaster?")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise CorruptModelError(f"{config_path} is not valid JSON: {err}") from err
    if not isinstance(config, dict):
        raise CorruptModelError(
            f"{config_path} must hold a JSON object, got {type(config).__name__}"
        )
    weights_path = _inside(folder, WEIGHTS_FILE)
    if not weights_path.is_file():
        raise CorruptModelError(f"{weights_path} is missing: the folder is incomplete")
    expected = config.get("weights_sha256")
    if expected is not None and _sha256(weights_path) != expected:
        raise CorruptModelError(
            f"{weights_path} does not match the SHA-256 recorded in {CONFIG_FILE}: the "
            "file was changed, truncated or replaced after saving"
        )
    try:
        tensors = load_file(str(weights_path))
    except Exception as err:  # safetensors raises its own error type on a damaged file
        raise CorruptModelError(f"{weights_path} is not a valid safetensors file: {err}") from err
    return config, tensors


def require(mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``mapping[key]`` of type ``kind``, or a :class:`CorruptModelError` naming it."""
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise CorruptModelError(f"{where} lacks the key {key!r}")
    value = mapping[key]
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in _kinds(kind):
        raise CorruptModelError(
            f"{where}[{key!r}] has type {type(value).__name__}, expected {_names(kind)}"
        )
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _kinds(kind))


def check_tensors(
    tensors: dict[str, torch.Tensor],
    expected: dict[str, tuple[tuple[int, ...] | None, torch.dtype | None, bool]],
    where: str,
) -> None:
    """Refuse missing or extra tensors, and tensors whose shape or dtype differ from
    ``expected[name] = (shape or None, dtype or None, must be finite)``."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing:
        raise CorruptModelError(f"{where} lacks tensor(s) {missing[:5]} ({len(missing)} in all)")
    if extra:
        raise CorruptModelError(
            f"{where} holds unexpected tensor(s) {extra[:5]} ({len(extra)} in all)"
        )
    for name, (shape, dtype, finite) in expected.items():
        t = tensors[name]
        if shape is not None and tuple(t.shape) != tuple(shape):
            raise CorruptModelError(
                f"tensor {name!r} in {where} has shape {tuple(t.shape)}, expected {tuple(shape)}"
            )
        if dtype is not None and t.dtype != dtype:
            raise CorruptModelError(
                f"tensor {name!r} in {where} has dtype {t.dtype}, expected {dtype}"
            )
        if finite and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CorruptModelError(f"tensor {name!r} in {where} holds NaN or inf")


def network_expectations(network: torch.nn.Module, prefix: str) -> dict[str, Any]:
    """What :func:`check_tensors` expects of a network's saved weights."""
    return {
        f"{prefix}{k}": (tuple(v.shape), v.dtype, True) for k, v in network.state_dict().items()
    }


def build_checked(build: Any, config: Any, where: str) -> Any:
    """``build(config)``, with a malformed network configuration named."""
    if not isinstance(config, dict):
        raise CorruptModelError(f"{where}['network'] must be a JSON object")
    try:
        return build(config)
    except (TypeError, ValueError, KeyError, RuntimeError) as err:
        raise CorruptModelError(
            f"{where}['network'] does not describe a network this version can build: {err}"
        ) from err


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


def _params(params: dict[str, Any]) -> dict[str, Any]:
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
            f"version {FORMAT_VERSION}"
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
        n_epochs=require(fitted, "n_epochs", int, where),
        best_val_loss=fitted.get("best_val_loss"),
        ridge_lambda=fitted.get("ridge_lambda"),
        blend_alpha=fitted.get("blend_alpha"),
        blend_check=fitted.get("blend_check"),
        linear_path=fitted.get("linear_path"),
        candidate_scores=fitted.get("candidate_scores"),
    )
    return name, params, state
