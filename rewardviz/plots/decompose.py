"""Pictures of a reward decomposition: which weighted term drives the reward, and where.

Pure builders, like :mod:`rewardviz.plots.distances`: they are handed per-step
contributions, shares, correlations, returns and variance attributions computed by
:mod:`rewardviz.decompose` (or anything else of the same shapes) and draw them. Nothing
here discounts, sums over time or reweights. The statistics computed here are display
reductions of what a builder is handed: the mean and the 2.5–97.5 percentile interval of
shares across episodes, the ranks of episode returns (0 for the highest, ties broken by
episode index, as in :func:`rewardviz.decompose.reweight`), the binned mean of a
component over positions, and the sum quoted on a variance attribution.

The ``update_...`` functions redraw a figure of the matching builder in place: the same
traces, as many as before, so a ``go.FigureWidget`` on screen updates without being
replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from rewardviz import _checks, _deprecation
from rewardviz.plots import _common, _grid, style

__all__ = [
    "correlation_heatmap",
    "ranking_change",
    "return_distributions",
    "return_shares",
    "stacked_contributions",
    "state_heatmap",
    "update_ranking_change",
    "update_return_shares",
    "update_stacked_contributions",
    "variance_attribution",
]

#: A correlation may leave [-1, 1] by this much (rounding), not more.
CORRELATION_TOLERANCE = 1e-6
#: Up to this many episodes, every episode is drawn as a point over its box.
MAX_POINTS_SHOWN = 100
#: Component names on the share bars are cut to this many characters (the hover text
#: has them whole): room enough for most names in a figure 480 pixels wide.
BAR_LABEL_CHARACTERS = 24
#: A correlation heatmap of at most this many components writes each value in its cell.
MAX_WRITTEN_CELLS = 12

# Trace names: the update functions find the traces they change by these.
_TOTAL_TRACE = "total"
_SHARES_TRACE = "mean share"


# ---------------------------------------------------------------------------
# One episode, step by step.


def stacked_contributions(
    contributions, names: Sequence[str], *, total=None, title: str | None = None
) -> go.Figure:
    """What each weighted component adds at each step of one episode, with the total.

    One bar trace per component, stacked with ``barmode="relative"``: positive
    contributions pile up above zero and negative ones below, so a bar's extent is each
    term's share of the step's reward and the black line is the reward itself.

    Args:
        contributions: ``[T, K]`` weighted reward ``w_k·r_k,t`` of each component at
            each step, e.g. ``log.contributions[episode]``. Steps after the episode
            ended are drawn as given: :class:`rewardviz.widgets.ComponentExplorer`
            passes the log's padded ``T`` steps (zeros after the end) so that every
            episode has the same number of bars and the figure updates in place.
        names: ``K`` component names, e.g. ``log.names``.
        total: ``[T]`` reward at each step, e.g. ``log.total[episode]``; the sum of
            ``contributions`` over components by default.
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure`` with ``K`` bar traces (named by the components)
        and one line trace (``"total"``), which :func:`update_stacked_contributions`
        redraws.

    Example:
        >>> log = rv.RewardLog.from_episodes({"forward": [[1.0, 2.0, 0.5]], "ctrl": [[-0.2, -0.4, 0.0]]})
        >>> figure = rv.plots.stacked_contributions(log.contributions[0], log.names,
        ...                                         total=log.total[0])
    """
    contributions, total = _checked_steps(contributions, total)
    names = _common.checked_names(names, contributions.shape[1], "contributions")
    steps = np.arange(len(contributions))
    figure = go.Figure()
    for k, name in enumerate(names):
        figure.add_trace(
            go.Bar(
                x=steps,
                y=contributions[:, k],
                name=name,
                marker={
                    "color": _common.component_colour(k),
                    "pattern": {"shape": _common.component_pattern(k)},
                    "line": {"width": 0},
                },
                hovertemplate=f"{name}<br>step %{{x}}: %{{y:.4g}}<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=steps,
            y=total,
            name=_TOTAL_TRACE,
            mode="lines+markers",
            line={"color": style.TOTAL_COLOUR, "width": 2},
            marker={"size": 4, "color": style.TOTAL_COLOUR},
            hovertemplate="total<br>step %{x}: %{y:.4g}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        barmode="relative",
        bargap=0.1 if len(steps) < 200 else 0,
        xaxis={"title": {"text": "step"}},
        yaxis={"title": {"text": "reward"}, "zeroline": True, "zerolinecolor": "#444"},
        legend={"traceorder": "normal"},
        height=400,
        margin={"t": 60 if title else 30},
    )
    return figure


def update_stacked_contributions(
    figure: go.Figure, contributions, total=None, *, title: str | None = None
) -> go.Figure:
    """Redraw a figure made by :func:`stacked_contributions` in place.

    Args:
        figure: a ``go.Figure`` or ``go.FigureWidget`` built by
            :func:`stacked_contributions` for the same ``K`` components.
        contributions: ``[T, K]`` new contributions (``T`` may differ from before).
        total: ``[T]`` new total; the sum of ``contributions`` over components by default.
        title: a new title; None keeps the one drawn.

    Returns:
        ``figure``, changed: the same ``K + 1`` traces with new data.

    Example:
        >>> figure = go.FigureWidget(rv.plots.stacked_contributions(log.contributions[0], log.names))
        >>> reweighted = log.with_weights([1.0, 0.1])
        >>> rv.plots.update_stacked_contributions(figure, reweighted.contributions[0])
    """
    contributions, total = _checked_steps(contributions, total)
    bars = [trace for trace in figure.data if trace.type == "bar"]
    lines = [trace for trace in figure.data if trace.name == _TOTAL_TRACE]
    if len(lines) != 1 or not bars:
        raise ValueError(
            "figure was not built by rewardviz.plots.stacked_contributions; build it with that."
        )
    if len(bars) != contributions.shape[1]:
        raise ValueError(
            f"contributions has {contributions.shape[1]} components but the figure draws "
            f"{len(bars)}; pass contributions [T, {len(bars)}] for the same components."
        )
    steps = np.arange(len(contributions))
    with _common.batch(figure):
        for k, bar in enumerate(bars):
            bar.x, bar.y = steps, contributions[:, k]
        lines[0].x, lines[0].y = steps, total
        if title is not None:
            figure.layout.title.text = title
    return figure


def _checked_steps(contributions, total) -> tuple[np.ndarray, np.ndarray]:
    contributions = _checked_matrix("contributions", contributions, "[T, K] (steps, components)")
    if total is None:
        return contributions, contributions.sum(axis=1)
    total = _common.numbers("total", total)
    if total.shape != (len(contributions),):
        raise ValueError(
            f"total must have shape [T] = ({len(contributions)},), one reward per step of "
            f"contributions, got {total.shape}."
        )
    _checks.finite("total", total)
    return contributions, total


# ---------------------------------------------------------------------------
# Over episodes.


def return_shares(shares, names: Sequence[str], *, title: str | None = None) -> go.Figure:
    """Each component's share of the return: the mean across episodes, with an interval.

    The bar is the mean share across episodes; the error bar spans the 2.5th to the
    97.5th percentile across episodes (where 95% of the episodes lie), not a confidence
    interval of the mean. Bars are horizontal, one row per component with its name on
    the y axis (first component at the top), so names of any length stay level and
    readable in a narrow figure; the numbers are in the hover text, not written on the
    bars where the error bars would cross them.

    Args:
        shares: ``[E, K]`` share of each component in each episode's return, e.g. the
            signed or the absolute shares of :func:`rewardviz.decompose.return_shares`.
        names: ``K`` component names.
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure`` with one horizontal bar trace
        (``"mean share"``: ``x`` the mean shares, ``y`` the component positions), which
        :func:`update_return_shares` redraws.

    Example:
        >>> signed, absolute = rv.decompose.return_shares(log, gamma=0.99)
        >>> figure = rv.plots.return_shares(absolute, log.names)
    """
    shares = _checked_matrix("shares", shares, "[E, K] (episodes, components)")
    names = _common.checked_names(names, shares.shape[1], "shares")
    positions = list(range(len(names)))
    figure = go.Figure(
        go.Bar(
            y=positions,
            orientation="h",
            marker={"color": [_common.component_colour(k) for k in positions]},
            name=_SHARES_TRACE,
            # The text is for hovering only: written on a bar it is shrunk to fit and
            # crossed by the error bar.
            textposition="none",
            hovertemplate="%{text}<extra></extra>",
            error_x={"type": "data", "symmetric": False, "color": "#444", "thickness": 1.5},
        )
    )
    figure.update_layout(
        title=title,
        xaxis={
            "title": {"text": "share of the return"},
            "zeroline": True,
            "tickfont": {"size": _common.LABEL_FONT_SIZE},
        },
        yaxis={
            "tickvals": positions,
            "ticktext": [_common.short_label(name, BAR_LABEL_CHARACTERS) for name in names],
            "tickfont": {"size": _common.LABEL_FONT_SIZE},
            "autorange": "reversed",  # the first component at the top
            "automargin": True,
        },
        showlegend=False,
        height=max(260, 36 * len(names) + 140),
        margin={"t": 60 if title else 30},
        meta={"names": names},
    )
    return update_return_shares(figure, shares)


def update_return_shares(figure: go.Figure, shares, *, title: str | None = None) -> go.Figure:
    """Redraw a figure made by :func:`return_shares` with new ``shares`` ``[E, K]``, in place.

    ``E`` may differ from before; ``K`` may not. ``title`` None keeps the one drawn.

    Example:
        >>> figure = go.FigureWidget(rv.plots.return_shares(absolute, log.names))
        >>> _, absolute = rv.decompose.return_shares(log, gamma=0.5)
        >>> rv.plots.update_return_shares(figure, absolute)
    """
    bars = [trace for trace in figure.data if trace.name == _SHARES_TRACE]
    if len(bars) != 1:
        raise ValueError(
            "figure was not built by rewardviz.plots.return_shares; build it with that."
        )
    names = figure.layout.meta["names"]
    shares = _checked_matrix("shares", shares, "[E, K] (episodes, components)")
    if shares.shape[1] != len(names):
        raise ValueError(
            f"shares has {shares.shape[1]} components but the figure draws {len(names)}; "
            f"pass shares [E, {len(names)}]."
        )
    mean = shares.mean(axis=0)
    low, high = np.percentile(shares, [2.5, 97.5], axis=0)
    hover = [
        f"{name}<br>mean share {m:.3f}<br>2.5–97.5 percentile [{lo:.3f}, {hi:.3f}] "
        f"over {len(shares)} episodes"
        for name, m, lo, hi in zip(names, mean, low, high, strict=True)
    ]
    with _common.batch(figure):
        bar = bars[0]
        bar.x, bar.text = mean, hover
        bar.error_x.array, bar.error_x.arrayminus = high - mean, mean - low
        if title is not None:
            figure.layout.title.text = title
    return figure


def correlation_heatmap(
    correlation, names: Sequence[str], *, title: str | None = None
) -> go.Figure:
    """Correlations between components on a diverging scale: 0 white, −1 red, +1 blue.

    Args:
        correlation: ``[K, K]`` correlations in ``[-1, 1]``, e.g. from
            :func:`rewardviz.decompose.correlations`. NaN (undefined) cells are left blank.
        names: ``K`` component names.
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure`` with one heatmap trace, each cell labelled with
        its value.

    Example:
        >>> figure = rv.plots.correlation_heatmap(rv.decompose.correlations(log), log.names)
    """
    correlation = _common.numbers("correlation", correlation)
    if correlation.ndim != 2 or correlation.shape[0] != correlation.shape[1]:
        raise ValueError(
            f"correlation must be a square [K, K] matrix, got shape {correlation.shape}."
        )
    names = _common.checked_names(names, len(correlation), "correlation")
    outside = np.abs(correlation) > 1 + CORRELATION_TOLERANCE  # False at NaN
    if outside.any():
        where = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"correlation must lie in [-1, 1], got {correlation[where]:.4g} at index {where}."
        )
    positions = np.arange(len(names))
    hover = [[f"{row} vs {col}" for col in names] for row in names]
    figure = go.Figure(
        go.Heatmap(
            z=_grid.heatmap_cells(correlation),
            x=positions,
            y=positions,
            text=hover,
            # Values written in the cells only while the cells are big enough to read them.
            texttemplate="%{z:.2f}" if len(names) <= MAX_WRITTEN_CELLS else None,
            hovertemplate="%{text}<br>correlation %{z:.3f}<extra></extra>",
            colorscale="RdBu",
            zmid=0,
            zmin=-1,
            zmax=1,
            colorbar={"title": {"text": "correlation"}, "thickness": 14},
        )
    )
    # Cut, thinned tick labels with room made for them; the hover text has the full names.
    axis = _common.matrix_axis(names)
    figure.update_layout(
        title=title,
        xaxis={**axis, "tickangle": -45 if len(names) > 6 else 0, "constrain": "domain"},
        yaxis={**axis, "autorange": "reversed", "scaleanchor": "x", "constrain": "domain"},
        height=max(320, min(44 * len(names), 720) + 160),
        margin={"t": 60 if title else 30},
    )
    return figure


def return_distributions(returns, names: Sequence[str], *, title: str | None = None) -> go.Figure:
    """The distribution of each component's return across episodes: one box per component.

    Each box shows the quartiles, the whiskers and the mean (dashed); with at most
    :data:`MAX_POINTS_SHOWN` episodes every episode is also drawn as a point.

    Args:
        returns: ``[E, K]`` return of each weighted component in each episode, e.g.
            :func:`rewardviz.decompose.component_returns`.
        names: ``K`` component names.
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure`` with one box trace per component, named by it.

    Example:
        >>> figure = rv.plots.return_distributions(rv.decompose.component_returns(log), log.names)
    """
    returns = _checked_matrix("returns", returns, "[E, K] (episodes, components)")
    names = _common.checked_names(names, returns.shape[1], "returns")
    points = "all" if len(returns) <= MAX_POINTS_SHOWN else "outliers"
    figure = go.Figure()
    for k, name in enumerate(names):
        figure.add_trace(
            go.Box(
                y=returns[:, k],
                name=name,
                marker={"color": _common.component_colour(k), "size": 4},
                boxmean=True,
                boxpoints=points,
                jitter=0.4,
                pointpos=0,
            )
        )
    figure.update_layout(
        title=title,
        yaxis={"title": {"text": "return"}, "zeroline": True},
        showlegend=False,
        height=400,
        margin={"t": 60 if title else 30},
    )
    return figure


def variance_attribution(
    attribution, names: Sequence[str], *, title: str | None = None
) -> go.Figure:
    """How much of the spread of episode returns each component causes: one bar each.

    Attributions ``Cov(G_k, G) / Var(G)`` sum to 1; a negative one means the component
    tends to cancel the others. The sum is written in the corner as a check and stored in
    ``figure.layout.meta["sum"]``.

    Args:
        attribution: ``[K]`` share of the variance of returns due to each component,
            e.g. :func:`rewardviz.decompose.variance_attribution`.
        names: ``K`` component names.
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure`` with one bar trace, each bar labelled with its value.

    Example:
        >>> figure = rv.plots.variance_attribution(rv.decompose.variance_attribution(log), log.names)
    """
    attribution = _common.numbers("attribution", attribution)
    if attribution.ndim != 1:
        raise ValueError(
            f"attribution must be one-dimensional ([K], one number per component), got "
            f"shape {attribution.shape}."
        )
    _checks.finite("attribution", attribution)
    names = _common.checked_names(names, len(attribution), "attribution")
    total = float(attribution.sum())
    positions = list(range(len(names)))
    figure = go.Figure(
        go.Bar(
            x=positions,
            y=attribution,
            text=[f"{value:.3f}" for value in attribution],
            textposition="outside",
            customdata=names,
            hovertemplate="%{customdata}<br>share of the variance %{y:.4f}<extra></extra>",
            marker={"color": [_common.component_colour(k) for k in positions]},
        )
    )
    figure.add_annotation(
        text=f"sum = {total:.3f}",
        xref="paper",
        yref="paper",
        x=1,
        y=1.02,
        xanchor="right",
        yanchor="bottom",
        showarrow=False,
    )
    figure.update_layout(
        title=title,
        xaxis={"tickvals": positions, "ticktext": names},
        yaxis={"title": {"text": "share of the variance of the return"}, "zeroline": True},
        showlegend=False,
        height=380,
        meta={"sum": total},
        margin={"t": 60 if title else 40},
    )
    return figure


# ---------------------------------------------------------------------------
# Ranking before and after reweighting.


def ranking_change(
    old_returns,
    new_returns=None,
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """A slope chart of each episode's rank under the old weights (left) and the new (right).

    Rank 0 (top) is the episode with the highest return; ties go to the lower episode
    index, as in :func:`rewardviz.decompose.reweight`. Each episode is one line, coloured
    by whether it ranks higher, lower or the same under the new weights (three traces,
    each with a segment slot for every episode, so that an update only moves data).

    Args:
        old_returns: ``[E]`` episode returns under the old weights, e.g.
            ``rv.decompose.reweight(log, weights).old_returns``; or, alone, the
            :class:`rewardviz.decompose.Reweighting` itself.
        new_returns: ``[E]`` episode returns under the new weights (``.new_returns``).
        labels: ``E`` episode names shown on hover; ``"episode 0"``, ... by default.
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure`` with three line traces, which
        :func:`update_ranking_change` redraws.

    Example:
        >>> change = rv.decompose.reweight(log, {"ctrl": 0.0})
        >>> figure = rv.plots.ranking_change(change)
    """
    old_returns, new_returns = _checked_returns(old_returns, new_returns)
    labels = _common.checked_labels(labels, len(old_returns), "episode")
    n_episodes = len(old_returns)
    figure = go.Figure()
    for direction, colour in style.RANK_COLOURS.items():
        figure.add_trace(
            go.Scatter(
                x=np.tile([0.0, 1.0, np.nan], n_episodes),
                mode="lines+markers",
                line={"color": colour, "width": 1.5},
                marker={"color": colour, "size": 6},
                connectgaps=False,
                legendgroup=direction,
                hovertemplate="%{text}<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        xaxis={
            "tickvals": [0, 1],
            "ticktext": ["old weights", "new weights"],
            "range": [-0.2, 1.2],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={
            "title": {"text": "rank (0 = highest return)"},
            "range": [n_episodes - 0.5, -0.5],
            "zeroline": False,
        },
        height=max(320, min(800, 14 * n_episodes + 160)),
        meta={"labels": labels},
        margin={"t": 60 if title else 30},
    )
    return update_ranking_change(figure, old_returns, new_returns)


def update_ranking_change(
    figure: go.Figure, old_returns, new_returns=None, *, title: str | None = None
) -> go.Figure:
    """Redraw a figure made by :func:`ranking_change` in place, for the same ``E`` episodes.

    The returns are given as to :func:`ranking_change`: two arrays, or a
    :class:`rewardviz.decompose.Reweighting`.

    Returns:
        ``figure``, changed.

    Example:
        >>> figure = go.FigureWidget(rv.plots.ranking_change(change))
        >>> rv.plots.update_ranking_change(figure, rv.decompose.reweight(log, {"ctrl": 2.0}))
    """
    traces = {trace.legendgroup: trace for trace in figure.data if trace.type == "scatter"}
    if set(traces) != set(style.RANK_COLOURS) or "labels" not in (figure.layout.meta or {}):
        raise ValueError(
            "figure was not built by rewardviz.plots.ranking_change; build it with that."
        )
    labels = figure.layout.meta["labels"]
    old_returns, new_returns = _checked_returns(old_returns, new_returns)
    if len(old_returns) != len(labels):
        raise ValueError(
            f"the figure was built for {len(labels)} episodes, got returns of "
            f"{len(old_returns)}; build a new figure for a different set of episodes."
        )
    old_rank, new_rank = _ranks(old_returns), _ranks(new_returns)
    directions = np.select(
        [new_rank < old_rank, new_rank > old_rank], ["higher", "lower"], default="same"
    )
    # Each episode owns a (start, end, gap) slot in every trace; NaN hides it where the
    # episode belongs to another direction.
    segments = np.stack([old_rank, new_rank, np.full(len(labels), np.nan)], axis=1)
    hover = np.repeat(
        [
            f"{label}<br>rank {old} → {new}<br>return {before:.4g} → {after:.4g}"
            for label, old, new, before, after in zip(
                labels, old_rank, new_rank, old_returns, new_returns, strict=True
            )
        ],
        3,
    )
    legend_names = {"higher": "ranked higher", "lower": "ranked lower", "same": "same rank"}
    with _common.batch(figure):
        for direction, trace in traces.items():
            members = directions == direction
            trace.y = np.where(members[:, None], segments, np.nan).ravel()
            trace.text = hover
            trace.name = f"{legend_names[direction]} ({int(members.sum())})"
        if title is not None:
            figure.layout.title.text = title
    return figure


def _ranks(returns: np.ndarray) -> np.ndarray:
    """0 for the highest return; ties broken by episode index."""
    order = np.argsort(-returns, kind="stable")
    ranks = np.empty(len(returns), dtype=int)
    ranks[order] = np.arange(len(returns))
    return ranks


def _checked_returns(old_returns, new_returns) -> tuple[np.ndarray, np.ndarray]:
    if new_returns is None:
        # A reweighting result (rv.decompose.reweight) carries both.
        if not hasattr(old_returns, "new_returns"):
            raise TypeError("give new_returns, or pass the result of rv.decompose.reweight alone.")
        old_returns, new_returns = old_returns.old_returns, old_returns.new_returns
    checked = []
    for name, returns in (("old_returns", old_returns), ("new_returns", new_returns)):
        returns = _common.numbers(name, returns)
        if returns.ndim != 1 or not returns.size:
            raise ValueError(
                f"{name} must be a non-empty [E] array (one return per episode), got shape "
                f"{returns.shape}."
            )
        _checks.finite(name, returns)
        checked.append(returns)
    if checked[0].shape != checked[1].shape:
        raise ValueError(
            f"old_returns has {checked[0].size} episodes but new_returns has "
            f"{checked[1].size}; pass the same episodes under both weightings."
        )
    return checked[0], checked[1]


# ---------------------------------------------------------------------------
# Over positions.


def state_heatmap(positions, values, *, bins: int = 40, title: str | None = None) -> go.Figure:
    """The mean of a component over x–y positions, binned on a grid (like arena heatmaps).

    Each cell is the mean of ``values`` over the steps whose position falls in it (a
    2-D histogram of the values divided by one of the counts); cells no step visited are
    blank. The colour scale is diverging and centred at 0 when the values take both
    signs, sequential otherwise.

    Args:
        positions: ``[N, 2]`` x and y of each step (valid steps only, all episodes together).
        values: ``[N]`` the quantity at each step, e.g. one component's contribution.
        bins: number of bins along each axis, ``>= 1``.
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure`` with one heatmap trace; hovering a cell shows
        its mean and how many steps fell in it.

    Example:
        >>> valid = np.asarray(log.mask)
        >>> xy = np.asarray(log.episode_info["xy"])[valid]  # [N, 2] positions logged per step
        >>> figure = rv.plots.state_heatmap(xy, np.asarray(log.contributions)[valid][:, 0])
    """
    positions = _common.numbers("positions", positions)
    if positions.ndim != 2 or positions.shape[1] != 2 or not len(positions):
        raise ValueError(
            f"positions must have shape [N, 2] (x, y of each step) with N >= 1, got "
            f"{positions.shape}."
        )
    _checks.finite("positions", positions)
    values = _common.numbers("values", values)
    if values.shape != (len(positions),):
        raise ValueError(
            f"values must have shape [N] = ({len(positions)},), one value per position, got "
            f"{values.shape}."
        )
    _checks.finite("values", values)
    bins = _checks.positive_int("bins", bins)

    x, y = positions.T
    sums, x_edges, y_edges = np.histogram2d(x, y, bins=bins, weights=values)
    counts, _, _ = np.histogram2d(x, y, bins=[x_edges, y_edges])
    visited = counts > 0
    means = np.where(visited, sums / np.where(visited, counts, 1), np.nan)
    diverging = values.min() < 0 < values.max()
    figure = go.Figure(
        go.Heatmap(
            # histogram2d indexes [x bin, y bin]; a heatmap's rows are y.
            z=_grid.heatmap_cells(means.T),
            x=(x_edges[:-1] + x_edges[1:]) / 2,
            y=(y_edges[:-1] + y_edges[1:]) / 2,
            customdata=counts.T.astype(int).tolist(),
            hovertemplate=(
                "x %{x:.3g}, y %{y:.3g}<br>mean %{z:.4g}<br>%{customdata} steps<extra></extra>"
            ),
            colorscale="RdBu" if diverging else "Viridis",
            zmid=0 if diverging else None,
            colorbar={"title": {"text": "mean"}, "thickness": 14},
        )
    )
    figure.update_layout(
        title=title,
        xaxis={"title": {"text": "x"}, "showgrid": False, "constrain": "domain"},
        yaxis={
            "title": {"text": "y"},
            "showgrid": False,
            "scaleanchor": "x",
            "constrain": "domain",
        },
        height=480,
        margin={"t": 60 if title else 30},
    )
    return figure


# ---------------------------------------------------------------------------
# Shared pieces.


def _checked_matrix(name: str, values, meaning: str) -> np.ndarray:
    values = _common.numbers(name, values)
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(f"{name} must have shape {meaning}, non-empty, got {values.shape}.")
    _checks.finite(name, values)
    return values


# Names that moved to rewardviz.plots.style keep working for one release.
__getattr__ = _deprecation.module_getattr(
    __name__,
    {
        "COMPONENT_COLOURS": "rewardviz.plots.style.COMPONENT_COLOURS",
        "COMPONENT_PATTERNS": "rewardviz.plots.style.COMPONENT_PATTERNS",
        "RANK_COLOURS": "rewardviz.plots.style.RANK_COLOURS",
        "TOTAL_COLOUR": "rewardviz.plots.style.TOTAL_COLOUR",
    },
)
