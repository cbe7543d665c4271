"""Command-line interface: ``xlstm-ts demo``, ``forecast``, ``benchmark`` and ``tune``.

Mistakes (a bad option value, a missing file or column, data the model refuses) end in
one line on standard error naming the problem, and exit status 2; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

USER_ERRORS = (ValueError, TypeError, LookupError, OSError)
"""What a user's input can cause; anything else is a bug and keeps its traceback."""

COMMANDS = {
    "demo": ("xlstm_ts.cli.demo", "forecast El Niño temperatures (built-in data), with a plot"),
    "forecast": (
        "xlstm_ts.cli.forecast",
        "fit on a CSV file (or load a saved model) and forecast",
    ),
    "benchmark": (
        "xlstm_ts.ltsf.command",
        "long-horizon benchmark (canonical splits, train-only scaling, all test windows)",
    ),
    "tune": (
        "xlstm_ts.tuning.command",
        "hyperparameter search on a CSV file (Optuna; several workers can share a study)",
    ),
}
"""Each command's module (with ``add_arguments(parser)`` and ``run(args, words)``) and help."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: …)`` to an option's help only where the help does not speak of its
    default already and there is one to show (not ``None``, an empty list or a switch's
    ``False``)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        nothing = action.default is None or action.default is False or action.default == []
        if nothing or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    from xlstm_ts import __version__

    formatter = HelpFormatter
    parser = argparse.ArgumentParser(
        prog="xlstm-ts", description="xLSTM time-series forecasting", formatter_class=formatter
    )
    parser.add_argument("--version", action="version", version=f"xlstm-ts {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True)
    # only the command being run is imported: the others pull in Lightning or Optuna
    chosen = next((word for word in argv if word in COMMANDS), None)
    for name, (module_name, help) in COMMANDS.items():
        p = commands.add_parser(name, help=help, description=help, formatter_class=formatter)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            words = _words(argv, name)
            p.set_defaults(func=lambda args, run=module.run, words=words: run(args, words))
    return parser


def _words(argv: list[str], name: str) -> list[str]:
    """The command line after the command's name (recorded in result files)."""
    return argv[argv.index(name) + 1 :] if name in argv else []


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``xlstm-ts`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser(argv).parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as exc:
        if args.debug:
            raise
        print(f"xlstm-ts {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
