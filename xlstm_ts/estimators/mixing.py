"""Channel mixing in the estimator: the panel with the other series as covariates, and
forecasts beyond the horizon that advance every series together."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence

import numpy as np

from xlstm_ts.data import Panel, other_series, with_other_series


def mixed_panel(panel: Panel, trained_ids: Sequence[Hashable] | None) -> Panel:
    """``panel`` with each series' other series among its covariates; after ``fit``
    (``trained_ids`` given) only the series the model was trained on, in that order."""
    if trained_ids is not None and list(panel.ids) != list(trained_ids):
        raise ValueError(
            f"this model mixes the channels of series {list(trained_ids)}; X has series "
            f"{list(panel.ids)}: pass the same series in the same order"
        )
    return with_other_series(panel)


def joint_rollout(
    step: Callable[[np.ndarray, np.ndarray], np.ndarray],
    contexts: np.ndarray,
    h: int,
    horizon: int,
    point_index: int,
) -> np.ndarray:
    """Quantile forecasts (C, h, Q) of the ``C`` series of a panel, ``horizon`` steps at a
    time: each step's medians extend every series' context, and each series reads the
    others' extended contexts in the next step.

    ``step(contexts (C, L), covariates (C, L, C − 1))`` forecasts ``horizon`` steps (C,
    horizon, Q). The covariates are rebuilt from ``contexts``, whose rows may be scaled
    by powers of two (exactly): each window is normalised on its own anyway.
    """
    L, parts = contexts.shape[1], []
    for _ in range(math.ceil(h / horizon)):
        out = step(contexts, other_series(contexts))
        parts.append(out)
        contexts = np.concatenate([contexts, out[..., point_index]], axis=1)[:, -L:]
    return np.concatenate(parts, axis=1)[:, :h]
