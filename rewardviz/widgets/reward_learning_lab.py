"""A notebook lab for learning a reward from preferences and judging what was learned.

:class:`RewardLearningLab` owns the controls (labelling model, fitting model, label noise
β, flip rate, segment length, dataset size) and two plotly ``FigureWidget``\\ s. On every
change it labels a fixed set of segment pairs with
:func:`rewardviz.reward_learning.preferences.label_preferences`, fits rewards with
:func:`rewardviz.reward_learning.fit.fit_preferences` (every dataset size of the size
slider in one call), measures them with
:func:`rewardviz.reward_learning.evaluate.evaluate_learned`, and redraws the true and the
learned reward with the policy the learned one induces
(:func:`rewardviz.plots.reward_learning.update_learned_reward_maps`) and the distances
against dataset size (:func:`rewardviz.plots.reward_learning.update_learned_reward_distances`).
The widget does no arithmetic of its own beyond masking steps past the chosen segment
length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import ipywidgets
import jax
import numpy as np

from rewardviz import _checks
from rewardviz import solve as solvers
from rewardviz.mdp import TabularMDP
from rewardviz.plots.reward_learning import (
    learned_reward_distances,
    learned_reward_maps,
    update_learned_reward_distances,
    update_learned_reward_maps,
)
from rewardviz.policies import uniform
from rewardviz.reward_learning import _common
from rewardviz.reward_learning.evaluate import LearnedRewardEvaluation, evaluate_learned
from rewardviz.reward_learning.fit import fit_preferences
from rewardviz.reward_learning.preferences import MODELS, label_preferences, sample_segments
from rewardviz.widgets._common import Explorer, figure_widget, one_grid_reward

__all__ = ["RewardLearningLab", "RewardLearningLabState"]

#: Dataset sizes (pairs of segments) the size slider offers by default.
DEFAULT_SIZES = (10, 25, 50, 100, 200, 400)
#: Largest segment length the length slider offers by default.
MAX_SEGMENT_LENGTH = 8
#: Upper end of the β slider (the reward's own scale is the unit of β).
BETA_LIMIT = 2.0
#: The distances the distances figure shows.
SHOWN_DISTANCES = ("epic", "starc_val", "regret")

_MODEL_LABELS = {"partial_return": "partial return", "regret": "regret"}


@dataclasses.dataclass(frozen=True)
class RewardLearningLabState:
    """The settings and numbers a :class:`RewardLearningLab` shows.

    Attributes:
        labelling_model, fitting_model: the preference models that made the labels and
            that were fitted (``"partial_return"`` or ``"regret"``).
        beta: the labels' temperature β (0: deterministic labels).
        flip_rate: the share of labels flipped at random.
        segment_length: steps per segment.
        size: pairs of segments the shown reward was fitted on.
        epic: EPIC distance from the true reward to the learned one (mean over seeds).
        starc: STARC distance (VAL, L2), mean over seeds.
        regret: normalised regret of the learned reward's optimal policy under the true
            reward, mean over seeds.
        same_policy: whether the learned reward (first seed) has the same optimal actions
            as the true one in every non-terminal state.
    """

    labelling_model: str
    fitting_model: str
    beta: float
    flip_rate: float
    segment_length: int
    size: int
    epic: float
    starc: float
    regret: float
    same_policy: bool


@dataclasses.dataclass(frozen=True)
class _Fit:
    """Rewards fitted for one setting of the labelling controls, every size at once."""

    fitted: _common.FittedRewards
    evaluation: LearnedRewardEvaluation
    policies: jax.Array  # [n_sizes, S, A] optimal policies of the first seed's rewards


@dataclasses.dataclass(frozen=True)
class _Shown:
    state: RewardLearningLabState
    fit: _Fit
    learned: jax.Array  # [S, A, S'] the first seed's reward at the chosen size
    policy: jax.Array  # [S, A] its optimal policy
    title: str


class RewardLearningLab(Explorer):
    """Learn a gridworld reward from preferences and see how far it is from the true one.

    Segment pairs are sampled once (``max(sizes)`` pairs of ``max_segment_length`` steps
    from ``policy``, per seed) and labelled by the true reward under the labelling model:
    ``P(σ0 ≻ σ1) = sigmoid((G(σ0) − G(σ1))/β)`` with ``G`` the partial return
    (Christiano et al. 2017) or minus the regret (Knox et al. 2022), deterministic at
    ``β = 0``, then each label flipped with the flip rate. A shorter segment length masks
    the steps past it; a dataset size uses the first pairs. Rewards of ``form`` are
    fitted by maximum likelihood under the fitting model with the labels' β (β = 1 when
    the labels are deterministic, β = 0, since the fitted model needs β > 0), for every
    size at once; the
    size slider picks which one is drawn. Fitting regret-labelled data with the
    partial-return model (or the reverse) shows what a mismatched model recovers.
    EPIC is not invariant to S'-redistribution: a ``"state_action"`` fit of a gridworld
    reward paid on entering a state can stay far from it in EPIC while STARC and the
    regret are small.

    Shown: the true and the learned reward on the grid (each centred and scaled, see
    :func:`rewardviz.plots.learned_reward_maps`) with each one's optimal policy; EPIC,
    STARC and regret against dataset size with bands across seeds; a readout of the
    numbers at the chosen size. Moving a control recompiles nothing: the segments have
    fixed shapes, β and the flip rate are traced values and the sizes a fixed set.
    Failures (for example a learned reward whose values diverge with ``γ = 1``) are
    shown in :attr:`status` and leave the figures and :meth:`state` as they were.

    Args:
        mdp: an MDP with ``grid_shape``, e.g. from :func:`rewardviz.envs.gridworld`.
        true_reward: one reward ``[S, A, S']``.
        labelling_model, fitting_model: ``"partial_return"`` or ``"regret"``.
        beta: starting β, ``>= 0``; 1 by default, soft labels that carry how much one
            segment is better. At ``β = 0`` the labels say only which one, and the fit
            (with β = 1) can order every pair right yet land far from the true reward.
        flip_rate: starting flip rate, in ``[0, 0.5]``.
        segment_length: starting segment length, ``1..max_segment_length``.
        size: starting dataset size, one of ``sizes`` (the largest by default).
        sizes: the dataset sizes offered (pairs of segments), increasing.
        max_segment_length: the longest segments offered.
        policy: the policy (``[S, A]``) or policies (``[P, S, A]``) that generate the
            segments; uniform by default.
        form: how learned rewards are parameterised (see
            :func:`rewardviz.reward_learning.fit_preferences`).
        n_seeds: datasets (and fits) per setting; the maps show the first.
        n_steps: optimiser steps per fit.
        seed: an integer or a ``jax.random`` key for the segments, labels and fits.

    Attributes:
        fig: the reward maps (``FigureWidget``): true and learned reward, optimal policies.
        distances_fig: EPIC, STARC and regret against dataset size (``FigureWidget``).
        labelling_buttons, fitting_buttons, beta_slider, flip_slider, length_slider,
            size_slider: the controls.
        readout: an ``ipywidgets.HTML`` table of the numbers at the chosen size.
        status: an ``ipywidgets.HTML`` line for error messages.
        widget: the ``ipywidgets.VBox`` holding all of them.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", ".#.G", "...L"], gamma=0.9)
        >>> lab = rv.widgets.RewardLearningLab(mdp, reward)
        >>> lab  # in a notebook cell: shows the controls, the figures and the readout
        >>> lab.labelling_buttons.value = "regret"
        >>> lab.state()  # RewardLearningLabState(..., epic=..., starc=..., regret=...)
    """

    FIGURES = ("fig", "distances_fig")

    def __init__(
        self,
        mdp: TabularMDP,
        true_reward,
        *,
        labelling_model: str = "partial_return",
        fitting_model: str = "partial_return",
        beta: float = 1.0,
        flip_rate: float = 0.0,
        segment_length: int = 3,
        size: int | None = None,
        sizes: Sequence[int] = DEFAULT_SIZES,
        max_segment_length: int = MAX_SEGMENT_LENGTH,
        policy=None,
        form: str = "state_action",
        n_seeds: int = 1,
        n_steps: int = 300,
        seed: int | jax.Array = 0,
    ) -> None:
        super().__init__()
        true_reward = one_grid_reward("RewardLearningLab", mdp, true_reward)
        labelling_model = _checks.one_of("labelling_model", labelling_model, MODELS)
        fitting_model = _checks.one_of("fitting_model", fitting_model, MODELS)
        beta = _checks.in_range("beta", beta, 0.0, np.inf, hint="β = 0: deterministic labels.")
        flip_rate = _checks.in_range("flip_rate", flip_rate, 0.0, 0.5)
        max_segment_length = _checks.positive_int(
            "max_segment_length", max_segment_length, "steps per segment"
        )
        segment_length = _checks.positive_int("segment_length", segment_length, "steps")
        if segment_length > max_segment_length:
            raise ValueError(
                f"segment_length must be at most max_segment_length = {max_segment_length}, "
                f"got {segment_length}."
            )
        sizes = tuple(_checks.positive_int("sizes", value, "pairs") for value in sizes)
        if not sizes or list(sizes) != sorted(set(sizes)):
            raise ValueError(f"sizes must be distinct, increasing pair counts, got {sizes}.")
        size = sizes[-1] if size is None else size
        if size not in sizes:
            raise ValueError(f"size must be one of sizes {list(sizes)}, got {size!r}.")
        self._form = _checks.one_of("form", form, _common.FORMS)
        self._n_steps = _checks.positive_int("n_steps", n_steps, "optimiser steps")
        n_seeds = _checks.positive_int("n_seeds", n_seeds, "datasets per setting")

        self._mdp = mdp
        self._true_reward = true_reward
        self._sizes = sizes
        segment_key, self._label_key, self._fit_key = jax.random.split(_checks.key("seed", seed), 3)
        # The largest dataset, sampled once: every setting masks or slices it, so shapes
        # (and compiled kernels) never change.
        states, actions, mask = sample_segments(
            mdp,
            uniform(mdp) if policy is None else policy,
            n_pairs=sizes[-1],
            segment_length=max_segment_length,
            seed=segment_key,
            n_seeds=n_seeds,
        )
        self._segments = (states, actions, np.asarray(mask))
        self._true_policy = solvers.optimal_policy(mdp, true_reward)
        self._last_fit: tuple[tuple, _Fit] | None = None

        style = {"description_width": "initial"}
        self.labelling_buttons = ipywidgets.ToggleButtons(
            options=[(_MODEL_LABELS[name], name) for name in MODELS],
            value=labelling_model,
            description="labels from",
            style=style,
        )
        self.fitting_buttons = ipywidgets.ToggleButtons(
            options=[(_MODEL_LABELS[name], name) for name in MODELS],
            value=fitting_model,
            description="fitted as",
            style=style,
        )
        self.beta_slider = ipywidgets.FloatSlider(
            value=beta,
            min=0.0,
            max=max(BETA_LIMIT, beta),
            step=0.01,
            description="β (label noise)",
            readout_format=".2f",
            style=style,
        )
        self.flip_slider = ipywidgets.FloatSlider(
            value=flip_rate,
            min=0.0,
            max=0.5,
            step=0.01,
            description="flip rate",
            readout_format=".2f",
            style=style,
        )
        self.length_slider = ipywidgets.IntSlider(
            value=segment_length,
            min=1,
            max=max_segment_length,
            description="segment length",
            style=style,
        )
        self.size_slider = ipywidgets.SelectionSlider(
            options=list(sizes), value=size, description="dataset size", style=style
        )
        self.readout = ipywidgets.HTML(value="")

        # Compute before building anything on screen: bad settings raise here.
        shown = self._compute()
        self.fig = figure_widget(
            learned_reward_maps(mdp, true_reward, shown.learned, **self._map_arguments(shown))
        )
        self.distances_fig = figure_widget(
            learned_reward_distances(
                shown.fit.evaluation, distances=SHOWN_DISTANCES, title=shown.title
            )
        )
        self._show_numbers(shown)
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.labelling_buttons, self.fitting_buttons]),
                ipywidgets.HBox([self.beta_slider, self.flip_slider]),
                ipywidgets.HBox([self.length_slider, self.size_slider]),
                self.fig,
                self.readout,
                self.distances_fig,
                self.status,
            ]
        )
        self._observe(
            self.labelling_buttons,
            self.fitting_buttons,
            self.beta_slider,
            self.flip_slider,
            self.length_slider,
            self.size_slider,
        )

    def state(self) -> RewardLearningLabState:
        """The settings, distances and regret shown now."""
        return self._shown.state

    def learned_reward(self) -> jax.Array:
        """The learned reward ``[S, A, S']`` drawn now (first seed, chosen size)."""
        return self._shown.learned

    def evaluation(self) -> LearnedRewardEvaluation:
        """The distances of every seed and size for the current labelling and fitting settings."""
        return self._shown.fit.evaluation

    def _compute(self) -> _Shown:
        settings = (
            self.labelling_buttons.value,
            self.fitting_buttons.value,
            float(self.beta_slider.value),
            float(self.flip_slider.value),
            int(self.length_slider.value),
        )
        # The size slider only picks a column: every size was fitted with the others.
        if self._last_fit is None or self._last_fit[0] != settings:
            self._last_fit = (settings, self._fit(*settings))
        fit = self._last_fit[1]
        column = self._sizes.index(self.size_slider.value)
        evaluation = fit.evaluation
        labelling, fitting, beta, flip_rate, length = settings
        state = RewardLearningLabState(
            labelling_model=labelling,
            fitting_model=fitting,
            beta=beta,
            flip_rate=flip_rate,
            segment_length=length,
            size=self.size_slider.value,
            epic=float(evaluation.epic[:, column].mean()),
            starc=float(evaluation.starc_val[:, column].mean()),
            regret=float(evaluation.regret[:, column].mean()),
            same_policy=bool(
                np.array_equal(
                    np.asarray(fit.policies[column])[~np.asarray(self._mdp.terminal)],
                    np.asarray(self._true_policy)[~np.asarray(self._mdp.terminal)],
                )
            ),
        )
        title = (
            f"labels: {_MODEL_LABELS[labelling]}, β = {beta:.2f}, flip {flip_rate:.2f}, "
            f"{length}-step segments; fitted as {_MODEL_LABELS[fitting]}"
        )
        return _Shown(
            state=state,
            fit=fit,
            learned=fit.fitted.rewards[0, column],
            policy=fit.policies[column],
            title=title,
        )

    def _fit(self, labelling, fitting, beta, flip_rate, length) -> _Fit:
        """Label the segments, fit every size, evaluate: what one labelling setting shows."""
        states, actions, mask = self._segments
        # Steps past the chosen length count for nothing, as steps after a terminal state.
        mask = mask & (np.arange(mask.shape[-1]) < length)
        preferences = label_preferences(
            self._mdp,
            self._true_reward,
            states,
            actions,
            mask,
            model=labelling,
            beta=beta,
            flip_rate=flip_rate,
            seed=self._label_key,
        )
        fitted = fit_preferences(
            self._mdp,
            preferences,
            model=fitting,
            form=self._form,
            # The labeller's β: a traced value, so moving the slider compiles nothing.
            beta=beta if beta > 0 else 1.0,
            sizes=self._sizes,
            n_steps=self._n_steps,
            seed=self._fit_key,
        )
        evaluation = evaluate_learned(self._mdp, self._true_reward, fitted)
        policies = solvers.optimal_policy(self._mdp, fitted.rewards[0])
        return _Fit(fitted=fitted, evaluation=evaluation, policies=policies)

    def _map_arguments(self, shown: _Shown) -> dict:
        return {
            "true_policy": self._true_policy,
            "learned_policy": shown.policy,
            "titles": [
                "true reward, optimal policy",
                f"learned reward ({shown.state.size} pairs), its optimal policy",
            ],
        }

    def _draw(self, shown: _Shown) -> None:
        update_learned_reward_maps(
            self.fig,
            self._mdp,
            self._true_reward,
            shown.learned,
            **self._map_arguments(shown),
        )
        update_learned_reward_distances(self.distances_fig, shown.fit.evaluation, title=shown.title)
        self._show_numbers(shown)

    def _show_numbers(self, shown: _Shown) -> None:
        """Keep ``shown`` as the current result and write its numbers in the readout."""
        self._shown = shown
        state = shown.state
        rows = [
            ("EPIC distance", f"{state.epic:.4f}"),
            ("STARC distance (VAL)", f"{state.starc:.4f}"),
            ("normalised regret", f"{state.regret:.4f}"),
            ("same optimal actions as the true reward", "yes" if state.same_policy else "no"),
        ]
        cells = "".join(
            f'<tr><td style="padding-right: 1.5em">{name}</td><td>{value}</td></tr>'
            for name, value in rows
        )
        self.readout.value = f"<table>{cells}</table>"
