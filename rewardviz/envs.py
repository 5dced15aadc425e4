"""Small environments as ``(TabularMDP, reward)`` pairs: gridworlds, chains, random MDPs, Gymnasium.

Every constructor returns the MDP and its reward array ``[S, A, S']`` so that
``mdp, reward = rv.envs.gridworld([...])`` is all a notebook needs. Construction is
vectorised numpy; nothing here solves anything.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _budget, _checks, _deprecation, _kernels
from rewardviz.mdp import TabularMDP

__all__ = [
    "GRID_ACTIONS",
    "chain",
    "from_gymnasium",
    "gridworld",
    "random_mdp",
    "random_reward",
    "stay_switch",
    "steps_to_goal",
]

#: Gridworld actions and their (row, col) moves, in action-index order.
GRID_ACTIONS = ("up", "right", "down", "left")
_MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])
#: Layout characters: the cells that are states, and the cells that are not.
_STATE_CELLS = {".", " ", "S", "G", "L"}
_OTHER_CELLS = {"#", "C"}
#: Why a reward argument must be finite, for the error message.
_NON_FINITE_REWARD = "a NaN or infinite reward would make every value that depends on it NaN"


def gridworld(
    layout: Sequence[str],
    *,
    gamma: float = 0.9,
    slip: float = 0.0,
    step_reward: float = 0.0,
    goal_reward: float = 1.0,
    lava_reward: float = -1.0,
    cliff_reward: float = -10.0,
) -> tuple[TabularMDP, jax.Array]:
    """A gridworld from a list of strings, and its reward.

    Characters: ``.`` free cell, ``#`` wall, ``S`` start, ``G`` goal (terminal),
    ``L`` lava (terminal), ``C`` cliff (stepping in costs ``cliff_reward`` and sends
    the agent back to the start, as in Sutton & Barto's cliff walking; cliff cells are
    not states). Actions are up, right, down, left; moving into a wall or off the grid
    leaves the agent in place. With ``slip > 0`` the move goes to each perpendicular
    direction with probability ``slip / 2``.

    Reward of a transition: ``step_reward``, plus ``goal_reward`` on entering a goal,
    ``lava_reward`` on entering lava, ``cliff_reward`` on falling off a cliff. The
    start distribution is uniform over ``S`` cells, or over all non-terminal states
    when there is none.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
        >>> mdp
        TabularMDP(states=7, actions=4, gamma=0.9, terminal=1 states, grid=2x4)
    """
    grid = _parse_layout(layout)
    slip = _checks.in_range("slip", slip, 0.0, 1.0)
    step_reward = _checks.finite_number("step_reward", step_reward, why=_NON_FINITE_REWARD)
    goal_reward = _checks.finite_number("goal_reward", goal_reward, why=_NON_FINITE_REWARD)
    lava_reward = _checks.finite_number("lava_reward", lava_reward, why=_NON_FINITE_REWARD)
    cliff_reward = _checks.finite_number("cliff_reward", cliff_reward, why=_NON_FINITE_REWARD)
    rows, cols = grid.shape
    is_state = np.isin(grid, list(_STATE_CELLS))
    cells = np.argwhere(is_state)  # [S, 2], row-major
    n_states = len(cells)
    if n_states == 0:
        raise ValueError("layout has no free cells; add '.', 'S' or 'G' cells.")
    state_of = np.full(grid.shape, -1)
    state_of[is_state] = np.arange(n_states)
    starts = np.flatnonzero(grid[is_state] == "S")
    if "C" in grid and len(starts) == 0:
        raise ValueError("a layout with cliff cells 'C' needs a start cell 'S' to return to.")

    # Where each of the four moves leads from each state, and whether it falls off a cliff.
    target = cells[:, None, :] + _MOVES[None, :, :]  # [S, 4, 2]
    inside = (target >= 0).all(-1) & (target < (rows, cols)).all(-1)
    target = np.where(inside[..., None], target, cells[:, None, :])
    target_char = grid[target[..., 0], target[..., 1]]
    falls = target_char == "C"
    blocked = target_char == "#"
    landing = state_of[target[..., 0], target[..., 1]]
    landing = np.where(blocked, np.arange(n_states)[:, None], landing)
    landing = np.where(falls, starts[0] if len(starts) else 0, landing)  # [S, 4]

    # Action a moves in direction a with 1 - slip, each perpendicular with slip / 2.
    directions = np.arange(4)
    outcome_probability = {0: 1.0 - slip, 1: slip / 2, 3: slip / 2}
    transitions = np.zeros((n_states, 4, n_states))
    reward_mass = np.zeros((n_states, 4, n_states))
    source = np.arange(n_states)[:, None]
    state_char = grid[is_state]
    bonus = (
        np.select([state_char == "G", state_char == "L"], [goal_reward, lava_reward], 0.0)
        + step_reward
    )  # reward for entering each state, [S]
    for turn, probability in outcome_probability.items():
        moved = (directions + turn) % 4  # direction actually taken by each action
        land = landing[:, moved]  # [S, 4]
        fell = falls[:, moved]
        value = np.where(fell, step_reward + cliff_reward, bonus[land])
        np.add.at(transitions, (source, directions[None, :], land), probability)
        np.add.at(reward_mass, (source, directions[None, :], land), probability * value)

    # R(s, a, s') is the expected reward given the landing state; transitions that
    # cannot happen get the reward of entering s' normally.
    reward = np.broadcast_to(bonus[None, None, :], transitions.shape).copy()
    possible = transitions > 0
    reward[possible] = reward_mass[possible] / transitions[possible]

    terminal = np.isin(state_char, ["G", "L"])
    transitions[terminal] = np.eye(n_states)[terminal][:, None, :]  # absorbing
    reward[terminal] = 0.0
    if len(starts):
        initial = np.zeros(n_states)
        initial[starts] = 1.0 / len(starts)
    elif terminal.all():
        raise ValueError("layout has only terminal cells ('G', 'L'); add a free cell or 'S'.")
    else:
        initial = (~terminal) / max(int((~terminal).sum()), 1)
    mdp = TabularMDP(
        transitions,
        gamma=gamma,
        initial=initial,
        terminal=terminal,
        state_names=[f"({r},{c})" for r, c in cells],
        action_names=GRID_ACTIONS,
        grid_shape=(rows, cols),
        grid_cells=[tuple(cell) for cell in cells],
        grid_layout=["".join(row) for row in grid],
    )
    return mdp, jnp.asarray(reward, dtype=mdp.dtype)


def chain(
    n_states: int, *, gamma: float = 0.9, slip: float = 0.0, goal_reward: float = 1.0
) -> tuple[TabularMDP, jax.Array]:
    """A chain of ``n_states`` with actions left and right; entering the right end pays
    ``goal_reward`` and ends the episode. With ``slip`` the agent moves the other way.

    Example:
        >>> mdp, reward = rv.envs.chain(5)
    """
    n_states = _size("n_states", n_states, "states in the chain", minimum=2)
    _check_dense(n_states, 2, "chain")
    slip = _checks.in_range("slip", slip, 0.0, 1.0)
    goal_reward = _checks.finite_number("goal_reward", goal_reward, why=_NON_FINITE_REWARD)
    states = np.arange(n_states)
    left = np.maximum(states - 1, 0)
    right = np.minimum(states + 1, n_states - 1)
    transitions = np.zeros((n_states, 2, n_states))
    for action, (intended, other) in enumerate([(left, right), (right, left)]):
        np.add.at(transitions, (states, action, intended), 1.0 - slip)
        np.add.at(transitions, (states, action, other), slip)
    goal = n_states - 1
    transitions[goal] = 0.0
    transitions[goal, :, goal] = 1.0
    reward = np.zeros_like(transitions)
    reward[:goal, :, goal] = goal_reward
    initial = np.eye(n_states)[0]
    mdp = TabularMDP(
        transitions,
        gamma=gamma,
        initial=initial,
        terminal=[goal],
        action_names=("left", "right"),
        grid_shape=(1, n_states),
        grid_layout=["S" + "." * (n_states - 2) + "G"],
    )
    return mdp, jnp.asarray(reward, dtype=mdp.dtype)


@_deprecation.positional_options("gamma")
def stay_switch(*, gamma: float = 0.9) -> tuple[TabularMDP, jax.Array]:
    """Two states, actions stay and switch; reward 1 only on the transition 0 → 1.

    A fixture with closed forms: ``Q*(0, switch) = 1/(1−γ²)``,
    ``Q*(0, stay) = Q*(1, switch) = γ/(1−γ²)``, ``Q*(1, stay) = γ²/(1−γ²)``.
    """
    stay, switch = np.eye(2), np.eye(2)[::-1]
    transitions = np.stack([stay, switch], axis=1)  # [s, a, s']
    reward = np.zeros((2, 2, 2))
    reward[0, 1, 1] = 1.0
    mdp = TabularMDP(
        transitions, gamma=gamma, state_names=("0", "1"), action_names=("stay", "switch")
    )
    return mdp, jnp.asarray(reward, dtype=mdp.dtype)


def _seed_moved_last(function):
    """Accept the old argument order ``random_mdp(seed, n_states, n_actions)`` for one release."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if len(args) == 3 or (len(args) == 1 and "n_states" in kwargs):
            _deprecation.warn(
                "random_mdp(seed, n_states, n_actions)", "random_mdp(n_states, n_actions, seed=)"
            )
            seed, *rest = args
            return function(*rest, seed=seed, **kwargs)
        return function(*args, **kwargs)

    return wrapper


@_seed_moved_last
def random_mdp(
    n_states: int,
    n_actions: int,
    *,
    seed: int | jax.Array = 0,
    gamma: float = 0.9,
    n_successors: int | None = None,
    concentration: float = 1.0,
) -> tuple[TabularMDP, jax.Array]:
    """A random MDP with Dirichlet transition rows and a standard normal reward.

    Args:
        seed: an integer or a ``jax.random`` key.
        n_successors: if given, each ``(s, a)`` reaches only this many random states.
        concentration: Dirichlet parameter; small values give peaked rows.
    """
    n_states = _size("n_states", n_states, "states")
    n_actions = _size("n_actions", n_actions, "actions")
    _check_dense(n_states, n_actions, "random_mdp")
    if n_successors is not None:
        n_successors = _size("n_successors", n_successors, "successors per (s, a)", minimum=None)
        if not 1 <= n_successors <= n_states:
            raise ValueError(f"n_successors must lie in 1..{n_states}, got {n_successors}.")
    # An infinite concentration would give NaN transition rows, refused later under
    # another name.
    concentration = _checks.number("concentration", concentration, "the Dirichlet parameter")
    if not 0 < concentration < math.inf:
        raise ValueError(f"concentration must be positive and finite, got {concentration}.")
    transitions, reward = _kernels.random_dynamics(
        _checks.key("seed", seed),
        concentration,
        (n_states, n_actions, n_states),
        n_successors,
    )
    mdp = TabularMDP(transitions, gamma=gamma)
    return mdp, reward.astype(mdp.dtype)


def _seed_first(function):
    """Accept the old argument order ``random_reward(seed, mdp, batch_shape)`` for one release."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if (
            len(args) >= 2
            and not isinstance(args[0], TabularMDP)
            and isinstance(args[1], TabularMDP)
        ):
            _deprecation.warn(
                "random_reward(seed, mdp, batch_shape)", "random_reward(mdp, seed=, batch_shape=)"
            )
            seed, mdp, *rest = args
            moved = dict(zip(("batch_shape",), rest, strict=False))
            return function(mdp, seed=seed, **moved, **kwargs)
        return function(*args, **kwargs)

    return wrapper


@_seed_first
def random_reward(
    mdp: TabularMDP, *, seed: int | jax.Array = 0, batch_shape: Sequence[int] = ()
) -> jax.Array:
    """Standard normal rewards ``[*batch_shape, S, A, S']`` drawn from ``seed`` (an int or a key).

    Example:
        >>> mdp, _ = rv.envs.chain(4)
        >>> rv.envs.random_reward(mdp, seed=1, batch_shape=(3,)).shape
        (3, 4, 2, 4)
    """
    _checks.tabular_mdp("mdp", mdp)
    if isinstance(batch_shape, int | np.integer):
        batch_shape = (batch_shape,)
    if not isinstance(batch_shape, Sequence | np.ndarray):
        raise TypeError(
            f"batch_shape must be a tuple of batch sizes such as (3,) or (), got "
            f"{_checks.describe(batch_shape)}."
        )
    batch_shape = tuple(
        _size(f"batch_shape[{i}]", n, "a batch dimension", minimum=0)
        for i, n in enumerate(batch_shape)
    )
    shape = (*batch_shape, mdp.n_states, mdp.n_actions, mdp.n_states)
    _budget.check_memory(
        f"random_reward(batch_shape={batch_shape}) on |S| = {mdp.n_states}, |A| = {mdp.n_actions}",
        math.prod(shape) * np.dtype(mdp.dtype).itemsize,
        "Draw a smaller batch, or several batches one after another.",
    )
    return jax.random.normal(_checks.key("seed", seed), shape, dtype=mdp.dtype)


def steps_to_goal(mdp: TabularMDP) -> np.ndarray:
    """``[S]`` fewest transitions from each state to a goal, by breadth-first search.

    Goals are the terminal states marked ``G`` in ``mdp.grid_layout``, or every terminal
    state when none is. A move ``s → s′`` exists when some action reaches ``s′`` with
    positive probability; nothing leaves a terminal state. States that cannot reach a
    goal get one more than the largest finite count. ``-steps_to_goal(mdp)`` is the
    classic "closer is better" shaping potential. An MDP without terminal states is
    refused (``ValueError``).

    Example:
        >>> mdp, _ = rv.envs.chain(4)
        >>> rv.envs.steps_to_goal(mdp)
        array([3., 2., 1., 0.])
    """
    _checks.tabular_mdp("mdp", mdp)
    terminal = np.asarray(mdp.terminal)
    if not terminal.any():
        raise ValueError(
            "mdp has no terminal state, so there is no goal to count steps to; mark one "
            "(a 'G' cell of rv.envs.gridworld, or terminal=... of rv.TabularMDP)."
        )
    goals = terminal
    if mdp.grid_layout is not None:
        marked = np.array([mdp.grid_layout[row][col] == "G" for row, col in mdp.grid_cells])
        if (marked & terminal).any():
            goals = marked & terminal
    moves = (np.asarray(mdp.transitions) > 0).any(axis=1) & ~terminal[:, None]  # [S, S']
    steps = np.where(goals, 0.0, np.inf)
    frontier = goals
    for distance in range(1, mdp.n_states):  # one pass per BFS level, not per state
        frontier = moves[:, frontier].any(axis=1) & np.isinf(steps)
        if not frontier.any():
            break
        steps[frontier] = distance
    return np.where(np.isinf(steps), steps[np.isfinite(steps)].max() + 1, steps)


def from_gymnasium(env, *, gamma: float = 0.99) -> tuple[TabularMDP, jax.Array]:
    """Convert a Gymnasium toy-text environment (FrozenLake, CliffWalking, Taxi) to an MDP.

    Reads the environment's transition table ``P[s][a] = [(p, s', r, terminated), ...]``.
    Entries reaching the same ``s'`` are merged (probabilities added, reward averaged
    by probability). A state reached by any transition with ``terminated=True`` is
    terminal (absorbing, value 0). Tables whose termination depends on the transition
    rather than the state reached (Taxi's delivered states are also entered by moves
    that an episode never makes, since it has ended) are converted by that rule, which
    agrees with the environment on every state an episode can act in. Time-limit
    truncation is not part of the table and is not termination.

    Example:
        >>> import gymnasium as gym
        >>> mdp, reward = rv.envs.from_gymnasium(gym.make("FrozenLake-v1"))
    """
    base = getattr(env, "unwrapped", env)
    table = getattr(base, "P", None)
    if not isinstance(table, dict):
        raise TypeError(
            f"from_gymnasium needs a toy-text environment with a transition table P "
            f"(FrozenLake, CliffWalking, Taxi); {type(base).__name__} has none."
        )
    n_states = int(base.observation_space.n)
    n_actions = int(base.action_space.n)
    transitions = np.zeros((n_states, n_actions, n_states))
    reward_mass = np.zeros_like(transitions)
    ends = np.zeros((n_states, n_actions, n_states), dtype=int)  # bit 1: ends, bit 2: goes on
    for state, actions in table.items():
        for action, outcomes in actions.items():
            for probability, next_state, value, terminated in outcomes:
                transitions[state, action, next_state] += probability
                reward_mass[state, action, next_state] += probability * value
                if probability > 0:
                    ends[state, action, next_state] |= 1 if terminated else 2
    if (ends == 3).any():
        where = tuple(int(i) for i in np.argwhere(ends == 3)[0])
        raise ValueError(
            f"the environment's table both terminates and continues on transition {where}; "
            "a TabularMDP needs termination to depend on the state reached."
        )
    terminal = ((ends & 1) > 0).any(axis=(0, 1))
    reward = np.divide(
        reward_mass, transitions, out=np.zeros_like(transitions), where=transitions > 0
    )
    # Terminal states are absorbing in a TabularMDP whatever the table says after them.
    transitions[terminal] = np.eye(n_states)[terminal][:, None, :]
    reward[terminal] = 0.0
    initial = getattr(base, "initial_state_distrib", None)
    kind = type(base).__name__
    grid = _gymnasium_grid(base, kind)
    mdp = TabularMDP(
        transitions,
        gamma=gamma,
        initial=None if initial is None else np.asarray(initial, dtype=float),
        terminal=terminal,
        action_names=_GYM_ACTIONS.get(kind),
        **grid,
    )
    return mdp, jnp.asarray(reward, dtype=mdp.dtype)


_GYM_ACTIONS = {
    "FrozenLakeEnv": ("left", "down", "right", "up"),
    "CliffWalkingEnv": ("up", "right", "down", "left"),
    "TaxiEnv": ("south", "north", "east", "west", "pickup", "dropoff"),
}


def _gymnasium_grid(base, kind: str) -> dict:
    if kind == "FrozenLakeEnv":
        rows = ["".join(cell.decode() for cell in row) for row in np.asarray(base.desc)]
        return {"grid_shape": (len(rows), len(rows[0])), "grid_layout": rows}
    if kind == "CliffWalkingEnv" and hasattr(base, "_cliff"):
        cliff = np.asarray(base._cliff)  # the environment's own map of cliff cells
        chars = np.where(cliff, "C", ".")
        chars[np.unravel_index(int(base.start_state_index), cliff.shape)] = "S"
        chars[-1, -1] = "G"
        return {"grid_shape": cliff.shape, "grid_layout": ["".join(row) for row in chars]}
    return {}


def _check_dense(n_states: int, n_actions: int, caller: str) -> None:
    """Refuse an MDP whose dense ``[S, A, S']`` arrays (kernel, reward, a copy each) cannot fit."""
    _budget.check_memory(
        f"{caller} with {n_states:,} states and {n_actions} actions (dense [S, A, S'] arrays)",
        4 * n_states**2 * n_actions * 4,
        "Tabular MDPs here are dense: use fewer states.",
    )


def _size(name: str, value, meaning: str, *, minimum: int | None = 1) -> int:
    """``value`` as an ``int`` >= ``minimum``; a non-integral number such as 2.7 is refused.

    ``int(2.7)`` would silently build a smaller environment. Integer-valued floats
    (``3.0``) and integer scalars of numpy or JAX are accepted; booleans are not. With
    ``minimum=None`` the caller checks the range itself.
    """
    if not isinstance(value, bool):
        try:
            number = operator.index(value)
        except TypeError:
            integral = isinstance(value, numbers.Real) and float(value).is_integer()
            number = int(value) if integral else None
        if number is not None:
            if minimum is not None and number < minimum:
                bound = "positive" if minimum == 1 else f"at least {minimum}"
                raise ValueError(f"{name} ({meaning}) must be {bound}, got {number}.")
            return number
    at_least = "" if minimum is None else f" >= {minimum}"
    raise TypeError(
        f"{name} ({meaning}) must be a whole number{at_least}, got {value!r} "
        f"({type(value).__name__}); sizes are never rounded, pass an int."
    )


def _parse_layout(layout: Sequence[str]) -> np.ndarray:
    if isinstance(layout, str):
        layout = layout.strip("\n").split("\n")
    if not isinstance(layout, Sequence | np.ndarray) or not all(
        isinstance(row, str) for row in layout
    ):
        raise TypeError(
            f"layout must be a list of strings, one per grid row (such as ['S..', '..G']), "
            f"got {_checks.describe(layout)}."
        )
    rows = [str(row) for row in layout]
    if not rows or not rows[0]:
        raise ValueError("layout must be a non-empty list of strings, one per grid row.")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(
            f"layout rows must all have the same length, got lengths {sorted(widths)}."
        )
    grid = np.array([list(row) for row in rows])
    unknown = {str(char) for char in grid.ravel()} - _STATE_CELLS - _OTHER_CELLS
    if unknown:
        raise ValueError(
            f"layout has unknown characters {sorted(unknown)}; use '.' free, '#' wall, "
            "'S' start, 'G' goal, 'L' lava, 'C' cliff."
        )
    return grid
