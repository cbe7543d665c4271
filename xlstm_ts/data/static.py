"""Static covariates: per-series attributes (a store's type, a sensor's site, a size), read
from the columns of a long frame that are constant within each series.

A numeric attribute is one column; a categorical one (text, category or bool dtype) is
one column per category seen in ``fit``, 1 for the series' category: a linear layer on
those columns is an embedding table with one vector per category. A category ``fit`` did
not see reads as none of them (all zeros).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


def static_table(df: Any, id_col: str, names: Sequence[str]) -> pd.DataFrame:
    """One row per series (indexed by id, in order of first appearance) with the static
    columns ``names`` of the long frame ``df``.

    Raises ``ValueError`` naming the column and series when a column is missing, has a
    missing value or changes within a series.
    """
    names = list(names)
    if not isinstance(df, pd.DataFrame) or id_col not in df.columns:
        raise ValueError(
            f"static_covariates {names} are read from a long frame with an id column "
            f"({id_col!r}), one value per series"
        )
    absent = [c for c in names if c not in df.columns]
    if absent:
        raise ValueError(f"static covariate column(s) {absent} not found; X has {list(df.columns)}")
    for c in names:
        missing = df[c].isna().to_numpy()
        if missing.any():
            row = df.index[missing.argmax()]
            raise ValueError(
                f"static covariate {c!r} is missing for series "
                f"{df[id_col].iloc[missing.argmax()]!r} "
                f"(row {row!r}); every series needs a value"
            )
    groups = df.groupby(id_col, sort=False)[names]
    varying = groups.nunique() > 1
    if varying.to_numpy().any():
        series, column = next((s, c) for s in varying.index for c in names if varying.loc[s, c])
        values = df.loc[df[id_col] == series, column].unique()[:2].tolist()
        raise ValueError(
            f"static covariate {column!r} changes within series {series!r} ({values[0]!r}, "
            f"{values[1]!r}, ...); a static covariate holds one value per series (pass a "
            "time-varying column as a past or future covariate)"
        )
    return groups.first()


def _is_categorical(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


@dataclass(frozen=True)
class StaticEncoding:
    """How the static columns become numbers, learned in ``fit``.

    Attributes
    ----------
    columns : list of str
        The static covariates, in the order given.
    categories : dict
        For each categorical column, the categories seen in ``fit`` (sorted).
    """

    columns: list[str]
    categories: dict[str, list[Hashable]] = field(default_factory=dict)

    @classmethod
    def learn(cls, table: pd.DataFrame) -> StaticEncoding:
        """The encoding of a :func:`static_table`."""
        categories = {
            c: sorted(table[c].unique().tolist(), key=repr)
            for c in table.columns
            if _is_categorical(table[c])
        }
        return cls(list(table.columns), categories)

    @property
    def names(self) -> list[str]:
        """The encoded columns' names: a numeric column's own, ``"column=category"`` for
        each category of a categorical one."""
        out: list[str] = []
        for c in self.columns:
            out += [f"{c}={v}" for v in self.categories[c]] if c in self.categories else [c]
        return out

    def values(self, table: pd.DataFrame) -> np.ndarray:
        """The encoded columns (len(table), len(names)) of a :func:`static_table`."""
        parts = []
        for c in self.columns:
            column = table[c]
            if c in self.categories:
                known = self.categories[c]
                parts.append(column.to_numpy()[:, None] == np.asarray(known, dtype=object))
            elif _is_categorical(column):
                raise TypeError(
                    f"static covariate {c!r} was numeric in fit, but X holds "
                    f"{column.dtype} values such as {column.iloc[0]!r}"
                )
            else:
                parts.append(column.to_numpy(dtype=np.float64)[:, None])
        return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts], axis=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON values (categories as saved by :func:`xlstm_ts.jsonable.jsonable`)."""
        from xlstm_ts.jsonable import jsonable

        return {"columns": list(self.columns), "categories": jsonable(self.categories)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StaticEncoding:
        """The encoding :meth:`to_dict` wrote."""
        return cls(list(data["columns"]), {k: list(v) for k, v in data["categories"].items()})
