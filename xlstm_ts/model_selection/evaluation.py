"""Metrics of a tidy forecast frame: overall and per horizon step."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlstm_ts.metrics import coverage, crps, interval_width, mae, mse, pinball, smape


def quantile_columns(frame: pd.DataFrame) -> tuple[list[str], list[float]]:
    """The quantile columns ``"q…"`` of ``frame`` and their levels, increasing."""
    found = []
    for c in frame.columns:
        if isinstance(c, str) and c.startswith("q"):
            try:
                found.append((float(c[1:]), c))
            except ValueError:
                continue
    found.sort()
    return [c for _, c in found], [lvl for lvl, _ in found]


def forecast_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """Errors of the forecasts in a tidy frame (columns ``y``, ``q0.5``, other ``q…``,
    optionally ``scale``, ``lower`` and ``upper``).

    Rows whose actual value ``y`` is missing are left out. Returns ``n`` (rows counted),
    ``mse``, ``mae``, ``smape`` and ``mase`` (each error divided by its row's ``scale``,
    the in-sample naive MAE of its series at its origin); with several quantile levels
    ``pinball``, ``crps`` and the ``coverage`` and ``width`` of the interval between the
    lowest and the highest level (nominal coverage: their difference); with ``lower`` and
    ``upper`` (conformal intervals) ``coverage_conformal`` and ``width_conformal``.
    """
    f = frame[frame["y"].notna()]
    if f.empty:
        raise ValueError("no forecast has an actual value to compare with")
    y, point = f["y"].to_numpy(float), f["q0.5"].to_numpy(float)
    out = {"n": float(len(f)), "mse": mse(y, point), "mae": mae(y, point)}
    out["smape"] = smape(y, point)
    if "scale" in f:
        out["mase"] = float(np.mean(np.abs(y - point) / f["scale"].to_numpy(float)))
    columns, levels = quantile_columns(f)
    if len(levels) > 1:
        q = f[columns].to_numpy(float)
        out["pinball"] = pinball(y, q, levels)
        out["crps"] = crps(y, q, levels)
        out["coverage"] = coverage(y, q[:, 0], q[:, -1])
        out["width"] = interval_width(q[:, 0], q[:, -1])
    if {"lower", "upper"} <= set(f.columns):
        lo, hi = f["lower"].to_numpy(float), f["upper"].to_numpy(float)
        out["coverage_conformal"] = coverage(y, lo, hi)
        out["width_conformal"] = interval_width(lo, hi)
    return out


def metrics_table(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`forecast_metrics` per horizon step (rows ``1 … h``) and over all steps (row
    ``"all"``)."""
    rows = {
        int(step): forecast_metrics(part)
        for step, part in frame.groupby("step")
        if part["y"].notna().any()
    }
    rows["all"] = forecast_metrics(frame)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "step"
    return table
