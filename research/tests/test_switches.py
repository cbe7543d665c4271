"""``research/switches.py``: the settled switches, back for the studies."""

from __future__ import annotations

import numpy as np
import pytest
import switches

from xlstm_ts import training
from xlstm_ts.data import Panel
from xlstm_ts.estimators import candidates

TINY = dict(
    horizon=4, context_length=16, d_model=8, num_blocks=1, num_heads=2, patch_len=4,
    max_epochs=1, batch_size=16, random_state=0, loss="mse", quantiles=(0.5,),
    trainer_kwargs={"enable_progress_bar": False},
)  # fmt: skip


def _series() -> Panel:
    t = np.arange(240, dtype=float)
    rng = np.random.default_rng(0)
    return Panel.from_arrays(np.sin(t / 6)[None] + 0.1 * rng.standard_normal((1, len(t))))


def test_the_switches_are_parameters_and_reach_the_network():
    model = switches.ResearchForecaster(head="flatten", encoder_context=8, input_noise=0.1)
    params = model.get_params()
    assert switches.SWITCHES.keys() <= params.keys()  # every switch is a parameter
    assert params["head"] == "flatten" and params["horizon"] == 24  # and the estimator's
    config = model._network_config([0.5], 1)
    assert (config["head"], config["encoder_context"], config["input_noise"]) == (
        "flatten", 8, 0.1,
    )  # fmt: skip
    with pytest.raises(ValueError, match="n_models"):
        switches.ResearchForecaster(n_models=0, **TINY).fit(_series())


def test_a_fit_uses_the_switches_and_leaves_the_library_as_it_was(monkeypatch):
    calls, library = [], training.decide

    def decide(*args, **kwargs):
        calls.append(kwargs)
        return library(*args, **kwargs)

    monkeypatch.setattr(training, "decide", decide)
    ensemble = candidates.SCRATCH_ENSEMBLE
    one = switches.ResearchForecaster(linear_path="none", n_models=1, head="flatten", **TINY)
    one.fit(_series())
    net = switches.single_network(one.model_)  # a seed ensemble of one network
    assert net.head_kind == "flatten" and len(one.n_epochs_) == 1
    # without the check the ridge start's blend weight is kept whatever its halves say
    ridge = switches.ResearchForecaster(linear_path="ridge", blend_check=False, **TINY)
    ridge.fit(_series())
    assert ridge.decision_["blend"]["accepted"] is True
    assert "check" not in calls[0] and calls[1]["check"] is False  # the default, then not
    assert training.decide is decide and candidates.SCRATCH_ENSEMBLE == ensemble
