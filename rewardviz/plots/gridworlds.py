"""Grid pictures of per-state quantities and policies: plotly figures and matplotlib handouts.

Every function here is a pure builder: it is handed arrays that were already computed
(values, Q-values, rewards, policies) and draws them on the MDP's grid. Nothing here
solves an MDP or imports a widget; :mod:`rewardviz.widgets` composes the solvers with
these builders.

Geometry: the cell of grid row ``r`` and column ``c`` is centred at ``x = c, y = r``
with row 0 at the top. A policy is drawn as one arrow per state and per action whose
name is a direction (up/north, down/south, left/west, right/east), pointing that way
with a length proportional to the action's probability
(:data:`rewardviz.plots._grid.ARROW_REACH` cells at probability 1). The plotly figure
keeps one line segment and one arrow head per (state, direction action) pair whether or
not the arrow is visible, so :func:`update_gridworld` can change a figure in place
without adding or removing traces. The drawing pieces live in
:mod:`rewardviz.plots._grid`, shared with the other builders that draw grid panels.

The module is called ``gridworlds`` so that it does not share its name with the
function :func:`gridworld` that ``rv.plots`` exports.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rewardviz.mdp import TabularMDP
from rewardviz.plots import _common, _grid, style

__all__ = ["gridworld", "gridworld_matplotlib", "update_gridworld"]


def gridworld(
    mdp: TabularMDP,
    values=None,
    policy=None,
    *,
    title: str | None = None,
    colorscale="Viridis",
    zmid: float | None = None,
    show_layout: bool = True,
    mark_terminal: bool = True,
) -> go.Figure:
    """A plotly heatmap of a per-state quantity on the MDP's grid, with policy arrows.

    Cells that are not states (walls, and cliffs of :func:`rewardviz.envs.gridworld`)
    are grey; hovering a cell shows the state and its value. Layout characters
    (``S``, ``G``, ``L``, ``C``, ``#``, ``H``) are written in their cells.

    Args:
        mdp: an MDP with ``grid_shape`` (gridworlds, chains, FrozenLake, CliffWalking).
        values: ``[S]`` a value per state (``V``, a state reward, ...), or ``[S, A]``
            Q-values, drawn as one panel per action sharing one colour scale.
            Without values the state cells are white.
        policy: ``[S, A]`` action probabilities or an integer ``[S]`` of actions. Each
            action named as a direction gets an arrow of length proportional to its
            probability; terminal states get none.
        title: figure title.
        colorscale: a plotly colour scale for the values.
        zmid: value at the middle of the colour scale (e.g. 0 for a diverging scale).
        show_layout: write the layout characters in their cells.
        mark_terminal: draw terminal states (goal, lava, ...) in their own colours,
            named in a legend under the grid, instead of on the colour scale: by
            convention their value is 0, which would colour a goal like the worst
            state. Their values stay in the hover text. False puts them on the scale
            (for a quantity that means something there, such as the reward of entering).

    Returns:
        A ``plotly.graph_objects.Figure``; wrap it in ``go.FigureWidget`` for a widget.
        Its traces keep the same number of points whatever the values and policy, so
        :func:`update_gridworld` can redraw it in place.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
        >>> q = rv.solve.q_values(mdp, reward)
        >>> figure = rv.plots.gridworld(mdp, q.max(-1), rv.solve.greedy_policy(q))
    """
    _grid.require_grid(mdp)
    data = _grid.grid_data(mdp, values, policy, mark_terminal=mark_terminal)
    rows, _ = mdp.grid_shape
    if data.z is None:
        z = _grid.state_grid(mdp, np.zeros((mdp.n_states, 1)))
        hover = _grid.hover_text(mdp, None)
        heatmap_name = _grid.BLANK_TRACE
    else:
        z, hover, heatmap_name = data.z, data.hover, _grid.VALUES_TRACE
    panel_titles = _grid.action_labels(mdp) if z.shape[0] > 1 else [None]

    figure = make_subplots(
        rows=1,
        cols=len(panel_titles),
        subplot_titles=panel_titles if len(panel_titles) > 1 else None,
        horizontal_spacing=min(0.08, 0.3 / len(panel_titles)),
    )
    cell_pixels = 56 if len(panel_titles) == 1 else 40
    height = max(260, cell_pixels * rows + 120)
    margin = {
        "l": 20,
        "r": 20,
        "t": 60 if title or len(panel_titles) > 1 else 30,
        "b": _grid.legend_margin(mdp, mark_terminal),
    }
    cell_size = _grid.cell_pixels(mdp, height=height, margin=margin, panels=(1, len(panel_titles)))
    for panel in range(len(panel_titles)):
        _grid.add_grid_panel(
            figure,
            mdp,
            z[panel],
            hover[panel],
            data,
            row=1,
            col=panel + 1,
            heatmap_name=heatmap_name,
            coloraxis="coloraxis",
            show_layout=show_layout,
            mark_terminal=mark_terminal,
            cell_size=cell_size,
        )
    _grid.style_grid_axes(figure, mdp, len(panel_titles))
    if heatmap_name == _grid.VALUES_TRACE:
        coloraxis = {"colorscale": colorscale, "cmid": zmid, "colorbar": {"thickness": 14}}
    else:
        coloraxis = {"colorscale": [[0, "white"], [1, "white"]], "showscale": False}
    figure.update_layout(
        title=title,
        coloraxis=coloraxis,
        plot_bgcolor=style.NOT_A_STATE_COLOUR,  # cells with no state (NaN) show the background
        height=height,
        margin=margin,
    )
    return figure


def update_gridworld(
    figure: go.Figure, mdp: TabularMDP, values=None, policy=None, *, title: str | None = None
):
    """Redraw a figure made by :func:`gridworld` with new values and/or a new policy, in place.

    The traces stay the same objects with the same number of points; only their
    coordinates, colours and hover text change, so a ``go.FigureWidget`` on screen
    updates without being replaced. Arguments left as None keep what is drawn.

    Args:
        figure: a ``go.Figure`` or ``go.FigureWidget`` built by :func:`gridworld` for
            this MDP (or one with the same grid and actions).
        mdp: the MDP.
        values: ``[S]`` or ``[S, A]``, the same kind as the figure was built with.
        policy: ``[S, A]`` action probabilities or integer ``[S]``.
        title: a new figure title.

    Returns:
        ``figure``, changed.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
        >>> q = rv.solve.q_values(mdp, reward)
        >>> figure = go.FigureWidget(rv.plots.gridworld(mdp, q.max(-1)))
        >>> q = rv.solve.q_values(mdp.replace(gamma=0.5), reward)
        >>> figure = rv.plots.update_gridworld(figure, mdp, q.max(-1), rv.solve.greedy_policy(q))
    """
    _grid.require_grid(mdp)
    # A figure built with mark_terminal keeps terminal cells off the colour scale.
    marked = any(trace.name == _grid.TERMINAL_TRACE for trace in figure.data)
    data = _grid.grid_data(mdp, values, policy, mark_terminal=marked)
    traces = {
        name: [trace for trace in figure.data if trace.name == name]
        for name in (_grid.VALUES_TRACE, _grid.SHAFT_TRACE, _grid.HEAD_TRACE)
    }
    if not traces[_grid.SHAFT_TRACE]:
        raise ValueError("figure was not built by rewardviz.plots.gridworld; build it with that.")
    if data.z is not None:
        heatmaps = traces[_grid.VALUES_TRACE]
        if not heatmaps:
            raise ValueError(
                "figure was built without values, so it has no colour scale to update; "
                "build it with rewardviz.plots.gridworld(mdp, values=...)."
            )
        if len(heatmaps) != data.z.shape[0]:
            built_with = "[S]" if len(heatmaps) == 1 else f"[S, A] ({len(heatmaps)} panels)"
            raise ValueError(
                f"values has shape {np.shape(values)} but the figure was built with values "
                f"{built_with}; pass the same kind of values it was built with."
            )
    slots = _grid.arrow_slots(mdp)
    if any(len(trace.x) != len(slots.states) for trace in traces[_grid.HEAD_TRACE]):
        raise ValueError(
            "figure was built for an MDP with a different grid or actions; build a new "
            "figure with rewardviz.plots.gridworld for this MDP."
        )

    with _common.batch(figure):
        if data.z is not None:
            for heatmap, z, hover in zip(
                traces[_grid.VALUES_TRACE], data.z, data.hover, strict=True
            ):
                heatmap.z = _grid.heatmap_cells(z)
                heatmap.text = hover
        if data.arrow_ends is not None:
            for shaft, head in zip(
                traces[_grid.SHAFT_TRACE], traces[_grid.HEAD_TRACE], strict=True
            ):
                _grid.set_arrows(shaft, head, slots, data)
        if title is not None:
            figure.layout.title.text = title
    return figure


def gridworld_matplotlib(
    mdp: TabularMDP,
    values=None,
    policy=None,
    *,
    ax=None,
    cmap="viridis",
    title: str | None = None,
    mark_terminal: bool = True,
):
    """A static matplotlib picture of the same data as :func:`gridworld`, for handouts.

    ``values[S]`` is drawn as a heatmap with non-state cells grey; ``values[S, A]``
    (Q-values) as four triangles per cell, each pointing towards the side its action
    moves to (only actions named as directions are drawn). Layout characters are
    written in their cells, the policy is drawn with arrows.

    Args:
        mdp: an MDP with ``grid_shape``.
        values: ``[S]`` or ``[S, A]``; without values the state cells are white.
        policy: ``[S, A]`` action probabilities or an integer ``[S]`` of actions.
        ax: the axes to draw on; a new figure is made when omitted.
        cmap: a matplotlib colour map name or object.
        title: axes title.
        mark_terminal: draw terminal states in their own colours with a legend under
            the grid, off the colour scale, as :func:`gridworld` does.

    Returns:
        The matplotlib ``Axes``.

    Example:
        >>> q = rv.solve.q_values(mdp, reward)
        >>> ax = rv.plots.gridworld_matplotlib(mdp, q, rv.solve.greedy_policy(q))
        >>> ax.figure.savefig("q_values.png")  # doctest: +SKIP
    """
    import matplotlib
    import matplotlib.patheffects as path_effects
    from matplotlib.collections import PolyCollection

    _grid.require_grid(mdp)
    data = _grid.grid_data(mdp, values, policy, mark_terminal=mark_terminal)
    rows, cols = mdp.grid_shape
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(0.9 * cols + 1.8, 0.9 * rows + 0.8))
    colour_map = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    ax.set_facecolor(style.NOT_A_STATE_COLOUR)

    if data.z is None:
        blank = _grid.state_grid(mdp, np.zeros((mdp.n_states, 1)))[0]
        white = matplotlib.colors.ListedColormap(["white"]).with_extremes(bad=(0, 0, 0, 0))
        ax.imshow(np.ma.masked_invalid(blank), cmap=white)
    elif data.z.shape[0] == 1:
        image = ax.imshow(
            np.ma.masked_invalid(data.z[0]), cmap=colour_map.with_extremes(bad=(0, 0, 0, 0))
        )
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    else:
        triangles, triangle_values = _q_triangles(mdp, data.z)
        collection = PolyCollection(
            triangles, array=triangle_values, cmap=colour_map, edgecolors="white", linewidths=0.6
        )
        ax.add_collection(collection)
        ax.figure.colorbar(collection, ax=ax, fraction=0.046, pad=0.04)

    if mark_terminal:
        _terminal_patches(ax, mdp)
    outline = [path_effects.withStroke(linewidth=2.5, foreground="black")]
    for row, col, character in _grid.layout_cells(mdp):
        ax.text(
            col,
            row,
            character,
            ha="center",
            va="center",
            fontsize=14,
            fontweight="bold",
            color="white",
            path_effects=outline,
        )
    if data.arrow_ends is not None:
        drawn = ~np.isnan(data.arrow_ends[:, 0])
        starts, moves = data.arrow_starts[drawn], (data.arrow_ends - data.arrow_starts)[drawn]
        ax.quiver(
            starts[:, 0],
            starts[:, 1],
            moves[:, 0],
            moves[:, 1],
            angles="xy",
            scale_units="xy",
            scale=1,
            units="xy",
            width=0.05,
            headwidth=3.5,
            headlength=3.5,
            headaxislength=3,
            color=style.ARROW_COLOUR,
        )

    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)  # row 0 at the top, as in the layout strings
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------
# Pieces.


def _terminal_patches(ax, mdp: TabularMDP) -> None:
    """Fill terminal cells with the colour of their kind, with a legend under the grid."""
    from matplotlib.patches import Patch, Rectangle

    kinds = _grid.terminal_kinds(mdp)
    for (row, col), kind in kinds.items():
        ax.add_patch(
            Rectangle(
                (col - 0.5, row - 0.5),
                1,
                1,
                facecolor=style.TERMINAL_COLOURS[kind],
                edgecolor="white",
                linewidth=0.6,
                zorder=2,  # over the values, under the layout characters
            )
        )
    if kinds:
        ax.legend(
            handles=[
                Patch(facecolor=style.TERMINAL_COLOURS[kind], label=_grid.TERMINAL_LEGEND + kind)
                for kind in dict.fromkeys(kinds.values())
            ],
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=len(set(kinds.values())),
            frameon=False,
        )


def _q_triangles(mdp: TabularMDP, q_grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Triangles ``[K, 3, 2]`` (cell centre and the two corners on the action's side) and
    their values ``[K]``, for every state and direction action, from ``q_grids[A, rows, cols]``."""
    slots = _grid.arrow_slots(mdp)
    if len(slots.states) == 0:
        raise ValueError(
            "values [S, A] are drawn as one triangle per direction action, but none of "
            f"mdp.action_names {mdp.action_names} is a direction (up, down, left, right)."
        )
    across = slots.moves[:, ::-1] * (1, -1)  # the move turned by 90 degrees
    side_middle = slots.centres + 0.5 * slots.moves
    triangles = np.stack(
        [slots.centres, side_middle + 0.5 * across, side_middle - 0.5 * across], axis=1
    )
    cell_cols, cell_rows = slots.centres.astype(int).T
    return triangles, q_grids[slots.actions, cell_rows, cell_cols]
