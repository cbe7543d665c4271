"""Channel mixing in the estimator: the panel with the other series as covariates, and
forecasts beyond the horizon that advance every series together."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from xlstm_ts.data import Panel, other_series, with_other_series


class ChannelMixing:
    """What ``channel_mixing=True`` changes in a forecaster (a mixin placed before
    :class:`~xlstm_ts.estimators.window_base.BaseWindowForecaster`, whose parameters it
    reads): every panel read gets each series' other series among its covariates, after
    ``fit`` only for the series the model was trained on, in that order; and forecasts
    beyond the horizon continue all series together (:func:`joint_rollout`)."""

    def _panel(self, X: Any, **kwargs: Any) -> Panel:
        panel = super()._panel(X, **kwargs)
        if not self.channel_mixing:
            return panel
        trained = getattr(self, "fitted_", None)
        if trained is not None and list(panel.ids) != list(trained.panel.ids):
            raise ValueError(
                f"this model mixes the channels of series {list(trained.panel.ids)}; X has "
                f"series {list(panel.ids)}: pass the same series in the same order"
            )
        return with_other_series(panel)

    def _rollout_series(
        self, contexts, covariates, future, h: int | None, units: np.ndarray
    ) -> np.ndarray:
        h = self.horizon if h is None else h
        if not self.channel_mixing or h <= self.horizon or self._covariate_names():
            return super()._rollout_series(contexts, covariates, future, h, units)
        if self._known_names():
            raise ValueError(
                f"h={h} exceeds horizon={self.horizon}: with channel_mixing the forecast "
                "continues from the other series only, not with static covariates or "
                "calendar features; forecast at most horizon steps"
            )

        def step(contexts: np.ndarray, others: np.ndarray) -> np.ndarray:
            return self._rollout(contexts, others, future, self.horizon)

        point = self._state().point_index
        return joint_rollout(step, contexts, h, self.horizon, point, units, covariates)


def joint_rollout(
    step: Callable[[np.ndarray, np.ndarray], np.ndarray],
    contexts: np.ndarray,
    h: int,
    horizon: int,
    point_index: int,
    units: np.ndarray | None = None,
    covariates: np.ndarray | None = None,
) -> np.ndarray:
    """Quantile forecasts (C, h, Q) of the ``C`` series of a panel, ``horizon`` steps at a
    time: each step's medians extend every series' context, and each series reads the
    others' extended contexts in the next step.

    ``step(contexts (C, L), covariates (C, L, C − 1))`` forecasts ``horizon`` steps (C,
    horizon, Q). The covariates are rebuilt from ``contexts``, whose rows are each series
    divided by its unit (``units``, (C,); 1 when ``None``): the other series are read on
    the data's scale, as ``fit`` read them. ``covariates``: those of the first step, when
    the caller has them (then the first step is exactly the forecast within the horizon).
    """
    L, parts = contexts.shape[1], []
    units = np.ones(len(contexts)) if units is None else np.asarray(units, dtype=np.float64)
    for k in range(math.ceil(h / horizon)):
        others = covariates if k == 0 and covariates is not None else None
        if others is None:
            others = other_series(contexts * units[:, None])
        out = step(contexts, others)
        parts.append(out)
        contexts = np.concatenate([contexts, out[..., point_index]], axis=1)[:, -L:]
    return np.concatenate(parts, axis=1)[:, :h]
