"""The training budget of each trial of a search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

TRIAL_BUDGET: dict[str, Any] = {
    "max_epochs": 3,
    "windows_per_epoch": 1024,
    "linear_path": "ridge",
    "validation_size": 1,
}
"""The training of each trial with ``trial_budget="default"``: at most 3 epochs of 1,024
windows (48 optimiser steps at the default batch size of 64), one network, the
ridge-started one, instead of the four that ``linear_path="auto"`` trains, and its
validation part (early stopping, the ridge penalty) the last ``horizon`` steps of each
series, one window per series, instead of a tenth of each series (a validation pass
over thousands of windows each epoch cost more than the training). Trials are ranked
by the search's folds, not by this validation. Of these, only the parameters the
estimator has and the user left at its defaults are set."""


def trial_budget(
    setting: str | Mapping[str, Any] | None, params: Mapping[str, Any], explicit: Sequence[str]
) -> dict[str, Any]:
    """The parameters a trial's budget sets: those of ``setting`` (``"default"``:
    :data:`TRIAL_BUDGET`; ``None``: none) that the estimator has (``params``) and the
    user left alone (not in ``explicit``)."""
    if setting is None:
        return {}
    budget = TRIAL_BUDGET if setting == "default" else setting
    return {k: v for k, v in budget.items() if k in params and k not in explicit}
