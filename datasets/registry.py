"""Registry of the known data sets: file, frequency, target, split rule, shape, checksum, URL.

Two kinds of entries:

* ``source="file"``: the standard long-horizon benchmark CSV files (ETT, Weather,
  Electricity, Traffic, ILI, Exchange). They are read from a data home or a path and can
  be fetched with :func:`xlstm_ts.datasets.download`.
* ``source="statsmodels"``: small real series bundled with statsmodels; always offline.

Download locations
------------------
The ETT files are fetched from their home, the ETDataset repository on GitHub.
The other benchmark files were published by the Autoformer authors in a Google Drive
folder, which cannot be fetched by a plain HTTP client; they are fetched from the copy
of that collection in the ``AutonLab/Timeseries-PILE`` data set on the Hugging Face Hub
(``forecasting/autoformer/``, same file names), pinned to one commit so that the bytes
cannot change under a name.

Checksums
---------
A SHA-1 is recorded only where it has been checked against a copy of the published file.
Where it is ``None`` a download cannot be verified: :func:`~xlstm_ts.datasets.download`
warns and reports the SHA-1 of what it received, and ``load(..., verify=True)`` falls
back to checking the number of rows and columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = ["DATASETS", "DatasetInfo", "get_info", "list_datasets"]

SplitRule = Literal["ett_hour", "ett_15min", "ratio"]
Source = Literal["file", "statsmodels"]

_ETT_BASE = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/"
_PILE_BASE = (
    "https://huggingface.co/datasets/AutonLab/Timeseries-PILE/resolve/"
    "ea89753da2b451928436adb333c7a2e892461c7d/forecasting/autoformer/"
)
_ETT_HOME = "https://github.com/zhouhaoyi/ETDataset"
_AUTOFORMER_HOME = "https://github.com/thuml/Autoformer"


@dataclass(frozen=True)
class DatasetInfo:
    """Everything known about one data set.

    Attributes
    ----------
    name : str
        Canonical name, as accepted by :func:`~xlstm_ts.datasets.load` (case-insensitive).
    source : {"file", "statsmodels"}
        Where the data come from: a CSV file in the data home, or statsmodels.
    freq : str
        Nominal pandas frequency of the timestamps (e.g. ``"h"``, ``"15min"``, ``"W-TUE"``).
    target : str
        Column forecast in the univariate ("S") setting of the published tables.
    split_rule : {"ett_hour", "ett_15min", "ratio"}
        Canonical train/validation/test rule, see :func:`~xlstm_ts.datasets.split_bounds`.
    n_rows : int
        Number of rows (time steps) of the published data.
    n_columns : int
        Number of data columns, the ``date`` column not counted.
    description : str
        One line on what the data are.
    filename : str or None
        File name in the data home (``None`` for bundled sets).
    sha1 : str or None
        SHA-1 of the published file, ``None`` where it is not known.
    url : str or None
        Where :func:`~xlstm_ts.datasets.download` fetches the file from.
    homepage : str or None
        The data set's original publication place.
    licence : str or None
        Licence of the data, as stated by their publishers.
    """

    name: str
    source: Source
    freq: str
    target: str
    split_rule: SplitRule
    n_rows: int
    n_columns: int
    description: str
    filename: str | None = None
    sha1: str | None = None
    url: str | None = None
    homepage: str | None = None
    licence: str | None = None


def _ett(name: str, rows: int, freq: str, rule: SplitRule, sha1: str | None) -> DatasetInfo:
    station = name[-1]
    step = "hourly" if rule == "ett_hour" else "15-minute"
    return DatasetInfo(
        name=name,
        source="file",
        freq=freq,
        target="OT",
        split_rule=rule,
        n_rows=rows,
        n_columns=7,
        description=(
            f"Electricity Transformer Temperature, station {station}, {step}, 2016-07 to "
            "2018-06: six load features and the oil temperature OT"
        ),
        filename=f"{name}.csv",
        sha1=sha1,
        url=f"{_ETT_BASE}{name}.csv",
        homepage=_ETT_HOME,
        licence="CC BY-ND 4.0",
    )


def _autoformer(
    name: str,
    filename: str,
    freq: str,
    rows: int,
    columns: int,
    description: str,
    sha1: str | None = None,
) -> DatasetInfo:
    return DatasetInfo(
        name=name,
        source="file",
        freq=freq,
        target="OT",
        split_rule="ratio",
        n_rows=rows,
        n_columns=columns,
        description=description,
        filename=filename,
        sha1=sha1,
        url=f"{_PILE_BASE}{filename}",
        homepage=_AUTOFORMER_HOME,
    )


def _bundled(
    name: str, freq: str, target: str, rows: int, description: str, homepage: str
) -> DatasetInfo:
    return DatasetInfo(
        name=name,
        source="statsmodels",
        freq=freq,
        target=target,
        split_rule="ratio",
        n_rows=rows,
        n_columns=1,
        description=description,
        homepage=homepage,
    )


_SM_DOCS = "https://www.statsmodels.org/stable/datasets/generated/"

_ENTRIES: tuple[DatasetInfo, ...] = (
    _ett("ETTh1", 17_420, "h", "ett_hour", "b22844d8be77297bde809d7ca0132f50fae8590b"),
    _ett("ETTh2", 17_420, "h", "ett_hour", None),
    _ett("ETTm1", 69_680, "15min", "ett_15min", None),
    _ett("ETTm2", 69_680, "15min", "ett_15min", None),
    _autoformer(
        "Weather",
        "weather.csv",
        "10min",
        52_696,
        21,
        "Weather station of the Max Planck Institute for Biogeochemistry, Jena, 2020, "
        "every 10 minutes: 21 meteorological indicators, the last one named OT",
    ),
    _autoformer(
        "Electricity",
        "electricity.csv",
        "h",
        26_304,
        321,
        "Hourly electricity consumption (kWh) of 321 clients (UCI "
        "ElectricityLoadDiagrams20112014, as preprocessed for Autoformer)",
    ),
    _autoformer(
        "Traffic",
        "traffic.csv",
        "h",
        17_544,
        862,
        "Hourly road occupancy rates of 862 sensors on San Francisco Bay Area freeways "
        "(California Department of Transportation, PeMS)",
    ),
    _autoformer(
        "ILI",
        "national_illness.csv",
        "W-TUE",
        966,
        7,
        "US CDC weekly influenza-like illness, 2002 to 2020: 6 series and the number "
        "of patients OT",
        sha1="a512ca1d79b431f1bf708bf2a8482e740cc35893",
    ),
    _autoformer(
        "Exchange",
        "exchange_rate.csv",
        "D",
        7_588,
        8,
        "Daily exchange rates of eight countries against the US dollar, from 1990",
    ),
    _bundled(
        "co2",
        "W-SAT",
        "co2",
        2_284,
        "Atmospheric CO2 (ppm) at Mauna Loa, weekly, 1958-03 to 2001-12; 59 weeks missing",
        _SM_DOCS + "co2.html",
    ),
    _bundled(
        "sunspots",
        "YS",
        "SUNACTIVITY",
        309,
        "Yearly mean sunspot number, 1700 to 2008",
        _SM_DOCS + "sunspots.html",
    ),
    _bundled(
        "elnino",
        "MS",
        "sst",
        732,
        "Monthly mean sea surface temperature (deg C) in the eastern equatorial Pacific "
        "(El Nino region), 1950 to 2010",
        _SM_DOCS + "elnino.html",
    ),
    _bundled(
        "nile",
        "YS",
        "volume",
        100,
        "Yearly flow volume of the Nile at Aswan (10^8 m^3), 1871 to 1970",
        _SM_DOCS + "nile.html",
    ),
)

# Read-only: the registry is shared by every caller in the process.
DATASETS: Mapping[str, DatasetInfo] = MappingProxyType({info.name: info for info in _ENTRIES})

# Other spellings met in papers and code (lower case; the canonical names are added below).
_ALIASES = {
    "national_illness": "ILI",
    "illness": "ILI",
    "exchange_rate": "Exchange",
    "ecl": "Electricity",
}
_LOOKUP = {**_ALIASES, **{name.lower(): name for name in DATASETS}}


def list_datasets(source: Source | None = None) -> list[str]:
    """Names of the known data sets.

    Parameters
    ----------
    source : {"file", "statsmodels"}, optional
        Keep only the benchmark files (``"file"``) or only the sets bundled with
        statsmodels (``"statsmodels"``). By default both.

    Returns
    -------
    list of str
        Canonical names, in registry order.
    """
    if source not in (None, "file", "statsmodels"):
        raise ValueError(f"source must be None, 'file' or 'statsmodels'; got {source!r}")
    return [n for n, info in DATASETS.items() if source is None or info.source == source]


def get_info(name: str) -> DatasetInfo:
    """Look a data set up by name (case-insensitive; file names without ``.csv`` work too).

    Parameters
    ----------
    name : str
        E.g. ``"ETTh1"``, ``"etth1"``, ``"ILI"``, ``"national_illness"``, ``"co2"``.

    Returns
    -------
    DatasetInfo

    Raises
    ------
    ValueError
        If the name is not known; the message lists the known names.
    """
    if not isinstance(name, str):
        raise TypeError(f"a data set name must be a str; got {type(name).__name__}")
    key = name.strip().lower().removesuffix(".csv")
    if key not in _LOOKUP:
        known = ", ".join(DATASETS)
        raise ValueError(f"unknown data set {name!r}; known data sets: {known}")
    return DATASETS[_LOOKUP[key]]
