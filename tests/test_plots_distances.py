"""Tests of the reward-comparison plots: the figures hold exactly the data they were given."""

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

import rewardviz as rv
from rewardviz.plots._grid import ARROW_REACH
from rewardviz.plots.style import OKABE_ITO

LAYOUT = ["S..#", ".#.G", "...L"]
#: Grid moves (d_col, d_row) written out here, independently of the plotting module.
MOVES = {"up": (0, -1), "right": (1, 0), "down": (0, 1), "left": (-1, 0)}


@pytest.fixture(scope="module")
def world():
    mdp, _ = rv.envs.gridworld(LAYOUT)
    return mdp


def traces_named(figure, name):
    return [trace for trace in figure.data if trace.name == name]


def on_grid(mdp, per_state):
    """The per-state values as drawn: NaN off the states and at terminal states, which are
    drawn in their own colours, off the colour scale."""
    grid = np.full(mdp.grid_shape, np.nan)
    terminal = np.asarray(mdp.terminal)
    for state, (row, col) in enumerate(mdp.grid_cells):
        grid[row, col] = np.nan if terminal[state] else per_state[state]
    return grid


def arrow_moves(mdp, shaft):
    """``{state: [(d_col, d_row), ...]}`` of the arrows one shaft trace draws."""
    points = np.stack([np.asarray(shaft.x, float), np.asarray(shaft.y, float)], -1)
    segments = points.reshape(-1, 3, 2)[:, :2]
    cell_to_state = {cell: state for state, cell in enumerate(mdp.grid_cells)}
    moves = {}
    for start, end in segments[~np.isnan(segments[:, 0, 0])]:
        state = cell_to_state[(round(start[1]), round(start[0]))]
        moves.setdefault(state, []).append(end - start)
    return moves


def two_clusters(rng):
    """Distances between points on a line in two far-apart groups, shuffled: [N, N] and groups."""
    positions = np.concatenate([rng.uniform(0, 1, 4), rng.uniform(10, 11, 3)])
    group = np.array([0] * 4 + [1] * 3)
    shuffle = rng.permutation(len(positions))
    positions, group = positions[shuffle], group[shuffle]
    return np.abs(positions[:, None] - positions[None, :]), group


# ---------------------------------------------------------------------------
# distance_matrix and cluster_order


def test_cluster_order_keeps_each_cluster_together():
    distances, group = two_clusters(np.random.default_rng(1))
    order = rv.plots.cluster_order(distances)
    assert sorted(order.tolist()) == list(range(len(group)))
    groups_in_order = group[order]
    # One change of group along the order: the two clusters are contiguous blocks.
    assert np.count_nonzero(np.diff(groups_in_order)) == 1


def test_cluster_order_is_scipys_average_linkage_leaf_order():
    rng = np.random.default_rng(2)
    points = rng.normal(size=(9, 3))
    distances = np.linalg.norm(points[:, None] - points[None, :], axis=-1)
    expected = leaves_list(
        linkage(squareform(distances, checks=False), method="average", optimal_ordering=True)
    )
    np.testing.assert_array_equal(rv.plots.cluster_order(distances), expected)


def test_distance_matrix_draws_the_matrix_in_cluster_order_with_labels_and_hover():
    distances, _ = two_clusters(np.random.default_rng(3))
    labels = [f"r{index}" for index in range(len(distances))]
    figure = rv.plots.distance_matrix(distances, labels, title="EPIC")

    order = figure.layout.meta["order"]
    np.testing.assert_array_equal(order, rv.plots.cluster_order(distances))
    (heatmap,) = traces_named(figure, "distances")
    np.testing.assert_array_equal(np.asarray(heatmap.z), distances[np.ix_(order, order)])
    assert list(figure.layout.xaxis.ticktext) == [labels[index] for index in order]
    assert list(figure.layout.yaxis.ticktext) == [labels[index] for index in order]
    assert heatmap.text[1][2] == f"r{order[1]} vs r{order[2]}"
    assert "%{z" in heatmap.hovertemplate
    assert heatmap.zmin == 0
    assert figure.layout.yaxis.autorange == "reversed"  # first row at the top
    assert figure.layout.title.text == "EPIC"


def test_distance_matrix_in_the_given_order_and_with_default_labels():
    distances, _ = two_clusters(np.random.default_rng(4))
    figure = rv.plots.distance_matrix(distances, order="given")
    assert figure.layout.meta["order"] == list(range(len(distances)))
    np.testing.assert_array_equal(np.asarray(figure.data[0].z), distances)
    assert figure.layout.xaxis.ticktext[0] == "reward 0"


def test_distance_matrix_of_pairwise_epic_puts_shaped_copies_next_to_their_originals():
    mdp, _ = rv.envs.random_mdp(6, 2, seed=0)
    rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=(3,))
    potentials = np.random.default_rng(5).normal(size=(3, mdp.n_states))
    shaped = rv.shaping.potential_shaping(mdp, 2.0 * rewards, potentials)
    everything = np.concatenate([np.asarray(rewards), np.asarray(shaped)])
    distances = rv.distances.pairwise(mdp, everything, method="epic")

    order = rv.plots.distance_matrix(distances).layout.meta["order"]
    position = {reward: index for index, reward in enumerate(order)}
    for original in range(3):
        assert abs(position[original] - position[original + 3]) == 1


@pytest.mark.parametrize("size", [1, 2])
def test_one_or_two_rewards_are_drawn_as_given(size):
    distances = np.array([[0.0, 0.4], [0.4, 0.0]])[:size, :size]
    figure = rv.plots.distance_matrix(distances)
    assert figure.layout.meta["order"] == list(range(size))
    np.testing.assert_array_equal(np.asarray(figure.data[0].z), distances)


def test_distance_matrix_errors_name_the_problem():
    good = np.array([[0.0, 0.2, 0.5], [0.2, 0.0, 0.4], [0.5, 0.4, 0.0]])
    with pytest.raises(ValueError, match=r"square \[N, N\] matrix.*\(3, 2\)"):
        rv.plots.distance_matrix(good[:, :2])
    with pytest.raises(ValueError, match=r"square \[N, N\] matrix.*\(3,\)"):
        rv.plots.distance_matrix(good[0])
    asymmetric = good.copy()
    asymmetric[0, 2] = 0.9
    with pytest.raises(ValueError, match=r"symmetric: distances\((0, 2|2, 0)\).*\(d \+ d\.T\) / 2"):
        rv.plots.distance_matrix(asymmetric)
    negative = good.copy()
    negative[1, 2] = negative[2, 1] = -0.1
    with pytest.raises(ValueError, match=r"non-negative, got -0\.1 at index \(1, 2\)"):
        rv.plots.distance_matrix(negative)
    missing = good.copy()
    missing[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"distances contains NaN at index \(2, 0\)"):
        rv.plots.distance_matrix(missing)
    with pytest.raises(ValueError, match=r"labels must have 3 entries"):
        rv.plots.distance_matrix(good, ["a", "b"])
    with pytest.raises(ValueError, match=r"order must be 'cluster' or 'given'"):
        rv.plots.distance_matrix(good, order="alphabetical")
    with pytest.raises(TypeError, match=r"distances must be array-like of numbers"):
        rv.plots.distance_matrix([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match=r"symmetric"):
        rv.plots.cluster_order(asymmetric)


def test_float32_rounding_asymmetry_is_accepted():
    rng = np.random.default_rng(6)
    points = rng.normal(size=(5, 2))
    distances = np.linalg.norm(points[:, None] - points[None, :], axis=-1)
    nudged = distances + 1e-7 * np.triu(np.ones_like(distances), 1)
    figure = rv.plots.distance_matrix(nudged, order="given")
    np.testing.assert_array_equal(np.asarray(figure.data[0].z), nudged)


# ---------------------------------------------------------------------------
# regret_vs_distance


def rank_correlation_oracle(x, y):
    """Spearman's ρ for data without ties: Pearson correlation of the ranks."""
    rank_x, rank_y = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return np.corrcoef(rank_x, rank_y)[0, 1]


def test_regret_scatter_holds_the_inputs_and_quotes_spearman():
    rng = np.random.default_rng(7)
    distances = rng.uniform(0, 1, 40)
    # Noisy but increasing, strictly inside (0, 1): no ties, so the rank oracle applies.
    regrets = 1 / (1 + np.exp(-(6 * (distances - 0.5) + rng.normal(0, 1, 40))))
    labels = [f"pair {index}" for index in range(40)]
    figure = rv.plots.regret_vs_distance(distances, regrets, labels=labels, method_name="STARC")

    (scatter,) = figure.data
    np.testing.assert_array_equal(scatter.x, distances)
    np.testing.assert_array_equal(scatter.y, regrets)
    rho = figure.layout.meta["spearman"]["STARC"]
    np.testing.assert_allclose(rho, rank_correlation_oracle(distances, regrets), rtol=1e-12)
    assert rho > 0.5
    assert f"Spearman ρ = {rho:.2f}" in figure.layout.title.text
    assert "STARC" in figure.layout.xaxis.title.text
    assert figure.layout.yaxis.title.text == "normalised regret"
    assert scatter.text[3].startswith("pair 3<br>STARC distance")


def test_several_methods_get_one_trace_each_in_distinct_palette_colours():
    rng = np.random.default_rng(8)
    regrets = rng.uniform(0, 1, 25)
    methods = {"EPIC": rng.uniform(0, 1, 25), "DARD": rng.uniform(0, 1, 25), "STARC": regrets * 2}
    figure = rv.plots.regret_vs_distance(methods, regrets, title="three methods")

    assert len(figure.data) == 3
    colours = [trace.marker.color for trace in figure.data]
    assert colours == list(OKABE_ITO[:3])
    assert len({trace.marker.symbol for trace in figure.data}) == 3
    for trace, (name, values) in zip(figure.data, methods.items(), strict=True):
        np.testing.assert_array_equal(trace.x, values)
        np.testing.assert_array_equal(trace.y, regrets)
        rho = figure.layout.meta["spearman"][name]
        np.testing.assert_allclose(rho, rank_correlation_oracle(values, regrets), rtol=1e-12)
        assert trace.name == f"{name} (Spearman ρ = {rho:.2f})"
    assert figure.layout.meta["spearman"]["STARC"] == pytest.approx(1.0)
    assert figure.layout.showlegend
    assert figure.layout.title.text == "three methods"


def test_a_mapping_with_one_method_is_titled_by_that_method():
    figure = rv.plots.regret_vs_distance({"DARD": np.array([0.1, 0.5])}, np.array([0.2, 0.3]))
    assert figure.layout.meta["spearman"] == {"DARD": pytest.approx(1.0)}
    assert figure.layout.title.text == "Normalised regret vs DARD distance (Spearman ρ = 1.00)"
    assert figure.layout.xaxis.title.text == "DARD distance"


def test_spearman_is_undefined_for_constant_input():
    figure = rv.plots.regret_vs_distance(np.array([0.1, 0.5, 0.9]), np.zeros(3))
    assert figure.layout.meta["spearman"] == {"EPIC": None}
    assert "Spearman ρ undefined" in figure.layout.title.text


def test_regret_vs_distance_errors_name_the_problem():
    distances, regrets = np.array([0.1, 0.2, 0.3]), np.array([0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"EPIC distances have 2 entries but regrets has 3"):
        rv.plots.regret_vs_distance(distances[:2], regrets)
    with pytest.raises(ValueError, match=r"normalised regrets in \[0, 1\], got 1\.5 at index 1"):
        rv.plots.regret_vs_distance(distances, np.array([0.0, 1.5, 1.0]))
    with pytest.raises(ValueError, match=r"distances\['B'\] contains NaN at index \(1,\)"):
        rv.plots.regret_vs_distance({"A": distances, "B": np.array([0.1, np.nan, 0.3])}, regrets)
    with pytest.raises(ValueError, match=r"empty mapping"):
        rv.plots.regret_vs_distance({}, regrets)
    with pytest.raises(ValueError, match=r"one-dimensional"):
        rv.plots.regret_vs_distance(np.zeros((3, 3)), regrets)
    with pytest.raises(ValueError, match=r"distances must be non-negative"):
        rv.plots.regret_vs_distance(-distances, regrets)
    with pytest.raises(ValueError, match=r"labels must have 3 entries"):
        rv.plots.regret_vs_distance(distances, regrets, labels=["only one"])


# ---------------------------------------------------------------------------
# shaping_comparison


@pytest.fixture(scope="module")
def comparison_data(world):
    rng = np.random.default_rng(9)
    n_states = world.n_states
    return {
        "original_values": rng.normal(size=n_states),
        "shaped_values": rng.normal(size=n_states),
        "original_policy": np.full(n_states, 1),  # right
        "shaped_policy": np.full(n_states, 2),  # down
        "original_reward": rng.normal(size=n_states),
        "shaped_reward": rng.normal(size=n_states),
    }


def test_comparison_panels_hold_each_value_in_its_cell_with_the_right_arrows(
    world, comparison_data
):
    figure = rv.plots.shaping_comparison(world, **comparison_data, title="shaping")

    original, shaped = traces_named(figure, "values")
    np.testing.assert_array_equal(
        np.asarray(original.z, float), on_grid(world, comparison_data["original_values"])
    )
    np.testing.assert_array_equal(
        np.asarray(shaped.z, float), on_grid(world, comparison_data["shaped_values"])
    )
    assert (original.xaxis, shaped.xaxis) == ("x", "x2")  # side by side
    assert original.coloraxis != shaped.coloraxis  # each panel on its own scale
    live = set(np.flatnonzero(~np.asarray(world.terminal)).tolist())
    for shaft, direction in zip(traces_named(figure, "policy"), ["right", "down"], strict=True):
        moves = arrow_moves(world, shaft)
        assert set(moves) == live
        for drawn in moves.values():
            np.testing.assert_allclose(drawn, [ARROW_REACH * np.array(MOVES[direction])])

    rewards = traces_named(figure, "reward")
    assert [trace.xaxis for trace in rewards] == ["x3", "x4"]  # the second row
    for trace, key in zip(rewards, ["original_reward", "shaped_reward"], strict=True):
        np.testing.assert_array_equal(
            np.asarray(trace.z, float), on_grid(world, comparison_data[key])
        )
        assert "reward" in trace.text[0][0]
        assert figure.layout[trace.coloraxis].cmid == 0
    assert len(traces_named(figure, "policy")) == 2  # no arrows on the reward row
    # Panel titles are wrapped to fit over their panels.
    assert [annotation.text.replace("<br>", " ") for annotation in figure.layout.annotations] == [
        "original: values and optimal policy",
        "shaped: values and optimal policy",
        "original: reward summary",
        "shaped: reward summary",
    ]
    assert figure.layout.title.text == "shaping"


def test_comparison_without_rewards_has_one_row_and_takes_titles(world, comparison_data):
    values_only = {key: comparison_data[key] for key in list(comparison_data)[:4]}
    figure = rv.plots.shaping_comparison(world, **values_only, titles=("R", "R + F"))
    assert len(traces_named(figure, "values")) == 2
    assert not traces_named(figure, "reward")
    assert [annotation.text for annotation in figure.layout.annotations] == ["R", "R + F"]


def test_update_comparison_changes_data_in_place_without_new_traces(world, comparison_data):
    figure = go.FigureWidget(rv.plots.shaping_comparison(world, **comparison_data))
    traces_before = list(figure.data)
    lengths_before = [len(trace.x) for trace in figure.data if trace.x is not None]
    new_values = np.arange(world.n_states, dtype=float)
    new_reward = -np.arange(world.n_states, dtype=float)

    returned = rv.plots.update_shaping_comparison(
        figure,
        world,
        shaped_values=new_values,
        shaped_policy=np.full(world.n_states, 3),  # left
        shaped_reward=new_reward,
        titles=("a", "b", "c", "d"),
        title="updated",
    )

    assert returned is figure
    assert all(new is old for new, old in zip(figure.data, traces_before, strict=True))
    assert [len(trace.x) for trace in figure.data if trace.x is not None] == lengths_before
    original, shaped = traces_named(figure, "values")
    np.testing.assert_array_equal(np.asarray(shaped.z, float), on_grid(world, new_values))
    np.testing.assert_array_equal(  # None keeps what is drawn
        np.asarray(original.z, float), on_grid(world, comparison_data["original_values"])
    )
    original_shaft, shaped_shaft = traces_named(figure, "policy")
    for drawn in arrow_moves(world, shaped_shaft).values():
        np.testing.assert_allclose(drawn, [ARROW_REACH * np.array(MOVES["left"])])
    for drawn in arrow_moves(world, original_shaft).values():
        np.testing.assert_allclose(drawn, [ARROW_REACH * np.array(MOVES["right"])])
    _, shaped_reward = traces_named(figure, "reward")
    np.testing.assert_array_equal(np.asarray(shaped_reward.z, float), on_grid(world, new_reward))
    assert [annotation.text for annotation in figure.layout.annotations] == ["a", "b", "c", "d"]
    assert figure.layout.title.text == "updated"


def test_comparison_errors_name_the_argument(world, comparison_data):
    data = dict(comparison_data)
    with pytest.raises(ValueError, match=r"shaped_values must have shape \[S\] = \(10,\).*\(9,\)"):
        rv.plots.shaping_comparison(world, **{**data, "shaped_values": np.zeros(9)})
    with pytest.raises(ValueError, match=r"shaped_policy must have shape \[S, A\]"):
        rv.plots.shaping_comparison(world, **{**data, "shaped_policy": np.zeros((10, 3))})
    with pytest.raises(ValueError, match=r"original_policy picks action 7"):
        rv.plots.shaping_comparison(world, **{**data, "original_policy": np.full(10, 7)})
    with pytest.raises(ValueError, match=r"original_reward contains NaN at index \(4,\)"):
        broken = data["original_reward"].copy()
        broken[4] = np.nan
        rv.plots.shaping_comparison(world, **{**data, "original_reward": broken})
    with pytest.raises(ValueError, match=r"both original_reward and shaped_reward"):
        rv.plots.shaping_comparison(world, **{**data, "shaped_reward": None})
    with pytest.raises(ValueError, match=r"titles must have one entry per panel \(4"):
        rv.plots.shaping_comparison(world, **data, titles=("a", "b"))
    mdp, _ = rv.envs.random_mdp(10, 4, seed=0)
    with pytest.raises(ValueError, match=r"need mdp\.grid_shape"):
        rv.plots.shaping_comparison(mdp, **data)

    values_only = {key: data[key] for key in list(data)[:4]}
    figure = rv.plots.shaping_comparison(world, **values_only)
    with pytest.raises(ValueError, match=r"built without the reward row"):
        rv.plots.update_shaping_comparison(figure, world, original_reward=np.zeros(10))
    with pytest.raises(ValueError, match=r"not built by rewardviz\.plots\.shaping_comparison"):
        rv.plots.update_shaping_comparison(rv.plots.gridworld(world), world)
    other, _ = rv.envs.gridworld(["S.G"])
    with pytest.raises(ValueError, match=r"different grid"):
        rv.plots.update_shaping_comparison(figure, other, shaped_values=np.zeros(3))


# ---------------------------------------------------------------------------
# potential_heatmap


def test_potential_heatmap_draws_the_potential_on_a_scale_centred_at_zero(world):
    potential = np.linspace(-3.0, 1.0, world.n_states)
    figure = rv.plots.potential_heatmap(world, potential)

    (heatmap,) = traces_named(figure, "values")
    np.testing.assert_array_equal(np.asarray(heatmap.z, float), on_grid(world, potential))
    assert figure.layout.coloraxis.cmid == 0
    assert figure.layout.title.text == "Potential Φ(s)"
    # The figure is a gridworld figure: it can be redrawn in place.
    rv.plots.update_gridworld(figure, world, -potential)
    np.testing.assert_array_equal(np.asarray(heatmap.z, float), on_grid(world, -potential))


def test_potential_heatmap_wants_one_number_per_state(world):
    with pytest.raises(ValueError, match=r"potential must have shape \[S\] = \(10,\)"):
        rv.plots.potential_heatmap(world, np.zeros((10, 4)))
