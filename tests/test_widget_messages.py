"""What the widgets send to the browser must be strict JSON.

A figure widget syncs its data over the kernel's comm channel as JSON; NaN is not JSON,
and a front end drops such a message silently (the plot then never updates). Gridworld
heatmaps have cells without a state, so this can only be caught by serialising what is
sent, the way ipywidgets does, with ``allow_nan=False``.
"""

import json

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers
from plotly.serializers import _py_to_js

import rewardviz as rv

LAYOUT = ["S..#", ".#.G", "...L"]  # a wall: one cell with no state


def sent_messages(figure_widget, action):
    """Every update message the figure sends while ``action`` runs, as the comm would."""
    messages = []
    names = [name for name in figure_widget.trait_names() if name.startswith("_py2js_")]

    def record(change):
        if change["new"] is not None:
            messages.append(_py_to_js(change["new"], None))

    figure_widget.observe(record, names=names)
    action()
    figure_widget.unobserve(record, names=names)
    return messages


def assert_strict_json(payload):
    without_buffers, _, _ = _remove_buffers(payload)
    json.dumps(without_buffers, allow_nan=False)


@pytest.fixture
def world():
    return rv.envs.gridworld(LAYOUT, gamma=0.9)


def test_explorer_state_and_updates_are_strict_json(world):
    explorer = rv.widgets.MDPExplorer(*world)
    assert_strict_json(explorer.fig.get_state())

    def move():
        explorer.gamma_slider.value = 0.5

    messages = sent_messages(explorer.fig, move)
    assert messages, "moving the slider sent no update to the browser"
    for message in messages:
        assert_strict_json(message)


def test_shaping_lab_state_and_updates_are_strict_json(world):
    lab = rv.widgets.ShapingLab(*world)
    assert_strict_json(lab.fig.get_state())

    def move():
        lab.scale_slider.value = 2.0

    messages = sent_messages(lab.fig, move)
    assert messages
    for message in messages:
        assert_strict_json(message)


def test_nan_would_have_been_caught(world):
    """The check above fails on the payload a NaN grid would produce."""
    with pytest.raises(ValueError, match="Out of range float"):
        assert_strict_json({"z": np.array([[np.nan, 1.0], [0.0, 1.0]]).tolist()})
