"""An interactive explorer of a gridworld's optimal and soft-optimal behaviour.

:class:`MDPExplorer` owns the controls (discount, temperature, mode) and one plotly
``FigureWidget``. On every change it calls the solvers of :mod:`rewardviz.solve` and
redraws the figure in place with :func:`rewardviz.plots.update_gridworld`. It holds no
mathematics of its own beyond a max over actions: solving lives in ``rewardviz.solve``,
drawing in ``rewardviz.plots``.
"""

from __future__ import annotations

import ipywidgets
import jax
import numpy as np

from rewardviz import _checks
from rewardviz import solve as solvers
from rewardviz.mdp import TabularMDP
from rewardviz.plots import gridworld, update_gridworld
from rewardviz.widgets._common import StaticExport, error_html, figure_widget, one_grid_reward

MODES = ("optimal", "soft")
#: The discount slider stops here for MDPs without terminal states (γ = 1 needs them).
CONTINUING_GAMMA_LIMIT = 0.99


class MDPExplorer(StaticExport):
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
        reward = one_grid_reward("MDPExplorer", mdp, reward)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
        gamma_limit = 1.0 if bool(np.asarray(mdp.terminal).any()) else CONTINUING_GAMMA_LIMIT
        gamma = float(mdp.gamma) if gamma is None else gamma
        gamma = _checks.in_range(
            "gamma",
            gamma,
            0.0,
            max(gamma_limit, float(mdp.gamma)),
            hint="γ = 1 needs terminal states.",
        )
        temperature = float(temperature)
        if not (np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}.")

        self._mdp = mdp
        self._reward = reward
        self.gamma_slider = ipywidgets.FloatSlider(
            value=gamma,
            min=0.0,
            max=max(gamma_limit, gamma),
            step=0.01,
            description="γ (discount)",
            readout_format=".2f",
            style={"description_width": "initial"},
        )
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
        self.status = ipywidgets.HTML(value="")
        self.temperature_slider.disabled = mode == "optimal"

        # Solve before building anything on screen: bad settings raise here.
        self._values, self._policy, title = self._solve()
        self.fig = figure_widget(gridworld(mdp, self._values, self._policy, title=title))
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.gamma_slider, self.temperature_slider]),
                self.mode_buttons,
                self.fig,
                self.status,
            ]
        )
        for control in (self.gamma_slider, self.temperature_slider, self.mode_buttons):
            control.observe(self._refresh, names="value")

    def values(self) -> jax.Array:
        """The state values shown, ``[S]``."""
        return self._values

    def policy(self) -> jax.Array:
        """The policy shown, ``[S, A]``."""
        return self._policy

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _solve(self) -> tuple[jax.Array, jax.Array, str]:
        """Values ``[S]``, policy ``[S, A]`` and a title for the current control settings."""
        # gamma is a pytree leaf of the MDP, so a new value reuses the compiled solver.
        mdp = self._mdp.replace(gamma=self.gamma_slider.value)
        gamma_text = f"γ = {self.gamma_slider.value:.2f}"
        if self.mode_buttons.value == "optimal":
            q = solvers.q_values(mdp, self._reward)
            return (
                q.max(axis=-1),
                solvers.greedy_policy(q),
                f"V*(s) and the greedy policy, {gamma_text}",
            )
        temperature = self.temperature_slider.value
        soft_q = solvers.soft_q_values(mdp, self._reward, temperature)
        policy = solvers.boltzmann_policy(soft_q, temperature)
        values = solvers.policy_evaluation(mdp, self._reward, policy)
        title = (
            f"value of the Boltzmann policy π ∝ exp(Q_soft/τ), {gamma_text}, τ = {temperature:.3g}"
        )
        return values, policy, title

    def _refresh(self, _change=None) -> None:
        self.temperature_slider.disabled = self.mode_buttons.value == "optimal"
        try:
            values, policy, title = self._solve()
        except (solvers.ConvergenceError, ValueError) as error:
            self.status.value = error_html(error)
            return
        self.status.value = ""
        update_gridworld(self.fig, self._mdp, values, policy, title=title)
        self._values, self._policy = values, policy
