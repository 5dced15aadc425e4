"""Pictures of learned rewards: distances to the true reward against the amount of data, and maps.

Pure builders, like :mod:`rewardviz.plots.learning`: they are handed a
:class:`rewardviz.reward_learning.evaluate.LearnedRewardEvaluation` (whose means and
bootstrap intervals across seeds come from its ``summary()``) or rewards, and draw them.
Nothing here fits, solves or resamples. The one display transform is the per-state
summary of a reward on the reward maps (see :func:`learned_reward_maps`).

:func:`update_learned_reward_distances` and :func:`update_learned_reward_maps` redraw a
figure of their builder in place (the same traces), for
:class:`rewardviz.widgets.RewardLearningLab`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rewardviz.mdp import TabularMDP
from rewardviz.plots import _common, _grid, style
from rewardviz.reward_learning.evaluate import DISTANCES, LearnedRewardEvaluation

__all__ = [
    "learned_reward_distances",
    "learned_reward_maps",
    "update_learned_reward_distances",
    "update_learned_reward_maps",
]

#: Axis titles of the measures of a :class:`LearnedRewardEvaluation`.
DISTANCE_TITLES = {
    "epic": "EPIC distance",
    "dard": "DARD distance",
    "starc_val": "STARC distance (VAL, L2)",
    "starc_minimal": "STARC distance (minimal, L2)",
    "regret": "normalised regret",
}
#: Trace names of the two reward-map panels, by which the update finds them.
MAP_TRACES = ("true reward", "learned reward")


def learned_reward_distances(
    evaluation: LearnedRewardEvaluation,
    *,
    distances: Sequence[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Each distance of a learned reward to the true one against dataset size, with bands.

    One panel per distance: the mean over seeds at each dataset size (line with
    markers) and its percentile bootstrap interval across seeds (filled band), both
    from ``evaluation.summary()``. The size axis is logarithmic when the sizes span a
    factor of 10 or more.

    Args:
        evaluation: from :func:`rewardviz.reward_learning.evaluate_learned`.
        distances: which of ``"epic"``, ``"dard"``, ``"starc_val"``, ``"starc_minimal"``,
            ``"regret"`` to draw, in order (all by default).
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure``: per distance a band trace then a line trace;
        :func:`update_learned_reward_distances` redraws it.

    Example:
        >>> evaluation = rv.reward_learning.evaluate_learned(mdp, reward, fitted)
        >>> figure = rv.plots.learned_reward_distances(evaluation, distances=["epic", "regret"])
    """
    _checked_evaluation(evaluation)
    if distances is None:
        distances = DISTANCES
    if isinstance(distances, str) or len(distances) == 0:
        raise ValueError(
            f"distances must be a non-empty sequence of names from {list(DISTANCES)}, "
            f"got {distances!r}."
        )
    for name in distances:
        if name not in DISTANCES:
            raise ValueError(f"distances must be names from {list(DISTANCES)}, got {name!r}.")
    n_panels = len(distances)
    figure = make_subplots(
        rows=1,
        cols=n_panels,
        subplot_titles=[DISTANCE_TITLES[name] for name in distances],
        horizontal_spacing=min(0.08, 0.4 / n_panels),
    )
    for index, name in enumerate(distances):
        colour = _common.palette_colour(index)
        position = {"row": 1, "col": index + 1}
        figure.add_trace(_common.band_trace(name, colour, meta=name), **position)
        figure.add_trace(
            go.Scatter(
                mode="lines+markers",
                line={"color": colour, "width": 2.5},
                marker={"size": 6},
                showlegend=False,
                name=name,
                meta=name,
            ),
            **position,
        )
        figure.update_yaxes(rangemode="tozero", row=1, col=index + 1)
    figure.update_xaxes(title_text="dataset size")
    figure.update_layout(
        title=title,
        height=340,
        width=max(420, 260 * n_panels),
        margin={"l": 50, "r": 20, "t": 80 if title else 50, "b": 50},
    )
    _set_distances(figure, evaluation)
    return figure


def update_learned_reward_distances(
    figure: go.Figure, evaluation: LearnedRewardEvaluation, *, title: str | None = None
) -> go.Figure:
    """Redraw a figure of :func:`learned_reward_distances` with a new evaluation, in place.

    The figure keeps the distances it was built with; sizes, means and bands change, the
    trace objects stay.

    Returns:
        ``figure``, changed.
    """
    _checked_evaluation(evaluation)
    names = [trace.meta for trace in figure.data]
    if len(names) % 2 or any(name not in DISTANCES for name in names):
        raise ValueError(
            "figure was not made by rewardviz.plots.learned_reward_distances (its traces are "
            f"{[trace.name for trace in figure.data]}); build one with it first."
        )
    with _common.batch(figure):
        _set_distances(figure, evaluation)
        if title is not None:
            figure.layout.title.text = title
    return figure


def learned_reward_maps(
    mdp: TabularMDP,
    true_reward,
    learned_reward,
    *,
    true_policy=None,
    learned_policy=None,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    colorscale="RdBu",
) -> go.Figure:
    """The true and the learned reward on the grid, side by side, each normalised.

    Each panel shows, per state ``s'``, the mean reward of entering it,
    ``e(s') = Σ T(s'|s, a)·R(s, a, s') / Σ T(s'|s, a)`` over the non-terminal states
    ``s`` and all actions ``a`` (0 for a state nothing enters), normalised as
    ``(e − mean_s e) / max_s |e − mean_s e|``: rewards are learned only up to scale (and
    preferences between equally long segments cannot see a constant), so each map is
    centred and scaled to ``[−1, 1]`` before the two are compared on one diverging
    colour scale. The maps still show shaping: two rewards that define the same task
    can look different here, which is why :func:`rewardviz.reward_learning.evaluate_learned`
    compares canonicalised rewards. Optional policies are drawn as arrows, for example
    the optimal policy of each reward.

    Args:
        mdp: an MDP with ``grid_shape``.
        true_reward, learned_reward: one reward ``[S, A, S']`` each.
        true_policy, learned_policy: ``[S, A]`` action probabilities or integer ``[S]``.
        titles: the two panel titles.
        title: figure title.
        colorscale: a diverging plotly colour scale, centred at 0.

    Returns:
        A ``plotly.graph_objects.Figure``; :func:`update_learned_reward_maps` redraws it.

    Example:
        >>> learned = fitted.rewards[0, -1]
        >>> policy = rv.solve.optimal_policy(mdp, learned)
        >>> figure = rv.plots.learned_reward_maps(mdp, reward, learned, learned_policy=policy)
    """
    _grid.require_grid(mdp)
    panels = _map_panels(mdp, true_reward, learned_reward, true_policy, learned_policy)
    titles = _map_titles(titles)
    figure = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.08)
    rows, cols = mdp.grid_shape
    height = max(260, int(420 * rows / cols) + 110)
    margin = {"l": 20, "r": 20, "t": 80 if title else 50, "b": 20}
    cell_size = _grid.cell_pixels(mdp, height=height, margin=margin, panels=(1, 2))
    for index, data in enumerate(panels):
        _grid.add_grid_panel(
            figure,
            mdp,
            data.z[0],
            data.hover[0],
            data,
            row=1,
            col=index + 1,
            heatmap_name=MAP_TRACES[index],
            coloraxis="coloraxis",
            cell_size=cell_size,
        )
    _grid.style_grid_axes(figure, mdp, 2)
    figure.update_layout(
        title=title,
        coloraxis={
            "colorscale": colorscale,
            "cmin": -1.0,
            "cmax": 1.0,
            "colorbar": {"thickness": 12, "title": {"text": "normalised"}},
        },
        plot_bgcolor=style.NOT_A_STATE_COLOUR,
        height=height,
        margin=margin,
    )
    return figure


def update_learned_reward_maps(
    figure: go.Figure,
    mdp: TabularMDP,
    true_reward,
    learned_reward,
    *,
    true_policy=None,
    learned_policy=None,
    titles: Sequence[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Redraw a figure of :func:`learned_reward_maps` in place (arguments as there).

    A policy left out hides that panel's arrows. ``titles`` replaces the panel titles.

    Returns:
        ``figure``, changed.
    """
    _grid.require_grid(mdp)
    panels = _map_panels(mdp, true_reward, learned_reward, true_policy, learned_policy)
    heatmaps = [_trace(figure, name) for name in MAP_TRACES]
    slots = _grid.arrow_slots(mdp)
    with _common.batch(figure):
        for heatmap, data in zip(heatmaps, panels, strict=True):
            heatmap.z = _grid.heatmap_cells(data.z[0])
            heatmap.text = data.hover[0]
            shaft, head = _panel_arrows(figure, heatmap.xaxis)
            _grid.set_arrows(shaft, head, slots, data)
        if titles is not None:
            # The first two annotations are the panel titles make_subplots wrote.
            for annotation, text in zip(
                figure.layout.annotations[:2], _map_titles(titles), strict=True
            ):
                annotation.text = text
        if title is not None:
            figure.layout.title.text = title
    return figure


# ---------------------------------------------------------------------------
# Pieces.


def _checked_evaluation(evaluation) -> None:
    if not isinstance(evaluation, LearnedRewardEvaluation):
        raise TypeError(
            "evaluation must be a LearnedRewardEvaluation (from "
            f"rv.reward_learning.evaluate_learned), got {type(evaluation).__name__}."
        )


def _set_distances(figure: go.Figure, evaluation: LearnedRewardEvaluation) -> None:
    summary = evaluation.summary()
    sizes = np.asarray(evaluation.sizes, dtype=float)
    for index in range(0, len(figure.data), 2):
        band, line = figure.data[index], figure.data[index + 1]
        rows = summary[summary["distance"] == line.meta]
        mean, low, high = (rows[column].to_numpy() for column in ("mean", "low", "high"))
        _common.set_band(band, sizes, low, high)
        line.x, line.y = sizes, mean
        line.hovertemplate = (
            f"{line.meta}<br>size %{{x}}: mean %{{y:.4g}}<br>"
            f"{evaluation.confidence:.0%} interval [%{{customdata[0]:.4g}}, "
            "%{customdata[1]:.4g}]<extra></extra>"
        )
        line.customdata = np.stack([low, high], axis=-1)
    wide = sizes.min() > 0 and sizes.max() / sizes.min() >= 10
    figure.update_xaxes(type="log" if wide else "linear")


def _reward_summary(mdp: TabularMDP, reward) -> np.ndarray:
    """``[S]`` the normalised mean reward of entering each state (see :func:`learned_reward_maps`)."""
    reward = _common.numbers("reward", reward)
    expected_shape = (mdp.n_states, mdp.n_actions, mdp.n_states)
    if reward.shape != expected_shape:
        raise ValueError(
            f"a reward map takes one reward [S, A, S'] = {expected_shape}, got "
            f"{tuple(reward.shape)}; pick one reward of a batch, e.g. rewards[0, -1]."
        )
    weights = np.asarray(mdp.transitions, dtype=float) * ~np.asarray(mdp.terminal)[:, None, None]
    mass = weights.sum(axis=(0, 1))
    entering = np.where(
        mass > 0, (weights * reward).sum(axis=(0, 1)) / np.where(mass > 0, mass, 1), 0.0
    )
    centred = entering - entering.mean()
    scale = np.abs(centred).max()
    return centred / scale if scale > 0 else centred


def _map_panels(mdp, true_reward, learned_reward, true_policy, learned_policy):
    return [
        _grid.grid_data(
            mdp,
            _checked_summary(mdp, name, reward),
            policy,
            quantity="normalised reward",
            policy_name=policy_name,
        )
        for name, reward, policy, policy_name in (
            ("true_reward", true_reward, true_policy, "true_policy"),
            ("learned_reward", learned_reward, learned_policy, "learned_policy"),
        )
    ]


def _checked_summary(mdp, name, reward) -> np.ndarray:
    try:
        summary = _reward_summary(mdp, reward)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from error
    if not np.isfinite(summary).all():
        raise ValueError(f"{name} has NaN or infinite values.")
    return summary


def _map_titles(titles) -> list[str]:
    if titles is None:
        return ["true reward", "learned reward"]
    titles = [str(text) for text in titles]
    if len(titles) != 2:
        raise ValueError(f"titles must have 2 entries (true, learned), got {len(titles)}.")
    return titles


def _trace(figure: go.Figure, name: str):
    for trace in figure.data:
        if trace.name == name:
            return trace
    raise ValueError(
        f"figure has no {name!r} trace; build it with rewardviz.plots.learned_reward_maps."
    )


def _panel_arrows(figure: go.Figure, xaxis: str):
    """The policy shaft and head traces of the panel on ``xaxis``."""
    found = {
        trace.name: trace
        for trace in figure.data
        if trace.xaxis == xaxis and trace.name in (_grid.SHAFT_TRACE, _grid.HEAD_TRACE)
    }
    return found[_grid.SHAFT_TRACE], found[_grid.HEAD_TRACE]
