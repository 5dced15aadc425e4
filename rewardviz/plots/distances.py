"""Pictures for comparing reward functions: distance matrices, regret, shaping side by side.

Pure builders, like :func:`rewardviz.plots.gridworld`: they are handed distances, regrets,
values and policies computed by :mod:`rewardviz.distances`, :mod:`rewardviz.shaping` and
:mod:`rewardviz.solve`, and draw them. Nothing here solves an MDP or computes a distance.
The two display statistics computed here are the order in which a distance matrix is
drawn (hierarchical clustering) and the Spearman rank correlation quoted on a regret plot.

The grid panels of :func:`shaping_comparison` are drawn with the grid pieces of
:mod:`rewardviz.plots._grid`, so they look and update like
:func:`rewardviz.plots.gridworld`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rewardviz import _checks, _deprecation
from rewardviz.mdp import TabularMDP
from rewardviz.plots import _common, _grid, style
from rewardviz.plots.gridworlds import gridworld

__all__ = [
    "cluster_order",
    "correlation_forest",
    "distance_matrix",
    "potential_heatmap",
    "regret_vs_distance",
    "shaping_comparison",
    "update_shaping_comparison",
]

#: A distance matrix may be asymmetric by this much relative to its largest entry
#: (float32 rounding of distances computed one pair at a time), not more.
SYMMETRY_TOLERANCE = 1e-3
#: Panel titles of :func:`shaping_comparison` are wrapped to lines of at most this many
#: characters at this font size (pixels), so each fits over its panel in a figure as
#: narrow as plotly's default 700 pixels.
PANEL_TITLE_CHARACTERS, PANEL_TITLE_SIZE = 32, 13
#: Height (pixels) of one row of :func:`correlation_forest`: room for a 12-pixel label;
#: names longer than the second number are cut, the hover text has them whole.
FOREST_ROW_PIXELS, FOREST_LABEL_CHARACTERS = 20, 28

# Trace names: update_shaping_comparison finds the traces it changes by these.
_DISTANCE_TRACE = "distances"
_REWARD_TRACE = "reward"


# ---------------------------------------------------------------------------
# Distance matrices.


def cluster_order(distances) -> np.ndarray:
    """The order that puts similar rewards next to each other: ``[N]`` integer indices.

    Average-linkage hierarchical clustering (UPGMA) of the condensed distance matrix,
    with the leaves ordered so that neighbouring leaves are as close as possible
    (``scipy.cluster.hierarchy.linkage(..., optimal_ordering=True)``), read off with
    ``leaves_list``. Deterministic for a given matrix.

    Args:
        distances: ``[N, N]`` symmetric, non-negative, finite distances.

    Example:
        >>> distances = rv.distances.pairwise(mdp, rewards, method="epic")
        >>> order = rv.plots.cluster_order(distances)
        >>> sorted_distances = np.asarray(distances)[np.ix_(order, order)]
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    distances = _checked_distance_matrix(distances)
    if len(distances) < 3:  # one or two rewards have a single order worth showing
        return np.arange(len(distances))
    # The checked matrix is symmetric up to rounding: average the two triangles.
    symmetric = (distances + distances.T) / 2
    np.fill_diagonal(symmetric, 0)
    tree = linkage(squareform(symmetric, checks=False), method="average", optimal_ordering=True)
    return leaves_list(tree).astype(int)


def distance_matrix(
    distances,
    labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
    order: str = "cluster",
    colorscale="Viridis",
) -> go.Figure:
    """A heatmap of distances between ``N`` rewards, similar rewards next to each other.

    Hovering a cell shows both rewards' labels and their distance. The colour scale
    starts at 0. The order used is stored in ``figure.layout.meta["order"]``: row and
    column ``i`` of the picture are reward ``order[i]`` of the input.

    Args:
        distances: ``[N, N]`` symmetric, non-negative, finite distances, e.g. from
            :func:`rewardviz.distances.pairwise`. Asymmetric premetrics (NPEC) must be
            symmetrised first, e.g. ``(d + d.T) / 2``.
        labels: ``N`` names of the rewards; ``"reward 0"``, ``"reward 1"``, ... by default.
        title: figure title.
        order: ``"cluster"`` (the order of :func:`cluster_order`) or ``"given"``.
        colorscale: a plotly colour scale.

    Returns:
        A ``plotly.graph_objects.Figure`` with one heatmap trace named ``"distances"``.

    Example:
        >>> mdp, _ = rv.envs.random_mdp(6, 2, seed=0)
        >>> rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=(5,))
        >>> figure = rv.plots.distance_matrix(rv.distances.pairwise(mdp, rewards))
    """
    distances = _checked_distance_matrix(distances)
    n_rewards = len(distances)
    labels = _common.checked_labels(labels, n_rewards, "reward")
    if order == "cluster":
        shown = cluster_order(distances)
    elif order == "given":
        shown = np.arange(n_rewards)
    else:
        raise ValueError(f"order must be 'cluster' or 'given', got {order!r}.")

    ordered = distances[np.ix_(shown, shown)]
    ordered_labels = [labels[index] for index in shown]
    hover = [[f"{row} vs {col}" for col in ordered_labels] for row in ordered_labels]
    # Numeric positions with tick labels, not categorical axes: repeated labels would merge.
    positions = np.arange(n_rewards)
    figure = go.Figure(
        go.Heatmap(
            z=ordered,
            x=positions,
            y=positions,
            text=hover,
            hovertemplate="%{text}<br>distance %{z:.4g}<extra></extra>",
            colorscale=colorscale,
            zmin=0,
            colorbar={"title": {"text": "distance"}, "thickness": 14},
            name=_DISTANCE_TRACE,
        )
    )
    # Cut, thinned tick labels with room made for them; the hover text has the full names.
    axis = {**_common.matrix_axis(ordered_labels), "constrain": "domain"}
    cell_pixels = 28 if n_rewards > 12 else 44
    longest = max(len(text) for text in axis["ticktext"])
    figure.update_layout(
        title=title,
        # Tilt the column labels when they would not fit under their cells side by side.
        xaxis={**axis, "tickangle": -45 if 7 * longest > cell_pixels else 0},
        yaxis={**axis, "autorange": "reversed", "scaleanchor": "x"},
        height=max(320, cell_pixels * n_rewards + 160),
        meta={"order": shown.tolist()},
        margin={"t": 60 if title else 30},
    )
    return figure


def _checked_distance_matrix(distances) -> np.ndarray:
    distances = _common.numbers("distances", distances)
    if distances.ndim != 2 or distances.shape[0] != distances.shape[1] or not distances.size:
        raise ValueError(
            f"distances must be a square [N, N] matrix with N >= 1, got shape {distances.shape}; "
            "compute one with rv.distances.pairwise(mdp, rewards)."
        )
    _checks.finite("distances", distances)
    if (distances < 0).any():
        where = tuple(int(i) for i in np.argwhere(distances < 0)[0])
        raise ValueError(
            f"distances must be non-negative, got {distances[where]:.4g} at index {where}."
        )
    asymmetry = np.abs(distances - distances.T)
    if asymmetry.max() > SYMMETRY_TOLERANCE * distances.max():
        where = tuple(int(i) for i in np.unravel_index(asymmetry.argmax(), asymmetry.shape))
        raise ValueError(
            f"distances must be symmetric: distances{where} = {distances[where]:.4g} but "
            f"distances{where[::-1]} = {distances[where[::-1]]:.4g}. For an asymmetric "
            "premetric such as NPEC, pass a symmetrised matrix, e.g. (d + d.T) / 2."
        )
    return distances


# ---------------------------------------------------------------------------
# Regret against distance.


def regret_vs_distance(
    distances,
    regrets,
    *,
    labels: Sequence[str] | None = None,
    method_name: str = "EPIC",
    title: str | None = None,
) -> go.Figure:
    """Distance (x) against normalised regret (y) for many reward pairs, as in the STARC paper.

    A good distance between a true and a proxy reward predicts how much optimising the
    proxy loses under the true one: the points should rise from left to right. Each
    method's Spearman rank correlation between distance and regret is quoted (in the
    title for one method, in the legend for several) and stored in
    ``figure.layout.meta["spearman"]`` (``{method: ρ}``; None where ρ is undefined
    because the distances or the regrets are all equal, or there is one pair only).

    Args:
        distances: ``[M]`` one distance per reward pair, or a mapping
            ``{method name: [M] distances}`` to overlay several methods (one colour and
            marker shape each, colour-blind-safe).
        regrets: ``[M]`` normalised regrets in ``[0, 1]`` of the same pairs, e.g. from
            :func:`rewardviz.distances.regret`.
        labels: ``M`` names of the pairs, shown on hover.
        method_name: the name of the distance when ``distances`` is one array.
        title: figure title; by default it names the method and its Spearman ρ.

    Returns:
        A ``plotly.graph_objects.Figure`` with one scatter trace per method, named by it.

    Example:
        >>> mdp, _ = rv.envs.random_mdp(6, 2, seed=0)
        >>> noise = jnp.linspace(0, 3, 50)[:, None, None, None]
        >>> true = rv.envs.random_reward(mdp, seed=0, batch_shape=(50,))
        >>> proxy = true + noise * rv.envs.random_reward(mdp, seed=1, batch_shape=(50,))
        >>> figure = rv.plots.regret_vs_distance(
        ...     {"EPIC": rv.distances.epic(mdp, true, proxy),
        ...      "STARC": rv.distances.starc(mdp, true, proxy)},
        ...     rv.distances.regret(mdp, true, proxy))
    """
    regrets = _checked_vector("regrets", regrets)
    if regrets.size == 0:
        raise ValueError("regrets is empty; pass one regret per reward pair.")
    if (regrets < 0).any() or (regrets > 1).any():
        where = int(np.argmax((regrets < 0) | (regrets > 1)))
        raise ValueError(
            f"regrets must be normalised regrets in [0, 1], got {regrets[where]:.4g} at index "
            f"{where}; divide by the span of returns (max J − min J), as "
            "rv.distances.regret does."
        )
    if isinstance(distances, Mapping):
        if not distances:
            raise ValueError("distances is an empty mapping; give at least one method.")
        methods = {str(name): values for name, values in distances.items()}
    else:
        methods = {method_name: distances}
    if len(methods) > len(style.OKABE_ITO):
        raise ValueError(
            f"at most {len(style.OKABE_ITO)} methods can be told apart in one figure, "
            f"got {len(methods)}."
        )
    methods = {
        name: _checked_vector(f"distances[{name!r}]" if len(methods) > 1 else "distances", values)
        for name, values in methods.items()
    }
    for name, values in methods.items():
        if values.shape != regrets.shape:
            raise ValueError(
                f"the {name} distances have {values.size} entries but regrets has "
                f"{regrets.size}; pass one distance and one regret per reward pair."
            )
        if (values < 0).any():
            raise ValueError(f"the {name} distances must be non-negative.")
    labels = _common.checked_labels(labels, regrets.size, "pair")

    figure = go.Figure()
    correlations = {}
    for index, (name, values) in enumerate(methods.items()):
        rho = _spearman(values, regrets)
        correlations[name] = rho
        hover = [
            f"{label}<br>{name} distance {distance:.4g}<br>regret {regret:.4g}"
            for label, distance, regret in zip(labels, values, regrets, strict=True)
        ]
        figure.add_trace(
            go.Scatter(
                x=values,
                y=regrets,
                mode="markers",
                name=name if len(methods) == 1 else f"{name} ({_format_rho(rho)})",
                text=hover,
                hovertemplate="%{text}<extra></extra>",
                marker={
                    "color": style.OKABE_ITO[index],
                    "symbol": style.MARKER_SYMBOLS[index],
                    "size": 8,
                    "opacity": 0.75,
                    "line": {"width": 0.5, "color": "white"},
                },
            )
        )
    only_method = next(iter(methods)) if len(methods) == 1 else None
    if title is None:
        if only_method is None:
            title = "Normalised regret vs distance"
        else:
            rho = _format_rho(correlations[only_method])
            title = f"Normalised regret vs {only_method} distance ({rho})"
    figure.update_layout(
        title=title,
        xaxis={"title": {"text": "distance" if only_method is None else f"{only_method} distance"}},
        yaxis={"title": {"text": "normalised regret"}, "range": [-0.03, 1.03]},
        showlegend=len(methods) > 1,
        meta={"spearman": correlations},
        height=420,
    )
    return figure


def correlation_forest(
    summary,
    *,
    title: str | None = None,
    x_title: str = "Spearman rank correlation with regret",
) -> go.Figure:
    """A forest plot: one labelled row per distance, its rank correlation with regret and interval.

    The picture of the STARC study's table
    (:meth:`rewardviz.experiments.InterpolationStudy.summary`): a marker at each
    distance's correlation and a bar over its bootstrap interval, coloured by the
    canonicalisation (the part of the name before the first ``-``: ``none``, ``epic``,
    ``dard``, ``val``, ``minimal``), the table's first row at the top. Every row has its
    own tick label (set explicitly, never thinned by plotly) and at least
    :data:`FOREST_ROW_PIXELS` pixels of height; names are cut to fit with the full name
    in the hover text.

    Args:
        summary: a table indexed by distance name with columns ``spearman``, ``low``
            and ``high`` (a ``pandas.DataFrame``, as ``summary()`` returns). A NaN
            correlation (undefined) keeps its labelled row, with no marker.
        title: figure title.
        x_title: the x axis title.

    Returns:
        A ``plotly.graph_objects.Figure`` with one scatter trace per canonicalisation.

    Example:
        >>> study = rv.experiments.interpolation_study(n_envs=8, n_rewards=2, steps=4)
        >>> figure = rv.plots.correlation_forest(study.summary(n_bootstrap=50))
    """
    columns = getattr(summary, "columns", None)
    if columns is None or not {"spearman", "low", "high"} <= set(columns):
        raise TypeError(
            "summary must be a table indexed by distance name with columns 'spearman', "
            "'low' and 'high', as InterpolationStudy.summary() returns; got "
            f"{type(summary).__name__}."
        )
    names = [str(name) for name in summary.index]
    if not names:
        raise ValueError("summary has no rows; pass the table of at least one distance.")
    estimate, low, high = (
        _common.numbers(f"summary[{column!r}]", summary[column])
        for column in ("spearman", "low", "high")
    )
    families = list(dict.fromkeys(name.split("-")[0] for name in names))
    figure = go.Figure()
    for k, family in enumerate(families):
        rows = [i for i, name in enumerate(names) if name.split("-")[0] == family]
        figure.add_trace(
            go.Scatter(
                x=estimate[rows],
                y=rows,
                mode="markers",
                name=family,
                marker={"color": _common.palette_colour(k), "size": 8},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": high[rows] - estimate[rows],
                    "arrayminus": estimate[rows] - low[rows],
                    "color": _common.palette_colour(k),
                },
                text=[names[i] for i in rows],
                customdata=np.column_stack([low[rows], high[rows]]).tolist(),
                hovertemplate=(
                    "%{text}: ρ = %{x:.3f}<br>interval [%{customdata[0]:.3f}, "
                    "%{customdata[1]:.3f}]<extra></extra>"
                ),
            )
        )
    positions = list(range(len(names)))
    figure.update_layout(
        title=title,
        xaxis={"title": {"text": x_title}, "zeroline": True},
        yaxis={
            # Every row labelled: explicit ticks, which plotly never thins.
            "tickvals": positions,
            "ticktext": [_common.short_label(name, FOREST_LABEL_CHARACTERS) for name in names],
            "tickfont": {"size": _common.LABEL_FONT_SIZE},
            "range": [len(names) - 0.5, -0.5],  # the first row at the top
            "automargin": True,
            "showgrid": True,
        },
        legend={"title": {"text": "canonicalisation"}},
        height=FOREST_ROW_PIXELS * len(names) + 160,
        margin={"t": 60 if title else 30},
    )
    return figure


def _spearman(distances: np.ndarray, regrets: np.ndarray) -> float | None:
    """Spearman's ρ, or None where it is undefined (one pair, or a constant variable)."""
    from scipy.stats import spearmanr

    if distances.size < 2 or np.ptp(distances) == 0 or np.ptp(regrets) == 0:
        return None
    return float(spearmanr(distances, regrets).statistic)


def _format_rho(rho: float | None) -> str:
    return "Spearman ρ undefined" if rho is None else f"Spearman ρ = {rho:.2f}"


# ---------------------------------------------------------------------------
# Shaping, side by side.


def shaping_comparison(
    mdp: TabularMDP,
    original_values,
    shaped_values,
    original_policy,
    shaped_policy,
    *,
    original_reward=None,
    shaped_reward=None,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    colorscale="Viridis",
    reward_colorscale="RdBu",
) -> go.Figure:
    """Original and shaped reward side by side: values with policy arrows, and rewards.

    The top row draws ``original_values`` with ``original_policy`` (left) and
    ``shaped_values`` with ``shaped_policy`` (right), each panel on its own colour
    scale (shaping moves values by ``Φ(s)``, which would flatten a shared scale). With
    ``original_reward`` and ``shaped_reward`` a second row draws a per-state summary
    of each reward on a diverging scale centred at 0, for example the expected reward
    of the optimal action in each state. Panels are drawn as by
    :func:`rewardviz.plots.gridworld`, terminal cells in their own colours (their values
    are 0 by convention, off the colour scales); :func:`update_shaping_comparison`
    redraws them in place.

    Args:
        mdp: an MDP with ``grid_shape``.
        original_values, shaped_values: ``[S]`` per-state values (e.g. ``V*``).
        original_policy, shaped_policy: ``[S, A]`` action probabilities or integer ``[S]``.
        original_reward, shaped_reward: ``[S]`` per-state reward summaries; give both or
            neither.
        titles: one title per panel, row by row (2, or 4 with the reward row).
        title: figure title.
        colorscale: the values' colour scale; ``reward_colorscale`` the rewards'.

    Returns:
        A ``plotly.graph_objects.Figure``.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", ".#.G", "...L"])
        >>> shaped = rv.shaping.potential_shaping(mdp, reward, jnp.arange(10.0))
        >>> q = rv.solve.q_values(mdp, jnp.stack([reward, shaped]))
        >>> policy = rv.solve.greedy_policy(q)
        >>> figure = rv.plots.shaping_comparison(
        ...     mdp, q[0].max(-1), q[1].max(-1), policy[0], policy[1])
    """
    _grid.require_grid(mdp)
    with_rewards = _reward_row_given(original_reward, shaped_reward)
    n_panels = 4 if with_rewards else 2
    titles = _panel_titles(titles, with_rewards)
    # Terminal cells are drawn in their own colours on every panel: their value, and the
    # reward of acting in them, are 0 by convention and say nothing.
    panels = [
        _grid.grid_data(
            mdp,
            _per_state(mdp, "original_values", original_values),
            original_policy,
            policy_name="original_policy",
            mark_terminal=True,
        ),
        _grid.grid_data(
            mdp,
            _per_state(mdp, "shaped_values", shaped_values),
            shaped_policy,
            policy_name="shaped_policy",
            mark_terminal=True,
        ),
    ]
    if with_rewards:
        panels += [
            _grid.grid_data(
                mdp, _per_state(mdp, name, summary), None, quantity="reward", mark_terminal=True
            )
            for name, summary in [
                ("original_reward", original_reward),
                ("shaped_reward", shaped_reward),
            ]
        ]

    n_rows = n_panels // 2
    figure = make_subplots(
        rows=n_rows,
        cols=2,
        subplot_titles=list(titles),
        horizontal_spacing=0.16,
        vertical_spacing=0.12,
    )
    grid_rows, _ = mdp.grid_shape
    height = n_rows * max(260, 48 * grid_rows + 110) + 80
    # Room above the first row for two-line panel titles (and the figure title).
    margin = {"l": 20, "r": 40, "t": 110 if title else 70, "b": _grid.legend_margin(mdp)}
    cell_size = _grid.cell_pixels(mdp, height=height, margin=margin, panels=(n_rows, 2))
    coloraxes = {}
    for panel, data in enumerate(panels):
        row, col = divmod(panel, 2)
        is_value_panel = panel < 2
        coloraxis = "coloraxis" if panel == 0 else f"coloraxis{panel + 1}"
        _grid.add_grid_panel(
            figure,
            mdp,
            data.z[0],
            data.hover[0],
            data,
            row=row + 1,
            col=col + 1,
            heatmap_name=_grid.VALUES_TRACE if is_value_panel else _REWARD_TRACE,
            coloraxis=coloraxis,
            arrows=is_value_panel,
            mark_terminal=True,
            cell_size=cell_size,
        )
        # Each panel's colour bar stands just right of its panel.
        suffix = "" if panel == 0 else str(panel + 1)
        x_domain = figure.layout[f"xaxis{suffix}"].domain
        y_domain = figure.layout[f"yaxis{suffix}"].domain
        colorbar = {
            "thickness": 12,
            "x": x_domain[1] + 0.01,
            "xanchor": "left",
            "y": (y_domain[0] + y_domain[1]) / 2,
            "len": y_domain[1] - y_domain[0],
        }
        if is_value_panel:
            coloraxes[coloraxis] = {"colorscale": colorscale, "colorbar": colorbar}
        else:
            coloraxes[coloraxis] = {
                "colorscale": reward_colorscale,
                "cmid": 0,
                "colorbar": colorbar,
            }
    _grid.style_grid_axes(figure, mdp, n_panels)
    figure.update_annotations(font={"size": PANEL_TITLE_SIZE})
    figure.update_layout(
        title=title,
        plot_bgcolor=style.NOT_A_STATE_COLOUR,  # cells with no state (NaN) show the background
        height=height,
        margin=margin,
        **coloraxes,
    )
    return figure


def update_shaping_comparison(
    figure: go.Figure,
    mdp: TabularMDP,
    original_values=None,
    shaped_values=None,
    original_policy=None,
    shaped_policy=None,
    *,
    original_reward=None,
    shaped_reward=None,
    titles: Sequence[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Redraw a figure made by :func:`shaping_comparison` in place; None keeps what is drawn.

    The traces stay the same objects with the same number of points, so a
    ``go.FigureWidget`` on screen updates without being replaced. The arguments are
    those of :func:`shaping_comparison`; ``titles`` replaces the panel titles.

    Returns:
        ``figure``, changed.

    Example:
        >>> figure = go.FigureWidget(rv.plots.shaping_comparison(mdp, v, v2, pi, pi2))
        >>> rv.plots.update_shaping_comparison(figure, mdp, shaped_values=v3, shaped_policy=pi3)
    """
    _grid.require_grid(mdp)
    heatmaps = [trace for trace in figure.data if trace.name == _grid.VALUES_TRACE]
    rewards = [trace for trace in figure.data if trace.name == _REWARD_TRACE]
    shafts = [trace for trace in figure.data if trace.name == _grid.SHAFT_TRACE]
    heads = [trace for trace in figure.data if trace.name == _grid.HEAD_TRACE]
    if len(heatmaps) != 2 or len(shafts) != 2 or len(heads) != 2:
        raise ValueError(
            "figure was not built by rewardviz.plots.shaping_comparison; build it with that."
        )
    slots = _grid.arrow_slots(mdp)
    if any(len(head.x) != len(slots.states) for head in heads) or np.shape(heatmaps[0].z) != tuple(
        mdp.grid_shape
    ):
        raise ValueError(
            "figure was built for an MDP with a different grid or actions; build a new "
            "figure with rewardviz.plots.shaping_comparison for this MDP."
        )
    if (original_reward is not None or shaped_reward is not None) and not rewards:
        raise ValueError(
            "figure was built without the reward row; build it with original_reward= "
            "and shaped_reward= to draw rewards."
        )
    if titles is not None and len(titles) != len(heatmaps) + len(rewards):
        raise ValueError(
            f"titles must have one entry per panel ({len(heatmaps) + len(rewards)}), "
            f"got {len(titles)}."
        )
    value_panels = [
        _grid.grid_data(
            mdp,
            None if values is None else _per_state(mdp, values_name, values),
            policy,
            policy_name=policy_name,
            mark_terminal=True,
        )
        for values, values_name, policy, policy_name in [
            (original_values, "original_values", original_policy, "original_policy"),
            (shaped_values, "shaped_values", shaped_policy, "shaped_policy"),
        ]
    ]
    reward_panels = [
        _grid.grid_data(
            mdp,
            None if summary is None else _per_state(mdp, name, summary),
            None,
            quantity="reward",
            mark_terminal=True,
        )
        for name, summary in [
            ("original_reward", original_reward),
            ("shaped_reward", shaped_reward),
        ]
    ]

    with _common.batch(figure):
        for heatmap, shaft, head, data in zip(heatmaps, shafts, heads, value_panels, strict=True):
            if data.z is not None:
                heatmap.z, heatmap.text = _grid.heatmap_cells(data.z[0]), data.hover[0]
            if data.arrow_ends is not None:
                _grid.set_arrows(shaft, head, slots, data)
        for heatmap, data in zip(rewards, reward_panels, strict=False):
            if data.z is not None:
                heatmap.z, heatmap.text = _grid.heatmap_cells(data.z[0]), data.hover[0]
        if titles is not None:
            for annotation, text in zip(figure.layout.annotations, titles, strict=False):
                annotation.text = _common.wrapped(text, PANEL_TITLE_CHARACTERS)
        if title is not None:
            figure.layout.title.text = title
    return figure


def _reward_row_given(original_reward, shaped_reward) -> bool:
    if (original_reward is None) != (shaped_reward is None):
        raise ValueError(
            "give both original_reward and shaped_reward (per-state summaries, [S]) or neither."
        )
    return original_reward is not None


def _panel_titles(titles, with_rewards: bool) -> tuple[str, ...]:
    n_panels = 4 if with_rewards else 2
    if titles is None:
        titles = ["original: values and optimal policy", "shaped: values and optimal policy"]
        if with_rewards:
            titles += ["original: reward summary", "shaped: reward summary"]
    titles = tuple(_common.wrapped(text, PANEL_TITLE_CHARACTERS) for text in titles)
    if len(titles) != n_panels:
        raise ValueError(
            f"titles must have one entry per panel ({n_panels}: values row"
            f"{' and reward row' if with_rewards else ''}), got {len(titles)}."
        )
    return titles


# ---------------------------------------------------------------------------
# Potentials.


def potential_heatmap(
    mdp: TabularMDP, potential, *, title: str = "Potential Φ(s)", colorscale="RdBu"
) -> go.Figure:
    """A shaping potential ``Φ(s)`` on the MDP's grid, on a diverging scale centred at 0.

    Draws ``potential`` as given. Note that :func:`rewardviz.shaping.potential_shaping`
    uses ``Φ = 0`` at terminal states whatever is passed there.

    Args:
        mdp: an MDP with ``grid_shape``.
        potential: ``[S]`` one number per state.
        title: figure title.
        colorscale: a diverging plotly colour scale.

    Returns:
        A figure of :func:`rewardviz.plots.gridworld`, so
        :func:`rewardviz.plots.update_gridworld` can redraw it.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", ".#.G", "...L"])
        >>> figure = rv.plots.potential_heatmap(mdp, -jnp.arange(10.0))
    """
    _grid.require_grid(mdp)
    potential = _per_state(mdp, "potential", potential)
    return gridworld(mdp, potential, title=title, colorscale=colorscale, zmid=0)


# ---------------------------------------------------------------------------
# Validation.


def _checked_vector(name: str, values) -> np.ndarray:
    values = _common.numbers(name, values)
    if values.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional ([M]), got shape {values.shape}.")
    _checks.finite(name, values)
    return values


def _per_state(mdp: TabularMDP, name: str, values) -> np.ndarray:
    values = _common.numbers(name, values)
    if values.shape != (mdp.n_states,):
        raise ValueError(
            f"{name} must have shape [S] = ({mdp.n_states},), one number per state, "
            f"got {values.shape}."
        )
    _checks.finite(name, values)
    return values


# Names that moved to rewardviz.plots.style keep working for one release.
__getattr__ = _deprecation.module_getattr(
    __name__,
    {
        "OKABE_ITO": "rewardviz.plots.style.OKABE_ITO",
        "MARKER_SYMBOLS": "rewardviz.plots.style.MARKER_SYMBOLS",
    },
)
