"""DARD refuses batches that would not fit, saying how much they need; pairwise chunks instead."""

import numpy as np
import pytest

import rewardviz as rv
from rewardviz import _budget, distances


def test_dard_refuses_a_batch_beyond_the_memory_limit_with_the_estimate(monkeypatch):
    mdp, _ = rv.envs.random_mdp(8, 2, seed=0)
    rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=(10,))
    estimate = distances.dard_memory_estimate(mdp, (10,), rewards.dtype)
    assert estimate == 4 * 10 * 2 * 8**2 * rewards.dtype.itemsize
    monkeypatch.setattr(_budget, "memory_limit", lambda: estimate - 1)
    with pytest.raises(MemoryError, match=r"needs about .* GiB.*pairwise\(mdp, rewards, 'dard'\)"):
        rv.distances.canonicalize(mdp, rewards, method="dard")
    with pytest.raises(MemoryError, match="dard"):
        rv.distances.dard(mdp, rewards, rewards[::-1])
    # pairwise works in chunks and is not refused; it matches the one-pair function.
    matrix = np.asarray(rv.distances.pairwise(mdp, rewards, method="dard", chunk_size=3))
    monkeypatch.undo()
    one = float(rv.distances.dard(mdp, rewards[0], rewards[4]))
    assert matrix[0, 4] == pytest.approx(one, abs=1e-9)


def test_the_limit_is_half_the_physical_memory():
    assert distances.memory_limit() > 2**28
