"""XLSTMRegressor: scikit-learn's estimator checks, the window layout, the shared network."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from xlstm_ts.estimators import XLSTMRegressor
from xlstm_ts.nn import XLSTMForecastNet


def _expected_failed_checks(estimator) -> dict[str, str]:
    # None: every check of this scikit-learn version passes (the array-API check is
    # skipped by scikit-learn itself unless SCIPY_ARRAY_API=1 is set).
    return {}


@parametrize_with_checks(
    [XLSTMRegressor(), XLSTMRegressor(scaling="instance")],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def lag_windows(n_lags=12, n=400):
    """Rows: ``n_lags`` consecutive values of two sinusoids; target: the next value."""
    t = np.arange(n + n_lags)
    series = 5 + np.sin(2 * np.pi * t / 12) + 0.5 * np.cos(2 * np.pi * t / 7)
    X = np.lib.stride_tricks.sliding_window_view(series, n_lags)[:n]
    return X, series[n_lags : n_lags + n]


def test_learns_the_next_value_of_lag_windows():
    X, y = lag_windows()
    model = XLSTMRegressor(scaling="instance", max_epochs=15, random_state=0).fit(X[:300], y[:300])
    assert isinstance(model.network_, XLSTMForecastNet)
    assert model.n_epochs_ == [15]
    assert model.score(X[300:], y[300:]) > 0.95


def test_several_outputs_are_horizon_steps():
    X, _ = lag_windows(n_lags=13)
    X, Y = X[:, :10], X[:, 10:]  # ten lags, the next three values
    model = XLSTMRegressor(max_epochs=2).fit(X, Y)
    assert model.network_.horizon == 3
    assert model.predict(X[:5]).shape == (5, 3)


def test_features_per_step_are_read_step_major():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3 * 2))
    model = XLSTMRegressor(n_features_per_step=2, max_epochs=1).fit(X, X[:, -1])
    assert (model.n_steps_, model.network_.n_covariates) == (3, 1)
    main, cov = model._inputs(np.arange(6.0)[None] * model.x_scale_ + model.x_mean_)
    np.testing.assert_allclose(main, [[0, 2, 4]])  # feature 0 at steps 0, 1, 2
    np.testing.assert_allclose(cov[..., 0], [[1, 3, 5]])
    with pytest.raises(ValueError, match="5 columns, not a multiple of n_features_per_step=2"):
        XLSTMRegressor(n_features_per_step=2).fit(X[:, :5], X[:, 0])


def test_validation_rows_stop_a_diverging_training_early():
    X, y = lag_windows()
    # a wild learning rate makes the validation loss worse epoch after epoch (one far
    # wilder overflows, which stops the fit with NonFiniteLossError instead)
    params = dict(validation_size=0.25, early_stopping_patience=1, learning_rate=10.0)
    model = XLSTMRegressor(**params, max_epochs=30, random_state=0).fit(X, y)
    assert len(model.n_epochs_) == 1 and model.n_epochs_[0] < 30
    assert np.isfinite(model.predict(X)).all()  # the best epoch's weights are kept


def test_bad_parameters_are_named():
    X, y = lag_windows()
    with pytest.raises(ValueError, match="d_model=6 must be even and divisible by num_heads=4"):
        XLSTMRegressor(d_model=6, num_heads=4).fit(X, y)


def test_network_without_instance_norm_reads_inputs_as_they_are():
    import torch

    torch.manual_seed(0)
    kw = dict(context_length=6, horizon=2, patch_len=3, d_model=8, num_blocks=1, num_heads=2)
    net = XLSTMForecastNet(**kw, linear_path=True, instance_norm=False)
    W = torch.randn(2, 6, dtype=torch.float64)
    net.set_linear_path(W)  # the network is now exactly the linear path
    x = 100 + 10 * torch.randn(4, 6, dtype=torch.float64)
    last = x[:, -1:]
    expected = (x - last) @ W.T + last  # on the data's scale: no per-row statistics
    torch.testing.assert_close(net.double()(x)[..., 0], expected)
    # the head's constant 2 added to the last value: as it is without instance norm;
    # with it, 2 is read on the normalised scale and mapped back with the row's scale
    torch.nn.init.zeros_(net.linear_path.weight)
    torch.nn.init.constant_(net.head.bias, 2.0)
    torch.testing.assert_close(net(x)[..., 0], (2.0 + last).expand(4, 2))
    normed = XLSTMForecastNet(**kw, linear_path=True).double()
    normed.load_state_dict(net.state_dict())
    std = (x.var(1, unbiased=False, keepdim=True) + 1e-5).sqrt()
    torch.testing.assert_close(normed(x)[..., 0], (2.0 * std + last).expand(4, 2))
