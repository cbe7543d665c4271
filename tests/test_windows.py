"""The window primitive: items, blocks, views and the last windows agree."""

import numpy as np
import pytest
import torch

from xlstm_ts.data import Windows, final_windows, train_val_windows


def _series():
    return [np.arange(30.0), 100 + np.arange(20.0)]


def test_items_blocks_and_take_are_the_same_windows():
    cov = [np.stack([np.arange(30.0), -np.arange(30.0)], 1), np.zeros((20, 2))]
    w = Windows(_series(), [(2, 10), (0, 5)], 6, 3, covariates=cov, n_future=1)
    assert len(w) == 9 + 6 and list(w.counts) == [9, 6]
    context, covariates, future, target = w[10]  # series 1, start 1
    torch.testing.assert_close(context, torch.arange(101.0, 107.0))
    torch.testing.assert_close(target, torch.arange(107.0, 110.0))
    assert covariates.shape == (6, 2) and future.shape == (3, 1)
    context, covariates, future, _ = w[0]  # series 0, start 2
    torch.testing.assert_close(covariates[:, 0], torch.arange(2.0, 8.0))
    torch.testing.assert_close(future[:, 0], -torch.arange(8.0, 11.0))  # the last covariate
    X, Y = w.take(np.arange(len(w)))
    items = [w[j] for j in range(len(w))]
    np.testing.assert_array_equal(X, np.stack([i[0].numpy() for i in items]))
    np.testing.assert_array_equal(Y, np.stack([i[3].numpy() for i in items]))
    blocks = list(w.iter_blocks(4))
    np.testing.assert_array_equal(np.concatenate([b[2] for b in blocks]), X)
    np.testing.assert_array_equal(blocks[0][1], [8, 9, 10, 11])  # origins of series 0
    assert w.origins(1)[-1] == 5 + 6


def test_windows_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="do not fit series 1 of length 20"):
        Windows(_series(), [(0, 1), (0, 12)], 6, 3)


def test_train_and_validation_windows_split_the_targets():
    train, val = train_val_windows(_series(), ["a", "b"], 6, 3, [5, 5])
    for k, n in enumerate((30, 20)):
        assert train.origins(k)[-1] + 3 <= n - 5 < val.origins(k)[0] + 1
        assert val.origins(k)[-1] + 3 == n
    with pytest.raises(ValueError, match=r"series 'b' has 20 steps; .* = 24 are needed"):
        train_val_windows(_series(), ["a", "b"], 16, 3, [5, 5])


def test_final_windows_end_at_the_series_end():
    contexts, _, _, targets = final_windows(_series(), ["a", "b"], 4).arrays()
    np.testing.assert_array_equal(contexts, [[26, 27, 28, 29], [116, 117, 118, 119]])
    assert targets.shape == (2, 0)
    contexts, _, _, targets = final_windows(_series(), ["a", "b"], 4, horizon=2).arrays()
    np.testing.assert_array_equal(targets, [[28, 29], [118, 119]])
    with pytest.raises(ValueError, match="series 'b' has 20 steps; forecasting needs"):
        final_windows(_series(), ["a", "b"], 25)


def test_validation_reads_a_quarter_of_windows_per_epoch_evenly_spaced():
    from xlstm_ts.training import WindowDataModule

    series = [np.arange(60.0), np.arange(100.0, 140.0)]
    val = Windows(series, [(0, 55), (0, 35)], 4, 1)  # 56 + 36 windows
    seen = []
    for cap in (40, 40, None, 1000):  # validation reads a quarter of the cap
        data = WindowDataModule(val, val, batch_size=4, windows_per_epoch=cap, seed=0)
        targets = torch.cat([batch[-1].flatten() for batch in data.val_dataloader()])
        seen.append(targets.tolist())
    assert len(seen[0]) == 10 and seen[0] == seen[1]  # the same windows every epoch
    assert seen[2] == seen[3] and len(seen[2]) == 92  # all of them under the cap
    assert seen[0][0] == 4.0 and seen[0][-1] == 139.0  # spread from the first to the last
    assert sum(t >= 100 for t in seen[0]) == 4  # both series, in proportion (36 of 92)
