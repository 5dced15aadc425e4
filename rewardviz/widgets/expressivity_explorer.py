"""Explore which tasks a Markov reward can express, and browse the formalism map.

:class:`ExpressivityExplorer` lets a reader pick a small environment, then either tick
acceptable policies (a SOAP) or pick an objective from another formalism, and shows at
once whether some Markov reward realises it: the reward and the values it gives, or
the certificate. :class:`FormalismMapExplorer` shows the Hasse diagram of formalisms
with a detail pane for the clicked (or selected) formalism or relation. The LPs live
in :mod:`rewardviz.expressivity`, the drawing in :mod:`rewardviz.plots.expressivity`.
"""

from __future__ import annotations

import html

import ipywidgets
import numpy as np

from rewardviz.expressivity import (
    FormalismMap,
    Realization,
    deterministic_policies,
    environments,
    expressible_as_markov,
    formalisms,
    realize_soap,
)
from rewardviz.expressivity.realize import policy_label
from rewardviz.plots.expressivity import (
    edge_text,
    formalism_map,
    node_text,
    realization,
    update_realization,
)
from rewardviz.plots.gridworld import gridworld
from rewardviz.solve import optimal_policy
from rewardviz.widgets._common import StaticExport, error_html, figure_widget, replace_figure

MODES = ("acceptable policies", "objective")
#: Above this many deterministic policies the picker would be unreadable.
MAX_LISTED_POLICIES = 512


class ExpressivityExplorer(StaticExport):
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
    """

    FIGURES = ("fig", "grid_fig")

    def __init__(
        self,
        environment: str = "XOR (one-step bandit)",
        *,
        mode: str = "acceptable policies",
        variant: str = "equal",
    ) -> None:
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
        self.status = ipywidgets.HTML()
        self._fill_choices()
        self.fig = figure_widget(realization(self.case.mdp, self.result()))
        self.grid_fig = figure_widget()
        self._grid_box = ipywidgets.Box([self.grid_fig])
        for control in (self.mode_buttons, self.variant_buttons, self.policy_picker,
                        self.objective_picker):  # fmt: skip
            control.observe(self._refresh, names="value")
        self.environment_picker.observe(self._change_environment, names="value")
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
        self._show_controls()
        result = self.result()
        self._describe(result)
        self._draw_grid(result)

    @property
    def case(self) -> environments.Case:
        return self.cases[self.environment_picker.value]

    def result(self) -> Realization:
        """The realisability answer for the current controls."""
        case = self.case
        if self.mode_buttons.value == "objective":
            objective = case.objectives[self.objective_picker.value]
            return expressible_as_markov(objective, case.mdp, list(case.policies), names=case.names)
        chosen = [self._policies[label] for label in self.policy_picker.value]
        if not chosen:
            raise ValueError("tick at least one acceptable policy.")
        return realize_soap(case.mdp, np.stack(chosen), self.variant_buttons.value)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _fill_choices(self) -> None:
        case = self.case
        policies = deterministic_policies(case.mdp, max_policies=MAX_LISTED_POLICIES)
        self._policies = {policy_label(case.mdp, p): p for p in policies}
        labels = list(self._policies)
        self.policy_picker.options = labels
        self.policy_picker.value = (labels[0],)
        self.objective_picker.options = list(case.objectives)
        self.objective_picker.value = next(iter(case.objectives))

    def _show_controls(self) -> None:
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

    def _refresh(self, _change=None) -> None:
        self._show_controls()
        try:
            result = self.result()
        except (ValueError, RuntimeError) as error:
            self.status.value = error_html(error)
            return
        with self.fig.batch_update():
            update_realization(self.fig, self.case.mdp, result)
        self._describe(result)
        self._draw_grid(result)
        self.status.value = ""

    def _draw_grid(self, result: Realization) -> None:
        """On a grid environment, the reward found drawn on the grid (one panel per action)."""
        mdp = self.case.mdp
        shown = mdp.grid_shape is not None and result.realizable
        self._grid_box.layout.display = None if shown else "none"
        if not shown:
            return
        table = result.reward.mean(-1)  # r(s, a, ·) is constant over s'
        policy = optimal_policy(mdp, result.reward)
        replace_figure(
            self.grid_fig,
            gridworld(mdp, table, policy, title="The reward found r(s, a), and its optimal policy"),
        )

    def _describe(self, result: Realization) -> None:
        self.certificate.value = f"<pre>{html.escape(str(result))}</pre>"


class FormalismMapExplorer(StaticExport):
    """The formalism map with a detail pane: click a node or an edge's diamond, or pick a name.

    Attributes:
        fig: the ``FigureWidget`` of :func:`rewardviz.plots.formalism_map`.
        formalism_picker: a ``Dropdown`` of formalism keys (selecting shows the definition).
        incomparable_toggle: a ``Checkbox`` drawing incomparable pairs as faint links.
        details: the ``HTML`` pane.
        status: an ``HTML`` line for errors raised by a click or a selection.
        widget: the ``VBox``.

    Example:
        >>> explorer = rv.widgets.FormalismMapExplorer()
        >>> explorer.formalism_picker.value = "ONMR"
        >>> "outer nonlinear" in explorer.details.value
        True
    """

    def __init__(self, fmap: FormalismMap | None = None, *, show_incomparable: bool = False):
        self.map = formalisms() if fmap is None else fmap
        if not isinstance(self.map, FormalismMap):
            raise TypeError(f"fmap must be a FormalismMap, got {type(self.map).__name__}.")
        self.formalism_picker = ipywidgets.Dropdown(
            options=[f.key for f in self.map.formalisms], description="formalism"
        )
        self.incomparable_toggle = ipywidgets.Checkbox(
            value=show_incomparable, description="show incomparable pairs"
        )
        self.details = ipywidgets.HTML()
        self.status = ipywidgets.HTML()
        self.fig = figure_widget()
        self._draw()
        self.formalism_picker.observe(lambda change: self.show_formalism(change.new), "value")
        self.incomparable_toggle.observe(lambda _: self._draw(), "value")
        self.widget = ipywidgets.VBox(
            [ipywidgets.HBox([self.formalism_picker, self.incomparable_toggle]), self.fig,
             self.details, self.status]
        )  # fmt: skip
        self.show_formalism(self.formalism_picker.value)

    def show_formalism(self, key: str) -> None:
        """Show a formalism's definition, source and relations in :attr:`details`."""
        self._show(node_text, key)

    def show_relation(self, index: int) -> None:
        """Show a relation's justification, status, source and witnesses in :attr:`details`."""
        self._show(edge_text, int(index))

    def _show(self, describe, item) -> None:
        try:
            self.details.value = describe(self.map, item)
        except (KeyError, IndexError, ValueError) as error:
            self.status.value = error_html(error)
            return
        self.status.value = ""

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _draw(self) -> None:
        replace_figure(
            self.fig, formalism_map(self.map, show_incomparable=self.incomparable_toggle.value)
        )
        for trace in self.fig.data:
            if trace.mode == "markers+text":
                trace.on_click(self._clicked_node)
            elif trace.mode == "markers":
                trace.on_click(self._clicked_edge)

    def _clicked_node(self, trace, points, _selector) -> None:
        if points.point_inds:
            self.formalism_picker.value = trace.customdata[points.point_inds[0]]

    def _clicked_edge(self, trace, points, _selector) -> None:
        if points.point_inds:
            self.show_relation(trace.customdata[points.point_inds[0]])
