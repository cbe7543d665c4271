"""Appending new steps to a stateful forecaster's series: checks, then the new state."""

from __future__ import annotations

from dataclasses import replace
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from xlstm_ts.data import Panel, frame_to_panel, future_index

from .fitted import StatefulForecasterState, fit_normalisation
from .inference import advance


def new_steps(X_new: Any, state: StatefulForecasterState, **frame_kwargs: Any) -> Panel:
    """The series of ``X_new`` (a frame, or a ``Panel`` with true last times), read at
    the model's frequency: a few new steps are too few to infer one.

    ``frame_kwargs`` go to :func:`~xlstm_ts.data.frame_to_panel` (``id_col``,
    ``time_col``, ``target``, ``allow_missing``). Raises ``ValueError`` when ``X_new``
    does not follow the model's frequency or is not shaped (long/wide) like its data.
    """
    freq = state.panel.freq
    if isinstance(X_new, Panel):
        panel = X_new
    else:
        try:
            panel = frame_to_panel(X_new, freq=freq, **frame_kwargs)
        except ValueError as err:
            if "does not follow freq" not in str(err) and "irregular" not in str(err):
                raise
            raise ValueError(f"X_new does not have the model's frequency {freq!r}: {err}") from err
    if panel.layout != state.panel.layout:
        raise ValueError(
            f"X_new is a {panel.layout} frame, but the model was fitted on a "
            f"{state.panel.layout} one"
        )
    seen = next((t for t in state.panel.last_times if isinstance(t, pd.Timestamp)), None)
    for series, last in zip(panel.ids, panel.last_times, strict=True):
        if (
            seen is not None
            and isinstance(last, pd.Timestamp)
            and (last.tz is None) != (seen.tz is None)
        ):
            zone = "zone-naive" if last.tz is None else f"in time zone {last.tz}"
            model = "zone-naive" if seen.tz is None else f"in {seen.tz}"
            raise ValueError(
                f"X_new's times for series {series!r} are {zone}, but the model's are {model}"
            )
    return panel


def check_update(
    state: StatefulForecasterState, new: Panel, patch_len: int, every_series: bool
) -> None:
    """Refuse new steps that do not continue the model's series.

    Raises
    ------
    ValueError
        Naming the series and the timestamps: a series that starts before the step after
        its last seen one (an overlap) or after it (a gap), a new series shorter than
        ``patch_len``, or (``every_series``: a wide frame) a series of the model missing.
    """
    if every_series:
        absent = [s for s in state.panel.ids if s not in set(new.ids)]
        if absent:
            raise ValueError(f"a wide X_new must hold every series of the model; missing {absent}")
    known = {series: k for k, series in enumerate(state.panel.ids)}
    for series, values, last in zip(new.ids, new.values, new.last_times, strict=True):
        if series in known:
            _check_continues(state.panel, known[series], series, len(values), last)
            _check_scale(state, known[series], series, values)
        elif len(values) < patch_len:
            raise ValueError(
                f"new series {series!r} has {len(values)} steps; at least "
                f"patch_len={patch_len} are needed to start it"
            )


def _check_scale(state: StatefulForecasterState, k: int, series: Any, values: np.ndarray) -> None:
    """Refuse new values that the series' fixed normalisation puts beyond float32."""
    z = (np.asarray(values, dtype=np.float64) - state.mean[k]) / state.scale[k]
    bad = np.abs(z) > np.finfo(np.float32).max / 16
    if bad.any():
        pos = int(bad.argmax())
        raise ValueError(
            f"X_new's value {float(values[pos])!r} for series {series!r} (step {pos}) is "
            f"{abs(z[pos]):.3g} times the series' scale {state.scale[k]:.3g} from its mean "
            f"{state.mean[k]:.3g}: too far for the network (fitted on the series' first "
            "steps); fit again on data that includes such values"
        )


def _check_continues(panel: Panel, k: int, series: Any, m: int, last: Any) -> None:
    freq, seen = panel.freq, panel.last_times[k]
    expected = future_index(seen, freq, 1)[0]
    if isinstance(freq, int | Integral):
        first = last - (m - 1) * freq
    else:
        first = pd.date_range(end=last, periods=m, freq=freq)[0]
    if first == expected:
        return
    what = "overlaps the steps already seen" if first < expected else "leaves a gap"
    raise ValueError(
        f"X_new {what} for series {series!r}: it starts at {first}, but the model has "
        f"seen it up to {seen}; the next step is {expected}"
    )


def take_in(state: StatefulForecasterState, new: Panel) -> StatefulForecasterState:
    """A new state with the steps of ``new`` appended (checked with :func:`check_update`).

    Known series advance from their state by the new steps only; new ones get their
    normalisation from the steps given and are encoded from their start. ``state`` is
    not changed.
    """
    known = {series: k for k, series in enumerate(state.panel.ids)}
    added = [j for j, s in enumerate(new.ids) if s not in known]
    ids, values = list(state.panel.ids), list(state.panel.values)
    last_times, lengths = list(state.panel.last_times), list(state.lengths)
    states = list(state.states)
    mean_new, scale_new = fit_normalisation([new.values[j] for j in added])
    mean = np.concatenate([state.mean, mean_new])
    scale = np.concatenate([state.scale, scale_new])
    slot = {}
    for j in added:
        slot[j] = len(ids)
        ids.append(new.ids[j])
        values.append(np.zeros(0))
        last_times.append(None)
        lengths.append(0)
        states.append(None)
    order = [known[s] if s in known else slot[j] for j, s in enumerate(new.ids)]
    moved = advance(
        state.network,
        [states[k] for k in order],
        [lengths[k] for k in order],
        [values[k] for k in order],
        new.values,
        mean[order],
        scale[order],
    )
    for k, s, v, t in zip(order, moved, new.values, new.last_times, strict=True):
        states[k], lengths[k], last_times[k] = s, lengths[k] + len(v), t
        values[k] = np.concatenate([values[k], v])[-state.network.window_len :]
    covariates = [np.zeros((len(v), 0)) for v in values]
    panel = replace(
        state.panel, values=values, ids=ids, last_times=last_times, covariates=covariates
    )
    return replace(state, panel=panel, mean=mean, scale=scale, lengths=lengths, states=states)
