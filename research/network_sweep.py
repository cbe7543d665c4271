"""Settings of the network from scratch, one at a time, on validation data only.

The protocol is shifted back by one validation part, as in ``selection_rules.py``: each
variant of the network without linear path (one network, the benchmark's epoch budget,
one setting changed from the estimator's defaults) is trained on the training part minus
its last ``V`` rows and early-stopped on those ``V`` rows (inner validation); it is
scored on the real validation part (outer validation), alone and combined with the ridge
baseline fitted the same way (the weight fitted on the inner validation windows under the
default's checks: the combination if both inner halves agree, else the network alone if
it wins both halves, else the ridge). The test part is never read.

Per data set, horizon, seed and variant, one ``.npz`` file in ``--out`` holds the sums
(an existing file is read instead of refitted). Run::

    python research/network_sweep.py --cells ETTh1:96:0 ILI:24:0 --data-home PATH
    python research/network_sweep.py --report-only --out sweep      # the table

``--workers N`` trains N variants at a time (one process each; on a GPU they share it),
``--deadline S`` starts no fit after S seconds.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import copy
import functools
import multiprocessing
import re
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch.callbacks import EMAWeightAveraging
from selection_rules import combination_sums, shifted, weight
from switches import ResearchModel, single_network

from xlstm_ts.ltsf import LTSFData, prepare
from xlstm_ts.nn import XLSTMForecastNet
from xlstm_ts.training import later_half, ridge_start
from xlstm_ts.training.decision import weighted_sse

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "d_model=32": {"d_model": 32},
    "d_model=128": {"d_model": 128},
    "num_blocks=1": {"num_blocks": 1},
    "num_blocks=4": {"num_blocks": 4},
    "slstm_at=(1,)": {"slstm_at": (1,)},
    "patch_len=8": {"patch_len": 8},
    "patch_len=32": {"patch_len": 32},
    "dropout=0": {"dropout": 0.0},
    "dropout=0.3": {"dropout": 0.3},
    "learning_rate=3e-4": {"learning_rate": 3e-4},
    "learning_rate=3e-3": {"learning_rate": 3e-3},
    "weight_decay=0.01": {"weight_decay": 0.01},
    "weight_decay=0.1": {"weight_decay": 0.1},
    "head=flatten": {"head": "flatten"},
    "input_noise=0.1": {"input_noise": 0.1},
    "windows_per_epoch=32768": {"windows_per_epoch": 32768},
    "batch_size=256": {"batch_size": 256, "learning_rate": 2e-3},
    "encoder_context=half": {"encoder_context": 0.5},
    "patience=6, 30 epochs": {"early_stopping_patience": 6, "max_epochs": 30},
    "ema=0.99": {"trainer_kwargs": {"callbacks": [EMAWeightAveraging(decay=0.99)]}},
    "ema=0.998": {"trainer_kwargs": {"callbacks": [EMAWeightAveraging(decay=0.998)]}},
}
"""Each variant changes the network without linear path (``linear_path="none"``,
``n_models=1``, :data:`~xlstm_ts.ltsf.models.PROTOCOL_PARAMS`) in one setting (an
estimator's parameter or a switch of ``switches.py``); ``encoder_context`` is a fraction
of the context length; ``ema=D`` validates and keeps an exponential moving average of
the weights (decay ``D`` per optimiser step, Lightning's ``EMAWeightAveraging``, a fresh
copy for every fit)."""


def fit_cell(data: LTSFData, horizon: int, seed: int, variant: str, path: Path) -> None:
    """Train one variant on the shifted protocol and save its sums beside the ridge's."""
    inner = shifted(data)
    train, val, outer = (inner.windows(p, horizon) for p in ("train", "val", "test"))
    ridge = XLSTMForecastNet(data.context_length, horizon, linear_path=True)
    ridge_start(ridge, train, val)  # the head starts at zero: the ridge baseline itself
    params = {"linear_path": "none", "n_models": 1, **copy.deepcopy(VARIANTS[variant])}
    if "encoder_context" in params:
        params["encoder_context"] = int(params["encoder_context"] * data.context_length)
    model = ResearchModel(**params)
    start = time.perf_counter()
    info = model.fit(inner, horizon, seed)
    fit_s = time.perf_counter() - start
    net = single_network(model.model.model_)
    np.savez(
        path,
        val=combination_sums(ridge, net, val),
        val_later=later_half(val),
        test=combination_sums(ridge, net, outer),
        fit_s=fit_s,
        epochs=info["epochs"],
    )


def slug(variant: str) -> str:
    """A file name's part for ``variant``: letters, digits, ``_``, ``.`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", variant).strip("-")


@functools.cache
def _data(name: str, data_home: str | None, missing: str) -> LTSFData:
    """The data set, prepared once per worker process (a worker trains many variants)."""
    return prepare(name, data_home=data_home, missing=missing)


def _run(
    cell: tuple[str, int, int], variant: str, out: str, data_home: str | None, missing: str
) -> str:
    name, horizon, seed = cell
    path = Path(out) / f"{name}_H{horizon}_seed{seed}__{slug(variant)}.npz"
    if path.exists():
        return f"{path.stem}: exists"
    torch.set_num_threads(1)
    try:
        fit_cell(_data(name, data_home, missing), horizon, seed, variant, path)
    except Exception:  # one variant's failure leaves the others running
        (Path(out) / f"{path.stem}.error").write_text(traceback.format_exc())
        return f"{path.stem}: failed"
    return f"{path.stem}: done"


def report(out: Path) -> str:
    """Markdown: per cell (data set and horizon) and variant, the outer-validation MSE
    of the network alone and of the default's choice, both relative to the ridge baseline
    (mean over seeds), the seeds and the mean fit time."""
    rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    names = {slug(v): v for v in VARIANTS}
    for path in sorted(out.glob("*.npz")):
        cell_name, variant = path.stem.split("__")
        if variant not in names:  # a variant dropped since (its results are in LOG.md)
            continue
        variant = names[variant]
        cell = dict(np.load(path))
        total = cell["test"].sum(0)
        ridge = weighted_sse(total, 0.0)
        alone = weighted_sse(total, 1.0) / ridge
        chosen = weighted_sse(total, weight(cell, "both_halves")) / ridge
        cell_key = cell_name.rsplit("_seed", 1)[0]
        rows.setdefault((cell_key, variant), []).append((alone, chosen, float(cell["fit_s"])))
    lines = ["| cell | variant | alone / ridge | chosen / ridge | seeds | fit s |"]
    lines.append("|---|---|---:|---:|---:|---:|")
    order = {v: i for i, v in enumerate(VARIANTS)}
    for (key, variant), vals in sorted(rows.items(), key=lambda kv: (kv[0][0], order[kv[0][1]])):
        a = np.asarray(vals)
        lines.append(
            f"| {key} | {variant} | {a[:, 0].mean():.4f} | {a[:, 1].mean():.4f} | {len(a)} "
            f"| {a[:, 2].mean():.0f} |"
        )
    lines += ["", "| variant | cells | alone / ridge | chosen / ridge (geometric means) |"]
    lines.append("|---|---:|---:|---:|")
    for variant in VARIANTS:
        a = np.asarray([np.mean(v, 0) for (_, w), v in rows.items() if w == variant])
        if len(a):
            alone, chosen = np.exp(np.log(a[:, :2]).mean(0))
            lines.append(f"| {variant} | {len(a)} | {alone:.4f} | {chosen:.4f} |")
    return "\n".join(lines)


def _cell(text: str) -> tuple[str, int, int]:
    name, horizon, seed = text.split(":")
    return name, int(horizon), int(seed)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cells", nargs="+", type=_cell, default=[], help="NAME:HORIZON:SEED")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--data-home")
    p.add_argument("--missing", choices=["raise", "interpolate"], default="raise")
    p.add_argument("--out", default="sweep")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--deadline", type=float, default=float("inf"), help="seconds")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        start = time.monotonic()
        jobs = [(c, v) for c in args.cells for v in args.variants]
        context = multiprocessing.get_context("spawn")  # CUDA in every worker
        with cf.ProcessPoolExecutor(args.workers, mp_context=context) as pool:
            data = (args.data_home, args.missing)
            pending = [pool.submit(_run, c, v, str(out), *data) for c, v in jobs]
            for future in cf.as_completed(pending):
                print(f"{time.monotonic() - start:6.0f} s  {future.result()}", flush=True)
                if time.monotonic() - start > args.deadline:
                    for f in pending:
                        f.cancel()
    print(report(out))


if __name__ == "__main__":
    main()
