"""Reading users' CSV files: the series, their column roles, their future covariates.

Every command that reads a CSV file goes through :func:`read_table`, so the columns are
found the same way everywhere:

- the id column: ``id_col`` if given, else ``unique_id`` if the file has one. A file with
  an id column is long (one row per series and time), one without is wide (a time column,
  then one column per series);
- the time column: ``time_col`` if given, else ``ds`` if the file has one, else the first
  column that is not the id column. Integers stay integer steps, anything else is parsed
  as datetimes;
- the target: in a long file ``target`` (one column, default ``y``); in a wide file the
  columns ``target`` (default: every column but the time column and the covariates).

Every named column is checked before anything is trained: it exists, and the target and
covariates hold numbers (a value that is not one is reported with its row). Messages name
the settings in the caller's words (``names``): argument names by default, the command
line's flags with :data:`FLAG_NAMES`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .frames import Panel
from .frequency import future_index

ARGUMENT_NAMES: Mapping[str, str] = {
    "id_col": "id_col=",
    "time_col": "time_col=",
    "target": "target=",
    "future": "X_future",
    "static": "static_covariates=",
}
"""How Python callers name the settings (the default words of messages)."""

FLAG_NAMES: Mapping[str, str] = {
    "id_col": "--id-col",
    "time_col": "--time-col",
    "target": "--target",
    "future": "--future-file",
    "static": "--static-covariates",
}
"""How the command line names them."""


@dataclass(frozen=True)
class Table:
    """The series of a CSV file, ready for ``fit``.

    Attributes
    ----------
    frame : DataFrame
        Long file: its columns, times parsed. Wide file: the time column as index.
    id_col : str or None
        The id column of a long file; ``None`` for a wide one.
    time_col : str
        The time column.
    target : str or list of str
        The target column of a long file, or the series columns of a wide one.
    path : Path
        The file.
    """

    frame: pd.DataFrame
    id_col: str | None
    time_col: str
    target: str | list[str]
    path: Path

    @property
    def columns(self) -> dict[str, Any]:
        """The estimator's column parameters (``id_col``, ``time_col``, ``target``)."""
        found: dict[str, Any] = {"time_col": self.time_col, "target": self.target}
        return found if self.id_col is None else {"id_col": self.id_col, **found}


def time_column(columns: Sequence[str], id_col: str | None = None) -> str:
    """The default time column among ``columns``: ``ds``, else the first but ``id_col``."""
    if "ds" in columns:
        return "ds"
    rest = [c for c in columns if c != id_col]
    return rest[0] if rest else columns[0]


def read_csv(
    path: str | Path, time_col: str | None = None, *, names: Mapping[str, str] = ARGUMENT_NAMES
) -> tuple[pd.DataFrame, str]:
    """Read ``path`` and parse its time column (default: :func:`time_column`).

    Integer time columns stay integers (steps); anything else is parsed as datetimes.

    Returns
    -------
    frame : DataFrame
        The file's columns, the time column parsed.
    time_col : str
        The name of the time column.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the time column is absent or does not parse, naming the file and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    frame = pd.read_csv(path)
    if frame.columns.empty:
        raise ValueError(f"{path} has no columns")
    columns = [str(c) for c in frame.columns]
    time_col = time_column(columns, "unique_id") if time_col is None else time_col
    _require(path, columns, [time_col], "time", names["time_col"])
    if not pd.api.types.is_integer_dtype(frame[time_col]):
        try:
            with warnings.catch_warnings():  # pandas' advice on formats is not the user's
                warnings.simplefilter("ignore", UserWarning)
                frame[time_col] = pd.to_datetime(frame[time_col])
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{path}: cannot parse column {time_col!r} as times ({exc}); name the time "
                f"column with {names['time_col']}"
            ) from exc
    return frame, time_col


def read_table(
    path: str | Path,
    *,
    id_col: str | None = None,
    time_col: str | None = None,
    target: str | Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    static: Sequence[str] = (),
    names: Mapping[str, str] = ARGUMENT_NAMES,
) -> Table:
    """Read the series of a long or wide CSV file and check its columns.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    id_col, time_col, target : optional
        Column roles; found by the rules of this module when ``None``.
    covariates : sequence of str
        Covariate columns: they must exist and hold numbers (``True``/``False`` are read
        as 1 and 0); in a wide file they are not forecast.
    static : sequence of str
        Static covariate columns of a long file (one value per series, numbers or
        categories): they must exist; a wide file has none.
    names : mapping
        How the caller names ``id_col``, ``time_col``, ``target`` and ``future`` in
        messages (:data:`ARGUMENT_NAMES`, :data:`FLAG_NAMES`).

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file, the column and, for a value that is not a number, its row.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    columns = [str(c) for c in pd.read_csv(path, nrows=0).columns]
    if id_col is None and "unique_id" in columns:
        id_col = "unique_id"
    if id_col is not None:
        _require(path, columns, [id_col], "id", names["id_col"])
    time_col = time_column(columns, id_col) if time_col is None else time_col
    frame, time_col = read_csv(path, time_col, names=names)
    covariates = list(covariates)
    _require(path, columns, covariates, "covariate")
    _require(path, columns, list(static), "static covariate", names.get("static"))
    if static and id_col is None:
        raise ValueError(
            f"{path} is wide (no id column): static covariates {', '.join(static)} need a "
            f"long file, one row per series and time with the id column named by "
            f"{names['id_col']}"
        )
    targets = _targets(path, columns, id_col, time_col, target, covariates, names)
    for column in targets:
        check_numbers(frame, column, path, "target", names["target"])
    for column in covariates:
        frame[column] = _flags_as_numbers(frame[column])
        check_numbers(frame, column, path, "covariate")
    if id_col is None:
        frame = frame.set_index(time_col)[[*targets, *covariates]]
        return Table(frame, None, time_col, targets, path)
    return Table(frame, id_col, time_col, targets[0], path)


def _targets(path, columns, id_col, time_col, target, covariates, names) -> list[str]:
    """The target column(s): one of a long file, the series columns of a wide one."""
    given = [target] if isinstance(target, str) else None if target is None else list(target)
    if id_col is not None:
        if given is not None and len(given) != 1:
            raise ValueError(
                f"{path} is long (id column {id_col!r}): it has one target column; got "
                f"{names['target']} {' '.join(given)}"
            )
        _require(path, columns, given or ["y"], "target", names["target"])
        return given or ["y"]
    if given is not None:
        _require(path, columns, given, "target", names["target"])
        return given
    found = [c for c in columns if c != time_col and c not in covariates]
    if not found:
        raise ValueError(f"{path} has no column to forecast besides the time column {time_col!r}")
    return found


def _require(
    path: Path,
    columns: Sequence[str],
    wanted: Sequence[str],
    role: str,
    setting: str | None = None,
) -> None:
    missing = [c for c in wanted if c not in columns]
    if missing:
        hint = f"; name the {role} column with {setting}" if setting else ""
        raise ValueError(
            f"{path} has no {role} column {', '.join(map(repr, missing))} (its columns: "
            f"{', '.join(columns)}){hint}"
        )


def _flags_as_numbers(values: pd.Series) -> pd.Series:
    """A column of ``True``/``False`` as 1 and 0 (how pandas reads a flag column)."""
    return values.astype(np.int64) if pd.api.types.is_bool_dtype(values) else values


def check_numbers(
    frame: pd.DataFrame, column: str, path: Path, role: str, setting: str | None = None
) -> None:
    """Refuse a column that holds something else than numbers, naming the first such row
    (``row`` counts the data rows from 1; ``line`` is the file's line, the header first)."""
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return
    bad = (pd.to_numeric(values, errors="coerce").isna() & values.notna()).to_numpy()
    if pd.api.types.is_bool_dtype(values) or not bad.any():
        bad = np.ones(len(values), dtype=bool)
    row = int(bad.argmax())
    hint = f"; pick the {role} columns with {setting}" if setting else ""
    raise ValueError(
        f"{path}: {role} column {column!r} must hold numbers, but row {row + 1} (line "
        f"{row + 2}) holds {values.iloc[row]!r}{hint}"
    )


def read_future(
    path: str | Path,
    table: Table,
    covariates: Sequence[str],
    names: Mapping[str, str] = ARGUMENT_NAMES,
) -> pd.DataFrame:
    """The future covariates of the file ``path``, shaped like ``table.frame`` (long: id,
    time and covariate columns; wide: the times as index)."""
    path = Path(path)
    setting = names["future"]
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path} ({setting})")
    frame, _ = read_csv(path, table.time_col, names=names)
    columns = [str(c) for c in frame.columns]
    if table.id_col is not None:
        _require(path, columns, [table.id_col], "id", names["id_col"])
    _require(path, columns, list(covariates), "future covariate")
    for column in covariates:
        frame[column] = _flags_as_numbers(frame[column])
        check_numbers(frame, column, path, "future covariate")
    return frame if table.id_col is not None else frame.set_index(table.time_col)


def check_future(
    future: pd.DataFrame,
    table: Table,
    panel: Panel,
    covariates: Sequence[str],
    h: int,
    path: str | Path,
    names: Mapping[str, str] = ARGUMENT_NAMES,
) -> None:
    """Refuse future covariates that lack a value at one of the ``h`` steps after a
    series' end (``panel``: the series of ``table``), naming the series and the time."""
    for series, last in zip(panel.ids, panel.last_times, strict=True):
        if table.id_col is None:
            rows = future
        else:
            rows = future[future[table.id_col] == series].set_index(table.time_col)
        wanted = future_index(last, panel.freq, h)
        twice = rows.index[rows.index.duplicated() & rows.index.isin(wanted)]
        if len(twice):
            raise ValueError(f"{names['future']} {path} has two rows for {series!r} at {twice[0]}")
        present = rows[~rows.index.duplicated()].reindex(wanted)[list(covariates)]
        gaps = present.isna().any(axis=1).to_numpy()
        if gaps.any():
            where = f"series {series!r}" if table.id_col is not None else "the series"
            raise ValueError(
                f"{names['future']} {path} has no value of {list(covariates)} for {where} at "
                f"{wanted[int(gaps.argmax())]}: it needs the {h} steps after {last}"
            )
