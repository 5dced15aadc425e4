"""Grid drawing shared by the plot builders: per-state values on an MDP's grid, policy arrows.

Internal: :mod:`rewardviz.plots.gridworlds`, :mod:`rewardviz.plots.distances` and
:mod:`rewardviz.plots.learning` draw their grid panels with these pieces, so every grid
looks and updates alike. The names here are shared between those modules and are not
part of the public API. Nothing here solves an MDP.

Geometry: the cell of grid row ``r`` and column ``c`` is centred at ``x = c, y = r``
with row 0 at the top. A policy is drawn as one arrow per state and per action whose
name is a direction (up/north, down/south, left/west, right/east), pointing that way
with a length proportional to the action's probability. A plotly panel keeps one line
segment and one arrow head per (state, direction action) pair whether or not the
arrow is visible, so an update can change a figure in place without adding or removing
traces.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

from rewardviz import _checks
from rewardviz.mdp import TabularMDP
from rewardviz.plots import style
from rewardviz.plots._common import numbers
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
#: Arrow shaft width and head marker size (pixels, at probability 1) are these fractions
#: of a cell's side in pixels, kept within the bounds: big cells get bold arrows, small
#: cells arrows that are still readable.
SHAFT_FRACTION, SHAFT_WIDTHS = 0.06, (2.0, 6.0)
HEAD_FRACTION, HEAD_SIZES = 0.3, (9.0, 28.0)
#: Arrow head size of a figure whose cell size is not known (built before it was scaled).
HEAD_SIZE = 10
#: Figure width (pixels) assumed when sizing cells: plotly's default; notebooks and
#: widgets are seldom narrower.
ASSUMED_WIDTH = 700
#: Room (pixels) a panel's colour bar takes beside it.
COLORBAR_PIXELS = 80
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
#: Kind of a terminal cell (a key of :data:`~rewardviz.plots.style.TERMINAL_COLOURS`) by
#: its layout character; other terminal states are ``"terminal"``.
TERMINAL_KINDS = {"G": "goal", "L": "hazard", "H": "hazard", "C": "hazard"}

# Trace names: the update functions find the traces they change by these.
VALUES_TRACE = "values"
BLANK_TRACE = "cells"
LAYOUT_TRACE = "layout"
SHAFT_TRACE = "policy"
HEAD_TRACE = "policy heads"
TERMINAL_TRACE = "terminal cells"
#: Legend entries of the terminal cells are named this prefix and the kind of cell.
TERMINAL_LEGEND = "terminal: "


@dataclasses.dataclass(frozen=True)
class ArrowSlots:
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
class GridData:
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
# Figure pieces shared by the plotly builders.


def add_grid_panel(
    figure: go.Figure,
    mdp: TabularMDP,
    z: np.ndarray,
    hover: np.ndarray,
    data: GridData,
    *,
    row: int,
    col: int,
    heatmap_name: str,
    coloraxis: str,
    show_layout: bool = True,
    arrows: bool = True,
    mark_terminal: bool = False,
    cell_size: float | None = None,
) -> None:
    """Draw one grid in subplot ``(row, col)``: a heatmap, layout characters and arrows.

    Args:
        z, hover: ``[rows, cols]`` cell values (NaN off the states) and hover text.
        data: the arrows of ``data`` are drawn (hidden slots when it has no policy).
        heatmap_name: the heatmap trace's name, by which update functions find it.
        coloraxis: the layout colour axis the heatmap uses (``"coloraxis"``,
            ``"coloraxis2"``, ...); panels sharing one share a colour scale.
        arrows: add the policy traces (one segment and one head per arrow slot).
        mark_terminal: draw terminal cells in their own colours with a legend
            (:func:`add_terminal_cells`); ``data`` should come from :func:`grid_data`
            with ``mark_terminal=True``, which leaves them off the colour scale.
        cell_size: a cell's side in pixels (:func:`cell_pixels`), which sizes the arrows
            (:func:`arrow_sizes`); None for the default sizes.
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
    if mark_terminal:
        add_terminal_cells(figure, mdp, row=row, col=col)
    drawn_cells = layout_cells(mdp) if show_layout else []
    if drawn_cells:
        row_index, col_index, characters = zip(*drawn_cells, strict=True)
        figure.add_trace(
            go.Scatter(
                x=col_index,
                y=row_index,
                text=characters,
                mode="text",
                textfont={"size": 18, "color": "white", "shadow": "auto"},
                hoverinfo="skip",
                showlegend=False,
                name=LAYOUT_TRACE,
            ),
            **position,
        )
    if not arrows:
        return
    slots = arrow_slots(mdp)
    shaft_width, full_head = arrow_sizes(cell_size)
    shaft_x, shaft_y = _shaft_coordinates(slots, data)
    head_x, head_y, head_size = _arrow_heads(slots, data, full_head)
    figure.add_trace(
        go.Scatter(
            x=shaft_x,
            y=shaft_y,
            mode="lines",
            line={"color": style.ARROW_COLOUR, "width": shaft_width},
            connectgaps=False,
            hoverinfo="skip",
            showlegend=False,
            name=SHAFT_TRACE,
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
                "color": style.ARROW_COLOUR,
            },
            hoverinfo="skip",
            showlegend=False,
            name=HEAD_TRACE,
            meta={"head_size": full_head},  # for set_arrows, which resizes the heads
        ),
        **position,
    )


def add_terminal_cells(figure: go.Figure, mdp: TabularMDP, *, row: int, col: int) -> None:
    """Colour the terminal cells of subplot ``(row, col)`` by kind, with one legend entry each.

    A terminal state's value is 0 by convention (nothing after entering it counts), so
    on the values' colour scale a goal would look like the worst state. Its cell gets
    the colour of its kind (:data:`TERMINAL_KINDS`, :data:`style.TERMINAL_COLOURS`)
    instead, drawn over the heatmap, which keeps the hover text. The legend below the
    grid names each kind once per figure. Nothing is added when the MDP has no
    terminal states.
    """
    kinds = terminal_kinds(mdp)
    if not kinds:
        return
    rows, cols = mdp.grid_shape
    names = list(style.TERMINAL_COLOURS)
    codes = np.full((rows, cols), np.nan)
    for (cell_row, cell_col), kind in kinds.items():
        codes[cell_row, cell_col] = names.index(kind)
    # One flat band of colour per kind: code k covers [k, k + 1] / count of the scale.
    scale = []
    for k, name in enumerate(names):
        colour = style.TERMINAL_COLOURS[name]
        scale += [[k / len(names), colour], [(k + 1) / len(names), colour]]
    position = {"row": row, "col": col}
    figure.add_trace(
        go.Heatmap(
            z=heatmap_cells(codes),
            x=np.arange(cols),
            y=np.arange(rows),
            colorscale=scale,
            zmin=-0.5,
            zmax=len(names) - 0.5,
            showscale=False,
            xgap=1,
            ygap=1,
            hoverinfo="skip",  # the values heatmap below shows the cell's hover text
            name=TERMINAL_TRACE,
        ),
        **position,
    )
    shown = {trace.name for trace in figure.data}
    for kind in dict.fromkeys(kinds.values()):
        if TERMINAL_LEGEND + kind in shown:
            continue  # one legend entry per kind, whichever panel drew it first
        figure.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 14, "color": style.TERMINAL_COLOURS[kind]},
                name=TERMINAL_LEGEND + kind,
                hoverinfo="skip",
                showlegend=True,
            ),
            **position,
        )
    figure.update_layout(
        showlegend=True,
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "top"},
    )


def terminal_kinds(mdp: TabularMDP) -> dict[tuple[int, int], str]:
    """``{(row, col): kind}`` of each terminal state's cell (see :data:`TERMINAL_KINDS`)."""
    terminal = np.asarray(mdp.terminal)
    return {
        (int(row), int(col)): TERMINAL_KINDS.get(_layout_character(mdp, row, col), "terminal")
        for state, (row, col) in enumerate(mdp.grid_cells)
        if terminal[state]
    }


def legend_margin(mdp: TabularMDP, marked: bool = True) -> int:
    """Bottom margin (pixels) of a grid figure: room for the terminal cells' legend if drawn."""
    return 50 if marked and bool(np.asarray(mdp.terminal).any()) else 20


def cell_pixels(
    mdp: TabularMDP,
    *,
    height: float,
    margin: dict,
    panels: tuple[int, int] = (1, 1),
    width: float = ASSUMED_WIDTH,
) -> float:
    """About how many pixels a cell's side takes in a figure of ``panels`` (rows, cols) grids.

    Cells are square, so the side is set by whichever of the height and the width is
    shorter per cell; the width is :data:`ASSUMED_WIDTH` unless given, less the margins
    and a colour bar per column of panels, and a tenth is left for the gaps between panels.
    """
    rows, cols = mdp.grid_shape
    panel_rows, panel_cols = panels
    tall = (height - margin.get("t", 0) - margin.get("b", 0)) / (panel_rows * rows)
    wide = (width - margin.get("l", 0) - margin.get("r", 0) - COLORBAR_PIXELS * panel_cols) / (
        panel_cols * cols
    )
    return 0.9 * max(1.0, min(tall, wide))


def arrow_sizes(cell_size: float | None) -> tuple[float, float]:
    """``(shaft width, head size)`` in pixels of a probability-1 arrow in cells ``cell_size`` wide."""
    if cell_size is None:
        return 2.5, float(HEAD_SIZE)
    shaft = float(np.clip(SHAFT_FRACTION * cell_size, *SHAFT_WIDTHS))
    head = float(np.clip(HEAD_FRACTION * cell_size, *HEAD_SIZES))
    return shaft, head


def heatmap_cells(z: np.ndarray) -> list:
    """``[rows, cols]`` cell values as nested lists with ``None`` where a cell has no state.

    Plotly draws ``None`` as a gap, like NaN; but a widget sends 2-D data to the browser as
    JSON, which has no NaN, and a message with NaN is not valid JSON (the front end drops it).
    """
    return np.where(np.isnan(z), None, z).tolist()


def style_grid_axes(figure: go.Figure, mdp: TabularMDP, n_panels: int) -> None:
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


def set_arrows(shaft, head, slots: ArrowSlots, data: GridData) -> None:
    """Move the arrows of one panel (its shaft and head traces) to those of ``data``."""
    shaft.x, shaft.y = _shaft_coordinates(slots, data)
    full_head = (head.meta or {}).get("head_size", HEAD_SIZE)
    head_x, head_y, head_size = _arrow_heads(slots, data, full_head)
    head.x, head.y = head_x, head_y
    head.marker.size = head_size


# ---------------------------------------------------------------------------
# Data preparation shared by the builders.


def require_grid(mdp: TabularMDP) -> None:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")
    if mdp.grid_shape is None:
        raise ValueError(
            "gridworld plots need mdp.grid_shape; use rv.envs.gridworld or pass "
            "grid_shape=(rows, cols) (and grid_cells=...) to rv.TabularMDP."
        )


def grid_data(
    mdp: TabularMDP,
    values,
    policy,
    *,
    quantity: str = "value",
    policy_name: str = "policy",
    mark_terminal: bool = False,
) -> GridData:
    """Validate ``values`` and ``policy`` and turn them into grids, hover text and arrows.

    ``quantity`` names what ``values[S]`` are in the hover text ("value", "reward", ...);
    ``policy_name`` names the policy argument in error messages. With ``mark_terminal``
    the terminal states' cells are NaN in ``z`` (off the colour scale; drawn by
    :func:`add_terminal_cells`), their values still in the hover text.
    """
    z = hover = arrow_starts = arrow_ends = arrow_probabilities = None
    if values is not None:
        values = _checked_values(mdp, values)
        per_panel = values if values.ndim == 2 else values[:, None]  # [S, P]
        if mark_terminal:
            per_panel = np.where(np.asarray(mdp.terminal)[:, None], np.nan, per_panel)
        z = state_grid(mdp, per_panel)
        hover = hover_text(mdp, values, quantity)
    if policy is not None:
        probabilities = _checked_policy(mdp, policy, policy_name)
        slots = arrow_slots(mdp)
        probability = probabilities[slots.states, slots.actions]
        shown = (probability >= MIN_ARROW_PROBABILITY) & ~np.asarray(mdp.terminal)[slots.states]
        arrow_probabilities = np.where(shown, probability, np.nan)
        arrow_starts = np.where(shown[:, None], slots.centres, np.nan)
        arrow_ends = slots.centres + ARROW_REACH * arrow_probabilities[:, None] * slots.moves
    return GridData(
        z=z,
        hover=hover,
        arrow_starts=arrow_starts,
        arrow_ends=arrow_ends,
        arrow_probabilities=arrow_probabilities,
    )


def _checked_values(mdp: TabularMDP, values) -> np.ndarray:
    values = numbers("values", values)
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
    return np.asarray(as_stochastic(mdp, policy, name=name), dtype=float)


def state_grid(mdp: TabularMDP, per_state: np.ndarray) -> np.ndarray:
    """Place ``per_state[S, P]`` on the grid: ``[P, rows, cols]``, NaN off the states."""
    rows, cols = mdp.grid_shape
    grid = np.full((per_state.shape[1], rows, cols), np.nan)
    cell_rows, cell_cols = np.asarray(mdp.grid_cells).T
    grid[:, cell_rows, cell_cols] = per_state.T
    return grid


def hover_text(mdp: TabularMDP, values: np.ndarray | None, quantity: str = "value") -> np.ndarray:
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
            for action, action_name in enumerate(action_labels(mdp)):
                text[action, row, col] = (
                    f"{label}<br>Q(s, {action_name}) = {values[state, action]:.4g}"
                )
    return text


def _layout_character(mdp: TabularMDP, row: int, col: int) -> str | None:
    return None if mdp.grid_layout is None else mdp.grid_layout[row][col]


def layout_cells(mdp: TabularMDP) -> list[tuple[int, int, str]]:
    """``(row, col, character)`` of every layout character worth drawing."""
    if mdp.grid_layout is None:
        return []
    return [
        (row, col, character)
        for row, line in enumerate(mdp.grid_layout)
        for col, character in enumerate(line)
        if character not in FREE_CELLS
    ]


def action_labels(mdp: TabularMDP) -> list[str]:
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


def arrow_slots(mdp: TabularMDP) -> ArrowSlots:
    directions = _direction_actions(mdp)
    actions = np.array([action for action, _ in directions], dtype=int)
    moves = np.array([move for _, move in directions], dtype=float).reshape(-1, 2)
    cells = np.asarray(mdp.grid_cells, dtype=float)[:, ::-1]  # (row, col) -> (x, y)
    n_states, n_directions = mdp.n_states, len(directions)
    return ArrowSlots(
        states=np.repeat(np.arange(n_states), n_directions),
        actions=np.tile(actions, n_states),
        moves=np.tile(moves, (n_states, 1)),
        centres=np.repeat(cells, n_directions, axis=0),
    )


def _shaft_coordinates(slots: ArrowSlots, data: GridData) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` of ``[3K]`` points: start, end and a NaN break for each arrow slot."""
    if data.arrow_ends is None:
        points = np.full((len(slots.states), 3, 2), np.nan)
    else:
        gap = np.full_like(data.arrow_ends, np.nan)
        points = np.stack([data.arrow_starts, data.arrow_ends, gap], axis=1)
    return points[:, :, 0].ravel(), points[:, :, 1].ravel()


def _arrow_heads(
    slots: ArrowSlots, data: GridData, full_head: float = HEAD_SIZE
) -> tuple[np.ndarray, ...]:
    """``x, y`` and marker ``size`` (each ``[K]``) of the arrow heads, at the arrow ends.

    ``full_head`` is the size of the head of an action taken with probability 1; heads
    shrink with the arrow so that unlikely actions do not look like big arrows.
    """
    if data.arrow_ends is None:
        hidden = np.full(len(slots.states), np.nan)
        return hidden, hidden, np.full(len(slots.states), full_head)
    size = np.nan_to_num(full_head * (0.4 + 0.6 * data.arrow_probabilities), nan=full_head)
    return data.arrow_ends[:, 0], data.arrow_ends[:, 1], size
