"""Streaming with XLSTMStatefulForecaster on the CPU: the cost of taking in one new step
against re-encoding the whole history, the throughput of many series getting a row each,
and training time and memory on one long series.

Part 1 fits a small model, takes in a history of each length, then times (medians of
repeats) one new step and a forecast against re-encoding the whole history and
forecasting, through the estimator (``update`` + ``predict()`` against
``predict(history)``, pandas included; the new row given as a one-row frame, built before
the clock starts, or as an array of one value) and at the network level. A step runs the encoder
only when it completes a patch, so the network columns time a step that does not, one
that does, and the mean over 16 consecutive steps.
Part ``many`` fits a model on many series (a long frame, hourly) and times steps in which
every series gets one new row: ``update`` then ``predict()`` for all, given as one long
frame, as an array (one value per series), and as one frame per series (one ``update``
call each, then one ``predict()``), side by side in one run. Each repeat takes 16
consecutive steps (every phase of a patch once: one of them completes a patch of every
series); the table gives medians over repeats of the mean step and of the slowest step.
Part 2 trains one epoch on one series of each length in a fresh process and reports the
epoch's time and the process's peak resident memory above its baseline (data built).

Run::

    python benchmarks/streaming.py                         # both parts
    python benchmarks/streaming.py --part update --histories 512 4096 --repeats 3
    python benchmarks/streaming.py --part update --repeats 9   # the tables in the docs
    python benchmarks/streaming.py --part update --repeats 9 --clock cpu
    python benchmarks/streaming.py --part update --histories 4096 --repeats 9
    python benchmarks/streaming.py --part many --series 1000 --repeats 5
    python benchmarks/streaming.py --part train --lengths 100000 1000000
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import torch

MODEL = dict(
    horizon=24,
    patch_len=16,
    d_model=64,
    num_blocks=2,
    slstm_at=(1,),
    num_heads=4,
    batch_size=8,
    trainer_kwargs={"enable_progress_bar": False, "enable_model_summary": False},
    random_state=0,
)


def series(n: int, seed: int = 0) -> np.ndarray:
    """Two seasonalities, a random-walk level and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    level = np.cumsum(rng.normal(scale=0.01, size=n))
    return (
        np.sin(2 * np.pi * t / 24)
        + 0.5 * np.sin(2 * np.pi * t / 168)
        + level
        + 0.1 * rng.normal(size=n)
    )


def frame(values: np.ndarray, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"y": values}, index=pd.RangeIndex(start, start + len(values)))


CLOCK = time.perf_counter
"""Wall-clock time by default; ``--clock cpu`` takes the process's CPU time instead, which
leaves out the time other processes on a shared machine hold the core."""


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = CLOCK()
        fn()
        times.append(CLOCK() - start)
    return statistics.median(times)


def update_part(histories: list[int], repeats: int) -> None:
    from xlstm_ts import XLSTMStatefulForecaster

    values = series(max(histories) + 16 * (2 * repeats + 4))  # both step forms move on
    model = XLSTMStatefulForecaster(**MODEL, segment_length=256, max_epochs=1, validation_size=0)
    model.fit(frame(values[:600]))
    print(
        "| history | update(1) + predict(), mean of 16 | predict(history) | ratio "
        "| update(array of 1) + predict() | ratio "
        "| net: step, no patch completed | net: step completing a patch "
        "| net: step, mean of 16 | net: encode + forecast | ratio (mean of 16) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for L in sorted(histories):
        seen = model.n_steps_[0]
        if L > seen:
            model.update(frame(values[seen:L], seen))
        t = time_history(model, values, L, repeats)
        print(
            f"| {L:,} | {t['step'] * 1e3:.2f} ms | {t['full'] * 1e3:.1f} ms "
            f"| {t['full'] / t['step']:.0f}× | {_ms(t['array'])} "
            f"| {_ratio(t['full'], t['array'])} "
            f"| {t['net_plain'] * 1e3:.3f} ms "
            f"| {t['net_patch'] * 1e3:.3f} ms | {t['net_mean'] * 1e3:.3f} ms "
            f"| {t['net_full'] * 1e3:.1f} ms | {t['net_full'] / t['net_mean']:.0f}× |",
            flush=True,
        )


def time_history(model, values: np.ndarray, L: int, repeats: int) -> dict[str, float]:
    """Medians over ``repeats`` for a model that has seen ``L`` steps (a multiple of
    ``patch_len``): one new step and a forecast, through the estimator and at the
    network level, against re-encoding the whole history and forecasting.

    A new step runs the encoder only when it completes a patch (one step in
    ``patch_len``); the others only append to the tail. Both kinds are timed, and the
    mean over ``patch_len`` = 16 consecutive steps (every phase of a patch once)."""
    from xlstm_ts.stateful import inference

    state, net = model.fitted_, model.model_
    W, P = net.window_len, net.patch_len
    args = (state.mean, state.scale)

    def net_steps(n: int, states: list, count: int) -> list:
        """``count`` steps, one at a time, from ``n`` steps seen (states after them)."""
        for j in range(n, n + count):
            states = inference.advance(
                net, states, [j], [values[j - W : j]], [values[j : j + 1]], *args
            )
            inference.forecast(net, states, [j + 1], [values[j + 1 - W : j + 1]], *args)
        return states

    def net_full() -> None:
        states, mean, scale = inference.encode_panel(state, panel)
        inference.forecast(net, states, [L], [values[L - W : L]], mean, scale)

    panel = model.to_panel(frame(values[:L]))
    at_L = state.states
    with torch.no_grad():
        before_patch = net_steps(L, at_L, P - 1)  # P - 1 steps into the next patch
    timings = {}
    with torch.no_grad():
        net_steps(L, at_L, P)  # warm-up
        net_full()
        timings["net_plain"] = median_time(lambda: net_steps(L, at_L, 1), 5 * repeats)
        timings["net_patch"] = median_time(
            lambda: net_steps(L + P - 1, before_patch, 1), 5 * repeats
        )
        timings["net_mean"] = median_time(lambda: net_steps(L, at_L, P), repeats) / P
        timings["net_full"] = median_time(net_full, repeats)
    history = frame(values[:L])
    timings["full"] = median_time(lambda: model.predict(history), repeats)

    # the new rows' frames are built before the clock starts: the library's cost only
    rows = {j: frame(values[j : j + 1], j) for j in range(L, L + P * (repeats + 1))}

    def one_patch() -> None:  # moves the model on by P steps, one at a time
        for _ in range(P):
            model.update(rows[model.n_steps_[0]])
            model.predict()

    timings["step"] = median_time(one_patch, repeats) / P  # it moves the model on

    def one_patch_array() -> None:
        for _ in range(P):
            seen = model.n_steps_[0]
            model.update(values[seen : seen + 1])  # a view: no copy
            model.predict()

    timings["array"] = (
        median_time(one_patch_array, repeats) / P if takes_arrays(model) else float("nan")
    )
    return timings


def takes_arrays(model) -> bool:
    """Whether ``update`` takes arrays (versions before it did not: "n/a" in the tables)."""
    import inspect

    return "ndarray" in str(inspect.signature(model.update).parameters["X_new"].annotation)


def _ms(t: float, digits: int = 2) -> str:
    return "n/a" if t != t else f"{t * 1e3:.{digits}f} ms"


def _ratio(a: float, b: float) -> str:
    return "n/a" if a != a or b != b else f"{a / b:.0f}×"


def many_rows(values: np.ndarray, ids: list[str], times: pd.DatetimeIndex, a: int, b: int):
    """Steps ``a`` to ``b`` of every series as a long frame."""
    n = len(ids)
    return pd.DataFrame(
        {"unique_id": np.repeat(ids, b - a), "ds": np.tile(times[a:b], n),
         "y": values[:, a:b].ravel()}
    )  # fmt: skip


def many_part(n_series: int, history: int, repeats: int) -> None:
    """Every series gets one new row per step: one frame, one array, or a frame per series."""
    from xlstm_ts import XLSTMStatefulForecaster

    P = MODEL["patch_len"]
    steps = P * (3 * repeats + 2)
    rng = np.random.default_rng(0)
    values = np.stack(
        [series(history + steps, seed=int(s)) for s in rng.integers(0, 2**31, n_series)]
    )
    ids = [f"s{k}" for k in range(n_series)]
    times = pd.date_range("2024-01-01", periods=history + steps, freq="h")
    model = XLSTMStatefulForecaster(
        **{**MODEL, "batch_size": 64}, segment_length=256, max_epochs=1, validation_size=0
    )
    model.fit(many_rows(values, ids, times, 0, history))
    seen = history

    def stream(step_of) -> tuple[float, float, float, float]:
        """Mean update, predict and total time of 16 steps, and the slowest step."""
        nonlocal seen
        ups, preds = [], []
        for _ in range(P):
            new = step_of(seen)
            start = CLOCK()
            new()
            mid = CLOCK()
            model.predict()
            ups.append(mid - start)
            preds.append(CLOCK() - mid)
            seen += 1
        total = [u + p for u, p in zip(ups, preds, strict=True)]
        return statistics.mean(ups), statistics.mean(preds), statistics.mean(total), max(total)

    def frame_step(j: int):
        rows = many_rows(values, ids, times, j, j + 1)
        return lambda: model.update(rows)

    def array_step(j: int):
        column = values[:, j]
        return lambda: model.update(column)

    def per_series_step(j: int):
        frames = [
            pd.DataFrame({"unique_id": [s], "ds": times[j : j + 1], "y": values[k, j : j + 1]})
            for k, s in enumerate(ids)
        ]
        return lambda: [model.update(f) for f in frames]

    forms = {"one long frame": frame_step, "one frame per series": per_series_step}
    if takes_arrays(model):
        forms["an array"] = array_step
    stream(frame_step)  # warm-up
    results: dict[str, list] = {name: [] for name in forms}
    for _ in range(repeats):  # the forms take turns, so that the load affects them alike
        for name, step_of in forms.items():
            results[name].append(stream(step_of))
    print(
        f"| {n_series:,} series, one new row each, given as | update | predict() "
        "| update + predict() | new observations per second | slowest step (a patch completed) "
        "| against one frame per series |"
    )
    print("|---|---|---|---|---|---|---|")
    base = statistics.median(r[2] for r in results["one frame per series"])
    for name, rows in results.items():
        up, pred, total, worst = (statistics.median(r[i] for r in rows) for i in range(4))
        print(
            f"| {name} | {_ms(up)} | {_ms(pred)} | {_ms(total)} | {n_series / total:,.0f} "
            f"| {_ms(worst)} | {base / total:.1f}× |",
            flush=True,
        )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_one(n: int, segment_length: int) -> dict:
    """One epoch on one series of ``n`` steps (run in a fresh process)."""
    from xlstm_ts import XLSTMStatefulForecaster
    from xlstm_ts.training import EpochSummary

    df = frame(series(n))
    epoch = EpochSummary(stream=io.StringIO())
    model = XLSTMStatefulForecaster(
        **MODEL, segment_length=segment_length, max_epochs=1, validation_size=0,
        trainer_kwargs={"callbacks": [epoch]},
    )  # fmt: skip
    base = peak_rss_mib()
    start = time.perf_counter()
    model.fit(df)
    fit_time = time.perf_counter() - start
    return {"epoch_s": epoch.times[0], "fit_s": fit_time, "peak_mib": peak_rss_mib() - base}


def train_part(lengths: list[int], segments: list[int]) -> None:
    print(
        "| series length | segment_length | epoch time | fit time (epoch + final encoding) "
        "| peak memory above start |"
    )
    print("|---|---|---|---|---|")
    for n in lengths:
        for s in segments:
            code = (
                f"import json, sys; sys.path.insert(0, {sys.path[0]!r}); import streaming; "
                f"print('RESULT', json.dumps(streaming.train_one({n}, {s})))"
            )
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True)  # fmt: skip
            line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
            r = json.loads(line[len("RESULT ") :])
            print(
                f"| {n:,} | {s} | {r['epoch_s']:.1f} s | {r['fit_s']:.1f} s "
                f"| {r['peak_mib']:.0f} MiB |",
                flush=True,
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=["update", "many", "train", "both"], default="both")
    p.add_argument(
        "--histories",
        type=int,
        nargs="+",
        default=[512, 1024, 2048, 4096, 8192, 16384, 32768, 65536],
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--series", type=int, default=1000, help="series of --part many")
    p.add_argument("--history", type=int, default=256, help="steps per series of --part many")
    p.add_argument("--lengths", type=int, nargs="+", default=[100_000])
    p.add_argument("--segments", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = p.parse_args()  # fmt: skip
    torch.set_num_threads(args.threads)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.part in ("update", "both"):
        update_part(args.histories, args.repeats)
        print()
    if args.part == "many":
        many_part(args.series, args.history, args.repeats)
    if args.part in ("train", "both"):
        train_part(args.lengths, args.segments)


if __name__ == "__main__":
    main()
