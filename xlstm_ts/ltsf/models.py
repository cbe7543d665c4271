"""The models of the benchmark behind one small protocol, and their names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from xlstm_ts.baselines import (
    ETSOrigins,
    RidgeNLinear,
    fit_dlinear,
    season_length,
    seasonal_naive,
)
from xlstm_ts.data import Panel, relative_order
from xlstm_ts.estimators import XLSTMForecaster
from xlstm_ts.stateful import XLSTMStatefulForecaster
from xlstm_ts.stateful.inference import forecasts_at

from .data import LTSFData


class LTSFModel(Protocol):
    """What the benchmark needs of a model.

    ``fit`` sees the training and validation windows (never the test part) and returns
    a dict of facts worth recording (chosen penalty, epochs, …); ``predict`` forecasts
    a block of test windows of one channel, given their contexts and origins (the row of
    their first target step).
    """

    stochastic: bool

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]: ...

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray: ...


class RidgeModel:
    """:class:`~xlstm_ts.baselines.RidgeNLinear`, penalty chosen on the validation windows."""

    stochastic = False

    def __init__(self, **params: Any) -> None:
        self.params = params

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        self.model = RidgeNLinear(**self.params).fit(
            data.windows("train", horizon), data.windows("val", horizon)
        )
        return {"lambda": self.model.lambda_}

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        return self.model.predict(contexts)


class DLinearModel:
    """DLinear (:func:`~xlstm_ts.baselines.fit_dlinear`), early-stopped on validation."""

    stochastic = True

    def __init__(self, **params: Any) -> None:
        self.params = params

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        self.net, info = fit_dlinear(
            data.windows("train", horizon),
            data.windows("val", horizon),
            data.context_length,
            horizon,
            seed=seed,
            **self.params,
        )
        return info

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(np.asarray(contexts, dtype=np.float32))
            return self.net(x)[..., 0].double().numpy()


def _season(data: LTSFData, season: int | None) -> int:
    m = season_length(data.freq) if season is None else int(season)
    if m < 1:
        raise ValueError(f"season must be >= 1; got {m}")
    return m


class SeasonalNaiveModel:
    """Repeat the window's last season (24 for hourly data; see ``season_length``)."""

    stochastic = False

    def __init__(self, season: int | None = None) -> None:
        self.season = season

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        self.m, self.horizon = _season(data, self.season), horizon
        if self.m > data.context_length:
            raise ValueError(
                f"seasonal naive needs season <= context_length; got season {self.m} and "
                f"context_length {data.context_length}"
            )
        return {"season": self.m}

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        return seasonal_naive(contexts, self.m, self.horizon)


class ETSBenchmarkModel:
    """Additive damped-trend seasonal ETS per channel (:class:`~xlstm_ts.baselines.ETSOrigins`).

    Fitted once per channel on the training rows; the filter then runs once over the
    training, validation and test rows with the fitted parameters, and each test origin's
    forecast follows in closed form from the state there.
    """

    stochastic = False

    def __init__(
        self, season: int | None = None, trend: str | None = "add", damped_trend: bool = True
    ) -> None:
        self.season, self.trend, self.damped_trend = season, trend, damped_trend

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        # the fit and the filter do not depend on the horizon: reuse them across horizons
        reused = getattr(self, "_data", None) is data
        if not reused:
            m = _season(data, self.season)
            train_stop, stop = data.bounds.train[1], data.bounds.test[1]
            self.models, self.states = [], []
            for y in data.values:
                model = ETSOrigins(m, self.trend, self.damped_trend).fit(y[:train_stop])
                self.models.append(model)
                self.states.append(model.states(y[:stop]))
            self._data = data
        self.horizon = horizon
        return {"params": [m.params_ for m in self.models], "fit_reused": reused}

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        model = self.models[channel]
        return model.forecast_from_states(self.states[channel], origins, self.horizon)


QUIET: dict[str, Any] = {"trainer_kwargs": {"enable_progress_bar": False}}
"""No progress bars in a benchmark's output."""

PROTOCOL_PARAMS: dict[str, Any] = {
    "loss": "mse",
    "quantiles": (0.5,),
    "windows_per_epoch": 8192,
    "max_epochs": 15,
    "early_stopping_patience": 3,
}
"""What the benchmark sets beside the estimator's own defaults (``--param`` overrides
them): the squared error the protocol scores, a point forecast only, and an epoch budget
that keeps a fit within minutes on two CPU cores."""


class XLSTMModel:
    """:class:`~xlstm_ts.XLSTMForecaster` on the protocol's windows.

    Fitted on the scaled training and validation rows, passed as arrays
    (:meth:`xlstm_ts.data.Panel.from_arrays`), with ``validation_size`` equal to the
    validation part's target steps, so that the estimator's validation windows (early
    stopping, checkpoint choice) are exactly the protocol's. ``context_length``,
    ``horizon``, ``validation_size`` and ``random_state`` are set by the protocol;
    :data:`PROTOCOL_PARAMS` complete the estimator's defaults. With
    ``channel_mixing=True`` each channel's test windows come with the other channels'
    values over the same rows.
    """

    stochastic = True
    _FIXED = ("context_length", "horizon", "validation_size", "random_state")

    def __init__(self, **params: Any) -> None:
        fixed = [k for k in self._FIXED if k in params]
        if fixed:
            raise ValueError(
                f"xLSTM parameters {fixed} are set by the benchmark (context length, horizon, "
                "validation part, seed); leave them out"
            )
        self.params = {**QUIET, **PROTOCOL_PARAMS, **params}

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        train_stop, val_stop = data.bounds.train[1], data.bounds.val[1]
        data.windows("val", horizon)  # raises if the validation part holds no window
        self.model = XLSTMForecaster(
            horizon=horizon,
            context_length=data.context_length,
            validation_size=val_stop - train_stop,
            random_state=seed,
            **self.params,
        )
        self.model.fit(Panel.from_arrays(data.values[:, :val_stop]))
        self.values = data.values  # the other channels' contexts, with channel_mixing
        model = self.model
        return {
            "epochs": model.n_epochs_,
            "best_val_loss": model.best_val_loss_,
            "linear_path": model.linear_path_,
            "decision": model.decision_,
            "ridge_lambda": model.ridge_lambda_,
        }

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        covariates = None
        if self.model.channel_mixing:  # the other channels over the same rows
            rows = np.asarray(origins)[:, None] + np.arange(-self.model.context_length, 0)
            others = relative_order(len(self.values))[channel]
            covariates = np.moveaxis(self.values[others][:, rows], 0, -1)
        return self.model.predict_contexts(contexts, covariates=covariates, series=channel)


STATEFUL_PARAMS: dict[str, Any] = {
    "loss": "mse",
    "quantiles": (0.5,),
    "patch_len": 16,
    "segment_length": 256,
    "d_model": 64,
    "num_blocks": 2,
    "batch_size": 8,
    "learning_rate": 3e-3,
    "dropout": 0.0,
    "max_epochs": 100,
    "early_stopping_patience": 10,
}
"""What the benchmark sets for ``xlstm_state`` beside the estimator's defaults
(``--model-param xlstm_state:KEY=VALUE`` overrides them): the squared error, a point
forecast, short segments, a higher learning rate and many epochs with early stopping on
the validation loss (few long series give few optimiser steps per epoch: 34 for ETTh1's
seven channels of 8,640 training rows, an epoch of seconds on one CPU core)."""


class StatefulModel:
    """:class:`~xlstm_ts.XLSTMStatefulForecaster` scored on the protocol's test windows.

    Fitted on the scaled training and validation rows (``validation_size`` is the
    validation part, so early stopping and the kept epoch see the validation targets
    only; the normalisation is fitted on the training rows). Each channel is then read
    once from its first row to the last test origin, the state carried along, and the
    forecast for origin ``o`` is the one made at row ``o - 1``: it depends on the rows
    before ``o`` only.

    Parameters
    ----------
    window_lens : sequence of int or "context", optional
        Head windows to try, one fit each; the one with the lowest validation loss is
        kept. ``"context"`` stands for the protocol's context length, so that the head
        sees as much of the recent past as the window models do. Default ``(64,
        "context")``; ignored when ``window_len`` is given.
    **params
        Estimator parameters; :data:`STATEFUL_PARAMS` complete its defaults.
    """

    stochastic = True
    _FIXED = ("horizon", "validation_size", "random_state")

    def __init__(self, window_lens: Sequence[int | str] = (64, "context"), **params: Any) -> None:
        fixed = [k for k in self._FIXED if k in params]
        if fixed:
            raise ValueError(
                f"xlstm_state parameters {fixed} are set by the benchmark (horizon, "
                "validation part, seed); leave them out"
            )
        self.window_lens = [params["window_len"]] if "window_len" in params else window_lens
        self.params = {**QUIET, **STATEFUL_PARAMS, **params}

    def fit(self, data: LTSFData, horizon: int, seed: int) -> dict[str, Any]:
        train_stop, val_stop = data.bounds.train[1], data.bounds.val[1]
        data.windows("val", horizon)  # raises if the validation part holds no window
        panel = Panel.from_arrays(data.values[:, :val_stop])
        tried: dict[int, float] = {}
        for w in self.window_lens:
            w = data.context_length if w == "context" else int(w)
            if w in tried:
                continue
            model = XLSTMStatefulForecaster(
                horizon=horizon, validation_size=val_stop - train_stop, random_state=seed,
                **{**self.params, "window_len": w},
            ).fit(panel)  # fmt: skip
            tried[w] = model.best_val_loss_
            if tried[w] == min(tried.values()):
                self.model = model
        self.data, self.forecasts = data, {}
        return {
            "epochs": self.model.n_epochs_,
            "best_val_loss": self.model.best_val_loss_,
            "window_len": self.model.window_len,
            "val_loss_by_window_len": tried,
        }

    def predict(self, contexts: np.ndarray, channel: int, origins: np.ndarray) -> np.ndarray:
        if channel not in self.forecasts:
            # one pass per channel, up to the last test origin: every test window at once
            start, stop = self.data.bounds.test
            first, last = start + self.data.context_length, stop - self.model.horizon
            state = self.model.fitted_
            values = self.data.values[channel, :last]
            positions = np.arange(first - 1, last)
            point = forecasts_at(
                self.model.model_, values, state.mean[channel], state.scale[channel], positions
            )[..., state.point_index]
            self.forecasts[channel] = (first, point)
        first, point = self.forecasts[channel]
        return point[np.asarray(origins) - first]


MODELS: dict[str, Callable[..., LTSFModel]] = {
    "xlstm": XLSTMModel,
    "xlstm_state": StatefulModel,
    "ridge": RidgeModel,
    "dlinear": DLinearModel,
    "seasonal_naive": SeasonalNaiveModel,
    "ets": ETSBenchmarkModel,
}
"""Model names accepted by :func:`run_benchmark`, and their factories."""
