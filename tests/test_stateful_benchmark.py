"""The stateful model in the long-horizon benchmark: one causal pass, the protocol's windows."""

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler
from xlstm_ts.datasets import split_bounds

from xlstm_ts import XLSTMStatefulForecaster, ltsf
from xlstm_ts.data import Panel
from xlstm_ts.stateful.inference import forecasts_at

TINY = dict(
    patch_len=4, window_len=8, segment_length=16, d_model=8, num_blocks=2, slstm_at=(1,),
    num_heads=2, max_epochs=1, batch_size=4, trainer_kwargs={"enable_progress_bar": False},
)  # fmt: skip


def _series(n: int, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    return np.sin(t / 4.0) + 0.1 * np.random.default_rng(seed).normal(size=n)


@pytest.fixture(scope="module")
def fitted() -> XLSTMStatefulForecaster:
    model = XLSTMStatefulForecaster(horizon=5, validation_size=10, random_state=0, **TINY)
    return model.fit(Panel.from_arrays([_series(90)]))


def test_one_pass_forecasts_equal_each_history_encoded_from_scratch(fitted):
    values = _series(90)
    state = fitted.fitted_
    positions = np.array([3, 4, 7, 30, 41, 59])
    scan = forecasts_at(fitted.model_, values, state.mean[0], state.scale[0], positions)
    for row, t in zip(scan, positions, strict=True):
        alone = fitted.predict(Panel.from_arrays([values[: t + 1]]))  # the median
        median = row[:, state.point_index]
        np.testing.assert_allclose(median, alone.to_numpy()[:, 0], rtol=1e-4, atol=1e-5)


def test_one_pass_forecasts_ignore_every_later_value(fitted):
    values, state = _series(90), fitted.fitted_
    changed = values.copy()
    changed[42:] += 5.0  # beyond position 41
    positions = np.arange(3, 42)
    a = forecasts_at(fitted.model_, values, state.mean[0], state.scale[0], positions)
    b = forecasts_at(fitted.model_, changed, state.mean[0], state.scale[0], positions)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="patch_len - 1"):
        forecasts_at(fitted.model_, values, state.mean[0], state.scale[0], np.array([2]))


def test_benchmark_scores_the_stateful_model_on_the_protocols_windows():
    rng = np.random.default_rng(0)
    t = np.arange(400)
    values = np.stack([np.sin(t / 6.0), np.cos(t / 9.0)]) + 0.05 * rng.normal(size=(2, 400))
    bounds = split_bounds(None, 24, n_rows=400)
    scaler = StandardScaler(with_mean=False, with_std=False).fit(values.T)
    data = ltsf.LTSFData("toy", values, ["a", "b"], 24, bounds, "h", scaler)
    params = {"xlstm_state": {**TINY, "max_epochs": 2}}
    params["xlstm_state"].pop("window_len")
    result = ltsf.run_benchmark(
        data, [8], ["xlstm_state", "ridge"], seeds=[0], model_params=params, log=None
    )
    runs = {r["model"]: r for r in result["runs"]}
    state = runs["xlstm_state"]
    assert state["seed"] == 0 and state["n_windows"] == runs["ridge"]["n_windows"]
    assert np.isfinite(state["mse"]) and len(state["info"]["epochs"]) == 1
    assert state["info"]["epochs"][0] >= 1  # epochs per network: one network
    # the head window is chosen on the validation loss, among 64 and the context length
    tried = state["info"]["val_loss_by_window_len"]
    assert set(tried) == {"64", "24"} and tried[str(state["info"]["window_len"])] == min(
        tried.values()
    )
    # every test window's forecast is the one made at the row before its origin
    model = ltsf.StatefulModel(**params["xlstm_state"], window_len=8)
    model.fit(data, 8, 0)
    test = data.windows("test", 8)
    c, origins, X, _ = next(test.iter_blocks(1000))
    pred = model.predict(X, c, origins)
    fitted = model.model.fitted_
    for j in (0, len(origins) // 2, len(origins) - 1):
        o = origins[j]
        alone = model.model.predict(Panel.from_arrays([values[c, :o]], ids=[c]))
        np.testing.assert_allclose(pred[j], alone.to_numpy()[:, 0], rtol=1e-4, atol=1e-5)
    assert fitted.lengths[c] == bounds.val[1]  # fitted on the training and validation rows
    with pytest.raises(ValueError, match="set by the benchmark"):
        ltsf.StatefulModel(horizon=8)
