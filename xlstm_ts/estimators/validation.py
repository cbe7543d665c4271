"""Parameter constraints of the estimators, in scikit-learn's form.

``BaseEstimator._validate_params`` checks each parameter against its list (an error names
the parameter, the value and what is allowed); :func:`check_forecaster_params` adds the
checks that involve several parameters, :func:`requested_levels` checks the levels asked
of ``predict_quantiles``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from xlstm_ts.data.calendar import check_calendar_features, holiday_dates


def _positive_int() -> Interval:
    return Interval(Integral, 1, None, closed="left")


FORECASTER_CONSTRAINTS: dict[str, list[Any]] = {
    "horizon": [_positive_int()],
    "context_length": [_positive_int()],
    "id_col": [str],
    "time_col": [str],
    "target": [str, list, tuple, None],
    "freq": [str, _positive_int(), None],
    "past_covariates": [list, tuple],
    "future_covariates": [list, tuple],
    "static_covariates": [list, tuple],
    "calendar_features": [list, tuple],
    "holidays": ["array-like", None],
    "quantiles": ["array-like"],
    "loss": [StrOptions({"quantile", "mse"})],
    "allow_missing": ["boolean"],
    "channel_mixing": ["boolean"],
    "d_model": [_positive_int()],
    "num_blocks": [_positive_int()],
    "slstm_at": [list, tuple],
    "num_heads": [_positive_int()],
    "patch_len": [_positive_int()],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "linear_path": [StrOptions({"auto", "ridge", "none"})],
    "max_epochs": [_positive_int()],
    "batch_size": [_positive_int()],
    "learning_rate": [Interval(Real, 0, None, closed="left")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "windows_per_epoch": [_positive_int(), None],
    "early_stopping_patience": [_positive_int(), None],
    "validation_size": [
        Interval(Integral, 0, None, closed="left"),
        Interval(Real, 0, 1, closed="left"),
    ],
    "random_state": [Interval(Integral, 0, None, closed="left"), None],
    "num_threads": [_positive_int(), None],
    "verbose": ["boolean"],
    "trainer_kwargs": [dict, None],
}
"""Allowed values of each :class:`~xlstm_ts.estimators.XLSTMForecaster` parameter."""


def check_forecaster_params(est: Any) -> list[float]:
    """Checks across parameters; returns the quantile levels (sorted, with 0.5).

    Raises
    ------
    ValueError
        Naming the parameters and values that do not fit together.
    """
    refuse_bools(est)
    levels = quantile_levels(est.quantiles)
    check_network_params(est)
    roles = {
        "past_covariates": est.past_covariates,
        "future_covariates": est.future_covariates,
        "static_covariates": est.static_covariates,
    }
    seen: dict[str, str] = {}
    for role, columns in roles.items():
        for column in columns:
            if column in seen:
                raise ValueError(f"column {column!r} is in both {seen[column]} and {role}")
            seen[column] = role
    check_calendar_features(est.calendar_features)
    if est.holidays is not None:
        holiday_dates(est.holidays)
    return levels


def quantile_levels(quantiles: Any) -> list[float]:
    """The levels to train: ``quantiles`` with 0.5, sorted.

    Raises
    ------
    ValueError
        When a level does not lie strictly between 0 and 1.
    """
    levels = sorted({float(q) for q in quantiles} | {0.5})
    bad = [q for q in levels if not 0 < q < 1]
    if bad:
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {bad}")
    return levels


def refuse_bools(est: Any) -> None:
    """A bool where a number is expected is refused (``bool`` is an ``int`` to Python, so
    ``horizon=True`` passes scikit-learn's interval checks).

    Raises
    ------
    TypeError
        Naming the parameter.
    """
    for name, constraints in est._parameter_constraints.items():
        value = getattr(est, name)
        if isinstance(value, bool | np.bool_) and "boolean" not in constraints:
            raise TypeError(f"{name} must be a number, got {value!r}")


MAX_WEIGHTS = 2e9
"""Networks larger than this (a lower bound of their weights) are refused before they are
built, instead of failing in torch's allocator."""


def check_network_params(est: Any) -> None:
    """Checks across the network's parameters (``slstm_at``, ``num_blocks``, ``d_model``,
    ``num_heads``, and a size that can be allocated), shared by every estimator on
    :class:`~xlstm_ts.nn.XLSTMForecastNet`.

    Raises
    ------
    ValueError
        Naming the parameters and values that do not fit together.
    """
    outside = [
        p for p in est.slstm_at if not isinstance(p, Integral) or not 0 <= p < est.num_blocks
    ]
    if outside:
        raise ValueError(
            f"slstm_at={tuple(est.slstm_at)!r}: positions {outside} are not block indexes "
            f"in [0, num_blocks={est.num_blocks})"
        )
    if est.d_model % est.num_heads or est.d_model % 2:
        raise ValueError(
            f"d_model={est.d_model} must be even and divisible by num_heads={est.num_heads}"
        )
    patch_len = getattr(est, "patch_len", 1)
    weights = est.num_blocks * 8 * est.d_model**2 + patch_len * est.d_model
    if weights > MAX_WEIGHTS:
        raise ValueError(
            f"d_model={est.d_model}, num_blocks={est.num_blocks} and patch_len={patch_len} "
            f"would make a network of more than {weights:.3g} weights (the limit is "
            f"{MAX_WEIGHTS:.0e}, 8 GB in float32); choose smaller values"
        )


REGRESSOR_CONSTRAINTS: dict[str, list[Any]] = {
    "n_features_per_step": [_positive_int()],
    "scaling": [StrOptions({"standard", "instance"})],
    **{
        k: FORECASTER_CONSTRAINTS[k]
        for k in (
            "d_model",
            "num_blocks",
            "slstm_at",
            "num_heads",
            "patch_len",
            "dropout",
            "max_epochs",
            "batch_size",
            "learning_rate",
            "weight_decay",
            "early_stopping_patience",
            "random_state",
            "num_threads",
            "verbose",
            "trainer_kwargs",
        )
    },
    "linear_path": ["boolean"],
    "validation_size": [Interval(Real, 0, 1, closed="left")],
}
"""Allowed values of each :class:`~xlstm_ts.estimators.XLSTMRegressor` parameter."""


def requested_levels(quantiles: Any, trained: list[float]) -> list[float]:
    """The quantile levels asked of ``predict_quantiles`` as floats, or an error naming
    ``quantiles``."""
    if isinstance(quantiles, str | bytes) or not hasattr(quantiles, "__iter__"):
        raise TypeError(
            f"quantiles must be a sequence of levels among {trained}, got {quantiles!r}"
        )
    try:
        levels = [float(q) for q in quantiles]
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"quantiles must hold numbers among {trained}, got {list(quantiles)!r}"
        ) from err
    if not levels:
        raise ValueError(f"quantiles is empty; pass levels among {trained}, or None for all")
    return levels
