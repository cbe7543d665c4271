"""Search spaces: the default one over the parameters that matter, and the user's own.

A space is a mapping from estimator parameter names to Optuna distributions (or to
``"default"``, the built-in distribution of that name), a list of names (each with its
built-in distribution), or a function ``space(trial) -> dict`` that suggests values with
``trial.suggest_*`` and returns estimator parameters (which may be derived from the
suggested values). Without one, the built-in parameters that the user left at the
estimator's defaults are searched (:func:`explicit_params` finds the others).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

SearchSpace = (
    Mapping[str, BaseDistribution | str] | Sequence[str] | Callable[[optuna.Trial], dict[str, Any]]
)
"""Parameter names → distributions (or ``"default"``), a list of names searched with their
built-in distributions, or ``space(trial) -> parameters``."""

BUILT_IN = (
    "learning_rate",
    "d_model",
    "num_blocks",
    "slstm_at",
    "patch_len",
    "dropout",
    "context_length",
)
"""The parameters :class:`DefaultSearchSpace` knows a distribution for."""

PATCH_COUNTS = (4, 8, 16)
"""Patches per context that the built-in space tries (the length of the blocks' input)."""

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
    """The built-in search space of :class:`~xlstm_ts.tuning.XLSTMSearchCV`.

    Of the parameters below (``names``, all of them by default), those the estimator has
    and that are not in ``exclude`` are searched:

    | parameter | values |
    |---|---|
    | ``learning_rate`` | log-uniform in [1e-4, 1e-2] |
    | ``d_model`` | one of 16, 32, 64, 128 (those divisible by ``num_heads``) |
    | ``num_blocks`` | 1 to 4 |
    | ``slstm_at`` | "none", "first", "last" or "alternate" (``SLSTM_PATTERNS``) |
    | ``patch_len`` | the context cut into 4, 8 or 16 patches (``PATCH_COUNTS``) |
    | ``dropout`` | uniform in [0, 0.3] |
    | ``context_length`` | 2, 4 or 8 horizons, or the estimator's own (see below) |

    The sLSTM pattern is turned into block positions (:func:`slstm_positions`); the
    number of patches (Optuna's parameter ``patches``) into ``patch_len = ⌈context /
    patches⌉``, so that the sequence the blocks read, whose length sets the cost of a
    trial, stays short whatever the context. Context lengths are kept where the shortest
    training series of any fold still leaves the estimator's validation part and
    ``horizon`` training windows.

    A choice left with one value is not searched. An object given as ``search_space``
    is taken as it says, whatever the estimator's values; without ``search_space`` the
    search uses ``DefaultSearchSpace(exclude=explicit_params(estimator))``.

    Parameters
    ----------
    exclude : sequence of str
        Parameters to keep at the estimator's values.
    names : sequence of str, optional
        The built-in parameters to search (``None``: all of :data:`BUILT_IN`).

    Raises
    ------
    ValueError
        If ``names`` holds a parameter without a built-in distribution.
    """

    def __init__(self, exclude: Sequence[str] = (), *, names: Sequence[str] | None = None) -> None:
        if isinstance(exclude, str) or isinstance(names, str):
            raise TypeError("exclude and names are sequences of parameter names, not a string")
        unknown = sorted(set(names or ()) - set(BUILT_IN))
        if unknown:
            raise ValueError(
                f"no built-in distribution for {unknown}; the built-in ones are for "
                f"{list(BUILT_IN)}: give the others an Optuna distribution"
            )
        self.exclude = tuple(exclude)
        self.names = None if names is None else tuple(names)

    def distributions(
        self, params: Mapping[str, Any], shortest: int | None = None
    ) -> dict[str, BaseDistribution]:
        """The distributions for an estimator with ``params``, when the shortest training
        series of any fold has ``shortest`` steps (``None``: no bound on the context),
        by Optuna parameter name (``patches`` for ``patch_len``, see :meth:`bind`)."""
        have = set(params) & set(BUILT_IN if self.names is None else self.names)
        have -= set(self.exclude)
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
        if "patch_len" in have:  # as a number of patches: at least two steps each
            shortest_context = min(contexts) if contexts else int(params["context_length"])
            choice("patches", [n for n in PATCH_COUNTS if 2 * n <= shortest_context])
        if "dropout" in have:
            out["dropout"] = FloatDistribution(0.0, 0.3)
        choice("context_length", contexts)
        return out

    def bind(
        self,
        params: Mapping[str, Any],
        shortest: int | None = None,
        extra: Mapping[str, BaseDistribution] | None = None,
    ) -> Callable[[optuna.Trial], dict[str, Any]]:
        """``space(trial) -> estimator parameters`` for an estimator with ``params``;
        ``extra`` distributions (the user's) are searched beside the built-in ones."""
        built_in = self.distributions(params, shortest)
        extra = dict(extra or {})
        if "patch_len" in extra:  # the user's own patch lengths replace the counts
            built_in.pop("patches", None)
        distributions = {**{k: v for k, v in built_in.items() if k not in extra}, **extra}
        patterns = "slstm_at" in built_in and "slstm_at" not in extra
        num_blocks = int(params.get("num_blocks", 1))
        context = int(params.get("context_length", 1))

        def space(trial: optuna.Trial) -> dict[str, Any]:
            values = suggest(trial, distributions)
            if patterns and "slstm_at" in values:  # a pattern name, made block positions
                blocks = values.get("num_blocks", num_blocks)
                values["slstm_at"] = slstm_positions(values["slstm_at"], blocks)
            if "patches" in values:
                patches = values.pop("patches")
                values["patch_len"] = -(-int(values.get("context_length", context)) // patches)
            return values

        space.distributions = distributions  # type: ignore[attr-defined]
        return space

    def __repr__(self) -> str:
        names = "" if self.names is None else f", names={list(self.names)}"
        return f"DefaultSearchSpace(exclude={list(self.exclude)}{names})"


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


def explicit_params(estimator: Any) -> list[str]:
    """The parameters of ``estimator`` whose values differ from its class's defaults.

    These are the ones the user set (a value set equal to the default cannot be told
    apart from it); a search leaves them alone unless its ``search_space`` names them.
    """
    try:
        signature = inspect.signature(type(estimator).__init__)
    except (TypeError, ValueError):  # no introspectable signature: nothing is known
        return []
    params = estimator.get_params(deep=False)
    out = []
    for name, value in params.items():
        p = signature.parameters.get(name)
        if p is None or p.default is inspect.Parameter.empty or not _same(value, p.default):
            out.append(name)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal values, a list and a tuple of the same items included."""
    if a is b:
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        equal = a == b
        return bool(equal) if np.ndim(equal) == 0 else bool(np.all(equal))
    except Exception:  # values that cannot be compared count as set
        return False


def resolve_space(
    search_space: SearchSpace | DefaultSearchSpace | None,
    params: Mapping[str, Any],
    shortest: int | None,
    explicit: Sequence[str] = (),
) -> Callable[[optuna.Trial], dict[str, Any]]:
    """The space to search: the default one, the user's function, names or mapping.

    ``None`` searches the built-in parameters (:data:`BUILT_IN`) but those in
    ``explicit`` (those the user set on the estimator, see :func:`explicit_params`).
    A mapping's ``"default"`` values and a list's names take their built-in
    distributions; a parameter named this way is searched even when the user set it.

    Raises
    ------
    ValueError
        If a mapping names a parameter the estimator lacks, holds something other than
        an Optuna distribution or ``"default"``, or leaves nothing to search.
    """
    if search_space is None or isinstance(search_space, DefaultSearchSpace):
        fixed = sorted(set(explicit) & set(BUILT_IN)) if search_space is None else []
        default = search_space or DefaultSearchSpace(exclude=fixed)
        space = default.bind(params, shortest)
        if not space.distributions:  # type: ignore[attr-defined]
            kept = f"; the estimator sets {fixed}, searched only when named" if fixed else ""
            raise ValueError(
                f"{default!r} has nothing to search for this estimator (it searches "
                f"{', '.join(BUILT_IN)} where the data allow more than one value{kept}); "
                'pass search_space=, e.g. ["d_model", "learning_rate"] for their built-in '
                "distributions or a mapping to Optuna distributions"
            )
        return space
    if callable(search_space) and not isinstance(search_space, Mapping):
        return search_space
    if isinstance(search_space, str):
        raise ValueError(
            f"search_space={search_space!r}: give a list of names, e.g. [{search_space!r}]"
        )
    if not isinstance(search_space, Mapping):
        search_space = dict.fromkeys(search_space, "default")
    distributions = dict(search_space)
    unknown = sorted(set(distributions) - set(params))
    if unknown:
        raise ValueError(
            f"search_space names {unknown}, which the estimator does not have as parameters; "
            f"its parameters are {sorted(params)}"
        )
    kinds = FloatDistribution | IntDistribution | CategoricalDistribution
    for name, d in distributions.items():
        if d != "default" and not isinstance(d, kinds):
            raise ValueError(
                f"search_space[{name!r}] must be an Optuna distribution (FloatDistribution, "
                f'IntDistribution or CategoricalDistribution) or "default"; got {d!r}'
            )
    defaults = [name for name, d in distributions.items() if isinstance(d, str)]
    own = {k: d for k, d in distributions.items() if k not in defaults}
    space = DefaultSearchSpace(names=defaults).bind(params, shortest, extra=own)
    if not space.distributions:  # type: ignore[attr-defined]
        raise ValueError(
            f"search_space={list(distributions)}: the data leave each of these one value, "
            "so nothing is searched; name other parameters or give distributions"
        )
    return space
