"""Maximum-entropy IRL (:mod:`rewardviz.reward_learning.irl`) against loop oracles written here.

The oracles loop over states, actions, successors, trajectories and steps in Python
floats: feature expectations by propagating the state distribution, empirical counts by
walking each trajectory, soft value iteration by fixed sweeps and the log-likelihood of
the demonstrations' actions. The fitted rewards are checked by the max-ent IRL fixed
point (expected feature counts equal the demonstrations' at the optimum) and by the
identity between the likelihood's gradient and "empirical minus expected" counts.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rewardviz as rv
from rewardviz.reward_learning import _common, irl

#: Soft value-iteration sweeps and horizons where γ^n is negligible (0.9^300 ≈ 2e-14); one
#: value throughout so the jitted programs compile once.
LONG = 300


def tiny_mdp():
    """Three states (state 2 terminal), two actions, stochastic dynamics, two start states."""
    transitions = np.array(
        [
            [[0.6, 0.3, 0.1], [0.1, 0.5, 0.4]],
            [[0.5, 0.2, 0.3], [0.0, 0.3, 0.7]],
            [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]],
        ]
    )
    return rv.TabularMDP(transitions, gamma=0.8, initial=[0.7, 0.3, 0.0], terminal=[2])


def loop_feature_index(form, s, a, s_next, n_states, n_actions):
    if form == "state":
        return s_next
    if form == "state_action":
        return s * n_actions + a
    return (s * n_actions + a) * n_states + s_next


def loop_feature_expectations(mdp, policy, form, horizon):
    t = np.asarray(mdp.transitions).tolist()
    pi = np.asarray(policy).tolist()
    terminal = [bool(x) for x in np.asarray(mdp.terminal)]
    gamma = float(mdp.gamma)
    n_states, n_actions = mdp.n_states, mdp.n_actions
    size = _common.n_parameters(form, mdp)
    counts = [0.0] * size
    distribution = [float(x) for x in np.asarray(mdp.initial)]
    for step in range(horizon):
        following = [0.0] * n_states
        for s in range(n_states):
            if terminal[s]:
                continue
            for a in range(n_actions):
                for s_next in range(n_states):
                    mass = distribution[s] * pi[s][a] * t[s][a][s_next]
                    index = loop_feature_index(form, s, a, s_next, n_states, n_actions)
                    counts[index] += gamma**step * mass
                    following[s_next] += mass
        distribution = following
    return np.array(counts)


def loop_empirical_counts(mdp, demos, form):
    states = np.asarray(demos.states).tolist()
    actions = np.asarray(demos.actions).tolist()
    mask = np.asarray(demos.mask).tolist()
    gamma = float(mdp.gamma)
    counts = [0.0] * _common.n_parameters(form, mdp)
    for i in range(len(actions)):
        for step in range(len(actions[i])):
            if mask[i][step]:
                index = loop_feature_index(
                    form,
                    states[i][step],
                    actions[i][step],
                    states[i][step + 1],
                    mdp.n_states,
                    mdp.n_actions,
                )
                counts[index] += gamma**step
    return np.array(counts) / len(actions)


def loop_soft_policy(mdp, reward, temperature, n_iterations):
    """Fixed sweeps of soft value iteration from 0, then the Boltzmann policy, by loops."""
    t = np.asarray(mdp.transitions).tolist()
    r = np.asarray(reward).tolist()
    terminal = [bool(x) for x in np.asarray(mdp.terminal)]
    gamma = float(mdp.gamma)
    n_states, n_actions = mdp.n_states, mdp.n_actions

    def backup(values):
        q = [[0.0] * n_actions for _ in range(n_states)]
        for s in range(n_states):
            if terminal[s]:
                continue
            for a in range(n_actions):
                total = 0.0
                for s_next in range(n_states):
                    future = 0.0 if terminal[s_next] else values[s_next]
                    total += t[s][a][s_next] * (r[s][a][s_next] + gamma * future)
                q[s][a] = total
        return q

    values = [0.0] * n_states
    for _ in range(n_iterations):
        q = backup(values)
        values = [
            temperature * math.log(sum(math.exp(q[s][a] / temperature) for a in range(n_actions)))
            for s in range(n_states)
        ]
    q = backup(values)
    policy = []
    for s in range(n_states):
        weights = [math.exp(q[s][a] / temperature) for a in range(n_actions)]
        policy.append([w / sum(weights) for w in weights])
    return np.array(policy)


def loop_log_likelihood(mdp, reward, demos, temperature, n_iterations):
    policy = loop_soft_policy(mdp, reward, temperature, n_iterations)
    states = np.asarray(demos.states).tolist()
    actions = np.asarray(demos.actions).tolist()
    mask = np.asarray(demos.mask).tolist()
    total = 0.0
    for i in range(len(actions)):
        for step in range(len(actions[i])):
            if mask[i][step]:
                s, a = states[i][step], actions[i][step]
                total += float(mdp.gamma) ** step * math.log(policy[s][a])
    return total / len(actions)


def soft_policy(mdp, reward, temperature, n_iterations):
    return _common.soft_policy(
        _common.soft_q_values(mdp, reward, temperature, n_iterations), temperature
    )


# ---------------------------------------------------------------------------
# Oracles.


@pytest.mark.parametrize("form", _common.FORMS)
def test_feature_expectations_match_loop_oracle(form):
    mdp = tiny_mdp()
    policy = jnp.array([[0.3, 0.7], [0.9, 0.1], [0.5, 0.5]])
    got = irl.feature_expectations(mdp, policy, form=form, horizon=5)
    np.testing.assert_allclose(got, loop_feature_expectations(mdp, policy, form, 5), atol=1e-13)
    # θ·μ_π is the H-step return of π under expand(θ): with a long horizon, the exact return.
    theta = jax.random.normal(jax.random.key(1), (_common.n_parameters(form, mdp),))
    long = irl.feature_expectations(mdp, policy, form=form, horizon=LONG)
    exact = rv.solve.policy_return(mdp, _common.expand(theta, form, mdp), policy)
    np.testing.assert_allclose(theta @ long, exact, rtol=1e-10)


def test_feature_expectations_batch_over_policies():
    mdp = tiny_mdp()
    policies = jax.nn.softmax(jax.random.normal(jax.random.key(2), (4, 3, 2)), axis=-1)
    batched = irl.feature_expectations(mdp, policies, form="transition", horizon=5)
    for k in range(4):
        np.testing.assert_allclose(
            batched[k], loop_feature_expectations(mdp, policies[k], "transition", 5), atol=1e-13
        )


@pytest.mark.parametrize("form", _common.FORMS)
def test_empirical_feature_counts_match_loop_oracle(form):
    mdp = tiny_mdp()
    demos = irl.sample_demonstrations(mdp, jnp.full((3, 2), 0.5), n_demos=6, horizon=5, seed=3)
    got = irl.empirical_feature_counts(mdp, demos, form=form)
    np.testing.assert_allclose(got, loop_empirical_counts(mdp, demos, form), atol=1e-13)


def test_log_likelihood_and_soft_policy_match_loop_oracle():
    mdp = tiny_mdp()
    reward = rv.envs.random_reward(mdp, seed=4)
    demos = irl.sample_demonstrations(mdp, jnp.full((3, 2), 0.5), n_demos=6, horizon=5, seed=5)
    for temperature, n_iterations in [(1.0, 1), (0.3, 30)]:
        np.testing.assert_allclose(
            soft_policy(mdp, reward, temperature, n_iterations),
            loop_soft_policy(mdp, reward, temperature, n_iterations),
            rtol=1e-12,
        )
        got = irl.demonstration_log_likelihood(
            mdp, reward, demos, temperature=temperature, n_iterations=n_iterations
        )
        want = loop_log_likelihood(mdp, reward, demos, temperature, n_iterations)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_log_likelihood_batches_over_rewards_and_seeds():
    mdp = tiny_mdp()
    rewards = rv.envs.random_reward(mdp, seed=6, batch_shape=(2,))
    demos = irl.sample_demonstrations(
        mdp, jnp.full((3, 2), 0.5), n_demos=6, horizon=5, seed=7, n_seeds=2
    )
    got = irl.demonstration_log_likelihood(mdp, rewards, demos, n_iterations=30)
    for k in range(2):
        one = jax.tree_util.tree_map(lambda x, k=k: x[k], demos)
        np.testing.assert_allclose(
            got[k], loop_log_likelihood(mdp, rewards[k], one, 1.0, 30), rtol=1e-12
        )


# ---------------------------------------------------------------------------
# Gradients.


@pytest.mark.parametrize("form", ["state", "transition"])
def test_log_likelihood_gradient_matches_finite_differences(form):
    mdp = tiny_mdp()  # stochastic dynamics
    demos = irl.sample_demonstrations(mdp, jnp.full((3, 2), 0.5), n_demos=6, horizon=5, seed=9)
    theta = jax.random.normal(jax.random.key(10), (_common.n_parameters(form, mdp),))

    def likelihood(theta):
        reward = _common.expand(theta, form, mdp)
        return irl.demonstration_log_likelihood(
            mdp, reward, demos, temperature=0.7, n_iterations=30
        )

    gradient = np.asarray(jax.grad(likelihood)(theta))
    step = 1e-6
    numeric = np.array(
        [
            (likelihood(theta.at[i].add(step)) - likelihood(theta.at[i].add(-step))) / (2 * step)
            for i in range(theta.size)
        ]
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("form", ["state", "state_action"])
def test_likelihood_gradient_is_empirical_minus_expected_counts(form):
    # Deterministic dynamics, one start state, γ^H negligible, soft VI converged: then
    # τ∇ℓ = μ_D − μ_π exactly (the classic max-ent IRL gradient).
    mdp, _ = rv.envs.gridworld(["S..", ".#.", "..G"])
    temperature = 0.5
    demos = irl.sample_demonstrations(
        mdp, jnp.full((mdp.n_states, 4), 0.25), n_demos=20, horizon=LONG, seed=11
    )
    theta = 0.3 * jax.random.normal(jax.random.key(12), (_common.n_parameters(form, mdp),))

    def likelihood(theta):
        reward = _common.expand(theta, form, mdp)
        return irl.demonstration_log_likelihood(
            mdp, reward, demos, temperature=temperature, n_iterations=LONG
        )

    gradient = temperature * jax.grad(likelihood)(theta)
    policy = soft_policy(mdp, _common.expand(theta, form, mdp), temperature, LONG)
    classic = irl.empirical_feature_counts(mdp, demos, form=form) - irl.feature_expectations(
        mdp, policy, form=form, horizon=LONG
    )
    np.testing.assert_allclose(gradient, classic, atol=1e-9 * float(jnp.abs(classic).max()))


# ---------------------------------------------------------------------------
# Fitting: one batched fit on chain(4), shared by the tests below.

FIT_OPTIONS = dict(n_steps=600, learning_rate=0.05, n_iterations=LONG)
SIZES = (50, 200)


@pytest.fixture(scope="module")
def chain_fit():
    """Chain(4) demonstrations of the soft-optimal policy (τ = 1) of a state reward, fitted."""
    mdp, _ = rv.envs.chain(4)
    reward = _common.expand(jnp.array([0.0, 0.5, -0.5, 2.0]), "state", mdp)
    policy = soft_policy(mdp, reward, 1.0, LONG)
    demos = irl.sample_demonstrations(mdp, policy, n_demos=200, horizon=LONG, seed=13, n_seeds=2)
    return mdp, reward, demos, irl.maxent_irl(mdp, demos, sizes=SIZES, **FIT_OPTIONS)


def first(demos, seed, size):
    return jax.tree_util.tree_map(lambda x: x[seed, :size], demos)


def test_maxent_irl_matches_feature_counts_at_the_optimum(chain_fit):
    mdp, true_reward, demos, fitted = chain_fit
    assert fitted.rewards.shape == (2, 2, 4, 2, 4)
    assert fitted.losses.shape == (2, 2, 600)
    assert fitted.sizes == SIZES and fitted.form == "state"
    for i in range(2):
        for k, size in enumerate(SIZES):
            policy = soft_policy(mdp, fitted.rewards[i, k], 1.0, LONG)
            expected = irl.feature_expectations(mdp, policy, form="state", horizon=LONG)
            empirical = irl.empirical_feature_counts(mdp, first(demos, i, size), form="state")
            # Observed agreement ~1e-7 relative; the bound leaves two orders of headroom.
            np.testing.assert_allclose(expected, empirical, rtol=1e-4, atol=1e-5)
            # The maximum-likelihood reward explains the data at least as well as the true one.
            true_loss = -irl.demonstration_log_likelihood(
                mdp, true_reward, first(demos, i, size), n_iterations=LONG
            )
            assert float(fitted.losses[i, k, -1]) <= float(true_loss) + 1e-9
            assert float(fitted.losses[i, k, -1]) < float(fitted.losses[i, k, 0])


def test_maxent_irl_batch_equals_separate_fits(chain_fit):
    mdp, _, demos, fitted = chain_fit
    alone = irl.maxent_irl(mdp, first(demos, 1, SIZES[0]), **FIT_OPTIONS)
    assert alone.rewards.shape == (1, 1, 4, 2, 4) and alone.sizes == (SIZES[0],)
    np.testing.assert_allclose(fitted.rewards[1, 0], alone.rewards[0, 0], atol=1e-7)
    np.testing.assert_allclose(fitted.losses[1, 0], alone.losses[0, 0], rtol=1e-8)


def test_maxent_irl_penalty_shrinks_the_reward(chain_fit):
    mdp, _, demos, fitted = chain_fit
    penalised = irl.maxent_irl(mdp, first(demos, 1, SIZES[0]), l2=1.0, **FIT_OPTIONS)
    size = lambda rewards: float(jnp.linalg.norm(rewards[0, 0]))  # noqa: E731  θ of entering s'
    assert size(penalised.rewards[0, 0]) < 0.5 * size(fitted.rewards[1, 0])


# ---------------------------------------------------------------------------
# Sampling.


def test_sampling_is_reproducible_and_seeded():
    mdp = tiny_mdp()
    policy = jnp.array([[0.3, 0.7], [0.9, 0.1], [0.5, 0.5]])
    a = irl.sample_demonstrations(mdp, policy, n_demos=6, horizon=5, seed=3)
    b = irl.sample_demonstrations(mdp, policy, n_demos=6, horizon=5, seed=3)
    c = irl.sample_demonstrations(mdp, policy, n_demos=6, horizon=5, seed=4)
    keyed = irl.sample_demonstrations(mdp, policy, n_demos=6, horizon=5, seed=jax.random.key(3))
    batch = irl.sample_demonstrations(mdp, policy, n_demos=6, horizon=5, seed=3, n_seeds=2)
    for field in ("states", "actions", "mask"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        np.testing.assert_array_equal(getattr(a, field), getattr(keyed, field))
        np.testing.assert_array_equal(getattr(a, field), getattr(batch, field)[0])
    assert not np.array_equal(a.states, c.states)
    assert not np.array_equal(batch.states[0], batch.states[1])
    assert a.states.dtype == jnp.int32 and a.mask.dtype == jnp.bool_
    assert batch.states.shape == (2, 6, 6) and batch.n_demos == 6 and batch.horizon == 5


def test_sampling_follows_the_dynamics():
    mdp = tiny_mdp()
    policy = np.array([[0.3, 0.7], [1.0, 0.0], [0.5, 0.5]])
    demos = irl.sample_demonstrations(mdp, policy, n_demos=4000, horizon=5, seed=5)
    states, actions, mask = (np.asarray(x) for x in (demos.states, demos.actions, demos.mask))
    transitions, terminal = np.asarray(mdp.transitions), np.asarray(mdp.terminal)
    assert (np.asarray(mdp.initial)[states[:, 0]] > 0).all()
    np.testing.assert_array_equal(mask, ~terminal[states[:, :-1]])
    s, a, s_next = states[:, :-1][mask], actions[mask], states[:, 1:][mask]
    assert (policy[s, a] > 0).all() and (transitions[s, a, s_next] > 0).all()
    # Padding after a terminal state: the state repeats and the action is 0.
    assert (states[:, 1:][~mask] == states[:, :-1][~mask]).all() and (actions[~mask] == 0).all()
    # The frequencies follow T and π: empirical counts near their expectation.
    empirical = irl.empirical_feature_counts(mdp, demos, form="transition")
    expected = irl.feature_expectations(mdp, policy, form="transition", horizon=5)
    assert float(jnp.abs(empirical - expected).sum()) < 0.05 * float(expected.sum())


def test_demonstrations_frame_and_pytree():
    mdp = tiny_mdp()
    demos = irl.sample_demonstrations(
        mdp, jnp.full((3, 2), 0.5), n_demos=6, horizon=5, seed=1, n_seeds=2
    )
    frame = demos.to_frame()
    assert list(frame.columns) == [
        "seed",
        "demo",
        "step",
        "state",
        "action",
        "next_state",
        "valid",
    ]
    assert len(frame) == 2 * 6 * 5
    row = frame.iloc[37]  # seed 1, demo 1, step 2
    assert (row.seed, row.demo, row.step) == (1, 1, 2)
    assert row.state == demos.states[1, 1, 2] and row.next_state == demos.states[1, 1, 3]
    assert row.action == demos.actions[1, 1, 2] and row.valid == demos.mask[1, 1, 2]
    assert len(jax.tree_util.tree_leaves(demos)) == 3
    assert "6 trajectories" in repr(demos)


# ---------------------------------------------------------------------------
# Bad input.


def test_bad_input_gives_clear_errors():
    mdp = tiny_mdp()
    policy = jnp.full((3, 2), 0.5)
    demos = irl.sample_demonstrations(mdp, policy, n_demos=6, horizon=5)
    reward = rv.envs.random_reward(mdp)
    with pytest.raises(ValueError, match="n_demos"):
        irl.sample_demonstrations(mdp, policy, n_demos=0, horizon=4)
    with pytest.raises(ValueError, match="horizon"):
        irl.sample_demonstrations(mdp, policy, n_demos=2, horizon=0)
    with pytest.raises(ValueError, match="policy"):
        irl.sample_demonstrations(mdp, jnp.stack([policy, policy]), n_demos=2, horizon=2)
    with pytest.raises(ValueError, match="n_seeds"):
        irl.sample_demonstrations(mdp, policy, n_demos=2, horizon=2, n_seeds=0)
    with pytest.raises(ValueError, match="temperature"):
        irl.maxent_irl(mdp, demos, temperature=-1.0)
    with pytest.raises(ValueError, match="temperature"):
        irl.demonstration_log_likelihood(mdp, reward, demos, temperature=0.0)
    with pytest.raises(ValueError, match="NaN"):
        irl.demonstration_log_likelihood(mdp, reward.at[0, 0, 0].set(jnp.nan), demos)
    with pytest.raises(ValueError, match="reward must have shape"):
        irl.demonstration_log_likelihood(mdp, reward[:2], demos)
    with pytest.raises(ValueError, match="sizes"):
        irl.maxent_irl(mdp, demos, sizes=[7])
    with pytest.raises(ValueError, match="sizes"):
        irl.maxent_irl(mdp, demos, sizes=[0])
    with pytest.raises(ValueError, match="form"):
        irl.maxent_irl(mdp, demos, form="action")
    with pytest.raises(ValueError, match="l2"):
        irl.maxent_irl(mdp, demos, l2=-1.0)
    with pytest.raises(ValueError, match="form"):
        irl.feature_expectations(mdp, policy, form="states", horizon=3)
    bad_states = irl.Demonstrations(demos.states.at[0, 1].set(7), demos.actions, demos.mask)
    with pytest.raises(ValueError, match=r"states has 7 at index \(0, 1\)"):
        irl.empirical_feature_counts(mdp, bad_states, form="state")
    bad_actions = irl.Demonstrations(demos.states, demos.actions.at[0, 0].set(-1), demos.mask)
    with pytest.raises(ValueError, match="actions has -1"):
        irl.maxent_irl(mdp, bad_actions)
    with pytest.raises(ValueError, match="H \\+ 1"):
        irl.maxent_irl(mdp, irl.Demonstrations(demos.states[:, :-1], demos.actions, demos.mask))
    with pytest.raises(ValueError, match="mask"):
        irl.maxent_irl(mdp, irl.Demonstrations(demos.states, demos.actions, demos.mask[:2]))
    with pytest.raises(ValueError, match="empty"):
        irl.maxent_irl(mdp, irl.Demonstrations(demos.states[:0], demos.actions[:0], demos.mask[:0]))
    with pytest.raises(TypeError, match="Demonstrations"):
        irl.maxent_irl(mdp, (demos.states, demos.actions, demos.mask))
    with pytest.raises(TypeError, match="integers"):
        irl.maxent_irl(mdp, irl.Demonstrations(demos.states * 1.0, demos.actions, demos.mask))
    with pytest.raises(ValueError, match="leading"):
        irl.maxent_irl(mdp, jax.tree_util.tree_map(lambda x: x[None, None], demos))
    with pytest.raises(TypeError, match="TabularMDP"):
        irl.maxent_irl("mdp", demos)
