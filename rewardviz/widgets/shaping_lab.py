"""A notebook lab for reward shaping: potential-based shaping keeps the task, a bonus does not.

:class:`ShapingLab` owns the controls (discount, potential, scale, kind of shaping) and
one plotly ``FigureWidget``. On every change it builds the shaped reward, asks
:mod:`rewardviz.solve` for both rewards' optimal values and policies and
:mod:`rewardviz.distances` for EPIC, STARC and regret, and redraws the figure in place
with :func:`rewardviz.plots.update_shaping_comparison`. The "distance to goal" potential
comes from :func:`rewardviz.envs.steps_to_goal` and the counterexample from
:func:`rewardviz.shaping.progress_bonus`; the widget itself does no arithmetic beyond
picking the optimal action's expected reward for display. Its "learn" button trains
batched tabular learners (:func:`rewardviz.learning.compare_rewards`) on the original
and the shaped reward, scores both on the original, and draws the learning curves with
:func:`rewardviz.plots.learning_curves`.
"""

from __future__ import annotations

import dataclasses

import ipywidgets
import jax
import jax.numpy as jnp
import numpy as np
import plotly.graph_objects as go

from rewardviz import _checks, _deprecation, learning
from rewardviz import distances as reward_distances
from rewardviz import solve as solvers
from rewardviz.envs import steps_to_goal
from rewardviz.mdp import TabularMDP
from rewardviz.plots import (
    learning_curves,
    shaping_comparison,
    update_learning_curves,
    update_shaping_comparison,
)
from rewardviz.plots.style import NEGATIVE_COLOUR, POSITIVE_COLOUR
from rewardviz.rewards import expected_reward
from rewardviz.shaping import potential_shaping, progress_bonus
from rewardviz.widgets._common import (
    REPORTED_ERRORS,
    Explorer,
    figure_widget,
    gamma_slider,
    one_grid_reward,
    replace_figure,
)

__all__ = ["ShapingLab", "ShapingLabState"]

#: Potential shapes; the scale slider multiplies them.
POTENTIALS = ("distance to goal", "random (seeded)", "zero")
#: How the potential enters the reward.
MODES = ("potential shaping", "progress bonus")
#: Default upper end of the scale slider.
SCALE_LIMIT = 5.0
#: Name of the unshaped reward in the learning curves.
ORIGINAL_NAME = "original R"

_SHAPED_NAMES = {
    "potential shaping": "R + γΦ(s′) − Φ(s)",
    "progress bonus": "R + scale·[Φ(s′) > Φ(s)]",
}


@dataclasses.dataclass(frozen=True)
class ShapingLabState:
    """The numbers a :class:`ShapingLab` shows for its current settings.

    Attributes:
        epic: EPIC distance between the original and the shaped reward, in ``[0, 1]``.
        starc: STARC distance (VAL canonicalisation, L2), in ``[0, 2]``.
        regret: normalised regret of optimising the shaped reward when the original
            one counts, in ``[0, 1]``.
        policy_unchanged: whether both rewards have the same optimal actions in every state.
    """

    epic: float
    starc: float
    regret: float
    policy_unchanged: bool


@dataclasses.dataclass(frozen=True)
class _Shown:
    """What the lab shows for one setting of its controls (arrays ``[S]``, ``[S, A]``)."""

    shaped: jax.Array
    state: ShapingLabState
    original_values: jax.Array
    shaped_values: jax.Array
    original_policy: jax.Array
    shaped_policy: jax.Array
    original_reward: jax.Array
    shaped_reward: jax.Array
    titles: tuple[str, ...]
    title: str

    def figure_arguments(self) -> dict:
        """The arguments of ``shaping_comparison`` and ``update_shaping_comparison``."""
        return {
            "original_values": self.original_values,
            "shaped_values": self.shaped_values,
            "original_policy": self.original_policy,
            "shaped_policy": self.shaped_policy,
            "original_reward": self.original_reward,
            "shaped_reward": self.shaped_reward,
            "titles": self.titles,
            "title": self.title,
        }


class ShapingLab(Explorer):
    """Shape a gridworld reward with a potential and see whether the task changed.

    Modes:
        ``"potential shaping"``: ``R′ = R + γΦ(s′) − Φ(s)`` (Ng, Harada & Russell 1999,
        ``Φ = 0`` at terminal states). The optimal policy never changes; EPIC, STARC and
        regret stay at 0 whatever the potential and scale.
        ``"progress bonus"``: ``R′ = R + scale·[Φ(s′) > Φ(s)]``, a reward for every step
        that gets closer to the goal. Not potential-based: stepping away is free, so a
        large enough bonus makes walking back and forth beat finishing, and the optimal
        policy and the regret change.

    Potentials (each multiplied by the scale slider): ``"distance to goal"``
    ``Φ(s) = −scale·(fewest steps from s to a goal)``, where goals are the terminal
    states marked ``G`` in the layout (all terminal states when none is) and states
    that cannot reach one count as one step further than the furthest that can;
    ``"random (seeded)"`` a fixed standard normal draw per state; ``"zero"``.

    Changing a control recomputes (without recompiling: γ is a traced leaf of the
    MDP and the scale enters as array values) and updates :attr:`fig` in place.
    Failures, such as γ = 1 with a bonus that pays forever, are shown in
    :attr:`status` and leave the figure and the numbers as they were.

    Args:
        mdp: an MDP with ``grid_shape``, e.g. from :func:`rewardviz.envs.gridworld`.
        reward: one reward ``[S, A, S']``.
        gamma: starting discount; defaults to ``mdp.gamma``.
        scale: starting scale, ``>= 0``.
        potential: one of :data:`POTENTIALS`.
        mode: one of :data:`MODES`.
        seed: seed of the random potential and of the learners, an integer or a
            ``jax.random`` key.
        n_learn_seeds: runs per reward when learning (``learn_seeds=`` is its old
            spelling, deprecated).
        learn_steps: environment steps per run when learning.

    Attributes:
        fig: the ``plotly.graph_objects.FigureWidget``: original and shaped values with
            optimal policies on top, the expected reward of the optimal action(s) below.
        scale_slider, gamma_slider, potential_dropdown, mode_buttons: the controls.
        learn_button, learner_dropdown: train learners on the original and the shaped
            reward (see :meth:`learn`).
        learning_fig: a ``FigureWidget`` of their learning curves: a note saying to press
            **learn** (no traces, no axes) until the first :meth:`learn`, then the curves,
            redrawn in place.
        learning_result: the last :class:`rewardviz.learning.LearningComparison`, or None.
        readout: an ``ipywidgets.HTML`` table of EPIC, STARC, regret and whether the
            optimal policy is unchanged.
        status: an ``ipywidgets.HTML`` line for error messages.
        widget: the ``ipywidgets.VBox`` holding all of them.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", ".#.G", "...L"])
        >>> lab = rv.widgets.ShapingLab(mdp, reward)
        >>> lab  # in a notebook cell: shows the controls, the figure and the readout
        >>> lab.mode_buttons.value = "progress bonus"
        >>> lab.scale_slider.value = 2.0
        >>> lab.state()  # ShapingLabState(epic=..., starc=..., regret=1.0, policy_unchanged=False)
    """

    FIGURES = ("fig", "learning_fig")

    @_deprecation.renamed_keywords(learn_seeds="n_learn_seeds")
    def __init__(
        self,
        mdp: TabularMDP,
        reward,
        *,
        gamma: float | None = None,
        scale: float = 1.0,
        potential: str = "distance to goal",
        mode: str = "potential shaping",
        seed: int | jax.Array = 0,
        n_learn_seeds: int = 16,
        learn_steps: int = 5000,
    ) -> None:
        super().__init__()
        reward = one_grid_reward("ShapingLab", mdp, reward)
        has_terminal = bool(np.asarray(mdp.terminal).any())
        potentials = POTENTIALS if has_terminal else POTENTIALS[1:]
        if potential not in potentials:
            reason = "" if has_terminal else " (the MDP has no terminal states to reach)"
            raise ValueError(f"potential must be one of {potentials}{reason}, got {potential!r}.")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
        self.gamma_slider = gamma_slider(gamma, mdp)
        scale = _checks.in_range("scale", scale, 0.0, np.inf, hint="Use a non-negative scale.")

        self._mdp = mdp
        self._reward = reward
        self._seed = seed
        self._n_learn_seeds = _checks.positive_int(
            "n_learn_seeds", n_learn_seeds, "runs per reward"
        )
        self._learn_steps = _checks.positive_int("learn_steps", learn_steps, "steps per run")
        self.learning_result: learning.LearningComparison | None = None
        # Shapes of the potentials at scale 1, fixed for the lab's lifetime; in the MDP's
        # dtype so that a new scale changes values only, never dtypes or compiled kernels.
        rng = np.random.default_rng(_checks.seed_int("seed", seed))
        shapes = {
            "random (seeded)": rng.standard_normal(mdp.n_states),
            "zero": np.zeros(mdp.n_states),
        }
        if has_terminal:
            shapes["distance to goal"] = -steps_to_goal(mdp)
        self._potential_shapes = {
            name: jnp.asarray(shape, dtype=mdp.dtype) for name, shape in shapes.items()
        }

        self.scale_slider = ipywidgets.FloatSlider(
            value=scale,
            min=0.0,
            max=max(SCALE_LIMIT, scale),
            step=0.05,
            description="scale",
            readout_format=".2f",
            style={"description_width": "initial"},
        )
        self.potential_dropdown = ipywidgets.Dropdown(
            options=list(potentials), value=potential, description="potential Φ"
        )
        self.mode_buttons = ipywidgets.ToggleButtons(
            options=list(MODES),
            value=mode,
            tooltips=[
                "R + γΦ(s′) − Φ(s): never changes the optimal policy",
                "R + scale·[Φ(s′) > Φ(s)]: pays for progress, not potential-based",
            ],
        )
        self.readout = ipywidgets.HTML(value="")
        self.learn_button = ipywidgets.Button(
            description="learn",
            icon="play",
            tooltip=(
                f"train {self._n_learn_seeds} seeds x {self._learn_steps} steps on the original "
                "and the shaped reward; score both on the original"
            ),
        )
        self.learner_dropdown = ipywidgets.Dropdown(
            options=list(learning.LEARNERS), value="q_learning", description="learner"
        )
        self.learning_fig = figure_widget(self._learning_placeholder())

        # Compute before building anything on screen: bad settings raise here.
        shown = self._compute()
        self.fig = figure_widget(shaping_comparison(self._mdp, **shown.figure_arguments()))
        self._show_numbers(shown)
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.gamma_slider, self.scale_slider, self.potential_dropdown]),
                self.mode_buttons,
                self.fig,
                self.readout,
                ipywidgets.HBox([self.learn_button, self.learner_dropdown]),
                self.learning_fig,
                self.status,
            ]
        )
        self.learn_button.on_click(self._learn_clicked)
        self._observe(
            self.gamma_slider, self.scale_slider, self.potential_dropdown, self.mode_buttons
        )

    def state(self) -> ShapingLabState:
        """EPIC, STARC, regret and whether the optimal policy is unchanged, as shown."""
        return self._shown.state

    def shaped_reward(self) -> jax.Array:
        """The shaped reward ``[S, A, S']`` for the current settings, as shown."""
        return self._shown.shaped

    def learn(self) -> learning.LearningComparison:
        """Train learners on the original and the current shaped reward; draw their curves.

        Runs :func:`rewardviz.learning.compare_rewards` with the lab's γ, the selected
        learner, ``n_learn_seeds`` seeds and ``learn_steps`` steps, both rewards scored on
        the original one, and redraws :attr:`learning_fig` in place. The figure keeps the
        settings it was computed for in its title until the next call.

        Shaping never changes the optimal policy but does change learning speed: from
        ``Q = 0`` a shaped learner acts like an unshaped one started at ``Q = Φ``
        (Wiewiora 2003), so the pessimistic "distance to goal" potential ``−d`` slows
        learning down, while a potential near ``V*`` speeds it up.
        """
        mdp = self._mdp.replace(gamma=self.gamma_slider.value)
        shaped_name = "shaped: " + _SHAPED_NAMES[self.mode_buttons.value]
        result = learning.compare_rewards(
            mdp,
            self._reward,
            {ORIGINAL_NAME: self._reward, shaped_name: self._shown.shaped},
            learner=self.learner_dropdown.value,
            n_seeds=self._n_learn_seeds,
            steps=self._learn_steps,
            seed=self._seed,
        )
        title = (
            f"{self.learner_dropdown.value}, {self._n_learn_seeds} seeds: "
            f"{self.mode_buttons.value}, Φ = {self.potential_dropdown.value}, "
            f"scale = {self.scale_slider.value:.2f}, γ = {self.gamma_slider.value:.2f}"
        )
        if len(self.learning_fig.data) == 0:
            # The first curves replace the placeholder's layout (its note, hidden axes).
            replace_figure(self.learning_fig, learning_curves(result, title=title))
        else:
            update_learning_curves(self.learning_fig, result, title=title)
        self.learning_result = result
        return result

    def _learning_placeholder(self) -> go.Figure:
        """What :attr:`learning_fig` shows before the first :meth:`learn`: a note, no axes.

        Empty axes would look like a plot that failed to draw.
        """
        figure = go.Figure()
        figure.add_annotation(
            text=(
                f"Press <b>learn</b> to train {self._n_learn_seeds} seeds × "
                f"{self._learn_steps} steps on the original and the shaped reward;"
                "<br>their learning curves, both scored on the original, appear here."
            ),
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
            showarrow=False,
            font={"size": 14},
        )
        figure.update_layout(
            xaxis={"visible": False},
            yaxis={"visible": False},
            height=140,
            margin={"l": 20, "r": 20, "t": 20, "b": 20},
        )
        return figure

    def _learn_clicked(self, _button=None) -> None:
        try:
            self.learn()
        except REPORTED_ERRORS as error:
            self._report(error)
            return
        self.status.value = ""

    def _compute(self) -> _Shown:
        """Everything the figure and the readout show for the current control settings."""
        # gamma is a pytree leaf of the MDP, so a new value reuses the compiled kernels.
        mdp = self._mdp.replace(gamma=self.gamma_slider.value)
        scale = self.scale_slider.value
        mode = self.mode_buttons.value
        shape = self._potential_shapes[self.potential_dropdown.value]
        if mode == "potential shaping":
            shaped = potential_shaping(mdp, self._reward, scale * shape)
        else:
            shaped = progress_bonus(mdp, self._reward, shape, scale)

        both = jnp.stack([self._reward, shaped])
        q = solvers.q_values(mdp, both)
        policies = solvers.greedy_policy(q)
        # Expected reward of the optimal action(s) in each state, [2, S].
        best_rewards = jnp.sum(policies * expected_reward(mdp, both), axis=-1)
        state = ShapingLabState(
            epic=float(reward_distances.epic(mdp, self._reward, shaped)),
            starc=float(reward_distances.starc(mdp, self._reward, shaped, canonical="val")),
            regret=float(reward_distances.regret(mdp, self._reward, shaped)),
            policy_unchanged=bool(np.array_equal(policies[0], policies[1])),
        )
        shaped_name = _SHAPED_NAMES[mode]
        return _Shown(
            shaped=shaped,
            state=state,
            original_values=q[0].max(axis=-1),
            shaped_values=q[1].max(axis=-1),
            original_policy=policies[0],
            shaped_policy=policies[1],
            original_reward=best_rewards[0],
            shaped_reward=best_rewards[1],
            # Two lines each, the formula whole on the first: a panel is narrow.
            titles=(
                "original R:<br>V* and optimal policy",
                f"shaped {shaped_name}:<br>V* and optimal policy",
                "original: expected reward<br>of the optimal action",
                "shaped: expected reward<br>of the optimal action",
            ),
            title=(
                f"{mode}, Φ = {self.potential_dropdown.value}, scale = {scale:.2f}, "
                f"γ = {self.gamma_slider.value:.2f}"
            ),
        )

    def _draw(self, shown: _Shown) -> None:
        update_shaping_comparison(self.fig, self._mdp, **shown.figure_arguments())
        self._show_numbers(shown)

    def _show_numbers(self, shown: _Shown) -> None:
        """Keep ``shown`` as the current result and write its numbers in the readout."""
        self._shown = shown
        state = shown.state
        verdict = (
            f'<span style="color: {POSITIVE_COLOUR}">yes</span>'
            if state.policy_unchanged
            else f'<span style="color: {NEGATIVE_COLOUR}">no</span>'
        )
        rows = [
            ("EPIC distance", f"{state.epic:.4f}"),
            ("STARC distance (VAL)", f"{state.starc:.4f}"),
            ("normalised regret", f"{state.regret:.4f}"),
            ("optimal actions unchanged in every state", verdict),
        ]
        cells = "".join(
            f'<tr><td style="padding-right: 1.5em">{name}</td><td>{value}</td></tr>'
            for name, value in rows
        )
        self.readout.value = f"<table>{cells}</table>"
