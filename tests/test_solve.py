"""Solvers in rewardviz.solve against loop oracles, closed forms and reward invariances.

Fixed random MDPs (with and without terminal states, dense and sparse) are checked
against ``tests/oracles.py`` in float64 to 1e-8; hypothesis then checks identities
that hold for every MDP (occupancy duality, V* ≥ V^π, potential shaping, scaling,
the soft-to-hard limit, float32 against float64). Batching, convergence reporting and
the error messages for bad input are covered at the end.
"""

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardviz as rv
from rewardviz import _kernels
from rewardviz.mdp import TabularMDP
from rewardviz.solve import ConvergenceError

ATOL = 1e-8


@dataclass(frozen=True)
class Case:
    """A random MDP with its reward, plus the same data as numpy arrays for the oracles."""

    mdp: TabularMDP
    reward: np.ndarray
    transitions: np.ndarray
    terminal: np.ndarray
    initial: np.ndarray
    gamma: float


# name: (seed, states, actions, gamma, terminal states, successors per (s, a))
CASE_SPECS = {
    "dense": (0, 4, 2, 0.9, (), None),
    "dense-terminal": (1, 4, 2, 0.8, (3,), None),
    "sparse": (2, 5, 3, 0.7, (), 2),
    "sparse-terminals": (3, 5, 3, 0.95, (0, 4), 2),
    "episodic-gamma-1": (4, 4, 2, 1.0, (1,), None),
    "myopic-gamma-0": (5, 4, 2, 0.0, (2,), None),
}


@functools.cache
def make_case(name: str) -> Case:
    seed, n_states, n_actions, gamma, terminal, n_successors = CASE_SPECS[name]
    mdp, reward = rv.envs.random_mdp(n_states, n_actions, seed=seed, n_successors=n_successors)
    # A start distribution that also puts mass on terminal states (they never act).
    initial = np.random.default_rng(seed).dirichlet(np.ones(n_states))
    mdp = mdp.replace(gamma=gamma, terminal=list(terminal), initial=initial)
    return Case(
        mdp=mdp,
        reward=np.asarray(reward),
        transitions=np.asarray(mdp.transitions),
        terminal=np.asarray(mdp.terminal),
        initial=initial,
        gamma=gamma,
    )


@functools.cache
def oracle_optimum(name: str):
    case = make_case(name)
    return oracles.value_iteration(case.transitions, case.reward, case.gamma, case.terminal)


def stochastic_policy(seed: int, n_states: int, n_actions: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(n_actions), size=n_states)


def deterministic_policy(seed: int, n_states: int, n_actions: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_actions, size=n_states)


cases = pytest.mark.parametrize("name", list(CASE_SPECS))


# ---------------------------------------------------------------------------
# Agreement with the loop oracles.


@cases
def test_value_iteration_matches_oracle(name):
    case = make_case(name)
    v_oracle, q_oracle = oracle_optimum(name)
    result = rv.solve.value_iteration(case.mdp, case.reward)
    np.testing.assert_allclose(result.values, v_oracle, atol=ATOL, rtol=0)
    np.testing.assert_allclose(result.q_values, q_oracle, atol=ATOL, rtol=0)
    np.testing.assert_allclose(
        rv.solve.q_values(case.mdp, case.reward), q_oracle, atol=ATOL, rtol=0
    )
    assert int(result.iterations) > 0
    assert bool(result.converged)
    # Terminal states are worth exactly 0 for every action.
    assert np.all(np.asarray(result.values)[case.terminal] == 0)
    assert np.all(np.asarray(result.q_values)[case.terminal] == 0)


@pytest.mark.parametrize("name", [n for n in CASE_SPECS if CASE_SPECS[n][3] < 1])
def test_policy_iteration_matches_the_loop_oracle_and_value_iteration(name):
    case = make_case(name)
    values, q, actions = oracles.policy_iteration(
        case.transitions, case.reward, case.gamma, case.terminal
    )
    result = rv.solve.policy_iteration(case.mdp, case.reward)
    np.testing.assert_allclose(result.values, values, atol=ATOL, rtol=0)
    np.testing.assert_allclose(result.q_values, q, atol=ATOL, rtol=0)
    live = ~case.terminal
    np.testing.assert_array_equal(np.asarray(result.actions)[live], actions[live])
    assert bool(result.converged) and int(result.iterations) >= 1
    # Policy iteration ends at the optimum: the values of value iteration.
    v_star, q_star = oracle_optimum(name)
    np.testing.assert_allclose(result.values, v_star, atol=ATOL, rtol=0)
    np.testing.assert_allclose(result.q_values, q_star, atol=ATOL, rtol=0)
    assert np.all(np.asarray(result.values)[case.terminal] == 0)


def test_policy_iteration_of_a_batch_equals_each_reward_alone():
    case = make_case("sparse-terminals")
    rewards = np.asarray(rv.envs.random_reward(case.mdp, seed=26, batch_shape=(2, 3)))
    result = rv.solve.policy_iteration(case.mdp, rewards)
    assert result.values.shape == (2, 3, case.mdp.n_states)
    assert result.actions.shape == (2, 3, case.mdp.n_states)
    for index in np.ndindex(2, 3):
        alone = rv.solve.policy_iteration(case.mdp, rewards[index])
        np.testing.assert_allclose(result.values[index], alone.values, atol=ATOL, rtol=0)
        np.testing.assert_allclose(
            result.values[index],
            rv.solve.value_iteration(case.mdp, rewards[index]).values,
            atol=ATOL,
            rtol=0,
        )


def test_policy_iteration_in_float32_agrees_with_value_iteration():
    mdp, reward = rv.envs.random_mdp(6, 3, seed=7, gamma=0.9)
    mdp = mdp.replace(transitions=np.asarray(mdp.transitions, np.float32))
    reward = np.asarray(reward, np.float32)
    result = rv.solve.policy_iteration(mdp, reward)
    assert result.values.dtype == np.float32
    np.testing.assert_allclose(
        result.values, rv.solve.value_iteration(mdp, reward).values, atol=1e-4, rtol=0
    )


def test_policy_iteration_refuses_gamma_one_and_reports_its_limit():
    case = make_case("episodic-gamma-1")
    with pytest.raises(ValueError, match="policy_iteration needs gamma < 1"):
        rv.solve.policy_iteration(case.mdp, case.reward)
    dense = make_case("dense")
    with pytest.raises(ConvergenceError, match="changed actions in all 1 steps"):
        rv.solve.policy_iteration(dense.mdp, dense.reward, max_iterations=1)


@cases
def test_policy_evaluation_of_deterministic_policy_matches_oracle(name):
    case = make_case(name)
    policy = deterministic_policy(10, case.mdp.n_states, case.mdp.n_actions)
    one_hot = np.eye(case.mdp.n_actions)[policy]
    expected = oracles.policy_evaluation(
        case.transitions, case.reward, case.gamma, one_hot, case.terminal
    )
    np.testing.assert_allclose(
        rv.solve.policy_evaluation(case.mdp, case.reward, policy), expected, atol=ATOL, rtol=0
    )


@cases
def test_policy_evaluation_of_stochastic_policy_matches_oracle(name):
    case = make_case(name)
    policy = stochastic_policy(11, case.mdp.n_states, case.mdp.n_actions)
    expected = oracles.policy_evaluation(
        case.transitions, case.reward, case.gamma, policy, case.terminal
    )
    np.testing.assert_allclose(
        rv.solve.policy_evaluation(case.mdp, case.reward, policy), expected, atol=ATOL, rtol=0
    )


@cases
def test_policy_q_values_match_oracle(name):
    case = make_case(name)
    policy = stochastic_policy(12, case.mdp.n_states, case.mdp.n_actions)
    expected = oracles.policy_q_values(
        case.transitions, case.reward, case.gamma, policy, case.terminal
    )
    np.testing.assert_allclose(
        rv.solve.policy_q_values(case.mdp, case.reward, policy), expected, atol=ATOL, rtol=0
    )


@cases
def test_policy_return_matches_oracle(name):
    case = make_case(name)
    policy = stochastic_policy(13, case.mdp.n_states, case.mdp.n_actions)
    expected = oracles.policy_return(
        case.transitions, case.reward, case.gamma, policy, case.initial, case.terminal
    )
    assert float(rv.solve.policy_return(case.mdp, case.reward, policy)) == pytest.approx(
        expected, abs=ATOL
    )


@cases
def test_occupancy_matches_forward_propagation(name):
    case = make_case(name)
    policy = stochastic_policy(14, case.mdp.n_states, case.mdp.n_actions)
    expected = oracles.occupancy(case.transitions, case.gamma, policy, case.initial, case.terminal)
    rho = rv.solve.occupancy(case.mdp, policy)
    np.testing.assert_allclose(rho, expected, atol=ATOL, rtol=0)
    assert np.all(np.asarray(rho)[case.terminal] == 0)


@cases
@pytest.mark.parametrize("temperature", [0.05, 1.0, 10.0])
def test_soft_q_values_match_oracle(name, temperature):
    case = make_case(name)
    _, expected = oracles.soft_value_iteration(
        case.transitions, case.reward, case.gamma, temperature, case.terminal
    )
    np.testing.assert_allclose(
        rv.solve.soft_q_values(case.mdp, case.reward, temperature), expected, atol=ATOL, rtol=0
    )


@cases
def test_optimal_policy_is_greedy_on_oracle_q(name):
    case = make_case(name)
    _, q_oracle = oracle_optimum(name)
    n_actions = case.mdp.n_actions
    expected = np.eye(n_actions)[np.argmax(q_oracle, axis=-1)]
    expected[case.terminal] = 1.0 / n_actions  # every action is worth 0 there
    np.testing.assert_allclose(rv.solve.optimal_policy(case.mdp, case.reward), expected, atol=1e-12)


def test_expected_reward_matches_oracle():
    case = make_case("sparse-terminals")
    np.testing.assert_allclose(
        rv.rewards.expected_reward(case.mdp, case.reward),
        oracles.expected_reward(case.transitions, case.reward),
        atol=1e-12,
    )


# ---------------------------------------------------------------------------
# Ties.


def test_optimal_policy_splits_duplicated_best_action_uniformly():
    # stay/switch with a third action that is an exact copy of switch.
    mdp, reward = rv.envs.stay_switch(gamma=0.9)
    transitions = np.asarray(mdp.transitions)
    transitions = np.concatenate([transitions, transitions[:, 1:]], axis=1)
    reward = np.asarray(reward)
    reward = np.concatenate([reward, reward[:, 1:]], axis=1)
    policy = rv.solve.optimal_policy(TabularMDP(transitions, gamma=0.9), reward)
    np.testing.assert_allclose(policy, [[0.0, 0.5, 0.5], [0.0, 0.5, 0.5]], atol=1e-12)


def test_optimal_policy_with_identical_actions_is_uniform():
    case = make_case("dense")
    transitions = np.repeat(case.transitions[:, :1], 3, axis=1)
    reward = np.repeat(case.reward[:, :1], 3, axis=1)
    policy = rv.solve.optimal_policy(TabularMDP(transitions, gamma=0.9), reward)
    np.testing.assert_allclose(policy, np.full((4, 3), 1 / 3), atol=1e-12)


def test_optimal_policy_splits_symmetric_gridworld_moves():
    # From the corner opposite the goal, right and down are equally good by symmetry.
    mdp, reward = rv.envs.gridworld(["S.", ".G"], gamma=0.9)
    right, down = np.eye(4)[1], np.eye(4)[2]
    expected = [(right + down) / 2, down, right, np.full(4, 0.25)]  # (0,0) (0,1) (1,0) goal
    np.testing.assert_allclose(rv.solve.optimal_policy(mdp, reward), expected, atol=1e-12)


def test_greedy_policy_tie_tolerance():
    q = np.array([[1.0, 1.0 + 1e-9, 0.5], [2.0, -1.0, 2.0]])
    np.testing.assert_allclose(rv.solve.greedy_policy(q), [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5]])
    np.testing.assert_allclose(
        rv.solve.greedy_policy(q, tie_tolerance=1e-12), [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]
    )


def test_boltzmann_policy_is_softmax():
    q = np.array([[0.0, 1.0, 2.0]])
    weights = np.exp(q / 0.5)
    np.testing.assert_allclose(
        rv.solve.boltzmann_policy(q, 0.5), weights / weights.sum(), rtol=1e-12
    )


# ---------------------------------------------------------------------------
# Batches of rewards and policies.


def test_batch_of_rewards_equals_solving_each():
    case = make_case("dense-terminal")
    rewards = np.asarray(rv.envs.random_reward(case.mdp, seed=20, batch_shape=(3,)))
    result = rv.solve.value_iteration(case.mdp, rewards)
    soft = rv.solve.soft_q_values(case.mdp, rewards, 0.5)
    assert result.values.shape == (3, 4)
    assert soft.shape == (3, 4, 2)
    for index, reward in enumerate(rewards):
        v_oracle, q_oracle = oracles.value_iteration(
            case.transitions, reward, case.gamma, case.terminal
        )
        np.testing.assert_allclose(result.values[index], v_oracle, atol=ATOL, rtol=0)
        np.testing.assert_allclose(result.q_values[index], q_oracle, atol=ATOL, rtol=0)
        _, soft_oracle = oracles.soft_value_iteration(
            case.transitions, reward, case.gamma, 0.5, case.terminal
        )
        np.testing.assert_allclose(soft[index], soft_oracle, atol=ATOL, rtol=0)


def test_one_policy_against_a_batch_of_rewards():
    case = make_case("dense-terminal")
    rewards = np.asarray(rv.envs.random_reward(case.mdp, seed=21, batch_shape=(3,)))
    policy = deterministic_policy(22, 4, 2)
    values = rv.solve.policy_evaluation(case.mdp, rewards, policy)
    assert values.shape == (3, 4)
    for index, reward in enumerate(rewards):
        expected = oracles.policy_evaluation(
            case.transitions, reward, case.gamma, np.eye(2)[policy], case.terminal
        )
        np.testing.assert_allclose(values[index], expected, atol=ATOL, rtol=0)


@pytest.mark.parametrize("gamma", [0.9, 1.0])
def test_policy_evaluation_of_many_states_matches_oracle(gamma):
    """70 states: an elimination in several blocks, the last one padded."""
    assert _kernels.BLOCK < 70 and 70 % _kernels.BLOCK
    mdp, reward = rv.envs.random_mdp(70, 3, seed=31)
    mdp = mdp.replace(gamma=gamma, terminal=[0, 33, 69])
    rewards = np.stack([np.asarray(reward), np.asarray(rv.envs.random_reward(mdp, seed=32))])
    transitions, terminal = np.asarray(mdp.transitions), np.asarray(mdp.terminal)
    policies = np.stack([stochastic_policy(seed, 70, 3) for seed in (33, 34)])
    one = rv.solve.policy_evaluation(mdp, rewards, policies[0])
    paired = rv.solve.policy_evaluation(mdp, rewards, policies)
    for index in range(2):
        expected = oracles.policy_evaluation(
            transitions, rewards[index], gamma, policies[0], terminal
        )
        np.testing.assert_allclose(one[index], expected, atol=ATOL, rtol=0)
        expected = oracles.policy_evaluation(
            transitions, rewards[index], gamma, policies[index], terminal
        )
        np.testing.assert_allclose(paired[index], expected, atol=ATOL, rtol=0)


def test_batch_of_policies_paired_with_batch_of_rewards():
    case = make_case("sparse-terminals")
    rewards = np.asarray(rv.envs.random_reward(case.mdp, seed=23, batch_shape=(3,)))
    policies = np.stack([stochastic_policy(seed, 5, 3) for seed in range(3)])
    values = rv.solve.policy_evaluation(case.mdp, rewards, policies)
    q = rv.solve.policy_q_values(case.mdp, rewards, policies)
    returns = rv.solve.policy_return(case.mdp, rewards, policies)
    assert values.shape == (3, 5) and q.shape == (3, 5, 3) and returns.shape == (3,)
    for index in range(3):
        args = (case.transitions, rewards[index], case.gamma, policies[index])
        np.testing.assert_allclose(
            values[index], oracles.policy_evaluation(*args, case.terminal), atol=ATOL, rtol=0
        )
        np.testing.assert_allclose(
            q[index], oracles.policy_q_values(*args, case.terminal), atol=ATOL, rtol=0
        )
        assert float(returns[index]) == pytest.approx(
            oracles.policy_return(*args, case.initial, case.terminal), abs=ATOL
        )


def test_leading_batch_dimensions_of_two():
    case = make_case("dense-terminal")
    rewards = np.asarray(rv.envs.random_reward(case.mdp, seed=24, batch_shape=(2, 3)))
    policies = np.stack([stochastic_policy(30 + seed, 4, 2) for seed in range(3)])  # [3, S, A]
    grid_policies = np.stack([policies, policies[::-1]])  # [2, 3, S, A]

    optimum = rv.solve.value_iteration(case.mdp, rewards)
    greedy = rv.solve.optimal_policy(case.mdp, rewards)
    values = rv.solve.policy_evaluation(case.mdp, rewards, policies)  # broadcast [3] with [2, 3]
    returns = rv.solve.policy_return(case.mdp, rewards, policies)
    rho = rv.solve.occupancy(case.mdp, grid_policies)
    assert optimum.values.shape == (2, 3, 4)
    assert greedy.shape == (2, 3, 4, 2)
    assert values.shape == (2, 3, 4)
    assert returns.shape == (2, 3)
    assert rho.shape == (2, 3, 4, 2)
    for i in range(2):
        for j in range(3):
            reward = rewards[i, j]
            v_oracle, q_oracle = oracles.value_iteration(
                case.transitions, reward, case.gamma, case.terminal
            )
            np.testing.assert_allclose(optimum.values[i, j], v_oracle, atol=ATOL, rtol=0)
            best = np.eye(2)[np.argmax(q_oracle, axis=-1)]
            best[case.terminal] = 0.5
            np.testing.assert_allclose(greedy[i, j], best, atol=1e-12)
            args = (case.transitions, reward, case.gamma, policies[j])
            np.testing.assert_allclose(
                values[i, j], oracles.policy_evaluation(*args, case.terminal), atol=ATOL, rtol=0
            )
            assert float(returns[i, j]) == pytest.approx(
                oracles.policy_return(*args, case.initial, case.terminal), abs=ATOL
            )
            np.testing.assert_allclose(
                rho[i, j],
                oracles.occupancy(
                    case.transitions, case.gamma, grid_policies[i, j], case.initial, case.terminal
                ),
                atol=ATOL,
                rtol=0,
            )


def test_policy_batch_broadcasts_against_reward_batch():
    case = make_case("dense")
    rewards = np.asarray(rv.envs.random_reward(case.mdp, seed=25, batch_shape=(3,)))
    policies = np.stack([stochastic_policy(40 + seed, 4, 2) for seed in range(2)])
    policies = policies[:, None]  # [2, 1, S, A]: broadcasts against the rewards' [3]
    values = rv.solve.policy_evaluation(case.mdp, rewards, policies)
    assert values.shape == (2, 3, 4)
    for i in range(2):
        for j in range(3):
            expected = oracles.policy_evaluation(
                case.transitions, rewards[j], case.gamma, policies[i, 0]
            )
            np.testing.assert_allclose(values[i, j], expected, atol=ATOL, rtol=0)


def test_batch_of_deterministic_policies():
    case = make_case("dense")
    policies = np.stack([deterministic_policy(seed, 4, 2) for seed in range(3)])  # [3, S]
    values = rv.solve.policy_evaluation(case.mdp, case.reward, policies)
    assert values.shape == (3, 4)
    for index, policy in enumerate(policies):
        expected = oracles.policy_evaluation(
            case.transitions, case.reward, case.gamma, np.eye(2)[policy]
        )
        np.testing.assert_allclose(values[index], expected, atol=ATOL, rtol=0)


# ---------------------------------------------------------------------------
# Closed forms.


@pytest.mark.parametrize("gamma", [0.9, 0.5, 0.99])
def test_stay_switch_closed_form(gamma):
    mdp, reward = rv.envs.stay_switch(gamma=gamma)
    scale = 1 / (1 - gamma**2)
    # Rows: states 0 and 1; columns: stay, switch.
    expected_q = np.array([[gamma * scale, scale], [gamma**2 * scale, gamma * scale]])
    result = rv.solve.value_iteration(mdp, reward)
    np.testing.assert_allclose(result.q_values, expected_q, rtol=1e-10)
    np.testing.assert_allclose(result.values, [scale, gamma * scale], rtol=1e-10)
    np.testing.assert_allclose(rv.solve.optimal_policy(mdp, reward), [[0, 1], [0, 1]])
    # Always switching is optimal; always staying collects nothing.
    np.testing.assert_allclose(
        rv.solve.policy_evaluation(mdp, reward, [1, 1]), [scale, gamma * scale], rtol=1e-12
    )
    np.testing.assert_allclose(rv.solve.policy_evaluation(mdp, reward, [0, 0]), [0, 0], atol=1e-15)
    # Switching from a uniform start spends half of every step in each state.
    np.testing.assert_allclose(
        rv.solve.occupancy(mdp, [1, 1]),
        [[0, 0.5 / (1 - gamma)], [0, 0.5 / (1 - gamma)]],
        rtol=1e-12,
    )


@pytest.mark.parametrize("slip", [0.0, 0.3])
def test_episodic_chain_with_gamma_one(slip):
    # Without discount and step costs, every state is worth the goal reward.
    mdp, reward = rv.envs.chain(5, gamma=1.0, slip=slip, goal_reward=2.0)
    result = rv.solve.value_iteration(mdp, reward)
    assert bool(result.converged) and int(result.iterations) > 0
    np.testing.assert_allclose(result.values, [2, 2, 2, 2, 0], atol=ATOL)
    np.testing.assert_allclose(result.q_values, [[2, 2]] * 4 + [[0, 0]], atol=ATOL)


def test_episodic_gridworld_with_gamma_one_counts_steps_to_goal():
    rows, cols = 3, 4
    layout = ["S...", "....", "...G"]
    mdp, reward = rv.envs.gridworld(layout, gamma=1.0, step_reward=-1.0, goal_reward=0.0)
    result = rv.solve.value_iteration(mdp, reward)
    assert bool(result.converged) and int(result.iterations) > 0
    goal = (rows - 1, cols - 1)

    def distance(cell):
        return abs(goal[0] - cell[0]) + abs(goal[1] - cell[1])

    expected_q = np.zeros((rows * cols, 4))
    for index, (row, col) in enumerate((r, c) for r in range(rows) for c in range(cols)):
        if (row, col) == goal:
            continue
        for action, (d_row, d_col) in enumerate([(-1, 0), (0, 1), (1, 0), (0, -1)]):
            target = (row + d_row, col + d_col)
            if not (0 <= target[0] < rows and 0 <= target[1] < cols):
                target = (row, col)
            expected_q[index, action] = -1 - distance(target)
    np.testing.assert_allclose(result.q_values, expected_q, atol=ATOL)
    np.testing.assert_allclose(result.values, expected_q.max(axis=1), atol=ATOL)


def test_episodic_gridworld_with_walls_and_slip_matches_oracle():
    mdp, reward = rv.envs.gridworld(["S.#.", "..L.", "#..G"], gamma=1.0, slip=0.2, step_reward=-0.1)
    v_oracle, q_oracle = oracles.value_iteration(
        np.asarray(mdp.transitions), np.asarray(reward), 1.0, np.asarray(mdp.terminal)
    )
    result = rv.solve.value_iteration(mdp, reward)
    np.testing.assert_allclose(result.values, v_oracle, atol=ATOL, rtol=0)
    np.testing.assert_allclose(result.q_values, q_oracle, atol=ATOL, rtol=0)


# ---------------------------------------------------------------------------
# Convergence reporting.


def test_value_iteration_repr():
    mdp, reward = rv.envs.stay_switch()
    text = repr(rv.solve.value_iteration(mdp, reward))
    assert text.startswith("ValueIterationResult(values(2,), q_values(2, 2), iterations=")
    assert text.endswith("converged=True)")


def test_too_few_iterations_raise_convergence_error():
    case = make_case("dense")
    with pytest.raises(ConvergenceError, match=r"value_iteration stopped after 3 iterations"):
        rv.solve.value_iteration(case.mdp, case.reward, max_iterations=3)
    with pytest.raises(ConvergenceError, match=r"soft_q_values stopped after 3 iterations"):
        rv.solve.soft_q_values(case.mdp, case.reward, 1.0, max_iterations=3)


def loop_or_finish_mdp(gamma: float = 1.0) -> TabularMDP:
    """States 0..2 choose between 'finish' (enter terminal state 3) and 'loop' (stay put)."""
    transitions = np.zeros((4, 2, 4))
    transitions[:, 0, 3] = 1.0
    transitions[np.arange(4), 1, np.arange(4)] = 1.0
    return TabularMDP(transitions, gamma=gamma, terminal=[3])


def test_gamma_one_with_a_rewarding_loop_does_not_converge():
    mdp = loop_or_finish_mdp()
    reward = np.zeros((4, 2, 4))
    reward[:, 1, :] = 1.0  # looping pays forever
    with pytest.raises(ConvergenceError, match="With gamma = 1"):
        rv.solve.value_iteration(mdp, reward, max_iterations=500)


def test_gamma_one_policy_evaluation_of_a_terminating_policy():
    mdp = loop_or_finish_mdp()
    reward = np.zeros((4, 2, 4))
    reward[:, 0, 3] = [1.0, 2.0, 3.0, 0.0]
    np.testing.assert_allclose(rv.solve.policy_evaluation(mdp, reward, [0, 0, 0, 1]), [1, 2, 3, 0])


def test_gamma_one_policy_that_never_terminates_names_the_state():
    mdp = loop_or_finish_mdp()
    reward = np.zeros((4, 2, 4))
    with pytest.raises(
        ValueError, match=r"from state 2 \(policy index \(\)\) it never does \(1 such states\)"
    ):
        rv.solve.policy_evaluation(mdp, reward, [0, 0, 1, 0])
    with pytest.raises(ValueError, match=r"from state 1 \(policy index \(1,\)\)"):
        rv.solve.policy_evaluation(mdp, reward, np.array([[0, 0, 0, 0], [0, 1, 0, 0]]))
    with pytest.raises(ValueError, match="from state 0"):
        rv.solve.policy_q_values(mdp, reward, [1, 0, 0, 0])
    with pytest.raises(ValueError, match="from state 0"):
        rv.solve.occupancy(mdp, [1, 0, 0, 0])
    # With discounting the same policy is fine: looping is worth 0 here.
    discounted = loop_or_finish_mdp(gamma=0.9)
    np.testing.assert_allclose(rv.solve.policy_evaluation(discounted, reward, [0, 0, 1, 0]), 0)


# ---------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize("shape", [(4, 2), (4, 2, 5), (3, 2, 4), (2, 4, 3, 4)])
def test_reward_of_wrong_shape(shape):
    case = make_case("dense")
    with pytest.raises(
        ValueError, match=r"reward must have shape \[\.\.\., S, A, S'\] = \(\.\.\., 4, 2, 4\)"
    ):
        rv.solve.value_iteration(case.mdp, np.zeros(shape))
    with pytest.raises(ValueError, match=r"reward must have shape"):
        rv.solve.policy_evaluation(case.mdp, np.zeros(shape), [0, 0, 0, 0])


@pytest.mark.parametrize(("bad_value", "kind"), [(np.nan, "NaN"), (np.inf, "an infinite value")])
def test_non_finite_reward_names_its_index(bad_value, kind):
    case = make_case("dense")
    reward = case.reward.copy()
    reward[1, 0, 2] = bad_value
    with pytest.raises(ValueError, match=rf"reward contains {kind} at index \(1, 0, 2\)"):
        rv.solve.q_values(case.mdp, reward)
    batch = np.stack([case.reward, reward])
    with pytest.raises(ValueError, match=rf"reward contains {kind} at index \(1, 1, 0, 2\)"):
        rv.solve.policy_evaluation(case.mdp, batch, rv.policies.uniform(case.mdp))
    with pytest.raises(ValueError, match=rf"reward contains {kind} at index \(1, 0, 2\)"):
        rv.solve.soft_q_values(case.mdp, reward, 1.0)


@pytest.mark.parametrize(("bad_value", "kind"), [(np.nan, "NaN"), (-np.inf, "an infinite value")])
@pytest.mark.parametrize("where", ["impossible transition", "terminal state", "action not taken"])
def test_policy_evaluation_names_non_finite_rewards_that_weigh_nothing(bad_value, kind, where):
    """A NaN or infinity the values never depend on is still an error naming its index.

    In a terminal state, under an action the policy never takes, or on a transition of
    probability 0, a finite reward there would not change ``V^π``.
    """
    case = make_case("sparse-terminals")  # terminal states 0 and 4, two successors per (s, a)
    policy = np.zeros(5, int)  # action 0 everywhere
    live = np.flatnonzero(~case.terminal)
    if where == "impossible transition":
        state = live[0]
        index = (state, 0, int(np.flatnonzero(case.transitions[state, 0] == 0)[0]))
    elif where == "terminal state":
        index = (0, 1, int(np.flatnonzero(case.transitions[0, 1] > 0)[0]))
    else:
        state = live[-1]
        index = (state, 2, int(np.flatnonzero(case.transitions[state, 2] > 0)[0]))
    reward = case.reward.copy()
    reward[index] = bad_value
    batch = np.stack([case.reward, case.reward, reward])
    where_text = ", ".join(str(i) for i in (2, *index))
    with pytest.raises(ValueError, match=rf"reward contains {kind} at index \({where_text}\)"):
        rv.solve.policy_evaluation(case.mdp, batch, policy)
    with pytest.raises(ValueError, match=rf"reward contains {kind} at index \({where_text}\)"):
        rv.solve.policy_return(case.mdp, batch, policy)


@pytest.mark.parametrize("mapped", ["policy", "mdp"])
def test_policy_evaluation_vmapped_over_other_arguments_still_checks_the_reward(mapped):
    case = make_case("dense")
    reward = case.reward.copy()
    reward[2, 1, 3] = np.nan
    policy = rv.policies.uniform(case.mdp)
    with pytest.raises(ValueError, match=r"reward contains NaN at index \(2, 1, 3\)"):
        if mapped == "policy":
            policies = jnp.stack([policy] * 3)
            jax.vmap(lambda p: rv.solve.policy_evaluation(case.mdp, reward, p))(policies)
        else:
            mdps = [case.mdp.replace(gamma=gamma) for gamma in (0.5, 0.9)]
            batch = jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *mdps)
            jax.vmap(lambda mdp: rv.solve.policy_evaluation(mdp, reward, policy))(batch)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (np.full((4, 3), 1 / 3), r"policy must have shape \[\.\.\., S, A\] = \(\.\.\., 4, 2\)"),
        (np.full((5, 2), 0.5), r"policy must have shape \[\.\.\., S, A\]"),
        (np.array([0, 1, 0]), r"policy must have shape \[\.\.\., S\] \(deterministic\)"),
        (np.array([0, 1, 5, 0]), r"policy picks action 5 at index \(2,\); actions are 0\.\.1"),
        (np.array([0, -1, 0, 0]), r"policy picks action -1 at index \(1,\)"),
        (
            np.array([[1.0, 0.0], [0.3, 0.2], [0.5, 0.5], [0.5, 0.5]]),
            r"policy\[1, :\] sums to 0\.5, not 1",
        ),
        (
            np.array([[1.5, -0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]),
            r"negative probability at index \(0, 1\)",
        ),
        (
            np.array([[1.0, 0.0], [0.5, 0.5], [np.nan, 0.5], [0.5, 0.5]]),
            r"policy contains NaN at index \(2, 0\)",
        ),
    ],
    ids=[
        "actions",
        "states",
        "det-states",
        "action-range",
        "negative-action",
        "row-sum",
        "negative",
        "nan",
    ],
)
def test_invalid_policy(policy, message):
    case = make_case("dense")
    with pytest.raises(ValueError, match=message):
        rv.solve.policy_evaluation(case.mdp, case.reward, policy)
    with pytest.raises(ValueError, match=message):
        rv.solve.occupancy(case.mdp, policy)


@pytest.mark.parametrize("temperature", [0.0, -1.0, np.nan, np.inf])
def test_temperature_must_be_positive(temperature):
    case = make_case("dense")
    with pytest.raises(ValueError, match="temperature must be a positive"):
        rv.solve.soft_q_values(case.mdp, case.reward, temperature)
    with pytest.raises(ValueError, match="temperature must be a positive"):
        rv.solve.boltzmann_policy(np.zeros((4, 2)), temperature)


@pytest.mark.parametrize("tol", [0.0, -1e-3])
def test_tolerance_must_be_positive(tol):
    case = make_case("dense")
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        rv.solve.value_iteration(case.mdp, case.reward, tol=tol)


def test_greedy_policy_needs_a_table():
    with pytest.raises(ValueError, match=r"q must have shape \[\.\.\., S, A\]"):
        rv.solve.greedy_policy(np.zeros(3))


def test_lifted_rewards_solve_like_full_rewards():
    case = make_case("dense-terminal")
    state_values = np.array([0.0, 1.0, -2.0, 3.0])
    full = np.broadcast_to(state_values[None, None, :], (4, 2, 4))
    _, expected = oracles.value_iteration(case.transitions, full, case.gamma, case.terminal)
    lifted = rv.rewards.state_reward(case.mdp, state_values)
    np.testing.assert_allclose(rv.solve.q_values(case.mdp, lifted), expected, atol=ATOL, rtol=0)
    table = case.reward[:, :, 0]
    lifted = rv.rewards.state_action_reward(case.mdp, table)
    _, expected = oracles.value_iteration(
        case.transitions, np.repeat(table[:, :, None], 4, axis=2), case.gamma, case.terminal
    )
    np.testing.assert_allclose(rv.solve.q_values(case.mdp, lifted), expected, atol=ATOL, rtol=0)


def test_lifting_and_solving_under_jit_and_vmap():
    case = make_case("dense-terminal")
    state_values = np.array([[0.0, 1.0, -2.0, 3.0], [1.0, 0.0, 0.5, -1.0]])

    def solve_state_reward(values):
        return rv.solve.q_values(case.mdp, rv.rewards.state_reward(case.mdp, values))

    batched = jax.vmap(solve_state_reward)(state_values)
    jitted = jax.jit(solve_state_reward)(state_values[1])
    for index, values in enumerate(state_values):
        full = np.broadcast_to(values[None, None, :], (4, 2, 4))
        _, expected = oracles.value_iteration(case.transitions, full, case.gamma, case.terminal)
        np.testing.assert_allclose(batched[index], expected, atol=ATOL, rtol=0)
    np.testing.assert_allclose(jitted, batched[1], atol=1e-12)


# ---------------------------------------------------------------------------
# Properties over random MDPs (hypothesis).


@st.composite
def random_cases(draw, terminal_states: bool = True, max_gamma: float = 0.95) -> Case:
    """A small random MDP, drawn as arrays (no compile per example beyond the shapes)."""
    n_states = draw(st.sampled_from([3, 5]))
    n_actions = draw(st.sampled_from([2, 3]))
    gamma = draw(st.floats(0.0, max_gamma))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    transitions = rng.dirichlet(np.full(n_states, 0.7), size=(n_states, n_actions))
    if draw(st.booleans()):  # sparse successors: keep two per (s, a)
        keep = np.argsort(rng.random(transitions.shape), axis=-1)[..., :2]
        sparse = np.zeros_like(transitions)
        np.put_along_axis(sparse, keep, np.take_along_axis(transitions, keep, -1), -1)
        transitions = sparse / sparse.sum(-1, keepdims=True)
    if terminal_states:
        terminal = np.array(draw(st.lists(st.booleans(), min_size=n_states, max_size=n_states)))
    else:
        terminal = np.zeros(n_states, dtype=bool)
    initial = rng.dirichlet(np.ones(n_states))
    reward = rng.normal(size=(n_states, n_actions, n_states))
    mdp = TabularMDP(transitions, gamma=gamma, initial=initial, terminal=terminal)
    return Case(mdp, reward, transitions, terminal, initial, gamma)


@given(random_cases(), st.integers(0, 2**32 - 1))
@settings(max_examples=15)
def test_solvers_match_oracles_on_random_mdps(case, policy_seed):
    n_states, n_actions = case.mdp.n_states, case.mdp.n_actions
    v_oracle, q_oracle = oracles.value_iteration(
        case.transitions, case.reward, case.gamma, case.terminal
    )
    result = rv.solve.value_iteration(case.mdp, case.reward)
    np.testing.assert_allclose(result.values, v_oracle, atol=ATOL, rtol=0)
    np.testing.assert_allclose(result.q_values, q_oracle, atol=ATOL, rtol=0)
    policy = stochastic_policy(policy_seed, n_states, n_actions)
    np.testing.assert_allclose(
        rv.solve.policy_evaluation(case.mdp, case.reward, policy),
        oracles.policy_evaluation(case.transitions, case.reward, case.gamma, policy, case.terminal),
        atol=ATOL,
        rtol=0,
    )


@given(random_cases(), st.integers(0, 2**32 - 1), st.booleans())
def test_occupancy_inner_product_equals_policy_return(case, policy_seed, deterministic):
    n_states, n_actions = case.mdp.n_states, case.mdp.n_actions
    if deterministic:
        policy = deterministic_policy(policy_seed, n_states, n_actions)
    else:
        policy = stochastic_policy(policy_seed, n_states, n_actions)
    expected_reward = oracles.expected_reward(case.transitions, case.reward)
    rho = np.asarray(rv.solve.occupancy(case.mdp, policy))
    expected_return = float(rv.solve.policy_return(case.mdp, case.reward, policy))
    assert float(np.sum(rho * expected_reward)) == pytest.approx(expected_return, abs=1e-9)


@given(random_cases(), st.integers(0, 2**32 - 1))
def test_optimal_values_dominate_every_policy(case, policy_seed):
    n_states, n_actions = case.mdp.n_states, case.mdp.n_actions
    optimal = np.asarray(rv.solve.value_iteration(case.mdp, case.reward).values)
    policies = np.stack(
        [stochastic_policy(policy_seed + k, n_states, n_actions) for k in range(3)]
        + [
            np.eye(n_actions)[deterministic_policy(policy_seed + k, n_states, n_actions)]
            for k in range(3)
        ]
    )
    values = np.asarray(rv.solve.policy_evaluation(case.mdp, case.reward, policies))
    assert np.all(values <= optimal + 1e-9)
    # The optimal policy itself attains V*.
    attained = rv.solve.policy_evaluation(
        case.mdp, case.reward, rv.solve.optimal_policy(case.mdp, case.reward)
    )
    np.testing.assert_allclose(attained, optimal, atol=1e-8)


@given(random_cases(), st.integers(0, 2**32 - 1), st.floats(0.1, 10.0))
def test_potential_shaping_shifts_q_by_the_potential(case, potential_seed, potential_scale):
    """Ng et al. (1999): R' = R + γΦ(s') − Φ(s), Φ = 0 at terminal states, gives Q*' = Q* − Φ(s)."""
    potential = potential_scale * np.random.default_rng(potential_seed).normal(
        size=case.mdp.n_states
    )
    potential[case.terminal] = 0.0
    shaped = case.reward + case.gamma * potential[None, None, :] - potential[:, None, None]
    q = np.asarray(rv.solve.q_values(case.mdp, case.reward))
    q_shaped = np.asarray(rv.solve.q_values(case.mdp, shaped))
    np.testing.assert_allclose(
        q_shaped, q - potential[:, None], atol=1e-8 * max(1.0, potential_scale)
    )
    np.testing.assert_array_equal(
        rv.solve.optimal_policy(case.mdp, shaped), rv.solve.optimal_policy(case.mdp, case.reward)
    )


@given(random_cases(), st.floats(0.1, 10.0))
def test_positive_scaling_keeps_optimal_policies(case, scale):
    q = np.asarray(rv.solve.q_values(case.mdp, case.reward))
    np.testing.assert_allclose(
        rv.solve.q_values(case.mdp, scale * case.reward), scale * q, atol=1e-8 * scale
    )
    np.testing.assert_array_equal(
        rv.solve.optimal_policy(case.mdp, scale * case.reward),
        rv.solve.optimal_policy(case.mdp, case.reward),
    )


@given(random_cases(terminal_states=False), st.floats(-5.0, 5.0))
def test_adding_a_constant_keeps_optimal_policies_without_terminal_states(case, constant):
    q = np.asarray(rv.solve.q_values(case.mdp, case.reward))
    shifted = rv.solve.q_values(case.mdp, case.reward + constant)
    np.testing.assert_allclose(
        shifted, q + constant / (1 - case.gamma), atol=1e-8 * (1 + abs(constant) / (1 - case.gamma))
    )
    np.testing.assert_array_equal(
        rv.solve.optimal_policy(case.mdp, case.reward + constant),
        rv.solve.optimal_policy(case.mdp, case.reward),
    )


@given(random_cases())
def test_soft_q_values_approach_hard_q_values(case):
    hard = np.asarray(rv.solve.q_values(case.mdp, case.reward))
    n_actions = case.mdp.n_actions
    for temperature in (1.0, 0.1, 0.01):
        soft = np.asarray(rv.solve.soft_q_values(case.mdp, case.reward, temperature))
        # Soft backups add at most τ·log A per step: 0 ≤ Q_τ − Q* ≤ γ·τ·log A/(1 − γ).
        bound = case.gamma * temperature * math.log(n_actions) / (1 - case.gamma)
        assert np.all(soft >= hard - 1e-8)
        assert np.all(soft <= hard + bound + 1e-8)


@given(random_cases(), st.integers(0, 2**32 - 1))
@settings(max_examples=20)
def test_float32_agrees_with_float64(case, policy_seed):
    mdp32 = TabularMDP(
        case.transitions.astype(np.float32),
        gamma=case.gamma,
        initial=case.initial.astype(np.float32),
        terminal=case.terminal,
    )
    reward32 = case.reward.astype(np.float32)
    policy = stochastic_policy(policy_seed, case.mdp.n_states, case.mdp.n_actions)

    def close(low, high):
        low, high = np.asarray(low), np.asarray(high)
        assert low.dtype == np.float32
        scale = max(1.0, float(np.abs(high).max()))
        np.testing.assert_allclose(low, high, atol=1e-4 * scale, rtol=0)

    close(
        rv.solve.value_iteration(mdp32, reward32).values,
        rv.solve.value_iteration(case.mdp, case.reward).values,
    )
    close(
        rv.solve.soft_q_values(mdp32, reward32, 0.5),
        rv.solve.soft_q_values(case.mdp, case.reward, 0.5),
    )
    close(
        rv.solve.policy_evaluation(mdp32, reward32, policy.astype(np.float32)),
        rv.solve.policy_evaluation(case.mdp, case.reward, policy),
    )
    close(
        rv.solve.occupancy(mdp32, policy.astype(np.float32)), rv.solve.occupancy(case.mdp, policy)
    )
