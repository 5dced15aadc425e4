"""Tests of the grid plots: the figures hold exactly the data they were given."""

import gymnasium as gym
import matplotlib
import numpy as np
import plotly.graph_objects as go
import pytest
from matplotlib.collections import PolyCollection

import rewardviz as rv
from rewardviz.plots._grid import ARROW_REACH, MIN_ARROW_PROBABILITY

matplotlib.use("Agg")
import matplotlib.pyplot as plt

LAYOUT = ["S..#", ".#.G", "...L"]
#: Grid moves (d_col, d_row) written out here, independently of the plotting module.
MOVES = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


@pytest.fixture(scope="module")
def world():
    return rv.envs.gridworld(LAYOUT)


@pytest.fixture(scope="module")
def frozen_lake():
    mdp, _ = rv.envs.from_gymnasium(gym.make("FrozenLake-v1"))
    return mdp


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def traces_named(figure, name):
    return [trace for trace in figure.data if trace.name == name]


def drawn_arrows(figure, panel=0):
    """``{state: [(d_col, d_row), ...]}`` of the arrows drawn in one panel, by start cell."""
    shaft = traces_named(figure, "policy")[panel]
    points = np.stack([np.asarray(shaft.x, float), np.asarray(shaft.y, float)], -1)
    segments = points.reshape(-1, 3, 2)
    assert np.isnan(segments[:, 2]).all(), "every segment must end with a NaN break"
    return segments[~np.isnan(segments[:, 0, 0]), :2]


def arrows_by_state(mdp, figure):
    cell_to_state = {cell: state for state, cell in enumerate(mdp.grid_cells)}
    arrows = {}
    for start, end in drawn_arrows(figure):
        state = cell_to_state[(round(start[1]), round(start[0]))]
        arrows.setdefault(state, []).append(end - start)
    return arrows


# ---------------------------------------------------------------------------
# plotly: heatmap data


def test_heatmap_holds_each_state_value_in_its_cell_and_nan_off_the_states(world):
    mdp, _ = world
    values = np.linspace(-1.0, 2.0, mdp.n_states)
    figure = rv.plots.gridworld(mdp, values, title="test values")

    (heatmap,) = traces_named(figure, "values")
    z = np.asarray(heatmap.z, dtype=float)
    assert z.shape == mdp.grid_shape
    terminal = np.asarray(mdp.terminal)
    for state, (row, col) in enumerate(mdp.grid_cells):
        # Terminal cells are off the colour scale (drawn in their own colours); their
        # values stay in the hover text.
        assert np.isnan(z[row, col]) if terminal[state] else z[row, col] == values[state]
        assert f"state {state}" in heatmap.text[row][col]
        assert f"value {values[state]:.4g}" in heatmap.text[row][col]
    for row, col in [(0, 3), (1, 1)]:  # the walls
        assert np.isnan(z[row, col])
        assert "wall" in heatmap.text[row][col]
    assert figure.layout.title.text == "test values"


def test_layout_characters_are_written_in_their_cells(world):
    mdp, _ = world
    figure = rv.plots.gridworld(mdp, np.zeros(mdp.n_states))
    (layout,) = traces_named(figure, "layout")
    written = {
        (int(y), int(x)): text for x, y, text in zip(layout.x, layout.y, layout.text, strict=True)
    }
    assert written == {(0, 0): "S", (0, 3): "#", (1, 1): "#", (1, 3): "G", (2, 3): "L"}
    assert not traces_named(rv.plots.gridworld(mdp, show_layout=False), "layout")


def test_without_values_the_state_cells_are_drawn_blank(world):
    mdp, _ = world
    figure = rv.plots.gridworld(mdp)
    (cells,) = traces_named(figure, "cells")
    z = np.asarray(cells.z, dtype=float)
    assert np.isnan(z[1, 1]) and z[0, 0] == 0
    assert not traces_named(figure, "values")


def test_q_values_give_one_heatmap_per_action_titled_by_action(world):
    mdp, _ = world
    q = np.arange(mdp.n_states * mdp.n_actions, dtype=float).reshape(mdp.n_states, -1)
    figure = rv.plots.gridworld(mdp, q)

    heatmaps = traces_named(figure, "values")
    assert len(heatmaps) == mdp.n_actions
    assert [annotation.text for annotation in figure.layout.annotations] == list(mdp.action_names)
    terminal = np.asarray(mdp.terminal)
    for action, heatmap in enumerate(heatmaps):
        z = np.asarray(heatmap.z, dtype=float)
        for state, (row, col) in enumerate(mdp.grid_cells):
            assert np.isnan(z[row, col]) if terminal[state] else z[row, col] == q[state, action]
        assert heatmap.coloraxis == "coloraxis"  # one shared colour scale


# ---------------------------------------------------------------------------
# plotly: policy arrows


@pytest.mark.parametrize("action", range(4))
def test_deterministic_policy_draws_one_full_arrow_per_live_state_gridworld(world, action):
    mdp, _ = world
    assert mdp.action_names == ("up", "right", "down", "left")
    figure = rv.plots.gridworld(mdp, policy=np.full(mdp.n_states, action))

    arrows = arrows_by_state(mdp, figure)
    live = set(np.flatnonzero(~np.asarray(mdp.terminal)).tolist())
    assert set(arrows) == live  # no arrows in the goal or the lava
    expected = ARROW_REACH * np.array(MOVES[mdp.action_names[action]])
    for moves in arrows.values():
        assert len(moves) == 1
        np.testing.assert_allclose(moves[0], expected)


def test_frozen_lake_action_order_points_the_arrows_the_right_way(frozen_lake):
    mdp = frozen_lake
    assert mdp.action_names == ("left", "down", "right", "up")
    for action, move in [(0, (-1, 0)), (1, (0, 1)), (2, (1, 0)), (3, (0, -1))]:
        arrows = arrows_by_state(mdp, rv.plots.gridworld(mdp, policy=np.full(16, action)))
        assert len(arrows) == 16 - 5  # four holes and the goal are terminal
        for moves in arrows.values():
            np.testing.assert_allclose(moves, [ARROW_REACH * np.array(move)])


def test_arrow_heads_point_along_their_arrows(frozen_lake):
    mdp = frozen_lake
    figure = rv.plots.gridworld(mdp, policy=np.full((16, 4), 0.25))
    (head,) = traces_named(figure, "policy heads")
    # Slots are state-major in action order: left, down, right, up; angles clockwise from
    # up (plotly stores them in [-180, 180]).
    np.testing.assert_allclose(np.asarray(head.marker.angle)[:4] % 360, [270, 180, 90, 0])
    (shaft,) = traces_named(figure, "policy")
    np.testing.assert_allclose(head.x, np.asarray(shaft.x, float)[1::3])
    np.testing.assert_allclose(head.y, np.asarray(shaft.y, float)[1::3])


def test_arrow_lengths_follow_probabilities_and_tiny_ones_are_skipped(world):
    mdp, _ = world
    policy = np.tile(
        [0.6, 0.3, 0.1 - MIN_ARROW_PROBABILITY / 2, MIN_ARROW_PROBABILITY / 2], (mdp.n_states, 1)
    )
    figure = rv.plots.gridworld(mdp, policy=policy)

    arrows = arrows_by_state(mdp, figure)
    for moves in arrows.values():
        lengths = sorted(np.linalg.norm(moves, axis=1))
        np.testing.assert_allclose(
            lengths, ARROW_REACH * np.array([0.1 - MIN_ARROW_PROBABILITY / 2, 0.3, 0.6])
        )


def test_actions_without_direction_names_get_no_arrow():
    stay, move = np.eye(2), np.eye(2)[::-1]
    mdp = rv.TabularMDP(
        np.stack([stay, move, move], axis=1),
        gamma=0.9,
        action_names=("stay", "East", "WEST"),
        grid_shape=(1, 2),
    )
    figure = rv.plots.gridworld(mdp, policy=np.array([[0.5, 0.5, 0.0], [0.2, 0.0, 0.8]]))
    arrows = arrows_by_state(mdp, figure)
    np.testing.assert_allclose(arrows[0], [[0.5 * ARROW_REACH, 0]])
    np.testing.assert_allclose(arrows[1], [[-0.8 * ARROW_REACH, 0]])
    # Two direction actions per state: the trace has 2 slots of 3 points per state.
    assert len(traces_named(figure, "policy")[0].x) == 2 * 2 * 3

    unnamed = mdp.replace(action_names=None)
    assert len(drawn_arrows(rv.plots.gridworld(unnamed, policy=np.zeros(2, int)))) == 0


# ---------------------------------------------------------------------------
# plotly: in-place updates


def test_update_changes_the_data_but_not_the_traces(world):
    mdp, _ = world
    figure = go.FigureWidget(
        rv.plots.gridworld(mdp, np.zeros(mdp.n_states), np.zeros(mdp.n_states, int))
    )
    traces_before = list(figure.data)
    lengths_before = [len(trace.x) for trace in figure.data if trace.x is not None]

    new_values = np.arange(mdp.n_states, dtype=float)
    returned = rv.plots.update_gridworld(
        figure, mdp, new_values, np.full(mdp.n_states, 2), title="updated"
    )

    assert returned is figure
    assert list(figure.data) == traces_before and all(
        new is old for new, old in zip(figure.data, traces_before, strict=True)
    )
    assert [len(trace.x) for trace in figure.data if trace.x is not None] == lengths_before
    z = np.asarray(traces_named(figure, "values")[0].z, dtype=float)
    terminal = np.asarray(mdp.terminal)
    for state, (row, col) in enumerate(mdp.grid_cells):
        assert np.isnan(z[row, col]) if terminal[state] else z[row, col] == new_values[state]
    for moves in arrows_by_state(mdp, figure).values():
        np.testing.assert_allclose(moves, [ARROW_REACH * np.array(MOVES["down"])])
    assert figure.layout.title.text == "updated"


def test_update_with_none_keeps_what_is_drawn(world):
    mdp, _ = world
    figure = rv.plots.gridworld(mdp, np.ones(mdp.n_states), np.zeros(mdp.n_states, int))
    arrows_before = drawn_arrows(figure)
    rv.plots.update_gridworld(figure, mdp, values=np.full(mdp.n_states, 3.0))
    np.testing.assert_array_equal(drawn_arrows(figure), arrows_before)
    rv.plots.update_gridworld(figure, mdp, policy=np.full(mdp.n_states, 1))
    assert np.nanmax(np.asarray(figure.data[0].z, float)) == 3.0


def test_update_adds_arrows_to_a_figure_built_without_a_policy(world):
    mdp, _ = world
    figure = rv.plots.gridworld(mdp, np.ones(mdp.n_states))
    assert len(drawn_arrows(figure)) == 0
    rv.plots.update_gridworld(figure, mdp, policy=np.full(mdp.n_states, 3))
    assert len(drawn_arrows(figure)) == 8


def test_update_of_q_value_panels_updates_every_panel(world):
    mdp, _ = world
    figure = rv.plots.gridworld(mdp, np.zeros((mdp.n_states, mdp.n_actions)))
    q = np.random.default_rng(0).normal(size=(mdp.n_states, mdp.n_actions))
    rv.plots.update_gridworld(figure, mdp, q)
    for action, heatmap in enumerate(traces_named(figure, "values")):
        row, col = mdp.grid_cells[4]
        assert heatmap.z[row][col] == q[4, action]


# ---------------------------------------------------------------------------
# errors


def test_non_grid_mdp_is_refused_with_a_hint():
    mdp, _ = rv.envs.random_mdp(5, 3, seed=0)
    with pytest.raises(ValueError, match=r"need mdp\.grid_shape; use rv\.envs\.gridworld"):
        rv.plots.gridworld(mdp, np.zeros(5))
    with pytest.raises(ValueError, match=r"grid_shape"):
        rv.plots.gridworld_matplotlib(mdp, np.zeros(5))


def test_wrong_shapes_name_the_argument_and_both_shapes(world):
    mdp, _ = world
    with pytest.raises(ValueError, match=r"values must have shape \[S\] = \(10,\).*got \(9,\)"):
        rv.plots.gridworld(mdp, np.zeros(9))
    with pytest.raises(ValueError, match=r"values .*\[S, A\] = \(10, 4\).*got \(10, 3\)"):
        rv.plots.gridworld(mdp, np.zeros((10, 3)))
    with pytest.raises(
        ValueError, match=r"policy must have shape \[S, A\] = \(10, 4\).*got \(4, 10\)"
    ):
        rv.plots.gridworld(mdp, policy=np.full((4, 10), 0.1))
    with pytest.raises(ValueError, match=r"policy picks action 4"):
        rv.plots.gridworld(mdp, policy=np.full(10, 4))
    with pytest.raises(ValueError, match=r"policy\[0, :\] sums to 2"):
        rv.plots.gridworld(mdp, policy=np.full((10, 4), 0.5))
    with pytest.raises(ValueError, match=r"values contains NaN at index \(2,\)"):
        rv.plots.gridworld(mdp, np.array([0, 0, np.nan, 0, 0, 0, 0, 0, 0, 0]))
    with pytest.raises(TypeError, match=r"values must be array-like of numbers"):
        rv.plots.gridworld(mdp, ["high"] * 10)


def test_update_refuses_values_of_another_kind(world):
    mdp, _ = world
    figure = rv.plots.gridworld(mdp, np.zeros(mdp.n_states))
    with pytest.raises(ValueError, match=r"built with values \[S\]"):
        rv.plots.update_gridworld(figure, mdp, np.zeros((mdp.n_states, mdp.n_actions)))
    with pytest.raises(ValueError, match=r"built without values"):
        rv.plots.update_gridworld(rv.plots.gridworld(mdp), mdp, np.zeros(mdp.n_states))
    other, _ = rv.envs.gridworld(["S.G"])
    with pytest.raises(ValueError, match=r"different grid"):
        rv.plots.update_gridworld(figure, other, policy=np.zeros(3, int))
    with pytest.raises(ValueError, match=r"not built by rewardviz\.plots\.gridworld"):
        rv.plots.update_gridworld(go.Figure(), mdp, np.zeros(mdp.n_states))


# ---------------------------------------------------------------------------
# matplotlib


def test_matplotlib_heatmap_layout_and_arrows(world):
    mdp, _ = world
    values = np.linspace(0.0, 1.0, mdp.n_states)
    _, ax = plt.subplots()
    returned = rv.plots.gridworld_matplotlib(
        mdp, values, np.full(mdp.n_states, 1), ax=ax, title="V"
    )

    assert returned is ax
    (image,) = ax.get_images()
    shown = image.get_array()
    terminal = np.asarray(mdp.terminal)
    for state, (row, col) in enumerate(mdp.grid_cells):
        # Terminal cells are masked on the image and filled with their own colour.
        assert shown.mask[row, col] if terminal[state] else shown[row, col] == values[state]
    assert shown.mask[0, 3] and shown.mask[1, 1]  # walls are masked
    assert {text.get_text() for text in ax.texts} == {"S", "#", "G", "L"}
    (quiver,) = [c for c in ax.collections if isinstance(c, matplotlib.quiver.Quiver)]
    assert quiver.N == 8  # one arrow per non-terminal state
    np.testing.assert_allclose(quiver.U, ARROW_REACH)  # action 1 is "right"
    np.testing.assert_allclose(quiver.V, 0)
    assert ax.get_title() == "V"
    ax.figure.canvas.draw()


def test_matplotlib_q_values_are_four_triangles_per_cell(frozen_lake):
    mdp = frozen_lake
    q = np.arange(64, dtype=float).reshape(16, 4)
    ax = rv.plots.gridworld_matplotlib(mdp, q)

    (triangles,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    paths = triangles.get_paths()
    assert len(paths) == 16 * 4
    colours = np.asarray(triangles.get_array())
    for path, value in zip(paths, colours, strict=True):
        corners = path.vertices[:3]
        centre = corners[0]
        state = mdp.grid_cells.index((int(centre[1]), int(centre[0])))
        # The triangle lies on the side its action moves to: its far edge's midpoint.
        side = corners[1:].mean(axis=0) - centre
        action = mdp.action_names.index(
            {(-0.5, 0.0): "left", (0.5, 0.0): "right", (0.0, -0.5): "up", (0.0, 0.5): "down"}[
                tuple(np.round(side, 6) + 0.0)
            ]
        )
        # Terminal states (holes, the goal) are off the colour scale.
        assert np.isnan(value) if mdp.terminal[state] else value == q[state, action]
    ax.figure.canvas.draw()


def test_matplotlib_without_ax_makes_a_figure_and_q_values_need_direction_actions():
    mdp, _ = rv.envs.chain(4)
    ax = rv.plots.gridworld_matplotlib(mdp, policy=np.ones(4, int))
    assert ax.figure is not None and len(ax.texts) == 2  # S and G
    named_otherwise = mdp.replace(action_names=("back", "forth"))
    with pytest.raises(ValueError, match=r"none of mdp\.action_names .* is a direction"):
        rv.plots.gridworld_matplotlib(named_otherwise, np.zeros((4, 2)))


# ---------------------------------------------------------------------------
# The surface of rv.plots: names, keyword-only options, figures returned, the palette.


def test_plot_functions_are_not_shadowed_by_their_modules():
    import rewardviz.plots.gridworlds
    import rewardviz.plots.landscapes

    assert callable(rv.plots.gridworld) and callable(rv.plots.landscape)
    assert rv.plots.gridworlds is rewardviz.plots.gridworlds
    assert rv.plots.landscapes is rewardviz.plots.landscapes
    assert rv.plots.gridworld is rewardviz.plots.gridworlds.gridworld
    assert rv.plots.landscape is rewardviz.plots.landscapes.landscape


def test_title_and_options_are_keyword_only():
    import inspect

    for name in rv.plots.__all__:
        function = getattr(rv.plots, name)
        if not inspect.isfunction(function):
            continue
        parameters = inspect.signature(function).parameters
        if "title" in parameters:
            assert parameters["title"].kind is inspect.Parameter.KEYWORD_ONLY, name


def test_every_update_returns_the_figure_it_redrew(world):
    mdp, reward = world
    q = np.asarray(rv.solve.q_values(mdp, reward))
    policy = np.asarray(rv.solve.greedy_policy(q))
    values = q.max(-1)
    contributions = np.array([[1.0, -0.5], [0.25, 2.0], [0.0, 1.0]])
    shares = np.array([[0.2, 0.8], [0.6, 0.4]])
    returns = np.array([1.0, 3.0, 2.0])
    parts = np.array([[0.5, -0.25], [-0.5, 0.25]])
    from rewardviz.expressivity import environments

    xor = environments.xor()
    realized = rv.expressivity.realize_soap(xor, [[0, 0], [0, 1]])
    cases = [
        (rv.plots.gridworld(mdp, values), lambda f: rv.plots.update_gridworld(f, mdp, values)),
        (
            rv.plots.shaping_comparison(mdp, values, values, policy, policy),
            lambda f: rv.plots.update_shaping_comparison(f, mdp, values, title="t"),
        ),
        (
            rv.plots.stacked_contributions(contributions, ["a", "b"]),
            lambda f: rv.plots.update_stacked_contributions(f, contributions, title="t"),
        ),
        (
            rv.plots.return_shares(shares, ["a", "b"]),
            lambda f: rv.plots.update_return_shares(f, shares, title="t"),
        ),
        (
            rv.plots.ranking_change(returns, returns[::-1]),
            lambda f: rv.plots.update_ranking_change(f, returns, returns, title="t"),
        ),
        (
            rv.plots.advantage_attribution(parts, ["a", "b"]),
            lambda f: rv.plots.update_advantage_attribution(f, parts, title="t"),
        ),
        (
            rv.plots.realization(xor, realized),
            lambda f: rv.plots.update_realization(f, xor, realized, title="t"),
        ),
    ]
    for figure, update in cases:
        for shown in (figure, go.FigureWidget(figure)):
            assert update(shown) is shown


def test_the_palette_lives_in_style_and_the_old_homes_warn():
    from rewardviz.plots import decompose, distances, expressivity, groups, learning, style

    moved = {
        distances: ["OKABE_ITO", "MARKER_SYMBOLS"],
        decompose: ["COMPONENT_COLOURS", "COMPONENT_PATTERNS", "RANK_COLOURS", "TOTAL_COLOUR"],
        groups: ["GOLD_COLOUR", "INTERVAL_FILL", "PROXY_COLOUR", "SIGN_COLOURS"],
        learning: ["BAND_OPACITY", "OPTIMAL_COLOUR"],
        expressivity: [
            "INCOMPARABLE_COLOUR",
            "NEGATIVE_COLOUR",
            "POSITIVE_COLOUR",
            "STATUS_STYLE",
        ],
    }
    for module, names in moved.items():
        for name in names:
            with pytest.warns(DeprecationWarning, match=f"rewardviz.plots.style.{name}"):
                assert getattr(module, name) is getattr(style, name)
    assert style.COMPONENT_COLOURS == tuple(c for c in style.OKABE_ITO if c != "#000000")


def test_the_template_needs_no_widget():
    import subprocess
    import sys

    code = (
        "import sys, rewardviz as rv\n"
        "template = rv.plots.style.TEMPLATE\n"
        "assert list(template.layout.colorway) == list(rv.plots.style.OKABE_ITO)\n"
        "assert not any(name.startswith('rewardviz.widgets') for name in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
