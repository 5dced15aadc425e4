"""Environment constructors in rewardviz.envs: gridworlds, chain, stay/switch, random MDPs, Gymnasium.

Gridworld dynamics are compared with a cell-by-cell reference built here with loops;
converted Gymnasium environments are solved by the package and compared with value
iteration run directly on the environment's own transition table ``env.unwrapped.P``.
"""

from types import SimpleNamespace

import gymnasium as gym
import jax
import numpy as np
import oracles
import pytest

import rewardviz as rv

UP, RIGHT, DOWN, LEFT = range(4)
MOVES = {UP: (-1, 0), RIGHT: (0, 1), DOWN: (1, 0), LEFT: (0, -1)}


def reference_gridworld(layout, *, slip=0.0, step=0.0, goal=1.0, lava=-1.0, cliff=-10.0):
    """``T[s, a, s']`` and expected reward ``r[s, a]`` of a layout, one cell and move at a time."""
    rows, cols = len(layout), len(layout[0])
    cells = [(r, c) for r in range(rows) for c in range(cols) if layout[r][c] not in "#C"]
    index = {cell: i for i, cell in enumerate(cells)}
    starts = [cell for cell in cells if layout[cell[0]][cell[1]] == "S"]
    n_states = len(cells)
    transitions = np.zeros((n_states, 4, n_states))
    expected = np.zeros((n_states, 4))
    for cell in cells:
        state = index[cell]
        if layout[cell[0]][cell[1]] in "GL":
            transitions[state, :, state] = 1.0
            continue
        for action in range(4):
            for direction, probability in [
                (action, 1 - slip),
                ((action + 1) % 4, slip / 2),
                ((action - 1) % 4, slip / 2),
            ]:
                target = (cell[0] + MOVES[direction][0], cell[1] + MOVES[direction][1])
                if not (0 <= target[0] < rows and 0 <= target[1] < cols):
                    target = cell
                char = layout[target[0]][target[1]]
                if char == "#":
                    target, char = cell, layout[cell[0]][cell[1]]
                if char == "C":
                    landing, value = starts[0], step + cliff
                else:
                    landing = target
                    value = step + {"G": goal, "L": lava}.get(char, 0.0)
                transitions[state, action, index[landing]] += probability
                expected[state, action] += probability * value
    return cells, transitions, expected


# ---------------------------------------------------------------------------
# Gridworld.


@pytest.mark.parametrize(
    ("layout", "options"),
    [
        (["S..#", "...G"], {}),
        (["S.#.", "..L.", "#..G"], {"slip": 0.2, "step_reward": -0.1}),
        (["S....", "CCCCG"], {"slip": 0.1, "step_reward": -1.0, "cliff_reward": -50.0}),
        (["..L", "S#G", "..."], {"slip": 1.0, "goal_reward": 5.0, "lava_reward": -3.0}),
    ],
    ids=["walls", "slip-lava", "cliff", "all-slip"],
)
def test_gridworld_matches_cell_by_cell_reference(layout, options):
    mdp, reward = rv.envs.gridworld(layout, **options)
    cells, transitions, expected = reference_gridworld(
        layout,
        slip=options.get("slip", 0.0),
        step=options.get("step_reward", 0.0),
        goal=options.get("goal_reward", 1.0),
        lava=options.get("lava_reward", -1.0),
        cliff=options.get("cliff_reward", -10.0),
    )
    assert mdp.grid_cells == tuple(cells)
    np.testing.assert_allclose(mdp.transitions, transitions, atol=1e-13)
    np.testing.assert_allclose(
        oracles.expected_reward(np.asarray(mdp.transitions), np.asarray(reward)),
        expected,
        atol=1e-12,
    )
    np.testing.assert_allclose(np.asarray(mdp.transitions).sum(-1), 1.0, atol=1e-12)


def test_walls_are_not_states_and_block_moves():
    mdp, _ = rv.envs.gridworld(["S.#", "..G"])
    assert mdp.n_states == 5
    assert (0, 2) not in mdp.grid_cells
    assert mdp.state_names == ("(0,0)", "(0,1)", "(1,0)", "(1,1)", "(1,2)")
    assert mdp.grid_shape == (2, 3)
    assert mdp.grid_layout == ("S.#", "..G")
    assert mdp.action_names == ("up", "right", "down", "left")
    transitions = np.asarray(mdp.transitions)
    # (0,1) moving right hits the wall; moving up leaves the grid: both stay put.
    np.testing.assert_array_equal(transitions[1, RIGHT], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(transitions[1, UP], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(transitions[1, DOWN], [0, 0, 0, 1, 0])


def test_slip_sends_half_of_it_to_each_perpendicular_direction():
    mdp, _ = rv.envs.gridworld(["...", ".S.", "..."], slip=0.3)
    centre, above, left_of, right_of, below = 4, 1, 3, 5, 7
    transitions = np.asarray(mdp.transitions)
    expected_up = np.zeros(9)
    expected_up[[above, right_of, left_of]] = [0.7, 0.15, 0.15]
    np.testing.assert_allclose(transitions[centre, UP], expected_up, atol=1e-13)
    expected_right = np.zeros(9)
    expected_right[[right_of, above, below]] = [0.7, 0.15, 0.15]
    np.testing.assert_allclose(transitions[centre, RIGHT], expected_right, atol=1e-13)


def test_goal_and_lava_are_terminal_and_pay_on_entry():
    mdp, reward = rv.envs.gridworld(["GSL"], goal_reward=2.0, lava_reward=-3.0, step_reward=-0.5)
    np.testing.assert_array_equal(np.asarray(mdp.terminal), [True, False, True])
    reward = np.asarray(reward)
    assert reward[1, LEFT, 0] == pytest.approx(1.5)
    assert reward[1, RIGHT, 2] == pytest.approx(-3.5)
    assert reward[1, UP, 1] == pytest.approx(-0.5)
    transitions = np.asarray(mdp.transitions)
    for terminal_state in (0, 2):
        np.testing.assert_array_equal(transitions[terminal_state], np.eye(3)[[terminal_state] * 4])
        assert np.all(reward[terminal_state] == 0)


def test_cliff_sends_back_to_start_with_cliff_reward():
    mdp, reward = rv.envs.gridworld(["S..", "CCG"], step_reward=-1.0, cliff_reward=-100.0)
    # States: (0,0) start, (0,1), (0,2), (1,2) goal.
    assert mdp.n_states == 4
    transitions = np.asarray(mdp.transitions)
    np.testing.assert_array_equal(transitions[1, DOWN], [1, 0, 0, 0])
    assert float(reward[1, DOWN, 0]) == pytest.approx(-101.0)
    np.testing.assert_array_equal(transitions[0, DOWN], [1, 0, 0, 0])
    assert float(reward[0, DOWN, 0]) == pytest.approx(-101.0)
    np.testing.assert_array_equal(transitions[2, DOWN], [0, 0, 0, 1])


def test_initial_distribution_is_uniform_over_start_cells():
    mdp, _ = rv.envs.gridworld(["S.S", "..G"])
    np.testing.assert_allclose(mdp.initial, [0.5, 0, 0.5, 0, 0, 0])
    no_start, _ = rv.envs.gridworld(["..", ".G"])
    np.testing.assert_allclose(no_start.initial, [1 / 3, 1 / 3, 1 / 3, 0])


def test_layout_as_one_multiline_string():
    from_string, reward_a = rv.envs.gridworld("S.\n.G\n")
    from_list, reward_b = rv.envs.gridworld(["S.", ".G"])
    np.testing.assert_array_equal(from_string.transitions, from_list.transitions)
    np.testing.assert_array_equal(reward_a, reward_b)


@pytest.mark.parametrize(
    ("layout", "options", "message"),
    [
        (["S.X", "..G"], {}, r"layout has unknown characters \['X'\]"),
        (["S..", ".G"], {}, r"layout rows must all have the same length, got lengths \[2, 3\]"),
        (["...", "CCG"], {}, r"a layout with cliff cells 'C' needs a start cell 'S'"),
        ([], {}, "layout must be a non-empty list of strings"),
        (["##", "#C"], {}, "layout has no free cells"),
        (["S.G"], {"slip": 1.5}, r"slip must lie in \[0\.0, 1\.0\]"),
    ],
    ids=["unknown", "ragged", "cliff-without-start", "empty", "no-free-cells", "slip"],
)
def test_gridworld_errors(layout, options, message):
    with pytest.raises(ValueError, match=message):
        rv.envs.gridworld(layout, **options)


# ---------------------------------------------------------------------------
# Chain and stay/switch.


def test_chain_dynamics_and_reward():
    mdp, reward = rv.envs.chain(4, goal_reward=3.0, slip=0.25)
    transitions = np.asarray(mdp.transitions)
    left, right = 0, 1
    np.testing.assert_allclose(transitions[0, left], [0.75, 0.25, 0, 0])  # slips right
    np.testing.assert_allclose(transitions[0, right], [0.25, 0.75, 0, 0])
    np.testing.assert_allclose(transitions[2, left], [0, 0.75, 0, 0.25])
    np.testing.assert_allclose(transitions[2, right], [0, 0.25, 0, 0.75])
    np.testing.assert_array_equal(transitions[3], [[0, 0, 0, 1], [0, 0, 0, 1]])
    np.testing.assert_array_equal(np.asarray(mdp.terminal), [False, False, False, True])
    np.testing.assert_array_equal(np.asarray(mdp.initial), [1, 0, 0, 0])
    expected_reward = np.zeros((4, 2, 4))
    expected_reward[:3, :, 3] = 3.0
    np.testing.assert_array_equal(reward, expected_reward)
    assert mdp.action_names == ("left", "right")
    assert mdp.grid_layout == ("S..G",)


@pytest.mark.parametrize(
    ("n_states", "options", "message"),
    [(1, {}, "at least 2"), (3, {"slip": -0.1}, "slip must lie")],
)
def test_chain_errors(n_states, options, message):
    with pytest.raises(ValueError, match=message):
        rv.envs.chain(n_states, **options)


def test_stay_switch_fixture():
    mdp, reward = rv.envs.stay_switch(gamma=0.7)
    np.testing.assert_array_equal(mdp.transitions, [[[1, 0], [0, 1]], [[0, 1], [1, 0]]])
    expected_reward = np.zeros((2, 2, 2))
    expected_reward[0, 1, 1] = 1.0
    np.testing.assert_array_equal(reward, expected_reward)
    assert float(mdp.gamma) == pytest.approx(0.7)
    assert mdp.action_names == ("stay", "switch")
    assert not np.asarray(mdp.terminal).any()


# ---------------------------------------------------------------------------
# Random MDPs and rewards.


def test_random_mdp_is_reproducible_and_seed_dependent():
    mdp_a, reward_a = rv.envs.random_mdp(4, 3, seed=7, gamma=0.8)
    mdp_b, reward_b = rv.envs.random_mdp(4, 3, seed=7, gamma=0.8)
    mdp_c, reward_c = rv.envs.random_mdp(4, 3, seed=8, gamma=0.8)
    np.testing.assert_array_equal(mdp_a.transitions, mdp_b.transitions)
    np.testing.assert_array_equal(reward_a, reward_b)
    assert not np.allclose(mdp_a.transitions, mdp_c.transitions)
    assert not np.allclose(reward_a, reward_c)
    keyed, keyed_reward = rv.envs.random_mdp(4, 3, seed=jax.random.key(7), gamma=0.8)
    np.testing.assert_array_equal(keyed.transitions, mdp_a.transitions)
    np.testing.assert_array_equal(keyed_reward, reward_a)
    assert mdp_a.transitions.shape == (4, 3, 4)
    assert reward_a.shape == (4, 3, 4)
    assert float(mdp_a.gamma) == pytest.approx(0.8)
    np.testing.assert_allclose(np.asarray(mdp_a.transitions).sum(-1), 1.0, atol=1e-12)


@pytest.mark.parametrize("n_successors", [1, 2, 4])
def test_random_mdp_respects_n_successors(n_successors):
    mdp, _ = rv.envs.random_mdp(4, 3, seed=3, n_successors=n_successors)
    counts = (np.asarray(mdp.transitions) > 0).sum(-1)
    np.testing.assert_array_equal(counts, np.full((4, 3), n_successors))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_successors": 0}, r"n_successors must lie in 1\.\.4"),
        ({"n_successors": 5}, r"n_successors must lie in 1\.\.4"),
        ({"concentration": 0.0}, "concentration must be positive"),
    ],
)
def test_random_mdp_errors(options, message):
    with pytest.raises(ValueError, match=message):
        rv.envs.random_mdp(4, 2, seed=0, **options)
    with pytest.raises(ValueError, match="must be positive"):
        rv.envs.random_mdp(0, 2, seed=0)


def test_random_reward_shape_and_seeds():
    mdp, _ = rv.envs.random_mdp(4, 3, seed=0)
    rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=(2, 5))
    assert rewards.shape == (2, 5, 4, 3, 4)
    assert rewards.dtype == mdp.dtype
    assert rv.envs.random_reward(mdp, seed=1).shape == (4, 3, 4)
    np.testing.assert_array_equal(rewards, rv.envs.random_reward(mdp, seed=1, batch_shape=(2, 5)))
    assert not np.allclose(rewards, rv.envs.random_reward(mdp, seed=2, batch_shape=(2, 5)))
    # Draws within the batch are distinct rewards.
    assert not np.allclose(rewards[0, 0], rewards[1, 3])
    keyed = rv.envs.random_reward(mdp, seed=jax.random.key(1), batch_shape=(2, 5))
    np.testing.assert_array_equal(keyed, rewards)


def test_random_reward_takes_the_old_seed_first_order_with_a_warning():
    mdp, _ = rv.envs.random_mdp(4, 3, seed=0)
    with pytest.warns(DeprecationWarning, match=r"random_reward\(mdp, seed="):
        old = rv.envs.random_reward(1, mdp)
    np.testing.assert_array_equal(old, rv.envs.random_reward(mdp, seed=1))
    with pytest.warns(DeprecationWarning, match="batch_shape="):
        old = rv.envs.random_reward(1, mdp, (2,))
    np.testing.assert_array_equal(old, rv.envs.random_reward(mdp, seed=1, batch_shape=(2,)))
    with pytest.warns(DeprecationWarning):
        old = rv.envs.random_reward(1, mdp, batch_shape=(2,))
    assert old.shape == (2, 4, 3, 4)


# ---------------------------------------------------------------------------
# Gymnasium toy-text environments.


GYM_CASES = {
    "frozenlake-4x4": ("FrozenLake-v1", {}, 0.99),
    "frozenlake-8x8": ("FrozenLake-v1", {"map_name": "8x8"}, 0.95),
    "cliffwalking": ("CliffWalking-v1", {}, 0.9),
    "taxi": ("Taxi-v4", {}, 0.9),
}


@pytest.mark.parametrize("name", list(GYM_CASES))
def test_from_gymnasium_optimal_values_match_table_oracle(name):
    env_id, kwargs, gamma = GYM_CASES[name]
    env = gym.make(env_id, **kwargs)
    table = env.unwrapped.P
    mdp, reward = rv.envs.from_gymnasium(env, gamma=gamma)
    n_states, n_actions = env.observation_space.n, env.action_space.n
    assert (mdp.n_states, mdp.n_actions) == (n_states, n_actions)
    assert float(mdp.gamma) == pytest.approx(gamma)
    np.testing.assert_allclose(mdp.initial, env.unwrapped.initial_state_distrib, atol=1e-13)

    v_oracle, q_oracle = oracles.gymnasium_value_iteration(table, n_states, n_actions, gamma)
    result = rv.solve.value_iteration(mdp, reward)
    # Compare where an episode can act: states reached from the start without terminating.
    acting = oracles.gymnasium_acting_states(table, env.unwrapped.initial_state_distrib)
    assert acting.sum() > 0
    np.testing.assert_allclose(
        np.asarray(result.values)[acting], v_oracle[acting], atol=1e-8, rtol=0
    )
    np.testing.assert_allclose(
        np.asarray(result.q_values)[acting], q_oracle[acting], atol=1e-8, rtol=0
    )
    # States entered by a terminating outcome are the MDP's terminal states.
    entered_by_termination = np.zeros(n_states, dtype=bool)
    for actions in table.values():
        for outcomes in actions.values():
            for probability, next_state, _, terminated in outcomes:
                if terminated and probability > 0:
                    entered_by_termination[next_state] = True
    np.testing.assert_array_equal(np.asarray(mdp.terminal), entered_by_termination)


@pytest.mark.parametrize("map_name", ["4x4", "8x8"])
def test_frozenlake_layout_terminals_and_slippery_moves(map_name):
    env = gym.make("FrozenLake-v1", map_name=map_name)
    mdp, reward = rv.envs.from_gymnasium(env)
    desc = ["".join(cell.decode() for cell in row) for row in env.unwrapped.desc]
    size = len(desc)
    assert mdp.grid_shape == (size, size)
    assert mdp.grid_layout == tuple(desc)
    assert mdp.action_names == ("left", "down", "right", "up")
    holes_and_goal = np.array([char in "HG" for char in "".join(desc)])
    np.testing.assert_array_equal(np.asarray(mdp.terminal), holes_and_goal)
    # Slippery: 'left' from the top-left corner stays (left or up) w.p. 2/3, goes down w.p. 1/3.
    expected = np.zeros(size * size)
    expected[0], expected[size] = 2 / 3, 1 / 3
    np.testing.assert_allclose(mdp.transitions[0, 0], expected, atol=1e-12)
    # Entering the goal pays 1: the goal sits in the bottom-right corner.
    goal = size * size - 1
    assert float(reward[goal - 1, 2, goal]) == pytest.approx(1.0)  # 'right' into the goal
    # On the full table, including terminal states, values agree too.
    v_oracle, _ = oracles.gymnasium_value_iteration(env.unwrapped.P, size * size, 4, 0.99)
    np.testing.assert_allclose(rv.solve.value_iteration(mdp, reward).values, v_oracle, atol=1e-8)


def test_cliffwalking_layout_and_actions():
    env = gym.make("CliffWalking-v1")
    mdp, reward = rv.envs.from_gymnasium(env)
    assert mdp.grid_shape == (4, 12)
    assert mdp.grid_layout == ("." * 12, "." * 12, "." * 12, "S" + "C" * 10 + "G")
    assert mdp.action_names == ("up", "right", "down", "left")
    start, goal = 36, 47
    np.testing.assert_array_equal(np.flatnonzero(np.asarray(mdp.terminal)), [goal])
    assert float(mdp.initial[start]) == 1.0
    # Stepping right from the start falls off the cliff: back to the start, -100.
    assert float(mdp.transitions[start, 1, start]) == 1.0
    assert float(reward[start, 1, start]) == pytest.approx(-100.0)


def test_taxi_terminal_states_and_action_names():
    env = gym.make("Taxi-v4")
    base = env.unwrapped
    mdp, _ = rv.envs.from_gymnasium(env)
    assert mdp.action_names == ("south", "north", "east", "west", "pickup", "dropoff")
    assert mdp.grid_shape is None
    delivered = np.zeros(500, dtype=bool)
    for state in range(500):
        row, col, passenger, destination = base.decode(state)
        delivered[state] = passenger == destination and (row, col) == tuple(base.locs[destination])
    np.testing.assert_array_equal(np.asarray(mdp.terminal), delivered)
    assert delivered.sum() == 4


def fake_toy_text(table, n_states, n_actions):
    """An object shaped like a toy-text environment: ``P``, and the two discrete spaces."""
    return SimpleNamespace(
        P=table,
        observation_space=SimpleNamespace(n=n_states),
        action_space=SimpleNamespace(n=n_actions),
    )


def test_from_gymnasium_merges_outcomes_reaching_the_same_state():
    table = {
        0: {0: [(0.25, 1, 4.0, False), (0.25, 1, 0.0, False), (0.5, 0, 1.0, False)]},
        1: {0: [(1.0, 1, 0.0, False)]},
    }
    mdp, reward = rv.envs.from_gymnasium(fake_toy_text(table, 2, 1), gamma=0.5)
    np.testing.assert_allclose(mdp.transitions, [[[0.5, 0.5]], [[0.0, 1.0]]])
    assert float(reward[0, 0, 1]) == pytest.approx(2.0)
    assert float(reward[0, 0, 0]) == pytest.approx(1.0)
    np.testing.assert_allclose(mdp.initial, [0.5, 0.5])
    assert not np.asarray(mdp.terminal).any()


def test_from_gymnasium_rejects_a_transition_that_both_ends_and_continues():
    table = {
        0: {0: [(0.5, 1, 1.0, True), (0.5, 1, 0.0, False)]},
        1: {0: [(1.0, 1, 0.0, True)]},
    }
    with pytest.raises(
        ValueError, match=r"both terminates and continues on transition \(0, 0, 1\)"
    ):
        rv.envs.from_gymnasium(fake_toy_text(table, 2, 1))


def test_from_gymnasium_rejects_environments_without_a_table():
    env = gym.make("CartPole-v1")
    with pytest.raises(
        TypeError,
        match=r"needs a toy-text environment with a transition table P.*CartPoleEnv has none",
    ):
        rv.envs.from_gymnasium(env)
    with pytest.raises(TypeError, match="object has none"):
        rv.envs.from_gymnasium(object())


def test_steps_to_goal_counts_the_shortest_paths():
    # Fewest steps to G from each state (row-major), counted by hand; the lava (last
    # state) cannot reach G and counts one more than the furthest state that can (5).
    mdp, _ = rv.envs.gridworld(["S..#", ".#.G", "...L"])
    np.testing.assert_array_equal(rv.envs.steps_to_goal(mdp), [4, 3, 2, 5, 1, 0, 4, 3, 2, 6])
    # Without a G, every terminal state is a goal; a walled-off state counts one more.
    lava_only, _ = rv.envs.gridworld(["S.L"])
    np.testing.assert_array_equal(rv.envs.steps_to_goal(lava_only), [2, 1, 0])
    walled, _ = rv.envs.gridworld(["S#.G"])
    np.testing.assert_array_equal(rv.envs.steps_to_goal(walled), [2, 1, 0])


def test_steps_to_goal_without_a_terminal_state_says_there_is_no_goal():
    open_grid, _ = rv.envs.gridworld(["S..", "..."])
    with pytest.raises(ValueError, match=r"no terminal state.*mark one"):
        rv.envs.steps_to_goal(open_grid)


def test_random_mdp_takes_the_old_seed_first_order_with_a_warning():
    mdp, reward = rv.envs.random_mdp(4, 3, seed=5, gamma=0.8)
    for old_call in (
        lambda: rv.envs.random_mdp(5, 4, 3, gamma=0.8),
        lambda: rv.envs.random_mdp(5, n_states=4, n_actions=3, gamma=0.8),
    ):
        with pytest.warns(DeprecationWarning, match=r"random_mdp\(n_states, n_actions, seed="):
            old_mdp, old_reward = old_call()
        np.testing.assert_array_equal(old_mdp.transitions, mdp.transitions)
        np.testing.assert_array_equal(old_reward, reward)
