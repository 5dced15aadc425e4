"""The STARC interpolation study against loop oracles, its invariances and its inputs.

Every oracle here is written with explicit Python loops in float64 and shares no code
with ``rewardviz``; policy values come from the loop solvers of ``tests/oracles.py``.
"""

from __future__ import annotations

import itertools
import re

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import rewardviz as rv
from rewardviz import experiments

SMALL = dict(
    n_envs=3, n_rewards=2, steps=4, n_states=4, n_actions=2, gamma=0.9, seed=3, n_successors=2
)
ORDERS = {"l1": 1, "l2": 2, "linf": np.inf}


@pytest.fixture(scope="module")
def study():
    return experiments.interpolation_study(**SMALL, progress=False)


# ---------------------------------------------------------------------------
# Loop oracles.


def loop_expected(transitions, reward) -> np.ndarray:
    n_states, n_actions, _ = transitions.shape
    out = np.zeros((n_states, n_actions))
    for s, a, x in itertools.product(range(n_states), range(n_actions), range(n_states)):
        out[s, a] += transitions[s, a, x] * reward[s, a, x]
    return out


def loop_epic(transitions, gamma, reward) -> np.ndarray:
    """``R + E[γR(s', A, S') − R(s, A, S') − γR(S, A, S')]``, everything uniform."""
    n_states, n_actions, _ = transitions.shape
    p = 1 / (n_actions * n_states * n_states)
    out = np.array(reward, dtype=np.float64)
    for s, x in itertools.product(range(n_states), range(n_states)):
        correction = 0.0
        for a, y, z in itertools.product(range(n_actions), range(n_states), range(n_states)):
            correction += p * (gamma * reward[x, a, z] - reward[s, a, z] - gamma * reward[y, a, z])
        out[s, :, x] += correction
    return out


def loop_dard(transitions, gamma, reward) -> np.ndarray:
    """``R + E[γR(s', A, S'') − R(s, A, S') − γR(S', A, S'')]``, ``S' ~ T(s, A)``, ``S'' ~ T(s', A)``."""
    n_states, n_actions, _ = transitions.shape
    out = np.array(reward, dtype=np.float64)
    for s, x in itertools.product(range(n_states), range(n_states)):
        correction = 0.0
        for a in range(n_actions):
            for y in range(n_states):
                correction += gamma * transitions[x, a, y] * reward[x, a, y] / n_actions
                correction -= transitions[s, a, y] * reward[s, a, y] / n_actions
                for z in range(n_states):
                    p = transitions[s, a, y] * transitions[x, a, z] / n_actions
                    correction -= p * gamma * reward[y, a, z]
        out[s, :, x] += correction
    return out


def loop_val(transitions, gamma, reward) -> np.ndarray:
    """``E_{S'~T(s,a)}[R(s, a, S') − V(s) + γV(S')]``, ``V`` of the uniform policy."""
    n_states, n_actions, _ = transitions.shape
    uniform = np.full((n_states, n_actions), 1 / n_actions)
    values = oracles.policy_evaluation(transitions, reward, gamma, uniform)
    out = np.zeros_like(reward)
    for s, a in itertools.product(range(n_states), range(n_actions)):
        out[s, a, :] = sum(
            transitions[s, a, x] * (reward[s, a, x] - values[s] + gamma * values[x])
            for x in range(n_states)
        )
    return out


def loop_minimal(transitions, gamma, reward) -> np.ndarray:
    """Orthogonal projection off shaping and S'-redistribution directions (built by loops)."""
    n_states, n_actions, _ = transitions.shape
    size = n_states * n_actions * n_states
    columns = []
    for k in range(n_states):  # shaping γe_{s'} − e_s by potential Φ = e_k
        column = np.zeros((n_states, n_actions, n_states))
        for s, a, x in itertools.product(range(n_states), range(n_actions), range(n_states)):
            column[s, a, x] = gamma * (x == k) - (s == k)
        columns.append(column.reshape(size))
    for s, a in itertools.product(range(n_states), range(n_actions)):
        for x, y in itertools.product(range(n_states), range(n_states)):
            # T(y)e_x − T(x)e_y has expectation 0 under T(·|s, a); spans redistribution.
            column = np.zeros((n_states, n_actions, n_states))
            column[s, a, x] += transitions[s, a, y]
            column[s, a, y] -= transitions[s, a, x]
            columns.append(column.reshape(size))
    basis = np.column_stack(columns)
    flat = reward.reshape(size)
    return (flat - basis @ np.linalg.lstsq(basis, flat, rcond=None)[0]).reshape(reward.shape)


def loop_norm(x, order) -> float:
    values = [abs(v) for v in np.asarray(x, dtype=np.float64).ravel()]
    if order == 1:
        return sum(values)
    if order == 2:
        return sum(v * v for v in values) ** 0.5
    return max(values)


def loop_pearson(x, y) -> float:
    x, y = np.ravel(x), np.ravel(y)
    mean_x, mean_y = sum(x) / len(x), sum(y) / len(y)
    cov = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y, strict=True))
    var_x = sum((a - mean_x) ** 2 for a in x)
    var_y = sum((b - mean_y) ** 2 for b in y)
    return float(np.sqrt(max(1 - cov / np.sqrt(var_x * var_y), 0) / 2))


def loop_regret(transitions, gamma, true_reward, proxy_reward) -> float:
    """Brute force over every deterministic policy; proxy-optimal policy judged on the truth."""
    n_states, n_actions, _ = transitions.shape
    initial = np.full(n_states, 1 / n_states)
    true_returns, proxy_returns = {}, {}
    for actions in itertools.product(range(n_actions), repeat=n_states):
        policy = np.eye(n_actions)[list(actions)]
        true_returns[actions] = oracles.policy_return(
            transitions, true_reward, gamma, policy, initial
        )
        proxy_returns[actions] = oracles.policy_return(
            transitions, proxy_reward, gamma, policy, initial
        )
    chosen = max(proxy_returns, key=proxy_returns.get)
    best, worst = max(true_returns.values()), min(true_returns.values())
    return (best - true_returns[chosen]) / (best - worst)


LOOP_CANONICALS = {
    "none": lambda transitions, gamma, reward: np.array(reward, dtype=np.float64),
    "epic": loop_epic,
    "dard": loop_dard,
    "val": loop_val,
    "minimal": loop_minimal,
}


def oracle_row(study, env, pair, t) -> dict:
    transitions = np.asarray(study.transitions[env], dtype=np.float64)
    first, second = np.asarray(study.rewards[env, pair], dtype=np.float64)
    point = (1 - t) * first + t * second
    row = {}
    for canonical, loop in LOOP_CANONICALS.items():
        a, b = loop(transitions, study.gamma, first), loop(transitions, study.gamma, point)
        for (n_name, norm), (m_name, metric) in itertools.product(ORDERS.items(), repeat=2):
            units = a / loop_norm(a, norm) - b / loop_norm(b, norm)
            row[f"{canonical}-{n_name}-{m_name}"] = loop_norm(units, metric)
        if canonical == "epic":
            row["epic-pearson"] = loop_pearson(a, b)
    row["regret_forward"] = loop_regret(transitions, study.gamma, first, point)
    row["regret_backward"] = loop_regret(transitions, study.gamma, point, first)
    return row


# ---------------------------------------------------------------------------
# Values against the oracles.


def test_random_points_match_loop_oracles(study):
    frame = study.frame
    picks = np.random.default_rng(0).choice(np.flatnonzero(frame["step"] > 0), 5, replace=False)
    for index in picks:
        row = frame.iloc[index]
        expected = oracle_row(study, int(row["env"]), int(row["pair"]), float(row["t"]))
        assert set(expected) == set(study.distances) | {"regret_forward", "regret_backward"}
        for name, value in expected.items():
            np.testing.assert_allclose(row[name], value, atol=1e-9, err_msg=f"{name} row {index}")


@pytest.mark.parametrize("x64", [False, True])
def test_dtype_chooses_the_precision_whatever_jax_is_set_to(x64):
    """float64 on request even without x64 (regrets then match the float64 oracle);
    float32 on request even with x64."""
    with jax.enable_x64(x64):
        exact = experiments.interpolation_study(**SMALL, progress=False, dtype="float64")
        fast = experiments.interpolation_study(**SMALL, progress=False, dtype=np.float32)
        default = experiments.interpolation_study(**SMALL, progress=False)
    assert exact.rewards.dtype == np.float64 and exact.transitions.dtype == np.float64
    assert exact.frame["regret_forward"].dtype == np.float64
    assert fast.rewards.dtype == np.float32 and fast.frame["val-l2-l2"].dtype == np.float32
    assert default.rewards.dtype == (np.float64 if x64 else np.float32)
    frame = exact.frame
    for index in np.flatnonzero(frame["step"] > 0)[::7]:
        row = frame.iloc[index]
        expected = oracle_row(exact, int(row["env"]), int(row["pair"]), float(row["t"]))
        for name in ("regret_forward", "regret_backward", "val-l2-l2", "epic-pearson"):
            np.testing.assert_allclose(row[name], expected[name], atol=1e-9, err_msg=name)
    # The float32 study draws the same environments to float32 rounding.
    np.testing.assert_allclose(fast.rewards, exact.rewards, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "int32", "double precision"])
def test_dtype_must_be_a_float_the_study_supports(dtype):
    with pytest.raises(ValueError, match="dtype must be"):
        experiments.interpolation_study(**SMALL, progress=False, dtype=dtype)


def test_frame_layout(study):
    frame = study.frame
    n_envs, n_rewards, steps = SMALL["n_envs"], SMALL["n_rewards"], SMALL["steps"]
    assert len(study.distances) == 46 and "val-l2-l2" in study.distances
    assert list(frame.columns) == [
        "env", "pair", "step", "t", *study.distances, "regret_forward", "regret_backward"
    ]  # fmt: skip
    assert len(frame) == n_envs * n_rewards * steps
    assert study.transitions.shape == (n_envs, 4, 2, 4)
    assert study.rewards.shape == (n_envs, n_rewards, 2, 4, 2, 4)
    np.testing.assert_allclose(frame["t"].to_numpy()[:steps], np.linspace(0, 1, steps))
    np.testing.assert_array_equal(
        frame[["env", "pair", "step"]].to_numpy()[steps + 1], [0, 1, 1]
    )  # env-major, then pair, then step
    assert ((frame[["regret_forward", "regret_backward"]] >= 0).all()).all()
    assert ((frame[["regret_forward", "regret_backward"]] <= 1).all()).all()
    assert (study.transitions > 0).sum(-1).max() == SMALL["n_successors"]  # sparse kernels


def test_distances_and_regrets_vanish_at_t_zero(study):
    start = study.frame[study.frame["step"] == 0]
    assert np.abs(start[list(study.distances)].to_numpy()).max() < 1e-12
    # R(0) is R1: its optimal policy loses nothing. V* comes from policy iteration and
    # the achieved value from a separate solve, so zero is met to rounding (~2e-16 seen).
    assert np.abs(start[["regret_forward", "regret_backward"]].to_numpy()).max() < 1e-12
    later = study.frame[study.frame["step"] > 0]
    assert (later[list(study.distances)].to_numpy() > 1e-6).all()  # the test can fail


def stacked(study):
    leaves, treedef = jax.tree_util.tree_flatten(study.mdp(0))
    n_envs = len(study.transitions)
    return jax.tree_util.tree_unflatten(
        treedef,
        [jnp.asarray(study.transitions)]
        + [jnp.broadcast_to(leaf, (n_envs, *leaf.shape)) for leaf in leaves[1:]],
    )


def kernel_outputs(study, rewards):
    """Distances ``[E, K, P, T]`` and regrets ``[E, 2, P, T]`` of given reward pairs."""
    mdps = stacked(study)
    ts = jnp.linspace(0, 1, SMALL["steps"])
    spec = (experiments.STUDY_CANONICALS, (1, 2, np.inf), (1, 2, np.inf))
    rewards = jnp.asarray(rewards)
    factors = experiments._factorise(np.asarray(study.transitions), study.gamma)
    distances = experiments._study_chunk(mdps, rewards, ts, spec, factors)
    return np.asarray(distances), np.asarray(experiments._solve_regrets(mdps, rewards, ts))


def test_kernels_reproduce_the_frame(study):
    distances, regrets = kernel_outputs(study, study.rewards)
    for index, name in enumerate(study.distances):
        np.testing.assert_allclose(distances[:, index].ravel(), study.frame[name], atol=1e-12)
    np.testing.assert_allclose(regrets[:, 0].ravel(), study.frame["regret_forward"], atol=1e-12)


def redistribution(transitions, rng) -> np.ndarray:
    """``[E, S, A, S']`` noise with zero expectation under each ``T(·|s, a)``, by loops."""
    noise = rng.normal(size=transitions.shape)
    for index in itertools.product(*(range(n) for n in transitions.shape[:-1])):
        noise[index] -= sum(p * v for p, v in zip(transitions[index], noise[index], strict=True))
    return noise


def test_redistributing_the_second_reward_changes_only_what_should_change(study):
    rewards = np.array(study.rewards)
    noise = redistribution(np.asarray(study.transitions), np.random.default_rng(1))
    rewards[:, :, 1] += 3 * noise[:, None]
    base_distances, base_regrets = kernel_outputs(study, study.rewards)
    distances, regrets = kernel_outputs(study, rewards)
    names = list(study.distances)
    for canonical in ("val", "minimal"):
        for index in [i for i, name in enumerate(names) if name.startswith(canonical + "-")]:
            np.testing.assert_allclose(distances[:, index], base_distances[:, index], atol=1e-10)
    np.testing.assert_allclose(regrets, base_regrets, atol=1e-10)  # regret sees only E_T R
    for canonical in ("none", "epic", "dard"):  # not invariant: they must move
        index = names.index(f"{canonical}-l2-l2")
        assert np.abs(distances[:, index] - base_distances[:, index]).max() > 1e-3


@settings(max_examples=8)
@given(
    potential=arrays(np.float64, (SMALL["n_envs"], 4), elements=st.floats(-5, 5)),
    scale=st.floats(0.1, 10),
)
def test_shaping_and_scaling_the_pair_leave_shaping_invariant_distances(study, potential, scale):
    gamma = study.gamma
    shaping = gamma * potential[:, None, None, :] - potential[:, :, None, None]
    rewards = scale * (np.asarray(study.rewards) + shaping[:, None, None])
    base_distances, base_regrets = kernel_outputs(study, study.rewards)
    distances, regrets = kernel_outputs(study, rewards)
    names = list(study.distances)
    kept = [i for i, name in enumerate(names) if not name.startswith("none-")]
    np.testing.assert_allclose(distances[:, kept], base_distances[:, kept], atol=1e-8)
    np.testing.assert_allclose(regrets, base_regrets, atol=1e-8)


# ---------------------------------------------------------------------------
# Seeds.


def test_no_two_environments_are_identical():
    study = experiments.interpolation_study(
        n_envs=16,
        n_rewards=1,
        steps=2,
        n_states=4,
        n_actions=2,
        n_successors=1,
        seed=0,
        progress=False,
    )
    for i, j in itertools.combinations(range(16), 2):
        assert not np.array_equal(study.transitions[i], study.transitions[j]), (i, j)
        assert not np.array_equal(study.rewards[i], study.rewards[j]), (i, j)


def test_reproducible_from_seed_and_independent_of_chunking(study):
    again = experiments.interpolation_study(**SMALL, chunk_size=1, progress=False)
    pd.testing.assert_frame_equal(again.frame, study.frame, atol=1e-13, rtol=0)
    np.testing.assert_array_equal(again.rewards, study.rewards)
    more = experiments.interpolation_study(**{**SMALL, "n_envs": 4}, progress=False)
    np.testing.assert_array_equal(more.transitions[:3], study.transitions)  # env e is fixed
    other = experiments.interpolation_study(**{**SMALL, "seed": 4}, progress=False)
    assert not np.array_equal(other.transitions, study.transitions)


# ---------------------------------------------------------------------------
# Summary.


def test_summary_correlation_is_spearman_and_interval_brackets_it(study):
    table = study.summary(n_bootstrap=64, seed=1)
    assert list(table.columns) == ["spearman", "low", "high"]
    assert set(table.index) == set(study.distances)
    for name in study.distances:
        expected = scipy.stats.spearmanr(study.frame[name], study.frame["regret_forward"])[0]
        assert table.loc[name, "spearman"] == pytest.approx(expected, abs=1e-12)
    assert (table["low"] <= table["high"]).all()
    backward = study.summary("regret_backward", n_bootstrap=8)
    name = study.distances[0]
    expected = scipy.stats.spearmanr(study.frame[name], study.frame["regret_backward"])[0]
    assert backward.loc[name, "spearman"] == pytest.approx(expected, abs=1e-12)


def test_weighted_ranks_equal_ranks_of_the_resampled_data():
    rng = np.random.default_rng(2)
    values = rng.integers(0, 5, 30).astype(float)  # many ties
    other = rng.normal(size=30)
    weights = rng.integers(0, 4, (6, 30)).astype(float)
    ranks = experiments._weighted_ranks(values, weights)
    correlations = experiments._weighted_pearson(
        ranks, experiments._weighted_ranks(other, weights), weights
    )
    for b in range(6):
        repeated = np.repeat(np.arange(30), weights[b].astype(int))
        expected_ranks = scipy.stats.rankdata(values[repeated])
        got = np.repeat(ranks[b], weights[b].astype(int))
        np.testing.assert_allclose(got, expected_ranks)
        expected = scipy.stats.spearmanr(values[repeated], other[repeated])[0]
        assert correlations[b] == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_envs": 0}, "n_envs must be an integer >= 1"),
        ({"steps": 1}, "steps must be an integer >= 2"),
        ({"gamma": 1.0}, "gamma must lie in"),
        ({"n_successors": 9}, "n_successors must lie in 1..n_states"),
        ({"canonicals": ("val", "starc")}, "canonicals must be a non-empty selection"),
        ({"norms": ()}, "norms must be a non-empty selection"),
        ({"metrics": ("l2", "l2")}, "metrics lists an entry twice"),
        ({"concentration": 0.0}, "concentration must be positive"),
        ({"chunk_size": 0}, "chunk_size must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        experiments.interpolation_study(**{**SMALL, **options}, progress=False)


def test_bad_seed_and_summary_arguments(study):
    with pytest.raises(TypeError, match="seed must be an integer"):
        experiments.interpolation_study(**{**SMALL, "seed": 1.5}, progress=False)
    with pytest.raises(ValueError, match="regret must be"):
        study.summary("regret")
    with pytest.raises(TypeError, match="n_rewards must be an integer"):
        experiments.interpolation_study(**{**SMALL, "n_rewards": 2.5}, progress=False)
    with pytest.raises(ValueError, match="confidence must lie"):
        study.summary(confidence=1.0)


def test_selection_names_columns_and_is_exported():
    assert rv.experiments.interpolation_study is experiments.interpolation_study
    names = experiments.distance_names(
        canonicals=("epic", "val"), norms=("l2",), metrics=("l1", "linf")
    )
    assert names == ("epic-l2-l1", "epic-l2-linf", "epic-pearson", "val-l2-l1", "val-l2-linf")


# ---------------------------------------------------------------------------
# Old spellings, kept for one release; seeds as keys.


def test_positional_options_warn_with_the_keywords_and_give_the_same_study(study):
    order = ("n_envs", "n_rewards", "steps", "n_states", "n_actions", "gamma", "seed")
    with pytest.warns(DeprecationWarning, match=re.escape("n_envs=..., n_rewards=...")):
        old = experiments.interpolation_study(
            *(SMALL[name] for name in order), n_successors=2, progress=False
        )
    pd.testing.assert_frame_equal(old.frame, study.frame)
    with pytest.raises(TypeError, match="multiple values for argument 'n_envs'"):
        experiments.interpolation_study(3, n_envs=3, progress=False)


def test_summary_level_is_now_confidence(study):
    with pytest.warns(DeprecationWarning, match="confidence="):
        old = study.summary(n_bootstrap=16, level=0.9, seed=2)
    pd.testing.assert_frame_equal(old, study.summary(n_bootstrap=16, confidence=0.9, seed=2))


def test_a_key_seed_is_the_integer_seeds_key(study):
    keyed = experiments.interpolation_study(
        **{**SMALL, "seed": jax.random.key(SMALL["seed"])}, progress=False
    )
    pd.testing.assert_frame_equal(keyed.frame, study.frame)
    assert study.to_frame() is study.frame
