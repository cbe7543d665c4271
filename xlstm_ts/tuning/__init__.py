"""Hyperparameter search with Optuna, from one process to many workers.

:class:`XLSTMSearchCV` searches an estimator's parameters, scoring each trial by
rolling-origin validation (:class:`RollingOrigin`), pruning hopeless trials while they
train (:class:`OptunaPruning`), and keeping the study in memory, in SQLite or in a
database that several workers share (:func:`open_storage`). :func:`save_plots` draws a
study; ``xlstm-ts tune`` runs a search from the command line.
"""

from .folds import Fold, RollingOrigin
from .plots import save_plots
from .pruning import OptunaPruning
from .results import cv_results
from .scoring import SCORERS
from .search import XLSTMSearchCV
from .space import DefaultSearchSpace, slstm_positions
from .storage import open_storage

__all__ = [
    "SCORERS",
    "DefaultSearchSpace",
    "Fold",
    "OptunaPruning",
    "RollingOrigin",
    "XLSTMSearchCV",
    "cv_results",
    "open_storage",
    "save_plots",
    "slstm_positions",
]
