"""Pictures of what a reward does to learning: curves with bands, steps to threshold, visits.

Pure builders, like :mod:`rewardviz.plots.distances`: they are handed a
:class:`rewardviz.learning.LearningComparison` (from
:func:`rewardviz.learning.compare_rewards`), whose means and bootstrap intervals were
computed there, and draw them. Nothing here trains, evaluates or resamples. The one
display transform is ``log10(1 + visits)`` on the visitation maps, whose counts span
orders of magnitude.

:func:`update_learning_curves` redraws a figure of :func:`learning_curves` in place (the
same traces, as many as before), for :class:`rewardviz.widgets.ShapingLab`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rewardviz import _deprecation
from rewardviz.learning import LearningComparison
from rewardviz.mdp import TabularMDP
from rewardviz.plots import _common, _grid, style

__all__ = [
    "learning_curves",
    "learning_curves_matplotlib",
    "steps_to_threshold",
    "update_learning_curves",
    "visitation_heatmaps",
]

#: What a learning-curve figure can show, and its axis title.
QUANTITIES = {"return": "true return of the greedy policy", "regret": "normalised regret"}

# update_learning_curves finds traces by position; the optimal line by this name.
_OPTIMAL_TRACE = "optimal"


def learning_curves(
    result: LearningComparison, *, quantity: str = "return", title: str | None = None
) -> go.Figure:
    """Mean learning curve of each candidate over seeds, with its bootstrap band.

    One filled band (the ``result.confidence`` percentile bootstrap interval of the mean
    across seeds at each evaluation step) and one line (the mean) per candidate; for
    ``quantity="return"`` a dashed line marks the optimal true return.

    Args:
        result: from :func:`rewardviz.learning.compare_rewards`.
        quantity: ``"return"`` (true return of the greedy policy) or ``"regret"``
            (normalised regret, 0 = optimal).
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure``: per candidate a band trace then a line trace,
        then (for returns) the optimal line; :func:`update_learning_curves` redraws it.

    Example:
        >>> result = rv.learning.compare_rewards(mdp, reward, {"sparse": reward, "shaped": shaped})
        >>> figure = rv.plots.learning_curves(result)
    """
    result, quantity = _checked(result, quantity)
    figure = go.Figure()
    for index, name in enumerate(result.names):
        colour = _common.palette_colour(index)
        figure.add_trace(_common.band_trace(name, colour))
        figure.add_trace(
            go.Scatter(
                mode="lines",
                line={"color": colour, "width": 2.5},
                name=name,
            )
        )
    if quantity == "return":
        figure.add_trace(
            go.Scatter(
                mode="lines",
                line={"color": style.OPTIMAL_COLOUR, "width": 1.5, "dash": "dash"},
                name=_OPTIMAL_TRACE,
                hovertemplate="optimal return %{y:.4g}<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        xaxis={"title": {"text": "environment steps"}},
        yaxis={"title": {"text": QUANTITIES[quantity]}},
        height=380,
        margin={"t": 60 if title else 30},
        legend={"traceorder": "normal"},
    )
    _set_curves(figure, result, quantity)
    return figure


def update_learning_curves(
    figure: go.Figure,
    result: LearningComparison,
    *,
    quantity: str = "return",
    title: str | None = None,
) -> go.Figure:
    """Redraw a figure of :func:`learning_curves` with a new result, in place.

    The result must have as many candidates as the figure was built with; names,
    curves and bands change, the trace objects stay.

    Returns:
        ``figure``, changed.
    """
    result, quantity = _checked(result, quantity)
    expected = 2 * len(result.names) + (quantity == "return")
    if len(figure.data) != expected:
        raise ValueError(
            f"figure has {len(figure.data)} traces but a {quantity} curve of "
            f"{len(result.names)} candidates has {expected}; build a new figure with "
            "rewardviz.plots.learning_curves."
        )
    with _common.batch(figure):
        _set_curves(figure, result, quantity)
        if title is not None:
            figure.layout.title.text = title
    return figure


def learning_curves_matplotlib(result: LearningComparison, *, quantity: str = "return", ax=None):
    """The same curves and bands as :func:`learning_curves`, on a matplotlib ``ax``.

    Returns:
        The matplotlib ``Axes`` (a new figure's when ``ax`` is omitted).

    Example:
        >>> ax = rv.plots.learning_curves_matplotlib(result)
        >>> ax.figure.savefig("curves.png")  # doctest: +SKIP
    """
    result, quantity = _checked(result, quantity)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.5, 3.8))
    for index, (name, mean, low, high) in enumerate(_curve_arrays(result, quantity)):
        colour = _common.palette_colour(index)
        ax.fill_between(
            result.steps, low, high, color=colour, alpha=style.BAND_OPACITY, linewidth=0
        )
        ax.plot(result.steps, mean, color=colour, linewidth=2, label=name)
    if quantity == "return":
        ax.axhline(result.optimal_return, color=style.OPTIMAL_COLOUR, linestyle="--", linewidth=1)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(QUANTITIES[quantity])
    ax.legend(frameon=False)
    return ax


def steps_to_threshold(result: LearningComparison, *, title: str | None = None) -> go.Figure:
    """Steps until the greedy policy reaches the threshold, per candidate, with intervals.

    Bars are the mean over seeds of the first evaluation step at which the normalised
    return ``1 − regret`` reached ``result.threshold``, error bars its bootstrap interval;
    runs that never got there count as the full budget (a lower bound), and each bar is
    labelled with the share of seeds that did get there.

    Example:
        >>> figure = rv.plots.steps_to_threshold(result)
    """
    result, _ = _checked(result, "return")
    summary = result.summary
    mean = summary["steps_to_threshold"].to_numpy()
    n_seeds = result.returns.shape[1]
    reached = np.rint(summary["reached"].to_numpy() * n_seeds).astype(int)
    figure = go.Figure(
        go.Bar(
            x=list(result.names),
            y=mean,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": summary["steps_to_threshold_high"].to_numpy() - mean,
                "arrayminus": mean - summary["steps_to_threshold_low"].to_numpy(),
                "color": "#444444",
            },
            marker={"color": [_common.palette_colour(i) for i in range(len(result.names))]},
            text=[f"{count}/{n_seeds} reached" for count in reached],
            textposition="outside",
            cliponaxis=False,
            name="steps to threshold",
            hovertemplate="%{x}<br>mean %{y:.0f} steps<br>%{text}<extra></extra>",
        )
    )
    budget = float(result.steps[-1])
    figure.add_hline(
        y=budget,
        line={"color": "#999999", "dash": "dot"},
        annotation_text="budget",
        annotation_position="top left",
    )
    figure.update_layout(
        title=title,
        yaxis={
            "title": {"text": f"steps to {result.threshold:.0%} of optimal"},
            "range": [0, 1.15 * budget],
        },
        height=360,
        margin={"t": 60 if title else 30},
        showlegend=False,
    )
    return figure


def visitation_heatmaps(
    mdp: TabularMDP,
    result: LearningComparison,
    *,
    policy: bool = True,
    title: str | None = None,
    colorscale="Viridis",
) -> go.Figure:
    """Where each candidate's learners went: ``log10(1 + mean visits per run)`` on the grid.

    One panel per candidate, all on one colour scale so that panels compare. With
    ``policy`` the arrows show ``result.final_policy``: each arrow's length is the share
    of seeds whose final greedy policy takes that action. Panels are drawn with the grid
    machinery of :func:`rewardviz.plots.gridworld` (:mod:`rewardviz.plots._grid`).

    Args:
        mdp: the MDP the result was computed on, with ``grid_shape``.
        result: from :func:`rewardviz.learning.compare_rewards`.
        policy: draw the final greedy policies.
        title: figure title.
        colorscale: a sequential plotly colour scale.

    Example:
        >>> figure = rv.plots.visitation_heatmaps(mdp, result)
    """
    _grid.require_grid(mdp)
    result, _ = _checked(result, "return")
    if result.visits.shape[-1] != mdp.n_states:
        raise ValueError(
            f"result was computed on an MDP with {result.visits.shape[-1]} states, but mdp "
            f"has {mdp.n_states}; pass the MDP given to compare_rewards."
        )
    shown = np.log10(1.0 + result.visits.mean(axis=1))  # [R, S]
    n_panels = len(result.names)
    figure = make_subplots(
        rows=1,
        cols=n_panels,
        subplot_titles=list(result.names),
        horizontal_spacing=min(0.06, 0.3 / n_panels),
    )
    rows, cols = mdp.grid_shape
    height = max(260, int(min(300, 900 / n_panels) * rows / cols) + 110)
    margin = {"l": 20, "r": 20, "t": 70 if title else 50, "b": _grid.legend_margin(mdp)}
    cell_size = _grid.cell_pixels(mdp, height=height, margin=margin, panels=(1, n_panels))
    for panel, name in enumerate(result.names):
        # Terminal states are never acted in (0 visits): drawn in their own colours.
        data = _grid.grid_data(
            mdp,
            shown[panel],
            result.final_policy[panel] if policy else None,
            quantity="log10(1 + mean visits)",
            mark_terminal=True,
        )
        _grid.add_grid_panel(
            figure,
            mdp,
            data.z[0],
            data.hover[0],
            data,
            row=1,
            col=panel + 1,
            heatmap_name=f"visits {name}",
            coloraxis="coloraxis",
            arrows=policy,
            mark_terminal=True,
            cell_size=cell_size,
        )
    _grid.style_grid_axes(figure, mdp, n_panels)
    figure.update_layout(
        title=title,
        coloraxis={
            "colorscale": colorscale,
            "cmin": 0.0,
            "cmax": float(shown.max()) if shown.size else 1.0,
            "colorbar": {"thickness": 12, "title": {"text": "log10(1+visits)"}},
        },
        plot_bgcolor=style.NOT_A_STATE_COLOUR,
        height=height,
        margin=margin,
    )
    return figure


# ---------------------------------------------------------------------------
# Pieces.


def _checked(result, quantity: str) -> tuple[LearningComparison, str]:
    if not isinstance(result, LearningComparison):
        raise TypeError(
            "result must be a rewardviz.learning.LearningComparison (from "
            f"rv.learning.compare_rewards), got {type(result).__name__}."
        )
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {tuple(QUANTITIES)}, got {quantity!r}.")
    return result, quantity


def _curve_arrays(result: LearningComparison, quantity: str):
    """``(name, mean [E], low [E], high [E])`` per candidate, from ``result.curves``."""
    prefix = "return" if quantity == "return" else "regret"
    columns = [f"{prefix}_mean", f"{prefix}_low", f"{prefix}_high"]
    table = result.curves[columns].to_numpy().reshape(len(result.names), -1, 3)
    return [(name, *table[index].T) for index, name in enumerate(result.names)]


def _set_curves(figure: go.Figure, result: LearningComparison, quantity: str) -> None:
    steps = np.asarray(result.steps, dtype=float)
    for index, (name, mean, low, high) in enumerate(_curve_arrays(result, quantity)):
        band, line = figure.data[2 * index], figure.data[2 * index + 1]
        _common.set_band(band, steps, low, high)
        band.name = f"{name}{_common.BAND_SUFFIX}"
        line.x, line.y, line.name = steps, mean, name
        line.hovertemplate = f"{name}<br>step %{{x}}: %{{y:.4g}}<extra></extra>"
    if quantity == "return":
        optimal = figure.data[-1]
        optimal.x = [float(steps[0]), float(steps[-1])]
        optimal.y = [result.optimal_return, result.optimal_return]


# Names that moved to rewardviz.plots.style keep working for one release.
__getattr__ = _deprecation.module_getattr(
    __name__,
    {
        "BAND_OPACITY": "rewardviz.plots.style.BAND_OPACITY",
        "OPTIMAL_COLOUR": "rewardviz.plots.style.OPTIMAL_COLOUR",
    },
)
