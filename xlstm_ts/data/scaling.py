"""Each series' unit, and series of extreme magnitude brought near 1 by exact powers of two.

:func:`unit_scale` is the unit a window forecaster measures each series in: everything
summed over a panel (training losses, the ridge start and its level term, the validation
scores that decide) then weighs every series alike, whatever its level.

The networks read float32 windows and normalise each one with a small absolute ``eps``:
values beyond float32's range (about 3e38; their squares overflow from about 1e19) would
become infinite, and series whose spread is far below ``sqrt(eps)`` (about 3e-3) would be
forecast on the scale of ``eps`` instead of their own. :func:`magnitude_scale` gives a
series a factor ``2**k`` that brings its largest magnitude into ``[1, 2)`` when it lies
outside ``[2**-7, 2**40]`` (and 1 otherwise, so that ordinary data is read unchanged).
Dividing by a power of two is exact: no digit of the data is changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESOLUTION = 1e-6
"""A unit is at least this fraction of the series' mean magnitude, so that a nearly
constant series is not blown up to values whose spread float32 cannot hold."""

LOW, HIGH = 2.0**-7, 2.0**40
"""Largest magnitudes in ``[LOW, HIGH]`` are read as they are."""


def magnitude_scale(values: np.ndarray) -> float:
    """The power of two that divides ``values`` (any shape, NaN ignored) before the network
    reads them: 1 when their largest finite magnitude lies in ``[LOW, HIGH]`` or is 0."""
    finite = np.abs(np.asarray(values, dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if finite.size else 0.0
    if top == 0.0 or LOW <= top <= HIGH:
        return 1.0
    return float(2.0 ** np.floor(np.log2(top)))


def unit_scale(values: np.ndarray) -> float:
    """A series' unit: the standard deviation of its finite values, at least
    :data:`RESOLUTION` times their mean magnitude; the mean magnitude of a constant
    series, 1 for one of zeros or without a finite value. Computed after an exact
    power-of-two rescaling, so that it neither overflows nor underflows."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 1.0
    m = magnitude_scale(v)
    w = v / m
    level = float(np.abs(w).mean())
    unit = max(float(w.std()), RESOLUTION * level)
    return unit * m if unit > 0 else 1.0


def scaled(values: Sequence[np.ndarray], scales: np.ndarray) -> list[np.ndarray]:
    """Each series divided by its scale (float64; the same arrays where the scale is 1)."""
    return [
        v if s == 1.0 else np.asarray(v, dtype=np.float64) / s
        for v, s in zip(values, scales, strict=True)
    ]
