"""Tests of MDPExplorer: controls re-solve and redraw the same figure, without recompiling."""

import numpy as np
import pytest

import rewardviz as rv
from rewardviz import _kernels, solve
from rewardviz.plots._grid import ARROW_REACH

#: A near small goal (left, two steps) and a far big one (right, five steps): a short-
#: sighted agent goes left, a far-sighted one goes right.
LAYOUT = ["G.S....G"]
START = 2


@pytest.fixture(scope="module")
def two_goals():
    mdp, _ = rv.envs.gridworld(LAYOUT, gamma=0.9)
    entering = np.zeros(mdp.n_states)
    entering[0], entering[-1] = 1.0, 10.0
    return mdp, rv.rewards.state_reward(mdp, entering)


@pytest.fixture(scope="module")
def slippery():
    return rv.envs.gridworld(["S..#", ".#.G", "...L"], slip=0.2, step_reward=-0.05)


def heatmap_z(explorer):
    (heatmap,) = [trace for trace in explorer.fig.data if trace.name == "values"]
    return np.asarray(heatmap.z, dtype=float)


def values_on_grid(mdp, values):
    """The values as drawn: NaN off the states and at terminal states (own colours)."""
    grid = np.full(mdp.grid_shape, np.nan)
    terminal = np.asarray(mdp.terminal)
    for state, (row, col) in enumerate(mdp.grid_cells):
        grid[row, col] = np.nan if terminal[state] else values[state]
    return grid


def arrow_moves(explorer, state):
    """The (d_col, d_row) of the arrows drawn from ``state``'s cell."""
    row, col = explorer._mdp.grid_cells[state]
    (shaft,) = [trace for trace in explorer.fig.data if trace.name == "policy"]
    segments = np.stack([np.asarray(shaft.x, float), np.asarray(shaft.y, float)], -1)
    segments = segments.reshape(-1, 3, 2)[:, :2]
    starts_here = np.all(segments[:, 0] == (col, row), axis=1)
    return segments[starts_here, 1] - segments[starts_here, 0]


def boltzmann_value_oracle(mdp, reward, gamma, soft_q, temperature):
    """``V^π`` of ``π ∝ exp(Q/τ)`` by a dense numpy solve over the non-terminal states."""
    soft_q = np.asarray(soft_q)
    logits = soft_q / temperature
    policy = np.exp(logits - logits.max(-1, keepdims=True))
    policy /= policy.sum(-1, keepdims=True)
    transitions, reward = np.asarray(mdp.transitions), np.asarray(reward)
    live = ~np.asarray(mdp.terminal)
    policy_reward = np.einsum("sa,sat,sat->s", policy, transitions, reward)[live]
    next_state = np.einsum("sa,sat->st", policy, transitions)[np.ix_(live, live)]
    values = np.zeros(mdp.n_states)
    values[live] = np.linalg.solve(np.eye(live.sum()) - gamma * next_state, policy_reward)
    return values


def test_gamma_slider_resolves_and_redraws_values_and_arrows(two_goals):
    mdp, reward = two_goals
    explorer = rv.widgets.MDPExplorer(mdp, reward, gamma=0.3)
    figure, traces = explorer.fig, list(explorer.fig.data)
    np.testing.assert_allclose(arrow_moves(explorer, START), [(-ARROW_REACH, 0)])

    explorer.gamma_slider.value = 0.9

    expected = solve.q_values(mdp.replace(gamma=0.9), reward).max(-1)
    np.testing.assert_allclose(heatmap_z(explorer), values_on_grid(mdp, expected), rtol=1e-10)
    # Far-sighted: the big goal five steps right is worth 0.9**4 * 10 > 0.9 * 1.
    np.testing.assert_allclose(explorer.values()[START], 0.9**4 * 10, rtol=1e-10)
    np.testing.assert_allclose(arrow_moves(explorer, START), [(ARROW_REACH, 0)])
    np.testing.assert_allclose(explorer.policy()[START], [0, 1, 0, 0])
    assert explorer.fig is figure
    assert all(new is old for new, old in zip(explorer.fig.data, traces, strict=True))
    assert "γ = 0.90" in explorer.fig.layout.title.text
    assert explorer.status.value == ""


def test_soft_mode_shows_the_value_of_the_boltzmann_policy(slippery):
    mdp, reward = slippery
    explorer = rv.widgets.MDPExplorer(mdp, reward, gamma=0.8)
    figure = explorer.fig
    assert explorer.temperature_slider.disabled

    explorer.mode_buttons.value = "soft"
    assert not explorer.temperature_slider.disabled
    explorer.temperature_slider.value = 0.5
    temperature = explorer.temperature_slider.value

    at_gamma = mdp.replace(gamma=0.8)
    soft_q = solve.soft_q_values(at_gamma, reward, temperature)
    expected = boltzmann_value_oracle(mdp, reward, 0.8, soft_q, temperature)
    np.testing.assert_allclose(heatmap_z(explorer), values_on_grid(mdp, expected), rtol=1e-8)
    np.testing.assert_allclose(explorer.values(), expected, rtol=1e-8)
    # The soft policy is worth less than the optimal one, and more stochastic.
    optimal = solve.q_values(at_gamma, reward).max(-1)
    assert np.all(np.asarray(explorer.values()) <= np.asarray(optimal) + 1e-12)
    assert np.any(np.asarray(explorer.values()) < np.asarray(optimal) - 1e-3)
    probabilities = np.asarray(explorer.policy())[0]
    assert len(arrow_moves(explorer, 0)) == np.sum(probabilities >= 0.01) > 1
    np.testing.assert_allclose(
        sorted(np.linalg.norm(arrow_moves(explorer, 0), axis=1)),
        sorted(ARROW_REACH * probabilities[probabilities >= 0.01]),
    )
    assert "Boltzmann" in explorer.fig.layout.title.text
    assert explorer.fig is figure

    explorer.mode_buttons.value = "optimal"
    assert explorer.temperature_slider.disabled
    np.testing.assert_allclose(explorer.values(), optimal, rtol=1e-10)


def test_slider_moves_do_not_recompile_the_solvers(slippery):
    mdp, reward = slippery
    explorer = rv.widgets.MDPExplorer(mdp, reward)
    kernels = [
        solve._value_iteration,
        solve._soft_value_iteration,
        _kernels.policy_evaluation,
        _kernels.greedy,
    ]
    # Warm up: two moves in each mode compile what each mode needs.
    explorer.gamma_slider.value = 0.5
    explorer.mode_buttons.value = "soft"
    explorer.temperature_slider.value = 0.2
    explorer.mode_buttons.value = "optimal"
    compiled = [kernel._cache_size() for kernel in kernels]

    for gamma, temperature in [(0.6, 1.0), (0.95, 0.01), (0.1, 3.0)]:
        explorer.gamma_slider.value = gamma
        explorer.mode_buttons.value = "soft"
        explorer.temperature_slider.value = temperature
        explorer.mode_buttons.value = "optimal"

    assert [kernel._cache_size() for kernel in kernels] == compiled
    assert explorer.status.value == ""


def test_a_failing_solve_is_reported_and_leaves_the_figure_unchanged(two_goals):
    mdp, reward = two_goals
    explorer = rv.widgets.MDPExplorer(mdp, reward, mode="soft", temperature=1.0)
    assert explorer.gamma_slider.max == 1.0  # the MDP has terminal states
    z_before, values_before = heatmap_z(explorer), explorer.values()

    # With γ = 1 the entropy bonus of wandering between the goals never stops growing.
    explorer.gamma_slider.value = 1.0

    assert "soft_q_values stopped after" in explorer.status.value
    np.testing.assert_array_equal(heatmap_z(explorer), z_before)
    assert explorer.values() is values_before

    explorer.mode_buttons.value = "optimal"  # γ = 1 is fine for the optimal values
    assert explorer.status.value == ""
    np.testing.assert_allclose(explorer.values()[START], 10.0)


def test_gamma_slider_stops_below_one_without_terminal_states():
    mdp, reward = rv.envs.gridworld(["S..", ".#."])
    explorer = rv.widgets.MDPExplorer(mdp, reward)
    assert explorer.gamma_slider.max == 0.99
    assert explorer.gamma_slider.value == pytest.approx(0.9)


def test_the_explorer_displays_as_its_widget(slippery):
    mdp, reward = slippery
    explorer = rv.widgets.MDPExplorer(mdp, reward)
    bundle = explorer._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == explorer.widget.model_id
    assert explorer.fig in explorer.widget.children
    assert explorer.status in explorer.widget.children


def test_bad_input_is_refused_at_construction(slippery):
    mdp, reward = slippery
    with pytest.raises(ValueError, match=r"needs mdp\.grid_shape; use rv\.envs\.gridworld"):
        rv.widgets.MDPExplorer(*rv.envs.random_mdp(4, 2, seed=0))
    with pytest.raises(ValueError, match=r"reward must have shape \[\.\.\., S, A, S'\]"):
        rv.widgets.MDPExplorer(mdp, np.zeros((mdp.n_states, mdp.n_actions)))
    with pytest.raises(ValueError, match=r"MDPExplorer takes one reward.*got \(2, 10, 4, 10\)"):
        rv.widgets.MDPExplorer(mdp, np.stack([reward, reward]))
    broken = np.asarray(reward).copy()
    broken[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"reward contains NaN at index \(1, 2, 3\)"):
        rv.widgets.MDPExplorer(mdp, broken)
    with pytest.raises(ValueError, match=r"mode must be one of"):
        rv.widgets.MDPExplorer(mdp, reward, mode="greedy")
    with pytest.raises(ValueError, match=r"temperature must be a positive number"):
        rv.widgets.MDPExplorer(mdp, reward, temperature=0.0)
    with pytest.raises(ValueError, match=r"gamma must lie in"):
        rv.widgets.MDPExplorer(mdp, reward, gamma=1.5)


def test_state_is_what_is_shown_and_survives_a_failed_solve(two_goals):
    mdp, reward = two_goals
    explorer = rv.widgets.MDPExplorer(mdp, reward, gamma=0.5, mode="soft", temperature=1.0)
    state = explorer.state()
    assert isinstance(state, rv.widgets.MDPExplorerState)
    assert (state.gamma, state.temperature, state.mode) == (0.5, 1.0, "soft")
    assert state.values is explorer.values() and state.policy is explorer.policy()
    explorer.gamma_slider.value = 1.0  # the soft solve diverges: nothing shown changes
    assert explorer.status.value != ""
    assert explorer.state() is state


def test_the_old_module_path_warns_and_gives_the_same_class():
    import importlib

    old = importlib.import_module("rewardviz.widgets.explorer")
    with pytest.warns(DeprecationWarning, match="rewardviz.widgets.mdp_explorer.MDPExplorer"):
        explorer_class = old.MDPExplorer
    assert explorer_class is rv.widgets.MDPExplorer
    with pytest.warns(DeprecationWarning, match="mdp_explorer"):
        from rewardviz.widgets.explorer import MDPExplorer
    assert MDPExplorer is rv.widgets.mdp_explorer.MDPExplorer
