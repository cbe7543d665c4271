"""Seeded chaotic systems as timestamped wide frames: Lorenz-63, Lorenz-96, Mackey-Glass.

Common conventions
------------------
* ``n_steps`` rows are returned, one every ``dt`` units of model time, after discarding
  ``burn_in`` samples (also in units of ``dt``) so that the transient from the initial
  state is gone and the trajectory lies on the attractor.
* The index is a :class:`~pandas.DatetimeIndex` named ``date`` from ``start`` with
  frequency ``freq``; one index step stands for ``dt`` units of model time (the calendar
  is only a label, so that the frames plug into tools that expect timestamps).
* ``seed`` drives the random initial state and the observation noise through two
  independent streams: the same seed gives the same trajectory with or without noise,
  and the same output bit for bit. ``seed=None`` draws fresh entropy.
* ``noise`` is the standard deviation of additive Gaussian observation noise, relative
  to each column's standard deviation over the returned noise-free series (``0.1``: 10 %).
* ``df.attrs["generator"]`` and ``df.attrs["params"]`` record how the frame was made.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["GENERATORS", "lorenz63", "lorenz96", "mackey_glass"]


def _check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def _check_positive(name: str, value: float) -> float:
    if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


def _rngs(seed: int | np.random.SeedSequence | None) -> tuple[np.random.Generator, ...]:
    # Separate streams: adding noise must not change the trajectory drawn for a seed.
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return tuple(np.random.default_rng(child) for child in seq.spawn(2))


def _frame(
    values: np.ndarray,
    columns: list[str],
    noise: float,
    rng: np.random.Generator,
    start: str | pd.Timestamp,
    freq: str,
    generator: str,
    params: dict,
) -> pd.DataFrame:
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    if noise > 0:
        scale = noise * values.std(axis=0)
        values = values + rng.standard_normal(values.shape) * scale
    index = pd.date_range(start, periods=len(values), freq=freq, name="date")
    frame = pd.DataFrame(values, index=index, columns=columns)
    frame.attrs["generator"] = generator
    frame.attrs["params"] = {**params, "noise": noise}
    return frame


def _rk4(
    deriv: Callable[[np.ndarray], np.ndarray],
    state: np.ndarray,
    dt: float,
    n_samples: int,
    substeps: int,
    burn_in: int,
) -> np.ndarray:
    """Classical RK4 with step ``dt / substeps``; keep every ``substeps``-th state."""
    h = dt / substeps
    out = np.empty((n_samples, state.size))
    for i in range(burn_in + n_samples):
        if i >= burn_in:
            out[i - burn_in] = state
        for _ in range(substeps):
            k1 = deriv(state)
            k2 = deriv(state + 0.5 * h * k1)
            k3 = deriv(state + 0.5 * h * k2)
            k4 = deriv(state + h * k3)
            state = state + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        if not np.all(np.isfinite(state)):
            raise FloatingPointError(
                f"the integration diverged at sample {i - burn_in}; use a smaller dt "
                "or more substeps"
            )
    return out


def lorenz63(
    n_steps: int = 10_000,
    *,
    dt: float = 0.01,
    sigma: float = 10.0,
    rho: float = 28.0,
    beta: float = 8.0 / 3.0,
    initial: ArrayLike | None = None,
    burn_in: int = 1_000,
    substeps: int = 1,
    noise: float = 0.0,
    seed: int | np.random.SeedSequence | None = None,
    start: str | pd.Timestamp = "2000-01-01",
    freq: str = "h",
) -> pd.DataFrame:
    """Lorenz (1963) system, integrated with RK4.

    ``dx/dt = sigma (y - x)``, ``dy/dt = x (rho - z) - y``, ``dz/dt = x y - beta z``.

    Parameters
    ----------
    n_steps : int, default 10000
        Rows returned.
    dt : float, default 0.01
        Model time between rows.
    sigma, rho, beta : float, default 10, 28, 8/3
        The classical chaotic parameters.
    initial : array-like of 3 floats, optional
        Initial ``(x, y, z)``. Default: drawn from ``seed`` around ``(0, 0, 25)``.
    burn_in : int, default 1000
        Samples discarded first (10 time units at the default ``dt``).
    substeps : int, default 1
        RK4 steps per row (step ``dt / substeps``); raise it for a coarse ``dt``.
    noise : float, default 0
        Observation noise, relative to each column's standard deviation.
    seed : int or SeedSequence, optional
        Seed of the initial state and of the noise.
    start, freq : default "2000-01-01", "h"
        First timestamp and frequency of the index.

    Returns
    -------
    pandas.DataFrame
        Columns ``x``, ``y``, ``z``; ``n_steps`` rows.
    """
    n_steps = _check_int("n_steps", n_steps, 1)
    burn_in = _check_int("burn_in", burn_in, 0)
    substeps = _check_int("substeps", substeps, 1)
    dt = _check_positive("dt", dt)
    state_rng, noise_rng = _rngs(seed)
    if initial is None:
        state = state_rng.standard_normal(3) + np.array([0.0, 0.0, 25.0])
    else:
        state = np.asarray(initial, dtype=float)
        if state.shape != (3,):
            raise ValueError(f"initial must hold 3 values (x, y, z); got shape {state.shape}")

    def deriv(s: np.ndarray) -> np.ndarray:
        x, y, z = s
        return np.array([sigma * (y - x), x * (rho - z) - y, x * y - beta * z])

    values = _rk4(deriv, state, dt, n_steps, substeps, burn_in)
    params = dict(dt=dt, sigma=sigma, rho=rho, beta=beta, burn_in=burn_in, substeps=substeps)
    return _frame(values, ["x", "y", "z"], noise, noise_rng, start, freq, "lorenz63", params)


def lorenz96(
    n_steps: int = 10_000,
    *,
    n_vars: int = 40,
    forcing: float = 8.0,
    dt: float = 0.01,
    initial: ArrayLike | None = None,
    burn_in: int = 1_000,
    substeps: int = 1,
    noise: float = 0.0,
    seed: int | np.random.SeedSequence | None = None,
    start: str | pd.Timestamp = "2000-01-01",
    freq: str = "h",
) -> pd.DataFrame:
    """Lorenz (1996) model on a ring of ``N`` variables, integrated with RK4.

    ``dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F``, indices modulo ``N``.

    Parameters
    ----------
    n_steps : int, default 10000
        Rows returned.
    n_vars : int, default 40
        Number of variables ``N`` (at least 4).
    forcing : float, default 8
        Forcing ``F``; 8 gives chaos.
    dt : float, default 0.01
        Model time between rows (0.05 is "6 hours" in Lorenz's scaling).
    initial : array-like of ``n_vars`` floats, optional
        Initial state. Default: ``F`` plus a small perturbation drawn from ``seed``.
    burn_in : int, default 1000
        Samples discarded first.
    substeps : int, default 1
        RK4 steps per row.
    noise : float, default 0
        Observation noise, relative to each column's standard deviation.
    seed : int or SeedSequence, optional
        Seed of the initial state and of the noise.
    start, freq : default "2000-01-01", "h"
        First timestamp and frequency of the index.

    Returns
    -------
    pandas.DataFrame
        Columns ``x00`` ... ``x39`` (zero-padded to the width of ``N - 1``).
    """
    n_steps = _check_int("n_steps", n_steps, 1)
    n_vars = _check_int("n_vars", n_vars, 4)
    burn_in = _check_int("burn_in", burn_in, 0)
    substeps = _check_int("substeps", substeps, 1)
    dt = _check_positive("dt", dt)
    state_rng, noise_rng = _rngs(seed)
    if initial is None:
        # The equilibrium x_i = F is unstable: a small random kick starts the chaos.
        state = forcing + 0.01 * state_rng.standard_normal(n_vars)
    else:
        state = np.asarray(initial, dtype=float)
        if state.shape != (n_vars,):
            raise ValueError(f"initial must hold n_vars={n_vars} values; got shape {state.shape}")

    ring = np.arange(n_vars)
    ahead, back1, back2 = (ring + 1) % n_vars, ring - 1, ring - 2  # negative indices wrap

    def deriv(x: np.ndarray) -> np.ndarray:
        return (x[ahead] - x[back2]) * x[back1] - x + forcing

    values = _rk4(deriv, state, dt, n_steps, substeps, burn_in)
    width = len(str(n_vars - 1))
    columns = [f"x{i:0{width}d}" for i in range(n_vars)]
    params = dict(n_vars=n_vars, forcing=forcing, dt=dt, burn_in=burn_in, substeps=substeps)
    return _frame(values, columns, noise, noise_rng, start, freq, "lorenz96", params)


def mackey_glass(
    n_steps: int = 5_000,
    *,
    tau: float = 17.0,
    beta: float = 0.2,
    gamma: float = 0.1,
    n: float = 10.0,
    dt: float = 1.0,
    step: float = 0.1,
    x0: float | None = None,
    burn_in: int = 500,
    noise: float = 0.0,
    seed: int | np.random.SeedSequence | None = None,
    start: str | pd.Timestamp = "2000-01-01",
    freq: str = "h",
) -> pd.DataFrame:
    """Mackey-Glass delay differential equation, integrated with RK4 on a fine grid.

    ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)``.

    The delayed values come from a history buffer on the integration grid; at the RK4
    half steps they are interpolated between grid points with cubic Hermite polynomials
    (values and slopes), which keeps the scheme fourth-order. The initial history
    on ``[-tau, 0]`` is the constant ``x0``.

    Parameters
    ----------
    n_steps : int, default 5000
        Rows returned.
    tau, beta, gamma, n : float, default 17, 0.2, 0.1, 10
        Delay and coefficients; ``tau=17`` gives the classical mildly chaotic regime
        (``tau=30`` a more chaotic one).
    dt : float, default 1
        Model time between rows; a multiple of ``step``.
    step : float, default 0.1
        Integration step; ``tau`` must be a multiple of it.
    x0 : float, optional
        Constant initial history (1.2 is the classical choice). Default: drawn from
        ``seed``, uniform in ``[0.5, 1.5]``.
    burn_in : int, default 500
        Samples discarded first.
    noise : float, default 0
        Observation noise, relative to the series' standard deviation.
    seed : int or SeedSequence, optional
        Seed of the initial history and of the noise.
    start, freq : default "2000-01-01", "h"
        First timestamp and frequency of the index.

    Returns
    -------
    pandas.DataFrame
        One column ``x``; values lie in about ``[0.2, 1.4]`` for the defaults.
    """
    n_steps = _check_int("n_steps", n_steps, 1)
    burn_in = _check_int("burn_in", burn_in, 0)
    dt, step, tau = (_check_positive(k, v) for k, v in (("dt", dt), ("step", step), ("tau", tau)))
    sub, delay = round(dt / step), round(tau / step)
    if sub < 1 or not math.isclose(sub * step, dt, rel_tol=1e-9):
        raise ValueError(f"dt={dt} must be a whole multiple of step={step}")
    if not math.isclose(delay * step, tau, rel_tol=1e-9):
        raise ValueError(f"tau={tau} must be a whole multiple of step={step}")
    state_rng, noise_rng = _rngs(seed)

    n_fine = (burn_in + n_steps - 1) * sub
    if x0 is None:
        x0 = float(state_rng.uniform(0.5, 1.5))
    elif not (math.isfinite(x0) and x0 > 0):
        raise ValueError(f"x0 must be a finite number > 0; got {x0!r}")
    # buf[k] is x at time (k - delay) * step; the first delay + 1 entries are the history.
    # A scalar loop over a list of Python floats is much faster than numpy indexing.
    buf = [float(x0)] * (delay + 1 + n_fine)

    def f(now: float, lagged: float) -> float:
        return beta * lagged / (1.0 + lagged**n) - gamma * now

    # slope[k] = dx/dt at grid point k (0 on the constant history), for the interpolation.
    slope = [0.0] * len(buf)
    h = step
    for k in range(delay, delay + n_fine):
        now, j = buf[k], k - delay
        k1 = slope[k] = f(now, buf[j])
        # Cubic Hermite value at the half step: O(h^4), keeping RK4 fourth-order. At t = 0
        # the slope jumps; the last history interval takes the history's slope, 0.
        end_slope = slope[j + 1] if j + 1 > delay else 0.0
        lag_half = 0.5 * (buf[j] + buf[j + 1]) + 0.125 * h * (slope[j] - end_slope)
        k2 = f(now + 0.5 * h * k1, lag_half)
        k3 = f(now + 0.5 * h * k2, lag_half)
        k4 = f(now + h * k3, buf[j + 1])
        buf[k + 1] = now + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    x = np.asarray(buf)
    samples = x[delay + burn_in * sub :: sub][:n_steps, None]
    if not np.all(np.isfinite(samples)):
        raise FloatingPointError("the integration diverged; use a smaller step")
    params = dict(tau=tau, beta=beta, gamma=gamma, n=n, dt=dt, step=step, x0=x0, burn_in=burn_in)
    return _frame(samples, ["x"], noise, noise_rng, start, freq, "mackey_glass", params)


GENERATORS: dict[str, Callable[..., pd.DataFrame]] = {
    "lorenz63": lorenz63,
    "lorenz96": lorenz96,
    "mackey_glass": mackey_glass,
}
"""The generators by name, as the registry's ``generator`` field names them."""
