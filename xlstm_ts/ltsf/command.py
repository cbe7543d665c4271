"""The ``xlstm-ts benchmark`` command: its options and what it runs.

Shared by the command-line interface (:mod:`xlstm_ts.cli`) and ``benchmarks/ltsf.py``.
The M4 sets (``--dataset M4Weekly``, ...) run the M4 protocol (:mod:`.m4`) instead of
the long-horizon one.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlstm_ts.datasets import get_info

from .data import prepare, registry_defaults, resolve_horizons
from .m4 import M4_MODELS
from .models import MODELS
from .report import format_table
from .run import run_benchmark


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the benchmark's options to ``p``."""
    source = p.add_argument_group("data")
    source.add_argument(
        "--dataset",
        help="registered data set, e.g. ETTh1; an M4 set (M4Weekly, ...) runs the M4 protocol",
    )
    source.add_argument("--csv", help="wide CSV file (time column, one column per series)")
    source.add_argument("--target", nargs="+", help="columns to use (default: all)")
    source.add_argument("--time-col", help="time column of --csv (default: the first)")
    source.add_argument("--data-home", help="folder of the registered data files")
    source.add_argument(
        "--missing", choices=["interpolate", "raise"], default="raise",
        help="inner gaps: refuse them, or interpolate linearly in time (recorded in the JSON)",
    )  # fmt: skip
    source.add_argument(
        "--max-series", type=int, metavar="N",
        help="M4 sets: the first N series only (a quick check, not the benchmark)",
    )  # fmt: skip
    p.add_argument(
        "--context-length", "--lookback", dest="context_length", type=int,
        help="context length L (the lookback); default: the registry's for --dataset; for "
        "M4 sets the longest every series allows (at most 96)",
    )  # fmt: skip
    p.add_argument(
        "--horizons", type=int, nargs="+",
        help="forecast horizons; default: the registry's for --dataset "
        "(e.g. 96 192 336 720 for ETTh1)",
    )  # fmt: skip
    add_model_arguments(p, default_models=None, extra_models=M4_MODELS)
    p.add_argument("--output", help="JSON file to write")


def add_model_arguments(
    p: argparse.ArgumentParser,
    default_models: Sequence[str] | None,
    extra_models: Sequence[str] = (),
) -> None:
    """Options shared with ``benchmarks/scientific.py``: models, seeds, parameters, threads.

    ``default_models=None`` leaves ``--models`` unset (``None``) unless given, for a
    command whose default depends on the protocol; ``extra_models`` are accepted beside
    :data:`MODELS` (the M4 protocol's).
    """
    names = list(dict.fromkeys([*MODELS, *extra_models]))
    p.add_argument(
        "--models",
        nargs="+",
        default=None if default_models is None else list(default_models),
        choices=names,
        help=None
        if default_models is not None
        else f"default: {' '.join(MODELS)}; for M4 sets {' '.join(M4_MODELS)}",
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="XLSTMForecaster parameter (repeatable), e.g. --param d_model=64",
    )
    p.add_argument(
        "--model-param",
        action="append",
        metavar="MODEL:KEY=VALUE",
        help="parameter of another model (repeatable), e.g. dlinear:max_epochs=5",
    )
    p.add_argument(
        "--season",
        type=int,
        help="season of seasonal_naive and ets (default: the registry's for the data set, "
        "else from the frequency, e.g. 24 for hourly data)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")


def _param_value(text: str) -> Any:
    """A Python literal (``64``, ``1e-3``, ``(1,)``, ``None``, ``True``), else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parse_params(items: Sequence[str], option: str) -> dict[str, Any]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{option} expects key=value; got {item!r}")
        params[key.strip()] = _param_value(value.strip())
    return params


def model_params(args: argparse.Namespace, season: int | None = None) -> dict[str, dict[str, Any]]:
    """Keyword arguments per model from ``--param``, ``--model-param``, ``--season`` and
    ``--threads``; ``season`` (the registry's) applies where ``--season`` is not given."""
    model_params: dict[str, dict[str, Any]] = {}
    if args.param:
        from xlstm_ts.estimators import XLSTMForecaster
        from xlstm_ts.estimators.options import parse_params

        model_params["xlstm"] = parse_params(args.param, XLSTMForecaster().get_params())
    for item in args.model_param or []:
        model, sep, rest = item.partition(":")
        if not sep or model not in MODELS:
            raise ValueError(
                f"--model-param expects model:key=value with a model among "
                f"{sorted(MODELS)}; got {item!r}"
            )
        model_params.setdefault(model, {}).update(_parse_params([rest], "--model-param"))
    for model in ("seasonal_naive", "ets"):
        if args.season is not None:
            model_params.setdefault(model, {})["season"] = args.season
        elif season is not None:
            model_params.setdefault(model, {}).setdefault("season", season)
    # the estimator sets its own thread count while it fits: --threads must reach it too
    for model in ("xlstm", "xlstm_state"):
        model_params.setdefault(model, {}).setdefault("num_threads", args.threads)
    # parameters of models that are not run are dropped rather than rejected
    return {m: p for m, p in model_params.items() if m in args.models}


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the benchmark, print a markdown table and write JSON."""
    if args.dataset is not None and get_info(args.dataset).source == "m4":
        return run_m4_command(args, argv)
    if args.dataset is None and args.csv is None:
        raise ValueError("give --dataset NAME or --csv PATH")
    args.models = list(MODELS) if args.models is None else args.models
    other = [m for m in args.models if m not in MODELS]
    if other:
        raise ValueError(
            f"models {other} belong to the M4 protocol (--dataset M4Weekly, ...); the "
            f"long-horizon benchmark runs {list(MODELS)}"
        )
    if getattr(args, "max_series", None) is not None:
        raise ValueError("--max-series applies to the M4 sets only")
    defaults = registry_defaults(args.dataset)
    params = model_params(args, season=defaults["season"])
    horizons = resolve_horizons(args.dataset, args.horizons)
    if args.context_length is None and defaults["context_length"] is None:
        what = "--csv" if args.dataset is None else f"--dataset {args.dataset}"
        raise ValueError(f"give --context-length L: the registry recommends none for {what}")
    import torch

    torch.set_num_threads(args.threads)
    data = prepare(
        args.dataset,
        context_length=args.context_length,
        csv=args.csv,
        target=args.target,
        time_col=args.time_col,
        data_home=args.data_home,
        missing=args.missing,
    )
    result = run_benchmark(data, horizons, args.models, args.seeds, model_params=params)
    result["config"]["command"] = "xlstm-ts benchmark " + " ".join(argv)
    print(format_table(result))
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
        print(f"results written to {args.output}", file=sys.stderr)
    return 0


def run_m4_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """The M4 protocol (:func:`xlstm_ts.ltsf.m4.run_m4`) for ``--dataset M4...``."""
    from xlstm_ts.datasets.m4 import load_m4

    from .m4 import format_m4_table, run_m4

    given = {
        "--csv": args.csv, "--target": args.target, "--time-col": args.time_col,
        "--season": args.season, "--model-param": args.model_param,
    }  # fmt: skip
    refused = [option for option, value in given.items() if value is not None]
    if refused:
        raise ValueError(
            f"{', '.join(refused)} do not apply to the M4 protocol (the competition's files, "
            "horizon and seasonal period; xLSTM parameters with --param)"
        )
    data = load_m4(args.dataset, data_home=args.data_home)
    if args.horizons is not None and list(args.horizons) != [data.horizon]:
        raise ValueError(
            f"{data.name} is scored at the competition's horizon {data.horizon}; got "
            f"--horizons {' '.join(map(str, args.horizons))}"
        )
    import torch

    torch.set_num_threads(args.threads)
    params = _parse_params(args.param or [], "--param")
    params.setdefault("num_threads", args.threads)
    result = run_m4(
        data,
        list(M4_MODELS) if args.models is None else args.models,
        args.seeds,
        xlstm_params=params,
        context_length=args.context_length,
        max_series=args.max_series,
    )
    result["config"]["command"] = "xlstm-ts benchmark " + " ".join(argv)
    print(format_m4_table(result))
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
        print(f"results written to {args.output}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/ltsf.py ...``: the benchmark command on its own."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="ltsf",
        description="long-horizon benchmark",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv), argv)
    except (ValueError, OSError) as exc:
        print(f"ltsf: error: {exc}", file=sys.stderr)
        return 2
