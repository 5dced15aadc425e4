"""Requests that would exhaust memory or run for hours fail up front, with an estimate."""

import numpy as np
import pytest

import rewardviz as rv
from rewardviz import _bootstrap, _budget


def refused_fast(error, match, call):
    # Refused before any work: allocating what was asked would fail or take hours.
    with pytest.raises(error, match=match):
        call()


def test_huge_chain_is_refused_with_an_estimate():
    refused_fast(
        MemoryError,
        r"chain with 100,000 states .* GiB .*fewer states",
        lambda: rv.envs.chain(100_000),
    )


def test_huge_random_mdp_is_refused():
    refused_fast(
        MemoryError, r"random_mdp with 60,000 states", lambda: rv.envs.random_mdp(60_000, 4)
    )


def test_huge_reward_batch_is_refused():
    mdp, _ = rv.envs.chain(50)
    refused_fast(
        MemoryError, r"random_reward\(batch_shape=\(10000000,\)\)",
        lambda: rv.envs.random_reward(mdp, seed=0, batch_shape=(10**7,)),
    )  # fmt: skip


def test_a_billion_bootstrap_resamples_are_refused():
    refused_fast(
        MemoryError, r"n_bootstrap = 1,000,000,000 resamples", lambda: _bootstrap.resample_indices(0, 40, 10**9)
    )  # fmt: skip
    samples = np.arange(12.0).reshape(3, 4)
    refused_fast(
        MemoryError, "n_bootstrap", lambda: _bootstrap.mean_interval(samples, n_bootstrap=10**12)
    )


def test_hours_of_learning_are_refused_with_an_estimate():
    mdp, reward = rv.envs.chain(5, gamma=0.9)
    refused_fast(
        ValueError, r"1e\+12 learner steps: at least 2.8 hours",
        lambda: rv.learning.compare_rewards(mdp, reward, {"r": reward}, n_seeds=10**6, steps=10**6),
    )  # fmt: skip


def test_ordinary_requests_pass():
    mdp, _ = rv.envs.chain(1000)  # 1000 states: 32 MB of dense arrays
    assert mdp.n_states == 1000
    assert _bootstrap.resample_indices(0, 40, 10_000).shape == (10_000, 40)
    _budget.check_steps("a default comparison", 32 * 2 * 20_000, "")


def test_limits_follow_this_machine(monkeypatch):
    monkeypatch.setattr(_budget, "memory_limit", lambda: 2**20)  # a 2 MiB machine
    with pytest.raises(MemoryError, match="more than half this machine's memory"):
        rv.envs.chain(1000)


def test_a_landscape_too_fine_for_memory_is_refused():
    def reward(state):
        return state["x"] ** 2 + state["y"]

    refused_fast(
        MemoryError,
        r"evaluate\(resolution=\(100,000, 100,000\)\) .* coarser grid",
        lambda: rv.landscape.evaluate(
            reward, {"x": 0.0, "y": 0.0}, x="x", y="y",
            bounds={"x": (0, 1), "y": (0, 1)}, resolution=100_000,
        ),
    )  # fmt: skip
    small = rv.landscape.evaluate(
        reward, {"x": 0.0, "y": 0.0}, x="x", y="y", bounds={"x": (0, 1), "y": (0, 1)}, resolution=8
    )
    assert small.mean.shape == (8, 8)
