"""Expressivity plots and widgets, driven the way a notebook reader drives them."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest

import rewardviz as rv
from rewardviz.expressivity import environments


def test_formalism_map_draws_reconstructed_edges_dashed_and_carries_click_data():
    fmap = rv.expressivity.formalism_map()
    figure = rv.plots.formalism_map(fmap)
    lines = [t for t in figure.data if t.mode == "lines"]
    strict_or_equivalent = [r for r in fmap.relations if r.kind != "incomparable"]
    assert len(lines) == len(strict_or_equivalent)
    for trace, relation in zip(lines, strict_or_equivalent, strict=True):
        if relation.status == "reconstructed":
            assert trace.line.dash in ("dash", "dot")
        elif relation.kind != "equivalent":
            assert trace.line.dash == "solid"
    diamonds = {t.name: t for t in figure.data if t.mode == "markers"}
    reconstructed = diamonds["reconstructed relation"]
    for index, text in zip(reconstructed.customdata, reconstructed.hovertext, strict=True):
        assert fmap.relations[index].status == "reconstructed"
        assert "not verified against the source" in text
    nodes = next(t for t in figure.data if t.mode == "markers+text")
    assert list(nodes.customdata) == [f.key for f in fmap.formalisms]
    with_incomparable = rv.plots.formalism_map(fmap, show_incomparable=True)
    assert len([t for t in with_incomparable.data if t.mode == "lines"]) == len(fmap.relations)


def test_realization_figure_shows_reward_or_certificate():
    mdp = environments.xor()
    good = rv.expressivity.realize_soap(mdp, [[0, 0], [0, 1]])
    figure = rv.plots.realization(mdp, good)
    heatmap, bars = figure.data
    np.testing.assert_allclose(np.array(heatmap.z), good.reward[:, :, 0])
    assert sorted(bars.x) == sorted(good.values.tolist())
    bad = rv.expressivity.realize_soap(mdp, [[0, 1], [1, 0]])
    rv.plots.update_realization(figure, mdp, bad)
    assert figure.data[0] is heatmap and all(v is None for row in heatmap.z for v in row)
    assert sorted(figure.data[1].x) == [-1, -1, 1, 1]
    json.dumps(figure.to_plotly_json(), allow_nan=False, default=str)


def test_explorer_soap_mode_follows_the_ticked_policies():
    explorer = rv.widgets.ExpressivityExplorer("XOR (one-step bandit)")
    explorer.policy_picker.value = ("a1,a2", "a2,a1")
    assert not explorer.result().realizable
    assert "V(a1,a2) + V(a2,a1)" in explorer.certificate.value
    assert sorted(explorer.fig.data[1].x) == [-1, -1, 1, 1]
    explorer.policy_picker.value = ("a1,a1", "a1,a2")
    assert "Realisable" in explorer.certificate.value
    assert explorer.fig.data[0].z is not None and explorer.status.value == ""
    explorer.variant_buttons.value = "range"
    assert explorer.result().realizable


def test_explorer_objective_mode_and_environment_switch():
    explorer = rv.widgets.ExpressivityExplorer("stay / go", mode="objective")
    explorer.objective_picker.value = "limit average: 1 per step at the goal"
    assert "No Markov reward realises this task" in explorer.certificate.value
    explorer.objective_picker.value = "Markov: reward 1 on reaching the goal"
    assert "Realisable" in explorer.certificate.value
    explorer.environment_picker.value = "three rooms (a, then b)"
    assert explorer.objective_picker.value == "reward machine: 1 on reaching b after a"
    assert "No Markov reward" in explorer.certificate.value
    assert len(explorer.policy_picker.options) == 27


def test_explorer_errors_are_shown_not_raised():
    explorer = rv.widgets.ExpressivityExplorer()
    before = explorer.fig.data[1].x
    explorer.policy_picker.value = ()
    assert "tick at least one acceptable policy" in explorer.status.value
    assert explorer.fig.data[1].x == before


def test_explorer_bad_arguments():
    with pytest.raises(ValueError, match="environment must be one of"):
        rv.widgets.ExpressivityExplorer("moon base")
    with pytest.raises(ValueError, match="mode must be one of"):
        rv.widgets.ExpressivityExplorer(mode="guess")


def test_formalism_map_explorer_selection_and_clicks():
    explorer = rv.widgets.FormalismMapExplorer()
    assert isinstance(explorer.fig, go.FigureWidget)
    explorer.formalism_picker.value = "ONMR"
    assert "outer nonlinear" in explorer.details.value and "[witnessed]" in explorer.details.value
    fmap = explorer.map
    index = next(i for i, r in enumerate(fmap.relations) if r.status == "witnessed")
    explorer.show_relation(index)
    assert "witness:" in explorer.details.value
    explorer.incomparable_toggle.value = True
    assert len([t for t in explorer.fig.data if t.mode == "lines"]) == len(fmap.relations)
    assert "text/plain" in explorer._repr_mimebundle_() or explorer._repr_mimebundle_()


def test_explorer_draws_the_reward_found_on_a_grid():
    explorer = rv.widgets.ExpressivityExplorer("open grid 2×2")
    assert explorer._grid_box.layout.display is None  # a single policy is realisable
    panels = [t for t in explorer.grid_fig.data if t.type == "heatmap"]
    assert len(panels) == 4  # one panel per action
    result = explorer.result()
    table = result.reward.mean(-1)
    shown = sorted(v for panel in panels for row in panel.z for v in row if v is not None)
    np.testing.assert_allclose(shown, sorted(table.ravel()))
    explorer.policy_picker.value = (
        "up,up,up,up",
        "right,right,right,right",
        "down,down,down,down",
        "left,left,left,left",
    )
    assert not explorer.result().realizable
    assert explorer._grid_box.layout.display == "none"
    explorer.environment_picker.value = "XOR (one-step bandit)"
    assert explorer._grid_box.layout.display == "none"  # not a grid


def test_explorer_state_is_the_answer_shown():
    explorer = rv.widgets.ExpressivityExplorer("XOR (one-step bandit)")
    explorer.policy_picker.value = ("a1,a2", "a2,a1")
    state = explorer.state()
    assert isinstance(state, rv.widgets.ExpressivityExplorerState)
    assert (state.environment, state.mode, state.variant) == (
        "XOR (one-step bandit)",
        "acceptable policies",
        "equal",
    )
    assert state.acceptable == ("a1,a2", "a2,a1") and not state.result.realizable
    explorer.policy_picker.value = ()  # refused: the state keeps the answer shown
    assert explorer.state() is state


def test_formalism_map_explorer_state_and_a_refused_relation():
    explorer = rv.widgets.FormalismMapExplorer()
    explorer.formalism_picker.value = "ONMR"
    state = explorer.state()
    assert isinstance(state, rv.widgets.FormalismMapExplorerState)
    assert (state.formalism, state.relation, state.show_incomparable) == ("ONMR", None, False)
    details = explorer.details.value
    explorer.show_relation(10_000)
    assert "Not updated" in explorer.status.value
    assert explorer.state() is state and explorer.details.value == details
    explorer.show_relation(0)
    assert explorer.status.value == ""
    assert (explorer.state().formalism, explorer.state().relation) == (None, 0)
    traces = list(explorer.fig.data)
    explorer.incomparable_toggle.value = True
    assert explorer.state().show_incomparable and explorer.state().relation == 0
    assert len(explorer.fig.data) > len(traces)
