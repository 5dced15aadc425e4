"""Landscape plots: the figures hold the landscape's arrays, and the arrow geometry is right.

Arrow geometry is recomputed here from the gradient with plain numpy: a linear reward
has the same gradient everywhere, so every arrow must point the same way, in
axis-relative units, and the longest must span 0.9 of the arrow spacing.
"""

import math

import matplotlib

matplotlib.use("Agg")

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import pytest
from test_widget_messages import assert_strict_json

import rewardviz as rv

SLOPE_X, SLOPE_Y = 2.0, -0.5
BOUNDS = {"px": (-1.0, 3.0), "py": (0.0, 0.5)}  # axes of different lengths


def terms(state):
    return {
        "tilt": SLOPE_X * state["px"] + SLOPE_Y * state["py"],
        "bump": jnp.exp(-(state["px"] ** 2)) - 0.2,
        "offset": state["c"] + 0.0 * state["px"],
    }


@pytest.fixture(scope="module")
def land():
    return rv.landscape.evaluate(
        terms,
        {"px": 0.0, "py": 0.0, "c": 0.1},
        x="px",
        y="py",
        bounds=BOUNDS,
        resolution=(9, 7),
        marginals={"c": (-0.3, 0.3)},
        n_samples=8,
    )


@pytest.fixture(scope="module")
def linear():
    return rv.landscape.evaluate(
        lambda s: SLOPE_X * s["px"] + SLOPE_Y * s["py"],
        {"px": 0.0, "py": 0.0},
        x="px",
        y="py",
        bounds=BOUNDS,
        resolution=(12, 10),
    )


def trace(figure, name):
    (found,) = [t for t in figure.data if t.name == name]
    return found


def segments(xs, ys):
    """Polylines split at None into lists of (x, y) points."""
    pieces, current = [], []
    for x, y in zip(xs, ys, strict=True):
        if x is None:
            pieces.append(current)
            current = []
        else:
            current.append((x, y))
    return pieces


def test_map_holds_the_chosen_quantity(land):
    figure = rv.plots.landscape(land)
    contour = trace(figure, "landscape")
    np.testing.assert_allclose(np.asarray(contour.z, float), land.mean)
    np.testing.assert_allclose(contour.x, land.x_values)
    np.testing.assert_allclose(contour.y, land.y_values)
    assert contour.zmid == 0 and contour.colorscale[0][1] != "#440154"  # diverging, centred
    assert "averaged over 8 samples of c" in figure.layout.title.text
    for quantity, expected in [
        ("std", land.std),
        ("standard_error", land.standard_error),
        ("q0.5", land.quantiles[1]),
        ("bump", land.component("bump")),
    ]:
        shown = trace(rv.plots.landscape(land, quantity=quantity), "landscape")
        np.testing.assert_allclose(np.asarray(shown.z, float), expected)
    with pytest.raises(ValueError, match="quantity must be one of"):
        rv.plots.landscape(land, quantity="median")


def test_gradient_arrows_point_up_the_slope_in_axis_relative_units(linear):
    figure = rv.plots.landscape(linear, arrows_per_axis=5)
    pieces = segments(trace(figure, "gradient").x, trace(figure, "gradient").y)
    shafts = pieces[::3]  # each arrow: shaft, then two barbs
    assert len(shafts) == 5 * 5
    width_x, width_y = 4.0, 0.5
    u, v = SLOPE_X * width_x, SLOPE_Y * width_y  # gradient in axis-relative units
    x_values, y_values = np.asarray(linear.x_values), np.asarray(linear.y_values)
    tails = set()
    for (x0, y0), (x1, y1) in shafts:
        rel = ((x1 - x0) / width_x, (y1 - y0) / width_y)
        assert math.atan2(rel[1], rel[0]) == pytest.approx(math.atan2(v, u))
        assert math.hypot(*rel) == pytest.approx(0.9 / 5)  # all equal: the longest
        tails.add((x0, y0))
    expected_columns = x_values[np.unique(np.linspace(0, 11, 5).round().astype(int))]
    expected_rows = y_values[np.unique(np.linspace(0, 9, 5).round().astype(int))]
    assert tails == {(x, y) for x in expected_columns for y in expected_rows}
    for barb in pieces[1:3]:  # the barbs start at the tip of the first shaft
        assert barb[0] == shafts[0][1]
    none = rv.plots.landscape(linear, gradient=False)
    assert len(trace(none, "gradient").x or ()) == 0


def test_points_and_velocity_arrows(linear):
    figure = rv.plots.landscape(
        linear,
        points={"ball": (1.0, 0.25), "goal": (3.0, 0.0)},
        arrows={"velocity": ((0.0, 0.1), (1.0, 0.2))},
    )
    points = trace(figure, "points")
    assert list(points.text) == ["ball", "goal"]
    assert list(points.x) == [1.0, 3.0] and list(points.y) == [0.25, 0.0]
    shaft = segments(trace(figure, "arrows").x, trace(figure, "arrows").y)[0]
    assert shaft == [(0.0, 0.1), (1.0, 0.1 + 0.2)]
    with pytest.raises(ValueError, match=r"points\['ball'\] must be a finite \(x, y\)"):
        rv.plots.landscape(linear, points={"ball": (1.0, float("nan"))})
    with pytest.raises(ValueError, match=r"arrows\['v'\] must be finite"):
        rv.plots.landscape(linear, arrows={"v": (1.0, 2.0)})


def test_update_reuses_the_traces(land, linear):
    figure = go.FigureWidget(rv.plots.landscape(land, points={"a": (0.0, 0.0)}))
    before = list(figure.data)
    returned = rv.plots.update_landscape(figure, linear, quantity="mean", points={"b": (1.0, 0.1)})
    assert returned is figure
    assert all(a is b for a, b in zip(figure.data, before, strict=True))
    np.testing.assert_allclose(np.asarray(figure.data[0].z, float), linear.mean)
    assert list(trace(figure, "points").text) == ["b"]
    assert figure.data[0].zmid == 0  # both signs: diverging, centred
    rv.plots.update_landscape(figure, land, quantity="std")
    assert figure.data[0].zmid is None  # a spread is never negative: sequential
    assert len(trace(figure, "points").x) == 0
    with pytest.raises(ValueError, match=r"not built by rewardviz\.plots\.landscape"):
        rv.plots.update_landscape(go.Figure(), land)


def test_component_maps_and_dominance(land):
    figure = rv.plots.component_maps(land, columns=2)
    assert [t.name for t in figure.data] == ["tilt", "bump", "offset"]
    for k, heatmap in enumerate(figure.data):
        np.testing.assert_allclose(np.asarray(heatmap.z, float), land.components[..., k])
        assert heatmap.coloraxis == "coloraxis"
    assert figure.layout.coloraxis.cmid == 0
    assert rv.plots.update_component_maps(figure, land, title="maps") is figure
    assert figure.layout.title.text == "maps"
    with pytest.raises(ValueError, match=r"not built by rewardviz\.plots\.component_maps"):
        rv.plots.update_component_maps(go.Figure(), land)

    dominance = rv.plots.dominance_map(land)
    heatmap = dominance.data[0]
    expected = np.argmax(np.abs(np.asarray(land.components)), axis=-1)
    np.testing.assert_array_equal(heatmap.z, expected)
    names = np.asarray(land.names)
    assert np.asarray(heatmap.text).tolist() == names[expected].tolist()
    assert list(heatmap.colorbar.ticktext) == list(land.names)
    assert rv.plots.update_dominance_map(dominance, land, title="who wins") is dominance
    assert dominance.layout.title.text == "who wins"


def test_component_distributions():
    sampled = rv.landscape.distribution(
        terms, {"px": 0.0, "py": 0.0, "c": 0.1}, {"px": (-1.0, 1.0)}, n_samples=30
    )
    figure = rv.plots.component_distributions(sampled)
    assert [t.name for t in figure.data] == ["tilt", "bump", "offset", "total"]
    for k, violin in enumerate(figure.data[:3]):
        np.testing.assert_allclose(violin.y, np.asarray(sampled.components)[:, k])
    np.testing.assert_allclose(figure.data[-1].y, sampled.total)
    with pytest.raises(TypeError, match="RewardDistribution"):
        rv.plots.component_distributions(np.zeros(3))


def test_matplotlib_variant(land):
    _, ax = plt.subplots()
    returned = rv.plots.landscape_matplotlib(
        land, ax=ax, points={"ball": (1.0, 0.2)}, arrows={"v": ((0.0, 0.1), (0.5, 0.1))}
    )
    assert returned is ax
    assert ax.get_xlabel() == "px" and ax.get_ylabel() == "py"
    assert ax.get_xlim() == pytest.approx(BOUNDS["px"])
    assert len(ax.collections) >= 2  # filled contours and the point
    assert [t.get_text() for t in ax.texts] == ["ball"]
    assert len(ax.lines) == 2  # gradient arrows and the velocity arrow
    plt.close("all")


def test_figures_are_strict_json(land):
    for figure in (
        rv.plots.landscape(land, points={"a": (0.0, 0.0)}),
        rv.plots.component_maps(land),
        rv.plots.dominance_map(land),
    ):
        assert_strict_json(go.FigureWidget(figure).get_state())


def test_bad_arguments(land):
    with pytest.raises(TypeError, match=r"land must be a rewardviz\.landscape\.Landscape"):
        rv.plots.landscape(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="arrows_per_axis must be an integer >= 1"):
        rv.plots.landscape(land, arrows_per_axis=0)


def test_steep_spots_do_not_shrink_the_other_arrows():
    steep = rv.landscape.evaluate(
        lambda s: jnp.exp(8.0 * s["px"]) + s["py"],
        {"px": 0.0, "py": 0.0},
        x="px",
        y="py",
        bounds={"px": (0.0, 1.0), "py": (0.0, 1.0)},
        resolution=(10, 10),
    )
    figure = rv.plots.landscape(steep, arrows_per_axis=10)
    shafts = segments(trace(figure, "gradient").x, trace(figure, "gradient").y)[::3]
    drawn_lengths = np.array([math.hypot(x1 - x0, y1 - y0) for (x0, y0), (x1, y1) in shafts])
    gx, gy = (np.asarray(g).ravel() for g in steep.gradient)  # unit axes: no rescaling
    lengths = np.hypot(gx, gy)
    typical = np.percentile(lengths, 90)
    expected = 0.9 * 0.1 * np.minimum(lengths, typical) / typical
    np.testing.assert_allclose(np.sort(drawn_lengths), np.sort(expected))
    assert np.isclose(drawn_lengths, 0.09).sum() >= 10  # the steepest tenth is capped
