"""Reading CSV files with a time column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_csv(path: str | Path, time_col: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read ``path`` and parse its time column (default: the first column).

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
    time_col = str(frame.columns[0]) if time_col is None else time_col
    if time_col not in frame.columns:
        raise ValueError(f"time column {time_col!r} is not in {path} (columns: {list(frame)})")
    if not pd.api.types.is_integer_dtype(frame[time_col]):
        try:
            frame[time_col] = pd.to_datetime(frame[time_col])
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: cannot parse column {time_col!r} as times: {exc}") from exc
    return frame, time_col
