"""Baseline forecasters: seasonal naive, ridge (NLinear-style), DLinear and ETS.

The fitted baselines read windows through :class:`WindowSource` (see
:mod:`xlstm_ts.ltsf`, which builds them lazily over the benchmark splits).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from sklearn.exceptions import NotFittedError


def seasonal_naive(history: np.ndarray, season: int, h: int) -> np.ndarray:
    """Repeat the last full season: ``ŷ_{T+j} = y_{T+j-season·k}`` for the smallest k ≥ 1.

    ``history``: (..., T) with ``T >= season``; returns (..., h).
    """
    history = np.asarray(history, dtype=np.float64)
    if season < 1 or history.shape[-1] < season:
        raise ValueError(
            f"seasonal_naive needs season >= 1 and at least one season of history; got "
            f"season={season} and {history.shape[-1]} steps"
        )
    last = history[..., -season:]
    return last[..., np.arange(h) % season]


# ---------------------------------------------------------------------------- seasons
_DAILY_SEASON = {"D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


def season_length(freq: str | None) -> int:
    """Natural season of a pandas frequency: one day of sub-daily data, else the next cycle.

    Hourly data give 24, 15-minute data 96, 10-minute data 144; daily data 7 (a week),
    business days 5, weekly 52, monthly 12, quarterly 4; yearly and unknown give 1.

    Parameters
    ----------
    freq : str or None
        A pandas frequency string such as ``"h"``, ``"15min"``, ``"W-TUE"``.

    Returns
    -------
    int
        Season length in steps (1 means no seasonality).
    """
    if freq is None:
        return 1
    import pandas as pd

    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError as exc:
        raise ValueError(f"freq must be a pandas frequency string; got {freq!r}") from exc
    nanos = getattr(offset, "nanos", None) if isinstance(offset, pd.offsets.Tick) else None
    if nanos is not None:
        day = 24 * 3600 * 10**9
        if nanos < day and day % nanos == 0:
            return day // nanos
        if nanos == day * offset.n and offset.n == 1:
            return 7
        return 1
    base = offset.rule_code.split("-")[0]
    return _DAILY_SEASON.get(base, 1)


# ---------------------------------------------------------------------------- windows
class WindowSource(Protocol):
    """Windows ``(context, target)`` of one data part, as used by the fitted baselines.

    ``take(idx)`` returns copies ``X (n, L)`` and ``Y (n, H)`` of the windows numbered
    ``idx``; ``blocks(size)`` yields every window once, ``size`` at a time.
    """

    def __len__(self) -> int: ...

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def blocks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]: ...


# ---------------------------------------------------------------------------- ridge
RIDGE_LAMBDAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
"""Ridge penalties tried, relative to the mean diagonal of the training Gram matrix."""


class _Moments:
    """Running sums ``XᵀX``, ``XᵀY``, ``ΣY²`` and the count of target values."""

    def __init__(self) -> None:
        self.gram: np.ndarray | float = 0.0
        self.cross: np.ndarray | float = 0.0
        self.yy = 0.0
        self.n = 0

    def add(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.gram = self.gram + X.T @ X
        self.cross = self.cross + X.T @ Y
        self.yy += float(np.einsum("ij,ij->", Y, Y))
        self.n += Y.size

    def sse(self, W: np.ndarray) -> float:
        """Σ‖Y − XW‖² from the sums alone."""
        return self.yy - 2 * float(np.sum(W * self.cross)) + float(np.sum(W * (self.gram @ W)))


class RidgeNLinear:
    """Linear map from the lookback window to the horizon, fitted in closed form.

    NLinear-style: the window's last value is subtracted from the context and the target
    and added back to the forecast, so the map sees levels relative to "now". One map is
    shared by all series. The fit accumulates ``XᵀX`` and ``XᵀY`` over blocks of windows
    (memory O(L² + L·H), never all windows at once) and solves the normal equations for
    each penalty of ``lambdas``; the penalty with the smallest squared error on the
    validation windows is kept.

    Parameters
    ----------
    lambdas : sequence of float
        Penalties relative to the mean diagonal of ``XᵀX`` (the lag features), so that a
        grid suits any scale and lookback. The intercept is not penalised.
    fit_intercept : bool
        Learn one offset per horizon step.
    block_size : int
        Windows per block when accumulating.

    Attributes
    ----------
    coef_ : ndarray of shape (L, H)
        Weights on ``context - last`` (the last row is zero: that feature is always 0).
    intercept_ : ndarray of shape (H,)
    lambda_ : float
        Chosen relative penalty.
    val_mse_ : dict
        Validation MSE for each relative penalty.
    """

    def __init__(
        self,
        lambdas: Sequence[float] = RIDGE_LAMBDAS,
        fit_intercept: bool = True,
        block_size: int = 4096,
    ) -> None:
        self.lambdas = lambdas
        self.fit_intercept = fit_intercept
        self.block_size = block_size

    def _features(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        last = X[:, -1:]
        feats = X[:, :-1] - last  # the last lag minus itself is 0: left out
        if self.fit_intercept:
            feats = np.hstack([feats, np.ones_like(last)])
        return feats, last

    def _moments(self, windows: WindowSource) -> _Moments:
        moments = _Moments()
        for X, Y in windows.blocks(self.block_size):
            feats, last = self._features(X)
            moments.add(feats, np.asarray(Y, dtype=np.float64) - last)
        return moments

    def solve(self, gram: np.ndarray, cross: np.ndarray, lam: float) -> np.ndarray:
        """Ridge solution ``(G + λ·s·D)⁻¹ C`` for relative penalty ``lam``.

        ``s`` is the mean diagonal of ``G`` over the lag features and ``D`` the identity
        with a zero for the intercept.
        """
        p = gram.shape[0]
        n_lags = p - 1 if self.fit_intercept else p
        penalty = np.zeros(p)
        penalty[:n_lags] = lam * np.mean(np.diag(gram)[:n_lags])
        return np.linalg.solve(gram + np.diag(penalty), cross)

    def fit(self, train: WindowSource, val: WindowSource | None = None) -> RidgeNLinear:
        """Fit on the training windows, choosing the penalty on the validation windows.

        Parameters
        ----------
        train, val : WindowSource
            Training and validation windows. Without ``val`` the smallest penalty of the
            grid is used.

        Returns
        -------
        self
        """
        lambdas = [float(lam) for lam in self.lambdas]
        if not lambdas or min(lambdas) < 0:
            raise ValueError(f"lambdas must be a non-empty list of values >= 0; got {lambdas}")
        tr = self._moments(train)
        if tr.n == 0:
            raise ValueError("the training part has no windows")
        solutions = {lam: self.solve(tr.gram, tr.cross, lam) for lam in lambdas}
        if val is not None and len(val) > 0:
            va = self._moments(val)
            self.val_mse_ = {lam: va.sse(W) / va.n for lam, W in solutions.items()}
            self.lambda_ = min(self.val_mse_, key=self.val_mse_.get)
        else:
            self.val_mse_ = {}
            self.lambda_ = min(lambdas)
        W = solutions[self.lambda_]
        n_lags = W.shape[0] - int(self.fit_intercept)
        self.coef_ = np.vstack([W[:n_lags], np.zeros((1, W.shape[1]))])
        self.intercept_ = W[n_lags] if self.fit_intercept else np.zeros(W.shape[1])
        return self

    def predict(self, contexts: np.ndarray) -> np.ndarray:
        """Forecasts (n, H) from contexts (n, L)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("RidgeNLinear is not fitted yet; call fit(train, val) first")
        contexts = np.asarray(contexts, dtype=np.float64)
        if contexts.ndim != 2 or contexts.shape[1] != self.coef_.shape[0]:
            raise ValueError(
                f"contexts must have shape (n, {self.coef_.shape[0]}); got {contexts.shape}"
            )
        last = contexts[:, -1:]
        return (contexts - last) @ self.coef_ + self.intercept_ + last


# ---------------------------------------------------------------------------- DLinear
class DLinearNet(torch.nn.Module):
    """DLinear: a moving-average trend and the remainder, each mapped by a linear layer.

    The moving average pads each end by repeating the first or last value, so the trend
    has the length of the input. Weights are shared by all series.

    Parameters
    ----------
    lookback, horizon : int
        Input and output lengths.
    kernel_size : int
        Width of the moving average (odd).
    """

    def __init__(self, lookback: int, horizon: int, kernel_size: int = 25) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd positive integer; got {kernel_size}")
        self.kernel_size = kernel_size
        self.trend = torch.nn.Linear(lookback, horizon)
        self.seasonal = torch.nn.Linear(lookback, horizon)
        # the published initialisation: every output starts as the window mean
        for layer in (self.trend, self.seasonal):
            torch.nn.init.constant_(layer.weight, 1.0 / lookback)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forecasts (B, H) from contexts (B, L)."""
        pad = (self.kernel_size - 1) // 2
        padded = torch.cat([x[:, :1].expand(-1, pad), x, x[:, -1:].expand(-1, pad)], dim=1)
        trend = torch.nn.functional.avg_pool1d(padded[:, None], self.kernel_size, stride=1)[:, 0]
        return self.trend(trend) + self.seasonal(x - trend)


def fit_dlinear(
    train: WindowSource,
    val: WindowSource | None,
    lookback: int,
    horizon: int,
    *,
    kernel_size: int = 25,
    max_epochs: int = 10,
    patience: int = 3,
    batch_size: int = 256,
    learning_rate: float = 5e-3,
    lr_decay: float = 0.5,
    seed: int = 0,
) -> tuple[DLinearNet, dict[str, Any]]:
    """Train :class:`DLinearNet` with Adam on the MSE, early stopping on the validation MSE.

    The learning rate is multiplied by ``lr_decay`` after every epoch (the published
    schedule halves it); the weights of the best validation epoch are returned.

    Returns
    -------
    net : DLinearNet
        In evaluation mode.
    info : dict
        ``epochs`` trained, ``best_epoch`` and ``best_val_mse``.
    """
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = DLinearNet(lookback, horizon, kernel_size)
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=lr_decay)
    best_val, best_state, best_epoch, waited, epoch = math.inf, None, 0, 0, 0
    for epoch in range(1, max_epochs + 1):
        net.train()
        order = torch.randperm(len(train), generator=gen).numpy()
        for start in range(0, len(order), batch_size):
            X, Y = train.take(order[start : start + batch_size])
            loss = torch.nn.functional.mse_loss(net(_tensor(X)), _tensor(Y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        if val is None or len(val) == 0:
            best_state, best_epoch = None, epoch
            continue
        score = _val_mse(net, val)
        if score < best_val:
            best_val, best_epoch, waited = score, epoch, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    info = {"epochs": epoch, "best_epoch": best_epoch, "best_val_mse": best_val}
    return net.eval(), info


def _tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(x, dtype=np.float32))


@torch.no_grad()
def _val_mse(net: torch.nn.Module, val: WindowSource, block: int = 8192) -> float:
    net.eval()
    sse, n = 0.0, 0
    for X, Y in val.blocks(block):
        err = net(_tensor(X)).double() - torch.from_numpy(np.asarray(Y, dtype=np.float64))
        sse += float(err.square().sum())
        n += err.numel()
    return sse / n


# ---------------------------------------------------------------------------- ETS
class ETSOrigins:
    """Additive exponential smoothing fitted once, then forecasting from many origins.

    ``fit`` estimates the model (statsmodels ``ETSModel``, maximum likelihood) on a
    training series. ``forecast`` runs the fitted model's filter once over a longer
    series with the same parameters and initial states, and turns the state after each
    origin into its multi-step forecast in closed form:
    ``ŷ_{t+h} = ℓ_t + (φ + … + φ^h)·b_t + s_{t+h−m⌈h/m⌉}``. No refit per origin, and
    the forecasts equal statsmodels' own ``forecast`` from a model smoothed on
    ``y[:origin]`` with the fitted parameters.

    Parameters
    ----------
    season : int
        Seasonal period ``m``; 1 means no seasonal component.
    trend : {"add", None}
        Additive trend, or none.
    damped_trend : bool
        Damp the trend (only with ``trend="add"``).

    Attributes
    ----------
    params_ : dict
        Smoothing parameters (and ``damping_trend``) of the fitted model.
    initial_ : dict
        Fitted initial level, trend and seasonal states.
    """

    def __init__(self, season: int, trend: str | None = "add", damped_trend: bool = True) -> None:
        self.season = season
        self.trend = trend
        self.damped_trend = damped_trend

    def _spec(self) -> dict[str, Any]:
        if self.trend not in ("add", None):
            raise ValueError(f"trend must be 'add' or None; got {self.trend!r}")
        if isinstance(self.season, bool) or not isinstance(self.season, int) or self.season < 1:
            raise ValueError(f"season must be an int >= 1; got {self.season!r}")
        seasonal = self.season > 1
        return dict(
            error="add",
            trend=self.trend,
            damped_trend=bool(self.damped_trend and self.trend),
            seasonal="add" if seasonal else None,
            seasonal_periods=self.season if seasonal else None,
        )

    def fit(self, y: np.ndarray) -> ETSOrigins:
        """Estimate parameters and initial states on the series ``y`` (1-D)."""
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1 or len(y) < 2 * self.season + 2:
            raise ValueError(
                f"ETS needs a 1-D series of at least two seasons (2·{self.season} + 2 steps); "
                f"got shape {y.shape}"
            )
        with warnings.catch_warnings():
            # convergence chatter of the optimiser; the fit is checked through the metrics
            warnings.simplefilter("ignore")
            result = ETSModel(y, **self._spec()).fit(disp=False)
        names = result.model.param_names
        params = zip(names, result.params, strict=True)
        self.params_ = {n: float(v) for n, v in params if not n.startswith("initial")}
        self.initial_ = {"initial_level": float(result.initial_level)}
        if self.trend:
            self.initial_["initial_trend"] = float(result.initial_trend)
        if self.season > 1:
            self.initial_["initial_seasonal"] = np.asarray(result.initial_seasonal, dtype=float)
        return self

    def states(self, y: np.ndarray) -> np.ndarray:
        """Filtered states (T, 3): level, trend, seasonal after observing each ``y_t``.

        Missing components are zero.
        """
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        if not hasattr(self, "params_"):
            raise NotFittedError("ETSOrigins is not fitted yet; call fit(y_train) first")
        model = ETSModel(
            np.asarray(y, dtype=np.float64),
            **self._spec(),
            initialization_method="known",
            **self.initial_,
        )
        result = model.smooth([self.params_[n] for n in model.param_names])
        states = np.zeros((len(y), 3))
        columns = (
            ["level"]
            + (["trend"] if self.trend else [])
            + (["seasonal"] if self.season > 1 else [])
        )
        for j, name in enumerate(columns):
            states[:, ("level", "trend", "seasonal").index(name)] = result.states[:, j]
        return states

    def forecast(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """Forecasts (n, horizon) of ``y[t : t + horizon]`` from ``y[:t]`` for each origin t.

        Parameters
        ----------
        y : ndarray of shape (T,)
            The series; only ``y[: max(origins)]`` is read.
        origins : ndarray of int, shape (n,)
            Each at least ``season`` and at most ``T``.
        horizon : int
        """
        origins = np.asarray(origins, dtype=np.int64)
        if origins.size and (origins.min() < self.season or origins.max() > len(y)):
            raise ValueError(
                f"origins must lie in [{self.season}, {len(y)}]; got "
                f"[{origins.min()}, {origins.max()}]"
            )
        stop = int(origins.max()) if origins.size else 0
        return self.forecast_from_states(self.states(y[:stop]), origins, horizon)

    def forecast_from_states(
        self, states: np.ndarray, origins: np.ndarray, horizon: int
    ) -> np.ndarray:
        """Closed-form forecasts from precomputed :meth:`states` (see :meth:`forecast`)."""
        origins = np.asarray(origins, dtype=np.int64)
        h = np.arange(1, horizon + 1)
        phi = self.params_.get("damping_trend", 1.0)
        damp = np.cumsum(phi**h) if self.trend else np.zeros(horizon)
        now = states[origins - 1]
        out = now[:, :1] + now[:, 1:2] * damp
        if self.season > 1:
            m = self.season
            # the seasonal state of step t + h was last updated at t + h - m·ceil(h/m)
            lag = (h - 1) % m - m  # offsets −m … −1 from the origin
            out = out + states[origins[:, None] + lag[None, :], 2]
        return out
