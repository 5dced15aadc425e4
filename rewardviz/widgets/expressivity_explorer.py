"""Explore which tasks a Markov reward can express, and browse the formalism map.

:class:`ExpressivityExplorer` lets a reader pick a small environment, then either tick
acceptable policies (a SOAP) or pick an objective from another formalism, and shows at
once whether some Markov reward realises it: the reward and the values it gives, or
the certificate. :class:`FormalismMapExplorer` shows the Hasse diagram of formalisms
with a detail pane for the clicked (or selected) formalism or relation. The LPs live
in :mod:`rewardviz.expressivity`, the drawing in :mod:`rewardviz.plots.expressivity`.
"""

from __future__ import annotations

import dataclasses
import html

import ipywidgets
import numpy as np
import plotly.graph_objects as go

from rewardviz import expressivity
from rewardviz.expressivity import (
    FormalismMap,
    Realization,
    deterministic_policies,
    environments,
    expressible_as_markov,
    realize_soap,
)
from rewardviz.expressivity.realize import policy_label
from rewardviz.plots import gridworld
from rewardviz.plots.expressivity import (
    edge_text,
    formalism_map,
    node_text,
    realization,
    update_realization,
)
from rewardviz.solve import optimal_policy
from rewardviz.widgets._common import Explorer, figure_widget, replace_figure

__all__ = [
    "ExpressivityExplorer",
    "ExpressivityExplorerState",
    "FormalismMapExplorer",
    "FormalismMapExplorerState",
]

MODES = ("acceptable policies", "objective")
#: Above this many deterministic policies the picker would be unreadable.
MAX_LISTED_POLICIES = 512


@dataclasses.dataclass(frozen=True)
class ExpressivityExplorerState:
    """What an :class:`ExpressivityExplorer` shows for its current settings.

    Attributes:
        environment: the teaching case's name.
        mode: ``"acceptable policies"`` or ``"objective"``.
        variant: the SOAP variant, ``"equal"`` or ``"range"`` (used in the first mode).
        acceptable: labels of the ticked policies (used in the first mode).
        objective: the objective's name (used in the second mode).
        result: the :class:`rewardviz.expressivity.Realization` drawn.
    """

    environment: str
    mode: str
    variant: str
    acceptable: tuple[str, ...]
    objective: str
    result: Realization


@dataclasses.dataclass(frozen=True)
class _Answer:
    """What the explorer draws for one setting of the controls."""

    state: ExpressivityExplorerState
    grid: go.Figure | None  # the reward found on the grid; None when there is none to draw


class ExpressivityExplorer(Explorer):
    """Is this task a Markov reward? Pick an environment and a task; see the answer live.

    Args:
        environment: the name of a teaching case (see
            :func:`rewardviz.expressivity.environments.teaching_cases`).
        mode: ``"acceptable policies"`` (tick the acceptable deterministic policies) or
            ``"objective"`` (an objective from another formalism orders the case's policies).
        variant: SOAP variant, ``"equal"`` or ``"range"``.

    Attributes:
        fig: the ``FigureWidget`` (reward heatmap and values, or certificate).
        grid_fig: on grid environments, the reward found drawn on the grid with its
            optimal policy (hidden otherwise).
        environment_picker, mode_buttons, variant_buttons, policy_picker, objective_picker:
            the controls; set their ``value`` to script the widget.
        certificate: an ``HTML`` pane with the answer in words.
        status: an ``HTML`` line for errors raised by a control change.
        widget: the ``VBox`` holding all of them.

    Example:
        >>> explorer = rv.widgets.ExpressivityExplorer("XOR (one-step bandit)")
        >>> explorer.policy_picker.value = ("a1,a2", "a2,a1")
        >>> explorer.result().realizable
        False
        >>> explorer.state().acceptable
        ('a1,a2', 'a2,a1')
    """

    FIGURES = ("fig", "grid_fig")

    def __init__(
        self,
        environment: str = "XOR (one-step bandit)",
        *,
        mode: str = "acceptable policies",
        variant: str = "equal",
    ) -> None:
        super().__init__()
        self.cases = environments.teaching_cases()
        if environment not in self.cases:
            raise ValueError(
                f"environment must be one of {sorted(self.cases)}, got {environment!r}."
            )
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
        if variant not in ("equal", "range"):
            raise ValueError(f'variant must be "equal" or "range", got {variant!r}.')
        self.environment_picker = ipywidgets.Dropdown(
            options=list(self.cases), value=environment, description="environment"
        )
        self.mode_buttons = ipywidgets.ToggleButtons(options=MODES, value=mode)
        self.variant_buttons = ipywidgets.ToggleButtons(
            options=("equal", "range"), value=variant, description="SOAP"
        )
        self.policy_picker = ipywidgets.SelectMultiple(
            description="acceptable", rows=8, layout=ipywidgets.Layout(width="320px")
        )
        self.objective_picker = ipywidgets.Dropdown(
            description="objective", layout=ipywidgets.Layout(width="520px")
        )
        self.certificate = ipywidgets.HTML()
        self._fill_choices()
        self._sync_controls()

        # Compute before building anything on screen: bad settings raise here.
        answer = self._compute()
        self.fig = figure_widget(realization(self.case.mdp, answer.state.result))
        self.grid_fig = figure_widget()
        self._grid_box = ipywidgets.Box([self.grid_fig])
        self._show_answer(answer)
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.environment_picker, self.mode_buttons]),
                ipywidgets.HBox([self.policy_picker, self.variant_buttons]),
                self.objective_picker,
                self.fig,
                self._grid_box,
                self.certificate,
                self.status,
            ]
        )
        self._observe(
            self.mode_buttons, self.variant_buttons, self.policy_picker, self.objective_picker
        )
        self.environment_picker.observe(self._change_environment, names="value")

    @property
    def case(self) -> environments.Case:
        """The teaching case picked."""
        return self.cases[self.environment_picker.value]

    def result(self) -> Realization:
        """The realisability answer for the current controls (solves the LP)."""
        case = self.case
        if self.mode_buttons.value == "objective":
            objective = case.objectives[self.objective_picker.value]
            return expressible_as_markov(
                mdp=case.mdp, objective=objective, policies=list(case.policies), names=case.names
            )
        chosen = [self._policies[label] for label in self.policy_picker.value]
        if not chosen:
            raise ValueError("tick at least one acceptable policy.")
        return realize_soap(case.mdp, np.stack(chosen), variant=self.variant_buttons.value)

    def state(self) -> ExpressivityExplorerState:
        """The environment, task and answer shown now."""
        return self._shown.state

    def _fill_choices(self) -> None:
        case = self.case
        policies = deterministic_policies(case.mdp, max_policies=MAX_LISTED_POLICIES)
        self._policies = {policy_label(case.mdp, p): p for p in policies}
        labels = list(self._policies)
        self.policy_picker.options = labels
        self.policy_picker.value = (labels[0],)
        self.objective_picker.options = list(case.objectives)
        self.objective_picker.value = next(iter(case.objectives))

    def _sync_controls(self) -> None:
        soap = self.mode_buttons.value == "acceptable policies"
        self.policy_picker.layout.display = None if soap else "none"
        self.variant_buttons.layout.display = None if soap else "none"
        self.objective_picker.layout.display = "none" if soap else None

    def _change_environment(self, _change=None) -> None:
        for control in (self.policy_picker, self.objective_picker):
            control.unobserve(self._refresh, names="value")
        try:
            self._fill_choices()
        finally:
            for control in (self.policy_picker, self.objective_picker):
                control.observe(self._refresh, names="value")
        self._refresh()

    def _compute(self) -> _Answer:
        """The answer for the current controls and, on a grid, the reward found drawn on it."""
        result = self.result()
        state = ExpressivityExplorerState(
            environment=self.environment_picker.value,
            mode=self.mode_buttons.value,
            variant=self.variant_buttons.value,
            acceptable=tuple(self.policy_picker.value),
            objective=self.objective_picker.value,
            result=result,
        )
        mdp = self.case.mdp
        if mdp.grid_shape is None or not result.realizable:
            return _Answer(state=state, grid=None)
        table = result.reward.mean(-1)  # r(s, a, ·) is constant over s'
        policy = optimal_policy(mdp, result.reward)
        title = "The reward found r(s, a), and its optimal policy"
        return _Answer(state=state, grid=gridworld(mdp, table, policy, title=title))

    def _draw(self, answer: _Answer) -> None:
        with self.fig.batch_update():
            update_realization(
                self.fig, self.cases[answer.state.environment].mdp, answer.state.result
            )
        self._show_answer(answer)

    def _show_answer(self, answer: _Answer) -> None:
        """The certificate in words and the grid figure (one panel per action, or hidden)."""
        self.certificate.value = f"<pre>{html.escape(str(answer.state.result))}</pre>"
        self._grid_box.layout.display = "none" if answer.grid is None else None
        if answer.grid is not None:
            replace_figure(self.grid_fig, answer.grid)
        self._shown = answer


@dataclasses.dataclass(frozen=True)
class FormalismMapExplorerState:
    """What a :class:`FormalismMapExplorer` shows.

    Attributes:
        formalism: the key of the formalism described in the detail pane, or None when
            a relation is.
        relation: the index (into ``FormalismMap.relations``) of the relation described,
            or None when a formalism is.
        show_incomparable: whether incomparable pairs are drawn as faint links.
    """

    formalism: str | None
    relation: int | None
    show_incomparable: bool


@dataclasses.dataclass(frozen=True)
class _MapShown:
    """The detail pane and, when the links drawn change, the new map."""

    state: FormalismMapExplorerState
    details: str
    figure: go.Figure | None  # None: the map on screen already shows these links


class FormalismMapExplorer(Explorer):
    """The formalism map with a detail pane: click a node or an edge's diamond, or pick a name.

    Args:
        fmap: the :class:`rewardviz.expressivity.FormalismMap`; the package's
            (:func:`rewardviz.expressivity.formalism_map`) when None.
        show_incomparable: whether to start with incomparable pairs drawn.

    Attributes:
        fig: the ``FigureWidget`` of :func:`rewardviz.plots.formalism_map`.
        formalism_picker: a ``Dropdown`` of formalism keys (selecting shows the definition).
        incomparable_toggle: a ``Checkbox`` drawing incomparable pairs as faint links.
        details: the ``HTML`` pane.
        status: an ``HTML`` line for errors raised by a click or a selection.
        widget: the ``VBox``.
        map: the formalism map drawn.

    Example:
        >>> explorer = rv.widgets.FormalismMapExplorer()
        >>> explorer.formalism_picker.value = "ONMR"
        >>> "outer nonlinear" in explorer.details.value
        True
        >>> explorer.state().formalism
        'ONMR'
    """

    def __init__(self, fmap: FormalismMap | None = None, *, show_incomparable: bool = False):
        super().__init__()
        self.map = expressivity.formalism_map() if fmap is None else fmap
        if not isinstance(self.map, FormalismMap):
            raise TypeError(f"fmap must be a FormalismMap, got {type(self.map).__name__}.")
        self.formalism_picker = ipywidgets.Dropdown(
            options=[f.key for f in self.map.formalisms], description="formalism"
        )
        self.incomparable_toggle = ipywidgets.Checkbox(
            value=show_incomparable, description="show incomparable pairs"
        )
        self.details = ipywidgets.HTML()
        self.fig = figure_widget()
        self._shown: _MapShown | None = None
        self._selection: str | int = self.formalism_picker.value
        self._draw(self._compute())
        self.formalism_picker.observe(lambda change: self.show_formalism(change.new), "value")
        self._observe(self.incomparable_toggle)
        self.widget = ipywidgets.VBox(
            [ipywidgets.HBox([self.formalism_picker, self.incomparable_toggle]), self.fig,
             self.details, self.status]
        )  # fmt: skip

    def state(self) -> FormalismMapExplorerState:
        """The formalism or relation described, and whether incomparable pairs are drawn."""
        return self._shown.state

    def show_formalism(self, key: str) -> None:
        """Show a formalism's definition, source and relations in :attr:`details`."""
        self._select(key)

    def show_relation(self, index: int) -> None:
        """Show a relation's justification, status, source and witnesses in :attr:`details`."""
        self._select(int(index))

    def _select(self, selection: str | int) -> None:
        self._selection = selection
        self._refresh()
        # A selection that could not be shown is forgotten: the pane keeps the last one.
        state = self._shown.state
        self._selection = state.formalism if state.relation is None else state.relation

    def _compute(self) -> _MapShown:
        selection = self._selection
        if isinstance(selection, str):
            details = node_text(self.map, selection)
            formalism, relation = selection, None
        else:
            details = edge_text(self.map, selection)
            formalism, relation = None, selection
        show_incomparable = self.incomparable_toggle.value
        drawn = self._shown is not None and self._shown.state.show_incomparable == show_incomparable
        return _MapShown(
            state=FormalismMapExplorerState(formalism, relation, show_incomparable),
            details=details,
            figure=None if drawn else formalism_map(self.map, show_incomparable=show_incomparable),
        )

    def _draw(self, shown: _MapShown) -> None:
        if shown.figure is not None:
            replace_figure(self.fig, shown.figure)
            for trace in self.fig.data:
                if trace.mode == "markers+text":
                    trace.on_click(self._clicked_node)
                elif trace.mode == "markers":
                    trace.on_click(self._clicked_edge)
        self.details.value = shown.details
        self._shown = shown

    def _clicked_node(self, trace, points, _selector) -> None:
        if points.point_inds:
            self.formalism_picker.value = trace.customdata[points.point_inds[0]]

    def _clicked_edge(self, trace, points, _selector) -> None:
        if points.point_inds:
            self.show_relation(trace.customdata[points.point_inds[0]])
