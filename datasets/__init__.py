"""Loaders for public benchmark data sets, their canonical splits, and synthetic generators.

>>> from xlstm_ts import datasets
>>> df = datasets.load("ETTh1")                      # from the data home
>>> train, val, test = datasets.split(df, context_length=96)
>>> co2 = datasets.load("co2")                       # bundled with statsmodels
>>> l63 = datasets.lorenz63(5_000, seed=0)           # synthetic, seeded
>>> sales, truth = datasets.retail_panel(seed=0)     # store sales with a known truth

This sub-package depends only on numpy and pandas (and on statsmodels, imported when
one of its bundled sets is loaded).
"""

from .download import download
from .errors import ChecksumError, DatasetNotFoundError, DownloadError
from .home import DATA_HOME_ENV, file_sha1, get_data_home
from .load import load
from .m4 import M4Data, load_m4
from .registry import DATASETS, DatasetInfo, get_info, list_datasets
from .retail import RETAIL_HOLIDAYS, STORE_TYPES, retail_panel
from .splits import SplitBounds, split, split_bounds
from .synthetic import lorenz63, lorenz96, mackey_glass

__all__ = [
    "DATASETS",
    "DATA_HOME_ENV",
    "ChecksumError",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DownloadError",
    "M4Data",
    "RETAIL_HOLIDAYS",
    "STORE_TYPES",
    "SplitBounds",
    "download",
    "file_sha1",
    "get_data_home",
    "get_info",
    "list_datasets",
    "load",
    "load_m4",
    "lorenz63",
    "lorenz96",
    "mackey_glass",
    "retail_panel",
    "split",
    "split_bounds",
]
