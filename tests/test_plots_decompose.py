"""Tests of the decomposition plots: the figures draw exactly the arrays they are handed.

Percentiles, ranks and binned means are checked against loop oracles written here.
"""

import numpy as np
import plotly.graph_objects as go
import pytest
from test_widget_messages import assert_strict_json

import rewardviz as rv
from rewardviz.plots.style import COMPONENT_COLOURS, RANK_COLOURS

NAMES = ["forward", "ctrl", "alive"]


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def percentile(values, q):
    """Linear-interpolation percentile of a 1-D array, by hand."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(np.floor(position))
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def rank_of(returns, episode):
    """0 for the highest return; among equal returns the lower episode index ranks higher."""
    return sum(
        1
        for other, value in enumerate(returns)
        if value > returns[episode] or (value == returns[episode] and other < episode)
    )


def drawn_segments(figure):
    """``{episode: (direction, old rank, new rank)}`` from a ranking_change figure."""
    segments = {}
    for trace in figure.data:
        points = np.asarray(trace.y, float).reshape(-1, 3)
        x = np.asarray(trace.x, float).reshape(-1, 3)
        np.testing.assert_array_equal(x[:, :2], np.tile([0.0, 1.0], (len(x), 1)))
        assert np.isnan(points[:, 2]).all()
        for episode, (old, new, _) in enumerate(points):
            if not np.isnan(old):
                assert episode not in segments, f"episode {episode} is drawn twice"
                segments[episode] = (trace.legendgroup, int(old), int(new))
    return segments


# ---------------------------------------------------------------------------
# Stacked contributions.


def test_stacked_bars_are_the_contributions_and_the_line_is_the_total(rng):
    contributions = rng.normal(size=(12, 3))
    total = rng.normal(size=12)
    figure = rv.plots.stacked_contributions(contributions, NAMES, total=total, title="episode 0")
    assert [trace.type for trace in figure.data] == ["bar", "bar", "bar", "scatter"]
    assert [trace.name for trace in figure.data[:3]] == NAMES
    for k, bar in enumerate(figure.data[:3]):
        np.testing.assert_array_equal(bar.x, np.arange(12))
        np.testing.assert_array_equal(bar.y, contributions[:, k])
    np.testing.assert_array_equal(figure.data[3].y, total)
    assert figure.layout.barmode == "relative"
    assert figure.layout.title.text == "episode 0"


def test_stacked_total_defaults_to_the_sum_over_components(rng):
    contributions = rng.normal(size=(5, 3))
    figure = rv.plots.stacked_contributions(contributions, NAMES)
    np.testing.assert_allclose(figure.data[3].y, contributions.sum(axis=1))


def test_stacked_components_are_told_apart_beyond_the_palette(rng):
    names = [f"term {k}" for k in range(10)]
    figure = rv.plots.stacked_contributions(rng.normal(size=(4, 10)), names)
    looks = {(bar.marker.color, bar.marker.pattern.shape) for bar in figure.data[:10]}
    assert len(looks) == 10
    assert {bar.marker.color for bar in figure.data[:10]} <= set(COMPONENT_COLOURS)
    assert figure.data[10].line.color not in COMPONENT_COLOURS


def test_update_stacked_contributions_changes_data_in_place(rng):
    figure = go.FigureWidget(rv.plots.stacked_contributions(rng.normal(size=(8, 3)), NAMES))
    traces = list(figure.data)
    new = rng.normal(size=(8, 3))
    returned = rv.plots.update_stacked_contributions(figure, new, title="new")
    assert returned is figure
    assert len(figure.data) == 4
    assert all(a is b for a, b in zip(figure.data, traces, strict=True))
    for k in range(3):
        np.testing.assert_array_equal(figure.data[k].y, new[:, k])
    np.testing.assert_allclose(figure.data[3].y, new.sum(axis=1))
    assert figure.layout.title.text == "new"


def test_stacked_errors_name_the_argument(rng):
    with pytest.raises(ValueError, match=r"contributions must have shape \[T, K\]"):
        rv.plots.stacked_contributions(rng.normal(size=8), NAMES)
    with pytest.raises(ValueError, match="names must have 3 entries"):
        rv.plots.stacked_contributions(rng.normal(size=(8, 3)), NAMES[:2])
    with pytest.raises(ValueError, match=r"total must have shape \[T\] = \(8,\)"):
        rv.plots.stacked_contributions(rng.normal(size=(8, 3)), NAMES, total=np.zeros(7))
    with pytest.raises(ValueError, match="contributions contains NaN"):
        rv.plots.stacked_contributions(np.full((2, 3), np.nan), NAMES)
    figure = rv.plots.stacked_contributions(rng.normal(size=(8, 3)), NAMES)
    with pytest.raises(ValueError, match="the figure draws 3"):
        rv.plots.update_stacked_contributions(figure, rng.normal(size=(8, 2)))
    with pytest.raises(ValueError, match=r"not built by rewardviz\.plots\.stacked_contributions"):
        rv.plots.update_stacked_contributions(go.Figure(), rng.normal(size=(8, 3)))


# ---------------------------------------------------------------------------
# Shares, correlations, distributions, variance.


def test_return_shares_draw_the_mean_and_the_percentile_interval(rng):
    shares = rng.dirichlet(np.ones(3), size=40)
    figure = rv.plots.return_shares(shares, NAMES)
    (bar,) = figure.data
    assert bar.orientation == "h"  # one row per component, names level on the y axis
    np.testing.assert_allclose(bar.x, shares.mean(axis=0))
    low = [percentile(shares[:, k], 2.5) for k in range(3)]
    high = [percentile(shares[:, k], 97.5) for k in range(3)]
    np.testing.assert_allclose(bar.error_x.arrayminus, shares.mean(axis=0) - low)
    np.testing.assert_allclose(bar.error_x.array, high - shares.mean(axis=0))
    assert list(figure.layout.yaxis.ticktext) == NAMES


def test_update_return_shares_changes_data_in_place(rng):
    figure = go.FigureWidget(rv.plots.return_shares(rng.dirichlet(np.ones(3), size=10), NAMES))
    bar = figure.data[0]
    new = rng.dirichlet(np.ones(3), size=25)  # a different number of episodes is fine
    assert rv.plots.update_return_shares(figure, new, title="γ = 0.5") is figure
    assert len(figure.data) == 1 and figure.data[0] is bar
    np.testing.assert_allclose(bar.x, new.mean(axis=0))
    assert figure.layout.title.text == "γ = 0.5"
    with pytest.raises(ValueError, match="the figure draws 3"):
        rv.plots.update_return_shares(figure, new[:, :2])


def test_return_shares_errors(rng):
    with pytest.raises(ValueError, match=r"shares must have shape \[E, K\]"):
        rv.plots.return_shares(rng.random(3), NAMES)
    with pytest.raises(ValueError, match="names must have 3 entries"):
        rv.plots.return_shares(rng.random((4, 3)), ["a"])
    with pytest.raises(TypeError, match="names must be a sequence"):
        rv.plots.return_shares(rng.random((4, 3)), "abc")


def test_correlation_heatmap_draws_the_matrix_on_a_centred_scale():
    correlation = np.array([[1.0, -0.3, np.nan], [-0.3, 1.0, 0.8], [np.nan, 0.8, 1.0]])
    figure = rv.plots.correlation_heatmap(correlation, NAMES)
    (heatmap,) = figure.data
    drawn = np.array(heatmap.z, dtype=float)  # None (undefined) reads back as NaN
    np.testing.assert_array_equal(drawn, correlation)
    assert heatmap.z[0][2] is None
    assert (heatmap.zmid, heatmap.zmin, heatmap.zmax) == (0, -1, 1)
    assert list(figure.layout.xaxis.ticktext) == NAMES
    assert_strict_json(go.FigureWidget(figure).get_state())


def test_correlation_heatmap_errors():
    with pytest.raises(ValueError, match=r"correlation must be a square \[K, K\]"):
        rv.plots.correlation_heatmap(np.ones((2, 3)), NAMES)
    with pytest.raises(
        ValueError, match=r"correlation must lie in \[-1, 1\], got 1.5 at index \(0, 1\)"
    ):
        rv.plots.correlation_heatmap(np.array([[1, 1.5], [1.5, 1]]), NAMES[:2])
    with pytest.raises(ValueError, match="names must have 2 entries"):
        rv.plots.correlation_heatmap(np.eye(2), NAMES)


def test_return_distributions_draw_one_box_per_component(rng):
    returns = rng.normal(size=(30, 3))
    figure = rv.plots.return_distributions(returns, NAMES)
    assert [trace.type for trace in figure.data] == ["box"] * 3
    assert [trace.name for trace in figure.data] == NAMES
    for k, box in enumerate(figure.data):
        np.testing.assert_array_equal(box.y, returns[:, k])
    with pytest.raises(ValueError, match=r"returns must have shape \[E, K\]"):
        rv.plots.return_distributions(returns[None], NAMES)


def test_variance_attribution_draws_the_bars_and_quotes_the_sum():
    attribution = np.array([0.7, 0.45, -0.15])
    figure = rv.plots.variance_attribution(attribution, NAMES)
    np.testing.assert_array_equal(figure.data[0].y, attribution)
    assert figure.layout.meta["sum"] == pytest.approx(1.0)
    assert figure.layout.annotations[0].text == "sum = 1.000"
    with pytest.raises(ValueError, match=r"attribution must be one-dimensional"):
        rv.plots.variance_attribution(attribution[None], NAMES)
    with pytest.raises(ValueError, match="names must have 3 entries"):
        rv.plots.variance_attribution(attribution, NAMES[:1])


# ---------------------------------------------------------------------------
# Ranking change.


def test_ranking_lines_end_at_the_ranks(rng):
    old = rng.normal(size=9)
    new = old + rng.normal(size=9)
    new[4] = new[2]  # a tie: the lower index ranks higher
    figure = rv.plots.ranking_change(old, new, labels=[f"run {e}" for e in range(9)])
    segments = drawn_segments(figure)
    assert sorted(segments) == list(range(9))
    for episode, (direction, old_rank, new_rank) in segments.items():
        assert old_rank == rank_of(old, episode)
        assert new_rank == rank_of(new, episode)
        expected = "higher" if new_rank < old_rank else "lower" if new_rank > old_rank else "same"
        assert direction == expected
    for trace in figure.data:
        assert trace.line.color == RANK_COLOURS[trace.legendgroup]
        count = sum(1 for direction, _, _ in segments.values() if direction == trace.legendgroup)
        assert trace.name.endswith(f"({count})")
    assert "run 3" in figure.data[0].text[9]


def test_ranks_match_reweight():
    rng = np.random.default_rng(3)
    log = rv.RewardLog.from_arrays(rng.normal(size=(7, 5, 3)), names=NAMES, weights=[1, -1, 2])
    change = rv.decompose.reweight(log, [0.5, 2.0, -1.0])
    segments = drawn_segments(rv.plots.ranking_change(change.old_returns, change.new_returns))
    assert [segments[e][1] for e in range(7)] == np.asarray(change.old_rank).tolist()
    assert [segments[e][2] for e in range(7)] == np.asarray(change.new_rank).tolist()


def test_update_ranking_change_changes_data_in_place(rng):
    old = rng.normal(size=6)
    figure = go.FigureWidget(rv.plots.ranking_change(old, old))
    traces = list(figure.data)
    assert {direction for direction, _, _ in drawn_segments(figure).values()} == {"same"}
    new = -old  # reverses the ranking
    rv.plots.update_ranking_change(figure, old, new, title="reversed")
    assert len(figure.data) == 3
    assert all(a is b for a, b in zip(figure.data, traces, strict=True))
    for episode, (_, old_rank, new_rank) in drawn_segments(figure).items():
        assert new_rank == 5 - old_rank == rank_of(new, episode)
    assert figure.layout.title.text == "reversed"


def test_ranking_change_takes_a_reweighting_as_it_comes():
    log = rv.RewardLog.from_episodes(
        {
            "forward": [[1.0, 2.0], [3.0], [0.5, 0.5, 0.5]],
            "ctrl": [[-0.2, 0.1], [-4.0], [0.0, 1.0, 0.0]],
        }
    )
    change = rv.decompose.reweight(log, {"ctrl": 0.0})
    figure = rv.plots.ranking_change(change)
    by_arrays = rv.plots.ranking_change(change.old_returns, change.new_returns)
    assert figure.to_json() == by_arrays.to_json()
    other = rv.decompose.reweight(log, {"ctrl": 2.0})
    assert rv.plots.update_ranking_change(figure, other) is figure
    rv.plots.update_ranking_change(by_arrays, other.old_returns, other.new_returns)
    assert figure.to_json() == by_arrays.to_json()
    with pytest.raises(TypeError, match="give new_returns"):
        rv.plots.ranking_change(change.old_returns)


def test_ranking_errors(rng):
    with pytest.raises(ValueError, match="old_returns has 4 episodes but new_returns has 5"):
        rv.plots.ranking_change(np.zeros(4), np.zeros(5))
    with pytest.raises(ValueError, match=r"new_returns must be a non-empty \[E\] array"):
        rv.plots.ranking_change(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="labels must have 4 entries"):
        rv.plots.ranking_change(np.zeros(4), np.zeros(4), labels=["a"])
    figure = rv.plots.ranking_change(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="built for 4 episodes"):
        rv.plots.update_ranking_change(figure, np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match=r"not built by rewardviz\.plots\.ranking_change"):
        rv.plots.update_ranking_change(go.Figure(), np.zeros(4), np.zeros(4))


# ---------------------------------------------------------------------------
# State heatmap.


def test_state_heatmap_is_the_binned_mean(rng):
    # Points in the lower-left and upper-right quarters only: the other bins stay empty.
    low = rng.uniform(0, 0.45, size=(30, 2))
    high = rng.uniform(0.55, 1, size=(30, 2))
    positions = np.concatenate([low, high, [[0, 0], [1, 1]]])
    values = rng.normal(size=len(positions))
    bins = 4
    figure = rv.plots.state_heatmap(positions, values, bins=bins)
    (heatmap,) = figure.data

    edges = np.linspace(0, 1, bins + 1)
    sums, counts = np.zeros((bins, bins)), np.zeros((bins, bins))
    for (x, y), value in zip(positions, values, strict=True):
        col = min(int(np.searchsorted(edges, x, side="right")) - 1, bins - 1)
        row = min(int(np.searchsorted(edges, y, side="right")) - 1, bins - 1)
        sums[row, col] += value
        counts[row, col] += 1
    expected = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    np.testing.assert_allclose(np.array(heatmap.z, dtype=float), expected)
    assert heatmap.z[0][3] is None and heatmap.z[3][0] is None
    np.testing.assert_allclose(heatmap.x, (edges[:-1] + edges[1:]) / 2)
    np.testing.assert_array_equal(heatmap.customdata, counts)
    assert heatmap.zmid == 0  # the values take both signs
    assert_strict_json(go.FigureWidget(figure).get_state())


def test_state_heatmap_errors(rng):
    with pytest.raises(ValueError, match=r"positions must have shape \[N, 2\]"):
        rv.plots.state_heatmap(rng.random((5, 3)), rng.random(5))
    with pytest.raises(ValueError, match=r"values must have shape \[N\] = \(5,\)"):
        rv.plots.state_heatmap(rng.random((5, 2)), rng.random(4))
    with pytest.raises(ValueError, match="bins must be an integer >= 1"):
        rv.plots.state_heatmap(rng.random((5, 2)), rng.random(5), bins=0)
    with pytest.raises(ValueError, match="positions contains NaN"):
        rv.plots.state_heatmap(np.full((2, 2), np.nan), rng.random(2))
