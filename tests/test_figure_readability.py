"""Figures a newcomer can read (issue 19): coordinates, labels, titles, colours, arrows.

Geometric checks on the figure objects, not screenshots: what each trace holds and how it
is sent to the browser, how many tick labels an axis has and how long they are, where a
title sits for a figure of plotly's default width, which colour a cell gets, how big an
arrow is drawn.
"""

import dataclasses

import matplotlib
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from ipywidgets.widgets.widget import _remove_buffers

import rewardviz as rv
from rewardviz.expressivity import environments
from rewardviz.plots import style

matplotlib.use("Agg")
import matplotlib.pyplot as plt

#: Width (pixels) a figure without one is drawn at: plotly's default.
DEFAULT_WIDTH = 700
#: A generous average glyph width, as a fraction of the font size, for estimating text width.
GLYPH_WIDTH = 0.6
LAYOUT = ["S..#", ".#.G", "...L"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def as_sent(figure: go.FigureWidget) -> list[dict]:
    """The traces of a ``FigureWidget`` as the browser gets them: JSON only.

    Numpy arrays travel as binary buffers beside the JSON, which a saved or embedded
    widget state can lose; what is left here is what every front end sees.
    """
    to_json = figure.trait_metadata("_widget_data", "to_json")  # the widget's own serialiser
    state = {"data": to_json(figure._data, None)}
    json_state, _, _ = _remove_buffers(state)
    return json_state["data"]


# ---------------------------------------------------------------------------
# LandscapeExplorer: the main map in state coordinates.


@pytest.fixture(scope="module")
def landscape_explorer():
    return rv.widgets.LandscapeExplorer.from_example(
        rv.landscape_examples.ball_and_goal(), resolution=12, n_samples=4
    )


def check_map_coordinates(explorer):
    land = explorer.landscape
    sent = {trace["name"]: trace for trace in as_sent(explorer.fig)}
    contour = sent["landscape"]
    # Plain JSON lists: a binary buffer can be lost on the way, and then plotly draws
    # the map in index space (0 … n−1), one flat quadrant of the axes.
    assert isinstance(contour["x"], list) and isinstance(contour["y"], list)
    np.testing.assert_allclose(contour["x"], np.asarray(land.x_values), rtol=1e-12)
    np.testing.assert_allclose(contour["y"], np.asarray(land.y_values), rtol=1e-12)
    assert np.shape(contour["z"]) == (len(land.y_values), len(land.x_values))
    # The overlays are in the same (state) coordinates as the map.
    low_x, high_x = float(land.x_values[0]), float(land.x_values[-1])
    gradient_x = np.array([v for v in sent["gradient"]["x"] if v is not None], dtype=float)
    assert gradient_x.size and low_x <= gradient_x.min() and gradient_x.max() <= high_x + 1
    points = explorer._points(explorer._state_values())
    np.testing.assert_allclose(sent["points"]["x"], [xy[0] for xy in points.values()])
    np.testing.assert_allclose(sent["points"]["y"], [xy[1] for xy in points.values()])
    for trace in as_sent(explorer.figs["components"]):
        np.testing.assert_allclose(trace["x"], np.asarray(land.x_values), rtol=1e-12)
        np.testing.assert_allclose(trace["y"], np.asarray(land.y_values), rtol=1e-12)


def test_landscape_map_carries_its_state_coordinates_also_after_a_slider_move(
    landscape_explorer,
):
    check_map_coordinates(landscape_explorer)
    slider = landscape_explorer.param_sliders["dispersion"]
    slider.value = round(0.6 * slider.value, 3)
    assert landscape_explorer.status.value == ""
    assert landscape_explorer.state().params["dispersion"] == slider.value
    check_map_coordinates(landscape_explorer)
    slider = next(iter(landscape_explorer.coordinate_sliders.values()))
    slider.value = slider.value + 0.5  # moves the ball: the points overlay changes
    check_map_coordinates(landscape_explorer)


def test_explorers_send_their_figures_to_the_browser_as_json(landscape_explorer):
    mdp, reward = rv.envs.gridworld(LAYOUT, gamma=0.9)
    log = rv.RewardLog.from_episodes({"a": [[1.0, 0.5], [0.2]], "b": [[0.1, 0.0], [1.0]]})
    explorers = [
        landscape_explorer,
        rv.widgets.MDPExplorer(mdp, reward),
        rv.widgets.ComponentExplorer(log),
        rv.widgets.ShapingLab(mdp, reward),
    ]
    for explorer in explorers:
        figures = {"fig": explorer.fig, **getattr(explorer, "figs", {})}
        for name, figure in figures.items():
            _, buffer_paths, _ = _remove_buffers(figure.get_state())
            assert not buffer_paths, f"{type(explorer).__name__} {name}: {buffer_paths[:3]}"


# ---------------------------------------------------------------------------
# Return-share bars.


def test_return_share_labels_are_level_readable_and_clear_of_the_error_bars():
    names = ["forward_progress_reward", "ctrl_cost", "alive_bonus"]
    shares = np.random.default_rng(0).dirichlet(np.ones(3), size=20)
    figure = rv.plots.return_shares(shares, names)
    (bar,) = figure.data
    assert bar.orientation == "h"  # names on the y axis: level, whatever the width
    assert bar.textposition == "none"  # nothing written on the bars, where error bars run
    assert "forward_progress_reward" in bar.text[0]  # the numbers are in the hover text
    yaxis = figure.layout.yaxis
    assert list(yaxis.ticktext) == names and yaxis.automargin
    assert yaxis.tickfont.size >= 12 and figure.layout.xaxis.tickfont.size >= 12
    assert figure.layout.yaxis.tickangle is None


def test_component_explorer_share_labels_are_not_rotated():
    names = ["forward_progress_reward", "ctrl_cost", "alive_bonus", "contact_cost"]
    log = rv.RewardLog.from_episodes({name: [[1.0, 0.5], [0.2]] for name in names})
    explorer = rv.widgets.ComponentExplorer(log)
    shares = explorer.figs["shares"]
    assert shares.data[0].orientation == "h"
    assert list(shares.layout.yaxis.ticktext) == names
    assert shares.layout.yaxis.tickangle is None and shares.layout.xaxis.tickangle is None


# ---------------------------------------------------------------------------
# Heatmap tick labels.

LONG_NAMES = [f"reward/component_number_{k:02d}" for k in range(60)]


def check_matrix_axis(axis, names):
    assert axis.automargin
    assert len(axis.tickvals) <= 30  # thinned: labels do not overlap
    assert len(axis.tickvals) == len(axis.ticktext)
    assert all(len(text) <= 16 for text in axis.ticktext)  # cut: labels do not clip
    assert len(set(axis.ticktext)) == len(axis.ticktext)  # still tell rows apart
    for position, text in zip(axis.tickvals, axis.ticktext, strict=True):
        # The label belongs to its row: the row's name, cut in the middle.
        head, tail = text.split("…")
        assert names[position].startswith(head) and names[position].endswith(tail)


def test_heatmap_tick_labels_are_cut_thinned_and_given_room():
    correlation = np.eye(len(LONG_NAMES))
    figure = rv.plots.correlation_heatmap(correlation, LONG_NAMES)
    check_matrix_axis(figure.layout.xaxis, LONG_NAMES)
    check_matrix_axis(figure.layout.yaxis, LONG_NAMES)
    (heatmap,) = figure.data
    assert heatmap.text[3][5] == f"{LONG_NAMES[3]} vs {LONG_NAMES[5]}"  # full names on hover

    distances = np.abs(np.subtract.outer(np.arange(60.0), np.arange(60.0)))
    figure = rv.plots.distance_matrix(distances, LONG_NAMES, order="given")
    check_matrix_axis(figure.layout.xaxis, LONG_NAMES)
    check_matrix_axis(figure.layout.yaxis, LONG_NAMES)

    figure = rv.plots.reward_conflict(correlation, np.full((60, 60), 0.5), LONG_NAMES)
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        check_matrix_axis(figure.layout[axis], LONG_NAMES)
    assert figure.data[1].text[0][1] == f"{LONG_NAMES[0]} vs {LONG_NAMES[1]}"


def test_few_short_heatmap_names_are_all_shown_whole():
    names = ["speed", "ctrl", "alive"]
    figure = rv.plots.correlation_heatmap(np.eye(3), names)
    assert list(figure.layout.xaxis.ticktext) == names
    assert list(figure.layout.xaxis.tickvals) == [0, 1, 2]


# ---------------------------------------------------------------------------
# ShapingLab.


@pytest.fixture(scope="module")
def lab():
    mdp, reward = rv.envs.gridworld(LAYOUT, gamma=0.9)
    return rv.widgets.ShapingLab(mdp, reward, n_learn_seeds=2, learn_steps=200)


def test_shaping_lab_panel_titles_fit_inside_the_figure(lab):
    figure = lab.fig
    width = figure.layout.width or DEFAULT_WIDTH
    margin = figure.layout.margin
    titles = [a for a in figure.layout.annotations if a.xref == "paper"]
    assert len(titles) == 4
    for annotation in titles:
        lines = annotation.text.split("<br>")
        size = annotation.font.size or 16  # plotly's subplot-title size when unset
        half = max(map(len, lines)) * size * GLYPH_WIDTH / 2
        centre = margin.l + annotation.x * (width - margin.l - margin.r)
        assert centre - half >= 0 and centre + half <= width, annotation.text
    assert titles[0].text.replace("<br>", " ").startswith("original")


def test_shaping_lab_shows_a_note_not_empty_axes_before_learn(lab):
    figure = lab.learning_fig
    assert len(figure.data) == 0
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
    (note,) = figure.layout.annotations
    assert "learn" in note.text
    lab.learn()
    assert len(figure.data) > 0
    assert not figure.layout.annotations
    assert figure.layout.xaxis.visible is not False and figure.layout.yaxis.visible is not False


# ---------------------------------------------------------------------------
# Gridworlds: terminal cells and arrows.


@pytest.fixture(scope="module")
def world():
    mdp, reward = rv.envs.gridworld(LAYOUT, gamma=0.9)
    q = rv.solve.q_values(mdp, reward)
    return mdp, np.asarray(q.max(-1)), np.asarray(rv.solve.greedy_policy(q))


def terminal_colours(figure):
    """``{(row, col): colour}`` of the cells the terminal-cell trace colours."""
    (trace,) = [t for t in figure.data if t.name == "terminal cells"]
    scale = trace.colorscale
    coloured = {}
    for row, line in enumerate(trace.z):
        for col, code in enumerate(line):
            if code is not None:
                # The flat band of the scale that holds the code.
                position = (code - trace.zmin) / (trace.zmax - trace.zmin)
                coloured[(row, col)] = next(
                    colour
                    for (low, colour), (high, _) in zip(scale[::2], scale[1::2], strict=True)
                    if low <= position <= high
                )
    return coloured


def test_goal_and_lava_get_their_own_colours_not_the_worst_value(world):
    mdp, values, policy = world
    figure = rv.plots.gridworld(mdp, values, policy)
    (heatmap,) = [t for t in figure.data if t.name == "values"]
    goal, lava = (1, 3), (2, 3)
    for row, col in (goal, lava):
        assert heatmap.z[row][col] is None  # off the colour scale
        assert "terminal" in heatmap.text[row][col]  # the hover text still says what it is
    colours = terminal_colours(figure)
    assert colours == {goal: style.TERMINAL_COLOURS["goal"], lava: style.TERMINAL_COLOURS["hazard"]}
    legend = {t.name: t.marker.color for t in figure.data if t.showlegend}
    assert legend == {
        "terminal: goal": style.TERMINAL_COLOURS["goal"],
        "terminal: hazard": style.TERMINAL_COLOURS["hazard"],
    }
    # Redrawing keeps them off the scale.
    rv.plots.update_gridworld(figure, mdp, values + 1.0)
    assert heatmap.z[goal[0]][goal[1]] is None
    # Every grid panel of the shaping comparison does the same.
    figure = rv.plots.shaping_comparison(mdp, values, values, policy, policy)
    for trace in figure.data:
        if trace.name == "values":
            assert trace.z[goal[0]][goal[1]] is None and trace.z[lava[0]][lava[1]] is None


def test_matplotlib_gridworld_fills_terminal_cells_with_their_own_colours(world):
    mdp, values, policy = world
    ax = rv.plots.gridworld_matplotlib(mdp, values, policy)
    image = ax.get_images()[0].get_array()
    assert image.mask[1, 3] and image.mask[2, 3]
    filled = {
        (round(patch.get_y() + 0.5), round(patch.get_x() + 0.5)): matplotlib.colors.to_hex(
            patch.get_facecolor()
        )
        for patch in ax.patches
    }
    assert filled == {
        (1, 3): style.TERMINAL_COLOURS["goal"].lower(),
        (2, 3): style.TERMINAL_COLOURS["hazard"].lower(),
    }
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["terminal: goal", "terminal: hazard"]


def arrow_size(figure):
    (shaft,) = [t for t in figure.data if t.name == "policy"]
    (head,) = [t for t in figure.data if t.name == "policy heads"]
    return shaft.line.width, float(np.nanmax(np.asarray(head.marker.size, dtype=float)))


def test_arrows_scale_with_the_cells_and_stay_readable():
    small, small_reward = rv.envs.gridworld(["S.", ".G"])
    big, big_reward = rv.envs.gridworld(["S" + "." * 11] + ["." * 12] * 10 + ["." * 11 + "G"])
    sizes = {}
    for name, (mdp, reward) in {"small": (small, small_reward), "big": (big, big_reward)}.items():
        policy = rv.solve.greedy_policy(rv.solve.q_values(mdp, reward))
        sizes[name] = arrow_size(rv.plots.gridworld(mdp, policy=policy))
    small_shaft, small_head = sizes["small"]
    big_shaft, big_head = sizes["big"]
    assert small_shaft >= 4 and small_head >= 20  # bold in big cells
    assert big_shaft >= 2 and big_head >= 9  # still readable in small cells
    assert small_shaft > big_shaft and small_head > big_head


def test_redrawn_arrows_keep_their_size(world):
    mdp, values, policy = world
    figure = go.FigureWidget(rv.plots.gridworld(mdp, values, policy))
    before = arrow_size(figure)
    rv.plots.update_gridworld(figure, mdp, policy=np.full(mdp.n_states, 2))
    assert arrow_size(figure) == before


# ---------------------------------------------------------------------------
# Realisation plots.


def test_non_realisable_answer_explains_itself_where_the_reward_would_be():
    mdp = environments.xor()
    bad = rv.expressivity.realize_soap(mdp, [[0, 1], [1, 0]])
    good = rv.expressivity.realize_soap(mdp, [[0, 0], [0, 1]])
    figure = rv.plots.realization(mdp, bad)
    (explanation,) = [a for a in figure.layout.annotations if a.name == "explanation"]
    assert explanation.visible
    assert "V(a1,a2) + V(a2,a1)" in explanation.text  # the certificate's identity
    assert "requires" in explanation.text
    domain = figure.layout.xaxis.domain
    assert domain[0] <= explanation.x < domain[1]  # in the left panel
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
    rv.plots.update_realization(figure, mdp, good)
    assert explanation.visible is False
    assert figure.layout.xaxis.visible and figure.layout.yaxis.visible
    rv.plots.update_realization(figure, mdp, bad)
    assert explanation.visible and figure.layout.xaxis.visible is False


# ---------------------------------------------------------------------------
# The STARC forest plot.


def test_forest_plot_labels_every_row():
    names = [f"{c}-{n}-{m}" for c in ("none", "epic", "dard", "val") for n in "ab" for m in "xyz"]
    names += ["minimal-l2-l2", "minimal-l1-l2"]
    table = pd.DataFrame({"spearman": np.linspace(0.9, -0.1, len(names))}, index=names).assign(
        low=lambda t: t.spearman - 0.05, high=lambda t: t.spearman + 0.05
    )
    table.loc["val-a-x", "spearman"] = np.nan  # undefined: its row is still labelled
    figure = rv.plots.correlation_forest(table, title="ρ with regret")
    yaxis = figure.layout.yaxis
    assert list(yaxis.tickvals) == list(range(len(names)))
    assert list(yaxis.ticktext) == names
    assert figure.layout.height >= 18 * len(names)
    drawn = sorted(y for trace in figure.data for y in trace.y)
    assert drawn == list(range(len(names)))  # every row has its marker slot
    assert [trace.name for trace in figure.data] == ["none", "epic", "dard", "val", "minimal"]
    assert tuple(yaxis.range) == (len(names) - 0.5, -0.5)  # the table's first row on top


def test_forest_plot_refuses_a_table_without_the_columns():
    with pytest.raises(TypeError, match="columns 'spearman', 'low' and 'high'"):
        rv.plots.correlation_forest(pd.DataFrame({"rho": [0.5]}))
    with pytest.raises(ValueError, match="summary has no rows"):
        rv.plots.correlation_forest(pd.DataFrame(columns=["spearman", "low", "high"]))


# ---------------------------------------------------------------------------
# ComponentExplorer: a setting that overflows.


@pytest.fixture
def log():
    return rv.RewardLog.from_episodes(
        {"forward": [[1.0, 2.0, 0.5], [0.2, 0.1]], "ctrl": [[-0.2, -0.4, 0.0], [0.0, -0.1]]}
    )


@pytest.fixture
def components(log):
    return rv.widgets.ComponentExplorer(log, gamma=0.99)


def drawn(explorer):
    return {name: figure.to_json() for name, figure in explorer.figs.items()}


def test_overflowing_weight_keeps_the_figures_and_says_why(log, components):
    before, state = drawn(components), components.state()
    largest = float(np.finfo(np.asarray(log.components).dtype).max)  # 3.4e38 in float32
    slider = components.weight_sliders["forward"]
    slider.max = largest
    # Finite, and so is every weighted step (at most 0.9 of the largest number), but the
    # discounted return of the first episode (1 + 2γ + 0.5γ² steps' worth) overflows.
    slider.value = 0.45 * largest
    assert "Not updated" in components.status.value  # the reason, whoever found it
    assert drawn(components) == before
    assert components.state() == state
    slider.value = 2.0  # a good setting afterwards is drawn and clears the message
    assert components.status.value == ""
    assert components.state().weights["forward"] == 2.0
    assert drawn(components) != before


def test_the_explorer_refuses_values_that_overflowed_whatever_the_core_did(components, monkeypatch):
    from rewardviz.widgets import component_explorer

    def overflowed(log, weights, gamma):
        """A core that lets an overflow through: the new returns come back infinite."""
        result = original(log, weights, gamma)
        return dataclasses.replace(result, new_returns=np.full_like(result.new_returns, np.inf))

    original = component_explorer.decomposition.reweight
    before = drawn(components)
    monkeypatch.setattr(component_explorer.decomposition, "reweight", overflowed)
    components.weight_sliders["ctrl"].value = 2.0
    assert "returns under the new weights" in components.status.value
    assert "infinite" in components.status.value
    assert drawn(components) == before


def test_an_arithmetic_error_of_the_core_is_reported_not_raised(components, monkeypatch):
    from rewardviz.widgets import component_explorer

    def overflowing(*_args, **_kwargs):
        raise OverflowError("weights overflow float32")

    before = drawn(components)
    monkeypatch.setattr(component_explorer.decomposition, "reweight", overflowing)
    components.weight_sliders["ctrl"].value = 2.0
    assert "weights overflow float32" in components.status.value
    assert drawn(components) == before
