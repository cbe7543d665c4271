"""XLSTMStatefulForecaster: segments with a carried state, update, persistence, bad updates."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from xlstm_ts import XLSTMStatefulForecaster
from xlstm_ts.stateful import (
    Segments,
    SegmentSchedule,
    StatefulForecastModule,
    StatefulForecastNet,
)
from xlstm_ts.stateful.datamodule import share_series

TINY = dict(
    horizon=6,
    patch_len=4,
    segment_length=16,
    d_model=8,
    num_blocks=2,
    slstm_at=(1,),
    num_heads=2,
    max_epochs=1,
    batch_size=4,
    validation_size=12,
    trainer_kwargs={"enable_progress_bar": False},
    random_state=0,
)


def wide(n=150, start="2021-01-01", freq="h", seed=0) -> pd.DataFrame:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": np.sin(t / 5.0) + 0.1 * rng.normal(size=n) + 3,
            "b": np.cos(t / 7.0) + 0.05 * t,
        },
        index=pd.date_range(start, periods=n, freq=freq),
    )


def long(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename_axis("ds").reset_index().melt(id_vars="ds", var_name="unique_id")
    return out.rename(columns={"value": "y"})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return wide(170)


@pytest.fixture(scope="module")
def fitted(data) -> XLSTMStatefulForecaster:
    return XLSTMStatefulForecaster(**TINY).fit(data.iloc[:100])


# ---------------------------------------------------------------- network and training


def make_net(**kw) -> StatefulForecastNet:
    torch.manual_seed(0)
    defaults = dict(horizon=3, quantiles=(0.1, 0.5, 0.9), patch_len=4, d_model=8,
                    num_blocks=2, slstm_at=(0,), num_heads=2, chunk_size=4)  # fmt: skip
    return StatefulForecastNet(**{**defaults, **kw}).double().eval()


def windows_of(z: torch.Tensor, P: int) -> torch.Tensor:
    """(B, S) → the last P values up to each position (B, S, P), zeros before the start."""
    padded = torch.nn.functional.pad(z, (P - 1, 0))
    return padded.unfold(1, P, 1)


def test_segments_in_order_with_state_equal_one_pass():
    net = make_net()
    z = torch.randn(2, 48, dtype=torch.float64)
    w = windows_of(z, 4)
    whole, state = net(w)
    out1, s = net(w[:, :16])
    out2, s = net(w[:, 16:40], s)
    out3, s = net(w[:, 40:], s)
    torch.testing.assert_close(torch.cat([out1, out2, out3], 1), whole, rtol=1e-9, atol=1e-9)
    # a forecast from the end, from the carried state, is the last position's forecast
    end = net.forecast(w[:, -1], 0, s)
    torch.testing.assert_close(end, whole[:, -1], rtol=1e-9, atol=1e-9)
    # positions inside a patch read its tail: the forecast from step 45 (tail 2 after the
    # patch ending at 43) equals the head on the state after 44 steps
    s44 = net.advance(z[:, :44].view(2, 11, 4))
    torch.testing.assert_close(net.forecast(w[:, 45], 2, s44), whole[:, 45])
    # the forecast depends on the distant past through the state
    z2 = z.clone()
    z2[:, 0] += 5.0
    assert not torch.allclose(net(windows_of(z2, 4))[0][:, -1], whole[:, -1])


def test_module_loss_of_segments_in_order_equals_one_pass():
    torch.manual_seed(0)
    series = [np.random.default_rng(1).normal(size=64).astype(np.float32)]
    levels = [0.1, 0.5, 0.9]
    net = StatefulForecastNet(3, levels, patch_len=4, d_model=8, num_heads=2, chunk_size=4)
    module = StatefulForecastModule(net.eval(), levels, 1)
    whole = Segments(series, [64], 4, 3, segment_length=64)[[(0, 0)]]
    pieces = Segments(series, [64], 4, 3, segment_length=16)
    states: dict = {}
    outs = [module.run_segment(pieces[[(0, j)]], states) for j in range(4)]
    out = torch.cat(outs, 1)
    torch.testing.assert_close(out, module.run_segment(whole, {}), rtol=1e-5, atol=1e-5)
    target = torch.cat([pieces[[(0, j)]]["target"] for j in range(4)], 1)
    torch.testing.assert_close(target, whole["target"], equal_nan=True)
    loss = module.loss(out.flatten(0, 1), target.flatten(0, 1))
    expected = module.loss(module.run_segment(whole, {}).flatten(0, 1), target.flatten(0, 1))
    torch.testing.assert_close(loss, expected)
    # a target for every position after the first patch: 64 - 3 of them, the last few partial
    assert int((~target[0, :, 0].isnan()).sum()) == 64 - 3 - 1
    assert target[0, 3, 0] == series[0][4] and target[0, 62, 0] == series[0][63]


def test_schedule_orders_segments_and_shuffles_series():
    schedule = SegmentSchedule(np.array([3, 1, 2, 3]), batch_size=2, shuffle=True, seed=0)
    batches = list(schedule)
    assert len(batches) == len(schedule) == 5
    numbers = [b[0][1] for b in batches]
    assert numbers == sorted(numbers)  # every series' segment j before its segment j + 1
    assert all(len({j for _, j in b}) == 1 for b in batches)
    assert sorted(p for b in batches for p in b) == sorted(
        (k, j) for k, n in enumerate([3, 1, 2, 3]) for j in range(n)
    )
    # a new order of series in each epoch
    assert any(list(schedule) != batches for _ in range(5))
    assert list(SegmentSchedule(np.array([3, 1, 2, 3]), 2, shuffle=False)) == [
        [(0, 0), (1, 0)], [(2, 0), (3, 0)], [(0, 1), (2, 1)], [(3, 1)], [(0, 2), (3, 2)]
    ]  # fmt: skip


def test_series_are_shared_between_processes_with_equal_steps():
    num = np.array([5, 1, 2, 3, 1])
    shares = [share_series(num, 2, world=2, rank=r) for r in range(2)]
    assert sorted(np.concatenate([s for s, _ in shares]).tolist()) == [0, 1, 2, 3, 4]
    assert shares[0][1] == shares[1][1] == 6  # the most batches any process needs (rank 0)
    for series, length in shares:
        batches = list(SegmentSchedule(num, 2, True, 0, series, length))
        assert len(batches) == length
        real = [p for b in batches for p in b if p[1] >= 0]
        assert sorted(real) == sorted((int(k), j) for k in series for j in range(num[k]))
        idle = [b for b in batches if b[0][1] == -1]
        assert idle == batches[len(batches) - len(idle) :]  # padding comes last
    assert [len(s) for s, _ in shares] == [3, 2]  # series 0, 2, 4 and 3, 1: rank 1 idles 3 times
    idle = Segments([np.ones(20, np.float32)], [20], 4, 3, 8)[[(0, -1)]]
    assert int(idle["segment"]) == -1 and torch.isnan(idle["target"]).all()


def test_validation_targets_lie_in_the_validation_part():
    series = [np.arange(40, dtype=np.float32)]
    seg = Segments(series, [40], 4, 3, segment_length=40, loss_from=[29])
    target = seg[[(0, 0)]]["target"][0]
    assert torch.isnan(target[:29]).all()
    assert target[29, 0] == 30.0
    # training targets stop where the validation part starts
    train = Segments(series, [30], 4, 3, segment_length=32)[[(0, 0)]]["target"][0]
    assert train[27, :2].tolist() == [28.0, 29.0] and torch.isnan(train[27, 2])
    assert torch.isnan(train[29:]).all()  # the last step and the padding: no target


# ---------------------------------------------------------------- the estimator


def test_sklearn_contract(data):
    model = XLSTMStatefulForecaster(**TINY)
    assert clone(model).get_params() == model.get_params()
    assert model.set_params(patch_len=2) is model and model.patch_len == 2
    with pytest.raises(NotFittedError):
        XLSTMStatefulForecaster().predict()
    with pytest.raises(ValueError, match="segment_length=18 must be a multiple of patch_len=4"):
        XLSTMStatefulForecaster(**{**TINY, "segment_length": 18}).fit(data)
    with pytest.raises(ValueError, match=r"'segment_length' parameter .* must be an int"):
        XLSTMStatefulForecaster(**{**TINY, "segment_length": 0}).fit("not a frame")


def test_only_what_the_model_offers(fitted):
    # a window forecaster's covariates, contexts and linear path do not exist here
    for name in ("predict_contexts", "past_covariates", "future_covariates", "context_length",
                 "linear_path_", "decision_", "ridge_lambda_"):  # fmt: skip
        assert not hasattr(fitted, name), name
    with pytest.raises(TypeError, match="X_future"):
        fitted.predict(X_future=None)


def test_model_selection_backtests_the_model(data):
    from xlstm_ts.model_selection import backtest

    result = backtest(XLSTMStatefulForecaster(**TINY), data.iloc[:120], n_windows=2)
    assert len(result.forecasts) == 2 * 2 * TINY["horizon"]
    assert np.isfinite(result.forecasts["q0.5"]).all()


def test_fit_predict_wide(fitted, data):
    assert fitted.fit(data.iloc[:100]) is fitted
    pred = fitted.predict()
    assert pred.index.equals(data.index[100:106])
    assert list(pred.columns) == ["a", "b"]
    assert np.isfinite(pred.to_numpy()).all()
    assert fitted.n_steps_ == [100, 100]
    assert np.isfinite(fitted.best_val_loss_) and fitted.n_epochs_ == [1]
    q = fitted.predict_quantiles(h=9)
    assert len(q) == 9
    lo, mid, hi = (q[f"a_q{level}"].to_numpy() for level in (0.1, 0.5, 0.9))
    assert (lo <= mid).all() and (mid <= hi).all()
    np.testing.assert_allclose(mid[:6], pred["a"].to_numpy())


def test_normalisation_is_fitted_on_the_training_part(fitted, data):
    train = data.iloc[:88]  # 100 steps minus the 12 held out for validation
    np.testing.assert_allclose(fitted.fitted_.mean, train.mean().to_numpy())
    np.testing.assert_allclose(fitted.fitted_.scale, train.std(ddof=0).to_numpy())


@pytest.mark.parametrize("split", [1, 3, 4, 9, 30])
def test_update_equals_the_forecast_from_the_whole_history(fitted, data, split):
    model = clone(fitted)
    model.fitted_ = fitted.fitted_
    model.update(data.iloc[100 : 100 + split])
    model.update(data.iloc[100 + split : 140])
    assert fitted.n_steps_ == [100, 100]  # the update built a new state
    assert model.n_steps_ == [140, 140]
    after = model.predict(h=8)
    from_scratch = fitted.predict(data.iloc[:140], h=8)
    assert after.index.equals(data.index[140:148])
    np.testing.assert_allclose(after.to_numpy(), from_scratch.to_numpy(), rtol=1e-4, atol=1e-4)
    # and it differs from the forecast made before the update
    assert not np.allclose(after.to_numpy()[:6], fitted.predict().to_numpy())


def test_update_equals_the_full_history_with_a_longer_head_window(data):
    model = XLSTMStatefulForecaster(**{**TINY, "window_len": 10}).fit(data.iloc[:100])
    assert model.panel_.values[0].tolist() == data["a"].iloc[90:100].tolist()
    before = model.predict(h=8)
    for a, b in [(100, 101), (101, 107), (107, 120)]:
        model.update(data.iloc[a:b])
    np.testing.assert_allclose(
        model.predict(h=8), model.predict(data.iloc[:120], h=8), rtol=1e-4, atol=1e-4
    )
    assert not np.allclose(model.predict(h=8).to_numpy(), before.to_numpy())
    with pytest.raises(ValueError, match="window_len=3 must be at least patch_len=4"):
        XLSTMStatefulForecaster(**{**TINY, "window_len": 3}).fit(data)


def test_update_adds_new_series_long_frame(data):
    df = long(data)
    model = XLSTMStatefulForecaster(**TINY).fit(df[df.ds < data.index[100]])
    new = pd.DataFrame({"unique_id": "c", "ds": data.index[90:130], "y": np.sin(np.arange(40))})
    step = df[(df.ds >= data.index[100]) & (df.ds < data.index[130])]
    model.update(pd.concat([step, new]))
    assert model.panel_.ids == ["a", "b", "c"]
    assert model.n_steps_ == [130, 130, 40]
    full = pd.concat([df[df.ds < data.index[130]], new])
    after = model.predict()
    np.testing.assert_allclose(after["y"], model.predict(full)["y"], rtol=1e-4, atol=1e-4)
    assert after.groupby("unique_id")["ds"].first().tolist() == [data.index[130]] * 3
    # the new series keeps the normalisation of its first steps
    np.testing.assert_allclose(model.fitted_.mean[2], np.sin(np.arange(40)).mean())


@pytest.mark.parametrize(
    "rows,match",
    [
        (slice(98, 105), r"overlaps .* series 'a'.* starts at 2021-01-05 02:00:00"),
        (slice(103, 110), r"leaves a gap for series 'a'.*the next step is 2021-01-05 04:00"),
    ],
)
def test_misaligned_updates_are_refused(fitted, data, rows, match):
    with pytest.raises(ValueError, match=match):
        fitted.update(data.iloc[rows])
    assert fitted.n_steps_ == [100, 100]  # left as it was


def test_update_refuses_another_frequency_and_missing_columns(fitted):
    daily = wide(5, start="2021-01-05 04:00", freq="D")
    with pytest.raises(ValueError, match="model's frequency 'h'"):
        fitted.update(daily)
    with pytest.raises(ValueError, match=r"wide X_new must hold every series.*\['b'\]"):
        fitted.update(wide(5, start="2021-01-05 04:00")[["a"]])
    with pytest.raises(
        ValueError, match="X_new is a long frame, but the model was fitted on a wide"
    ):
        fitted.update(long(wide(5, start="2021-01-05 04:00")))
    with pytest.raises(ValueError, match="new series 'z' has 2 steps; at least patch_len=4"):
        fitted.update(wide(2, start="2021-01-05 04:00").assign(z=1.0))


def test_save_and_load_keep_the_state(fitted, data, tmp_path):
    model = clone(fitted)
    model.fitted_ = fitted.fitted_
    model.update(data.iloc[100:107])
    model.save(tmp_path / "m")
    loaded = XLSTMStatefulForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(h=10), model.predict(h=10))
    assert loaded.n_steps_ == [107, 107]
    # updates continue after loading exactly as before
    loaded.update(data.iloc[107:121])
    model.update(data.iloc[107:121])
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    from xlstm_ts import XLSTMForecaster

    saved = "holds a saved XLSTMStatefulForecaster in format 'stateful'"
    with pytest.raises(ValueError, match=saved):
        XLSTMForecaster.load(tmp_path / "m")
    XLSTMForecaster(horizon=6, context_length=24, max_epochs=1).fit(data).save(tmp_path / "w")
    with pytest.raises(ValueError, match="format None.*reads stateful forecasters"):
        XLSTMStatefulForecaster.load(tmp_path / "w")


def test_the_format_before_the_rename_is_refused(fitted, tmp_path):
    import json

    fitted.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config.update({"format_version": 2, "class": "XLSTMStateForecaster"})
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="version 2; .* version 3: fit the model again"):
        XLSTMStatefulForecaster.load(tmp_path / "m")


def test_score_and_integer_index():
    df = wide(120).reset_index(drop=True)
    model = XLSTMStatefulForecaster(**TINY).fit(df)
    pred = model.predict()
    assert pred.index.tolist() == list(range(120, 126))
    score = model.score(df)
    head = model.predict(df.iloc[:-6])
    assert score == pytest.approx(-np.mean((head.to_numpy() - df.iloc[-6:].to_numpy()) ** 2))
    with pytest.raises(ValueError, match="leaves a gap for series 'a'"):
        model.update(df.iloc[:3].set_axis([121, 122, 123]))
    with pytest.raises(ValueError, match="model's frequency 1"):
        model.update(df.iloc[:3].set_axis([120, 122, 124]))


@pytest.mark.parametrize("loss", ["quantile", "mse"])
def test_gradients_are_finite_where_targets_are_missing(loss):
    # every segment has positions without a target (NaN): they must add no NaN gradient
    torch.manual_seed(0)
    series = [np.random.default_rng(2).normal(size=40).astype(np.float32)]
    net = StatefulForecastNet(5, [0.1, 0.5, 0.9], patch_len=4, d_model=8, num_heads=2)
    module = StatefulForecastModule(net, [0.1, 0.5, 0.9], 1, loss=loss)
    batch = Segments(series, [40], 4, 5, segment_length=48)[[(0, 0)]]
    assert torch.isnan(batch["target"]).any()
    module.loss(
        module.run_segment(batch, {}).flatten(0, 1), batch["target"].flatten(0, 1)
    ).backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)


DDP_SCRIPT = """
import json, os
import numpy as np, pandas as pd, torch.distributed as dist
from xlstm_ts import XLSTMStatefulForecaster

t = np.arange(300)
df = pd.DataFrame({"a": np.sin(t / 6.0), "b": np.cos(t / 9.0), "c": np.sin(t / 4.0)},
                  index=pd.date_range("2021-01-01", periods=300, freq="h"))
model = XLSTMStatefulForecaster(
    horizon=6, patch_len=4, segment_length=32, d_model=8, num_heads=2, max_epochs=2,
    batch_size=1, validation_size=24, random_state=0,
    trainer_kwargs={"accelerator": "cpu", "devices": 2, "strategy": "ddp",
                    "enable_progress_bar": False},
).fit(df)
pred = model.predict()
world = dist.get_world_size() if dist.is_initialized() else 1
rank = int(os.environ.get("LOCAL_RANK", 0))
# one file per process: lines printed by two processes to one pipe can interleave
with open(f"result_{rank}.json", "w") as f:
    json.dump({"rank": rank, "world": world, "values": pred.to_numpy().round(6).tolist(),
               "val": model.best_val_loss_}, f)
"""


@pytest.mark.ddp
def test_ddp_trains_series_shared_between_two_processes(tmp_path):
    import json
    import os
    import subprocess
    import sys

    script = tmp_path / "train_ddp.py"
    script.write_text(DDP_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("result_*.json"))]
    assert sorted(r["rank"] for r in results) == [0, 1]
    assert all(r["world"] == 2 for r in results)
    # gradients were averaged over both processes' series: the same model in each
    assert results[0]["values"] == results[1]["values"]
    assert results[0]["val"] == results[1]["val"] and np.isfinite(results[0]["val"])


def test_batches_depend_on_batch_and_segment_length_not_series_length():
    from xlstm_ts.stateful import SegmentDataModule

    series = [np.zeros(n, np.float32) for n in (50, 5000, 20000)]
    data = SegmentDataModule(series, [40, 4900, 19000], 4, 6, 32, batch_size=2, window_len=8)
    shapes = {tuple(b["windows"].shape) for b in data.train_dataloader()}
    shapes |= {tuple(b["target"].shape[:2]) + (8,) for b in data.val_dataloader()}
    assert shapes <= {(1, 32, 8), (2, 32, 8), (3, 32, 8), (4, 32, 8)}


def test_missing_values_are_read_as_the_mean(data):
    df = data.iloc[:100].copy()
    df.iloc[[5, 50, 97], 0] = np.nan
    with pytest.raises(ValueError, match="allow_missing=True"):
        XLSTMStatefulForecaster(**TINY).fit(df)
    model = XLSTMStatefulForecaster(**{**TINY, "allow_missing": True}).fit(df)
    assert np.isfinite(model.predict().to_numpy()).all()
    new = data.iloc[100:110].copy()
    new.iloc[3, 1] = np.nan
    model.update(new)
    full = pd.concat([df, new])
    np.testing.assert_allclose(model.predict(), model.predict(full), rtol=1e-4, atol=1e-4)
