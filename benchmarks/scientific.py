"""Scientific benchmark: chaotic systems and real series under the long-horizon protocol.

For each data set (by default the four generated chaotic systems ``MackeyGlass17``,
``MackeyGlass30``, ``Lorenz63``, ``Lorenz96`` and the real series ``sunspots``, ``co2``,
``elnino``) it runs the same code as ``xlstm-ts benchmark --dataset NAME``
(:func:`xlstm_ts.ltsf.prepare` and :func:`xlstm_ts.ltsf.run_benchmark`) with the
registry's horizons and context length, and writes into ``--out``:

* ``NAME.json``: the benchmark's results file (configuration, data, versions, runs);
* ``NAME.png``: one test window (channel 0, the first test window, the longest horizon):
  the end of the context, the truth, and the forecasts of ``xlstm`` and ``ridge`` (those
  that were run; first seed);
* ``results.md``: one table per data set found in the folder, MSE and MAE (mean ± std over
  seeds) and fitting seconds per model and horizon, horizons also in Lyapunov times.

See ``docs/scientific-benchmark.md``. Run::

    python benchmarks/scientific.py --out scientific_results --threads 1
    python benchmarks/scientific.py --models ridge seasonal_naive --seeds 0
    python benchmarks/scientific.py --models xlstm --datasets MackeyGlass30 \\
        --param max_epochs=1 --param windows_per_epoch=256 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from xlstm_ts.datasets import get_info

from xlstm_ts.ltsf import (
    LTSFData,
    prepare,
    registry_defaults,
    resolve_horizons,
    run_benchmark,
    summarize,
)
from xlstm_ts.ltsf.command import add_model_arguments, model_params

SETS = ("MackeyGlass17", "MackeyGlass30", "Lorenz63", "Lorenz96", "sunspots", "co2", "elnino")
"""The data sets of the scientific benchmark, in the order of the tables."""

DEFAULT_MODELS = ("xlstm", "ridge", "dlinear", "seasonal_naive")
PLOT_MODELS = ("xlstm", "ridge")

LYAPUNOV_ROWS = {
    "MackeyGlass17": 180.0,  # lambda_max ~ 0.0055 per time unit, one row per time unit
    "MackeyGlass30": 145.0,  # lambda_max ~ 0.007
    "Lorenz63": 110.0,  # lambda_max ~ 0.906, a row every 0.01
    "Lorenz96": 17.0,  # lambda_max ~ 1.2 for 10 variables and F = 8, a row every 0.05
}
"""Rows per Lyapunov time (1 / largest Lyapunov exponent) of the generated systems.

Estimated with the Benettin method on the library's integrators (the Mackey-Glass
tau = 17 value agrees with the published 0.0056, Lorenz-63 with 0.906, and the same code
gives 1.67 for Lorenz-96 with 40 variables, the published 1.68); see the docs page.
"""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scientific",
        description="scientific benchmark: chaotic systems and real series",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--datasets", nargs="+", default=list(SETS), metavar="NAME",
        help="registered data sets with recommended horizons and context length",
    )  # fmt: skip
    add_model_arguments(p, default_models=DEFAULT_MODELS)
    p.add_argument(
        "--horizons", type=int, nargs="+", help="horizons to run (default: each set's own)"
    )
    p.add_argument("--out", default="scientific_results", help="folder of the results")
    p.add_argument(
        "--plot-horizon", type=int,
        help="horizon of the pictures (default: each set's longest)",
    )  # fmt: skip
    p.add_argument("--plot-window", type=int, default=0, help="test window of the pictures")
    p.add_argument("--no-plots", action="store_true", help="write no pictures")
    return p.parse_args(argv)


class WindowForecasts:
    """``on_fit`` hook of :func:`run_benchmark`: keeps each model's forecast of one window.

    Only the first seed of each model is kept; the window is test window ``window`` of
    channel ``channel`` at horizon ``horizon``.
    """

    def __init__(
        self,
        data: LTSFData,
        horizon: int,
        models: Sequence[str],
        window: int = 0,
        channel: int = 0,
    ) -> None:
        n = len(data.windows("test", horizon)) // data.n_channels
        if not 0 <= window < n:
            raise ValueError(f"--plot-window must lie in [0, {n}) at horizon {horizon}")
        self.data, self.horizon, self.models, self.channel = data, horizon, models, channel
        self.origin = data.bounds.test[0] + data.context_length + window
        self.forecasts: dict[str, np.ndarray] = {}

    def context(self) -> np.ndarray:
        o, L = self.origin, self.data.context_length
        return self.data.values[self.channel, o - L : o]

    def truth(self) -> np.ndarray:
        return self.data.values[self.channel, self.origin : self.origin + self.horizon]

    def __call__(self, name: str, horizon: int, seed: int | None, model: Any) -> None:
        if horizon != self.horizon or name not in self.models or name in self.forecasts:
            return
        pred = model.predict(self.context()[None], self.channel, np.array([self.origin]))
        self.forecasts[name] = np.asarray(pred, dtype=np.float64)[0]


def plot_window(catch: WindowForecasts, path: Path, lyapunov_rows: float | None) -> None:
    """Context tail, truth and forecasts of one test window, on the scaled data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data, H = catch.data, catch.horizon
    context = catch.context()
    tail = min(len(context), 2 * H)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    steps = np.arange(-tail, 0)
    ax.plot(steps, context[-tail:], color="black", lw=1, label="context")
    ahead = np.arange(H)
    ax.plot(ahead, catch.truth(), color="black", ls=":", lw=1.2, label="truth")
    for k, (name, forecast) in enumerate(catch.forecasts.items()):
        ax.plot(ahead, forecast, color=f"C{k}", lw=1.4, label=name)
    ax.axvline(-0.5, color="grey", ls="--", lw=0.8)
    xlabel = "steps from the forecast origin"
    if lyapunov_rows:
        for m in range(1, int(H / lyapunov_rows) + 1):
            ax.axvline(m * lyapunov_rows, color="grey", ls=":", lw=0.6)
        xlabel += f" (dotted lines: every Lyapunov time, {lyapunov_rows:g} steps)"
    column = data.columns[catch.channel]
    ax.set_title(
        f"{data.name}: {column}, test window from row {catch.origin}, horizon {H}, "
        f"context {data.context_length}"
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{column} (z-scored on the training rows)")
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell(mean: float, std: float, n: int) -> str:
    return f"{mean:.4f} ± {std:.4f}" if n > 1 else f"{mean:.4f}"


def markdown_table(result: dict[str, Any]) -> str:
    """MSE, MAE (mean ± std over seeds) and mean fitting seconds per horizon and model."""
    name = result["config"]["dataset"]
    stats = summarize(result)
    fit: dict[tuple[str, int], list[float]] = {}
    for run in result["runs"]:
        fit.setdefault((run["model"], run["horizon"]), []).append(run["fit_seconds"])
    rows = LYAPUNOV_ROWS.get(name)
    lines = [
        "| H | " + ("H / Lyapunov time | " if rows else "")
        + "model | MSE | MAE | fit s | runs |",
        "|---:|" + ("---:|" if rows else "") + "---|---|---|---:|---:|",
    ]  # fmt: skip
    for H in result["config"]["horizons"]:
        for model in result["config"]["models"]:
            s = stats.get((model, H))
            if s is None:
                continue
            lyap = f" {H / rows:.2f} |" if rows else ""
            lines.append(
                f"| {H} |{lyap} {model} | {_cell(s['mse'], s['mse_std'], s['n'])} | "
                f"{_cell(s['mae'], s['mae_std'], s['n'])} | "
                f"{np.mean(fit[(model, H)]):.1f} | {s['n']} |"
            )
    return "\n".join(lines)


def _describe(result: dict[str, Any]) -> str:
    name = result["config"]["dataset"]
    info = get_info(name)
    parts = [
        f"{info.description}.",
        f"{result['data']['n_rows_used']} rows × {len(result['data']['channels'])} channels, "
        f"context length {result['config']['context_length']}.",
    ]
    filled = result["config"].get("missing", {}).get("filled") or {}
    if filled:
        parts.append(
            "Missing values interpolated linearly in time: "
            + ", ".join(f"{c}: {n}" for c, n in filled.items())
            + "."
        )
    generator = result["data"].get("generator")
    if generator:
        args = ", ".join(f"{k}={v!r}" for k, v in generator["params"].items())
        parts.append(f"Generated by `datasets.{generator['function']}({args})`.")
    return " ".join(parts)


def write_markdown(out: Path) -> Path:
    """``results.md``: a section per results file in ``out`` (known sets first)."""
    files = {p.stem: p for p in sorted(out.glob("*.json"))}
    order = [n for n in SETS if n in files] + [n for n in files if n not in SETS]
    sections = ["# Scientific benchmark: results", ""]
    for name in order:
        result = json.loads(files[name].read_text())
        if "runs" not in result or "config" not in result:
            continue
        sections += [f"## {name}", "", _describe(result), ""]
        if command := result["config"].get("command"):
            sections += ["```bash", command, "```", ""]
        sections += [markdown_table(result), ""]
        if (out / f"{name}.png").exists():
            sections += [f"![{name}: forecasts of one test window]({name}.png)", ""]
    path = out / "results.md"
    path.write_text("\n".join(sections))
    return path


def run_set(name: str, args: argparse.Namespace, argv: Sequence[str], out: Path) -> dict:
    """Benchmark one data set with its registry settings; write its JSON and picture."""
    defaults = registry_defaults(name)
    horizons = resolve_horizons(name, args.horizons)
    # co2's 59 missing weeks are interpolated (a choice of this benchmark, recorded)
    data = prepare(name, missing="interpolate")
    plot_h = args.plot_horizon if args.plot_horizon is not None else max(horizons)
    if plot_h not in horizons:
        raise ValueError(f"--plot-horizon {plot_h} is not among {name}'s horizons {horizons}")
    catch = None
    if not args.no_plots:
        catch = WindowForecasts(data, plot_h, PLOT_MODELS, window=args.plot_window)
    result = run_benchmark(
        data,
        horizons,
        args.models,
        args.seeds,
        model_params=model_params(args, season=defaults["season"]),
        on_fit=catch,
    )
    result["config"]["command"] = "python benchmarks/scientific.py " + " ".join(argv)
    (out / f"{data.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    if catch is not None and catch.forecasts:
        plot_window(catch, out / f"{data.name}.png", LYAPUNOV_ROWS.get(data.name))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    try:
        names = [get_info(n).name for n in args.datasets]
        missing = [n for n in names if registry_defaults(n)["context_length"] is None]
        if missing:
            raise ValueError(f"no recommended context length in the registry for {missing}")
        import torch

        torch.set_num_threads(args.threads)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            result = run_set(name, args, argv, out)
            print(f"## {name}\n\n{markdown_table(result)}\n", flush=True)
        path = write_markdown(out)
    except (ValueError, OSError) as exc:
        print(f"scientific: error: {exc}", file=sys.stderr)
        return 2
    print(f"results written to {out}/ ({path.name}, one JSON and picture per set)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
