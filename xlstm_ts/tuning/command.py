"""The ``xlstm-ts tune`` command: its options and what it runs.

Each call is one worker: it joins (or creates) the study ``--study-name`` in ``--storage``,
runs ``--trials`` trials, prints the study's best configuration and exports it. Start it
several times, on one machine or many, against the same database to search in parallel.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optuna.pruners import NopPruner
from optuna.trial import TrialState

from xlstm_ts.estimators.options import SHARED_FLAGS, add_param_argument, add_table_arguments

from .scoring import SCORERS
from .storage import redact

FLAGS = SHARED_FLAGS
"""The estimator parameters that have an option of their own (refused in ``--param``)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the tune command's options to ``p``."""
    add_table_arguments(p.add_argument_group("data"))
    p.add_argument("--horizon", type=int, required=True, help="steps forecast and scored")
    p.add_argument(
        "--context-length",
        type=int,
        help="fixed context length (default: searched, from 4 × horizon)",
    )
    add_param_argument(p, "max_epochs=5")
    search = p.add_argument_group("search")
    search.add_argument(
        "--trials",
        type=int,
        help="trials this worker runs (default: 10; without limit given --total-trials)",
    )
    search.add_argument(
        "--total-trials",
        type=int,
        help="stop once the study holds this many complete or pruned trials (all workers)",
    )
    search.add_argument("--timeout", type=float, help="seconds after which no trial starts")
    search.add_argument("--folds", type=int, default=3, help="rolling-origin folds (default: 3)")
    search.add_argument("--fold-step", type=int, help="steps between origins (default: horizon)")
    search.add_argument(
        "--scoring",
        choices=[s for s in SCORERS if s != "score"],
        default="neg_mean_squared_error",
        help="scorer, greater is better as in scikit-learn; the study minimises minus its "
        "mean over the folds (default: neg_mean_squared_error)",
    )
    search.add_argument(
        "--pruner",
        choices=["median", "none"],
        default="median",
        help="stop poor trials early: Optuna's median pruner, or none (default: median)",
    )
    search.add_argument(
        "--trial-budget",
        choices=["default", "none"],
        default="default",
        help="train each trial on the search's budget (3 epochs of 1,024 windows, the "
        "ridge-started network, the last horizon steps as validation; what --param sets "
        "wins) or as the estimator says (default: default)",
    )
    search.add_argument(
        "--verbose", action="store_true", help="Optuna's line per trial and the fits' progress"
    )
    search.add_argument("--seed", type=int, help="sampler seed (give each worker its own)")
    search.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    store = p.add_argument_group("storage")
    store.add_argument(
        "--storage",
        help="database URL shared by workers, e.g. sqlite:///study.db or "
        "postgresql://user:password@host/db (default: in memory)",
    )
    store.add_argument(
        "--study-name",
        help="study to create or resume (default with --storage: FILE-TARGET-hHORIZON, so "
        "that workers started with the same command share it)",
    )
    store.add_argument(
        "--heartbeat-interval",
        type=int,
        default=60,
        help="seconds between heartbeats of running trials; a dead worker's trial is "
        "retried after twice as long (default: 60)",
    )
    out = p.add_argument_group("output")
    out.add_argument("--output", help="JSON file for the best configuration")
    out.add_argument("--plots", help="folder for optimisation-history and importance PNGs")
    out.add_argument("--save-model", help="refit the best configuration and save it here")


def _trials(args: argparse.Namespace) -> int | None:
    """Trials of this worker: ``--trials``, else 10, else none when a total is given."""
    if args.trials is not None:
        return args.trials
    return None if args.total_trials else 10


def _budget(total: int | None) -> list[Any] | None:
    """Optuna's callback that stops this worker once the whole study has ``total`` trials."""
    if total is None:
        return None
    from optuna.study import MaxTrialsCallback

    return [MaxTrialsCallback(total, states=(TrialState.COMPLETE, TrialState.PRUNED))]


def _data(args: argparse.Namespace, params: dict[str, Any]) -> Any:
    """The file's series, their columns found as by every command (see
    :func:`xlstm_ts.data.read_table`), with the covariates named in ``params``."""
    from xlstm_ts.data import FLAG_NAMES, read_table

    covariates = [*params.get("past_covariates", ()), *params.get("future_covariates", ())]
    return read_table(
        args.file,
        id_col=args.id_col,
        time_col=args.time_col,
        target=args.target,
        covariates=covariates,
        names=FLAG_NAMES,
    )


def _checked(estimator: Any, frame: Any) -> None:
    """Refuse parameters and data the estimator would refuse, before any trial trains."""
    from xlstm_ts.estimators.validation import check_forecaster_params

    estimator._validate_params()
    check_forecaster_params(estimator)
    estimator.to_panel(frame)


def summary(study: Any, scoring: str) -> dict[str, Any]:
    """The study's counts and its best configuration, as JSON values."""
    from xlstm_ts.jsonable import jsonable

    from .results import trial_params

    counts = {s.name.lower(): 0 for s in TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] += 1
    best = study.best_trial
    return jsonable(
        {
            "study_name": study.study_name,
            "scoring": scoring,
            "n_trials": sum(counts.values()),
            "trials_by_state": counts,
            "best_trial": best.number,
            "best_score": -best.value,  # the study minimises minus the score
            "best_params": trial_params(best),
            "folds": best.user_attrs.get("folds"),
        }
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run one worker of the search, print the best configuration and export it."""
    import matplotlib

    matplotlib.use("Agg")  # pictures without a display

    from xlstm_ts.estimators import XLSTMForecaster
    from xlstm_ts.estimators.options import parse_params

    from .folds import RollingOrigin
    from .search import XLSTMSearchCV
    from .space import DefaultSearchSpace

    if args.study_name and not args.storage:
        raise ValueError("--study-name needs --storage (an in-memory study is not kept)")
    given = parse_params(args.param, XLSTMForecaster().get_params(), FLAGS)
    table = _data(args, given)
    targets = [table.target] if isinstance(table.target, str) else table.target
    study_name = args.study_name
    if args.storage and not study_name:
        study_name = f"{Path(args.file).stem}-{'-'.join(targets)}-h{args.horizon}"
    fixed = dict(
        horizon=args.horizon,
        context_length=args.context_length or 4 * args.horizon,
        num_threads=args.threads,
        trainer_kwargs={"enable_progress_bar": False},
    )
    start = time.perf_counter()
    estimator = XLSTMForecaster(**{**fixed, **table.columns, **given})
    _checked(estimator, table.frame)
    # what the user fixed is not searched
    exclude = [*given, *(["context_length"] if args.context_length else [])]
    search = XLSTMSearchCV(
        estimator,
        DefaultSearchSpace(exclude=exclude),
        n_trials=_trials(args),
        timeout=args.timeout,
        cv=RollingOrigin(args.folds, step=args.fold_step),
        scoring=args.scoring,
        storage=args.storage,
        study_name=study_name,
        pruner=NopPruner() if args.pruner == "none" else None,  # None: the median pruner
        random_state=args.seed,
        refit=bool(args.save_model),
        heartbeat_interval=args.heartbeat_interval,
        callbacks=_budget(args.total_trials),
        trial_budget=None if args.trial_budget == "none" else "default",
        verbose=args.verbose,
    ).fit(table.frame)
    result = summary(search.study_, args.scoring)
    from xlstm_ts.jsonable import jsonable

    own = {k: v for k, v in estimator.get_params().items() if k != "trainer_kwargs"}
    result["estimator_params"] = jsonable({**own, **result["best_params"]})
    result["storage"] = redact(args.storage)
    result["worker_seconds"] = round(time.perf_counter() - start, 1)
    result["command"] = "xlstm-ts tune " + " ".join(argv)
    _print(result)
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
        print(f"best configuration written to {args.output}")
    if args.plots:
        for path in search.save_plots(args.plots).values():
            print(f"picture written to {path}")
    if args.save_model:
        search.best_estimator_.save(args.save_model)
        print(f"best model written to {args.save_model}")
    return 0


def _print(result: dict[str, Any]) -> None:
    counts = ", ".join(f"{n} {s}" for s, n in result["trials_by_state"].items() if n)
    print(f"study {result['study_name']!r} ({result['storage']}): {result['n_trials']} trials")
    print(f"  {counts}")
    print(f"best trial #{result['best_trial']}: {result['scoring']} = {result['best_score']:.6g}")
    for key, value in result["best_params"].items():
        print(f"  {key} = {value!r}")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m xlstm_ts.tuning.command ...``: the tune command on its own."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="tune", description="hyperparameter search")
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv), argv)
    except (ValueError, TypeError, OSError) as exc:
        print(f"tune: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
