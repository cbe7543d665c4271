"""``XLSTMRegressor``: a scikit-learn regressor over tabular windows of lagged values.

Each row of ``X`` is one window read as a short sequence; the row's targets ``y`` play the
part of the forecast horizon. The model is the forecasters' network
(:class:`~xlstm_ts.nn.XLSTMForecastNet`), trained by the same
:class:`~xlstm_ts.training.ForecastModule` and :func:`~xlstm_ts.training.fit_module` on
:class:`~xlstm_ts.data.Windows` (one window per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from xlstm_ts.data import Windows
from xlstm_ts.nn import XLSTMForecastNet

from .base import TRAINER_DEFAULTS, fit_seed
from .validation import REGRESSOR_CONSTRAINTS, check_network_params, refuse_bools


class XLSTMRegressor(RegressorMixin, BaseEstimator):
    """Regression on windows of lagged values with an xLSTM encoder.

    **Layout of X.** Each row is a window of ``n_steps = n_features / n_features_per_step``
    steps, oldest first, with the features of a step side by side: column
    ``j * n_features_per_step + v`` holds feature ``v`` at step ``j``. Feature 0 is the
    main sequence (e.g. the lagged target); the others enter as covariates of each step.
    With ``n_features_per_step=1`` (the default) the columns are simply ``x_{t-L+1}, …,
    x_t``. Each output of ``y`` (one, or one per column of a 2-D ``y``) is a step of the
    network's horizon.

    Parameters
    ----------
    n_features_per_step : int
        Features per step; ``X`` must have a multiple of it as its number of columns.
    scaling : {"standard", "instance"}
        ``"standard"``: every column of ``X`` and of ``y`` is standardised with statistics
        from ``fit`` (any regression). ``"instance"``: each row is normalised on its own by
        the network and the prediction mapped back with the row's mean and scale: for
        windows of one series whose targets are its next values.
    d_model, num_blocks, slstm_at, num_heads, patch_len, dropout : network
        As in :class:`~xlstm_ts.estimators.XLSTMForecaster`; ``patch_len`` is capped at the
        number of steps. The defaults are small, for short windows.
    linear_path : bool
        Add a linear map from the main sequence to the outputs beside the encoder.
    max_epochs, batch_size, learning_rate, weight_decay : training
        Settings of the AdamW training (squared-error loss).
    validation_size : float
        Fraction of the rows (the last ones) held out to keep the best epoch and for early
        stopping; 0 trains on every row for ``max_epochs`` epochs.
    early_stopping_patience : int, optional
        Epochs without improvement of the validation loss before stopping.
    random_state : int, optional
        Seed of the initialisation and the shuffling; ``None``: a fresh seed each ``fit``.
    num_threads : int, optional
        Torch threads while fitting and predicting (restored afterwards); ``None`` leaves
        torch's setting (see :class:`XLSTMForecaster`).
    verbose : bool
        Print one summary line per epoch to standard error.
    trainer_kwargs : dict, optional
        Arguments of ``lightning.Trainer`` (as in :class:`XLSTMForecaster`; by default
        the CPU, without a progress bar).

    Attributes
    ----------
    network_ : XLSTMForecastNet
        The trained network (on the CPU, in float64, in evaluation mode).
    n_features_in_ : int
        Columns of ``X``.
    n_steps_ : int
        Steps per window.
    n_outputs_ : int
        Outputs per row.
    x_mean_, x_scale_, y_mean_, y_scale_ : ndarray
        Standardisation statistics (zeros and ones with ``scaling="instance"``).
    n_epochs_ : list of int
        Epochs trained by the network (one).
    """

    _parameter_constraints = REGRESSOR_CONSTRAINTS

    def __init__(
        self,
        *,
        n_features_per_step: int = 1,
        scaling: Literal["standard", "instance"] = "standard",
        d_model: int = 8,
        num_blocks: int = 1,
        slstm_at: Sequence[int] = (),
        num_heads: int = 2,
        patch_len: int = 4,
        dropout: float = 0.0,
        linear_path: bool = True,
        max_epochs: int = 10,
        batch_size: int = 64,
        learning_rate: float = 1e-2,
        weight_decay: float = 0.0,
        validation_size: float = 0.0,
        early_stopping_patience: int | None = None,
        random_state: int | None = None,
        num_threads: int | None = 1,
        verbose: bool = False,
        trainer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.n_features_per_step = n_features_per_step
        self.scaling = scaling
        self.d_model = d_model
        self.num_blocks = num_blocks
        self.slstm_at = slstm_at
        self.num_heads = num_heads
        self.patch_len = patch_len
        self.dropout = dropout
        self.linear_path = linear_path
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_size = validation_size
        self.early_stopping_patience = early_stopping_patience
        self.random_state = random_state
        self.num_threads = num_threads
        self.verbose = verbose
        self.trainer_kwargs = trainer_kwargs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # ------------------------------------------------------------------ data
    def _steps(self, n_features: int) -> int:
        per = self.n_features_per_step
        if n_features % per:
            raise ValueError(
                f"X has {n_features} columns, not a multiple of n_features_per_step={per}: "
                "each row must hold whole steps (column j * n_features_per_step + v is "
                "feature v at step j)"
            )
        return n_features // per

    def _inputs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Standardised main sequence (n, L) and covariates (n, L, per - 1)."""
        Z = ((X - self.x_mean_) / self.x_scale_).reshape(len(X), self.n_steps_, -1)
        return Z[..., 0], Z[..., 1:]

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any) -> XLSTMRegressor:
        """Train on the windows ``X`` (n_samples, n_features) and targets ``y``
        (n_samples,) or (n_samples, n_outputs).

        Returns
        -------
        self
        """
        from lightning.pytorch import seed_everything

        from xlstm_ts.training import ForecastModule, TrainConfig, WindowDataModule, fit_module

        self._validate_params()
        refuse_bools(self)
        check_network_params(self)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        Y = y.reshape(len(y), -1)
        self.n_steps_ = self._steps(X.shape[1])
        self.n_outputs_ = Y.shape[1]
        self._y_ndim = y.ndim
        if self.scaling == "standard":
            self.x_mean_, self.x_scale_ = X.mean(axis=0), _scale(X.std(axis=0))
            self.y_mean_, self.y_scale_ = Y.mean(axis=0), _scale(Y.std(axis=0))
        else:
            self.x_mean_, self.x_scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
            self.y_mean_, self.y_scale_ = np.zeros(Y.shape[1]), np.ones(Y.shape[1])
        main, cov = self._inputs(X)
        target = (Y - self.y_mean_) / self.y_scale_
        n_val = int(round(self.validation_size * len(X)))
        n_val = n_val if 0 < n_val < len(X) else 0
        cut = len(X) - n_val  # the last rows validate
        train = _row_windows(main[:cut], cov[:cut], target[:cut])
        val = _row_windows(main[cut:], cov[cut:], target[cut:])
        seed = fit_seed(self.random_state)
        seed_everything(seed, verbose=False)
        network = XLSTMForecastNet(
            context_length=self.n_steps_,
            horizon=self.n_outputs_,
            quantiles=(0.5,),
            patch_len=min(self.patch_len, self.n_steps_),
            d_model=self.d_model,
            num_blocks=self.num_blocks,
            slstm_at=tuple(self.slstm_at),
            num_heads=self.num_heads,
            dropout=float(self.dropout),
            linear_path=bool(self.linear_path),
            n_covariates=cov.shape[-1],
            instance_norm=self.scaling == "instance",
            head="flatten",  # every feature's encoding reaches the output directly
        )
        module = ForecastModule(
            network,
            [0.5],
            0,
            loss="mse",
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
        )
        data = WindowDataModule(train, val if n_val else None, self.batch_size, None, seed)
        trainer = {**TRAINER_DEFAULTS, "accelerator": "cpu", "devices": 1,
                   "enable_progress_bar": False, **(self.trainer_kwargs or {})}  # fmt: skip
        config = TrainConfig(
            max_epochs=self.max_epochs,
            early_stopping_patience=self.early_stopping_patience,
            accelerator=trainer["accelerator"],
            devices=trainer["devices"],
            deterministic=self.random_state is not None,
            num_threads=self.num_threads,
            verbose=self.verbose,
            trainer_kwargs=trainer,
        )
        result = fit_module(module, data, config)
        self.network_ = network.cpu().double().eval()
        self.n_epochs_ = [result.n_epochs]
        return self

    # ------------------------------------------------------------------ predicting
    def predict(self, X: Any) -> np.ndarray:
        """Predictions, shaped ``(n_samples,)`` or ``(n_samples, n_outputs)`` like ``y``."""
        from xlstm_ts.training import torch_threads

        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        main, cov = self._inputs(X)
        empty = torch.zeros(len(X), self.n_outputs_, 0, dtype=torch.float64)
        with torch.no_grad(), torch_threads(self.num_threads):
            out = self.network_(torch.from_numpy(main), torch.from_numpy(cov), empty)
        Y = out[..., 0].numpy() * self.y_scale_ + self.y_mean_
        return Y.ravel() if self._y_ndim == 1 else Y


def _scale(std: np.ndarray) -> np.ndarray:
    # a constant column is centred, not divided by zero
    return np.where(std > 0, std, 1.0)


def _row_windows(main: np.ndarray, cov: np.ndarray, target: np.ndarray) -> Windows:
    """One window per row: the row's sequence is its context, its targets the horizon."""
    L, H = main.shape[1], target.shape[1]
    series = [np.concatenate([m, t]) for m, t in zip(main, target, strict=True)]
    pad = np.zeros((H, cov.shape[-1]))
    covariates = [np.concatenate([c, pad]) for c in cov]
    return Windows(series, [(0, 0)] * len(series), L, H, covariates)
