"""``research/linear_alternatives.py``: other linear forecasters, on validation."""

from __future__ import annotations

import linear_alternatives as alt
import numpy as np
import pytest


def test_the_ridge_candidate_is_the_baseline_and_weights_scale_rows():
    from xlstm_ts.ltsf import prepare
    from xlstm_ts.ltsf.models import RidgeModel
    from xlstm_ts.ltsf.run import evaluate

    data = prepare("sunspots")
    found = alt.candidates(data, 6)
    inner = alt.shifted(data)
    baseline = RidgeModel()
    baseline.fit(inner, 6, 0)
    forecast, target = found["ridge"][1]
    mse = float(np.mean((forecast - target) ** 2))
    assert mse == pytest.approx(evaluate(baseline, inner.windows("test", 6))["mse"], rel=1e-9)
    assert {"lookback_L/2", "mean_L_L/2", "recency_0.25"} <= found.keys()

    train = inner.windows("train", 6)
    plain, doubled = alt.sums(train, 22), alt.sums(train, 22, lambda o: np.full(len(o), 2.0))
    np.testing.assert_allclose(doubled.gram, 2 * plain.gram)
    np.testing.assert_allclose(doubled.cross, 2 * plain.cross)
    assert "| 6 |" in alt.table(data, [6])
