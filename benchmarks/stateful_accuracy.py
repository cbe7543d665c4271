"""A first accuracy check of XLSTMStatefulForecaster against XLSTMForecaster (CPU, small).

Each data set is one univariate series split in time into train / validation / test
(ETTh1 "OT": the standard 12/4/4 months; the synthetic ones 60/20/20). Both models see
the train and validation parts in ``fit``; every origin in the test part with a whole
horizon after it is scored (MSE and MAE of the median, in units of the training part's
standard deviation). The window model forecasts each origin from its last
``context_length`` steps; the stateful one from the state carried over everything
before the origin (one pass over the series, no refit). Small models and budgets: a
sanity check, not the published protocol.

Run::

    python benchmarks/stateful_accuracy.py                   # mackey_glass, lorenz63, etth1
    python benchmarks/stateful_accuracy.py --sets mackey_glass --epochs 5
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def load(name: str) -> tuple[np.ndarray, int, int]:
    """The series and the ends of its train and validation parts."""
    from xlstm_ts.datasets import lorenz63, mackey_glass

    if name == "etth1":
        df = pd.read_csv(SHARED / "ETTh1.csv")
        return df["OT"].to_numpy()[:14400], 8640, 11520
    values = (mackey_glass(n_steps=6000, seed=0)["x"] if name == "mackey_glass"
              else lorenz63(n_steps=6000, seed=0)["x"]).to_numpy()  # fmt: skip
    return values, 3600, 4800


@torch.no_grad()
def stateful_forecasts(model, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Medians (len(origins), H) of the stateful model from every origin (the step
    before the forecast), in one pass over the series with a carried state."""
    from xlstm_ts.stateful.fitted import normalised

    net, state = model.model_, model.fitted_
    W, S = net.window_len, 1024
    z = torch.from_numpy(normalised(values, state.mean[0], state.scale[0]))
    n = -(-len(z) // S) * S  # padded at the end: positions there are not used
    windows = torch.nn.functional.pad(z[None], (W - 1, n - len(z))).unfold(1, W, 1)
    outs, carried = [], None
    for a in range(0, n, S):
        out, carried = net(windows[:, a : a + S], carried)
        outs.append(out[0, :, :, state.point_index])
    medians = torch.cat(outs).double().numpy() * state.scale[0] + state.mean[0]
    return medians[origins]


def score(pred: np.ndarray, actual: np.ndarray, std: float) -> tuple[float, float]:
    err = (pred - actual) / std
    return float(np.mean(err**2)), float(np.mean(np.abs(err)))


def run(name: str, horizon: int, epochs: int, stateful_epochs: int, window_len: int) -> list[str]:
    from xlstm_ts import XLSTMForecaster, XLSTMStatefulForecaster

    values, train_end, val_end = load(name)
    std = float(np.std(values[:train_end]))
    fit_part = pd.DataFrame({"y": values[:val_end]})
    origins = np.arange(val_end - 1, len(values) - horizon)
    actual = np.stack([values[t + 1 : t + 1 + horizon] for t in origins])
    common = dict(horizon=horizon, d_model=32, num_blocks=2, num_heads=4, patch_len=16,
                  validation_size=val_end - train_end, loss="mse",
                  early_stopping_patience=None, random_state=0, progress_bar=False)  # fmt: skip
    rows = []
    window = XLSTMForecaster(
        **common, max_epochs=epochs, context_length=256, windows_per_epoch=2048
    )
    start = time.perf_counter()
    window.fit(fit_part)
    fit_s = time.perf_counter() - start
    contexts = np.stack([values[t + 1 - 256 : t + 1] for t in origins])
    mse, mae = score(window.predict_contexts(contexts), actual, std)
    rows.append(
        f"| {name} | XLSTMForecaster (context 256) | {mse:.4f} | {mae:.4f} | {fit_s:.0f} s |"
    )
    # one series: one segment per batch, so few steps per epoch; short segments, a higher
    # learning rate and more (cheap) epochs make up for it
    stateful = XLSTMStatefulForecaster(
        **common,
        max_epochs=stateful_epochs,
        segment_length=256,
        batch_size=1,
        learning_rate=3e-3,
        window_len=window_len,
    )
    start = time.perf_counter()
    stateful.fit(fit_part)
    fit_s = time.perf_counter() - start
    mse, mae = score(stateful_forecasts(stateful, values, origins), actual, std)
    label = f"XLSTMStatefulForecaster (window_len {window_len})"
    rows.append(f"| {name} | {label} | {mse:.4f} | {mae:.4f} | {fit_s:.0f} s |")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", nargs="+", default=["mackey_glass", "lorenz63", "etth1"])
    p.add_argument("--horizon", type=int, default=24)
    p.add_argument("--epochs", type=int, default=8, help="XLSTMForecaster (2,048 windows)")
    p.add_argument("--stateful-epochs", type=int, default=40, help="XLSTMStatefulForecaster")
    p.add_argument("--window-len", type=int, default=16, help="XLSTMStatefulForecaster's head")
    args = p.parse_args()
    torch.set_num_threads(1)
    print(
        f"horizon {args.horizon}; epochs: {args.epochs} (window), {args.stateful_epochs} "
        "(stateful); test MSE/MAE in units of the training part's standard deviation"
    )
    print("| data | model | MSE | MAE | fit time |")
    print("|---|---|---|---|---|")
    for name in args.sets:
        for row in run(name, args.horizon, args.epochs, args.stateful_epochs, args.window_len):
            print(row, flush=True)


if __name__ == "__main__":
    main()
