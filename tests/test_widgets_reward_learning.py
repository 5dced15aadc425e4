"""RewardLearningLab: builds on a gridworld, every control moves state(), errors go to the
status line, and no control change compiles (the pattern of tests/test_widget_latency.py)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import plotly.graph_objects as go
import pytest
from compilations import COUNTER
from ipywidgets.widgets import widget_float, widget_int, widget_selection

import rewardviz as rv
from rewardviz.widgets import reward_learning_lab
from rewardviz.widgets.reward_learning_lab import RewardLearningLab, RewardLearningLabState

LAYOUT = ["S..#", ".#.G", "...L"]
# Small and quick: two sizes, short segments, few optimiser steps.
OPTIONS = {"sizes": (10, 40), "max_segment_length": 4, "n_steps": 60, "n_seeds": 2}
CONTROLS = (
    "labelling_buttons",
    "fitting_buttons",
    "beta_slider",
    "flip_slider",
    "length_slider",
    "size_slider",
)


@pytest.fixture(scope="module")
def grid():
    return rv.envs.gridworld(LAYOUT, gamma=0.9, slip=0.1)


def build(grid, **options):
    mdp, reward = grid
    return RewardLearningLab(mdp, reward, **{**OPTIONS, **options})


def test_builds_and_shows_what_it_says(grid):
    mdp, reward = grid
    lab = build(grid)
    state = lab.state()
    assert isinstance(state, RewardLearningLabState)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.epic = 0.0
    assert (state.labelling_model, state.fitting_model) == ("partial_return", "partial_return")
    assert (state.beta, state.flip_rate, state.segment_length, state.size) == (1.0, 0.0, 3, 40)
    # The numbers are the package's distances of the rewards the lab fitted, mean over seeds.
    evaluation = lab.evaluation()
    learned = lab.learned_reward()
    assert learned.shape == reward.shape
    assert state.epic == pytest.approx(float(np.mean(evaluation.epic[:, -1])))
    assert state.regret == pytest.approx(float(np.mean(evaluation.regret[:, -1])))
    assert evaluation.epic[0, -1] == pytest.approx(float(rv.distances.epic(mdp, reward, learned)))
    assert evaluation.starc_val[0, -1] == pytest.approx(
        float(rv.distances.starc(mdp, reward, learned))
    )
    assert evaluation.regret[0, -1] == pytest.approx(
        float(rv.distances.regret(mdp, reward, learned)), abs=1e-12
    )
    # Maps of the true and the learned reward, and distance curves over the sizes.
    heatmaps = [trace for trace in lab.fig.data if isinstance(trace, go.Heatmap)]
    assert [trace.name for trace in heatmaps] == ["true reward", "learned reward"]
    assert [trace.name for trace in lab.distances_fig.data][1::2] == ["epic", "starc_val", "regret"]
    np.testing.assert_allclose(lab.distances_fig.data[1].x, [10, 40])
    assert "EPIC distance" in lab.readout.value
    assert lab.status.value == ""
    assert isinstance(lab.freeze("distances_fig"), go.Figure)


def test_every_control_moves_the_state(grid):
    lab = build(grid)
    moves = {
        "labelling_buttons": ("labelling_model", "regret"),
        "fitting_buttons": ("fitting_model", "regret"),
        "beta_slider": ("beta", 0.0),
        "flip_slider": ("flip_rate", 0.2),
        "length_slider": ("segment_length", 2),
        "size_slider": ("size", 10),
    }
    for control, (field, value) in moves.items():
        before = lab.state()
        learned_before = lab.learned_reward()
        heatmap_before = np.array(lab.fig.data[-4].z, dtype=float)
        getattr(lab, control).value = value
        assert lab.status.value == "", lab.status.value
        after = lab.state()
        assert getattr(after, field) == value
        assert getattr(before, field) != value
        # A new dataset or model means a new learned reward, drawn on the map.
        assert not np.allclose(lab.learned_reward(), learned_before), control
        assert not np.allclose(
            np.array(lab.fig.data[-4].z, dtype=float), heatmap_before, equal_nan=True
        ), control
    assert set(moves) == set(CONTROLS)


def test_a_failure_shows_in_the_status_line(grid, monkeypatch):
    lab = build(grid)
    before = lab.state()

    def refuse(*args, **kwargs):
        raise ValueError("no fit today")

    monkeypatch.setattr(reward_learning_lab, "fit_preferences", refuse)
    lab.flip_slider.value = 0.3
    assert "no fit today" in lab.status.value
    assert lab.state() == before
    monkeypatch.undo()
    lab.flip_slider.value = 0.25
    assert lab.status.value == ""
    assert lab.state().flip_rate == 0.25


def test_bad_arguments_are_refused(grid):
    mdp, reward = grid
    with pytest.raises(ValueError, match="labelling_model must be one of"):
        build(grid, labelling_model="pairwise")
    with pytest.raises(ValueError, match="segment_length must be at most"):
        build(grid, segment_length=5)
    with pytest.raises(ValueError, match="size must be one of sizes"):
        build(grid, size=20)
    with pytest.raises(ValueError, match="distinct, increasing"):
        build(grid, sizes=(40, 10))
    with pytest.raises(ValueError, match="flip_rate"):
        build(grid, flip_rate=0.7)
    with pytest.raises(ValueError, match="grid_shape"):
        RewardLearningLab(*rv.envs.random_mdp(4, 2, seed=0))
    with pytest.raises(ValueError, match="one reward"):
        RewardLearningLab(mdp, jnp.stack([reward, reward]))


def setters(control, first_pass: bool) -> list:
    """As in tests/test_widget_latency.py: choices repeat, slider values differ between passes."""
    if isinstance(control, widget_selection._Selection):
        order = [*range(len(control.options)), control.index]
        return [lambda i=i: setattr(control, "index", i) for i in order]
    fractions = np.array([0.15, 0.5, 0.85]) if first_pass else np.array([0.3, 0.65, 0.8])
    values = control.min + fractions * (control.max - control.min)
    if isinstance(control, widget_int._Int):
        values = np.unique(np.round(values).astype(int))
    else:
        assert isinstance(control, widget_float._Float)
    return [lambda v=value: setattr(control, "value", v.item()) for value in values]


def test_no_control_change_compiles(grid):
    lab = build(grid)
    for name in CONTROLS:  # warm-up
        for change in setters(getattr(lab, name), first_pass=True):
            change()
    assert lab.status.value == ""
    compiled = {}
    for name in CONTROLS:
        before = COUNTER.count
        for change in setters(getattr(lab, name), first_pass=False):
            change()
        if COUNTER.count > before:
            compiled[name] = COUNTER.count - before
    assert compiled == {}, f"changing these controls compiled XLA executables: {compiled}"
    assert lab.status.value == ""
    # The counter does see compilations.
    before = COUNTER.count
    jax.jit(lambda x: x * 5 - 2)(jnp.arange(11.0)).block_until_ready()
    assert COUNTER.count > before


def test_the_fit_uses_the_labels_beta(grid, monkeypatch):
    """Soft labels are fitted with the β that made them; deterministic ones (β = 0) with 1."""
    lab = build(grid)
    seen = []
    fit = reward_learning_lab.fit_preferences

    def record(*args, **kwargs):
        seen.append(kwargs["beta"])
        return fit(*args, **kwargs)

    monkeypatch.setattr(reward_learning_lab, "fit_preferences", record)
    lab.beta_slider.value = 0.5
    lab.beta_slider.value = 0.0
    assert seen == [0.5, 1.0]
    assert lab.status.value == ""
