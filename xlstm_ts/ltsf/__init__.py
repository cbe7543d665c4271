"""The long-horizon forecasting (LTSF) benchmark protocol.

For a data set, a context length ``L`` and a horizon ``H``:

1. canonical train/validation/test rows from :func:`xlstm_ts.datasets.split_bounds`
   (ETTh: ``[0, 8640)``, ``[8640 − L, 11520)``, ``[11520 − L, 14400)``; others 70/10/20);
2. a per-channel z-score (:class:`~sklearn.preprocessing.StandardScaler`) fitted on the
   training rows only and applied to all rows;
3. every stride-1 window ``(context of L, target of H)`` that lies inside a part, built
   lazily as a view (no copy of all windows); each channel is a series of its own;
4. MSE and MAE on the scaled data over every test window of every channel (no
   ``drop_last``); model selection (early stopping, penalties) sees the validation
   windows only.

Modules: :mod:`.data` (splits, scaling, windows), :mod:`.models` (the models behind one
protocol), :mod:`.run` (fitting and scoring), :mod:`.report` (tables),
:mod:`.command` (the ``xlstm-ts benchmark`` command).

>>> from xlstm_ts import ltsf
>>> data = ltsf.prepare("ETTh1", context_length=336)                 # doctest: +SKIP
>>> data = ltsf.prepare("MackeyGlass30")   # generated; registry's L   # doctest: +SKIP
>>> result = ltsf.run_benchmark(data, horizons=[96], models=["ridge"])  # doctest: +SKIP
>>> print(ltsf.format_table(result))                                 # doctest: +SKIP
"""

from .data import LTSFData, prepare, registry_defaults, resolve_horizons
from .models import (
    MODELS,
    DLinearModel,
    ETSBenchmarkModel,
    LTSFModel,
    RidgeModel,
    SeasonalNaiveModel,
    StatefulModel,
    XLSTMModel,
)
from .report import format_table, summarize
from .run import evaluate, run_benchmark

__all__ = [
    "MODELS",
    "DLinearModel",
    "ETSBenchmarkModel",
    "LTSFData",
    "LTSFModel",
    "RidgeModel",
    "SeasonalNaiveModel",
    "StatefulModel",
    "XLSTMModel",
    "evaluate",
    "format_table",
    "prepare",
    "registry_defaults",
    "resolve_horizons",
    "run_benchmark",
    "summarize",
]
