"""The tabular Markov decision process every analysis in rewardviz is built on.

``TabularMDP`` holds the dynamics only: transition kernel, discount, start
distribution and terminal states. Rewards are separate arrays shaped
``[..., S, A, S']`` (see :mod:`rewardviz.rewards`) so that one MDP can be paired with
a whole batch of rewards. This module validates and stores; it computes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks

__all__ = [
    "SUM_TOLERANCE",
    "TabularMDP",
]

#: Rows of ``transitions`` (and ``initial``) must sum to 1 within this absolute
#: tolerance, per floating type: float32 rounding over a few hundred successor
#: states reaches ~1e-6, float64 input is expected to be normalised carefully.
SUM_TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-8}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class TabularMDP:
    """A finite MDP: ``transitions[s, a, s'] = T(s' | s, a)``, discount, start and terminal states.

    Args:
        transitions: ``[S, A, S']`` transition probabilities; every ``(s, a)`` row sums to 1.
        gamma: discount factor in ``[0, 1]``. ``gamma == 1`` needs terminal states.
        initial: ``[S]`` start distribution; uniform over all states when omitted.
        terminal: boolean mask ``[S]`` or a sequence of state indices. Terminal states
            are absorbing with value 0: the reward of entering one counts, nothing after
            it does, and potentials (for shaping) are 0 there. Their rows of
            ``transitions`` are kept but never used.
        state_names, action_names: labels for plots and tables.
        grid_shape: ``(rows, cols)`` when the states live on a grid (gridworlds).
        grid_cells: ``(row, col)`` of each state on that grid; defaults to row-major
            order, which needs ``S == rows * cols``.
        grid_layout: one string per grid row with a character per cell (``#`` wall,
            ``S`` start, ``G`` goal, ...), drawn by the grid plots.

    The instance is a JAX pytree: ``transitions``, ``gamma``, ``initial`` and ``terminal``
    are leaves (so a new ``gamma`` does not recompile a jitted solver, and stacked MDPs
    can be ``vmap``-ed), the names and grid layout are static metadata.

    Example:
        >>> import numpy as np, rewardviz as rv
        >>> stay_switch = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]]], dtype=float)
        >>> rv.TabularMDP(stay_switch, gamma=0.9)
        TabularMDP(states=2, actions=2, gamma=0.9, terminal=0 states)
    """

    transitions: jax.Array
    gamma: jax.Array
    initial: jax.Array | None = None
    terminal: jax.Array | Sequence[int] | None = None
    state_names: tuple[str, ...] | None = None
    action_names: tuple[str, ...] | None = None
    grid_shape: tuple[int, int] | None = None
    grid_cells: tuple[tuple[int, int], ...] | None = None
    grid_layout: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        transitions = _checks.float_array("transitions", self.transitions)
        if transitions.ndim != 3 or transitions.shape[0] != transitions.shape[2]:
            raise ValueError(
                f"transitions must have shape [S, A, S'] with S' == S, got {transitions.shape}; "
                "build it as transitions[s, a, s_next] = probability."
            )
        n_states, n_actions, _ = transitions.shape
        if n_states == 0 or n_actions == 0:
            raise ValueError(
                f"transitions has {n_states} states and {n_actions} actions; an MDP needs at "
                "least one of each."
            )
        _checks.finite("transitions", transitions)
        tolerance = SUM_TOLERANCE.get(np.dtype(transitions.dtype), 1e-5)
        _probabilities("transitions", np.asarray(transitions), tolerance)

        gamma = _checks.in_range(
            "gamma", self.gamma, 0.0, 1.0, hint="Use a discount factor such as 0.9 or 0.99."
        )
        terminal = _terminal_mask(self.terminal, n_states)
        if gamma == 1.0 and not bool(terminal.any()):
            raise ValueError(
                "gamma == 1 needs terminal states, otherwise returns are infinite sums; "
                "pass terminal=[...] or use gamma < 1."
            )

        if self.initial is None:
            initial = jnp.full((n_states,), 1.0 / n_states, dtype=transitions.dtype)
        else:
            initial = _checks.float_array("initial", self.initial, dtype=transitions.dtype)
            if initial.shape != (n_states,):
                raise ValueError(
                    f"initial must have shape [S] = ({n_states},), got {initial.shape}."
                )
            _checks.finite("initial", initial)
            _probabilities("initial", np.asarray(initial), tolerance)

        names = {
            "state_names": _names("state_names", self.state_names, n_states),
            "action_names": _names("action_names", self.action_names, n_actions),
        }
        grid_shape, grid_cells = _grid(self.grid_shape, self.grid_cells, n_states)
        grid_layout = _layout(self.grid_layout, grid_shape)

        fields = {
            "transitions": transitions,
            "gamma": jnp.asarray(gamma, dtype=transitions.dtype),
            "initial": initial,
            "terminal": jnp.asarray(terminal),
            "grid_shape": grid_shape,
            "grid_cells": grid_cells,
            "grid_layout": grid_layout,
            **names,
        }
        for field, value in fields.items():
            object.__setattr__(self, field, value)

    @property
    def n_states(self) -> int:
        return self.transitions.shape[-3]

    @property
    def n_actions(self) -> int:
        return self.transitions.shape[-2]

    @property
    def dtype(self) -> jnp.dtype:
        return self.transitions.dtype

    def replace(self, **changes) -> TabularMDP:
        """A copy with some fields changed, validated like a new instance."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        parts = [
            f"states={self.n_states}",
            f"actions={self.n_actions}",
            f"gamma={_short(self.gamma)}",
            f"terminal={_count(self.terminal)} states",
        ]
        if self.grid_shape is not None:
            parts.append(f"grid={self.grid_shape[0]}x{self.grid_shape[1]}")
        return f"TabularMDP({', '.join(parts)})"


def _short(value) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, jax.errors.ConcretizationTypeError):
        return "<traced>"


def _count(mask) -> str:
    if isinstance(mask, jax.core.Tracer):  # printed inside the caller's jit/vmap
        return "<traced>"
    return str(int(np.asarray(mask).sum()))


_DATA_FIELDS = ("transitions", "gamma", "initial", "terminal")
_META_FIELDS = ("state_names", "action_names", "grid_shape", "grid_cells", "grid_layout")


def _flatten(mdp: TabularMDP):
    children = [(jax.tree_util.GetAttrKey(name), getattr(mdp, name)) for name in _DATA_FIELDS]
    return children, tuple(getattr(mdp, name) for name in _META_FIELDS)


def _unflatten(meta, children) -> TabularMDP:
    # JAX rebuilds pytrees with tracers and placeholders, which must not be validated
    # again: bypass __init__ and set the fields directly.
    mdp = object.__new__(TabularMDP)
    for name, value in zip(_DATA_FIELDS, children, strict=True):
        object.__setattr__(mdp, name, value)
    for name, value in zip(_META_FIELDS, meta, strict=True):
        object.__setattr__(mdp, name, value)
    return mdp


jax.tree_util.register_pytree_with_keys(TabularMDP, _flatten, _unflatten)


def _probabilities(name: str, rows: np.ndarray, tolerance: float) -> None:
    """Check that ``rows`` (``[..., n]``) is non-negative and sums to 1 along its last axis."""
    negative = rows < 0
    if negative.any():
        where = tuple(int(i) for i in np.argwhere(negative)[0])
        raise ValueError(
            f"{name} has a negative probability {rows[where]:g} at index {where}; "
            "probabilities must be >= 0 (clip tiny negative round-off to 0)."
        )
    totals = np.atleast_1d(rows.sum(axis=-1))
    off = np.abs(totals - 1.0) > tolerance
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0])
        row = f"{name}[{', '.join(map(str, where))}, :]" if rows.ndim > 1 else name
        raise ValueError(
            f"{row} sums to {totals[where]:.10g}, not 1 (tolerance {tolerance:g}); "
            f"normalise it, e.g. {name} / {name}.sum(axis=-1, keepdims=True)."
        )


def _terminal_mask(terminal, n_states: int) -> np.ndarray:
    if terminal is None:
        return np.zeros(n_states, dtype=bool)
    values = np.asarray(terminal)
    if values.dtype == bool:
        if values.shape != (n_states,):
            raise ValueError(
                f"terminal as a boolean mask must have shape [S] = ({n_states},), "
                f"got {values.shape}."
            )
        return values
    if values.size == 0:
        return np.zeros(n_states, dtype=bool)
    if not np.issubdtype(values.dtype, np.integer) or values.ndim != 1:
        raise ValueError(
            "terminal must be a boolean mask of shape [S] or a 1-D sequence of state "
            f"indices, got an array of dtype {values.dtype} and shape {values.shape}."
        )
    if len(np.unique(values)) != len(values):
        raise ValueError(
            "terminal holds repeated state indices; integer arrays are read as indices, so "
            "pass a boolean mask (terminal=mask.astype(bool)) or unique indices."
        )
    if values.min() < 0 or values.max() >= n_states:
        raise ValueError(
            f"terminal holds state index {values.min() if values.min() < 0 else values.max()}, "
            f"outside 0..{n_states - 1}."
        )
    mask = np.zeros(n_states, dtype=bool)
    mask[values] = True
    return mask


def _names(argument: str, names, count: int) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str) or not isinstance(names, Sequence | np.ndarray):
        raise TypeError(
            f"{argument} must be a sequence of {count} labels (a list of strings), got "
            f"{_checks.describe(names)}."
        )
    names = tuple(str(name) for name in names)
    if len(names) != count:
        raise ValueError(f"{argument} must have {count} entries, got {len(names)}.")
    return names


def _grid(grid_shape, grid_cells, n_states: int):
    if grid_shape is None:
        if grid_cells is not None:
            raise ValueError("grid_cells needs grid_shape=(rows, cols) as well.")
        return None, None
    if not isinstance(grid_shape, Sequence | np.ndarray) or len(grid_shape) != 2:
        raise TypeError(
            f"grid_shape must be (rows, cols), two positive integers, got "
            f"{_checks.describe(grid_shape)}."
        )
    rows, cols = (_checks.integer(f"grid_shape[{i}]", n) for i, n in enumerate(grid_shape))
    if rows < 1 or cols < 1:
        raise ValueError(f"grid_shape must be two positive integers, got {tuple(grid_shape)}.")
    if grid_cells is None:
        if rows * cols != n_states:
            raise ValueError(
                f"grid_shape {rows}x{cols} has {rows * cols} cells but the MDP has {n_states} "
                "states; pass grid_cells=[(row, col) for each state] when some cells are not "
                "states."
            )
        grid_cells = [(index // cols, index % cols) for index in range(n_states)]
    cells = tuple((int(row), int(col)) for row, col in grid_cells)
    if len(cells) != n_states:
        raise ValueError(f"grid_cells must have one (row, col) per state, got {len(cells)}.")
    outside = [cell for cell in cells if not (0 <= cell[0] < rows and 0 <= cell[1] < cols)]
    if outside:
        raise ValueError(f"grid_cells {outside[0]} lies outside the {rows}x{cols} grid.")
    if len(set(cells)) != len(cells):
        raise ValueError("grid_cells puts two states on the same cell.")
    return (rows, cols), cells


def _layout(layout, grid_shape) -> tuple[str, ...] | None:
    if layout is None:
        return None
    if grid_shape is None:
        raise ValueError("grid_layout needs grid_shape=(rows, cols) as well.")
    rows = tuple(str(row) for row in layout)
    if len(rows) != grid_shape[0] or any(len(row) != grid_shape[1] for row in rows):
        raise ValueError(
            f"grid_layout must have {grid_shape[0]} rows of {grid_shape[1]} characters."
        )
    return rows
