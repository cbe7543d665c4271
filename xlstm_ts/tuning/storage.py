"""Where studies live: in memory, in an SQLite file, or in a database shared by workers.

A database storage gets Optuna's heartbeat: every running trial writes a heartbeat, and a
trial whose worker died (no heartbeat for ``grace_period`` seconds) is marked failed by
the next worker that starts a trial, and queued again with the same parameters
(Optuna's retry callback), so a killed worker never stalls the study.
"""

from __future__ import annotations

import os
import random
import socket
import time
import warnings
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage

try:  # optuna >= 4.9 renamed the retry callback and its storage argument
    from optuna.storages import RetryHeartbeatStaleTrialCallback as RetryCallback

    _RETRY_ARG = "heartbeat_stale_trial_callback"
except ImportError:  # pragma: no cover - older optuna
    from optuna.storages import RetryFailedTrialCallback as RetryCallback

    _RETRY_ARG = "failed_trial_callback"


def open_storage(
    storage: str | BaseStorage | None,
    *,
    heartbeat_interval: int | None = 60,
    grace_period: int | None = None,
    max_retry: int | None = 3,
) -> BaseStorage:
    """An Optuna storage from ``None``, a database URL, or a storage (returned as it is).

    Parameters
    ----------
    storage : str, optuna storage or None
        ``None``: in memory (this process only). A URL: an SQLAlchemy database URL such as
        ``"sqlite:///study.db"`` or ``"postgresql://user:password@host:5432/db"``.
    heartbeat_interval : int, optional
        Seconds between heartbeats of a running trial (database URLs only); ``None``
        turns heartbeats, and hence the recovery of dead workers' trials, off.
    grace_period : int, optional
        Seconds without heartbeat after which a running trial counts as dead; Optuna's
        default (twice the interval) when ``None``.
    max_retry : int, optional
        How often a dead worker's trial is queued again (``None``: without limit).

    Raises
    ------
    ValueError
        If ``storage`` is a string that is not a database URL.
    """
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, str) or "://" not in storage:
        raise ValueError(
            f"storage={storage!r} is not a database URL; use None (in memory), a URL such as "
            "'sqlite:///study.db' or 'postgresql://user:password@host:5432/db', or an "
            "optuna storage"
        )
    with warnings.catch_warnings():
        # heartbeats and retries are deliberate, even while Optuna calls them experimental
        warnings.simplefilter("ignore", ExperimentalWarning)
        kwargs: dict[str, Any] = {}
        if heartbeat_interval is not None:
            kwargs.update(heartbeat_interval=int(heartbeat_interval), grace_period=grace_period)
            kwargs[_RETRY_ARG] = RetryCallback(max_retry=max_retry)
        return _connect(storage, kwargs)


def _connect(url: str, kwargs: dict[str, Any], attempts: int = 6) -> RDBStorage:
    """``RDBStorage(url)``, tried again while another worker creates the tables.

    Workers that start together on an empty database all create Optuna's tables; the
    losers fail on a duplicate (optuna/optuna#1092). Once the winner is done, the tables
    exist and connecting succeeds.
    """
    from sqlalchemy.exc import IntegrityError, ProgrammingError, SQLAlchemyError

    rng = random.Random()
    for attempt in range(attempts):
        try:
            return RDBStorage(url, **kwargs)
        except SQLAlchemyError as exc:
            racing = isinstance(exc, IntegrityError | ProgrammingError)
            if attempt == attempts - 1 or not (racing or "already exists" in str(exc)):
                raise
            time.sleep(0.2 + rng.random())
    raise AssertionError("unreachable")


def retried_from(trial: optuna.trial.FrozenTrial) -> int | None:
    """Number of the dead worker's trial that ``trial`` repeats, if it is a retry."""
    return trial.system_attrs.get("failed_trial")


def redact(url: str | None) -> str:
    """``url`` without its password, for printing."""
    if url is None:
        return "in memory"
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL sqlalchemy understands: show nothing secret
        return url.split("@")[-1]


def worker_id() -> str:
    """``host:pid`` of this process, recorded on every trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"
