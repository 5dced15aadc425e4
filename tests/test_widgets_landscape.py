"""Tests of LandscapeExplorer: what it draws is the reward on the grid, recomputed here with loops.

The test reward is written twice, with JAX for the widget and with ``math`` for the
oracle, which loops over the grid for the slider values; the figures' data must match.
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from test_widget_messages import assert_strict_json, sent_messages

import rewardviz as rv
from rewardviz import landscape
from rewardviz.plots import style

TEMPLATE = {"px": 0.0, "py": 0.0, "bx": 1.0, "by": 0.5}
BOUNDS = {"px": (-2.0, 2.0), "py": (-1.0, 1.0)}
RESOLUTION = (6, 5)


def reward(state, params):
    player = jnp.stack([state["px"], state["py"]])
    ball = jnp.stack([state["bx"], state["by"]])
    near = rv.shapes.liu_distance(rv.shapes.distance(player, ball), dispersion=params["dispersion"])
    return {"near": near, "slope": params["slope"] * state["px"]}


def oracle(state, params):
    distance = math.hypot(state["px"] - state["bx"], state["py"] - state["by"])
    near = math.exp(-0.5 * distance / params["dispersion"])
    return {"near": near, "slope": params["slope"] * state["px"]}


def maps_by_hand(template, params):
    """``{component: [ny, nx]}`` and the total, by a loop over the grid."""
    xs, ys = np.linspace(*BOUNDS["px"], RESOLUTION[0]), np.linspace(*BOUNDS["py"], RESOLUTION[1])
    maps = {"near": np.zeros((len(ys), len(xs))), "slope": np.zeros((len(ys), len(xs)))}
    for iy, y in enumerate(ys):
        for ix, x in enumerate(xs):
            parts = oracle({**template, "px": x, "py": y}, params)
            for name, value in parts.items():
                maps[name][iy, ix] = value
    maps["total"] = maps["near"] + maps["slope"]
    return maps


def points(state):
    return {"ball": (state["bx"], state["by"])}


@pytest.fixture
def explorer():
    return rv.widgets.LandscapeExplorer(
        reward,
        TEMPLATE,
        x="px",
        y="py",
        bounds=BOUNDS,
        resolution=RESOLUTION,
        params={"dispersion": 1.0, "slope": 0.5},
        param_ranges={"dispersion": (0.1, 3.0)},
        points=points,
    )


def drawn(explorer, name="landscape"):
    return np.asarray(explorer.fig.data[0].z, float)


def test_starts_with_the_reward_on_the_grid(explorer):
    expected = maps_by_hand(TEMPLATE, {"dispersion": 1.0, "slope": 0.5})
    np.testing.assert_allclose(drawn(explorer), expected["total"], atol=1e-12)
    components = explorer.figs["components"].data
    np.testing.assert_allclose(np.asarray(components[0].z, float), expected["near"], atol=1e-12)
    np.testing.assert_allclose(np.asarray(components[1].z, float), expected["slope"], atol=1e-12)
    assert set(explorer.param_sliders) == {"dispersion", "slope"}
    assert (explorer.param_sliders["dispersion"].min, explorer.param_sliders["dispersion"].max) == (
        0.1,
        3.0,
    )
    assert (explorer.param_sliders["slope"].min, explorer.param_sliders["slope"].max) == (0.0, 1.0)
    assert set(explorer.coordinate_sliders) == {"bx", "by"}  # not the swept px, py
    assert list(explorer.fig.data[2].text) == ["ball"]


def test_parameter_slider_redraws_the_maps(explorer):
    explorer.param_sliders["dispersion"].value = 0.4
    explorer.param_sliders["slope"].value = 0.8
    params = {"dispersion": 0.4, "slope": 0.8}
    expected = maps_by_hand(TEMPLATE, params)
    np.testing.assert_allclose(drawn(explorer), expected["total"], atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(explorer.figs["components"].data[0].z, float), expected["near"], atol=1e-12
    )
    state = explorer.state()
    assert state.params == params
    np.testing.assert_allclose(state.landscape.mean, expected["total"], atol=1e-12)


def test_coordinate_slider_moves_the_reward_and_the_overlay(explorer):
    explorer.coordinate_sliders["bx"].value = 0.25
    expected = maps_by_hand({**TEMPLATE, "bx": 0.25}, {"dispersion": 1.0, "slope": 0.5})
    np.testing.assert_allclose(drawn(explorer), expected["total"], atol=1e-12)
    assert tuple(explorer.fig.data[2].x) == (0.25,)
    assert explorer.state().coordinates == {"bx": 0.25, "by": 0.5}


def test_quantity_dropdown_shows_a_component(explorer):
    assert explorer.quantity_dropdown.options == (
        "mean",
        "std",
        "q0.05",
        "q0.5",
        "q0.95",
        "near",
        "slope",
    )
    explorer.quantity_dropdown.value = "near"
    expected = maps_by_hand(TEMPLATE, {"dispersion": 1.0, "slope": 0.5})
    np.testing.assert_allclose(drawn(explorer), expected["near"], atol=1e-12)
    assert explorer.fig.layout.title.text.startswith("Reward near over px × py")


def test_moving_controls_does_not_recompile(explorer):
    explorer.param_sliders["dispersion"].value = 2.0
    explorer.coordinate_sliders["by"].value = 0.0
    explorer.quantity_dropdown.value = "slope"
    compiled = landscape._landscape_kernel._cache_size()
    for value in (0.2, 0.9, 2.7):
        explorer.param_sliders["dispersion"].value = value
        explorer.param_sliders["slope"].value = value / 3
        explorer.coordinate_sliders["bx"].value = -value / 2
    explorer.quantity_dropdown.value = "mean"
    assert landscape._landscape_kernel._cache_size() == compiled


def test_updates_reuse_the_figures_and_traces(explorer):
    figures = dict(explorer.figs)
    traces = {name: list(figure.data) for name, figure in figures.items()}
    explorer.param_sliders["slope"].value = 0.9
    explorer.coordinate_sliders["by"].value = -0.5
    for name, figure in explorer.figs.items():
        assert figure is figures[name]
        assert all(a is b for a, b in zip(figure.data, traces[name], strict=True))


def test_a_reward_that_turns_nan_is_reported_not_drawn():
    def fragile(state, params):
        return jnp.log(params["floor"] + state["px"] ** 2)

    explorer = rv.widgets.LandscapeExplorer(
        fragile,
        {"px": 0.0, "py": 0.0},
        x="px",
        y="py",
        bounds={"px": (-1.0, 1.0), "py": (0.0, 1.0)},
        resolution=5,  # px = 0 is a grid point
        params={"floor": 1.0},
        param_ranges={"floor": (-1.0, 2.0)},
    )
    before = drawn(explorer).copy()
    explorer.param_sliders["floor"].value = -0.5
    assert "Not updated" in explorer.status.value and "grid point" in explorer.status.value
    np.testing.assert_array_equal(drawn(explorer), before)
    explorer.param_sliders["floor"].value = 2.0
    assert explorer.status.value == ""


def test_state_and_updates_sent_to_the_browser_are_strict_json(explorer):
    for figure in explorer.figs.values():
        assert_strict_json(figure.get_state())

        def move():
            explorer.param_sliders["dispersion"].value += 0.3

        messages = sent_messages(figure, move)
        assert messages, "moving a slider sent no update to the browser"
        for message in messages:
            assert_strict_json(message)


def test_from_example_with_marginals():
    car = rv.landscape_examples.mountain_car()
    explorer = rv.widgets.LandscapeExplorer.from_example(
        car, resolution=8, marginals={"action": np.array([0.0, 1.0, 2.0])}, n_samples=6
    )
    assert explorer.coordinate_sliders == {}  # the action is marginalised
    assert set(explorer.param_sliders) == {"gamma", "scale"}
    explorer.param_sliders["scale"].value = 0.0  # no shaping: the step cost alone
    np.testing.assert_allclose(drawn(explorer), -1.0)
    np.testing.assert_allclose(np.asarray(explorer.fig.data[2].x), [0.5, -math.pi / 6])


def test_bad_arguments():
    options = {"x": "px", "y": "py", "bounds": BOUNDS, "resolution": 4}
    params = {"dispersion": 1.0, "slope": 0.5}
    with pytest.raises(ValueError, match=r"coordinate_ranges\['px'\]: 'px' is not a fixed"):
        rv.widgets.LandscapeExplorer(
            reward, TEMPLATE, params=params, coordinate_ranges={"px": (0.0, 1.0)}, **options
        )
    with pytest.raises(ValueError, match=r"does not contain the starting value 1\.0"):
        rv.widgets.LandscapeExplorer(
            reward, TEMPLATE, params=params, param_ranges={"dispersion": (2.0, 3.0)}, **options
        )
    with pytest.raises(ValueError, match="quantity must be one of"):
        rv.widgets.LandscapeExplorer(reward, TEMPLATE, params=params, quantity="max", **options)
    with pytest.raises(ValueError, match="x='pz' is not a coordinate"):
        rv.widgets.LandscapeExplorer(reward, TEMPLATE, params=params, **{**options, "x": "pz"})
    with pytest.raises(TypeError, match="points must be a function"):
        rv.widgets.LandscapeExplorer(
            reward, TEMPLATE, params=params, points={"a": (0, 0)}, **options
        )
    with pytest.raises(TypeError, match="LandscapeExample"):
        rv.widgets.LandscapeExplorer.from_example(reward)


def test_has_the_look_and_freezes_a_static_copy(explorer, tmp_path):
    assert explorer.fig.layout.template.layout.colorway == style.TEMPLATE.layout.colorway
    frozen = explorer.freeze("components")
    explorer.param_sliders["slope"].value = 0.1
    assert not np.allclose(
        np.asarray(frozen.data[1].z, float), np.asarray(explorer.figs["components"].data[1].z)
    )
    page = explorer.export(tmp_path / "landscape.html")
    assert "Plotly.newPlot" in page.read_text()
