"""TabularMDP: every validation error with its message, and its behaviour as a JAX pytree.

Numbers computed under ``jit``/``vmap`` are compared with the loop oracles in
``tests/oracles.py``, never with the package's own unjitted results.
"""

import dataclasses
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest

import rewardviz as rv
from rewardviz.mdp import TabularMDP

STAY_SWITCH = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])


def three_state_transitions() -> np.ndarray:
    """A valid ``[3, 2, 3]`` kernel: action 0 stays, action 1 moves one state to the right."""
    transitions = np.zeros((3, 2, 3))
    for state in range(3):
        transitions[state, 0, state] = 1.0
        transitions[state, 1, (state + 1) % 3] = 1.0
    return transitions


# ---------------------------------------------------------------------------
# Construction and stored fields.


def test_valid_mdp_stores_converted_fields():
    mdp = TabularMDP(three_state_transitions(), gamma=0.9, terminal=[2])
    assert (mdp.n_states, mdp.n_actions) == (3, 2)
    assert mdp.dtype == jnp.float64
    assert float(mdp.gamma) == 0.9
    np.testing.assert_array_equal(np.asarray(mdp.initial), np.full(3, 1 / 3))
    np.testing.assert_array_equal(np.asarray(mdp.terminal), [False, False, True])
    np.testing.assert_array_equal(np.asarray(mdp.transitions), three_state_transitions())


def test_terminal_as_mask_equals_terminal_as_indices():
    by_index = TabularMDP(three_state_transitions(), gamma=0.9, terminal=[0, 2])
    by_mask = TabularMDP(three_state_transitions(), gamma=0.9, terminal=[True, False, True])
    np.testing.assert_array_equal(np.asarray(by_index.terminal), np.asarray(by_mask.terminal))
    empty = TabularMDP(three_state_transitions(), gamma=0.9, terminal=[])
    assert not np.asarray(empty.terminal).any()


def test_float32_input_keeps_its_precision():
    mdp = TabularMDP(STAY_SWITCH.astype(np.float32), gamma=0.9)
    assert mdp.dtype == jnp.float32
    assert mdp.initial.dtype == jnp.float32
    assert mdp.gamma.dtype == jnp.float32


def test_integer_transitions_become_floats():
    mdp = TabularMDP(STAY_SWITCH.astype(int), gamma=0.5)
    assert jnp.issubdtype(mdp.dtype, jnp.floating)


def test_float32_default_mode_converts_float64_input_quietly():
    """Outside the test session's x64 mode, float64 numpy input becomes float32 without warnings."""
    script = (
        "import rewardviz as rv; mdp, reward = rv.envs.gridworld(['S.G']); "
        "print(mdp.dtype, reward.dtype, rv.solve.q_values(mdp, reward).dtype)"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error:Explicitly requested dtype:UserWarning", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "JAX_ENABLE_X64": "0"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["float32", "float32", "float32"]


def test_gamma_one_with_terminal_states_is_accepted():
    mdp = TabularMDP(three_state_transitions(), gamma=1.0, terminal=[2])
    assert float(mdp.gamma) == 1.0


def test_names_and_grid_are_stored_as_tuples():
    mdp = TabularMDP(
        three_state_transitions(),
        gamma=0.9,
        state_names=["a", "b", "c"],
        action_names=["stay", "move"],
        grid_shape=(2, 2),
        grid_cells=[(0, 0), (0, 1), (1, 1)],
        grid_layout=["..", "#."],
    )
    assert mdp.state_names == ("a", "b", "c")
    assert mdp.action_names == ("stay", "move")
    assert mdp.grid_shape == (2, 2)
    assert mdp.grid_cells == ((0, 0), (0, 1), (1, 1))
    assert mdp.grid_layout == ("..", "#.")


def test_grid_cells_default_to_row_major_order():
    transitions = np.tile(np.eye(4)[:, None, :], (1, 1, 1))
    mdp = TabularMDP(transitions, gamma=0.9, grid_shape=(2, 2))
    assert mdp.grid_cells == ((0, 0), (0, 1), (1, 0), (1, 1))


# ---------------------------------------------------------------------------
# Validation errors: each one raised, with a message that says what is wrong and where.


def test_row_not_summing_to_one_names_row_and_tolerance():
    transitions = three_state_transitions()
    transitions[1, 0] = [0.0, 0.7, 0.2]
    with pytest.raises(
        ValueError, match=r"transitions\[1, 0, :\] sums to 0\.9, not 1 \(tolerance 1e-08\)"
    ):
        TabularMDP(transitions, gamma=0.9)


def test_row_within_tolerance_is_accepted_and_outside_is_not():
    transitions = three_state_transitions()
    transitions[2, 1, 0] += 5e-9
    TabularMDP(transitions, gamma=0.9)
    transitions[2, 1, 0] += 1e-7
    with pytest.raises(ValueError, match=r"transitions\[2, 1, :\] sums to"):
        TabularMDP(transitions, gamma=0.9)


def test_float32_rows_use_the_float32_tolerance():
    transitions = three_state_transitions().astype(np.float32)
    transitions[0, 0] = [0.99998, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"tolerance 1e-05"):
        TabularMDP(transitions, gamma=0.9)


def test_negative_probability_names_its_index():
    transitions = three_state_transitions()
    transitions[2, 1] = [1.25, -0.25, 0.0]
    with pytest.raises(ValueError, match=r"negative probability -0\.25 at index \(2, 1, 1\)"):
        TabularMDP(transitions, gamma=0.9)


@pytest.mark.parametrize(
    ("bad_value", "kind"),
    [(np.nan, "NaN"), (np.inf, "an infinite value"), (-np.inf, "an infinite value")],
)
def test_non_finite_transition_names_its_index(bad_value, kind):
    transitions = three_state_transitions()
    transitions[1, 1, 2] = bad_value
    with pytest.raises(ValueError, match=rf"transitions contains {kind} at index \(1, 1, 2\)"):
        TabularMDP(transitions, gamma=0.9)


@pytest.mark.parametrize("gamma", [-0.1, 1.0000001, 2.0, np.nan, np.inf])
def test_gamma_outside_unit_interval(gamma):
    with pytest.raises(ValueError, match=r"gamma must lie in \[0\.0, 1\.0\]"):
        TabularMDP(three_state_transitions(), gamma=gamma)


def test_gamma_one_without_terminal_states():
    with pytest.raises(ValueError, match="gamma == 1 needs terminal states"):
        TabularMDP(three_state_transitions(), gamma=1.0)
    with pytest.raises(ValueError, match="gamma == 1 needs terminal states"):
        TabularMDP(three_state_transitions(), gamma=1.0, terminal=[False, False, False])


@pytest.mark.parametrize(
    "shape",
    [(3, 2), (3, 2, 4), (2, 2, 3), (3, 2, 3, 1)],
    ids=["2d", "next-wider", "next-narrower", "4d"],
)
def test_transitions_of_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"transitions must have shape \[S, A, S'\]"):
        TabularMDP(np.full(shape, 1.0 / shape[-1]), gamma=0.9)


@pytest.mark.parametrize("shape", [(0, 2, 0), (3, 0, 3)], ids=["no-states", "no-actions"])
def test_empty_state_or_action_set(shape):
    with pytest.raises(ValueError, match="an MDP needs at least one of each"):
        TabularMDP(np.zeros(shape), gamma=0.9)


def test_non_numeric_transitions_raise_type_error():
    with pytest.raises(TypeError, match="transitions must hold numbers"):
        TabularMDP(np.full((2, 1, 2), "x"), gamma=0.9)
    with pytest.raises(TypeError, match="transitions must be real-valued"):
        TabularMDP(STAY_SWITCH.astype(complex), gamma=0.9)


def test_initial_of_wrong_shape():
    with pytest.raises(ValueError, match=r"initial must have shape \[S\] = \(3,\), got \(4,\)"):
        TabularMDP(three_state_transitions(), gamma=0.9, initial=np.full(4, 0.25))


def test_initial_not_a_distribution():
    with pytest.raises(ValueError, match=r"initial sums to 0\.9, not 1"):
        TabularMDP(three_state_transitions(), gamma=0.9, initial=[0.5, 0.2, 0.2])
    with pytest.raises(
        ValueError, match=r"initial has a negative probability -0\.5 at index \(1,\)"
    ):
        TabularMDP(three_state_transitions(), gamma=0.9, initial=[1.0, -0.5, 0.5])
    with pytest.raises(ValueError, match=r"initial contains NaN at index \(2,\)"):
        TabularMDP(three_state_transitions(), gamma=0.9, initial=[0.5, 0.5, np.nan])


def test_terminal_mask_of_wrong_shape():
    with pytest.raises(
        ValueError, match=r"terminal as a boolean mask must have shape \[S\] = \(3,\), got \(2,\)"
    ):
        TabularMDP(three_state_transitions(), gamma=0.9, terminal=[True, False])


@pytest.mark.parametrize("index", [3, -1])
def test_terminal_index_out_of_range(index):
    with pytest.raises(ValueError, match=rf"terminal holds state index {index}, outside 0\.\.2"):
        TabularMDP(three_state_transitions(), gamma=0.9, terminal=[0, index])


def test_terminal_neither_mask_nor_indices():
    with pytest.raises(ValueError, match="terminal must be a boolean mask of shape"):
        TabularMDP(three_state_transitions(), gamma=0.9, terminal=[0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="terminal must be a boolean mask of shape"):
        TabularMDP(three_state_transitions(), gamma=0.9, terminal=[[0, 1]])


@pytest.mark.parametrize(
    ("argument", "names", "count"),
    [("state_names", ["a", "b"], 3), ("action_names", ["stay", "move", "jump"], 2)],
)
def test_names_of_wrong_length(argument, names, count):
    with pytest.raises(
        ValueError, match=rf"{argument} must have {count} entries, got {len(names)}"
    ):
        TabularMDP(three_state_transitions(), gamma=0.9, **{argument: names})


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"grid_shape": (2, 2)}, r"grid_shape 2x2 has 4 cells but the MDP has 3 states"),
        ({"grid_shape": (0, 3)}, r"grid_shape must be two positive integers"),
        ({"grid_cells": [(0, 0), (0, 1), (0, 2)]}, r"grid_cells needs grid_shape"),
        (
            {"grid_shape": (2, 2), "grid_cells": [(0, 0), (0, 1)]},
            r"grid_cells must have one \(row, col\) per state, got 2",
        ),
        (
            {"grid_shape": (2, 2), "grid_cells": [(0, 0), (0, 1), (2, 0)]},
            r"grid_cells \(2, 0\) lies outside the 2x2 grid",
        ),
        (
            {"grid_shape": (2, 2), "grid_cells": [(0, 0), (0, 1), (0, 1)]},
            r"grid_cells puts two states on the same cell",
        ),
        ({"grid_layout": ["...", "..."]}, r"grid_layout needs grid_shape"),
        (
            {"grid_shape": (1, 3), "grid_layout": ["..", "."]},
            r"grid_layout must have 1 rows of 3 characters",
        ),
    ],
)
def test_grid_checks(grid, message):
    with pytest.raises(ValueError, match=message):
        TabularMDP(three_state_transitions(), gamma=0.9, **grid)


# ---------------------------------------------------------------------------
# replace and repr.


def test_replace_returns_a_validated_copy():
    mdp = TabularMDP(three_state_transitions(), gamma=0.9, state_names=["a", "b", "c"])
    changed = mdp.replace(gamma=0.5, terminal=[1])
    assert float(changed.gamma) == 0.5
    np.testing.assert_array_equal(np.asarray(changed.terminal), [False, True, False])
    assert changed.state_names == ("a", "b", "c")
    assert float(mdp.gamma) == 0.9  # the original is unchanged
    assert not np.asarray(mdp.terminal).any()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gamma": 1.5}, r"gamma must lie in \[0\.0, 1\.0\]"),
        ({"gamma": 1.0}, "gamma == 1 needs terminal states"),
        ({"terminal": [7]}, r"terminal holds state index 7"),
        ({"initial": [1.0, 1.0, 1.0]}, r"initial sums to 3, not 1"),
        ({"state_names": ["only-one"]}, r"state_names must have 3 entries, got 1"),
    ],
)
def test_replace_validates(changes, message):
    mdp = TabularMDP(three_state_transitions(), gamma=0.9)
    with pytest.raises(ValueError, match=message):
        mdp.replace(**changes)


def test_frozen():
    mdp = TabularMDP(three_state_transitions(), gamma=0.9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mdp.gamma = 0.5


def test_readable_repr():
    assert repr(TabularMDP(STAY_SWITCH, gamma=0.9)) == (
        "TabularMDP(states=2, actions=2, gamma=0.9, terminal=0 states)"
    )
    mdp = TabularMDP(three_state_transitions(), gamma=0.95, terminal=[1, 2], grid_shape=(1, 3))
    assert repr(mdp) == "TabularMDP(states=3, actions=2, gamma=0.95, terminal=2 states, grid=1x3)"


def test_repr_inside_jit_does_not_fail():
    printed = []

    def describe(mdp):
        printed.append(repr(mdp))
        return mdp.gamma

    jax.jit(describe)(TabularMDP(STAY_SWITCH, gamma=0.9))
    assert printed == ["TabularMDP(states=2, actions=2, gamma=<traced>, terminal=<traced> states)"]


# ---------------------------------------------------------------------------
# Pytree behaviour: flatten/unflatten, jit, vmap, no recompiles for a new gamma.


def stack(trees):
    """Stack pytrees with equal structure leaf by leaf (a batch of MDPs for vmap)."""
    return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *trees)


def test_flatten_unflatten_roundtrip():
    mdp = TabularMDP(
        three_state_transitions(),
        gamma=0.8,
        initial=[0.2, 0.3, 0.5],
        terminal=[2],
        state_names=["a", "b", "c"],
        action_names=["stay", "move"],
        grid_shape=(1, 3),
        grid_layout=["..G"],
    )
    leaves, treedef = jax.tree_util.tree_flatten(mdp)
    assert len(leaves) == 4
    np.testing.assert_array_equal(leaves[0], three_state_transitions())
    assert float(leaves[1]) == 0.8
    np.testing.assert_array_equal(leaves[2], [0.2, 0.3, 0.5])
    np.testing.assert_array_equal(leaves[3], [False, False, True])

    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert isinstance(rebuilt, TabularMDP)
    for field in ("transitions", "gamma", "initial", "terminal"):
        np.testing.assert_array_equal(
            np.asarray(getattr(rebuilt, field)), np.asarray(getattr(mdp, field))
        )
    for field in ("state_names", "action_names", "grid_shape", "grid_cells", "grid_layout"):
        assert getattr(rebuilt, field) == getattr(mdp, field)

    paths = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(mdp)[0]]
    assert paths == [".transitions", ".gamma", ".initial", ".terminal"]


def test_metadata_is_part_of_the_tree_structure():
    plain = TabularMDP(three_state_transitions(), gamma=0.9)
    named = TabularMDP(three_state_transitions(), gamma=0.5, state_names=["a", "b", "c"])
    other_gamma = TabularMDP(three_state_transitions(), gamma=0.5)
    assert jax.tree_util.tree_structure(plain) == jax.tree_util.tree_structure(other_gamma)
    assert jax.tree_util.tree_structure(plain) != jax.tree_util.tree_structure(named)


def test_tree_map_builds_an_mdp_without_revalidation():
    mdp = TabularMDP(three_state_transitions(), gamma=0.9)
    doubled = jax.tree_util.tree_map(lambda leaf: leaf * 2, mdp)
    assert isinstance(doubled, TabularMDP)
    assert float(doubled.gamma) == pytest.approx(1.8)  # not a valid MDP, but no error


def test_jit_over_a_function_taking_the_mdp():
    mdp, reward = rv.envs.random_mdp(4, 3, seed=3, gamma=0.8)
    mdp = mdp.replace(terminal=[1])
    transitions, terminal = np.asarray(mdp.transitions), np.asarray(mdp.terminal)
    policy = np.array([2, 0, 1, 1])

    @jax.jit
    def solve_all(mdp, reward, policy):
        return (
            rv.solve.q_values(mdp, reward),
            rv.solve.policy_evaluation(mdp, reward, policy),
            rv.solve.occupancy(mdp, policy),
            mdp.gamma * 2,
        )

    q, values, rho, doubled_gamma = solve_all(mdp, reward, jnp.asarray(policy))
    one_hot = np.eye(3)[policy]
    _, q_oracle = oracles.value_iteration(transitions, reward, 0.8, terminal)
    np.testing.assert_allclose(q, q_oracle, atol=1e-8)
    np.testing.assert_allclose(
        values, oracles.policy_evaluation(transitions, reward, 0.8, one_hot, terminal), atol=1e-10
    )
    np.testing.assert_allclose(
        rho,
        oracles.occupancy(transitions, 0.8, one_hot, np.asarray(mdp.initial), terminal),
        atol=1e-10,
    )
    assert float(doubled_gamma) == pytest.approx(1.6)


def test_vmap_over_a_stack_of_mdps():
    cases = [
        rv.envs.random_mdp(4, 2, seed=seed, gamma=gamma)
        for seed, gamma in [(0, 0.5), (1, 0.9), (2, 0.7)]
    ]
    terminals = [[], [3], [0, 2]]
    mdps = [
        mdp.replace(terminal=terminal) for (mdp, _), terminal in zip(cases, terminals, strict=True)
    ]
    rewards = jnp.stack([reward for _, reward in cases])
    policies = jnp.stack([rv.policies.uniform(mdp) for mdp in mdps])
    batch = stack(mdps)
    assert batch.transitions.shape == (3, 4, 2, 4)

    q = jax.vmap(rv.solve.q_values)(batch, rewards)
    values = jax.vmap(rv.solve.policy_evaluation)(batch, rewards, policies)
    soft = jax.vmap(lambda m, r: rv.solve.soft_q_values(m, r, 0.5))(batch, rewards)
    assert q.shape == soft.shape == (3, 4, 2)
    for index, mdp in enumerate(mdps):
        transitions, terminal = np.asarray(mdp.transitions), np.asarray(mdp.terminal)
        gamma = float(mdp.gamma)
        reward = np.asarray(rewards[index])
        _, q_oracle = oracles.value_iteration(transitions, reward, gamma, terminal)
        np.testing.assert_allclose(q[index], q_oracle, atol=1e-8)
        _, soft_oracle = oracles.soft_value_iteration(transitions, reward, gamma, 0.5, terminal)
        np.testing.assert_allclose(soft[index], soft_oracle, atol=1e-8)
        np.testing.assert_allclose(
            values[index],
            oracles.policy_evaluation(transitions, reward, gamma, np.full((4, 2), 0.5), terminal),
            atol=1e-10,
        )


def test_vmap_kernel_over_mdps_and_rewards_at_once():
    """One batch of MDPs, each paired with its own batch of rewards (vmap over the MDP axis)."""
    mdps = [rv.envs.random_mdp(3, 2, seed=seed, gamma=0.6 + 0.1 * seed)[0] for seed in range(2)]
    rewards = rv.envs.random_reward(mdps[0], seed=7, batch_shape=(2, 5))
    result = jax.vmap(rv.solve.value_iteration)(stack(mdps), rewards)
    values = result.values
    assert values.shape == (2, 5, 3)
    assert np.asarray(result.converged).all()
    # One iteration count per MDP: the two discounts converge at different speeds.
    assert repr(result).startswith(
        f"ValueIterationResult(values(2, 5, 3), q_values(2, 5, 3, 2), iterations={result.iterations}"
    )
    assert repr(result).endswith("converged=[ True  True])")
    for i, mdp in enumerate(mdps):
        for j in range(5):
            v_oracle, _ = oracles.value_iteration(
                np.asarray(mdp.transitions), np.asarray(rewards[i, j]), float(mdp.gamma)
            )
            np.testing.assert_allclose(values[i, j], v_oracle, atol=1e-8)


def test_new_gamma_does_not_recompile_value_iteration():
    mdp, reward = rv.envs.random_mdp(5, 3, seed=11, gamma=0.9)
    first = rv.solve.value_iteration(mdp, reward).values
    compiled = rv.solve._value_iteration._cache_size()
    second = rv.solve.value_iteration(mdp.replace(gamma=0.5), reward).values
    assert rv.solve._value_iteration._cache_size() == compiled
    v_half, _ = oracles.value_iteration(np.asarray(mdp.transitions), np.asarray(reward), 0.5)
    np.testing.assert_allclose(second, v_half, atol=1e-8)
    assert not np.allclose(first, second)
    # The counter does count: a new reward shape is a new program.
    rv.solve.value_iteration(mdp, jnp.stack([reward, reward, reward]))
    assert rv.solve._value_iteration._cache_size() == compiled + 1
