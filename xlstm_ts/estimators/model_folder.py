"""A saved model's folder: its two files, written atomically and read back checked.

Format-generic parts shared by every estimator's persistence (:mod:`.persistence`,
:mod:`xlstm_ts.stateful.persistence`): :func:`write_folder` writes ``config.json`` and
``model.safetensors`` to a temporary sibling folder that then replaces the old one by
renames; :func:`read_folder` and the checks below refuse, with a
:class:`CorruptModelError` that names the file, key or tensor, anything that is not
exactly what was written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

FORMAT_VERSION = 4
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


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
