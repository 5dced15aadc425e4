"""evaluate_learned: batched distances against a per-pair loop, the summary's bootstrap, bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rewardviz as rv
from rewardviz import _bootstrap
from rewardviz.reward_learning import _common
from rewardviz.reward_learning.evaluate import (
    DISTANCES,
    LearnedRewardEvaluation,
    evaluate_learned,
)

N_SEEDS, SIZES = 3, (10, 20)


@pytest.fixture(scope="module")
def problem():
    mdp, reward = rv.envs.random_mdp(5, 2, seed=3)
    noise = jax.random.normal(jax.random.key(7), (N_SEEDS, len(SIZES), *reward.shape))
    # Less noise at the larger size, and one learned reward exactly -R (regret 1, EPIC 1).
    learned = reward + noise * jnp.array([0.8, 0.2])[None, :, None, None, None]
    learned = learned.at[1, 0].set(-reward)
    return mdp, reward, learned


@pytest.fixture(scope="module")
def evaluation(problem):
    mdp, reward, learned = problem
    return evaluate_learned(mdp, reward, learned, sizes=SIZES, n_bootstrap=300, seed=5)


def loop_oracle(mdp, true_reward, learned) -> dict:
    """Every distance by rv.distances, one (seed, size) pair at a time."""
    table = {name: np.zeros(learned.shape[:2]) for name in DISTANCES}
    for seed in range(learned.shape[0]):
        for size in range(learned.shape[1]):
            one = learned[seed, size]
            truth = true_reward if true_reward.ndim == 3 else true_reward[seed]
            table["epic"][seed, size] = rv.distances.epic(mdp, truth, one)
            table["dard"][seed, size] = rv.distances.dard(mdp, truth, one)
            table["starc_val"][seed, size] = rv.distances.starc(mdp, truth, one, canonical="val")
            table["starc_minimal"][seed, size] = rv.distances.starc(
                mdp, truth, one, canonical="minimal"
            )
            table["regret"][seed, size] = rv.distances.regret(mdp, truth, one)
    return table


def test_matches_a_loop_over_seeds_and_sizes(problem, evaluation):
    mdp, reward, learned = problem
    expected = loop_oracle(mdp, reward, learned)
    for name in DISTANCES:
        got = evaluation.values(name)
        assert got.shape == (N_SEEDS, len(SIZES))
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, expected[name], rtol=1e-9, atol=1e-12, err_msg=name)
    # -R: the worst reward there is, by every measure.
    assert evaluation.epic[1, 0] == pytest.approx(1.0)
    assert evaluation.starc_val[1, 0] == pytest.approx(2.0)
    assert evaluation.regret[1, 0] == pytest.approx(1.0)
    assert evaluation.sizes == SIZES


def test_one_true_reward_per_seed(problem):
    mdp, reward, learned = problem
    truths = jnp.stack([reward, 2 * reward + 1, -reward])
    evaluation = evaluate_learned(mdp, truths, learned, sizes=SIZES)
    expected = loop_oracle(mdp, truths, learned)
    for name in DISTANCES:
        np.testing.assert_allclose(
            evaluation.values(name), expected[name], rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_takes_fitted_rewards(problem, evaluation):
    mdp, reward, learned = problem
    fitted = _common.FittedRewards(
        rewards=learned, losses=jnp.zeros((N_SEEDS, len(SIZES), 4)), sizes=SIZES, form="transition"
    )
    from_fit = evaluate_learned(mdp, reward, fitted, n_bootstrap=300, seed=5)
    for name in DISTANCES:
        np.testing.assert_array_equal(from_fit.values(name), evaluation.values(name))
    assert from_fit.sizes == SIZES


def test_to_frame_is_tidy(evaluation):
    frame = evaluation.to_frame()
    assert list(frame.columns) == ["seed", "size", "distance", "value"]
    assert len(frame) == len(DISTANCES) * N_SEEDS * len(SIZES)
    for name in DISTANCES:
        for seed in range(N_SEEDS):
            for index, size in enumerate(SIZES):
                row = frame[
                    (frame.distance == name) & (frame.seed == seed) & (frame["size"] == size)
                ]
                assert row["value"].item() == evaluation.values(name)[seed, index]


def test_summary_is_the_package_bootstrap(evaluation):
    summary = evaluation.summary()
    assert list(summary.columns) == ["distance", "size", "mean", "low", "high"]
    assert len(summary) == len(DISTANCES) * len(SIZES)
    for name in DISTANCES:
        for index, size in enumerate(SIZES):
            mean, low, high = _bootstrap.mean_interval(
                evaluation.values(name)[:, index], confidence=0.95, n_bootstrap=300, seed=5
            )
            row = summary[(summary.distance == name) & (summary["size"] == size)]
            assert row["mean"].item() == pytest.approx(float(mean), rel=1e-12)
            assert row["low"].item() == pytest.approx(float(low), rel=1e-12)
            assert row["high"].item() == pytest.approx(float(high), rel=1e-12)
            assert row["low"].item() <= row["mean"].item() <= row["high"].item()
    # Options given to summary override those stored.
    narrow = evaluation.summary(confidence=0.5, n_bootstrap=300, seed=5)
    assert (narrow["high"] - narrow["low"] <= summary["high"] - summary["low"] + 1e-12).all()


def test_one_seed_gives_a_point_interval(problem):
    mdp, reward, learned = problem
    summary = evaluate_learned(mdp, reward, learned[:1], sizes=SIZES).summary()
    np.testing.assert_allclose(summary["low"], summary["mean"])
    np.testing.assert_allclose(summary["high"], summary["mean"])


def test_is_a_pytree(evaluation):
    doubled = jax.tree_util.tree_map(lambda x: 2 * x, evaluation)
    assert isinstance(doubled, LearnedRewardEvaluation)
    np.testing.assert_allclose(doubled.epic, 2 * evaluation.epic)
    assert doubled.sizes == SIZES
    assert "3 seeds" in repr(evaluation)


def test_bad_input_is_refused_clearly(problem):
    mdp, reward, learned = problem
    with pytest.raises(ValueError, match=r"learned must have shape \[n_seeds, n_sizes"):
        evaluate_learned(mdp, reward, learned[0], sizes=SIZES)
    with pytest.raises(ValueError, match="learned"):
        evaluate_learned(mdp, reward, learned[..., :3], sizes=SIZES)
    with pytest.raises(ValueError, match=r"learned.*NaN"):
        evaluate_learned(mdp, reward, learned.at[0, 1, 2, 0, 1].set(jnp.nan), sizes=SIZES)
    with pytest.raises(ValueError, match="sizes must name"):
        evaluate_learned(mdp, reward, learned)
    with pytest.raises(ValueError, match="one entry per"):
        evaluate_learned(mdp, reward, learned, sizes=(10,))
    with pytest.raises(ValueError, match="true_reward must have shape"):
        evaluate_learned(mdp, jnp.stack([reward] * 2), learned, sizes=SIZES)
    with pytest.raises(ValueError, match=r"true_reward.*NaN"):
        evaluate_learned(mdp, reward.at[0, 0, 0].set(jnp.nan), learned, sizes=SIZES)
    with pytest.raises(ValueError, match="confidence"):
        evaluate_learned(mdp, reward, learned, sizes=SIZES, confidence=1.0)
    fitted = _common.FittedRewards(
        rewards=learned, losses=jnp.zeros((N_SEEDS, len(SIZES), 1)), sizes=SIZES, form="state"
    )
    with pytest.raises(ValueError, match="sizes is taken from the FittedRewards"):
        evaluate_learned(mdp, reward, fitted, sizes=SIZES)
    with pytest.raises(ValueError, match="distance must be one of"):
        evaluate_learned(mdp, reward, learned, sizes=SIZES).values("l2")
