"""Search spaces: the default one over the parameters that matter, and the user's own.

A space is either a mapping from estimator parameter names to Optuna distributions or a
function ``space(trial) -> dict`` that suggests values with ``trial.suggest_*`` and
returns estimator parameters (which may be derived from the suggested values).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

SearchSpace = Mapping[str, BaseDistribution] | Callable[[optuna.Trial], dict[str, Any]]
"""A mapping of parameter names to distributions, or ``space(trial) -> parameters``."""

SLSTM_PATTERNS = ("none", "first", "last", "alternate")
"""Where the sLSTM blocks go, as a categorical choice (the rest are mLSTM blocks)."""


def slstm_positions(pattern: str, num_blocks: int) -> tuple[int, ...]:
    """Block indexes of the sLSTM blocks for a pattern of :data:`SLSTM_PATTERNS`.

    ``"none"``: all mLSTM; ``"first"``/``"last"``: one sLSTM block there; ``"alternate"``:
    every other block starting with the second (1, 3, ...), none when there is one block.
    """
    if pattern not in SLSTM_PATTERNS:
        raise ValueError(f"sLSTM pattern {pattern!r} is not one of {SLSTM_PATTERNS}")
    if pattern == "none":
        return ()
    if pattern == "first":
        return (0,)
    if pattern == "last":
        return (num_blocks - 1,)
    return tuple(range(1, num_blocks, 2))


def validation_steps(params: Mapping[str, Any], n: int, horizon: int) -> int:
    """Steps an estimator holds out for validation from ``n`` (its ``validation_size``)."""
    v = params.get("validation_size", 0)
    if not v:
        return 0
    return max(int(round(v * n)) if isinstance(v, float) else int(v), horizon)


class DefaultSearchSpace:
    """The default search space of :class:`~xlstm_ts.tuning.XLSTMSearchCV`.

    Only parameters the estimator has, and that are not in ``exclude``, are searched:

    | parameter | values |
    |---|---|
    | ``learning_rate`` | log-uniform in [1e-4, 1e-2] |
    | ``d_model`` | one of 16, 32, 64, 128 (those divisible by ``num_heads``) |
    | ``num_blocks`` | 1 to 4 |
    | ``slstm_at`` | "none", "first", "last" or "alternate" (``SLSTM_PATTERNS``) |
    | ``patch_len`` | one of 4, 8, 16, 32, at most half the shortest context |
    | ``dropout`` | uniform in [0, 0.3] |
    | ``context_length`` | 2, 4 or 8 horizons, or the estimator's own (see below) |

    The sLSTM pattern is turned into block positions (:func:`slstm_positions`). Context
    lengths are kept where the shortest training series of any fold still leaves the
    estimator's validation part and ``horizon`` training windows.

    A choice left with one value is not searched.

    Parameters
    ----------
    exclude : sequence of str
        Parameters to keep at the estimator's values.
    """

    def __init__(self, exclude: Sequence[str] = ()) -> None:
        self.exclude = tuple(exclude)

    def distributions(
        self, params: Mapping[str, Any], shortest: int | None = None
    ) -> dict[str, BaseDistribution]:
        """The distributions for an estimator with ``params``, when the shortest training
        series of any fold has ``shortest`` steps (``None``: no bound on the context)."""
        have = set(params) - set(self.exclude)
        contexts = _contexts(params, shortest) if "context_length" in have else []
        out: dict[str, BaseDistribution] = {}

        def choice(name: str, choices: list[Any]) -> None:
            if len(choices) > 1:
                out[name] = CategoricalDistribution(choices)

        if "learning_rate" in have:
            out["learning_rate"] = FloatDistribution(1e-4, 1e-2, log=True)
        if "d_model" in have:
            heads = int(params.get("num_heads", 1))
            choice("d_model", [w for w in (16, 32, 64, 128) if w % heads == 0 and w % 2 == 0])
        if "num_blocks" in have:
            out["num_blocks"] = IntDistribution(1, 4)
        if "slstm_at" in have:
            choice("slstm_at", list(SLSTM_PATTERNS))
        if "patch_len" in have:
            shortest_context = min(contexts) if contexts else int(params["context_length"])
            choice("patch_len", [p for p in (4, 8, 16, 32) if 2 * p <= shortest_context])
        if "dropout" in have:
            out["dropout"] = FloatDistribution(0.0, 0.3)
        choice("context_length", contexts)
        return out

    def bind(
        self, params: Mapping[str, Any], shortest: int | None = None
    ) -> Callable[[optuna.Trial], dict[str, Any]]:
        """``space(trial) -> estimator parameters`` for an estimator with ``params``."""
        distributions = self.distributions(params, shortest)
        num_blocks = int(params.get("num_blocks", 1))

        def space(trial: optuna.Trial) -> dict[str, Any]:
            values = suggest(trial, distributions)
            if "slstm_at" in values:
                blocks = values.get("num_blocks", num_blocks)
                values["slstm_at"] = slstm_positions(values["slstm_at"], blocks)
            return values

        space.distributions = distributions  # type: ignore[attr-defined]
        return space

    def __repr__(self) -> str:
        return f"DefaultSearchSpace(exclude={list(self.exclude)})"


def _contexts(params: Mapping[str, Any], shortest: int | None) -> list[int]:
    if "horizon" not in params:
        return []
    h, own = int(params["horizon"]), int(params["context_length"])
    candidates = sorted({2 * h, 4 * h, 8 * h, own})
    if shortest is None:
        return candidates
    val = validation_steps(params, shortest, h)
    return [c for c in candidates if c + val + 2 * h <= shortest]


def suggest(trial: optuna.Trial, distributions: Mapping[str, BaseDistribution]) -> dict[str, Any]:
    """Suggest a value of each distribution, by name."""
    out: dict[str, Any] = {}
    for name, d in distributions.items():
        if isinstance(d, FloatDistribution):
            out[name] = trial.suggest_float(name, d.low, d.high, step=d.step, log=d.log)
        elif isinstance(d, IntDistribution):
            out[name] = trial.suggest_int(name, d.low, d.high, step=d.step, log=d.log)
        elif isinstance(d, CategoricalDistribution):
            out[name] = trial.suggest_categorical(name, d.choices)
        else:
            raise TypeError(f"search_space[{name!r}]: unsupported distribution {d!r}")
    return out


def resolve_space(
    search_space: SearchSpace | DefaultSearchSpace | None,
    params: Mapping[str, Any],
    shortest: int | None,
) -> Callable[[optuna.Trial], dict[str, Any]]:
    """The space to search: the default one, the user's function, or their mapping.

    Raises
    ------
    ValueError
        If a mapping names a parameter the estimator lacks, or holds something other than
        an Optuna distribution.
    """
    if search_space is None or isinstance(search_space, DefaultSearchSpace):
        default = search_space or DefaultSearchSpace()
        space = default.bind(params, shortest)
        if not space.distributions:  # type: ignore[attr-defined]
            raise ValueError(
                f"{default!r} has nothing to search for this estimator (it searches "
                "learning_rate, d_model, num_blocks, slstm_at, patch_len, dropout and "
                "context_length); pass search_space="
            )
        return space
    if callable(search_space):
        return search_space
    distributions = dict(search_space)
    unknown = sorted(set(distributions) - set(params))
    if unknown:
        raise ValueError(
            f"search_space names {unknown}, which the estimator does not have as parameters; "
            f"its parameters are {sorted(params)}"
        )
    for name, d in distributions.items():
        if not isinstance(d, FloatDistribution | IntDistribution | CategoricalDistribution):
            raise ValueError(
                f"search_space[{name!r}] must be an Optuna distribution (FloatDistribution, "
                f"IntDistribution or CategoricalDistribution); got {d!r}"
            )
    return lambda trial: suggest(trial, distributions)
