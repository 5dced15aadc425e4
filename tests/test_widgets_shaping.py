"""Tests of ShapingLab: potential shaping keeps the task, a progress bonus breaks it.

The numbers the lab shows are checked against rewards built here, independently, and
against rv.distances / rv.solve called directly.
"""

import jax
import numpy as np
import pytest

import rewardviz as rv
from rewardviz import _kernels, distances, shaping, solve
from rewardviz.plots._grid import ARROW_REACH

LAYOUT = ["S..#", ".#.G", "...L"]
#: Fewest steps to the goal G from each state (row-major), counted by hand; the lava
#: (state 9) cannot reach it and counts one more than the furthest state (5).
STEPS = np.array([4, 3, 2, 5, 1, 0, 4, 3, 2, 6], dtype=float)
#: The state right of which lies the goal.
NEXT_TO_GOAL = 4


@pytest.fixture(scope="module")
def world():
    return rv.envs.gridworld(LAYOUT, gamma=0.9)


def progress_bonus(reward, scale):
    """``R + scale·[steps(s') < steps(s)]`` from the hand-counted steps, ``[S, A, S']``."""
    closer = STEPS[None, None, :] < STEPS[:, None, None]
    return np.asarray(reward) + scale * closer


def expected_numbers(mdp, reward, shaped, gamma):
    at_gamma = mdp.replace(gamma=gamma)
    policies = [solve.optimal_policy(at_gamma, r) for r in (reward, shaped)]
    return rv.widgets.ShapingLabState(
        epic=float(distances.epic(at_gamma, reward, shaped)),
        starc=float(distances.starc(at_gamma, reward, shaped, canonical="val")),
        regret=float(distances.regret(at_gamma, reward, shaped)),
        policy_unchanged=bool(np.array_equal(policies[0], policies[1])),
    )


def heatmaps(lab, name="values"):
    return [np.asarray(trace.z, float) for trace in lab.fig.data if trace.name == name]


def on_grid(mdp, per_state):
    """The values as drawn: NaN off the states and at terminal states (own colours)."""
    grid = np.full(mdp.grid_shape, np.nan)
    terminal = np.asarray(mdp.terminal)
    for state, (row, col) in enumerate(mdp.grid_cells):
        grid[row, col] = np.nan if terminal[state] else per_state[state]
    return grid


def arrow_moves(lab, state, panel):
    """The (d_col, d_row) of the arrows drawn from ``state``'s cell in a values panel."""
    row, col = lab._mdp.grid_cells[state]
    shaft = [trace for trace in lab.fig.data if trace.name == "policy"][panel]
    segments = np.stack([np.asarray(shaft.x, float), np.asarray(shaft.y, float)], -1)
    segments = segments.reshape(-1, 3, 2)[:, :2]
    starts_here = np.all(segments[:, 0] == (col, row), axis=1)
    return segments[starts_here, 1] - segments[starts_here, 0]


@pytest.mark.parametrize(
    ("potential", "scale", "gamma"),
    [
        ("distance to goal", 1.0, 0.9),
        ("distance to goal", 4.0, 0.6),
        ("random (seeded)", 2.5, 0.95),
    ],
)
def test_potential_shaping_keeps_the_policy_and_every_distance_at_zero(
    world, potential, scale, gamma
):
    mdp, reward = world
    lab = rv.widgets.ShapingLab(mdp, reward)
    lab.potential_dropdown.value = potential
    lab.scale_slider.value = scale
    lab.gamma_slider.value = gamma

    state = lab.state()
    assert state.policy_unchanged
    assert state.epic == pytest.approx(0, abs=1e-6)
    assert state.starc == pytest.approx(0, abs=1e-6)
    assert state.regret == pytest.approx(0, abs=1e-9)
    assert "yes" in lab.readout.value and lab.status.value == ""
    if potential == "distance to goal":
        shaped = shaping.potential_shaping(mdp.replace(gamma=gamma), reward, -scale * STEPS)
        np.testing.assert_allclose(lab.shaped_reward(), shaped, rtol=1e-12, atol=1e-12)
        # The shaped panel shows V* of the shaped reward: V* − Φ (Ng et al. 1999).
        original_values, shaped_values = heatmaps(lab)
        expected = solve.q_values(mdp.replace(gamma=gamma), shaped).max(-1)
        np.testing.assert_allclose(shaped_values, on_grid(mdp, expected), rtol=1e-9)
        potential_values = np.where(np.asarray(mdp.terminal), 0, -scale * STEPS)
        np.testing.assert_allclose(
            shaped_values, original_values - on_grid(mdp, potential_values), atol=1e-8
        )
    for state_index in range(mdp.n_states):
        np.testing.assert_array_equal(
            arrow_moves(lab, state_index, 0), arrow_moves(lab, state_index, 1)
        )


def test_a_large_progress_bonus_changes_the_policy_and_costs_regret(world):
    mdp, reward = world
    lab = rv.widgets.ShapingLab(mdp, reward)
    lab.mode_buttons.value = "progress bonus"
    lab.scale_slider.value = 1.0

    shaped = progress_bonus(reward, 1.0)
    np.testing.assert_allclose(lab.shaped_reward(), shaped)
    expected = expected_numbers(mdp, reward, shaped, 0.9)
    state = lab.state()
    assert not state.policy_unchanged and not expected.policy_unchanged
    assert state.regret == pytest.approx(expected.regret, rel=1e-9)
    assert state.regret > 0.3
    assert state.epic == pytest.approx(expected.epic, rel=1e-9) and state.epic > 0.1
    assert state.starc == pytest.approx(expected.starc, rel=1e-9) and state.starc > 0.1
    assert "no" in lab.readout.value
    assert f"{state.regret:.4f}" in lab.readout.value
    # Next to the goal the original policy steps in; the bonus makes stepping away and
    # back (a bonus every second step) worth more than finishing.
    np.testing.assert_allclose(arrow_moves(lab, NEXT_TO_GOAL, 0), [(ARROW_REACH, 0)])
    assert not np.any(np.all(np.isclose(arrow_moves(lab, NEXT_TO_GOAL, 1), (ARROW_REACH, 0)), 1))
    shaped_policy = solve.optimal_policy(mdp, shaped)
    assert float(shaped_policy[NEXT_TO_GOAL, 1]) == 0  # action 1 is "right"


def test_a_small_progress_bonus_is_not_worth_looping_for(world):
    mdp, reward = world
    lab = rv.widgets.ShapingLab(mdp, reward, mode="progress bonus", scale=0.1)
    expected = expected_numbers(mdp, reward, progress_bonus(reward, 0.1), 0.9)
    state = lab.state()
    assert state.policy_unchanged and expected.policy_unchanged
    assert state.regret == pytest.approx(0, abs=1e-12)
    # Not potential-based all the same: the distances see a different reward.
    assert state.epic == pytest.approx(expected.epic, rel=1e-9) and state.epic > 0.01


def test_every_control_updates_the_same_figure_in_place(world):
    mdp, reward = world
    lab = rv.widgets.ShapingLab(mdp, reward)
    figure, traces = lab.fig, list(lab.fig.data)
    lengths = [len(trace.x) for trace in traces if trace.x is not None]
    assert [name for name in ("values", "reward") for _ in heatmaps(lab, name)] == [
        "values",
        "values",
        "reward",
        "reward",
    ]
    shaped_before = heatmaps(lab)[1]

    lab.scale_slider.value = 3.0
    assert not np.allclose(heatmaps(lab)[1], shaped_before, equal_nan=True)
    lab.gamma_slider.value = 0.7
    lab.potential_dropdown.value = "zero"
    lab.mode_buttons.value = "progress bonus"

    assert lab.fig is figure
    assert all(new is old for new, old in zip(lab.fig.data, traces, strict=True))
    assert [len(trace.x) for trace in lab.fig.data if trace.x is not None] == lengths
    # A zero potential gives no bonus: both panels show the original reward at γ = 0.7.
    expected = solve.q_values(mdp.replace(gamma=0.7), reward).max(-1)
    for values in heatmaps(lab):
        np.testing.assert_allclose(values, on_grid(mdp, expected), rtol=1e-9)
    state = lab.state()
    assert state.policy_unchanged and state.regret == 0
    assert state.epic == pytest.approx(0, abs=1e-12) and state.starc == pytest.approx(0, abs=1e-12)
    assert "progress bonus" in lab.fig.layout.title.text
    assert "γ = 0.70" in lab.fig.layout.title.text
    assert "[Φ(s′) > Φ(s)]" in lab.fig.layout.annotations[1].text


def test_slider_moves_do_not_recompile(world):
    mdp, reward = world
    lab = rv.widgets.ShapingLab(mdp, reward)
    kernels = [
        distances._pearson_kernel,
        distances._starc_kernel,
        solve._value_iteration,
        distances._exact_regret,
        _kernels.greedy,
        shaping._shaping_reward,
    ]
    # Warm up: visit both modes and every potential once.
    lab.scale_slider.value = 2.0
    lab.potential_dropdown.value = "random (seeded)"
    lab.mode_buttons.value = "progress bonus"
    lab.potential_dropdown.value = "zero"
    lab.gamma_slider.value = 0.5
    lab.mode_buttons.value = "potential shaping"
    lab.potential_dropdown.value = "distance to goal"
    compiled = [kernel._cache_size() for kernel in kernels]
    assert all(size > 0 for size in compiled)

    for gamma, scale in [(0.3, 0.7), (0.95, 4.0), (0.0, 5.0), (0.8, 0.05)]:
        lab.gamma_slider.value = gamma
        lab.scale_slider.value = scale
        lab.mode_buttons.value = "progress bonus"
        lab.potential_dropdown.value = "random (seeded)"
        lab.mode_buttons.value = "potential shaping"
        lab.potential_dropdown.value = "distance to goal"
        assert lab.status.value == ""

    assert [kernel._cache_size() for kernel in kernels] == compiled


def test_a_failing_computation_is_reported_and_changes_nothing(world):
    mdp, reward = world
    lab = rv.widgets.ShapingLab(mdp, reward, mode="progress bonus", scale=1.0)
    z_before, state_before, readout_before = heatmaps(lab), lab.state(), lab.readout.value

    # With γ = 1 walking back and forth collects the bonus forever: no finite values.
    lab.gamma_slider.value = 1.0

    assert "value_iteration stopped after" in lab.status.value
    for before, after in zip(z_before, heatmaps(lab), strict=True):
        np.testing.assert_array_equal(before, after)
    assert lab.state() is state_before
    assert lab.readout.value == readout_before

    lab.mode_buttons.value = "potential shaping"  # fine at γ = 1: every path ends
    assert lab.status.value == ""
    assert lab.state().policy_unchanged
    assert lab.state().regret == pytest.approx(0, abs=1e-9)


def test_the_lab_displays_as_its_widget(world):
    mdp, reward = world
    lab = rv.widgets.ShapingLab(mdp, reward)
    bundle = lab._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == lab.widget.model_id
    for part in (lab.fig, lab.readout, lab.status, lab.mode_buttons):
        assert part in lab.widget.children
    assert lab.gamma_slider.max == 1.0  # the MDP has terminal states


def test_without_terminal_states_there_is_no_distance_to_goal():
    mdp, reward = rv.envs.gridworld(["S..", ".#."])
    lab = rv.widgets.ShapingLab(mdp, reward, potential="random (seeded)")
    assert "distance to goal" not in lab.potential_dropdown.options
    assert lab.gamma_slider.max == 0.99
    with pytest.raises(ValueError, match=r"no terminal states to reach"):
        rv.widgets.ShapingLab(mdp, reward)


def test_bad_input_is_refused_at_construction(world):
    mdp, reward = world
    with pytest.raises(ValueError, match=r"needs mdp\.grid_shape; use rv\.envs\.gridworld"):
        rv.widgets.ShapingLab(*rv.envs.random_mdp(4, 2, seed=0))
    with pytest.raises(TypeError, match=r"mdp must be a rewardviz\.TabularMDP"):
        rv.widgets.ShapingLab("grid", reward)
    with pytest.raises(ValueError, match=r"ShapingLab takes one reward.*got \(2, 10, 4, 10\)"):
        rv.widgets.ShapingLab(mdp, np.stack([reward, reward]))
    with pytest.raises(ValueError, match=r"potential must be one of"):
        rv.widgets.ShapingLab(mdp, reward, potential="manhattan")
    with pytest.raises(ValueError, match=r"mode must be one of"):
        rv.widgets.ShapingLab(mdp, reward, mode="bonus")
    with pytest.raises(ValueError, match=r"scale must lie in"):
        rv.widgets.ShapingLab(mdp, reward, scale=-1.0)
    with pytest.raises(ValueError, match=r"gamma must lie in"):
        rv.widgets.ShapingLab(mdp, reward, gamma=1.5)


# ---------------------------------------------------------------------------
# The "learn" button: batched learners on the original and the shaped reward.


def small_lab(mdp, reward, **options):
    return rv.widgets.ShapingLab(mdp, reward, n_learn_seeds=4, learn_steps=800, **options)


def test_learn_draws_the_original_against_the_shaped_reward(world):
    mdp, reward = world
    lab = small_lab(mdp, reward, scale=2.0)
    assert len(lab.learning_fig.data) == 0 and lab.learning_result is None
    lab.learn_button.click()

    shaped = shaping.potential_shaping(mdp, reward, -2.0 * STEPS)
    expected = rv.learning.compare_rewards(
        mdp, reward, {"original": reward, "shaped": shaped}, n_seeds=4, steps=800, seed=0
    )
    result = lab.learning_result
    assert lab.status.value == ""
    assert result.names == ("original R", "shaped: R + γΦ(s′) − Φ(s)")
    np.testing.assert_allclose(result.returns, expected.returns, rtol=1e-9, atol=1e-12)
    lines = [trace for trace in lab.learning_fig.data if trace.name in result.names]
    for line, returns in zip(lines, expected.returns, strict=True):
        np.testing.assert_allclose(line.y, returns.mean(axis=0), rtol=1e-9, atol=1e-12)
    assert lab.learning_fig.data[-1].y == (expected.optimal_return,) * 2
    assert "q_learning, 4 seeds: potential shaping" in lab.learning_fig.layout.title.text


def test_learning_again_redraws_in_place_without_recompiling(world):
    mdp, reward = world
    lab = small_lab(mdp, reward)
    lab.learn()
    lab.mode_buttons.value = "progress bonus"
    lab.learn()  # both modes seen
    figure, traces = lab.learning_fig, list(lab.learning_fig.data)
    compiled = rv.learning._train_batch._cache_size()

    for gamma, scale, mode in [(0.7, 0.5, "potential shaping"), (0.95, 3.0, "progress bonus")]:
        lab.gamma_slider.value = gamma
        lab.scale_slider.value = scale
        lab.mode_buttons.value = mode
        lab.learn_button.click()
        assert lab.status.value == ""
        assert f"γ = {gamma:.2f}" in lab.learning_fig.layout.title.text
    assert rv.learning._train_batch._cache_size() == compiled
    assert lab.learning_fig is figure
    assert all(new is old for new, old in zip(lab.learning_fig.data, traces, strict=True))
    assert lab.learning_fig.data[3].name == "shaped: R + scale·[Φ(s′) > Φ(s)]"
    np.testing.assert_allclose(
        lab.learning_fig.data[3].y, lab.learning_result.returns[1].mean(axis=0), rtol=1e-12
    )


def test_the_learner_dropdown_picks_the_learner(world):
    mdp, reward = world
    lab = small_lab(mdp, reward)
    lab.learner_dropdown.value = "sarsa"
    assert lab.learn().learner == "sarsa"
    assert lab.learning_fig.layout.title.text.startswith("sarsa")


def test_learning_at_gamma_one_is_refused_in_the_status_line(world):
    mdp, reward = world
    lab = small_lab(mdp, reward)
    lab.learn_button.click()
    before = [np.asarray(trace.y, float).copy() for trace in lab.learning_fig.data]
    lab.gamma_slider.value = 1.0  # potential shaping: fine for the figure above
    lab.learn_button.click()
    assert "learning curves need gamma &lt; 1" in lab.status.value
    for trace, y in zip(lab.learning_fig.data, before, strict=True):
        np.testing.assert_array_equal(np.asarray(trace.y, float), y)


def test_the_learn_controls_are_part_of_the_widget(world):
    mdp, reward = world
    lab = small_lab(mdp, reward)
    assert lab.learning_fig in lab.widget.children
    assert any(lab.learn_button in getattr(c, "children", ()) for c in lab.widget.children)
    with pytest.raises(
        ValueError, match=r"n_learn_seeds \(runs per reward\) must be an integer >= 1"
    ):
        rv.widgets.ShapingLab(mdp, reward, n_learn_seeds=0)


def test_the_old_learn_seeds_keyword_warns_and_still_works(world):
    mdp, reward = world
    with pytest.warns(DeprecationWarning, match="n_learn_seeds"):
        old = rv.widgets.ShapingLab(mdp, reward, learn_seeds=4, learn_steps=800)
    new = small_lab(mdp, reward)
    np.testing.assert_array_equal(old.learn().returns, new.learn().returns)
    assert old.learning_fig.layout.title.text == new.learning_fig.layout.title.text
    with pytest.raises(TypeError, match="pass only n_learn_seeds="):
        rv.widgets.ShapingLab(mdp, reward, learn_seeds=4, n_learn_seeds=4)


def test_a_jax_key_seeds_the_random_potential_and_the_learners(world):
    mdp, reward = world
    key = jax.random.key(3)
    lab = small_lab(mdp, reward, seed=key, potential="random (seeded)")
    again = small_lab(mdp, reward, seed=key, potential="random (seeded)")
    np.testing.assert_array_equal(lab.shaped_reward(), again.shaped_reward())
    assert lab.state().policy_unchanged
    expected = rv.learning.compare_rewards(
        mdp,
        reward,
        {"original": reward, "shaped": lab.shaped_reward()},
        n_seeds=4,
        steps=800,
        seed=key,
    )
    np.testing.assert_allclose(lab.learn().returns, expected.returns, rtol=1e-9, atol=1e-12)


def test_the_learning_figure_sends_strict_json(world):
    from test_widget_messages import assert_strict_json, sent_messages

    mdp, reward = world
    lab = small_lab(mdp, reward)
    first = sent_messages(lab.learning_fig, lab.learn)
    lab.scale_slider.value = 3.0
    again = sent_messages(lab.learning_fig, lab.learn)
    assert first and again, "learning sent no update to the browser"
    for message in first + again:
        assert_strict_json(message)
    assert_strict_json(lab.learning_fig.get_state())
