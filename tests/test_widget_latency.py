"""No control change of any widget compiles: shapes stay static, sliders move traced values.

For every widget of :mod:`rewardviz.widgets` on its notebook's data, every control
(found on the widget, so a control added later is covered too) is set programmatically
to several values once to warm up, and then to values it never had (choices: each
option again). The second pass must build no XLA executable at all, counted with JAX's
monitoring event for backend compilations, which fires whichever function asks for
one. Latency targets live in ``benchmarks/bench_widgets.py``, not here.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from compilations import COUNTER
from ipywidgets.widgets import widget_bool, widget_float, widget_int, widget_selection

import rewardviz as rv

TOUR_LAYOUT = ["S....", ".##..", ".#L..", "....G"]
SHAPING_LAYOUT = ["S...#", ".#...", ".#L#.", "....G"]


def build(name: str):
    if name == "MDPExplorer":
        return rv.widgets.MDPExplorer(*rv.envs.gridworld(TOUR_LAYOUT, gamma=0.95, slip=0.1))
    if name == "ShapingLab":
        return rv.widgets.ShapingLab(*rv.envs.gridworld(SHAPING_LAYOUT, gamma=0.9, slip=0.1))
    if name == "ComponentExplorer":
        return rv.widgets.ComponentExplorer(rv.io.example_log())
    if name == "GroupExplorer":
        return rv.widgets.GroupExplorer(rv.groups.example_groups())
    if name == "LandscapeExplorer":
        return rv.widgets.LandscapeExplorer.from_example(rv.landscape_examples.ball_and_goal())
    if name == "ExpressivityExplorer":
        return rv.widgets.ExpressivityExplorer()
    if name == "FormalismMapExplorer":
        return rv.widgets.FormalismMapExplorer()
    raise AssertionError(name)


# The controls each widget documents; the test drives whatever it finds, and checks
# that these are among them so that a broken search cannot pass by finding nothing.
DOCUMENTED = {
    "MDPExplorer": {"gamma_slider", "temperature_slider", "mode_buttons"},
    "ShapingLab": {"gamma_slider", "scale_slider", "potential_dropdown", "mode_buttons"},
    "ComponentExplorer": {"episode_slider", "gamma_slider", "weight_sliders[reward_ctrl]"},
    "GroupExplorer": {"group_slider", "scheme_dropdown", "normalize_toggle", "eps_slider"},
    "LandscapeExplorer": {"quantity_dropdown", "param_sliders[dispersion]"},
    "ExpressivityExplorer": {
        "environment_picker",
        "mode_buttons",
        "variant_buttons",
        "policy_picker",
        "objective_picker",
    },
    "FormalismMapExplorer": {"formalism_picker", "incomparable_toggle"},
}
KINDS = (
    widget_float._Float,
    widget_int._Int,
    widget_selection._Selection,
    widget_selection._MultipleSelection,
    widget_bool._Bool,
)


def controls(widget) -> dict:
    found = {}
    for attribute, value in vars(widget).items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for key, control in items:
            if isinstance(control, KINDS):
                found[attribute if key is None else f"{attribute}[{key}]"] = control
    return found


def changes(control, first_pass: bool) -> list:
    """Setters for ``control``: slider values differ between the passes, choices repeat."""
    if isinstance(control, widget_bool._Bool):
        return [lambda: setattr(control, "value", not control.value)] * 2
    if isinstance(control, widget_selection._MultipleSelection):
        n = len(control.options)
        picks = [(0,), tuple(range(min(2, n))), (n - 1,), tuple(range(n))]
        return [lambda pick=pick: setattr(control, "index", pick) for pick in picks]
    if isinstance(control, widget_selection._Selection):
        order = [*range(len(control.options)), control.index]
        return [lambda i=i: setattr(control, "index", i) for i in order]
    fractions = np.array([0.15, 0.5, 0.85]) if first_pass else np.array([0.3, 0.65, 0.8])
    low, high = control.min, control.max
    values = low + fractions * (high - low)
    if isinstance(control, widget_float.FloatLogSlider):
        values = control.base**values
    if isinstance(control, widget_int._Int):
        values = np.unique(np.round(values).astype(int))
    return [lambda v=value: setattr(control, "value", v.item()) for value in values]


def test_the_counter_sees_a_compilation():
    before = COUNTER.count
    jax.jit(lambda x: x * 3 + 1)(jnp.arange(7.0)).block_until_ready()
    assert COUNTER.count > before


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_no_control_change_compiles(name):
    widget = build(name)
    found = controls(widget)
    assert DOCUMENTED[name] <= set(found), f"{name}: controls found {sorted(found)}"
    for control in found.values():  # warm-up: each choice option, a few slider values
        for change in changes(control, first_pass=True):
            change()
    compiled = {}
    for control_name, control in found.items():
        before = COUNTER.count
        for change in changes(control, first_pass=False):
            change()
        if COUNTER.count > before:
            compiled[control_name] = COUNTER.count - before
    assert compiled == {}, f"{name}: changing these controls compiled XLA executables: {compiled}"
