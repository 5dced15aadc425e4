"""Tests of the group-advantage plots: the figures draw exactly the arrays they are handed."""

import matplotlib
import numpy as np
import plotly.graph_objects as go
import pytest
from test_widget_messages import assert_strict_json

import rewardviz as rv
from rewardviz.plots.style import COMPONENT_COLOURS, SIGN_COLOURS, TOTAL_COLOUR

matplotlib.use("Agg")

NAMES = ["format", "accuracy", "length"]


@pytest.fixture(scope="module")
def group():
    return rv.groups.example_groups()


def test_attribution_bars_are_the_parts_and_the_marker_is_their_sum():
    rng = np.random.default_rng(0)
    parts = rng.normal(size=(8, 3))
    mask = np.ones(8, bool)
    mask[6:] = False
    figure = rv.plots.advantage_attribution(parts, NAMES, mask=mask, title="prompt 0")
    bars = [trace for trace in figure.data if trace.type == "bar"]
    assert [bar.name for bar in bars] == NAMES
    assert [bar.marker.color for bar in bars] == list(COMPONENT_COLOURS[:3])
    assert figure.layout.barmode == "relative"
    for k, bar in enumerate(bars):
        np.testing.assert_array_equal(bar.y[:6], parts[:6, k])
        assert bar.y[6:] == (None, None)
    marker = figure.data[-1]
    assert marker.name == "advantage" and marker.marker.color == TOTAL_COLOUR
    np.testing.assert_allclose(np.array(marker.y[:6], float), parts[:6].sum(1))
    assert marker.y[6:] == (None, None)
    assert_strict_json(go.FigureWidget(figure).to_plotly_json())


def test_update_attribution_in_place_and_errors(group):
    parts = np.asarray(rv.groups.attribution(group))
    mask = np.asarray(group.mask)
    widget = go.FigureWidget(rv.plots.advantage_attribution(parts[0], group.names, mask=mask[0]))
    traces = list(widget.data)
    returned = rv.plots.update_advantage_attribution(widget, parts[5], mask[5], title="prompt 5")
    assert returned is widget
    assert list(widget.data) == traces
    np.testing.assert_allclose(np.array(widget.data[1].y, float), parts[5, :, 1])
    np.testing.assert_allclose(np.array(widget.data[-1].y, float), parts[5].sum(1))
    assert widget.layout.title.text == "prompt 5"
    with pytest.raises(ValueError, match="same shape"):
        rv.plots.update_advantage_attribution(widget, parts[5, :, :2])
    with pytest.raises(ValueError, match="not built by"):
        rv.plots.update_advantage_attribution(go.Figure(), parts[5])
    with pytest.raises(ValueError, match=r"attribution must have shape \[G, K\]"):
        rv.plots.advantage_attribution(parts, group.names)
    with pytest.raises(ValueError, match="names must have 3 entries"):
        rv.plots.advantage_attribution(parts[0], ["a"])
    bad = parts[0].copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="attribution contains NaN"):
        rv.plots.advantage_attribution(bad, group.names)


def test_attribution_of_every_scheme_and_normalisation_draws(group):
    mask = np.asarray(group.mask)
    for scheme in rv.groups.SCHEMES:
        for normalize in rv.groups.NORMALIZATIONS:
            parts = np.asarray(rv.groups.attribution(group, scheme=scheme, normalize=normalize))
            figure = rv.plots.advantage_attribution(parts[3], group.names, mask=mask[3])
            advantage = np.asarray(rv.groups.advantages(group, scheme=scheme, normalize=normalize))[
                3
            ]
            np.testing.assert_allclose(np.array(figure.data[-1].y, float), advantage)
    summed = rv.groups.advantages(group, scheme="sum_then_normalize")
    gdpo = rv.groups.advantages(group, scheme="normalize_then_sum")
    figure = rv.plots.scheme_scatter(summed, gdpo, mask)
    assert figure.layout.xaxis.title.text == "sum then normalise"
    assert figure.layout.yaxis.title.text == "normalise then sum"


def test_scheme_scatter_splits_flipped_signs():
    first = np.array([[1.0, -1.0, 0.5], [2.0, -2.0, 9.0]])
    second = np.array([[0.5, 1.0, 0.5], [1.0, -3.0, -9.0]])
    mask = np.array([[True, True, True], [True, True, False]])
    figure = rv.plots.scheme_scatter(first, second, mask)
    same, flipped, diagonal = figure.data
    assert same.marker.color == SIGN_COLOURS["same sign"]
    assert flipped.marker.color == SIGN_COLOURS["sign flipped"]
    # Sample (0, 1) flips sign; the masked sample (1, 2) is not drawn.
    np.testing.assert_array_equal(flipped.x, [-1.0])
    np.testing.assert_array_equal(flipped.y, [1.0])
    np.testing.assert_array_equal(sorted(same.x), [-2.0, 0.5, 1.0, 2.0])
    assert "20.0% of signs flipped" in figure.layout.title.text
    assert diagonal.x == (-3.0, 2.0)  # spans both axes' drawn values
    with pytest.raises(ValueError, match="same samples"):
        rv.plots.scheme_scatter(first, second[:, :2])
    with pytest.raises(ValueError, match="labels must name the two schemes"):
        rv.plots.scheme_scatter(first, second, labels=["one"])


def test_step_lines(group):
    rates = rv.groups.degenerate_rate_by_step(group)
    frame = rates.to_frame()
    figure = rv.plots.degenerate_rate(frame.index, frame.to_numpy(), frame.columns)
    assert [trace.name for trace in figure.data] == ["total", *group.names]
    assert figure.data[0].line.color == TOTAL_COLOUR and figure.data[0].line.width == 3
    assert figure.data[1].line.color == COMPONENT_COLOURS[0]
    np.testing.assert_array_equal(figure.data[2].y, frame["accuracy"].to_numpy())
    np.testing.assert_array_equal(figure.data[2].x, frame.index.to_numpy())
    # The results go in as they come, or as their tables' pieces.
    by_table = rv.plots.degenerate_rate(rates)
    assert [trace.y.tolist() for trace in by_table.data] == [t.y.tolist() for t in figure.data]
    drift = rv.groups.length_correlation_drift(group)
    figure = rv.plots.length_correlation(drift)
    table = drift.to_frame()
    np.testing.assert_array_equal(figure.data[-1].y, table["total"].to_numpy())
    np.testing.assert_array_equal(figure.data[-1].x, table.index.to_numpy())
    pieces = rv.plots.length_correlation(table.index, table.to_numpy(), table.columns)
    assert [trace.y.tolist() for trace in pieces.data] == [t.y.tolist() for t in figure.data]
    with pytest.raises(TypeError, match="give correlation and names together"):
        rv.plots.length_correlation(table.index, table.to_numpy())
    with pytest.raises(TypeError, match="steps must be a table"):
        rv.plots.length_correlation([0, 1])
    with pytest.raises(ValueError, match="fractions in"):
        rv.plots.degenerate_rate([0, 1], [[0.5], [1.5]], ["total"])
    with pytest.raises(ValueError, match="one row per step"):
        rv.plots.degenerate_rate([0, 1, 2], [[0.5], [0.5]], ["total"])
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\]"):
        rv.plots.length_correlation([0], [[2.0]], ["total"])


def test_proxy_gold_marks_the_divergence(group):
    result = rv.groups.proxy_gold_divergence(group, window=5, n_bootstrap=200)
    assert result.diverged
    figure = rv.plots.proxy_gold(result)
    proxy, gold = figure.data
    np.testing.assert_array_equal(proxy.y, result.proxy)
    np.testing.assert_array_equal(gold.y, result.gold)
    assert gold.yaxis == "y2"
    shapes = figure.layout.shapes
    assert {shape.type for shape in shapes} == {"rect", "line"}
    line = next(shape for shape in shapes if shape.type == "line")
    rect = next(shape for shape in shapes if shape.type == "rect")
    assert line.x0 == result.step
    assert (rect.x0, rect.x1) == result.interval
    ax = rv.plots.proxy_gold_matplotlib(result)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), result.proxy)
    assert len(ax.patches) == 1  # the interval
    with pytest.raises(TypeError, match="proxy_gold_divergence"):
        rv.plots.proxy_gold(result.gold)


def test_proxy_gold_without_divergence_draws_no_marker():
    step = np.repeat(np.arange(6), 3)
    rising = step[:, None] + np.zeros((18, 2))
    group = rv.GroupRewards.from_arrays(rising[..., None], gold=rising, step=step)
    result = rv.groups.proxy_gold_divergence(group, n_bootstrap=20)
    figure = rv.plots.proxy_gold(result)
    assert not figure.layout.shapes
    assert figure.layout.title.text.startswith("No divergence")


def test_reward_conflict_draws_both_matrices(group):
    correlation = np.asarray(rv.groups.within_group_correlation(group))
    agreement = np.asarray(rv.groups.sign_agreement(group))
    figure = rv.plots.reward_conflict(correlation, agreement, group.names)
    np.testing.assert_allclose(np.array(figure.data[0].z, float), correlation)
    np.testing.assert_array_equal(figure.data[1].z, agreement)
    assert figure.data[1].zmid == 0.5
    with pytest.raises(ValueError, match="agreement must hold fractions"):
        rv.plots.reward_conflict(correlation, agreement + 1, group.names)
    with pytest.raises(ValueError, match="agreement must be"):
        rv.plots.reward_conflict(correlation, agreement[:2, :2], group.names)


def test_transform_effects_bars(group):
    effects = rv.groups.transform_effects(
        group, {"no length": lambda g: g.with_weights({"length": 0.0}), "same": lambda g: g}
    )
    frame = effects.to_frame()
    figure = rv.plots.transform_effects(effects)
    assert rv.plots.transform_effects(frame).to_json() == figure.to_json()
    flips, decorrelation, degenerate = figure.data
    np.testing.assert_array_equal(flips.x, frame["sign flips"].to_numpy())
    np.testing.assert_allclose(decorrelation.x, 1 - frame["correlation"].to_numpy())
    np.testing.assert_array_equal(degenerate.x, frame["degenerate after"].to_numpy())
    assert list(flips.y) == ["no length", "same"]
    with pytest.raises(ValueError, match="missing"):
        rv.plots.transform_effects(frame.drop(columns="sign flips"))
