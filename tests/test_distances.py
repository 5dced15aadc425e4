"""Canonicalisations and reward distances (EPIC, DARD, STARC, NPEC, ERC, regret) against loop oracles.

Each canonicalisation is recomputed from its formula in REFERENCES.md with explicit loops
over ``(s, a, s')``; the minimal one as the generic orthogonal projection off an explicit
basis of shaping and S'-redistribution directions. Distances are recomputed from
their definitions (weighted Pearson correlation, norms), regret by enumerating every
deterministic policy. Property tests check the invariances each method promises.
"""

import itertools

import jax.numpy as jnp
import numpy as np
import oracles
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import rewardviz as rv
from rewardviz import distances, shaping

# ---------------------------------------------------------------------------
# Test MDPs.


def make_mdp(name: str):
    """A small MDP and a random float64 reward ``[S, A, S']``."""
    if name == "dense":
        mdp, _ = rv.envs.random_mdp(4, 2, seed=0, gamma=0.9)
    elif name == "terminal":
        mdp, _ = rv.envs.random_mdp(4, 3, seed=1, gamma=0.8)
        mdp = mdp.replace(terminal=[2])
    elif name == "sparse":
        mdp, _ = rv.envs.random_mdp(5, 2, seed=2, gamma=0.95, n_successors=2)
        mdp = mdp.replace(terminal=[0, 3])
    elif name == "grid":
        mdp, _ = rv.envs.gridworld(["S.", ".G"], gamma=1.0, slip=0.2)
    else:
        raise KeyError(name)
    return mdp, np.asarray(rv.envs.random_reward(mdp, seed=20), dtype=np.float64)


MDPS = ["dense", "terminal", "sparse", "grid"]


def arrays_of(mdp):
    return (
        np.asarray(mdp.transitions, dtype=np.float64),
        float(mdp.gamma),
        np.asarray(mdp.terminal),
        mdp.n_states,
        mdp.n_actions,
    )


def pure_shaping(mdp, potential) -> np.ndarray:
    """``γΦ(s') − Φ(s)`` with ``Φ = 0`` at terminal states, by loops."""
    _, gamma, terminal, n_states, n_actions = arrays_of(mdp)
    phi = [0.0 if terminal[s] else float(potential[s]) for s in range(n_states)]
    out = np.zeros((n_states, n_actions, n_states))
    for s, a, s_next in itertools.product(range(n_states), range(n_actions), range(n_states)):
        out[s, a, s_next] = gamma * phi[s_next] - phi[s]
    return out


def redistribution_noise(mdp, rng, scale=1.0) -> np.ndarray:
    """Noise ``n(s, a, s')`` with ``Σ_s' T(s'|s, a) n(s, a, s') = 0`` for every ``(s, a)``."""
    transitions, _, _, n_states, n_actions = arrays_of(mdp)
    noise = rng.normal(size=(n_states, n_actions, n_states)) * scale
    for s, a in itertools.product(range(n_states), range(n_actions)):
        mean = sum(transitions[s, a, x] * noise[s, a, x] for x in range(n_states))
        noise[s, a, :] -= mean
    return noise


# ---------------------------------------------------------------------------
# Loop oracles of the canonicalisations.


def epic_loop(mdp, reward, state_dist=None, action_dist=None) -> np.ndarray:
    """``R + E[γR(s', A, S') − R(s, A, S') − γR(S, A, S')]``, ``S, S' ~ D_S``, ``A ~ D_A``."""
    _, gamma, _, n_states, n_actions = arrays_of(mdp)
    ds = np.full(n_states, 1 / n_states) if state_dist is None else np.asarray(state_dist)
    da = np.full(n_actions, 1 / n_actions) if action_dist is None else np.asarray(action_dist)
    out = np.array(reward, dtype=np.float64)
    for s, s_next in itertools.product(range(n_states), range(n_states)):
        correction = 0.0
        for big_a, big_s, big_s_next in itertools.product(
            range(n_actions), range(n_states), range(n_states)
        ):
            p = da[big_a] * ds[big_s] * ds[big_s_next]
            correction += p * (
                gamma * reward[s_next, big_a, big_s_next]
                - reward[s, big_a, big_s_next]
                - gamma * reward[big_s, big_a, big_s_next]
            )
        out[s, :, s_next] += correction
    return out


def dard_loop(mdp, reward, action_dist=None) -> np.ndarray:
    """``R + E[γR(s', A, S'') − R(s, A, S') − γR(S', A, S'')]``, ``S' ~ T(s, A)``, ``S'' ~ T(s', A)``."""
    transitions, gamma, _, n_states, n_actions = arrays_of(mdp)
    da = np.full(n_actions, 1 / n_actions) if action_dist is None else np.asarray(action_dist)
    out = np.array(reward, dtype=np.float64)
    for s, s_next in itertools.product(range(n_states), range(n_states)):
        correction = 0.0
        for big_a in range(n_actions):
            for x in range(n_states):  # S' ~ T(·|s, A)
                correction -= da[big_a] * transitions[s, big_a, x] * reward[s, big_a, x]
                for y in range(n_states):  # S'' ~ T(·|s', A)
                    p = da[big_a] * transitions[s, big_a, x] * transitions[s_next, big_a, y]
                    correction -= p * gamma * reward[x, big_a, y]
            for y in range(n_states):
                p = da[big_a] * transitions[s_next, big_a, y]
                correction += p * gamma * reward[s_next, big_a, y]
        out[s, :, s_next] += correction
    return out


def val_loop(mdp, reward, policy=None) -> np.ndarray:
    """``E_{S'~T(s,a)}[R(s, a, S') − V^π(s) + γV^π(S')]`` with a loop policy evaluation;
    0 on the rows of terminal states."""
    transitions, gamma, terminal, n_states, n_actions = arrays_of(mdp)
    if policy is None:
        policy = np.full((n_states, n_actions), 1 / n_actions)
    values = oracles.policy_evaluation(transitions, reward, gamma, policy, terminal)
    out = np.zeros((n_states, n_actions, n_states))
    for s, a in itertools.product(range(n_states), range(n_actions)):
        if terminal[s]:
            continue  # acting in a terminal state pays nothing: the row is 0
        level = sum(
            transitions[s, a, x] * (reward[s, a, x] - values[s] + gamma * values[x])
            for x in range(n_states)
        )
        out[s, a, :] = level
    return out


def equivalence_basis(mdp) -> np.ndarray:
    """Columns spanning shaping (non-terminal ``Φ``), S'-redistribution and terminal rows.

    Shaping: ``γe_{s'} − e_s`` on every transition, one column per non-terminal state.
    Redistribution: for each ``(s, a)`` with reference successor ``r = argmax T``, the
    vectors ``T(r|s, a)e_{s,a,x} − T(x|s, a)e_{s,a,r}`` for ``x ≠ r``, each with zero
    expectation under ``T(·|s, a)``. Terminal rows: ``e_{t,a,x}`` for every terminal
    ``t`` (no return depends on them).
    """
    transitions, gamma, terminal, n_states, n_actions = arrays_of(mdp)
    size = n_states * n_actions * n_states

    def index(s, a, x):
        return (s * n_actions + a) * n_states + x

    columns = []
    for k in range(n_states):
        if terminal[k]:
            continue
        column = np.zeros(size)
        for s, a, x in itertools.product(range(n_states), range(n_actions), range(n_states)):
            column[index(s, a, x)] = gamma * (x == k) - (s == k)
        columns.append(column)
    for s, a in itertools.product(range(n_states), range(n_actions)):
        reference = int(np.argmax(transitions[s, a]))
        for x in range(n_states):
            if x == reference:
                continue
            column = np.zeros(size)
            column[index(s, a, x)] = transitions[s, a, reference]
            column[index(s, a, reference)] = -transitions[s, a, x]
            columns.append(column)
    for t, a, x in itertools.product(range(n_states), range(n_actions), range(n_states)):
        if terminal[t]:
            column = np.zeros(size)
            column[index(t, a, x)] = 1.0
            columns.append(column)
    return np.column_stack(columns)


def minimal_oracle(mdp, reward) -> np.ndarray:
    """The orthogonal projection of ``R`` off the span of :func:`equivalence_basis`."""
    basis = equivalence_basis(mdp)
    flat = np.asarray(reward, dtype=np.float64).reshape(-1)
    coefficients = np.linalg.lstsq(basis, flat, rcond=None)[0]
    return (flat - basis @ coefficients).reshape(np.shape(reward))


def loop_canonical(mdp, reward, method, **options) -> np.ndarray:
    if method == "epic":
        return epic_loop(mdp, reward, **options)
    if method == "dard":
        return dard_loop(mdp, reward, **options)
    if method == "val":
        return val_loop(mdp, reward, **options)
    return minimal_oracle(mdp, reward)


def coverage(mdp, method, state_dist=None, action_dist=None) -> np.ndarray:
    """EPIC ``D_S(s)D_A(a)D_S(s')`` or DARD ``D_S(s)D_A(a)T(s'|s, a)``, by loops."""
    transitions, _, _, n_states, n_actions = arrays_of(mdp)
    ds = np.full(n_states, 1 / n_states) if state_dist is None else np.asarray(state_dist)
    da = np.full(n_actions, 1 / n_actions) if action_dist is None else np.asarray(action_dist)
    out = np.zeros((n_states, n_actions, n_states))
    for s, a, x in itertools.product(range(n_states), range(n_actions), range(n_states)):
        out[s, a, x] = ds[s] * da[a] * (ds[x] if method == "epic" else transitions[s, a, x])
    return out


def pearson_distance(x, y, weights) -> float:
    """``sqrt((1 − ρ)/2)`` with the weighted Pearson correlation, from its definition."""
    x, y, w = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (x, y, weights))
    w = w / w.sum()
    mean_x, mean_y = np.sum(w * x), np.sum(w * y)
    cov = np.sum(w * (x - mean_x) * (y - mean_y))
    rho = cov / np.sqrt(np.sum(w * (x - mean_x) ** 2) * np.sum(w * (y - mean_y) ** 2))
    return float(np.sqrt(max(1 - rho, 0) / 2))


def loop_norm(x, order) -> float:
    values = np.abs(np.asarray(x, dtype=np.float64).reshape(-1))
    if order == 1:
        return float(values.sum())
    if order == 2:
        return float(np.sqrt(np.sum(values**2)))
    return float(values.max())


def starc_oracle(mdp, reward_a, reward_b, canonical, norm, metric, **options) -> float:
    ca = loop_canonical(mdp, reward_a, canonical, **options)
    cb = loop_canonical(mdp, reward_b, canonical, **options)
    return loop_norm(ca / loop_norm(ca, norm) - cb / loop_norm(cb, norm), metric)


def random_policy(mdp, seed) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)


def canon(mdp, reward, method, **options) -> np.ndarray:
    return np.asarray(distances.canonicalize(mdp, reward, method=method, **options))


# ---------------------------------------------------------------------------
# Canonicalisations against loops.


@pytest.mark.parametrize("name", MDPS)
@pytest.mark.parametrize("method", ["epic", "dard", "val", "minimal"])
def test_canonicalize_matches_loops(name, method):
    mdp, reward = make_mdp(name)
    np.testing.assert_allclose(
        canon(mdp, reward, method), loop_canonical(mdp, reward, method), rtol=0, atol=1e-11
    )


@pytest.mark.parametrize("name", ["dense", "sparse"])
def test_epic_and_dard_with_non_uniform_coverage_match_loops(name):
    mdp, reward = make_mdp(name)
    rng = np.random.default_rng(1)
    state_dist = rng.dirichlet(np.ones(mdp.n_states))
    action_dist = rng.dirichlet(np.ones(mdp.n_actions))
    np.testing.assert_allclose(
        canon(mdp, reward, "epic", state_dist=state_dist, action_dist=action_dist),
        epic_loop(mdp, reward, state_dist, action_dist),
        atol=1e-11,
    )
    np.testing.assert_allclose(
        canon(mdp, reward, "dard", action_dist=action_dist),
        dard_loop(mdp, reward, action_dist),
        atol=1e-11,
    )


@pytest.mark.parametrize("name", MDPS)
def test_val_with_a_random_stochastic_policy_matches_loops(name):
    mdp, reward = make_mdp(name)
    policy = random_policy(mdp, 2)
    np.testing.assert_allclose(
        canon(mdp, reward, "val", policy=policy), val_loop(mdp, reward, policy), atol=1e-11
    )
    deterministic = np.arange(mdp.n_states) % mdp.n_actions
    one_hot = np.eye(mdp.n_actions)[deterministic]
    if float(mdp.gamma) < 1:  # with γ = 1 a deterministic policy may never terminate
        np.testing.assert_allclose(
            canon(mdp, reward, "val", policy=deterministic),
            val_loop(mdp, reward, one_hot),
            atol=1e-11,
        )


def test_canonicalize_batches_match_single_rewards():
    mdp, _ = make_mdp("terminal")
    rewards = np.asarray(rv.envs.random_reward(mdp, seed=3, batch_shape=(2, 3)))
    for method in ("epic", "dard", "val", "minimal"):
        batch = canon(mdp, rewards, method)
        assert batch.shape == rewards.shape
        for i, j in itertools.product(range(2), range(3)):
            np.testing.assert_allclose(
                batch[i, j], loop_canonical(mdp, rewards[i, j], method), atol=1e-11
            )


@pytest.mark.parametrize("n_states, n_actions, seed", [(4, 2, 1), (4, 3, 2)])
def test_equivalence_span_has_the_stated_dimension(n_states, n_actions, seed):
    """``|S| + |S||A|(|S| − 1)`` for full-support transitions without terminal states."""
    mdp, _ = rv.envs.random_mdp(n_states, n_actions, seed=seed, gamma=0.9)
    assert np.all(np.asarray(mdp.transitions) > 0)
    rank = np.linalg.matrix_rank(equivalence_basis(mdp))
    assert rank == n_states + n_states * n_actions * (n_states - 1)


def test_minimal_is_the_shortest_equivalent_reward():
    """Projection: the minimal representative is orthogonal to every equivalence direction."""
    mdp, reward = make_mdp("sparse")
    minimal = canon(mdp, reward, "minimal").reshape(-1)
    basis = equivalence_basis(mdp)
    np.testing.assert_allclose(basis.T @ minimal, 0, atol=1e-11)
    # R − R_min lies in the span: the residual of fitting it by the basis is zero.
    difference = reward.reshape(-1) - minimal
    fit = basis @ np.linalg.lstsq(basis, difference, rcond=None)[0]
    np.testing.assert_allclose(fit, difference, atol=1e-10)


# ---------------------------------------------------------------------------
# Invariances, as property tests on a 4-state MDP with optional terminal states.

TERMINALS = st.sampled_from([(), (3,), (0, 2)])


def drawn_mdp(seed, gamma, terminal, n_successors=None):
    mdp, reward = rv.envs.random_mdp(4, 2, seed=seed, gamma=gamma, n_successors=n_successors)
    return mdp.replace(terminal=list(terminal)), np.asarray(reward)


@settings(max_examples=20)
@given(
    seed=st.integers(0, 2**16),
    gamma=st.floats(0.5, 0.95),
    terminal=TERMINALS,
    potential=arrays(np.float64, 4, elements=st.floats(-20, 20)),
    sparse=st.booleans(),
)
def test_every_canonicalisation_ignores_shaping(seed, gamma, terminal, potential, sparse):
    mdp, reward = drawn_mdp(seed, gamma, terminal, 2 if sparse else None)
    shaped = reward + pure_shaping(mdp, potential)
    scale = 1 + np.abs(potential).max()
    for method in ("epic", "dard", "val", "minimal"):
        np.testing.assert_allclose(
            canon(mdp, shaped, method), canon(mdp, reward, method), atol=1e-10 * scale
        )
        # Pure shaping canonicalises to 0 (REFERENCES fixture).
        np.testing.assert_allclose(
            canon(mdp, pure_shaping(mdp, potential), method), 0, atol=1e-10 * scale
        )


@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), gamma=st.floats(0.5, 0.95), terminal=TERMINALS)
def test_starc_canonicalisations_ignore_redistribution_epic_does_not(seed, gamma, terminal):
    mdp, reward = drawn_mdp(seed, gamma, terminal)
    moved = reward + redistribution_noise(mdp, np.random.default_rng(seed))
    for method in ("val", "minimal"):
        np.testing.assert_allclose(
            canon(mdp, moved, method), canon(mdp, reward, method), atol=1e-10
        )
    assert float(distances.starc(mdp, reward, moved)) < 1e-7
    assert float(distances.starc(mdp, reward, moved, canonical="minimal")) < 1e-7
    # EPIC (and its distance) see redistribution.
    change = np.abs(canon(mdp, moved, "epic") - canon(mdp, reward, "epic")).max()
    assert change > 1e-2
    assert float(distances.epic(mdp, reward, moved)) > 1e-3


@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), gamma=st.floats(0.5, 0.95), terminal=TERMINALS)
def test_epic_val_and_minimal_are_idempotent(seed, gamma, terminal):
    mdp, reward = drawn_mdp(seed, gamma, terminal)
    for method in ("epic", "val", "minimal"):
        once = canon(mdp, reward, method)
        np.testing.assert_allclose(canon(mdp, once, method), once, atol=1e-10)


def test_dard_is_not_a_projection():
    """DARD's canonicalisation is not idempotent: ``C_T(C_T(R)) ≠ C_T(R)`` in general.

    ``C_T(R) − R`` contains ``γE[R(S', A, S'')]``, which depends on ``(s, s')`` jointly and
    is not a shaping term, so ``C_T`` does not remove it a second time. The loop oracle
    applied twice gives the same non-idempotent result: this is the formula, not a bug.
    """
    mdp, reward = make_mdp("dense")
    once = canon(mdp, reward, "dard")
    twice = canon(mdp, once, "dard")
    np.testing.assert_allclose(twice, dard_loop(mdp, dard_loop(mdp, reward)), atol=1e-11)
    gap = np.abs(twice - once).max()
    assert gap > 0.01 * np.abs(once).max()
    # So a reward and its own DARD canonical form are at a positive DARD distance.
    assert float(distances.dard(mdp, once, twice)) > 0.01
    assert float(distances.dard(mdp, reward, once)) > 0.01
    assert float(distances.epic(mdp, reward, canon(mdp, reward, "epic"))) < 1e-7


# ---------------------------------------------------------------------------
# Distances against their definitions.


@pytest.mark.parametrize("name", MDPS)
def test_epic_and_dard_match_pearson_of_loop_canonicals(name):
    mdp, reward_a = make_mdp(name)
    reward_b = np.asarray(rv.envs.random_reward(mdp, seed=21)) + 0.5 * reward_a
    epic = pearson_distance(
        epic_loop(mdp, reward_a), epic_loop(mdp, reward_b), coverage(mdp, "epic")
    )
    dard = pearson_distance(
        dard_loop(mdp, reward_a), dard_loop(mdp, reward_b), coverage(mdp, "dard")
    )
    np.testing.assert_allclose(float(distances.epic(mdp, reward_a, reward_b)), epic, rtol=1e-10)
    np.testing.assert_allclose(float(distances.dard(mdp, reward_a, reward_b)), dard, rtol=1e-10)


def test_epic_with_non_uniform_coverage_matches_pearson_of_loop_canonicals():
    mdp, reward_a = make_mdp("terminal")
    reward_b = np.asarray(rv.envs.random_reward(mdp, seed=22))
    rng = np.random.default_rng(3)
    ds = rng.dirichlet(np.ones(mdp.n_states))
    da = rng.dirichlet(np.ones(mdp.n_actions))
    expected = pearson_distance(
        epic_loop(mdp, reward_a, ds, da),
        epic_loop(mdp, reward_b, ds, da),
        coverage(mdp, "epic", ds, da),
    )
    got = distances.epic(mdp, reward_a, reward_b, state_dist=ds, action_dist=da)
    np.testing.assert_allclose(float(got), expected, rtol=1e-10)
    expected = pearson_distance(
        dard_loop(mdp, reward_a, da), dard_loop(mdp, reward_b, da), coverage(mdp, "dard", None, da)
    )
    np.testing.assert_allclose(
        float(distances.dard(mdp, reward_a, reward_b, action_dist=da)), expected, rtol=1e-10
    )


STARC_CASES = [(name, canonical, 2, 2) for name in MDPS for canonical in ("val", "minimal")] + [
    ("terminal", canonical, norm, metric)
    for canonical in ("val", "minimal")
    for norm, metric in [(1, 1), (np.inf, np.inf), (2, 1), (1, np.inf)]
]


@pytest.mark.parametrize("name, canonical, norm, metric", STARC_CASES)
def test_starc_matches_loop_norms(name, canonical, norm, metric):
    mdp, reward_a = make_mdp(name)
    reward_b = np.asarray(rv.envs.random_reward(mdp, seed=23)) - 0.3 * reward_a
    got = distances.starc(mdp, reward_a, reward_b, canonical=canonical, norm=norm, metric=metric)
    expected = starc_oracle(mdp, reward_a, reward_b, canonical, norm, metric)
    np.testing.assert_allclose(float(got), expected, rtol=1e-10)


def test_starc_with_a_policy_matches_loops():
    mdp, reward_a = make_mdp("terminal")
    reward_b = np.asarray(rv.envs.random_reward(mdp, seed=24))
    policy = random_policy(mdp, 5)
    got = distances.starc(mdp, reward_a, reward_b, policy=policy)
    expected = starc_oracle(mdp, reward_a, reward_b, "val", 2, 2, policy=policy)
    np.testing.assert_allclose(float(got), expected, rtol=1e-10)


SCALED_SHAPED = dict(
    seed=st.integers(0, 2**16),
    gamma=st.floats(0.5, 0.95),
    terminal=TERMINALS,
    scale=st.floats(0.01, 100),
    potential=arrays(np.float64, 4, elements=st.floats(-10, 10)),
)


@settings(max_examples=15)
@given(**SCALED_SHAPED)
def test_distances_vanish_for_scaled_shaped_rewards(seed, gamma, terminal, scale, potential):
    mdp, reward = drawn_mdp(seed, gamma, terminal)
    other = scale * (reward + pure_shaping(mdp, potential))
    assert float(distances.epic(mdp, reward, other)) < 1e-6
    assert float(distances.dard(mdp, reward, other)) < 1e-6
    assert float(distances.npec(mdp, reward, other)) < 1e-7
    for canonical in ("val", "minimal"):
        for norm in (1, 2, np.inf):
            assert float(distances.starc(mdp, reward, other, canonical=canonical, norm=norm)) < 1e-7


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), gamma=st.floats(0.5, 0.95), terminal=TERMINALS)
def test_distances_of_opposite_rewards(seed, gamma, terminal):
    mdp, reward = drawn_mdp(seed, gamma, terminal)
    np.testing.assert_allclose(float(distances.epic(mdp, reward, -reward)), 1.0, atol=1e-12)
    np.testing.assert_allclose(float(distances.dard(mdp, reward, -reward)), 1.0, atol=1e-12)
    for canonical in ("val", "minimal"):
        starc = distances.starc(mdp, reward, -reward, canonical=canonical)
        np.testing.assert_allclose(float(starc), 2.0, atol=1e-12)


@settings(max_examples=15)
@given(
    seed=st.integers(0, 2**16), gamma=st.floats(0.5, 0.95), terminal=TERMINALS, mix=st.floats(-3, 3)
)
def test_pearson_distances_are_bounded_and_symmetric(seed, gamma, terminal, mix):
    mdp, reward_a = drawn_mdp(seed, gamma, terminal)
    reward_b = np.asarray(rv.envs.random_reward(mdp, seed=seed + 1)) + mix * reward_a
    for function in (distances.epic, distances.dard, distances.starc):
        ab = float(function(mdp, reward_a, reward_b))
        ba = float(function(mdp, reward_b, reward_a))
        np.testing.assert_allclose(ab, ba, rtol=1e-12)
        assert 0 <= ab <= (2 if function is distances.starc else 1)
    epic = pearson_distance(
        epic_loop(mdp, reward_a), epic_loop(mdp, reward_b), coverage(mdp, "epic")
    )
    np.testing.assert_allclose(float(distances.epic(mdp, reward_a, reward_b)), epic, rtol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_epic_of_independent_random_rewards_is_sqrt_half(seed):
    mdp, reward_a = rv.envs.random_mdp(64, 4, seed=seed)
    reward_b = rv.envs.random_reward(mdp, seed=seed + 100)
    np.testing.assert_allclose(
        float(distances.epic(mdp, reward_a, reward_b)), np.sqrt(0.5), atol=0.02
    )


# ---------------------------------------------------------------------------
# Zero canonical rewards: the documented conventions, never NaN.


@pytest.mark.parametrize("name", MDPS)
def test_zero_canonical_reward_conventions(name):
    mdp, reward = make_mdp(name)
    zero = np.zeros_like(reward)
    pure = pure_shaping(mdp, np.arange(1.0, mdp.n_states + 1))
    pure_b = pure_shaping(mdp, -(np.arange(mdp.n_states) ** 2))
    for function in (distances.epic, distances.dard):
        for trivial in (zero, pure):
            assert float(function(mdp, trivial, reward)) == pytest.approx(0.5, abs=1e-12)
            assert float(function(mdp, reward, trivial)) == pytest.approx(0.5, abs=1e-12)
        assert float(function(mdp, zero, pure)) == 0.0
        assert float(function(mdp, pure, pure_b)) == 0.0
    for canonical in ("val", "minimal"):
        for norm in (1, 2, np.inf):
            for trivial in (zero, pure):
                got = distances.starc(mdp, trivial, reward, canonical=canonical, norm=norm)
                assert float(got) == pytest.approx(1.0, abs=1e-12)
            assert float(distances.starc(mdp, pure, pure_b, canonical=canonical, norm=norm)) == 0.0
    assert float(distances.npec(mdp, reward, zero)) == 0.0
    everything = np.stack([reward, zero, pure, pure_b, -reward])
    for method in ("epic", "dard", "starc"):
        matrix = np.asarray(distances.pairwise(mdp, everything, method=method))
        assert np.isfinite(matrix).all()
        np.testing.assert_allclose(matrix[1:4, 1:4], 0, atol=1e-12)


# ---------------------------------------------------------------------------
# pairwise.

PAIRWISE_CASES = [
    ("epic", {}),
    ("epic", {"state_dist": [0.1, 0.2, 0.3, 0.4], "action_dist": [0.3, 0.2, 0.5]}),
    ("dard", {}),
    ("dard", {"action_dist": [0.6, 0.3, 0.1]}),
    ("starc", {}),
    ("starc", {"norm": 1}),
    ("starc", {"norm": np.inf}),
    ("starc", {"canonical": "minimal", "norm": 2, "metric": 1}),
    ("starc", {"canonical": "val", "norm": 1, "metric": np.inf, "policy": "random"}),
]


@pytest.mark.parametrize("method, options", PAIRWISE_CASES)
def test_pairwise_equals_single_pair_distances(method, options):
    mdp, reward = make_mdp("terminal")
    rewards = np.concatenate(
        [
            np.asarray(rv.envs.random_reward(mdp, seed=30, batch_shape=(4,))),
            (2 * reward + pure_shaping(mdp, np.arange(4.0)))[None],
            reward[None],
            pure_shaping(mdp, [1.0, -1.0, 0.0, 2.0])[None],
        ]
    )
    options = dict(options)
    if options.get("policy") == "random":
        options["policy"] = random_policy(mdp, 7)
    single = {"epic": distances.epic, "dard": distances.dard, "starc": distances.starc}[method]
    n = len(rewards)
    expected = np.zeros((n, n))
    for i, j in itertools.product(range(n), range(n)):
        expected[i, j] = float(single(mdp, rewards[i], rewards[j], **options))
    matrix = np.asarray(distances.pairwise(mdp, rewards, method=method, **options))
    np.testing.assert_allclose(matrix, expected, atol=1e-7)
    chunked = np.asarray(distances.pairwise(mdp, rewards, method=method, chunk_size=3, **options))
    np.testing.assert_allclose(chunked, matrix, atol=1e-7)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-12)
    assert matrix[4, 5] < 1e-7  # 2·shape(R) and R
    # One entry from the definition, independently of the package.
    if method == "starc" and "policy" not in options:
        canonical = options.get("canonical", "val")
        norm = options.get("norm", 2)
        oracle = starc_oracle(
            mdp, rewards[0], rewards[1], canonical, norm, options.get("metric", norm)
        )
        np.testing.assert_allclose(matrix[0, 1], oracle, rtol=1e-9)


def test_pairwise_rejects_bad_options():
    mdp, _ = make_mdp("dense")
    rewards = np.asarray(rv.envs.random_reward(mdp, seed=31, batch_shape=(3,)))
    with pytest.raises(ValueError, match="unknown option"):
        distances.pairwise(mdp, rewards, method="dard", state_dist=[0.25] * 4)
    with pytest.raises(ValueError, match="unknown option"):
        distances.pairwise(mdp, rewards, method="epic", policy=np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match="unknown option"):
        distances.pairwise(mdp, rewards, method="starc", weights=np.ones((4, 2, 4)))
    with pytest.raises(ValueError, match="method"):
        distances.pairwise(mdp, rewards, method="npec")
    with pytest.raises(ValueError, match="chunk_size"):
        distances.pairwise(mdp, rewards, chunk_size=0)
    with pytest.raises(ValueError, match=r"\[N, S, A, S'\]"):
        distances.pairwise(mdp, rewards[0])
    with pytest.raises(ValueError, match="metric"):
        distances.pairwise(mdp, rewards, method="starc", metric=3)


# ---------------------------------------------------------------------------
# regret.


def brute_force_returns(mdp, reward) -> dict:
    """``J(π)`` of every deterministic policy, by loop policy evaluation."""
    transitions, gamma, terminal, n_states, n_actions = arrays_of(mdp)
    initial = np.asarray(mdp.initial)
    returns = {}
    for actions in itertools.product(range(n_actions), repeat=n_states):
        policy = np.eye(n_actions)[list(actions)]
        returns[actions] = oracles.policy_return(
            transitions, reward, gamma, policy, initial, terminal
        )
    return returns


def brute_force_regret(mdp, true_reward, proxy_reward) -> float:
    true_returns = brute_force_returns(mdp, true_reward)
    proxy_returns = brute_force_returns(mdp, proxy_reward)
    chosen = max(proxy_returns, key=proxy_returns.get)
    best, worst = max(true_returns.values()), min(true_returns.values())
    return (best - true_returns[chosen]) / (best - worst)


@pytest.mark.parametrize("name", ["dense", "terminal", "sparse"])
def test_regret_matches_brute_force(name):
    mdp, true_reward = make_mdp(name)
    initial = np.random.default_rng(4).dirichlet(np.ones(mdp.n_states))
    for start in (None, initial):
        problem = mdp if start is None else mdp.replace(initial=start)
        for seed in (40, 41, 42):
            proxy = np.asarray(rv.envs.random_reward(problem, seed=seed)) + 0.5 * true_reward
            got = float(distances.regret(problem, true_reward, proxy))
            np.testing.assert_allclose(
                got, brute_force_regret(problem, true_reward, proxy), atol=1e-9
            )
    assert float(distances.regret(mdp, true_reward, -true_reward)) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("name", ["dense", "terminal", "sparse", "grid"])
def test_regret_is_zero_for_equivalent_rewards(name):
    mdp, reward = make_mdp(name)
    if name == "grid":  # discounted: with γ = 1 some policy loops forever under -R
        mdp = mdp.replace(gamma=0.9)
    equivalent = 3.0 * (reward + pure_shaping(mdp, np.linspace(-2, 2, mdp.n_states)))
    equivalent = equivalent + redistribution_noise(mdp, np.random.default_rng(5))
    assert float(distances.regret(mdp, reward, equivalent)) == pytest.approx(0.0, abs=1e-9)
    assert float(distances.regret(mdp, reward, np.zeros_like(reward))) > 0.01  # uniform policy
    assert float(distances.regret(mdp, np.zeros_like(reward), reward)) == 0.0  # every policy ties


def test_regret_broadcasts_batches():
    mdp, true_reward = make_mdp("terminal")
    proxies = np.asarray(rv.envs.random_reward(mdp, seed=43, batch_shape=(3,)))
    trues = np.stack([true_reward, -true_reward])
    batch = np.asarray(distances.regret(mdp, trues[:, None], proxies[None, :]))
    assert batch.shape == (2, 3)
    for i, j in itertools.product(range(2), range(3)):
        np.testing.assert_allclose(
            batch[i, j], brute_force_regret(mdp, trues[i], proxies[j]), atol=1e-9
        )
    single_true = np.asarray(distances.regret(mdp, true_reward, proxies))
    np.testing.assert_allclose(single_true, batch[0], atol=1e-12)


# ---------------------------------------------------------------------------
# same_policy_ordering.


def expected_loop(mdp, reward) -> np.ndarray:
    return oracles.expected_reward(np.asarray(mdp.transitions), reward)


@pytest.mark.parametrize("name", ["dense", "terminal", "sparse"])
def test_same_policy_ordering_certificate(name):
    mdp, reward = make_mdp(name)
    rng = np.random.default_rng(6)
    potential = rng.normal(size=mdp.n_states) * 3
    other = 2.5 * reward + pure_shaping(mdp, potential) + redistribution_noise(mdp, rng)
    cert = distances.same_policy_ordering(mdp, reward, other)
    assert bool(cert) and bool(cert.equivalent)
    np.testing.assert_allclose(float(cert.scale), 2.5, atol=1e-9)
    live = ~np.asarray(mdp.terminal)
    np.testing.assert_allclose(np.asarray(cert.potential)[live], potential[live], atol=1e-8)
    assert np.all(np.asarray(cert.potential)[~live] == 0)
    # The certificate itself: r_b = c·r_a + γTΦ − Φ on non-terminal states, checked by loops.
    certified = expected_loop(
        mdp, float(cert.scale) * reward + pure_shaping(mdp, np.asarray(cert.potential))
    )
    np.testing.assert_allclose(certified[live], expected_loop(mdp, other)[live], atol=1e-9)
    assert float(cert.residual) < 1e-10


@pytest.mark.parametrize("name", MDPS)
def test_same_policy_ordering_rejects_different_tasks(name):
    mdp, reward = make_mdp(name)
    other = np.asarray(rv.envs.random_reward(mdp, seed=50))
    assert not bool(distances.same_policy_ordering(mdp, reward, other))
    assert not bool(distances.same_policy_ordering(mdp, reward, -reward))
    assert not bool(distances.same_policy_ordering(mdp, reward, reward + 1e-3 * other))
    for seed in range(5):  # pure shaping: all policies tie, unlike under reward
        pure = pure_shaping(mdp, np.random.default_rng(seed).normal(size=mdp.n_states))
        assert not bool(distances.same_policy_ordering(mdp, reward, pure))
        assert not bool(distances.same_policy_ordering(mdp, pure, reward))
        assert bool(distances.same_policy_ordering(mdp, pure, np.zeros_like(reward)))


@pytest.mark.parametrize("name", ["terminal", "sparse", "grid"])
def test_rewards_on_terminal_rows_do_not_matter_to_starc(name):
    """Rewards for acting in a terminal state change no return: same task, STARC 0."""
    mdp, reward = make_mdp(name)
    changed = reward.copy()
    changed[np.asarray(mdp.terminal)] = (
        np.random.default_rng(10).normal(size=(mdp.n_actions, mdp.n_states)) * 5
    )
    assert bool(distances.same_policy_ordering(mdp, reward, changed))
    if float(mdp.gamma) < 1:
        assert float(distances.regret(mdp, reward, changed)) == pytest.approx(0.0, abs=1e-9)
    for canonical in ("val", "minimal"):
        np.testing.assert_allclose(
            canon(mdp, changed, canonical), canon(mdp, reward, canonical), atol=1e-10
        )
        assert float(distances.starc(mdp, reward, changed, canonical=canonical)) < 1e-7


def test_same_policy_ordering_ignores_unreachable_states():
    """State 3 cannot be reached from state 0; rewards there may differ arbitrarily."""
    rng = np.random.default_rng(7)
    transitions = np.zeros((4, 2, 4))
    transitions[:3, :, :3] = rng.dirichlet(np.ones(3), size=(3, 2))
    transitions[3] = rng.dirichlet(np.ones(4), size=2)
    mdp = rv.TabularMDP(transitions, gamma=0.9, initial=[1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(distances.reachable_states(mdp), [True, True, True, False])
    reward = rng.normal(size=(4, 2, 4))
    other = 0.7 * reward + pure_shaping(mdp, rng.normal(size=4))
    other[3] = rng.normal(size=(2, 4)) * 50
    assert bool(distances.same_policy_ordering(mdp, reward, other))
    assert float(distances.regret(mdp, reward, other)) == pytest.approx(0.0, abs=1e-9)
    # Starting anywhere, state 3 counts and the same rewards define different tasks.
    assert not bool(distances.same_policy_ordering(mdp.replace(initial=None), reward, other))
    other[1, 0] += 1.0  # a reachable state
    assert not bool(distances.same_policy_ordering(mdp, reward, other))


def test_same_policy_ordering_in_a_gridworld_with_terminal_states():
    mdp, reward = rv.envs.gridworld(["S..", ".#.", "..G"], gamma=1.0, step_reward=-0.1, slip=0.1)
    reward = np.asarray(reward)
    terminal = np.asarray(mdp.terminal)
    potential = np.random.default_rng(8).normal(size=mdp.n_states)
    potential[terminal] = 7.0  # ignored: Φ is 0 at terminal states
    shaped = np.asarray(shaping.potential_shaping(mdp, 4 * reward, potential))
    cert = distances.same_policy_ordering(mdp, reward, shaped)
    assert bool(cert) and float(cert.scale) == pytest.approx(4.0, abs=1e-9)
    # Rewards for acting in a terminal state never count.
    changed = reward.copy()
    changed[terminal] = 100.0
    assert bool(distances.same_policy_ordering(mdp, reward, changed))
    # With γ = 1 and one goal, a bigger goal reward is shaping by a constant Φ on the
    # other states (every episode enters the goal once); a penalty on one cell is not.
    _, bigger_goal = rv.envs.gridworld(
        ["S..", ".#.", "..G"], gamma=1.0, step_reward=-0.1, goal_reward=3.0, slip=0.1
    )
    cert = distances.same_policy_ordering(mdp, reward, bigger_goal)
    assert bool(cert) and float(cert.scale) == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(np.asarray(cert.potential), np.where(terminal, 0, -2.0), atol=1e-9)
    penalty = reward.copy()
    penalty[:, :, 3] -= 1.0  # entering the middle-left cell
    assert not bool(distances.same_policy_ordering(mdp, reward, penalty))
    # Hand-shaping with Φ(goal) ≠ 0 is the same constant-Φ case when γ = 1, but pays short
    # and long episodes differently when γ < 1 (a reward without constant step costs,
    # which would make a goal bonus a mere rescaling).
    noisy = reward - np.random.default_rng(9).uniform(size=reward.shape)
    by_hand = noisy + potential[None, None, :] - potential[:, None, None]
    assert bool(distances.same_policy_ordering(mdp, noisy, by_hand))
    discounted = mdp.replace(gamma=0.9)
    by_hand = noisy + 0.9 * potential[None, None, :] - potential[:, None, None]
    assert not bool(distances.same_policy_ordering(discounted, noisy, by_hand))
    package = shaping.potential_shaping(discounted, noisy, potential)
    assert bool(distances.same_policy_ordering(discounted, noisy, package))


def test_reachable_states_matches_a_search():
    for seed in range(5):
        mdp, _ = rv.envs.random_mdp(5, 2, seed=seed, n_successors=2)
        start = np.zeros(5)
        start[seed] = 1.0
        mdp = mdp.replace(initial=start, terminal=[4])
        transitions, terminal = np.asarray(mdp.transitions), np.asarray(mdp.terminal)
        seen, frontier = {seed}, [seed]
        while frontier:
            s = frontier.pop()
            if terminal[s]:
                continue
            for a, x in itertools.product(range(2), range(5)):
                if transitions[s, a, x] > 0 and x not in seen:
                    seen.add(x)
                    frontier.append(x)
        np.testing.assert_array_equal(
            distances.reachable_states(mdp), [x in seen for x in range(5)]
        )


# ---------------------------------------------------------------------------
# npec and erc.


def npec_oracle(mdp, reward_a, reward_b, weights) -> float:
    """Gleave et al.'s NPEC with numpy lstsq on explicit shaping columns.

    ``D(R_a, R_b) / D(0, R_b)`` with ``D(R_a, R_b) = min_{c ≥ 0, Φ} ‖c·R_a + shaping − R_b‖_w``
    and ``D(0, R_b) = min_Φ ‖shaping − R_b‖_w``.
    """
    basis = equivalence_basis(mdp)[:, : int((~np.asarray(mdp.terminal)).sum())]  # shaping only
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    w = w / w.sum()
    root = np.sqrt(w)
    target = np.asarray(reward_b).reshape(-1)

    def residual(design):
        solution = np.linalg.lstsq(root[:, None] * design, root * target, rcond=None)[0]
        return np.sqrt(np.sum(w * (design @ solution - target) ** 2)), solution

    to_zero_class, _ = residual(basis)
    to_class_of_a, solution = residual(np.column_stack([basis, np.asarray(reward_a).reshape(-1)]))
    if solution[-1] < 0:  # no positive scale helps: c = 0
        to_class_of_a = to_zero_class
    return float(to_class_of_a / to_zero_class)


@pytest.mark.parametrize("name", MDPS)
def test_npec_matches_lstsq_and_is_asymmetric_only_for_pure_shaping(name):
    mdp, reward_a = make_mdp(name)
    rng = np.random.default_rng(9)
    reward_b = np.asarray(rv.envs.random_reward(mdp, seed=60)) + 0.8 * reward_a
    weights = rng.uniform(0.2, 1.0, size=reward_a.shape)
    for w in (None, weights):
        oracle_w = np.ones(reward_a.shape) if w is None else w
        for a, b in (
            (reward_a, reward_b),
            (reward_b, reward_a),
            (reward_a, -reward_a + 0.1 * reward_b),
        ):
            np.testing.assert_allclose(
                float(distances.npec(mdp, a, b, weights=w)),
                npec_oracle(mdp, a, b, oracle_w),
                rtol=1e-9,
            )
    pure = pure_shaping(mdp, rng.normal(size=mdp.n_states))
    assert float(distances.npec(mdp, reward_a, pure)) == 0.0  # D(0, R_b) = 0: 0 by convention
    assert float(distances.npec(mdp, pure, reward_a)) == pytest.approx(1.0, rel=1e-12)
    assert float(distances.npec(mdp, np.zeros_like(reward_a), reward_a)) == 1.0
    # In L2, NPEC is sin θ between the two non-shaping parts (1 when they point apart):
    # symmetric, except that a pure-shaping R_b gives 0 and a pure-shaping R_a gives 1.
    np.testing.assert_allclose(
        float(distances.npec(mdp, reward_a, reward_b)),
        float(distances.npec(mdp, reward_b, reward_a)),
        rtol=1e-12,
    )


def test_npec_normalises_by_the_distance_from_the_zero_reward():
    """Gleave et al. divide by D(0, R_b); dividing by ‖R_b‖ gave 0.891 vs 0.171 here."""
    mdp, reward_a = rv.envs.random_mdp(5, 2, seed=0)
    reward_b = np.asarray(rv.envs.random_reward(mdp, seed=1))
    potential = 3.0 * np.random.default_rng(0).normal(size=mdp.n_states)
    shaped_b = pure_shaping(mdp, potential) + reward_b
    plain = float(distances.npec(mdp, reward_a, reward_b))
    assert 0.05 < plain < 1.0
    np.testing.assert_allclose(float(distances.npec(mdp, reward_a, shaped_b)), plain, rtol=1e-10)
    np.testing.assert_allclose(
        plain, npec_oracle(mdp, reward_a, reward_b, np.ones(reward_b.shape)), rtol=1e-10
    )


@given(
    seed=st.integers(0, 2**16),
    gamma=st.floats(0.5, 0.95),
    terminal=TERMINALS,
    scale=st.floats(0.1, 10.0),
)
@settings(max_examples=40, deadline=None)
def test_npec_is_invariant_to_shaping_either_reward_and_to_scaling_r_b(
    seed, gamma, terminal, scale
):
    mdp, _ = drawn_mdp(seed, gamma, terminal)
    rng = np.random.default_rng(seed)
    reward_a, reward_b = rng.normal(size=(2, *mdp.transitions.shape))
    shape_a, shape_b = (pure_shaping(mdp, 2 * rng.normal(size=mdp.n_states)) for _ in range(2))
    plain = float(distances.npec(mdp, reward_a, reward_b))
    assert 0.0 <= plain <= 1.0
    for a, b in (
        (reward_a, reward_b + shape_b),
        (reward_a + shape_a, reward_b),
        (scale * reward_a + shape_a, scale * reward_b + shape_b),
    ):
        np.testing.assert_allclose(float(distances.npec(mdp, a, b)), plain, rtol=1e-9)


def test_erc_properties():
    mdp, reward = make_mdp("dense")
    other = np.asarray(rv.envs.random_reward(mdp, seed=70))
    assert float(distances.erc(mdp, reward, 2 * reward + 1)) < 1e-6  # no terminal: fixed horizon
    assert float(distances.erc(mdp, reward, -reward)) == pytest.approx(1.0, abs=1e-6)
    first = float(distances.erc(mdp, reward, other, seed=3))
    assert first == float(distances.erc(mdp, reward, other, seed=3))
    assert first != float(distances.erc(mdp, reward, other, seed=4))
    assert 0.3 < first < 0.95
    grid, grid_reward = make_mdp("grid")  # episodes of different lengths: scaling only
    assert float(distances.erc(grid, grid_reward, 3 * grid_reward, horizon=30)) < 1e-6
    assert float(distances.erc(mdp, reward, np.zeros_like(reward))) == 0.5
    assert float(distances.erc(mdp, np.zeros_like(reward), np.ones_like(reward))) == 0.0


def test_erc_with_one_step_episodes_is_the_pearson_distance_of_transitions():
    """With ``horizon = 1`` a return is one reward: ERC estimates the Pearson distance under
    ``initial(s)·π(a|s)·T(s'|s, a)``, computed here by loops."""
    mdp, reward = make_mdp("dense")
    other = np.asarray(rv.envs.random_reward(mdp, seed=71)) + reward
    policy = random_policy(mdp, 8)
    transitions, _, _, n_states, n_actions = arrays_of(mdp)
    initial = np.asarray(mdp.initial)
    weights = np.zeros_like(transitions)
    for s, a, x in itertools.product(range(n_states), range(n_actions), range(n_states)):
        weights[s, a, x] = initial[s] * policy[s, a] * transitions[s, a, x]
    expected = pearson_distance(reward, other, weights)
    got = float(
        distances.erc(mdp, reward, other, policy=policy, episodes=40_000, horizon=1, seed=1)
    )
    assert got == pytest.approx(expected, abs=0.02)


# ---------------------------------------------------------------------------
# Bad input.


def test_distances_reject_bad_input():
    mdp, reward = make_mdp("dense")
    wrong = reward[:, :, :3]
    nan = reward.copy()
    nan[2, 1, 0] = np.nan
    pairs = {
        "epic": distances.epic,
        "dard": distances.dard,
        "starc": distances.starc,
        "npec": distances.npec,
        "erc": distances.erc,
        "regret": distances.regret,
        "same_policy_ordering": distances.same_policy_ordering,
    }
    for name, function in pairs.items():
        first, second = (
            ("true_reward", "proxy_reward") if name == "regret" else ("reward_a", "reward_b")
        )
        with pytest.raises(ValueError, match=first):
            function(mdp, wrong, reward)
        with pytest.raises(ValueError, match=rf"{second} contains NaN at index \(2, 1, 0\)"):
            function(mdp, reward, nan)
        with pytest.raises(ValueError, match=r"broadcast|same shape"):
            function(mdp, np.stack([reward] * 2), np.stack([reward] * 3))
    with pytest.raises(ValueError, match=r"reward contains NaN at index \(2, 1, 0\)"):
        distances.canonicalize(mdp, nan)
    with pytest.raises(ValueError, match="method"):
        distances.canonicalize(mdp, reward, method="pearson")
    with pytest.raises(ValueError, match="method"):
        distances.starc(mdp, reward, reward, canonical="l2")
    with pytest.raises(ValueError, match="norm"):
        distances.starc(mdp, reward, reward, norm=3)
    with pytest.raises(ValueError, match="metric"):
        distances.starc(mdp, reward, reward, metric=0)
    with pytest.raises(ValueError, match="state_dist"):
        distances.epic(mdp, reward, reward, state_dist=[0.5, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="state_dist"):
        distances.epic(mdp, reward, reward, state_dist=[1.5, -0.5, 0.0, 0.0])
    with pytest.raises(ValueError, match="state_dist"):
        distances.epic(mdp, reward, reward, state_dist=[0.5, 0.5])
    with pytest.raises(ValueError, match="action_dist"):
        distances.dard(mdp, reward, reward, action_dist=[0.2, 0.2])
    with pytest.raises(ValueError, match="state_dist"):
        distances.canonicalize(mdp, reward, method="dard", state_dist=[0.25] * 4)
    with pytest.raises(ValueError, match="policy"):
        distances.canonicalize(mdp, reward, method="epic", policy=np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match="policy"):
        distances.canonicalize(mdp, reward, method="val", policy=np.full((4, 2), 0.7))
    with pytest.raises(ValueError, match="action_dist"):
        distances.canonicalize(mdp, reward, method="minimal", action_dist=[0.5, 0.5])
    with pytest.raises(ValueError, match="weights"):
        distances.npec(mdp, reward, reward, weights=np.zeros(reward.shape))


# ---------------------------------------------------------------------------
# float32.


def float32_problem():
    mdp64, reward = make_mdp("terminal")
    mdp32 = rv.TabularMDP(np.asarray(mdp64.transitions, np.float32), gamma=0.8, terminal=[2])
    other = np.asarray(rv.envs.random_reward(mdp64, seed=80)) + 0.5 * reward
    return mdp64, mdp32, reward, other


def test_float32_distances_agree_with_float64():
    mdp64, mdp32, reward, other = float32_problem()
    cases = [
        (distances.epic, {}),
        (distances.dard, {}),
        (distances.starc, {}),
        (distances.starc, {"canonical": "minimal"}),
        (distances.starc, {"norm": np.inf}),
        (distances.npec, {}),
        (distances.regret, {}),
    ]
    for function, options in cases:
        low = function(mdp32, reward.astype(np.float32), other.astype(np.float32), **options)
        high = function(mdp64, reward, other, **options)
        assert low.dtype == jnp.float32
        np.testing.assert_allclose(float(low), float(high), atol=1e-4)
    for method in ("epic", "dard", "val", "minimal"):
        low = canon(mdp32, reward.astype(np.float32), method)
        assert low.dtype == np.float32
        np.testing.assert_allclose(low, canon(mdp64, reward, method), atol=1e-4)
    low = distances.pairwise(mdp32, np.stack([reward, other]).astype(np.float32))
    np.testing.assert_allclose(
        np.asarray(low), np.asarray(distances.pairwise(mdp64, np.stack([reward, other]))), atol=1e-4
    )
    assert bool(
        distances.same_policy_ordering(
            mdp32, reward.astype(np.float32), (3 * reward).astype(np.float32)
        )
    )


@pytest.mark.parametrize("mdp_dtype", ["float32", "float64"])
def test_float32_pure_shaping_follows_the_zero_convention(mdp_dtype):
    mdp64, mdp32, reward, _ = float32_problem()
    mdp = mdp32 if mdp_dtype == "float32" else mdp64
    reward = reward.astype(np.float32)
    pure = np.asarray(shaping.shaping_reward(mdp, np.linspace(-5, 5, 4).astype(np.float32)))
    pure_b = np.asarray(shaping.shaping_reward(mdp, np.array([3, 0, 1, -2], np.float32)))
    assert pure.dtype == np.float32
    for function in (distances.epic, distances.dard):
        assert float(function(mdp, reward, pure)) == pytest.approx(0.5, abs=1e-4)
        assert float(function(mdp, pure, pure_b)) == 0.0
    for canonical in ("val", "minimal"):
        assert float(distances.starc(mdp, reward, pure, canonical=canonical)) == pytest.approx(
            1.0, abs=1e-4
        )
        assert float(distances.starc(mdp, pure, pure_b, canonical=canonical)) == 0.0
    matrix = np.asarray(distances.pairwise(mdp, np.stack([reward, pure, pure_b, 2 * reward])))
    assert np.isfinite(matrix).all()
    np.testing.assert_allclose(matrix[1:3, 1:3], 0, atol=1e-6)
    assert matrix[0, 3] < 1e-3


@pytest.mark.parametrize("gamma", [0.99, 0.999])
def test_float32_equivalence_survives_long_horizons(gamma):
    """γ close to 1 makes the shaping projection ill-conditioned (κ ~ 2/(1−γ)); in float32
    pure shaping must still canonicalise to ~0 under "minimal" and equivalence be found."""
    for seed in range(5):
        mdp64, reward = rv.envs.random_mdp(4, 2, seed=seed, gamma=gamma)
        mdp = rv.TabularMDP(np.asarray(mdp64.transitions, np.float32), gamma=gamma)
        reward = np.asarray(reward, np.float32)
        potential = np.random.default_rng(seed).normal(size=4).astype(np.float32) * 10
        pure = np.asarray(shaping.shaping_reward(mdp, potential))
        minimal = canon(mdp, pure, "minimal")
        assert np.abs(minimal).max() < 1e-5 * np.abs(pure).max()
        assert float(distances.starc(mdp, reward, pure, canonical="minimal")) == pytest.approx(
            1.0, abs=1e-6
        )
        cert = distances.same_policy_ordering(mdp, reward, 2 * reward + pure)
        assert bool(cert) and float(cert.scale) == pytest.approx(2.0, rel=1e-4)
        assert float(distances.starc(mdp, reward, 2 * reward + pure, canonical="minimal")) < 1e-4


def test_regret_with_an_unbounded_worst_policy_is_a_clear_error():
    """γ = 1 and a policy that loops forever: the normaliser min_π J is −∞."""
    mdp, reward = rv.envs.gridworld(["S.G"], gamma=1.0, step_reward=-1.0)
    with pytest.raises(ValueError, match="worst policy's return, which is unbounded"):
        distances.regret(mdp, reward, reward)


# ---------------------------------------------------------------------------
# Code paths that only larger or special problems take.


@pytest.mark.parametrize("n_states, columns", [(7, 1), (6, 24)])
def test_pairwise_gram_in_source_state_blocks_matches_loops(monkeypatch, n_states, columns):
    """EPIC's and DARD's Gram products run over blocks of source states (7 blocks of one
    state; 3 of two): each block must add the right offsets and coverage."""
    monkeypatch.setattr(distances, "_GRAM_COLUMNS", columns)
    distances._pairwise_pearson.clear_cache()
    mdp, _ = rv.envs.random_mdp(n_states, 2, seed=n_states, gamma=0.85, n_successors=3)
    mdp = mdp.replace(terminal=[1])
    rng = np.random.default_rng(n_states)
    rewards = np.concatenate(
        [
            np.asarray(rv.envs.random_reward(mdp, seed=60, batch_shape=(3,))),
            pure_shaping(mdp, rng.normal(size=n_states))[None],  # canonically zero
            np.zeros((1, n_states, 2, n_states)),
        ]
    )
    ds, da = rng.dirichlet(np.ones(n_states)), rng.dirichlet(np.ones(2))
    for method, options in [("epic", {"state_dist": ds, "action_dist": da}), ("dard", {})]:
        matrix = np.asarray(distances.pairwise(mdp, rewards, method=method, **options))
        if method == "epic":
            units = [epic_loop(mdp, r, ds, da) for r in rewards]
            weights = coverage(mdp, "epic", ds, da)
        else:
            units = [dard_loop(mdp, r) for r in rewards]
            weights = coverage(mdp, "dard")
        for i, j in itertools.combinations(range(3), 2):
            expected = pearson_distance(units[i], units[j], weights)
            np.testing.assert_allclose(matrix[i, j], expected, rtol=1e-10)
        np.testing.assert_allclose(matrix[:3, 3:], 0.5, atol=1e-12)  # zero convention
        np.testing.assert_allclose(matrix[3:, 3:], 0, atol=1e-12)
    distances._pairwise_pearson.clear_cache()


PAIRWISE_NAN_CASES = [
    ("epic", {}),
    ("epic", {"state_dist": [0.5, 0.5, 0.0, 0.0, 0.0]}),  # the bad entry weighs 0
    ("dard", {}),
    ("starc", {}),
    ("starc", {"canonical": "minimal", "norm": 1}),
    ("starc", {"canonical": "epic", "norm": np.inf}),
]


@pytest.mark.parametrize("method, options", PAIRWISE_NAN_CASES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_pairwise_names_the_first_non_finite_entry(method, options, bad):
    """pairwise checks values after its kernel (from sums it computes anyway): a NaN or
    infinity anywhere, also where the coverage is 0 (no successor there, a state of
    weight 0, a terminal row), must still raise naming it."""
    mdp, _ = rv.envs.random_mdp(5, 2, seed=2, gamma=0.95, n_successors=2)
    mdp = mdp.replace(terminal=[3])
    rewards = np.asarray(rv.envs.random_reward(mdp, seed=61, batch_shape=(3,)))
    impossible = tuple(int(i) for i in np.argwhere(np.asarray(mdp.transitions)[4] == 0)[0])
    for where in [(1, 2, 0, 1), (2, 3, 1, 4), (0, 4, *impossible)]:
        broken = rewards.copy()
        broken[where] = bad
        kind = "NaN" if np.isnan(bad) else "an infinite value"
        with pytest.raises(ValueError, match=rf"rewards contains {kind} at index \({where[0]}, "):
            distances.pairwise(mdp, broken, method=method, **options)
    # Huge finite rewards overflow the sums but are not an error.
    assert distances.pairwise(mdp, rewards * 1e300, method=method, **options).shape == (3, 3)


@pytest.mark.parametrize("gamma", [0.5, 0.99, 0.995])
def test_minimal_canonicalisation_on_both_solver_paths_matches_the_projection(gamma):
    """float64 with γ ≤ 0.99 solves the normal equations; above, the pseudo-inverse."""
    mdp, reward = rv.envs.random_mdp(5, 3, seed=4, gamma=gamma)
    mdp = mdp.replace(terminal=[2])
    rewards = np.asarray(rv.envs.random_reward(mdp, seed=62, batch_shape=(2,)))
    got = canon(mdp, rewards, "minimal")
    for reward, canonical in zip(rewards, got, strict=True):
        np.testing.assert_allclose(canonical, minimal_oracle(mdp, reward), atol=1e-10)


def test_regret_when_a_few_value_iteration_sweeps_do_not_find_the_optimal_policy():
    """Everything worth having is 12-13 steps away, beyond the warm start's sweeps: near the
    start no action looks better, and one improvement step does not fix that everywhere,
    so policy iteration must take over. The proxy pays for
    stepping back from the goal, so its optimal policy never finishes the task."""
    mdp, true_reward = rv.envs.chain(14, gamma=0.95)
    true_reward = np.asarray(true_reward)
    proxy = true_reward.copy()
    proxy[12, 0] += 1.0
    transitions, gamma, terminal, n_states, n_actions = arrays_of(mdp)
    live = ~terminal
    expected = oracles.expected_reward(transitions, proxy) * live[:, None]
    continuing = transitions * live[None, None, :]
    values = np.zeros(n_states)
    for _ in range(distances._WARM_START_SWEEPS):
        values = (expected + gamma * continuing @ values).max(-1) * live
    warm = (expected + gamma * continuing @ values).argmax(-1)
    q_warm = oracles.policy_q_values(transitions, proxy, gamma, np.eye(n_actions)[warm], terminal)
    _, _, optimal = oracles.policy_iteration(transitions, proxy, gamma, terminal)
    # Even one improvement step leaves the warm start wrong somewhere.
    assert (q_warm.argmax(-1)[live] != optimal[live]).any()

    def best_return(reward):
        _, _, actions = oracles.policy_iteration(transitions, reward, gamma, terminal)
        return returns_of(reward, actions)

    def returns_of(reward, actions):
        policy = np.eye(n_actions)[actions]
        initial = np.asarray(mdp.initial)
        return oracles.policy_return(transitions, reward, gamma, policy, initial, terminal)

    top, bottom = best_return(true_reward), -best_return(-true_reward)
    expected_regret = (top - returns_of(true_reward, optimal)) / (top - bottom)
    assert expected_regret > 0.1
    got = float(distances.regret(mdp, true_reward, proxy))
    np.testing.assert_allclose(got, expected_regret, atol=1e-9)


def test_regret_of_a_proxy_with_tied_actions_follows_the_uniform_tie_policy():
    """Actions 0 and 1 have the same dynamics and proxy rewards, so they tie wherever the
    proxy prefers them: the proxy's policy is uniform over both, evaluated under the true
    reward (which tells them apart)."""
    mdp, true_reward = make_mdp("terminal")
    transitions = np.asarray(mdp.transitions).copy()
    transitions[:, 1] = transitions[:, 0]
    mdp = mdp.replace(transitions=transitions)
    proxy = np.array(rv.envs.random_reward(mdp, seed=64))
    proxy[:, 1] = proxy[:, 0]
    _, gamma, terminal, _, n_actions = arrays_of(mdp)
    # Q* of the proxy from the best deterministic policy, then its ties as a policy.
    returns = brute_force_returns(mdp, proxy)
    best = np.eye(n_actions)[list(max(returns, key=returns.get))]
    values = oracles.policy_evaluation(transitions, proxy, gamma, best, terminal)
    q = oracles.policy_q_values(transitions, proxy, gamma, best, terminal)
    ties = q >= q.max(-1, keepdims=True) - 1e-8 * max(1, np.abs(q).max())
    assert ties[~terminal].sum(-1).max() == 2 and np.isfinite(values).all()
    policy = ties / ties.sum(-1, keepdims=True)
    initial = np.asarray(mdp.initial)
    achieved = oracles.policy_return(transitions, true_reward, gamma, policy, initial, terminal)
    true_returns = brute_force_returns(mdp, true_reward)
    top, bottom = max(true_returns.values()), min(true_returns.values())
    got = float(distances.regret(mdp, true_reward, proxy))
    np.testing.assert_allclose(got, (top - achieved) / (top - bottom), atol=1e-9)
    # Batched, the tied proxy and a proxy without ties give the same as one at a time.
    other = np.asarray(rv.envs.random_reward(mdp, seed=65))
    both = np.asarray(distances.regret(mdp, true_reward, np.stack([proxy, other])))
    np.testing.assert_allclose(both[0], got, atol=1e-12)
    np.testing.assert_allclose(both[1], brute_force_regret(mdp, true_reward, other), atol=1e-9)
