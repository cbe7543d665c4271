"""Ridge regression from accumulated normal equations: one solver, one penalty grid.

The ridge baseline (:class:`xlstm_ts.baselines.RidgeNLinear`) and the ridge start of the
forecasting network's linear path both fit a linear map from many windows. Windows are
added block by block to :class:`NormalEquations`, so memory is ``O(p² + p·H)`` whatever
their number; every penalty of the grid is solved from the same sums, and the validation
error of each solution follows exactly from the validation sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

LAMBDAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
"""Ridge penalties tried, relative to the mean diagonal of the training Gram matrix."""


class NormalEquations:
    """Running sums ``XᵀX``, ``XᵀY``, ``ΣY²`` and the count of target values.

    Rows whose target holds a NaN (a missing value) are left out.
    """

    def __init__(self) -> None:
        self.gram: np.ndarray | float = 0.0
        self.cross: np.ndarray | float = 0.0
        self.yy = 0.0
        self.n = 0

    def add(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Add the rows of features ``X`` (n, p) and targets ``Y`` (n, H)."""
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        keep = ~np.isnan(Y).any(axis=1)
        if not keep.all():
            X, Y = X[keep], Y[keep]
        self.gram = self.gram + X.T @ X
        self.cross = self.cross + X.T @ Y
        self.yy += float(np.einsum("ij,ij->", Y, Y))
        self.n += Y.size

    def __add__(self, other: NormalEquations) -> NormalEquations:
        total = NormalEquations()
        total.gram, total.cross = self.gram + other.gram, self.cross + other.cross
        total.yy, total.n = self.yy + other.yy, self.n + other.n
        return total

    def sse(self, W: np.ndarray) -> float:
        """``Σ‖Y − XW‖²`` from the sums alone."""
        return self.yy - 2 * float(np.sum(W * self.cross)) + float(np.sum(W * (self.gram @ W)))

    def solve(self, lam: float, n_unpenalised: int = 0) -> np.ndarray:
        """Ridge solution ``(G + λ·s·D)⁻¹ C`` for the relative penalty ``lam``.

        ``s`` is the mean diagonal of ``G`` over the penalised features and ``D`` the
        identity with zeros for the last ``n_unpenalised`` features (e.g. an intercept).
        A singular system (features that never vary, as in a constant series) gets the
        minimum-norm least-squares solution.
        """
        gram = np.asarray(self.gram)
        p = gram.shape[0] - n_unpenalised
        penalty = np.zeros(gram.shape[0])
        penalty[:p] = lam * np.mean(np.diag(gram)[:p])
        try:
            return np.linalg.solve(gram + np.diag(penalty), self.cross)
        except np.linalg.LinAlgError:  # e.g. constant series: all features zero
            return np.linalg.lstsq(gram + np.diag(penalty), self.cross, rcond=None)[0]


@dataclass
class RidgeFit:
    """A ridge solution and how its penalty was chosen.

    Attributes
    ----------
    coef : ndarray of shape (p, H)
    lam : float
        The chosen relative penalty.
    val_mse : dict
        Validation MSE of each penalty of the grid (empty without validation windows).
    """

    coef: np.ndarray
    lam: float
    val_mse: dict[float, float]


def check_lambdas(lambdas: Sequence[float]) -> list[float]:
    """The grid as floats; raises ``ValueError`` unless it is non-empty and ``>= 0``."""
    grid = [float(lam) for lam in lambdas]
    if not grid or min(grid) < 0:
        raise ValueError(f"lambdas must be a non-empty list of values >= 0; got {grid}")
    return grid


def fit_ridge(
    train: NormalEquations | Iterable[tuple[np.ndarray, np.ndarray]],
    val: NormalEquations | Iterable[tuple[np.ndarray, np.ndarray]] | None = None,
    lambdas: Sequence[float] = LAMBDAS,
    n_unpenalised: int = 0,
) -> RidgeFit:
    """Solve for every penalty of ``lambdas`` and keep the best on the validation sums.

    Parameters
    ----------
    train, val : NormalEquations or iterable of (X, Y) blocks
        Training and validation rows. Without validation rows the middle penalty of the
        grid is kept.
    lambdas : sequence of float
        Relative penalties (see :meth:`NormalEquations.solve`).
    n_unpenalised : int
        Trailing features left unpenalised.

    Returns
    -------
    RidgeFit
    """
    grid = check_lambdas(lambdas)
    tr = train if isinstance(train, NormalEquations) else _sums(train)
    if tr.n == 0:
        raise ValueError("the training part has no windows")
    solutions = {lam: tr.solve(lam, n_unpenalised) for lam in grid}
    if val is not None and not isinstance(val, NormalEquations):
        val = _sums(val)
    if val is not None and val.n > 0:
        val_mse = {lam: val.sse(W) / val.n for lam, W in solutions.items()}
        lam = min(val_mse, key=val_mse.get)
    else:
        val_mse, lam = {}, grid[len(grid) // 2]
    return RidgeFit(solutions[lam], lam, val_mse)


def _sums(blocks: Iterable[tuple[np.ndarray, np.ndarray]]) -> NormalEquations:
    sums = NormalEquations()
    for X, Y in blocks:
        sums.add(X, Y)
    return sums
