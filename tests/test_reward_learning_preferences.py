"""Preference data: sampling, segment returns and regrets, labels and likelihoods.

Float64 (the session enables x64); every quantity is checked against a loop oracle
written here, with explicit loops over pairs, segments, steps, states and actions.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rewardviz as rv
from rewardviz.reward_learning import fit, preferences

# ---------------------------------------------------------------------------
# Loop oracles.


def loop_returns(reward, states, actions, mask):
    reward, states, actions, mask = map(np.asarray, (reward, states, actions, mask))
    n_pairs, _, k = actions.shape
    out = np.zeros((n_pairs, 2))
    for i in range(n_pairs):
        for j in range(2):
            for t in range(k):
                if mask[i, j, t]:
                    out[i, j] += reward[states[i, j, t], actions[i, j, t], states[i, j, t + 1]]
    return out


def loop_q(mdp, reward, *, temperature=None, n_iterations=None):
    """Optimal (or soft-optimal, after ``n_iterations`` sweeps) Q-values by loops."""
    transitions, terminal = np.asarray(mdp.transitions), np.asarray(mdp.terminal)
    reward, gamma = np.asarray(reward), float(mdp.gamma)
    n_states, n_actions, _ = transitions.shape
    values = np.zeros(n_states)
    for sweep in itertools.count():
        q = np.zeros((n_states, n_actions))
        for s in range(n_states):
            for a in range(n_actions):
                if terminal[s]:
                    continue
                for s_next in range(n_states):
                    future = 0.0 if terminal[s_next] else gamma * values[s_next]
                    q[s, a] += transitions[s, a, s_next] * (reward[s, a, s_next] + future)
        if temperature is None:
            new = q.max(axis=1)
            if np.max(np.abs(new - values)) < 1e-14 or sweep > 5000:
                return q
        else:
            new = np.array(
                [temperature * np.log(np.sum(np.exp(q[s] / temperature))) for s in range(n_states)]
            )
            if sweep == n_iterations:
                return q
        values = new


def loop_regrets(q, states, actions, mask, *, temperature=None):
    states, actions, mask = map(np.asarray, (states, actions, mask))
    n_pairs, _, k = actions.shape
    out = np.zeros((n_pairs, 2))
    for i in range(n_pairs):
        for j in range(2):
            for t in range(k):
                if mask[i, j, t]:
                    s = states[i, j, t]
                    if temperature is None:
                        value = max(q[s])
                    else:
                        value = temperature * np.log(sum(np.exp(x / temperature) for x in q[s]))
                    out[i, j] += value - q[s, actions[i, j, t]]
    return out


def loop_log_likelihood(scores, labels, beta):
    total = 0.0
    for (g0, g1), y in zip(scores, np.asarray(labels), strict=True):
        p = 1 / (1 + np.exp(-(g0 - g1) / beta))
        total += y * np.log(p) + (1 - y) * np.log(1 - p)
    return total / len(scores)


@pytest.fixture(scope="module")
def small():
    """A random MDP, a random reward on it and 40 pairs of 4-step segments."""
    mdp, reward = rv.envs.random_mdp(4, 3, seed=1)
    segments = preferences.sample_segments(
        mdp, rv.policies.uniform(mdp), n_pairs=40, segment_length=4, seed=3
    )
    return mdp, reward, segments


# ---------------------------------------------------------------------------
# Sampling.


def test_sampling_is_reproducible_from_a_seed_and_batched_over_seeds():
    mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
    policy = rv.policies.uniform(mdp)
    options = {"n_pairs": 30, "segment_length": 3}
    first = preferences.sample_segments(mdp, policy, seed=7, **options)
    again = preferences.sample_segments(mdp, policy, seed=7, **options)
    other = preferences.sample_segments(mdp, policy, seed=8, **options)
    batch = preferences.sample_segments(mdp, policy, seed=7, n_seeds=3, **options)
    keyed = preferences.sample_segments(mdp, policy, seed=jax.random.key(7), **options)
    assert first[0].shape == (30, 2, 4) and first[1].shape == first[2].shape == (30, 2, 3)
    assert first[0].dtype == first[1].dtype == jnp.int32 and first[2].dtype == jnp.bool_
    assert batch[0].shape == (3, 30, 2, 4)
    for a, b, d, e in zip(first, again, batch, keyed, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, d[0])  # no n_seeds is dataset 0 of the batch
        np.testing.assert_array_equal(a, e)
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(batch[0][0], batch[0][1])

    data = preferences.sample_preferences(
        mdp, reward, policy, seed=7, n_seeds=3, flip_rate=0.1, **options
    )
    same = preferences.sample_preferences(
        mdp, reward, policy, seed=7, n_seeds=3, flip_rate=0.1, **options
    )
    np.testing.assert_array_equal(data.labels, same.labels)
    assert data.labels.shape == (3, 30)


def test_segments_follow_the_dynamics_and_each_one_policy_of_the_batch():
    mdp, _ = rv.envs.random_mdp(6, 3, seed=2, n_successors=2)  # most transitions impossible
    rng = np.random.default_rng(0)
    deterministic = rng.integers(0, 3, size=(2, 6))
    policies = jax.nn.one_hot(deterministic, 3, dtype=mdp.dtype)
    states, actions, mask = map(
        np.asarray,
        preferences.sample_segments(
            mdp, policies, n_pairs=200, segment_length=5, seed=1, n_seeds=2
        ),
    )
    transitions = np.asarray(mdp.transitions)
    used = set()
    for seed, i, j in itertools.product(range(2), range(200), range(2)):
        followed = [
            p
            for p in range(2)
            if all(
                deterministic[p, states[seed, i, j, t]] == actions[seed, i, j, t] for t in range(5)
            )
        ]
        assert followed, "a segment mixes the actions of two policies"
        used.update(followed)
        for t in range(5):
            s, a, s_next = states[seed, i, j, t], actions[seed, i, j, t], states[seed, i, j, t + 1]
            assert mask[seed, i, j, t]
            assert transitions[s, a, s_next] > 0
    assert used == {0, 1}
    # Uniform starts cover every state.
    assert set(states[..., 0].ravel()) == set(range(6))


def test_steps_after_a_terminal_state_are_masked_padding():
    mdp, reward = rv.envs.chain(4)  # state 3 is terminal; entering it pays 1
    right = np.ones(4, dtype=int)
    states, actions, mask = map(
        np.asarray,
        preferences.sample_segments(mdp, right, n_pairs=50, segment_length=5, seed=0),
    )
    for i, j in itertools.product(range(50), range(2)):
        start = states[i, j, 0]
        assert start != 3  # uniform starts avoid terminal states
        arrival = 3 - start  # steps to the goal when always moving right
        np.testing.assert_array_equal(mask[i, j], np.arange(5) < arrival)
        np.testing.assert_array_equal(states[i, j, arrival:], 3)
        np.testing.assert_array_equal(actions[i, j, arrival:], 0)
    # The goal's reward counts once however long the segment lingers there.
    returns = preferences.segment_returns(mdp, reward, states, actions, mask)
    np.testing.assert_array_equal(returns, 1.0)
    np.testing.assert_allclose(returns, loop_returns(reward, states, actions, mask))
    # Starting from mdp.initial (state 0 in the chain) instead.
    initial = preferences.sample_segments(
        mdp, right, n_pairs=10, segment_length=2, start="initial"
    )[0]
    np.testing.assert_array_equal(np.asarray(initial)[..., 0], 0)


# ---------------------------------------------------------------------------
# Returns, regrets, probabilities.


def test_segment_returns_match_the_loop_and_broadcast_over_rewards(small):
    mdp, reward, segments = small
    rewards = jnp.stack([reward, -2 * reward + 1])
    got = preferences.segment_returns(mdp, rewards, *segments)
    assert got.shape == (2, 40, 2)
    for b in range(2):
        np.testing.assert_allclose(got[b], loop_returns(rewards[b], *segments), rtol=1e-12)


def test_segment_regrets_match_the_loop(small):
    mdp, reward, segments = small
    got = preferences.segment_regrets(mdp, reward, *segments)
    want = loop_regrets(loop_q(mdp, reward), *segments)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-9)
    assert (np.asarray(got) >= -1e-9).all()


@pytest.mark.parametrize("gamma", [0.5, 0.9])
def test_regret_of_a_segment_on_stay_switch_in_closed_form(gamma):
    """Reward 1 on 0 → 1: V*(0) = 1/(1−γ²), V*(1) = γ/(1−γ²), Q*(0, stay) = γ/(1−γ²),
    Q*(1, stay) = γ²/(1−γ²). Staying in 0 costs (1 − γ)/(1 − γ²) = 1/(1 + γ), staying in 1
    costs (γ − γ²)/(1 − γ²) = γ/(1 + γ): the segment stay, switch, stay has regret 1; the
    segment that always switches has regret 0."""
    mdp, reward = rv.envs.stay_switch(gamma=gamma)
    states = [[[0, 0, 1, 1], [0, 1, 0, 1]], [[1, 1, 0, 0], [1, 0, 1, 0]]]
    actions = [[[0, 1, 0], [1, 1, 1]], [[0, 1, 0], [1, 1, 1]]]
    mask = np.ones((2, 2, 3), bool)
    got = preferences.segment_regrets(mdp, reward, states, actions, mask)
    # Second pair: staying in 1 (γ/(1+γ)), switching, staying in 0 (1/(1+γ)): also 1.
    np.testing.assert_allclose(got, [[1.0, 0.0], [1.0, 0.0]], atol=1e-9)


def test_regret_with_deterministic_transitions_is_the_documented_telescoped_sum():
    """regret = V*(s_0) − Σ r_t + (1 − γ) Σ_{t=1}^{k−1} V*(s_t) − γ V*(s_k)."""
    gamma = 0.8
    mdp, reward = rv.envs.stay_switch(gamma=gamma)
    reward = reward + jax.random.normal(jax.random.key(0), reward.shape, reward.dtype)
    states, actions, mask = preferences.sample_segments(
        mdp, rv.policies.uniform(mdp), n_pairs=20, segment_length=4, seed=5
    )
    got = np.asarray(preferences.segment_regrets(mdp, reward, states, actions, mask))
    values = loop_q(mdp, reward).max(axis=1)
    returns = loop_returns(reward, states, actions, mask)
    states = np.asarray(states)
    for i, j in itertools.product(range(20), range(2)):
        path = states[i, j]
        middle = sum(values[path[t]] for t in range(1, 4))
        want = values[path[0]] - returns[i, j] + (1 - gamma) * middle - gamma * values[path[4]]
        np.testing.assert_allclose(got[i, j], want, atol=1e-9)


@pytest.mark.parametrize("model", ["partial_return", "regret"])
def test_preference_probabilities_match_bradley_terry(small, model):
    mdp, reward, segments = small
    if model == "partial_return":
        scores = loop_returns(reward, *segments)
    else:
        scores = -loop_regrets(loop_q(mdp, reward), *segments)
    got = preferences.preference_probabilities(mdp, reward, segments, model=model, beta=0.7)
    want = [1 / (1 + np.exp(-(g0 - g1) / 0.7)) for g0, g1 in scores]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    data = preferences.label_preferences(mdp, reward, *segments, model=model, beta=0.7)
    np.testing.assert_allclose(data.labels, want, rtol=1e-9)
    assert (data.model, data.beta, data.flip_rate) == (model, 0.7, 0.0)
    hard = preferences.preference_probabilities(mdp, reward, data, model=model, beta=0)
    # Two optimal segments both have regret 0: a tie, labelled 1/2.
    ties = [0.5 if abs(g0 - g1) < 1e-9 else float(g0 > g1) for g0, g1 in scores]
    np.testing.assert_array_equal(hard, ties)


def test_deterministic_labels_give_ties_one_half():
    mdp, reward = rv.envs.stay_switch()
    states = [[[0, 1, 0], [0, 1, 0]], [[0, 1, 0], [1, 1, 1]]]
    actions = [[[1, 1], [1, 1]], [[1, 1], [0, 0]]]
    mask = np.ones((2, 2, 2), bool)
    for model in preferences.MODELS:
        data = preferences.label_preferences(
            mdp, reward, states, actions, mask, model=model, beta=0
        )
        np.testing.assert_array_equal(data.labels, [0.5, 1.0])


def test_label_noise_flips_and_draws_at_the_requested_rates():
    mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
    segments = preferences.sample_segments(
        mdp, rv.policies.uniform(mdp), n_pairs=4000, segment_length=3
    )
    clean = preferences.label_preferences(mdp, reward, *segments, beta=0).labels
    noisy = preferences.label_preferences(mdp, reward, *segments, beta=0, flip_rate=0.2, seed=1)
    flipped = np.mean(np.asarray(noisy.labels) != np.asarray(clean))
    assert 0.17 < flipped < 0.23  # 0.2 ± 5 standard deviations
    again = preferences.label_preferences(mdp, reward, *segments, beta=0, flip_rate=0.2, seed=1)
    np.testing.assert_array_equal(again.labels, noisy.labels)
    soft = preferences.label_preferences(mdp, reward, *segments, beta=1.0).labels
    drawn = preferences.label_preferences(mdp, reward, *segments, beta=1.0, binary=True).labels
    assert set(np.unique(drawn)) <= {0.0, 1.0}
    assert abs(float(np.mean(drawn) - np.mean(soft))) < 0.04


# ---------------------------------------------------------------------------
# Likelihoods (fit.log_likelihood) against the loop.


def test_log_likelihood_matches_the_loop_for_both_models(small):
    mdp, reward, segments = small
    labels = preferences.label_preferences(
        mdp, -reward, *segments, beta=0.5, flip_rate=0.3, seed=2
    )  # labels from another reward: a likelihood well below its maximum
    returns = loop_returns(reward, *segments)
    got = fit.log_likelihood(mdp, reward, labels, model="partial_return", beta=1.3)
    np.testing.assert_allclose(got, loop_log_likelihood(returns, labels.labels, 1.3), rtol=1e-10)

    regrets = loop_regrets(loop_q(mdp, reward), *segments)
    got = fit.log_likelihood(mdp, reward, labels, model="regret", beta=1.3)
    want = loop_log_likelihood(-regrets, labels.labels, 1.3)
    np.testing.assert_allclose(got, want, rtol=1e-8)

    soft_q = loop_q(mdp, reward, temperature=0.4, n_iterations=30)
    soft = loop_regrets(soft_q, *segments, temperature=0.4)
    got = fit.log_likelihood(
        mdp, reward, labels, model="regret", beta=1.3, temperature=0.4, n_iterations=30
    )
    np.testing.assert_allclose(got, loop_log_likelihood(-soft, labels.labels, 1.3), rtol=1e-10)

    # Soft regret tends to the exact one as the temperature falls: V_soft − V* ≤ τ log|A|.
    cold = fit.log_likelihood(
        mdp, reward, labels, model="regret", beta=1.3, temperature=1e-4, n_iterations=600
    )
    np.testing.assert_allclose(cold, want, atol=1e-3)
    # A batch of rewards gives a batch of likelihoods.
    both = fit.log_likelihood(mdp, jnp.stack([reward, -reward]), labels, model="partial_return")
    assert both.shape == (2,) and float(both[1]) > float(both[0])


# ---------------------------------------------------------------------------
# The dataset as a result.


def test_preferences_is_a_pytree_with_properties_and_a_table(small):
    mdp, reward, segments = small
    # Three rewards label the same segments: a batch of three datasets.
    data = preferences.label_preferences(mdp, jnp.stack([reward, -reward, 2 * reward]), *segments)
    assert (data.n_pairs, data.segment_length) == (40, 4)
    leaves = jax.tree_util.tree_leaves(data)
    assert len(leaves) == 4
    first = jax.tree_util.tree_map(lambda leaf: leaf[0], data)
    assert isinstance(first, preferences.Preferences) and first.labels.shape == (40,)
    assert jax.jit(lambda d: d)(data).model == "partial_return"
    frame = data.to_frame()
    assert len(frame) == 3 * 40 * 2 * 4
    assert list(frame.columns) == [
        "seed", "pair", "segment", "step", "state", "action", "next_state", "valid", "label",
    ]  # fmt: skip
    row = frame.iloc[-1]
    assert row.next_state == int(data.states[2, 39, 1, 4])
    assert row.label == pytest.approx(float(data.labels[2, 39]))
    assert "(3,)" in repr(data) and "40 pairs of 4-step" in repr(data)


# ---------------------------------------------------------------------------
# Bad input.


def test_bad_input_gives_clear_errors_naming_the_argument(small):
    mdp, reward, (states, actions, mask) = small
    states, actions, mask = map(np.asarray, (states, actions, mask))
    policy = rv.policies.uniform(mdp)
    label = preferences.label_preferences
    with pytest.raises(ValueError, match="beta"):
        label(mdp, reward, states, actions, mask, beta=-0.1)
    for rate in (-0.1, 0.6):
        with pytest.raises(ValueError, match="flip_rate"):
            label(mdp, reward, states, actions, mask, flip_rate=rate)
    with pytest.raises(ValueError, match="model"):
        label(mdp, reward, states, actions, mask, model="return")
    bad = states.copy()
    bad[3, 1, 2] = mdp.n_states
    with pytest.raises(ValueError, match=r"states has 4 at index \(3, 1, 2\)"):
        label(mdp, reward, bad, actions, mask)
    with pytest.raises(ValueError, match="actions has -1"):
        preferences.segment_returns(mdp, reward, states, actions - 1, mask)
    with pytest.raises(ValueError, match="empty"):
        label(mdp, reward, states[:0], actions[:0], mask[:0])
    with pytest.raises(ValueError, match="actions must have shape"):
        preferences.segment_regrets(mdp, reward, states, actions[..., :-1], mask)
    with pytest.raises(TypeError, match="states must hold integers"):
        preferences.segment_returns(mdp, reward, states.astype(float), actions, mask)
    with pytest.raises(ValueError, match="n_pairs"):
        preferences.sample_segments(mdp, policy, n_pairs=0, segment_length=3)
    with pytest.raises(ValueError, match="segment_length"):
        preferences.sample_segments(mdp, policy, n_pairs=3, segment_length=0)
    with pytest.raises(ValueError, match="start"):
        preferences.sample_segments(mdp, policy, n_pairs=3, segment_length=2, start="middle")
    with pytest.raises(TypeError, match="preferences_or_arrays"):
        preferences.preference_probabilities(mdp, reward, states, model="regret", beta=1)
    data = label(mdp, reward, states, actions, mask)
    for labels in (data.labels + 1.5, data.labels - 2):
        wrong = preferences.Preferences(states, actions, mask, labels)
        with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\]"):
            fit.log_likelihood(mdp, reward, wrong, model="partial_return")
    with pytest.raises(ValueError, match="beta"):
        fit.log_likelihood(mdp, reward, data, model="partial_return", beta=0)
    with pytest.raises(TypeError, match="preferences must be"):
        fit.log_likelihood(mdp, reward, (states, actions, mask), model="partial_return")
