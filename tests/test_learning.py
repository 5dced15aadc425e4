"""Batched tabular learners (:mod:`rewardviz.learning`) against a slow loop learner written here.

The loop learner replays a run step by step in plain Python floats: it draws the same
``jax.random`` uniform numbers as documented in ``rewardviz.learning`` (split the key for
3 start uniforms, then split it again for each stretch between evaluations and draw
``[stretch length, 8]`` uniforms) and applies the update rules of Sutton & Barto (2018, §6.4–6.6) written out with loops.
Returns of greedy policies come from the loop oracles of ``tests/oracles.py``;
summaries (AUC, steps to threshold, final regret, bootstrap intervals) are recomputed
here with loops.
"""

import jax
import numpy as np
import oracles
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardviz as rv
from rewardviz import learning, solve

LEARNERS = learning.LEARNERS
TD_LEARNERS = learning.TD_LEARNERS
UNIFORMS_PER_STEP = 8


# ---------------------------------------------------------------------------
# The loop learner.


def loop_sample(row, u):
    total, last = 0.0, max(k for k, p in enumerate(row) if p > 0)
    for k, p in enumerate(row):
        total += p
        if total > u:
            return min(k, last)
    return last


def loop_epsilon_greedy(q_row, epsilon, explore, pick):
    n = len(q_row)
    if explore < epsilon:
        return min(int(np.floor(pick * n)), n - 1)
    best = max(q_row)
    ties = [a for a in range(n) if q_row[a] == best]
    return ties[min(int(np.floor(pick * len(ties))), len(ties) - 1)]


def loop_expected(q_row, epsilon):
    n, best = len(q_row), max(q_row)
    ties = [a for a in range(n) if q_row[a] == best]
    total = 0.0
    for a in range(n):
        probability = epsilon / n + ((1 - epsilon) / len(ties) if a in ties else 0.0)
        total += probability * q_row[a]
    return total


def loop_learner(mdp, reward, key, *, learner, steps, every, alpha, epsilon, max_length):
    """Q snapshots at steps 0, every, 2·every, ..., steps and visit counts, by loops."""
    transitions = np.asarray(mdp.transitions, float).tolist()
    initial = np.asarray(mdp.initial, float).tolist()
    terminal = [bool(t) for t in np.asarray(mdp.terminal)]
    r = np.asarray(reward, float).tolist()
    gamma = float(mdp.gamma)
    n_states, n_actions = mdp.n_states, mdp.n_actions
    q = [[0.0] * n_actions for _ in range(n_states)]
    visits = [0] * n_states

    key, draw = jax.random.split(key)
    u = np.asarray(jax.random.uniform(draw, (3,), np.float64)).tolist()
    state = loop_sample(initial, u[0])
    action = loop_epsilon_greedy(q[state], epsilon, u[1], u[2])
    age = 0
    snapshots, snapshot_steps = [np.array(q)], [0]
    stretch = []  # the uniforms of the current stretch between evaluations, [k, 8]
    for t in range(1, steps + 1):
        if not stretch:
            key, draw = jax.random.split(key)
            length = min(every, steps - (t - 1))
            shape = (length, UNIFORMS_PER_STEP)
            stretch = np.asarray(jax.random.uniform(draw, shape, np.float64)).tolist()
        u = stretch.pop(0)
        if learner != "sarsa":
            action = loop_epsilon_greedy(q[state], epsilon, u[0], u[1])
        successor = loop_sample(transitions[state][action], u[2])
        done = terminal[successor]
        if learner == "q_learning":
            bootstrap = max(q[successor])
        elif learner == "sarsa":
            next_action = loop_epsilon_greedy(q[successor], epsilon, u[3], u[4])
            bootstrap = q[successor][next_action]
        else:
            bootstrap = loop_expected(q[successor], epsilon)
        target = r[state][action][successor] + (0.0 if done else gamma * bootstrap)
        q[state][action] += alpha * (target - q[state][action])
        visits[state] += 1
        age += 1
        if done or age >= max_length:
            state = loop_sample(initial, u[5])
            if learner == "sarsa":
                action = loop_epsilon_greedy(q[state], epsilon, u[6], u[7])
            age = 0
        else:
            state = successor
            if learner == "sarsa":
                action = next_action
        if t % every == 0 or t == steps:
            snapshots.append(np.array(q))
            snapshot_steps.append(t)
    return np.array(snapshot_steps), np.stack(snapshots), np.array(visits)


def loop_greedy_policy(q):
    policy = np.zeros_like(q)
    for s in range(q.shape[0]):
        ties = [a for a in range(q.shape[1]) if q[s, a] == q[s].max()]
        for a in ties:
            policy[s, a] = 1.0 / len(ties)
    return policy


def oracle_return(mdp, reward, policy):
    return oracles.policy_return(
        mdp.transitions, reward, float(mdp.gamma), policy, mdp.initial, mdp.terminal
    )


# ---------------------------------------------------------------------------
# Fixtures.


@pytest.fixture(scope="module")
def slippery():
    """A stochastic gridworld with lava: every branch of the step is exercised."""
    return rv.envs.gridworld(["S..#", ".#.G", "...L"], gamma=0.9, slip=0.2, step_reward=-0.01)


@pytest.fixture(scope="module")
def open_grid():
    """A deterministic gridworld with one goal and several optimal paths.

    Without an ``S`` cell episodes start anywhere, so the optimal return is reached only
    by a policy that is optimal in every state.
    """
    return rv.envs.gridworld(["....", ".#..", "...G"], gamma=0.9)


# ---------------------------------------------------------------------------
# One run against the loop learner.


@pytest.mark.parametrize("learner", TD_LEARNERS)
def test_a_run_replays_the_loop_learner_step_by_step(slippery, learner):
    mdp, reward = slippery
    key = jax.random.key(7)
    settings_ = {"alpha": 0.3, "epsilon": 0.25, "max_length": 6}
    run = learning.train(
        mdp,
        reward,
        key,
        learner=learner,
        steps=230,
        eval_every=50,
        learning_rate=settings_["alpha"],
        epsilon=settings_["epsilon"],
        max_episode_length=settings_["max_length"],
    )
    steps, snapshots, visits = loop_learner(
        mdp, reward, key, learner=learner, steps=230, every=50, **settings_
    )
    np.testing.assert_array_equal(run.steps, steps)
    assert steps.tolist() == [0, 50, 100, 150, 200, 230]
    np.testing.assert_allclose(run.q_values, snapshots, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(run.visits, visits)
    assert int(run.visits.sum()) == 230
    expected = [oracle_return(mdp, reward, loop_greedy_policy(q)) for q in snapshots]
    np.testing.assert_allclose(run.returns, expected, rtol=1e-10, atol=1e-12)


def loop_value_iteration_snapshots(mdp, reward, evaluation_steps):
    """Q after ⌊t/(S·A)⌋ synchronous sweeps from 0, for each evaluation step t, by loops."""
    t = np.asarray(mdp.transitions, float)
    r = np.asarray(reward, float)
    terminal = np.asarray(mdp.terminal)
    gamma = float(mdp.gamma)
    n_states, n_actions = mdp.n_states, mdp.n_actions
    q = np.zeros((n_states, n_actions))
    snapshots, done = [], 0
    for step in evaluation_steps:
        while done < step // (n_states * n_actions):
            new = np.zeros_like(q)
            for s in range(n_states):
                if terminal[s]:
                    continue
                for a in range(n_actions):
                    for s_next in range(n_states):
                        future = 0.0 if terminal[s_next] else gamma * max(q[s_next])
                        new[s, a] += t[s, a, s_next] * (r[s, a, s_next] + future)
            q, done = new, done + 1
        snapshots.append(q.copy())
    return np.stack(snapshots)


def test_the_planning_baseline_is_value_iteration_with_a_sweep_budget(slippery):
    mdp, reward = slippery
    run = learning.train(mdp, reward, 0, learner="value_iteration", steps=1000, eval_every=90)
    expected = loop_value_iteration_snapshots(mdp, reward, np.asarray(run.steps))
    np.testing.assert_allclose(run.q_values, expected, rtol=1e-12, atol=1e-14)
    assert run.steps.tolist()[-2:] == [990, 1000]
    assert int(run.visits.sum()) == 0
    # Greedy ties are exact; actions tied in exact arithmetic may differ by rounding here
    # and in the loop, so the returns are checked on the run's own Q-values.
    returns = [oracle_return(mdp, reward, loop_greedy_policy(q)) for q in run.q_values]
    np.testing.assert_allclose(run.returns, returns, rtol=1e-10, atol=1e-12)
    other = learning.train(mdp, reward, 1, learner="value_iteration", steps=1000, eval_every=90)
    np.testing.assert_array_equal(other.q_values, run.q_values)  # the key plays no part


def test_a_run_is_scored_on_the_true_reward(slippery):
    mdp, reward = slippery
    other = rv.envs.random_reward(mdp, seed=3)
    run = learning.train(mdp, other, 1, steps=120, eval_every=40, true_reward=reward)
    expected = [oracle_return(mdp, reward, loop_greedy_policy(q)) for q in run.q_values]
    np.testing.assert_allclose(run.returns, expected, rtol=1e-10, atol=1e-12)


def test_truncation_restarts_without_termination():
    # With episodes of one step every step starts in state 0 (the chain's start).
    mdp, reward = rv.envs.chain(5)
    run = learning.train(mdp, reward, 0, steps=300, max_episode_length=1)
    assert run.visits.tolist() == [300, 0, 0, 0, 0]


def test_entering_a_terminal_state_restarts():
    # From state 0 of a 2-chain, "right" ends the episode; "left" stays. Always restarting
    # in 0, the learner only ever acts there.
    mdp, reward = rv.envs.chain(2)
    run = learning.train(mdp, reward, 0, steps=200, max_episode_length=10_000)
    assert run.visits.tolist() == [200, 0]


def test_runs_are_reproducible_and_depend_on_the_key(open_grid):
    mdp, reward = open_grid
    first = learning.train(mdp, reward, 5, steps=300, epsilon=0.5)
    again = learning.train(mdp, reward, jax.random.key(5), steps=300, epsilon=0.5)
    other = learning.train(mdp, reward, 6, steps=300, epsilon=0.5)
    np.testing.assert_array_equal(first.q_values, again.q_values)
    assert not np.array_equal(first.visits, other.visits)


# ---------------------------------------------------------------------------
# Convergence on deterministic tasks with a known optimum.


def assert_greedy_is_optimal(mdp, true_reward, q):
    """Every greedy action of ``q`` is optimal for ``true_reward`` in every non-terminal state."""
    optimal = np.asarray(solve.optimal_policy(mdp, true_reward)) > 0
    greedy = loop_greedy_policy(np.asarray(q)) > 0
    live = ~np.asarray(mdp.terminal)
    assert np.all(optimal[live] | ~greedy[live]), "a greedy action is not optimal"


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize("world", ["chain", "grid"])
def test_each_learner_converges_to_an_optimal_greedy_policy(learner, world, open_grid):
    mdp, reward = rv.envs.chain(6) if world == "chain" else open_grid
    # Q-learning is off-policy: much exploration reaches every state. The on-policy
    # learners learn the values of the ε-greedy policy itself, whose greedy policy is
    # optimal only for a small ε (Sutton & Barto 2018, §6.4). The planner ignores ε.
    epsilon = 0.5 if learner == "q_learning" else 0.1
    run = learning.train(
        mdp, reward, 11, learner=learner, steps=20_000, learning_rate=0.5, epsilon=epsilon
    )
    assert_greedy_is_optimal(mdp, reward, run.q_values[-1])
    assert float(run.returns[-1]) == pytest.approx(optimal_return(mdp, reward), rel=1e-9)


def optimal_return(mdp, reward):
    best = oracles.value_iteration(mdp.transitions, reward, float(mdp.gamma), mdp.terminal)[0]
    return float(np.dot(np.asarray(mdp.initial), best))


@pytest.mark.parametrize("potential", ["discounted distance", "random"])
def test_a_potential_shaped_learner_converges_to_a_policy_optimal_for_the_original(
    open_grid, potential
):
    mdp, reward = open_grid
    steps_to_goal = rv.envs.steps_to_goal(mdp)
    phi = (
        float(mdp.gamma) ** steps_to_goal
        if potential == "discounted distance"
        else np.random.default_rng(0).normal(size=mdp.n_states)
    )
    shaped = rv.shaping.potential_shaping(mdp, reward, phi)
    for learner in LEARNERS:
        run = learning.train(
            mdp,
            shaped,
            2,
            learner=learner,
            steps=20_000,
            learning_rate=0.5,
            epsilon=0.5 if learner == "q_learning" else 0.1,
            true_reward=reward,
        )
        assert_greedy_is_optimal(mdp, reward, run.q_values[-1])
        assert float(run.returns[-1]) == pytest.approx(optimal_return(mdp, reward), rel=1e-9)


# ---------------------------------------------------------------------------
# compare_rewards: the batch, the tables and the summaries.


@pytest.fixture(scope="module")
def comparison(slippery):
    mdp, reward = slippery
    candidates = {
        "true": reward,
        "shaped": rv.shaping.potential_shaping(mdp, reward, -rv.envs.steps_to_goal(mdp)),
        "noise": rv.envs.random_reward(mdp, seed=9),
    }
    result = learning.compare_rewards(
        mdp,
        reward,
        candidates,
        learner="expected_sarsa",
        n_seeds=5,
        steps=600,
        seed=4,
        eval_every=100,
        learning_rate=0.3,
        epsilon=0.2,
        max_episode_length=8,
        n_bootstrap=300,
    )
    return mdp, reward, candidates, result


def test_the_vmapped_batch_equals_each_seed_alone(comparison):
    mdp, reward, candidates, result = comparison
    keys = jax.random.split(jax.random.key(4), 5)
    for r, candidate in enumerate(candidates.values()):
        for i in range(5):
            alone = learning.train(
                mdp,
                candidate,
                keys[i],
                learner="expected_sarsa",
                steps=600,
                true_reward=reward,
                eval_every=100,
                learning_rate=0.3,
                epsilon=0.2,
                max_episode_length=8,
            )
            np.testing.assert_allclose(result.returns[r, i], alone.returns, rtol=0, atol=1e-9)
            np.testing.assert_array_equal(result.visits[r, i], alone.visits)


def test_the_tidy_frame_holds_every_run(comparison):
    _, _, candidates, result = comparison
    frame = result.to_frame()
    assert list(frame.columns) == ["reward", "seed", "step", "true_return", "regret"]
    assert len(frame) == 3 * 5 * 7
    names = list(candidates)
    for row in frame.sample(20, random_state=0).itertuples():
        r, e = names.index(row.reward), list(result.steps).index(row.step)
        assert row.true_return == result.returns[r, row.seed, e]
        assert row.regret == result.regret[r, row.seed, e]


def test_regret_is_normalised_by_the_best_and_worst_policies(comparison):
    mdp, reward, _, result = comparison
    gamma = float(mdp.gamma)
    best = oracles.value_iteration(mdp.transitions, reward, gamma, mdp.terminal)[0]
    worst = -oracles.value_iteration(mdp.transitions, -np.asarray(reward), gamma, mdp.terminal)[0]
    initial = np.asarray(mdp.initial)
    j_best, j_worst = float(initial @ best), float(initial @ worst)
    assert result.optimal_return == pytest.approx(j_best, rel=1e-9)
    assert result.worst_return == pytest.approx(j_worst, rel=1e-9)
    for r, i, e in [(0, 0, 0), (1, 3, 6), (2, 4, 2)]:
        expected = min(max((j_best - result.returns[r, i, e]) / (j_best - j_worst), 0.0), 1.0)
        assert result.regret[r, i, e] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def loop_bootstrap(values, confidence, n_bootstrap, seed):
    count = len(values)
    indices = np.random.default_rng(seed).integers(0, count, (n_bootstrap, count))
    means = []
    for row in indices:
        total = 0.0
        for index in row:
            total += values[index]
        means.append(total / count)
    tail = (1 - confidence) / 2
    return sum(values) / count, np.quantile(means, tail), np.quantile(means, 1 - tail)


def test_summaries_match_loops_over_seeds(comparison):
    _, _, candidates, result = comparison
    steps = [float(s) for s in result.steps]
    for r, name in enumerate(candidates):
        auc, first, final = [], [], []
        for i in range(5):
            progress = [1 - x for x in result.regret[r, i]]
            area = 0.0
            for e in range(1, len(steps)):
                area += (steps[e] - steps[e - 1]) * (progress[e] + progress[e - 1]) / 2
            auc.append(area / (steps[-1] - steps[0]))
            hits = [steps[e] for e in range(len(steps)) if progress[e] >= 0.9]
            first.append(hits[0] if hits else steps[-1])
            final.append(result.regret[r, i, -1])
        row = result.summary.loc[name]
        for column, values in (
            ("auc", auc),
            ("steps_to_threshold", first),
            ("final_regret", final),
        ):
            mean, low, high = loop_bootstrap(values, 0.95, 300, 4)
            assert row[column] == pytest.approx(mean, rel=1e-12, abs=1e-12)
            assert row[f"{column}_low"] == pytest.approx(low, rel=1e-12, abs=1e-12)
            assert row[f"{column}_high"] == pytest.approx(high, rel=1e-12, abs=1e-12)
        assert row["reached"] == pytest.approx(
            np.mean([any(1 - x >= 0.9 for x in result.regret[r, i]) for i in range(5)])
        )


def test_curve_bands_are_bootstraps_over_seeds(comparison):
    _, _, candidates, result = comparison
    curves = result.curves
    assert len(curves) == 3 * len(result.steps)
    for r, name in enumerate(candidates):
        for e in (0, 3, 6):
            row = curves[(curves.reward == name) & (curves.step == result.steps[e])].iloc[0]
            mean, low, high = loop_bootstrap(list(result.returns[r, :, e]), 0.95, 300, 4)
            assert (row.return_mean, row.return_low, row.return_high) == pytest.approx(
                (mean, low, high), rel=1e-12, abs=1e-12
            )
            mean, low, high = loop_bootstrap(list(result.regret[r, :, e]), 0.95, 300, 4)
            assert row.regret_mean == pytest.approx(mean, rel=1e-12, abs=1e-12)


def test_final_policy_is_the_seed_average_of_greedy_policies(comparison):
    mdp, _, candidates, result = comparison
    keys = jax.random.split(jax.random.key(4), 5)
    options = {
        "learner": "expected_sarsa",
        "steps": 600,
        "eval_every": 100,
        "learning_rate": 0.3,
        "epsilon": 0.2,
        "max_episode_length": 8,
    }
    candidate = candidates["shaped"]
    greedy = [
        loop_greedy_policy(np.asarray(learning.train(mdp, candidate, k, **options).q_values[-1]))
        for k in keys
    ]
    np.testing.assert_allclose(result.final_policy[1], np.mean(greedy, axis=0), atol=1e-12)


def test_the_repr_reads_as_a_summary(comparison):
    _, _, _, result = comparison
    text = repr(result)
    assert "expected_sarsa, 3 rewards x 5 seeds x 600 steps" in text
    assert "shaped: AUC" in text


# ---------------------------------------------------------------------------
# Properties.


@settings(max_examples=8)
@given(
    seed=st.integers(0, 2**20),
    scale=st.sampled_from([0.25, 0.5, 2.0, 4.0]),
    learner=st.sampled_from(TD_LEARNERS),
)
def test_a_power_of_two_reward_scale_scales_q_exactly_and_keeps_the_curve(seed, scale, learner):
    # Scaling by a power of two is exact in floating point and keeps every tie, so the
    # run takes the same actions and its Q-values scale exactly.
    mdp, reward = rv.envs.gridworld(["S..#", ".#.G", "...L"], gamma=0.9, slip=0.2)
    noise = rv.envs.random_reward(mdp, seed=seed)
    options = {"learner": learner, "steps": 200, "eval_every": 50, "true_reward": reward}
    base = learning.train(mdp, noise, seed, **options)
    scaled = learning.train(mdp, scale * noise, seed, **options)
    np.testing.assert_array_equal(scaled.q_values, scale * base.q_values)
    np.testing.assert_array_equal(scaled.returns, base.returns)
    np.testing.assert_array_equal(scaled.visits, base.visits)


@settings(max_examples=6)
@given(order=st.permutations([0, 1, 2]), seed=st.integers(0, 1000))
def test_candidate_order_does_not_change_any_candidates_result(order, seed):
    mdp, reward = rv.envs.gridworld(["S..", ".#G"], gamma=0.8)
    rewards = [reward, rv.envs.random_reward(mdp, seed=seed), -reward]
    names = ["a", "b", "c"]
    options = {"n_seeds": 3, "steps": 120, "seed": seed, "eval_every": 40}
    base = learning.compare_rewards(mdp, reward, dict(zip(names, rewards, strict=True)), **options)
    permuted = learning.compare_rewards(
        mdp, reward, {names[i]: rewards[i] for i in order}, **options
    )
    np.testing.assert_array_equal(permuted.returns, base.returns[list(order)])
    np.testing.assert_array_equal(permuted.visits, base.visits[list(order)])
    for name in names:
        assert permuted.summary.loc[name].equals(base.summary.loc[name])


@given(
    values=st.lists(st.floats(-100, 100), min_size=1, max_size=12),
    shift=st.floats(-50, 50),
    seed=st.integers(0, 100),
)
def test_bootstrap_intervals_hold_the_mean_and_shift_with_the_data(values, shift, seed):
    values = np.asarray(values)
    mean, low, high = learning.bootstrap_ci(values, n_bootstrap=200, seed=seed)
    tolerance = 1e-9 * (1 + np.abs(values).max())
    assert low - tolerance <= mean <= high + tolerance
    assert values.min() - tolerance <= low and high <= values.max() + tolerance
    shifted = learning.bootstrap_ci(values + shift, n_bootstrap=200, seed=seed)
    np.testing.assert_allclose(shifted, (mean + shift, low + shift, high + shift), atol=1e-9 * 200)
    expected = loop_bootstrap(list(values), 0.95, 200, seed)
    np.testing.assert_allclose((mean, low, high), expected, rtol=1e-12, atol=1e-12)


def test_bootstrap_of_identical_runs_has_no_width():
    mean, low, high = learning.bootstrap_ci(np.full((2, 7), 3.5))
    np.testing.assert_array_equal(mean, [3.5, 3.5])
    np.testing.assert_array_equal(low, mean)
    np.testing.assert_array_equal(high, mean)


def test_normalised_regret_is_zero_when_every_policy_ties():
    assert learning.normalised_regret([1.0, 2.0], 1.0, 1.0).tolist() == [0.0, 0.0]
    np.testing.assert_allclose(learning.normalised_regret([0.0, 1.0, 2.0], 2.0, 0.0), [1, 0.5, 0])


# ---------------------------------------------------------------------------
# Bad input.


def test_bad_input_gets_clear_errors(open_grid):
    mdp, reward = open_grid
    good = {"sparse": reward}
    with pytest.raises(
        ValueError, match=r"candidates\['bad'\] must have shape \[\.\.\., S, A, S'\]"
    ):
        learning.compare_rewards(mdp, reward, {"sparse": reward, "bad": np.zeros((3, 4, 3))})
    with pytest.raises(ValueError, match=r"candidates\['pair'\] must be one reward of shape"):
        learning.compare_rewards(mdp, reward, {"pair": np.stack([reward, reward])})
    with pytest.raises(ValueError, match=r"candidates\['nan'\] contains NaN at index"):
        learning.compare_rewards(mdp, reward, {"nan": np.where(np.asarray(reward) > 0, np.nan, 0)})
    with pytest.raises(ValueError, match=r"n_seeds .* must be an integer >= 1, got 0"):
        learning.compare_rewards(mdp, reward, good, n_seeds=0)
    with pytest.raises(ValueError, match=r"steps .* must be an integer >= 1, got -5"):
        learning.compare_rewards(mdp, reward, good, steps=-5)
    with pytest.raises(TypeError, match=r"steps .* must be an integer"):
        learning.compare_rewards(mdp, reward, good, steps=2.5)
    with pytest.raises(TypeError, match=r"n_seeds .* must be an integer"):
        learning.compare_rewards(mdp, reward, good, n_seeds=True)
    with pytest.raises(ValueError, match=r"candidates is empty"):
        learning.compare_rewards(mdp, reward, {})
    with pytest.raises(TypeError, match=r"candidates must be a dict"):
        learning.compare_rewards(mdp, reward, [reward])
    with pytest.raises(ValueError, match=r"learner must be one of"):
        learning.compare_rewards(mdp, reward, good, learner="dqn")
    with pytest.raises(ValueError, match=r"eval_every \(50\) must be at most steps \(10\)"):
        learning.compare_rewards(mdp, reward, good, steps=10, eval_every=50)
    with pytest.raises(ValueError, match=r"learning_rate must lie in \(0, 1\]"):
        learning.compare_rewards(mdp, reward, good, learning_rate=0.0)
    with pytest.raises(ValueError, match=r"epsilon must lie in"):
        learning.compare_rewards(mdp, reward, good, epsilon=1.5)
    with pytest.raises(ValueError, match=r"true_reward must have shape"):
        learning.compare_rewards(mdp, reward[:-1], good)
    with pytest.raises(ValueError, match=r"learning curves need gamma < 1"):
        learning.compare_rewards(mdp.replace(gamma=1.0), reward, good)
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer"):
        learning.train(mdp, reward, -1, steps=10)
    with pytest.raises(TypeError, match=r"seed must be an integer or a jax.random key"):
        learning.train(mdp, reward, "zero", steps=10)
    with pytest.raises(ValueError, match=r"confidence must lie strictly between 0 and 1"):
        learning.compare_rewards(mdp, reward, good, confidence=1.0)
    with pytest.raises(ValueError, match=r"samples must have shape \[\.\.\., N\] with N >= 1"):
        learning.bootstrap_ci(np.zeros((3, 0)))


# ---------------------------------------------------------------------------
# Old spellings, kept for one release.


def test_old_keywords_warn_with_the_new_names_and_give_the_same_results(open_grid):
    mdp, reward = open_grid
    options = {"steps": 60, "eval_every": 20, "seed": 2}
    new = learning.compare_rewards(mdp, reward, {"r": reward}, n_seeds=2, **options)
    with pytest.warns(DeprecationWarning, match="n_seeds"):
        old = learning.compare_rewards(mdp, reward, {"r": reward}, seeds=2, **options)
    np.testing.assert_array_equal(old.returns, new.returns)
    with pytest.raises(TypeError, match="n_seeds"):
        learning.compare_rewards(mdp, reward, {"r": reward}, seeds=2, n_seeds=2)

    values = np.array([[1.0, 2.0, 4.0, 8.0]])
    with pytest.warns(DeprecationWarning, match="n_bootstrap"):
        old_interval = learning.bootstrap_ci(values, n_resamples=50, seed=1)
    np.testing.assert_array_equal(
        old_interval, learning.bootstrap_ci(values, n_bootstrap=50, seed=1)
    )

    with pytest.warns(DeprecationWarning, match="seed="):
        old_run = learning.train(mdp, reward, key=jax.random.key(3), steps=40)
    np.testing.assert_array_equal(
        old_run.q_values, learning.train(mdp, reward, 3, steps=40).q_values
    )


def test_a_key_seeds_the_bootstrap_with_one_draw_from_it():
    values = np.array([1.0, 2.0, 4.0, 8.0])
    key = jax.random.key(5)
    drawn = int(jax.random.randint(key, (), 0, np.iinfo(np.int32).max))
    np.testing.assert_array_equal(
        learning.bootstrap_ci(values, n_bootstrap=40, seed=key),
        learning.bootstrap_ci(values, n_bootstrap=40, seed=drawn),
    )
