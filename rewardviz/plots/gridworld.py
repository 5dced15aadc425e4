"""Grid pictures of per-state quantities and policies: plotly figures and matplotlib handouts.

Every function here is a pure builder: it is handed arrays that were already computed
(values, Q-values, rewards, policies) and draws them on the MDP's grid. Nothing here
solves an MDP or imports a widget; :mod:`rewardviz.widgets` composes the solvers with
these builders.

Geometry: the cell of grid row ``r`` and column ``c`` is centred at ``x = c, y = r``
with row 0 at the top. A policy is drawn as one arrow per state and per action whose
name is a direction (up/north, down/south, left/west, right/east), pointing that way
with a length proportional to the action's probability. The plotly figure keeps one
line segment and one arrow head per (state, direction action) pair whether or not the
arrow is visible, so :func:`update_gridworld` can change a figure in place without
adding or removing traces.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rewardviz import _checks
from rewardviz.mdp import TabularMDP
from rewardviz.policies import as_stochastic

#: Unit moves ``(d_col, d_row)`` on the grid for action names, lower case; rows grow downwards.
DIRECTIONS = {
    "up": (0, -1),
    "north": (0, -1),
    "down": (0, 1),
    "south": (0, 1),
    "left": (-1, 0),
    "west": (-1, 0),
    "right": (1, 0),
    "east": (1, 0),
}
#: Length of the arrow of an action taken with probability 1, in cells.
ARROW_REACH = 0.42
#: Arrow head marker size, in pixels, of an action taken with probability 1.
HEAD_SIZE = 10
#: Actions taken with a smaller probability get no arrow.
MIN_ARROW_PROBABILITY = 0.01
#: Layout characters that mark an ordinary free cell and are not drawn.
FREE_CELLS = {".", " ", "F"}
#: What the layout characters mean, for hover text.
CELL_MEANINGS = {
    "S": "start",
    "G": "goal",
    "L": "lava",
    "C": "cliff",
    "H": "hole",
    "#": "wall",
}
ARROW_COLOUR = "#e8112d"
NOT_A_STATE_COLOUR = "#bdbdbd"

# Trace names: update_gridworld finds the traces it changes by these.
_VALUES_TRACE = "values"
_BLANK_TRACE = "cells"
_LAYOUT_TRACE = "layout"
_SHAFT_TRACE = "policy"
_HEAD_TRACE = "policy heads"


@dataclasses.dataclass(frozen=True)
class _ArrowSlots:
    """One potential arrow per (state, direction action) pair, state-major.

    Attributes:
        states: ``[K]`` state of each slot.
        actions: ``[K]`` action of each slot.
        moves: ``[K, 2]`` unit ``(d_col, d_row)`` of the action's direction.
        centres: ``[K, 2]`` ``(x, y)`` centre of the state's cell.
    """

    states: np.ndarray
    actions: np.ndarray
    moves: np.ndarray
    centres: np.ndarray

    @property
    def screen_angles(self) -> np.ndarray:
        """``[K]`` arrow-head angles in degrees clockwise from up, as plotly's markers want."""
        return np.degrees(np.arctan2(self.moves[:, 0], -self.moves[:, 1]))


@dataclasses.dataclass(frozen=True)
class _GridData:
    """Everything the figures draw, computed once for plotly and matplotlib alike.

    Attributes:
        z: ``[P, rows, cols]`` one grid per panel (1 for ``values[S]``, ``A`` for
            ``values[S, A]``); NaN where a cell is not a state. None without values.
        hover: ``[P, rows, cols]`` hover text per cell. None without values.
        arrow_starts, arrow_ends: ``[K, 2]`` ``(x, y)`` of each arrow slot, NaN where
            no arrow is drawn. None without a policy.
        arrow_probabilities: ``[K]`` probability of each slot's action, NaN where no
            arrow is drawn. None without a policy.
    """

    z: np.ndarray | None
    hover: np.ndarray | None
    arrow_starts: np.ndarray | None
    arrow_ends: np.ndarray | None
    arrow_probabilities: np.ndarray | None


# ---------------------------------------------------------------------------
# Public builders.


def gridworld(
    mdp: TabularMDP,
    values=None,
    policy=None,
    *,
    title: str | None = None,
    colorscale="Viridis",
    zmid: float | None = None,
    show_layout: bool = True,
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

    Returns:
        A ``plotly.graph_objects.Figure``; wrap it in ``go.FigureWidget`` for a widget.
        Its traces keep the same number of points whatever the values and policy, so
        :func:`update_gridworld` can redraw it in place.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
        >>> q = rv.solve.q_values(mdp, reward)
        >>> figure = rv.plots.gridworld(mdp, q.max(-1), rv.solve.greedy_policy(q))
    """
    _require_grid(mdp)
    data = _grid_data(mdp, values, policy)
    rows, _ = mdp.grid_shape
    if data.z is None:
        z = _state_grid(mdp, np.zeros((mdp.n_states, 1)))
        hover = _hover_text(mdp, None)
        heatmap_name = _BLANK_TRACE
    else:
        z, hover, heatmap_name = data.z, data.hover, _VALUES_TRACE
    panel_titles = _action_labels(mdp) if z.shape[0] > 1 else [None]

    figure = make_subplots(
        rows=1,
        cols=len(panel_titles),
        subplot_titles=panel_titles if len(panel_titles) > 1 else None,
        horizontal_spacing=min(0.08, 0.3 / len(panel_titles)),
    )
    for panel in range(len(panel_titles)):
        _add_grid_panel(
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
        )
    _style_grid_axes(figure, mdp, len(panel_titles))
    if heatmap_name == _VALUES_TRACE:
        coloraxis = {"colorscale": colorscale, "cmid": zmid, "colorbar": {"thickness": 14}}
    else:
        coloraxis = {"colorscale": [[0, "white"], [1, "white"]], "showscale": False}
    cell_pixels = 56 if len(panel_titles) == 1 else 40
    figure.update_layout(
        title=title,
        coloraxis=coloraxis,
        plot_bgcolor=NOT_A_STATE_COLOUR,  # cells with no state (NaN) show the background
        height=max(260, cell_pixels * rows + 120),
        margin={"l": 20, "r": 20, "t": 60 if title or len(panel_titles) > 1 else 30, "b": 20},
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
    _require_grid(mdp)
    data = _grid_data(mdp, values, policy)
    traces = {
        name: [trace for trace in figure.data if trace.name == name]
        for name in (_VALUES_TRACE, _SHAFT_TRACE, _HEAD_TRACE)
    }
    if not traces[_SHAFT_TRACE]:
        raise ValueError("figure was not built by rewardviz.plots.gridworld; build it with that.")
    if data.z is not None:
        heatmaps = traces[_VALUES_TRACE]
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
    slots = _arrow_slots(mdp)
    if any(len(trace.x) != len(slots.states) for trace in traces[_HEAD_TRACE]):
        raise ValueError(
            "figure was built for an MDP with a different grid or actions; build a new "
            "figure with rewardviz.plots.gridworld for this MDP."
        )

    batch = figure.batch_update() if hasattr(figure, "batch_update") else contextlib.nullcontext()
    with batch:
        if data.z is not None:
            for heatmap, z, hover in zip(traces[_VALUES_TRACE], data.z, data.hover, strict=True):
                heatmap.z = heatmap_cells(z)
                heatmap.text = hover
        if data.arrow_ends is not None:
            for shaft, head in zip(traces[_SHAFT_TRACE], traces[_HEAD_TRACE], strict=True):
                _set_arrows(shaft, head, slots, data)
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

    _require_grid(mdp)
    data = _grid_data(mdp, values, policy)
    rows, cols = mdp.grid_shape
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(0.9 * cols + 1.8, 0.9 * rows + 0.8))
    colour_map = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    ax.set_facecolor(NOT_A_STATE_COLOUR)

    if data.z is None:
        blank = _state_grid(mdp, np.zeros((mdp.n_states, 1)))[0]
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

    outline = [path_effects.withStroke(linewidth=2.5, foreground="black")]
    for row, col, character in _layout_cells(mdp):
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
            color=ARROW_COLOUR,
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
# Figure pieces shared by the plotly builders (here and in rewardviz.plots.distances).


def _add_grid_panel(
    figure: go.Figure,
    mdp: TabularMDP,
    z: np.ndarray,
    hover: np.ndarray,
    data: _GridData,
    *,
    row: int,
    col: int,
    heatmap_name: str,
    coloraxis: str,
    show_layout: bool = True,
    arrows: bool = True,
) -> None:
    """Draw one grid in subplot ``(row, col)``: a heatmap, layout characters and arrows.

    Args:
        z, hover: ``[rows, cols]`` cell values (NaN off the states) and hover text.
        data: the arrows of ``data`` are drawn (hidden slots when it has no policy).
        heatmap_name: the heatmap trace's name, by which update functions find it.
        coloraxis: the layout colour axis the heatmap uses (``"coloraxis"``,
            ``"coloraxis2"``, ...); panels sharing one share a colour scale.
        arrows: add the policy traces (one segment and one head per arrow slot).
    """
    rows, cols = mdp.grid_shape
    position = {"row": row, "col": col}
    figure.add_trace(
        go.Heatmap(
            z=heatmap_cells(z),
            x=np.arange(cols),
            y=np.arange(rows),
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            coloraxis=coloraxis,
            xgap=1,
            ygap=1,
            name=heatmap_name,
        ),
        **position,
    )
    layout_cells = _layout_cells(mdp) if show_layout else []
    if layout_cells:
        row_index, col_index, characters = zip(*layout_cells, strict=True)
        figure.add_trace(
            go.Scatter(
                x=col_index,
                y=row_index,
                text=characters,
                mode="text",
                textfont={"size": 18, "color": "white", "shadow": "auto"},
                hoverinfo="skip",
                showlegend=False,
                name=_LAYOUT_TRACE,
            ),
            **position,
        )
    if not arrows:
        return
    slots = _arrow_slots(mdp)
    shaft_x, shaft_y = _shaft_coordinates(slots, data)
    head_x, head_y, head_size = _arrow_heads(slots, data)
    figure.add_trace(
        go.Scatter(
            x=shaft_x,
            y=shaft_y,
            mode="lines",
            line={"color": ARROW_COLOUR, "width": 2.5},
            connectgaps=False,
            hoverinfo="skip",
            showlegend=False,
            name=_SHAFT_TRACE,
        ),
        **position,
    )
    figure.add_trace(
        go.Scatter(
            x=head_x,
            y=head_y,
            mode="markers",
            marker={
                "symbol": "arrow",
                "angle": slots.screen_angles,
                "size": head_size,
                "color": ARROW_COLOUR,
            },
            hoverinfo="skip",
            showlegend=False,
            name=_HEAD_TRACE,
        ),
        **position,
    )


def heatmap_cells(z: np.ndarray) -> list:
    """``[rows, cols]`` cell values as nested lists with ``None`` where a cell has no state.

    Plotly draws ``None`` as a gap, like NaN; but a widget sends 2-D data to the browser as
    JSON, which has no NaN, and a message with NaN is not valid JSON (the front end drops it).
    """
    return np.where(np.isnan(z), None, z).tolist()


def _style_grid_axes(figure: go.Figure, mdp: TabularMDP, n_panels: int) -> None:
    """Square cells, no ticks, row 0 at the top, on the first ``n_panels`` subplot axes."""
    rows, cols = mdp.grid_shape
    axis_style = {"showgrid": False, "zeroline": False, "showticklabels": False, "ticks": ""}
    for panel in range(n_panels):
        suffix = "" if panel == 0 else str(panel + 1)
        figure.update_layout(
            {
                f"xaxis{suffix}": {
                    **axis_style,
                    "range": [-0.5, cols - 0.5],
                    "constrain": "domain",
                },
                f"yaxis{suffix}": {
                    **axis_style,
                    "range": [rows - 0.5, -0.5],  # row 0 at the top, as in the layout strings
                    "scaleanchor": f"x{suffix}",
                    "constrain": "domain",
                },
            }
        )


def _set_arrows(shaft, head, slots: _ArrowSlots, data: _GridData) -> None:
    """Move the arrows of one panel (its shaft and head traces) to those of ``data``."""
    shaft.x, shaft.y = _shaft_coordinates(slots, data)
    head_x, head_y, head_size = _arrow_heads(slots, data)
    head.x, head.y = head_x, head_y
    head.marker.size = head_size


# ---------------------------------------------------------------------------
# Data preparation shared by the builders.


def _require_grid(mdp: TabularMDP) -> None:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")
    if mdp.grid_shape is None:
        raise ValueError(
            "gridworld plots need mdp.grid_shape; use rv.envs.gridworld or pass "
            "grid_shape=(rows, cols) (and grid_cells=...) to rv.TabularMDP."
        )


def _grid_data(
    mdp: TabularMDP, values, policy, *, quantity: str = "value", policy_name: str = "policy"
) -> _GridData:
    """Validate ``values`` and ``policy`` and turn them into grids, hover text and arrows.

    ``quantity`` names what ``values[S]`` are in the hover text ("value", "reward", ...);
    ``policy_name`` names the policy argument in error messages.
    """
    z = hover = arrow_starts = arrow_ends = arrow_probabilities = None
    if values is not None:
        values = _checked_values(mdp, values)
        per_panel = values if values.ndim == 2 else values[:, None]  # [S, P]
        z = _state_grid(mdp, per_panel)
        hover = _hover_text(mdp, values, quantity)
    if policy is not None:
        probabilities = _checked_policy(mdp, policy, policy_name)
        slots = _arrow_slots(mdp)
        probability = probabilities[slots.states, slots.actions]
        shown = (probability >= MIN_ARROW_PROBABILITY) & ~np.asarray(mdp.terminal)[slots.states]
        arrow_probabilities = np.where(shown, probability, np.nan)
        arrow_starts = np.where(shown[:, None], slots.centres, np.nan)
        arrow_ends = slots.centres + ARROW_REACH * arrow_probabilities[:, None] * slots.moves
    return _GridData(
        z=z,
        hover=hover,
        arrow_starts=arrow_starts,
        arrow_ends=arrow_ends,
        arrow_probabilities=arrow_probabilities,
    )


def _checked_values(mdp: TabularMDP, values) -> np.ndarray:
    # Plots work in numpy float64 whatever JAX's precision: the arrays are only drawn.
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"values must be array-like of numbers, got {type(values).__name__}."
        ) from error
    per_state, per_action = (mdp.n_states,), (mdp.n_states, mdp.n_actions)
    if values.shape not in (per_state, per_action):
        raise ValueError(
            f"values must have shape [S] = {per_state} (one number per state) or "
            f"[S, A] = {per_action} (Q-values), got {tuple(values.shape)}."
        )
    _checks.finite("values", values)
    return values


def _checked_policy(mdp: TabularMDP, policy, name: str = "policy") -> np.ndarray:
    """The policy as probabilities ``[S, A]``, from ``[S, A]`` or integer ``[S]`` input."""
    shape = np.shape(policy)
    if shape not in ((mdp.n_states,), (mdp.n_states, mdp.n_actions)):
        raise ValueError(
            f"{name} must have shape [S, A] = ({mdp.n_states}, {mdp.n_actions}) (action "
            f"probabilities) or [S] = ({mdp.n_states},) (integer actions), got {shape}."
        )
    if len(shape) == 2:
        # Probabilities, even when given as a 0/1 integer table.
        policy = np.asarray(policy, dtype=float)
    return np.asarray(as_stochastic(mdp, policy, name), dtype=float)


def _state_grid(mdp: TabularMDP, per_state: np.ndarray) -> np.ndarray:
    """Place ``per_state[S, P]`` on the grid: ``[P, rows, cols]``, NaN off the states."""
    rows, cols = mdp.grid_shape
    grid = np.full((per_state.shape[1], rows, cols), np.nan)
    cell_rows, cell_cols = np.asarray(mdp.grid_cells).T
    grid[:, cell_rows, cell_cols] = per_state.T
    return grid


def _hover_text(mdp: TabularMDP, values: np.ndarray | None, quantity: str = "value") -> np.ndarray:
    """``[P, rows, cols]`` hover text: the state and its value(s), or what a non-state cell is.

    ``quantity`` names what a per-state ``values[S]`` is ("value", "reward", ...).
    """
    rows, cols = mdp.grid_shape
    terminal = np.asarray(mdp.terminal)
    panels = 1 if values is None or values.ndim == 1 else mdp.n_actions
    text = np.empty((panels, rows, cols), dtype=object)
    for row in range(rows):
        for col in range(cols):
            meaning = CELL_MEANINGS.get(_layout_character(mdp, row, col), "not a state")
            text[:, row, col] = f"cell ({row}, {col}): {meaning}"
    for state, (row, col) in enumerate(mdp.grid_cells):
        label = f"state {state}"
        if mdp.state_names is not None:
            label += f" {mdp.state_names[state]}"
        meaning = CELL_MEANINGS.get(_layout_character(mdp, row, col))
        if meaning:
            label += f", {meaning}"
        if terminal[state]:
            label += " (terminal)"
        if values is None:
            text[:, row, col] = label
        elif values.ndim == 1:
            text[0, row, col] = f"{label}<br>{quantity} {values[state]:.4g}"
        else:
            for action, action_name in enumerate(_action_labels(mdp)):
                text[action, row, col] = (
                    f"{label}<br>Q(s, {action_name}) = {values[state, action]:.4g}"
                )
    return text


def _layout_character(mdp: TabularMDP, row: int, col: int) -> str | None:
    return None if mdp.grid_layout is None else mdp.grid_layout[row][col]


def _layout_cells(mdp: TabularMDP) -> list[tuple[int, int, str]]:
    """``(row, col, character)`` of every layout character worth drawing."""
    if mdp.grid_layout is None:
        return []
    return [
        (row, col, character)
        for row, line in enumerate(mdp.grid_layout)
        for col, character in enumerate(line)
        if character not in FREE_CELLS
    ]


def _action_labels(mdp: TabularMDP) -> list[str]:
    if mdp.action_names is None:
        return [f"action {action}" for action in range(mdp.n_actions)]
    return list(mdp.action_names)


def _direction_actions(mdp: TabularMDP) -> list[tuple[int, tuple[int, int]]]:
    """``(action, (d_col, d_row))`` for each action whose name is a direction."""
    if mdp.action_names is None:
        return []
    return [
        (action, DIRECTIONS[name.strip().lower()])
        for action, name in enumerate(mdp.action_names)
        if name.strip().lower() in DIRECTIONS
    ]


def _arrow_slots(mdp: TabularMDP) -> _ArrowSlots:
    directions = _direction_actions(mdp)
    actions = np.array([action for action, _ in directions], dtype=int)
    moves = np.array([move for _, move in directions], dtype=float).reshape(-1, 2)
    cells = np.asarray(mdp.grid_cells, dtype=float)[:, ::-1]  # (row, col) -> (x, y)
    n_states, n_directions = mdp.n_states, len(directions)
    return _ArrowSlots(
        states=np.repeat(np.arange(n_states), n_directions),
        actions=np.tile(actions, n_states),
        moves=np.tile(moves, (n_states, 1)),
        centres=np.repeat(cells, n_directions, axis=0),
    )


def _shaft_coordinates(slots: _ArrowSlots, data: _GridData) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` of ``[3K]`` points: start, end and a NaN break for each arrow slot."""
    if data.arrow_ends is None:
        points = np.full((len(slots.states), 3, 2), np.nan)
    else:
        gap = np.full_like(data.arrow_ends, np.nan)
        points = np.stack([data.arrow_starts, data.arrow_ends, gap], axis=1)
    return points[:, :, 0].ravel(), points[:, :, 1].ravel()


def _arrow_heads(slots: _ArrowSlots, data: _GridData) -> tuple[np.ndarray, ...]:
    """``x, y`` and marker ``size`` (each ``[K]``) of the arrow heads, at the arrow ends.

    Heads shrink with the arrow so that unlikely actions do not look like big arrows.
    """
    if data.arrow_ends is None:
        hidden = np.full(len(slots.states), np.nan)
        return hidden, hidden, np.full(len(slots.states), HEAD_SIZE)
    size = np.nan_to_num(HEAD_SIZE * (0.4 + 0.6 * data.arrow_probabilities), nan=HEAD_SIZE)
    return data.arrow_ends[:, 0], data.arrow_ends[:, 1], size


def _q_triangles(mdp: TabularMDP, q_grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Triangles ``[K, 3, 2]`` (cell centre and the two corners on the action's side) and
    their values ``[K]``, for every state and direction action, from ``q_grids[A, rows, cols]``."""
    slots = _arrow_slots(mdp)
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
