"""A forecaster on a transformed target whose forecasts come back on the target's scale."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from xlstm_ts.data import frame_levels, quantile_column

from ._frames import Roles, final_step, predict_with


class TransformedTargetForecaster(BaseEstimator):
    """Fit a forecaster on a transformed target; invert the transform on its forecasts.

    ``Pipeline.predict`` never inverts its transformers, so a target scaled or logged by
    an earlier step would be forecast on the transformed scale. This wrapper (the last
    step of a pipeline, or used alone) transforms the target columns itself — the
    ``target`` column of a long frame, the forecast columns of a wide one — with a clone
    of ``transformer`` fitted on the training data, and maps point forecasts and
    quantiles back with ``inverse_transform``. The transform must be monotone, so that
    quantiles map to quantiles (they are re-sorted after a decreasing one), and act on
    each column alone (as scalers, ``log1p`` or a ``PowerTransformer`` do).

    The forecaster normalises every context itself, so a scaler is not needed for the
    network's sake; a transform that changes the shape (``log1p`` for a multiplicative
    series, a Box-Cox) is where this helps.

    Parameters
    ----------
    forecaster : estimator
        An :class:`~xlstm_ts.estimators.XLSTMForecaster`.
    transformer : transformer, optional
        Fitted on the target columns (a 2-D array, one column per target column) and
        inverted on the forecasts; the identity when ``None``.

    Attributes
    ----------
    forecaster_ : estimator
        The forecaster fitted on the transformed target.
    transformer_ : transformer
        The fitted transformer.
    target_columns_ : list
        The columns transformed.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "forecaster": [HasMethods(["fit", "predict", "predict_quantiles"])],
        "transformer": [HasMethods(["fit", "transform", "inverse_transform"]), None],
    }

    def __init__(self, forecaster: Any = None, transformer: Any = None) -> None:
        self.forecaster = forecaster
        self.transformer = transformer

    def _columns(self, X: pd.DataFrame) -> list[Any]:
        f, roles = self.forecaster, Roles.of(self.forecaster)
        if roles.is_long(X):
            columns = ["y" if f.target is None else f.target]
        elif f.target is None:
            covariates = {*getattr(f, "past_covariates", ()), *getattr(f, "future_covariates", ())}
            columns = [c for c in X.columns if c not in covariates]
        else:
            columns = [f.target] if isinstance(f.target, str) else list(f.target)
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(f"target column(s) {missing} not found; X has {list(X.columns)}")
        return columns

    def _forward(self, X: pd.DataFrame | None) -> pd.DataFrame | None:
        if X is None:
            return None
        cols = [c for c in self.target_columns_ if c in X.columns]
        if len(cols) < len(self.target_columns_):  # future rows without the target
            return X
        out = X.copy()
        out[cols] = self.transformer_.transform(X[cols].to_numpy(dtype=float))
        return out

    def fit(self, X: pd.DataFrame, y: None = None) -> TransformedTargetForecaster:
        """Fit the transformer on the target columns of ``X`` and the forecaster on ``X``
        with those columns transformed.

        Returns
        -------
        self
        """
        self._validate_params()
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        self.target_columns_ = self._columns(X)
        base = self.transformer
        if base is None:
            base = FunctionTransformer(check_inverse=False)
        values = X[self.target_columns_].to_numpy(dtype=float)
        self.transformer_ = clone(base).fit(values)
        self.forecaster_ = clone(self.forecaster).fit(self._forward(X))
        return self

    def _inverse(self, pred: pd.DataFrame, levels: list[float] | None) -> pd.DataFrame:
        """``pred`` (a forecast frame) with its point forecasts and the quantile columns
        of ``levels`` (``None``: point forecasts only) mapped back."""
        out = pred.copy()
        long = Roles.of(self).id_col in pred.columns
        if long:  # one target column: each forecast column is one block
            target = final_step(self).panel_.target
            blocks = [[target], *([quantile_column(q)] for q in levels or [])]
        else:  # the series side by side, in the order the transformer was fitted
            series = self.target_columns_
            blocks = [series, *([quantile_column(q, s) for s in series] for q in levels or [])]
        values = [
            self.transformer_.inverse_transform(out[names].to_numpy(dtype=float))
            for names in blocks
        ]
        if levels and len(levels) > 1 and levels == sorted(levels):
            # a decreasing transform reverses the quantiles: sort them back into place
            values[1:] = list(np.moveaxis(np.sort(np.stack(values[1:], axis=-1), axis=-1), -1, 0))
        for names, block in zip(blocks, values, strict=True):
            out[names] = block
        return out

    def predict(
        self, X: pd.DataFrame | None = None, h: int | None = None, X_future: Any = None
    ) -> pd.DataFrame:
        """Point forecasts on the target's scale (see ``XLSTMForecaster.predict``)."""
        check_is_fitted(self, "forecaster_")
        pred = predict_with(self.forecaster_, "predict", self._forward(X), X_future, h)
        return self._inverse(pred, None)

    def predict_quantiles(
        self,
        X: pd.DataFrame | None = None,
        h: int | None = None,
        quantiles: Any = None,
        X_future: Any = None,
    ) -> pd.DataFrame:
        """Quantile forecasts on the target's scale (see
        ``XLSTMForecaster.predict_quantiles``)."""
        check_is_fitted(self, "forecaster_")
        pred = predict_with(
            self.forecaster_,
            "predict_quantiles",
            self._forward(X),
            X_future,
            h,
            quantiles=quantiles,
        )
        long = Roles.of(self).id_col in pred.columns
        levels = frame_levels(pred, None if long else self.target_columns_[0])
        return self._inverse(pred, levels)

    def score(self, X: pd.DataFrame, y: None = None) -> float:
        """Negative MSE, on the target's scale, of the forecast of the last ``horizon``
        timestamps of ``X``."""
        from .scoring import get_forecast_scorer

        return get_forecast_scorer("neg_mean_squared_error")(self, X)
