"""The ridge baseline: an NLinear-style linear map fitted in closed form."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
from sklearn.exceptions import NotFittedError

from xlstm_ts.ridge import LAMBDAS, NormalEquations, check_lambdas, fit_ridge


class WindowSource(Protocol):
    """Windows ``(context, target)`` of one data part, as the fitted baselines read them
    (:class:`xlstm_ts.data.Windows` is one): every window once, ``size`` at a time."""

    def __len__(self) -> int: ...

    def blocks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]: ...


class RidgeNLinear:
    """Linear map from the context window to the horizon, fitted in closed form.

    NLinear-style: the window's last value is subtracted from the context and the target
    and added back to the forecast, so the map sees levels relative to "now". One map is
    shared by all series. The normal equations are accumulated over blocks of windows and
    solved for each penalty of ``lambdas`` by :func:`xlstm_ts.ridge.fit_ridge` (the
    solver of the network's ridge start too); the penalty with the smallest squared
    error on the validation windows is kept.

    Parameters
    ----------
    lambdas : sequence of float
        Penalties relative to the mean diagonal of ``XᵀX`` (the lag features), so that a
        grid suits any scale and context length. The intercept is not penalised.
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
        lambdas: Sequence[float] = LAMBDAS,
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

    def _sums(self, windows: WindowSource) -> NormalEquations:
        sums = NormalEquations()
        for X, Y in windows.blocks(self.block_size):
            feats, last = self._features(X)
            sums.add(feats, np.asarray(Y, dtype=np.float64) - last)
        return sums

    def fit(self, train: WindowSource, val: WindowSource | None = None) -> RidgeNLinear:
        """Fit on the training windows, choosing the penalty on the validation windows.

        Parameters
        ----------
        train, val : WindowSource
            Training and validation windows. Without ``val`` the middle penalty of the
            grid is used.

        Returns
        -------
        self
        """
        lambdas = check_lambdas(self.lambdas)
        has_val = val is not None and len(val) > 0
        fit = fit_ridge(
            self._sums(train),
            self._sums(val) if has_val else None,
            lambdas,
            n_unpenalised=int(self.fit_intercept),
        )
        self.lambda_, self.val_mse_ = fit.lam, fit.val_mse
        W = fit.coef
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
