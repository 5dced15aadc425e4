"""Every widget: one base, one look, a frozen state(), a static freeze() and an atomic export()."""

import dataclasses
import json
import re
import shutil

import anywidget
import ipywidgets
import plotly
import plotly.graph_objects as go
import pytest

import rewardviz as rv
from rewardviz.plots.style import TEMPLATE
from rewardviz.widgets._common import REPORTED_ERRORS, Explorer, figure_widget


def data(figure):
    return json.loads(figure.to_json())["data"]


def widgets():
    mdp, reward = rv.envs.gridworld(["S..", "..G"], gamma=0.9)
    return {
        "MDPExplorer": lambda: rv.widgets.MDPExplorer(mdp, reward),
        "ShapingLab": lambda: rv.widgets.ShapingLab(mdp, reward),
        "ComponentExplorer": lambda: rv.widgets.ComponentExplorer(rv.io.example_log()),
        "GroupExplorer": lambda: rv.widgets.GroupExplorer(rv.groups.example_groups()),
        "ExpressivityExplorer": lambda: rv.widgets.ExpressivityExplorer(),
        "FormalismMapExplorer": lambda: rv.widgets.FormalismMapExplorer(),
        "LandscapeExplorer": lambda: rv.widgets.LandscapeExplorer.from_example(
            rv.landscape_examples.mountain_car(), resolution=16
        ),
    }


@pytest.mark.parametrize("name", sorted(widgets()))
def test_every_widget_has_the_look_and_freezes_a_static_copy(name, tmp_path):
    explorer = widgets()[name]()
    assert isinstance(explorer.fig, go.FigureWidget)
    assert explorer.fig.layout.template.layout.colorway == TEMPLATE.layout.colorway
    assert explorer.status is not None and explorer.widget is not None
    frozen = explorer.freeze()
    assert type(frozen) is go.Figure
    assert data(frozen) == data(explorer.fig)
    page = explorer.export(tmp_path / "figure.html")
    text = page.read_text()
    assert not re.search(r"<script[^>]+src=\"https?://", text) and "Plotly.newPlot" in text
    assert [p.name for p in tmp_path.iterdir()] == ["figure.html"]  # no temporary left


def test_frozen_figure_does_not_follow_the_controls():
    mdp, reward = rv.envs.gridworld(["S..", "..G"], gamma=0.9)
    explorer = rv.widgets.MDPExplorer(mdp, reward)
    frozen = explorer.freeze()
    before = list(frozen.data[0].z[0])
    explorer.gamma_slider.value = 0.3
    assert list(frozen.data[0].z[0]) == before
    assert list(explorer.fig.data[0].z[0]) != before


def test_export_errors_are_clear(tmp_path):
    explorer = rv.widgets.ExpressivityExplorer()
    with pytest.raises(ValueError, match=r"must end in \.html, \.png, \.svg or \.pdf"):
        explorer.export(tmp_path / "figure.gif")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        explorer.export(tmp_path / "missing" / "figure.html")
    with pytest.raises(ValueError, match=r"has figures \['fig', 'grid_fig'\], not 'table'"):
        explorer.freeze("table")


def test_named_figures_of_multi_figure_widgets():
    lab = rv.widgets.ShapingLab(*rv.envs.gridworld(["S..", "..G"], gamma=0.9))
    assert type(lab.freeze("learning_fig")) is go.Figure
    components = rv.widgets.ComponentExplorer(rv.io.example_log())
    assert (
        components.freeze("shares").to_plotly_json()["data"]
        == (components.figs["shares"].to_plotly_json()["data"])
    )


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_static_image_export(suffix, tmp_path):
    if shutil.which("chromium") is None and shutil.which("google-chrome") is None:
        pytest.skip("static image export needs Chromium: apt-get install chromium (.ci/run does)")
    explorer = rv.widgets.ExpressivityExplorer()
    path = explorer.export(tmp_path / f"figure{suffix}")
    head = path.read_bytes()[:64]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in head or b"<?xml" in head


@pytest.mark.parametrize("name", sorted(widgets()))
def test_every_widget_is_an_explorer_with_a_frozen_state(name):
    explorer = widgets()[name]()
    assert isinstance(explorer, Explorer)
    state = explorer.state()
    assert dataclasses.is_dataclass(state)
    assert type(state).__name__ == f"{name}State"
    assert getattr(rv.widgets, f"{name}State") is type(state)
    field = dataclasses.fields(state)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(state, field, None)


def test_figure_widgets_are_real_anywidgets():
    """plotly >= 6 builds FigureWidget on anywidget: the reason rewardviz depends on it."""
    figure = figure_widget(go.Figure(go.Scatter(x=[0, 1], y=[1, 0])))
    assert isinstance(figure, go.FigureWidget) and isinstance(figure, ipywidgets.DOMWidget)
    if int(plotly.__version__.split(".")[0]) >= 6:
        assert isinstance(figure, anywidget.AnyWidget)
    bundle = figure._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


class Counter(Explorer):
    """A minimal explorer: one slider, a bar of its value; ``_compute`` fails on demand."""

    def __init__(self, failure=None):
        super().__init__()
        self.failure = failure
        self.slider = ipywidgets.IntSlider(value=1, min=0, max=10)
        self.fig = figure_widget(go.Figure(go.Bar(y=[1])))
        self.widget = ipywidgets.VBox([self.slider, self.fig, self.status])
        self._shown = 1
        self._observe(self.slider)

    def state(self):
        return self._shown

    def _compute(self):
        if self.failure is not None and self.slider.value == 5:
            raise self.failure
        return self.slider.value

    def _draw(self, shown):
        self.fig.data[0].y = [shown]
        self._shown = shown


@pytest.mark.parametrize("error", [error("refused") for error in REPORTED_ERRORS])
def test_a_reported_error_leaves_figure_and_state_unchanged(error):
    explorer = Counter(failure=error)
    explorer.slider.value = 3
    assert explorer.state() == 3 and explorer.status.value == ""
    explorer.slider.value = 5
    assert "Not updated: " in explorer.status.value and "refused" in explorer.status.value
    assert explorer.fig.data[0].y == (3,) and explorer.state() == 3
    explorer.slider.value = 6
    assert explorer.status.value == "" and explorer.fig.data[0].y == (6,)


def test_other_errors_are_bugs_and_propagate():
    explorer = Counter(failure=TypeError("a bug"))
    with pytest.raises(TypeError, match="a bug"):
        explorer.slider.value = 5


def test_the_explorer_base_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        Explorer()
