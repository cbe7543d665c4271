"""The fixed scale of a network's covariates, learned from the training windows."""

from __future__ import annotations

import numpy as np

from xlstm_ts.data import Windows


def covariate_scaling(windows: Windows, skip: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(center, scale)`` of each covariate after the first ``skip``, over every row the
    training windows cover, all series together.

    A binary column (every known value 0 or 1: a flag, a holiday) keeps its values
    (center 0, scale 1), so that "off" stays 0 whatever the share of "on"; any other
    column is standardised with its training mean and standard deviation (scale 1 when
    it is constant). Missing values are left out.
    """
    width = windows.context_length + windows.horizon
    rows = [
        covariates[first : first + count - 1 + width, skip:]
        for covariates, first, count in zip(
            windows.covariates, windows.first, windows.counts, strict=True
        )
        if count > 0
    ]
    n = windows.covariates[0].shape[1] - skip if windows.covariates else 0
    values = np.concatenate(rows).astype(np.float64) if rows else np.zeros((0, n))
    center, scale = np.zeros(n), np.ones(n)
    for j in range(n):
        known = values[:, j][np.isfinite(values[:, j])]
        if known.size == 0 or np.isin(known, (0.0, 1.0)).all():
            continue
        center[j] = known.mean()
        std = known.std()
        scale[j] = std if std > 0 else 1.0
    return center, scale
