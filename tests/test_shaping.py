"""Potential shaping: application, least-squares fits and the shaping test, against loop oracles.

Oracles here are explicit Python loops over ``(s, a, s')`` and least-squares problems whose
design matrices are built entry by entry and solved with ``numpy.linalg.lstsq``. The
policy-invariance theorem of Ng, Harada & Russell (1999) is checked as a property test,
including the episodic pitfall of a non-zero potential at terminal states.
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
from rewardviz import shaping

# ---------------------------------------------------------------------------
# Test MDPs and loop oracles.


def make_mdp(name: str):
    """A small MDP and a random reward; ``name`` picks dynamics and terminal states."""
    if name == "dense":
        mdp, _ = rv.envs.random_mdp(4, 2, seed=0, gamma=0.9)
    elif name == "terminal":
        mdp, _ = rv.envs.random_mdp(4, 3, seed=1, gamma=0.8)
        mdp = mdp.replace(terminal=[1, 3])
    elif name == "sparse":
        mdp, _ = rv.envs.random_mdp(5, 2, seed=2, gamma=0.95, n_successors=2)
        mdp = mdp.replace(terminal=[0])
    elif name == "grid":
        mdp, _ = rv.envs.gridworld(["S.", ".G"], gamma=1.0, slip=0.2)
    else:
        raise KeyError(name)
    return mdp, np.asarray(rv.envs.random_reward(mdp, seed=10), dtype=np.float64)


MDPS = ["dense", "terminal", "sparse", "grid"]


def live_potential(mdp, potential) -> np.ndarray:
    """``Φ`` with the terminal entries set to 0, by a loop."""
    terminal = np.asarray(mdp.terminal)
    return np.array([0.0 if terminal[s] else float(potential[s]) for s in range(mdp.n_states)])


def loop_shaping(mdp, reward, potential) -> np.ndarray:
    """``R(s, a, s') + γΦ(s') − Φ(s)`` with ``Φ = 0`` at terminal states, element by element."""
    gamma = float(mdp.gamma)
    phi = live_potential(mdp, potential)
    n_states, n_actions = mdp.n_states, mdp.n_actions
    out = np.zeros((n_states, n_actions, n_states))
    for s, a, s_next in itertools.product(range(n_states), range(n_actions), range(n_states)):
        out[s, a, s_next] = reward[s, a, s_next] + gamma * phi[s_next] - phi[s]
    return out


def shaping_columns(mdp) -> tuple[np.ndarray, list[int]]:
    """Design matrix ``[S·A·S', k]`` of the shaping directions ``γe_{s'} − e_s``, one column
    per non-terminal state ``k``, built entry by entry."""
    gamma = float(mdp.gamma)
    terminal = np.asarray(mdp.terminal)
    live = [k for k in range(mdp.n_states) if not terminal[k]]
    n_states, n_actions = mdp.n_states, mdp.n_actions
    columns = np.zeros((n_states * n_actions * n_states, len(live)))
    row = 0
    for s, _a, s_next in itertools.product(range(n_states), range(n_actions), range(n_states)):
        for column, k in enumerate(live):
            columns[row, column] = gamma * (s_next == k) - (s == k)
        row += 1
    return columns, live


def lstsq_fit(mdp, reward_a, reward_b, weights, fit_scale):
    """Weighted least squares ``c·R_a + γΦ(s') − Φ(s) ≈ R_b`` with ``c ≥ 0``: (Φ, c, residual).

    Solved with numpy on the explicit design matrix; a negative unconstrained ``c`` is
    replaced by 0 and the potential refitted (the constrained optimum of a convex
    quadratic in one variable).
    """
    weights = np.asarray(weights, dtype=np.float64)
    weights = weights / weights.sum()
    root = np.sqrt(weights.reshape(-1))
    columns, live = shaping_columns(mdp)
    target = np.asarray(reward_b).reshape(-1)
    if fit_scale:
        design = np.column_stack([columns, np.asarray(reward_a).reshape(-1)])
        solution = np.linalg.lstsq(root[:, None] * design, root * target, rcond=None)[0]
        scale = solution[-1]
        if scale < 0:
            scale = 0.0
            solution = np.linalg.lstsq(root[:, None] * columns, root * target, rcond=None)[0]
        coefficients = solution[: len(live)]
    else:
        scale = 1.0
        target = target - np.asarray(reward_a).reshape(-1)
        coefficients = np.linalg.lstsq(root[:, None] * columns, root * target, rcond=None)[0]
    fitted = scale * np.asarray(reward_a).reshape(-1) + columns @ coefficients
    residual = np.sqrt(
        np.sum(weights.reshape(-1) * (fitted - np.asarray(reward_b).reshape(-1)) ** 2)
    )
    potential = np.zeros(mdp.n_states)
    potential[live] = coefficients
    return potential, scale, residual


# ---------------------------------------------------------------------------
# potential_shaping and shaping_reward.


@pytest.mark.parametrize("name", MDPS)
def test_potential_shaping_matches_loops(name):
    mdp, reward = make_mdp(name)
    potential = np.random.default_rng(3).normal(size=mdp.n_states) * 5
    shaped = np.asarray(shaping.potential_shaping(mdp, reward, potential))
    np.testing.assert_allclose(shaped, loop_shaping(mdp, reward, potential), rtol=0, atol=1e-13)
    term = np.asarray(shaping.shaping_reward(mdp, potential))
    zero = np.zeros_like(reward)
    np.testing.assert_allclose(term, loop_shaping(mdp, zero, potential), rtol=0, atol=1e-13)


@pytest.mark.parametrize("name", ["terminal", "grid"])
def test_terminal_potential_is_forced_to_zero(name):
    mdp, reward = make_mdp(name)
    terminal = np.asarray(mdp.terminal)
    base = np.random.default_rng(4).normal(size=mdp.n_states)
    changed = base.copy()
    changed[terminal] = 1000.0  # whatever Φ says at terminal states, it is treated as 0
    zeroed = np.where(terminal, 0.0, base)
    for potential in (base, changed):
        shaped = np.asarray(shaping.potential_shaping(mdp, reward, potential))
        np.testing.assert_array_equal(
            shaped, np.asarray(shaping.potential_shaping(mdp, reward, zeroed))
        )
        # Entering a terminal state from s pays -Φ(s) only; leaving it pays γΦ(s').
        gamma = float(mdp.gamma)
        for t in np.flatnonzero(terminal):
            entering = np.broadcast_to(-zeroed[:, None], (mdp.n_states, mdp.n_actions))
            leaving = np.broadcast_to(gamma * zeroed[None, :], (mdp.n_actions, mdp.n_states))
            np.testing.assert_allclose(shaped[:, :, t] - reward[:, :, t], entering, atol=1e-13)
            np.testing.assert_allclose(shaped[t] - reward[t], leaving, atol=1e-13)


def test_potential_shaping_broadcasts_batches():
    mdp, _ = make_mdp("terminal")
    rng = np.random.default_rng(5)
    rewards = rng.normal(size=(2, 1, *((mdp.n_states, mdp.n_actions, mdp.n_states))))
    potentials = rng.normal(size=(3, mdp.n_states))
    shaped = np.asarray(shaping.potential_shaping(mdp, rewards, potentials))
    assert shaped.shape == (2, 3, mdp.n_states, mdp.n_actions, mdp.n_states)
    for i, j in itertools.product(range(2), range(3)):
        expected = loop_shaping(mdp, rewards[i, 0], potentials[j])
        np.testing.assert_allclose(shaped[i, j], expected, rtol=0, atol=1e-13)
    # One potential against a batch of rewards, and a batch of potentials for one reward.
    single = np.asarray(shaping.potential_shaping(mdp, rewards[:, 0], potentials[0]))
    assert single.shape == (2, mdp.n_states, mdp.n_actions, mdp.n_states)
    np.testing.assert_allclose(
        single[1], loop_shaping(mdp, rewards[1, 0], potentials[0]), atol=1e-13
    )
    terms = np.asarray(shaping.shaping_reward(mdp, potentials))
    assert terms.shape == (3, mdp.n_states, mdp.n_actions, mdp.n_states)
    np.testing.assert_allclose(
        terms[2], loop_shaping(mdp, 0 * rewards[0, 0], potentials[2]), atol=1e-13
    )


def test_shaping_rejects_bad_input():
    mdp, reward = make_mdp("dense")
    with pytest.raises(ValueError, match="potential"):
        shaping.potential_shaping(mdp, reward, np.zeros(mdp.n_states + 1))
    bad = np.zeros(mdp.n_states)
    bad[2] = np.nan
    with pytest.raises(ValueError, match=r"potential contains NaN at index \(2,\)"):
        shaping.shaping_reward(mdp, bad)
    with pytest.raises(ValueError, match="reward"):
        shaping.potential_shaping(mdp, reward[:, :, :-1], np.zeros(mdp.n_states))
    nan_reward = reward.copy()
    nan_reward[1, 0, 3] = np.nan
    with pytest.raises(ValueError, match=r"reward_b contains NaN at index \(1, 0, 3\)"):
        shaping.fit_potential(mdp, reward, nan_reward)
    with pytest.raises(ValueError, match="weights"):
        shaping.fit_potential(mdp, reward, reward, weights=-np.ones(reward.shape))
    with pytest.raises(ValueError, match="weights"):
        shaping.fit_potential(mdp, reward, reward, weights=np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"reward .* and potential .* do not broadcast"):
        shaping.potential_shaping(mdp, np.stack([reward] * 2), np.zeros((3, mdp.n_states)))
    with pytest.raises(ValueError, match=r"reward_a .* and reward_b .* do not broadcast"):
        shaping.fit_potential(mdp, np.stack([reward] * 2), np.stack([reward] * 3))


# ---------------------------------------------------------------------------
# fit_potential against an explicit weighted least-squares problem.


@pytest.mark.parametrize("name", MDPS)
@pytest.mark.parametrize("fit_scale", [False, True])
@pytest.mark.parametrize("weighting", ["uniform", "custom"])
def test_fit_potential_matches_lstsq(name, fit_scale, weighting):
    mdp, reward_a = make_mdp(name)
    rng = np.random.default_rng(6)
    potential = rng.normal(size=mdp.n_states) * 3
    noise = rng.normal(size=reward_a.shape)
    # R_b = 2.5·R_a + shaping + noise: a fit with a genuine positive scale and residual.
    reward_b = loop_shaping(mdp, 2.5 * reward_a + 0.3 * noise, potential)
    weights = None if weighting == "uniform" else rng.uniform(0.1, 2.0, size=reward_a.shape)
    fit = shaping.fit_potential(mdp, reward_a, reward_b, weights=weights, fit_scale=fit_scale)
    oracle_weights = np.ones(reward_a.shape) if weights is None else weights
    expected_potential, expected_scale, expected_residual = lstsq_fit(
        mdp, reward_a, reward_b, oracle_weights, fit_scale
    )
    np.testing.assert_allclose(np.asarray(fit.potential), expected_potential, atol=1e-9)
    np.testing.assert_allclose(float(fit.scale), expected_scale, atol=1e-10)
    np.testing.assert_allclose(float(fit.residual), expected_residual, rtol=1e-9)
    assert np.all(np.asarray(fit.potential)[np.asarray(mdp.terminal)] == 0)
    if fit_scale:
        assert 2.0 < float(fit.scale) < 3.0  # the planted scale is recovered, roughly


@pytest.mark.parametrize("name", ["dense", "terminal"])
def test_fit_potential_clips_a_negative_scale_at_zero(name):
    mdp, reward_a = make_mdp(name)
    rng = np.random.default_rng(7)
    reward_b = loop_shaping(
        mdp, -2 * reward_a + 0.1 * rng.normal(size=reward_a.shape), rng.normal(size=mdp.n_states)
    )
    fit = shaping.fit_potential(mdp, reward_a, reward_b, fit_scale=True)
    potential, scale, residual = lstsq_fit(mdp, reward_a, reward_b, np.ones(reward_a.shape), True)
    assert scale == 0.0 and float(fit.scale) == 0.0
    np.testing.assert_allclose(np.asarray(fit.potential), potential, atol=1e-9)
    np.testing.assert_allclose(float(fit.residual), residual, rtol=1e-9)


def test_fit_potential_with_zero_weights_fits_the_weighted_transitions():
    mdp, reward_a = make_mdp("dense")
    rng = np.random.default_rng(8)
    weights = rng.uniform(0.5, 1.5, size=reward_a.shape) * (rng.uniform(size=reward_a.shape) > 0.4)
    reward_b = loop_shaping(
        mdp, reward_a + 0.5 * rng.normal(size=reward_a.shape), rng.normal(size=4)
    )
    fit = shaping.fit_potential(mdp, reward_a, reward_b, weights=weights, fit_scale=True)
    _, scale, residual = lstsq_fit(mdp, reward_a, reward_b, weights, True)
    np.testing.assert_allclose(float(fit.scale), scale, atol=1e-10)
    np.testing.assert_allclose(float(fit.residual), residual, rtol=1e-9)


def test_fit_potential_broadcasts_batches():
    mdp, reward_a = make_mdp("terminal")
    rng = np.random.default_rng(9)
    batch_b = np.stack(
        [
            loop_shaping(
                mdp, c * reward_a + 0.2 * rng.normal(size=reward_a.shape), rng.normal(size=4)
            )
            for c in (0.5, 1.0, 4.0)
        ]
    )
    fit = shaping.fit_potential(mdp, reward_a, batch_b, fit_scale=True)
    assert fit.potential.shape == (3, 4) and fit.scale.shape == (3,) and fit.residual.shape == (3,)
    for i in range(3):
        potential, scale, residual = lstsq_fit(
            mdp, reward_a, batch_b[i], np.ones(reward_a.shape), True
        )
        np.testing.assert_allclose(np.asarray(fit.potential[i]), potential, atol=1e-9)
        np.testing.assert_allclose(float(fit.scale[i]), scale, atol=1e-10)
        np.testing.assert_allclose(float(fit.residual[i]), residual, rtol=1e-9)


def test_fit_potential_recovers_an_exact_shaping():
    mdp, reward = make_mdp("grid")
    potential = np.random.default_rng(10).normal(size=mdp.n_states)
    shaped = 3.0 * loop_shaping(mdp, reward, potential / 3.0)
    fit = shaping.fit_potential(mdp, reward, shaped, fit_scale=True)
    np.testing.assert_allclose(float(fit.scale), 3.0, atol=1e-10)
    np.testing.assert_allclose(np.asarray(fit.potential), live_potential(mdp, potential), atol=1e-9)
    assert float(fit.residual) < 1e-12


# ---------------------------------------------------------------------------
# is_potential_shaping.


@pytest.mark.parametrize("name", MDPS)
def test_is_potential_shaping_true_for_shaped_false_for_random(name):
    mdp, reward = make_mdp(name)
    rng = np.random.default_rng(11)
    potential = rng.normal(size=mdp.n_states) * 4
    shaped = loop_shaping(mdp, reward, potential)
    other = rng.normal(size=reward.shape)
    assert bool(shaping.is_potential_shaping(mdp, reward, shaped))
    assert not bool(shaping.is_potential_shaping(mdp, reward, other))
    # A small non-shaping change is detected too.
    assert not bool(shaping.is_potential_shaping(mdp, reward, shaped + 1e-4 * other))
    # Scaling needs fit_scale; a negative scale never counts.
    assert not bool(shaping.is_potential_shaping(mdp, reward, 3 * shaped))
    assert bool(shaping.is_potential_shaping(mdp, reward, 3 * shaped, fit_scale=True))
    assert not bool(shaping.is_potential_shaping(mdp, reward, -3 * shaped, fit_scale=True))
    batch = np.stack([shaped, other, 2 * shaped])
    np.testing.assert_array_equal(
        np.asarray(shaping.is_potential_shaping(mdp, reward, batch, fit_scale=True)),
        [True, False, True],
    )


@pytest.mark.parametrize("name", MDPS)
def test_is_potential_shaping_with_a_pure_shaping_reward(name):
    """A reward that is all shaping is ``0·R + shaping``, never ``c·R + shaping`` with ``c > 0``."""
    mdp, reward = make_mdp(name)
    rng = np.random.default_rng(12)
    for seed in range(6):
        pure = loop_shaping(
            mdp, np.zeros_like(reward), np.random.default_rng(seed).normal(size=mdp.n_states)
        )
        assert not bool(shaping.is_potential_shaping(mdp, reward, pure, fit_scale=True))
        assert not bool(shaping.is_potential_shaping(mdp, pure, reward, fit_scale=True))
        other = loop_shaping(mdp, np.zeros_like(reward), rng.normal(size=mdp.n_states))
        assert bool(shaping.is_potential_shaping(mdp, pure, other, fit_scale=True))
        assert bool(shaping.is_potential_shaping(mdp, pure, other))


def test_is_potential_shaping_ignores_transitions_without_weight():
    mdp, reward = make_mdp("dense")
    shaped = loop_shaping(mdp, reward, np.arange(4.0))
    changed = shaped.copy()
    changed[2, 1, :] += 5.0
    weights = np.ones(reward.shape)
    weights[2, 1, :] = 0.0
    assert not bool(shaping.is_potential_shaping(mdp, reward, changed))
    assert bool(shaping.is_potential_shaping(mdp, reward, changed, weights=weights))


# ---------------------------------------------------------------------------
# Policy invariance (Ng, Harada & Russell 1999).


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**16),
    gamma=st.floats(0.3, 0.95),
    potential=arrays(np.float64, 4, elements=st.floats(-10, 10)),
    terminal=st.sampled_from([(), (3,), (0, 2)]),
)
def test_shaping_preserves_optimal_policies_and_shifts_q(seed, gamma, potential, terminal):
    mdp, reward = rv.envs.random_mdp(4, 3, seed=seed, gamma=gamma)
    mdp = mdp.replace(terminal=list(terminal))
    shaped = shaping.potential_shaping(mdp, reward, potential)
    q = np.asarray(rv.solve.q_values(mdp, reward))
    q_shaped = np.asarray(rv.solve.q_values(mdp, shaped))
    phi = live_potential(mdp, potential)
    np.testing.assert_allclose(
        q_shaped, q - phi[:, None], atol=1e-8 * (1 + np.abs(q).max() + np.abs(phi).max())
    )
    np.testing.assert_array_equal(
        np.asarray(rv.solve.optimal_policy(mdp, shaped)),
        np.asarray(rv.solve.optimal_policy(mdp, reward)),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shaping_preserves_optimal_policies_in_an_episodic_gridworld(seed):
    """γ = 1: every loop of R is costly (rewards < 0), and shaping keeps loop totals."""
    mdp, _ = rv.envs.gridworld(["S..", ".#.", "..G"], gamma=1.0, slip=0.1)
    rng = np.random.default_rng(seed)
    reward = -1.0 - rng.uniform(size=(mdp.n_states, mdp.n_actions, mdp.n_states))
    potential = rng.normal(size=mdp.n_states) * 5
    shaped = shaping.potential_shaping(mdp, reward, potential)
    terminal = np.asarray(mdp.terminal)
    _, q = oracles.value_iteration(mdp.transitions, reward, 1.0, terminal)
    _, q_oracle_shaped = oracles.value_iteration(mdp.transitions, np.asarray(shaped), 1.0, terminal)
    phi = live_potential(mdp, potential)
    np.testing.assert_allclose(q_oracle_shaped, q - phi[:, None], atol=1e-8)
    np.testing.assert_allclose(
        np.asarray(rv.solve.q_values(mdp, shaped)), q - phi[:, None], atol=1e-8
    )
    np.testing.assert_array_equal(
        np.asarray(rv.solve.optimal_policy(mdp, shaped)),
        np.asarray(rv.solve.optimal_policy(mdp, reward)),
    )


def test_nonzero_terminal_potential_changes_the_optimal_policy():
    """The episodic pitfall: shaping with ``Φ(terminal) ≠ 0`` pays short episodes more.

    State 0 can exit at once (reward 1, return 1) or step to state 1 and exit from
    there (reward 1.5, return 0.9·1.5 = 1.35): stepping is optimal. With ``Φ(2) = 10``
    at the terminal state 2, hand-made shaping adds ``γΦ(2)`` to the early exit but
    only ``γ²Φ(2)`` (discounted) to the late one, so exiting at once becomes optimal.
    """
    transitions = np.zeros((3, 2, 3))
    transitions[0, 0, 2] = 1.0  # exit
    transitions[0, 1, 1] = 1.0  # step
    transitions[1, :, 2] = 1.0  # exit either way
    transitions[2, :, 2] = 1.0  # terminal, absorbing
    mdp = rv.TabularMDP(transitions, gamma=0.9, initial=[1.0, 0.0, 0.0], terminal=[2])
    reward = np.zeros((3, 2, 3))
    reward[0, 0, 2] = 1.0
    reward[1, :, 2] = 1.5
    potential = np.array([2.0, -3.0, 10.0])
    gamma = 0.9
    by_hand = reward + gamma * potential[None, None, :] - potential[:, None, None]

    step = np.array([[0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    exit_now = np.array([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(np.asarray(rv.solve.optimal_policy(mdp, reward)), step)
    np.testing.assert_array_equal(np.asarray(rv.solve.optimal_policy(mdp, by_hand)), exit_now)
    package = shaping.potential_shaping(mdp, reward, potential)
    np.testing.assert_array_equal(np.asarray(rv.solve.optimal_policy(mdp, package)), step)
    # Q*(0, ·): exit 1 + γΦ(2) − Φ(0) = 8 by hand; step γ·(1.5 + γΦ(2) − Φ(1)) − Φ(0) = 7.45.
    np.testing.assert_allclose(
        np.asarray(rv.solve.q_values(mdp, by_hand))[0], [8.0, 7.45], atol=1e-9
    )
    np.testing.assert_allclose(
        np.asarray(rv.solve.q_values(mdp, package))[0], [-1.0, -0.65], atol=1e-9
    )


def test_constant_shift_is_shaping_only_when_discounted():
    """γ < 1: adding c equals shaping with Φ ≡ c/(γ−1) on a continuing MDP; γ = 1: it does not."""
    mdp, reward = make_mdp("dense")
    gamma = float(mdp.gamma)
    shift = 2.0
    np.testing.assert_allclose(
        np.asarray(shaping.potential_shaping(mdp, reward, np.full(4, shift / (gamma - 1)))),
        reward + shift,
        atol=1e-12,
    )
    assert bool(shaping.is_potential_shaping(mdp, reward, reward + shift))
    grid, grid_reward = make_mdp("grid")
    assert not bool(
        shaping.is_potential_shaping(grid, grid_reward, np.asarray(grid_reward) + shift)
    )


def test_float32_shaping_keeps_precision_and_dtype():
    mdp64, reward = make_mdp("terminal")
    mdp32 = rv.TabularMDP(np.asarray(mdp64.transitions, np.float32), gamma=0.8, terminal=[1, 3])
    potential = np.random.default_rng(13).normal(size=4).astype(np.float32)
    shaped = shaping.potential_shaping(mdp32, reward.astype(np.float32), potential)
    assert shaped.dtype == jnp.float32
    np.testing.assert_allclose(
        np.asarray(shaped), loop_shaping(mdp32, reward, potential), atol=1e-5
    )
    assert bool(shaping.is_potential_shaping(mdp32, reward.astype(np.float32), shaped))
    assert bool(
        shaping.is_potential_shaping(mdp32, reward.astype(np.float32), 2 * shaped, fit_scale=True)
    )
    assert not bool(
        shaping.is_potential_shaping(mdp32, reward.astype(np.float32), -shaped, fit_scale=True)
    )


@pytest.mark.parametrize("gamma", [0.99, 0.999])
def test_float32_fit_stays_exact_at_long_horizons(gamma):
    """The normal equations lose every float32 digit near γ = 1; the fit must not."""
    mdp64, reward64 = rv.envs.random_mdp(32, 3, seed=3, gamma=gamma)
    mdp = rv.TabularMDP(np.asarray(mdp64.transitions, np.float32), gamma=gamma)
    reward = np.asarray(reward64, np.float32)
    potential = 3 * np.random.default_rng(0).normal(size=32).astype(np.float32)
    shaped = rv.shaping.potential_shaping(mdp, 2 * reward, potential)
    assert shaped.dtype == np.float32
    assert bool(rv.shaping.is_potential_shaping(mdp, reward, shaped, fit_scale=True))
    fit = rv.shaping.fit_potential(mdp, reward, shaped, fit_scale=True)
    np.testing.assert_allclose(float(fit.scale), 2.0, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(fit.potential), potential, atol=1e-3 * 3)
    assert float(rv.distances.npec(mdp, reward, shaped)) < 1e-4


@pytest.mark.parametrize("name", MDPS)
def test_progress_bonus_matches_loops_and_is_not_shaping(name):
    mdp, reward = make_mdp(name)
    potential = np.random.default_rng(4).normal(size=mdp.n_states)
    bonus = 0.7
    expected = reward.copy()
    for s, a, t in itertools.product(
        range(mdp.n_states), range(mdp.n_actions), range(mdp.n_states)
    ):
        if potential[t] > potential[s]:
            expected[s, a, t] += bonus
    hinted = rv.shaping.progress_bonus(mdp, reward, potential, bonus)
    np.testing.assert_allclose(np.asarray(hinted), expected, atol=1e-12)
    assert not bool(rv.shaping.is_potential_shaping(mdp, reward, hinted))
    with pytest.raises(ValueError, match="bonus must lie in"):
        rv.shaping.progress_bonus(mdp, reward, potential, -1.0)
