"""The options the commands share: a CSV file's column roles, and estimator parameters
given as text (``--param KEY=VALUE``).

The columns are found by :func:`xlstm_ts.data.read_table`'s rules, the same for every
command.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SHARED_FLAGS: dict[str, str] = {
    "horizon": "--horizon",
    "context_length": "--context-length",
    "id_col": "--id-col",
    "time_col": "--time-col",
    "target": "--target",
    "num_threads": "--threads",
}
"""The estimator parameters every fitting command sets with an option of its own."""


def add_table_arguments(p: argparse.ArgumentParser | Any) -> None:
    """Add the CSV file and the options naming its columns to the parser (or group) ``p``."""
    p.add_argument(
        "file",
        help="CSV file: long (an id column, unique_id or --id-col, then time and target "
        "columns) or wide (a time column, then one column per series)",
    )
    p.add_argument(
        "--id-col", help="series-id column of a long file (default: unique_id if present)"
    )
    p.add_argument(
        "--time-col",
        help="time column (default: ds if present, else the first column but the id column)",
    )
    p.add_argument(
        "--target",
        nargs="+",
        help="column(s) to forecast (default: y in a long file; in a wide one every column "
        "but the time column and the covariates)",
    )


def add_param_argument(p: argparse.ArgumentParser | Any, example: str = "max_epochs=5") -> None:
    """Add the repeatable ``--param KEY=VALUE`` option to the parser (or group) ``p``."""
    p.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="an XLSTMForecaster parameter (repeatable); VALUE is read as a Python literal "
        f"(5, 1e-3, (1,), None, 'text'), e.g. --param {example}",
    )


def param_value(text: str) -> Any:
    """A Python literal (``64``, ``1e-3``, ``(1,)``, ``None``, ``True``), else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_params(
    items: Sequence[str] | None,
    allowed: Iterable[str],
    flags: Mapping[str, str] | None = None,
    option: str = "--param",
) -> dict[str, Any]:
    """The parameters of ``KEY=VALUE`` texts, values read by :func:`param_value`; of a
    key given twice the later value counts (as with other options).

    Parameters
    ----------
    items : sequence of str, optional
        The texts, e.g. ``["max_epochs=5", "loss='mse'"]``.
    allowed : iterable of str
        The estimator's parameter names.
    flags : mapping, optional
        Parameters that have an option of their own (``{"horizon": "--horizon"}``): they
        are refused here, so that one setting is given in one place.
    option : str
        The option's name in messages.

    Raises
    ------
    ValueError
        For a text without ``=``, a key that is not a parameter (naming the allowed
        ones), or one that has an option of its own.
    """
    allowed = sorted(allowed)
    flags = dict(flags or {})
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{option} expects KEY=VALUE; got {item!r}")
        if key in flags:
            raise ValueError(f"{option} {key}: set it with {flags[key]}")
        if key not in allowed:
            free = ", ".join(k for k in allowed if k not in flags)
            raise ValueError(f"{option} {key}: not a parameter; the parameters are {free}")
        params[key] = param_value(text.strip())
    return params
