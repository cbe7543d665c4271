"""Pictures of a study: optimisation history and parameter importances, as PNG files.

Drawn by ``optuna.visualization.matplotlib``. The files are written without a display;
call ``matplotlib.use("Agg")`` first on a machine whose default backend needs one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState

from .scoring import error_name

HISTORY_FILE = "optimization_history.png"
IMPORTANCES_FILE = "param_importances.png"


def save_plots(study: optuna.Study, folder: str | Path, dpi: int = 120) -> dict[str, Path]:
    """Write the optimisation history and the parameter importances of ``study``.

    The importances (fANOVA, Optuna's default) need at least two complete trials that
    differ in some parameter; without them only the history is written.

    Parameters
    ----------
    study : optuna.Study
        The study to draw.
    folder : str or Path
        Folder for the files (created if needed).
    dpi : int
        Resolution.

    Returns
    -------
    dict
        ``{"history": path}`` and, when drawn, ``"importances": path``.
    """
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as oplt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    drawings = {"history": (HISTORY_FILE, oplt.plot_optimization_history)}
    first = complete[0].params if complete else {}
    varied = any(t.params.get(name) != value for t in complete for name, value in first.items())
    if len(complete) >= 2 and varied:
        drawings["importances"] = (IMPORTANCES_FILE, oplt.plot_param_importances)
    written = {}
    scoring = study.user_attrs.get("scoring")  # the study's value: minus the mean score
    target = f"mean {error_name(scoring) if scoring else 'error'} over the folds"
    for key, (name, draw) in drawings.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            ax = draw(study, target_name=target)
        fig = ax.figure
        fig.set_size_inches(8, 4.5)
        fig.tight_layout()
        fig.savefig(folder / name, dpi=dpi)
        plt.close(fig)
        written[key] = folder / name
    return written
