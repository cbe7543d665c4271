"""plot_forecast of a model with future covariates (matplotlib's Agg backend)."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from xlstm_ts import XLSTMForecaster
from xlstm_ts.plotting import plot_forecast

matplotlib.use("Agg")

TINY = dict(
    horizon=6,
    context_length=24,
    d_model=8,
    num_blocks=1,
    num_heads=2,
    patch_len=6,
    max_epochs=1,
    batch_size=32,
    windows_per_epoch=64,
    validation_size=0,
    linear_path="ridge",
    random_state=0,
    trainer_kwargs={"enable_progress_bar": False},
)


def priced(n: int = 120) -> pd.DataFrame:
    """Two shops whose sales follow a price known in advance."""
    rng = np.random.default_rng(0)
    parts = []
    for shop, level in (("a", 10.0), ("b", 50.0)):
        price = rng.normal(size=n)
        ds = pd.date_range("2024-01-01", periods=n, freq="D")
        parts.append(pd.DataFrame({"unique_id": shop, "ds": ds, "price": price,
                                   "y": level + 3 * price}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def test_plot_forecast_of_a_model_with_future_covariates():
    df = priced()
    train = df.groupby("unique_id").head(114)
    future = df.groupby("unique_id").tail(6).drop(columns="y")
    model = XLSTMForecaster(future_covariates=["price"], **TINY).fit(train)
    with pytest.raises(ValueError, match="X_future"):
        plot_forecast(model)  # the forecast needs the future prices
    actual = df[df.unique_id == "b"].set_index("ds")["y"].iloc[-6:]
    ax = plot_forecast(model, X_future=future, series="b", actual=actual)
    lines = {line.get_label(): line for line in ax.get_lines()}
    median = lines["forecast (median)"]
    expected = model.predict(X_future=future)
    expected = expected[expected.unique_id == "b"]
    np.testing.assert_allclose(median.get_ydata(), expected["y"].to_numpy())
    assert len(lines["history"].get_xdata()) == 24  # four horizons
    assert "MAE" in ax.get_title()
    # from a history of one's own, with the future rows after it
    history = train.groupby("unique_id").head(100)
    after = df.groupby("unique_id").nth(list(range(100, 106))).drop(columns="y")
    ax = plot_forecast(model, history, X_future=after, series="a")
    median = next(line for line in ax.get_lines() if line.get_label() == "forecast (median)")
    assert pd.Timestamp(median.get_xdata()[0]) == pd.Timestamp("2024-04-10")  # day 101
