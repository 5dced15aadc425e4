"""A notebook explorer of a reward decomposition: move the weights, see what drives the reward.

:class:`ComponentExplorer` owns a slider per component weight, an episode slider, a
discount slider and three plotly ``FigureWidget``\\ s. On every change it asks
:mod:`rewardviz.decompose` for the reweighted log's per-step contributions, the
components' shares of the return and the episodes' returns and ranks under the old and
the new weights, and redraws the figures in place with the ``update_...`` functions of
:mod:`rewardviz.plots.decompose`. It does no arithmetic of its own, and moving a control
changes only array values, so the jitted kernels are never recompiled.
"""

from __future__ import annotations

import dataclasses

import ipywidgets
import numpy as np

from rewardviz import decompose as decomposition
from rewardviz.decompose import RewardLog, Reweighting
from rewardviz.plots.decompose import (
    ranking_change,
    return_shares,
    stacked_contributions,
    update_ranking_change,
    update_return_shares,
    update_stacked_contributions,
)
from rewardviz.widgets._common import (
    Explorer,
    figure_widget,
    gamma_slider,
    require_finite,
    weight_sliders,
)

__all__ = ["ComponentExplorer", "ComponentExplorerState"]

#: Figure width (pixels) of the shares and ranking plots, drawn side by side.
SIDE_BY_SIDE_WIDTH = 480


@dataclasses.dataclass(frozen=True)
class ComponentExplorerState:
    """What a :class:`ComponentExplorer` shows for its current settings.

    Attributes:
        weights: ``{component name: weight}`` set on the sliders.
        gamma: the discount.
        episode: the episode whose steps are drawn.
        rank_correlation: Spearman's ρ between the episodes' ranks under the log's
            weights and under ``weights`` (:attr:`rewardviz.decompose.Reweighting.rank_correlation`).
    """

    weights: dict[str, float]
    gamma: float
    episode: int
    rank_correlation: float


@dataclasses.dataclass(frozen=True)
class _Shown:
    """The arrays the figures draw for one setting of the controls."""

    contributions: np.ndarray  # [T, K] of the selected episode, under the slider weights
    total: np.ndarray  # [T]
    shares: np.ndarray  # [E, K] absolute shares of the return
    reweighting: Reweighting
    state: ComponentExplorerState


class ComponentExplorer(Explorer):
    """Reweight the terms of a logged reward and see each step, the shares and the ranking change.

    Three figures, all under the weights on the sliders:

    - :attr:`fig`: the selected episode's per-step contributions ``w_k·r_k,t``, stacked,
      with the total reward as a line. The log's padded ``T`` steps are passed (zeros
      after the episode's end, so every episode has as many bars) and the x axis is cut
      at the episode's length.
    - ``figs["shares"]``: each component's absolute share ``|G_k| / Σ_j |G_j|`` of the
      discounted return, mean and 2.5–97.5 percentile across episodes. Absolute shares
      lie in ``[0, 1]``; signed ones blow up for returns near 0.
    - ``figs["ranking"]``: each episode's rank under the log's weights (left) and the
      slider weights (right), from :func:`rewardviz.decompose.reweight`.

    A change that cannot be applied is reported in :attr:`status` and leaves the figures
    as they were.

    Args:
        log: the :class:`rewardviz.RewardLog` to explore; its weights are the "old" ones.
        gamma: starting discount in ``[0, 1]``.
        episode: starting episode, ``0 <= episode < log.n_episodes``.

    Attributes:
        fig: the stacked contributions ``plotly.graph_objects.FigureWidget``.
        figs: ``{"contributions": fig, "shares": ..., "ranking": ...}``, every figure.
        weight_sliders: ``{component name: ipywidgets.FloatSlider}``, each starting at the
            log's weight ``w`` and ranging over ``[-2|w| - 1, 2|w| + 1]``.
        episode_slider, gamma_slider: the other controls.
        status: an ``ipywidgets.HTML`` line for error messages.
        widget: the ``ipywidgets.VBox`` holding all of them.

    Example:
        >>> log = rv.RewardLog.from_episodes(
        ...     {"forward": [[1.0, 2.0, 0.5], [0.2, 0.1]], "ctrl": [[-0.2, -0.4, 0.0], [0.0, -0.1]]})
        >>> explorer = rv.widgets.ComponentExplorer(log, gamma=0.99)
        >>> explorer  # in a notebook cell: shows the controls and the figures
        >>> explorer.weight_sliders["ctrl"].value = 3.0
        >>> explorer.state()  # ComponentExplorerState(weights={'forward': 1.0, 'ctrl': 3.0}, ...)
    """

    def __init__(self, log: RewardLog, *, gamma: float = 1.0, episode: int = 0) -> None:
        super().__init__()
        if not isinstance(log, RewardLog):
            raise TypeError(f"log must be a rewardviz.RewardLog, got {type(log).__name__}.")
        if isinstance(episode, bool) or not isinstance(episode, int | np.integer):
            raise TypeError(f"episode must be an integer, got {episode!r}.")
        if not 0 <= episode < log.n_episodes:
            raise ValueError(
                f"episode must lie in [0, {log.n_episodes - 1}] (the log has "
                f"{log.n_episodes} episodes), got {episode}."
            )
        self._log = log
        self._lengths = np.asarray(log.lengths)

        self.gamma_slider = gamma_slider(gamma)
        self.weight_sliders = weight_sliders(log.names, log.weights)
        self.episode_slider = ipywidgets.IntSlider(
            value=int(episode),
            min=0,
            max=log.n_episodes - 1,
            description="episode",
            style={"description_width": "initial"},
        )

        # Compute before building anything on screen: bad settings raise here.
        shown = self._compute()
        names = list(log.names)
        self.fig = figure_widget(stacked_contributions(shown.contributions, names))
        shares = figure_widget(return_shares(shown.shares, names))
        ranking = figure_widget(
            ranking_change(shown.reweighting.old_returns, shown.reweighting.new_returns)
        )
        for figure in (shares, ranking):
            figure.layout.width = SIDE_BY_SIDE_WIDTH
        self.figs = {"contributions": self.fig, "shares": shares, "ranking": ranking}
        self._draw(shown)

        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox(
                    [
                        ipywidgets.VBox(list(self.weight_sliders.values())),
                        ipywidgets.VBox([self.episode_slider, self.gamma_slider]),
                    ]
                ),
                self.fig,
                ipywidgets.HBox([shares, ranking]),
                self.status,
            ]
        )
        self._observe(*self.weight_sliders.values(), self.episode_slider, self.gamma_slider)

    def state(self) -> ComponentExplorerState:
        """The weights, discount, episode and rank correlation shown now."""
        return self._shown.state

    def _weights(self) -> np.ndarray:
        return np.array([slider.value for slider in self.weight_sliders.values()])

    def _compute(self) -> _Shown:
        """The arrays every figure draws for the current control settings."""
        weights, gamma = self._weights(), self.gamma_slider.value
        episode = self.episode_slider.value
        # with_weights only swaps a leaf of the pytree: the kernels see new values only.
        reweighted = self._log.with_weights(weights)
        _, absolute_shares = decomposition.return_shares(reweighted, gamma)
        reweighting = decomposition.reweight(self._log, weights, gamma)
        shown = {
            "per-step contributions [step, component]": np.asarray(
                reweighted.contributions[episode]
            ),
            "per-step total": np.asarray(reweighted.total[episode]),
            "return shares": np.asarray(absolute_shares),
            "returns under the log's weights": np.asarray(reweighting.old_returns),
            "returns under the new weights": np.asarray(reweighting.new_returns),
        }
        # Checked here, before anything is drawn: finite weights can still overflow
        # (weights near 3e38 make float32 sums infinite), and a figure half redrawn with
        # the new values and half with the old would show a state that never existed.
        for what, values in shown.items():
            require_finite(
                f"the {what}", values, "use smaller weights (or rescale the log's rewards)"
            )
        return _Shown(
            contributions=shown["per-step contributions [step, component]"],
            total=shown["per-step total"],
            shares=shown["return shares"],
            reweighting=reweighting,
            state=ComponentExplorerState(
                weights=dict(zip(self._log.names, weights.tolist(), strict=True)),
                gamma=gamma,
                episode=episode,
                rank_correlation=float(reweighting.rank_correlation),
            ),
        )

    def _draw(self, shown: _Shown) -> None:
        """Redraw every figure in place with ``shown`` and keep it for :meth:`state`."""
        episode, gamma = shown.state.episode, shown.state.gamma
        length = int(self._lengths[episode])
        episode_return = float(shown.reweighting.new_returns[episode])
        with self.fig.batch_update():
            update_stacked_contributions(
                self.fig,
                shown.contributions,
                shown.total,
                title=(
                    f"Episode {episode} ({length} steps): return {episode_return:.4g} "
                    f"at γ = {gamma:.2f}"
                ),
            )
            self.fig.layout.xaxis.range = [-0.5, length - 0.5]
        update_return_shares(
            self.figs["shares"],
            shown.shares,
            title=f"Absolute share of the return (γ = {gamma:.2f})",
        )
        update_ranking_change(
            self.figs["ranking"],
            shown.reweighting.old_returns,
            shown.reweighting.new_returns,
            title=f"Episode ranking: Spearman ρ = {float(shown.reweighting.rank_correlation):.3f}",
        )
        self._shown = shown
