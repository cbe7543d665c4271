"""The other series of a panel as inputs of each one: channel mixing through covariates."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .frames import Panel


def relative_order(n_series: int) -> np.ndarray:
    """``(n_series, n_series − 1)`` integers: row ``k`` lists the other series in the order
    series ``k`` reads them, ``k + 1, …, k + n_series − 1`` modulo ``n_series``."""
    return (np.arange(n_series)[:, None] + np.arange(1, n_series)) % n_series


def other_series(values: np.ndarray) -> np.ndarray:
    """The other series of each, as its covariates: ``values`` (C, T) → (C, T, C − 1) in
    :func:`relative_order`."""
    return np.moveaxis(values[relative_order(len(values))], 1, -1)


def with_other_series(panel: Panel) -> Panel:
    """``panel`` with the other series' values first among each series' covariates.

    Series ``k`` of ``C`` gets the series ``k + 1, k + 2, …, k + C − 1`` (modulo ``C``;
    :func:`other_series`) as columns before its own covariates: positions relative to
    it, so that one set of weights reads every series alike and a neighbour on a ring
    (Lorenz-96, a spatial grid) has the same column for every series. The series must
    share one time index: the same length and the same last timestamp. Without
    covariates of their own, each series' covariates are a read-only view of one array
    holding every series twice, so memory grows with the number of series, not its
    square.

    Raises
    ------
    ValueError
        With fewer than two series, or series that do not end together or differ in
        length (the first such series is named).
    """
    C = len(panel.values)
    if C < 2:
        raise ValueError(
            f"channel_mixing needs at least two series on one time index; got {C} ({panel.ids})"
        )
    n, last = len(panel.values[0]), panel.last_times[0]
    for series, values, end in zip(panel.ids, panel.values, panel.last_times, strict=True):
        if len(values) != n or end != last:
            raise ValueError(
                f"channel_mixing needs series on one time index, but series {series!r} has "
                f"{len(values)} steps ending at {end} while series {panel.ids[0]!r} has {n} "
                f"ending at {last}; align them (a wide frame, allow_missing=True for gaps)"
            )
    # series k reads columns k + 1 … k + C − 1 of the series laid out twice over: a view
    # per series, so the panel holds (2C − 1)·T values instead of C·(C − 1)·T
    ring = np.stack([*panel.values, *panel.values[:-1]], axis=1)
    ring.setflags(write=False)  # shared by every series' view
    covariates = []
    for k, own in enumerate(panel.covariates):
        others = ring[:, k + 1 : k + C]
        covariates.append(np.concatenate([others, own], axis=1) if own.shape[1] else others)
    return replace(panel, covariates=covariates)
