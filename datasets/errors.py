"""Exceptions raised by :mod:`xlstm_ts.datasets`."""

from __future__ import annotations

__all__ = ["ChecksumError", "DatasetNotFoundError", "DownloadError"]


class DatasetNotFoundError(FileNotFoundError):
    """A data set's file is not where the loader looked; the message says where to put it."""


class ChecksumError(ValueError):
    """A file's SHA-1 differs from the one published for the data set."""


class DownloadError(OSError):
    """A download failed (network error, HTTP error, unreadable URL)."""
