"""Loaders for public benchmark data sets, their canonical splits, and synthetic generators."""
