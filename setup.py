"""Packages found, not listed: every package under ``xlstm_ts/``, and those under the
top-level ``kernels/`` and ``datasets/``, which install as ``xlstm_ts.kernels`` and
``xlstm_ts.datasets`` (``[tool.setuptools.package-dir]`` in pyproject.toml)."""

from setuptools import find_packages, setup

MAPPED = ("kernels", "datasets")

packages = find_packages(include=["xlstm_ts", "xlstm_ts.*"])
for top in MAPPED:
    packages += [f"xlstm_ts.{name}" for name in find_packages(include=[top, f"{top}.*"])]

setup(packages=packages)
