"""An interactive explorer of a gridworld's optimal and soft-optimal behaviour.

:class:`MDPExplorer` owns the controls (discount, temperature, mode) and one plotly
``FigureWidget``. On every change it calls the solvers of :mod:`rewardviz.solve` and
redraws the figure in place with :func:`rewardviz.plots.update_gridworld`. It holds no
mathematics of its own beyond a max over actions: solving lives in ``rewardviz.solve``,
drawing in ``rewardviz.plots``.
"""

from __future__ import annotations

import dataclasses

import ipywidgets
import jax
import numpy as np

from rewardviz import solve as solvers
from rewardviz.mdp import TabularMDP
from rewardviz.plots import gridworld, update_gridworld
from rewardviz.widgets._common import Explorer, figure_widget, gamma_slider, one_grid_reward

__all__ = ["MDPExplorer", "MDPExplorerState"]

MODES = ("optimal", "soft")


@dataclasses.dataclass(frozen=True)
class MDPExplorerState:
    """What an :class:`MDPExplorer` shows for its current settings.

    Attributes:
        gamma: the discount.
        temperature: the temperature ``τ`` of the soft mode (set, but unused, in the
            optimal mode).
        mode: ``"optimal"`` or ``"soft"``.
        values: the state values drawn, ``[S]``.
        policy: the policy drawn, ``[S, A]``.
    """

    gamma: float
    temperature: float
    mode: str
    values: jax.Array
    policy: jax.Array


@dataclasses.dataclass(frozen=True)
class _Shown:
    """What the figure draws for one setting of the controls."""

    state: MDPExplorerState
    title: str


class MDPExplorer(Explorer):
    """Sliders for γ and τ over a gridworld picture of the values and policy they give.

    Modes:
        ``"optimal"``: the optimal values ``V*(s) = max_a Q*(s, a)`` and the greedy
        policy (uniform over tied best actions).
        ``"soft"``: the maximum-entropy policy ``π(a|s) ∝ exp(Q_soft(s, a)/τ)`` and its
        ordinary (entropy-free) value ``V^π``: how much return the softer policy keeps.

    Changing a control re-solves (without recompiling: γ and τ are traced values) and
    updates :attr:`fig` in place. Solver failures, such as γ = 1 in an MDP where
    some policy never terminates, are shown in :attr:`status` and leave the figure as
    it was.

    Args:
        mdp: an MDP with ``grid_shape``, e.g. from :func:`rewardviz.envs.gridworld`.
        reward: one reward ``[S, A, S']``.
        gamma: starting discount; defaults to ``mdp.gamma``. The slider reaches 1 only
            when the MDP has terminal states.
        temperature: starting temperature ``τ > 0`` of the soft mode.
        mode: ``"optimal"`` or ``"soft"``.

    Attributes:
        fig: the ``plotly.graph_objects.FigureWidget``.
        gamma_slider, temperature_slider, mode_buttons: the controls.
        status: an ``ipywidgets.HTML`` line for solver messages.
        widget: the ``ipywidgets.VBox`` holding all of them.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
        >>> explorer = rv.widgets.MDPExplorer(mdp, reward)
        >>> explorer  # in a notebook cell: shows the controls and the figure
        >>> explorer.gamma_slider.value = 0.5
        >>> explorer.values()  # V* at γ = 0.5, [S]
        >>> explorer.state().mode
        'optimal'
    """

    def __init__(
        self,
        mdp: TabularMDP,
        reward,
        *,
        gamma: float | None = None,
        temperature: float = 0.1,
        mode: str = "optimal",
    ) -> None:
        super().__init__()
        reward = one_grid_reward("MDPExplorer", mdp, reward)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
        temperature = float(temperature)
        if not (np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}.")

        self._mdp = mdp
        self._reward = reward
        self.gamma_slider = gamma_slider(gamma, mdp)
        # Log scale: temperatures that matter range over orders of magnitude.
        exponent = np.log10(temperature)
        self.temperature_slider = ipywidgets.FloatLogSlider(
            value=temperature,
            base=10,
            min=min(-3.0, np.floor(exponent)),
            max=max(1.0, np.ceil(exponent)),
            step=0.05,
            description="τ (temperature)",
            readout_format=".3g",
            style={"description_width": "initial"},
        )
        self.mode_buttons = ipywidgets.ToggleButtons(
            options=list(MODES),
            value=mode,
            tooltips=[
                "optimal values V* and the greedy policy",
                "the Boltzmann policy of the soft Q-values at temperature τ, and its value",
            ],
        )
        self._sync_controls()

        # Solve before building anything on screen: bad settings raise here.
        shown = self._compute()
        self._shown = shown
        self.fig = figure_widget(
            gridworld(mdp, shown.state.values, shown.state.policy, title=shown.title)
        )
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.gamma_slider, self.temperature_slider]),
                self.mode_buttons,
                self.fig,
                self.status,
            ]
        )
        self._observe(self.gamma_slider, self.temperature_slider, self.mode_buttons)

    def state(self) -> MDPExplorerState:
        """The settings shown now, and the values and policy drawn."""
        return self._shown.state

    def values(self) -> jax.Array:
        """The state values shown, ``[S]``."""
        return self._shown.state.values

    def policy(self) -> jax.Array:
        """The policy shown, ``[S, A]``."""
        return self._shown.state.policy

    def _sync_controls(self) -> None:
        self.temperature_slider.disabled = self.mode_buttons.value == "optimal"

    def _compute(self) -> _Shown:
        """Values ``[S]``, policy ``[S, A]`` and a title for the current control settings."""
        # gamma is a pytree leaf of the MDP, so a new value reuses the compiled solver.
        gamma, temperature = self.gamma_slider.value, self.temperature_slider.value
        mode = self.mode_buttons.value
        mdp = self._mdp.replace(gamma=gamma)
        if mode == "optimal":
            q = solvers.q_values(mdp, self._reward)
            values, policy = q.max(axis=-1), solvers.greedy_policy(q)
            title = f"V*(s) and the greedy policy, γ = {gamma:.2f}"
        else:
            soft_q = solvers.soft_q_values(mdp, self._reward, temperature)
            policy = solvers.boltzmann_policy(soft_q, temperature)
            values = solvers.policy_evaluation(mdp, self._reward, policy)
            title = (
                f"value of the Boltzmann policy π ∝ exp(Q_soft/τ), γ = {gamma:.2f}, "
                f"τ = {temperature:.3g}"
            )
        state = MDPExplorerState(gamma, temperature, mode, values, policy)
        return _Shown(state=state, title=title)

    def _draw(self, shown: _Shown) -> None:
        update_gridworld(
            self.fig, self._mdp, shown.state.values, shown.state.policy, title=shown.title
        )
        self._shown = shown
