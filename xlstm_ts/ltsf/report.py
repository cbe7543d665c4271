"""Reporting benchmark results: summaries over seeds, markdown tables, versions."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def versions() -> dict[str, str]:
    """Versions of the software and facts about the machine, for the results file."""
    import sklearn
    import statsmodels
    import torch

    import xlstm_ts

    return {
        "xlstm_ts": xlstm_ts.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "statsmodels": statsmodels.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": str(os.cpu_count()),
    }


def summarize(result: Mapping[str, Any]) -> dict[tuple[str, int], dict[str, float]]:
    """Mean and standard deviation (over seeds, ``ddof=1``; 0 for one run) per model and horizon."""
    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for run in result["runs"]:
        groups.setdefault((run["model"], run["horizon"]), []).append(run)
    out = {}
    for key, runs in groups.items():
        mse, mae = (np.array([r[m] for r in runs]) for m in ("mse", "mae"))
        spread = len(runs) > 1
        out[key] = {
            "mse": float(mse.mean()),
            "mse_std": float(mse.std(ddof=1)) if spread else 0.0,
            "mae": float(mae.mean()),
            "mae_std": float(mae.std(ddof=1)) if spread else 0.0,
            "n": len(runs),
        }
    return out


def format_table(result: Mapping[str, Any], digits: int = 3) -> str:
    """Markdown table: one row per horizon, one column per model, cells ``MSE / MAE``.

    Models run with several seeds show ``mean±std``.
    """
    stats = summarize(result)
    models = list(result["config"]["models"])
    lines = [
        "| H | " + " | ".join(f"{m} MSE / MAE" for m in models) + " |",
        "|---:|" + "---|" * len(models),
    ]

    def cell(s: dict[str, float] | None) -> str:
        if s is None:
            return "–"
        if s["n"] > 1:
            return (
                f"{s['mse']:.{digits}f}±{s['mse_std']:.{digits}f} / "
                f"{s['mae']:.{digits}f}±{s['mae_std']:.{digits}f}"
            )
        return f"{s['mse']:.{digits}f} / {s['mae']:.{digits}f}"

    for H in result["config"]["horizons"]:
        lines.append(f"| {H} | " + " | ".join(cell(stats.get((m, H))) for m in models) + " |")
    return "\n".join(lines)
