"""Reward landscapes shipped with the package: a ball-and-goal field and MountainCar's phase plane.

Each constructor returns a :class:`LandscapeExample`: a reward written with
:mod:`rewardviz.shapes`, a state template, the two coordinates to sweep with their
bounds, default shape parameters with slider ranges, and the points and arrows worth
drawing on top (ball, goals, velocities). Pass it to :func:`rewardviz.landscape.evaluate`
through :meth:`LandscapeExample.evaluate`, or to
:meth:`rewardviz.widgets.LandscapeExplorer.from_example`.

- :func:`ball_and_goal`: a 2-D field with a player, a ball and two goals, and a reward in
  the spirit of Lucy-SKG's Rocket League rewards (Moschopoulos et al., 2023): approach
  the ball while facing it (Kinesthetic Reward Combination of a Liu distance shape and a
  facing cosine), the ball near the opponent's goal (signed Liu shape), velocity of the
  player towards the ball and of the ball towards the goal, and a penalty for the ball
  near one's own goal, combined as a weighted sum.
- :func:`mountain_car`: Gymnasium's ``MountainCar-v0`` (step cost −1) with the
  potential-based shaping term ``γΦ(s') − Φ(s)`` of Ng, Harada & Russell (1999), ``Φ``
  the car's mechanical energy; :func:`mountain_car_mdp` discretises the
  position–velocity plane into a :class:`rewardviz.TabularMDP` so the shaping tools of
  :mod:`rewardviz.shaping` can check that claim.

This module draws nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, landscape, shapes
from rewardviz.mdp import TabularMDP

__all__ = [
    "BALL_AND_GOAL_PARAMS",
    "BALL_AND_GOAL_TEMPLATE",
    "BALL_AND_GOAL_TERMS",
    "BALL_MAX_SPEED",
    "FIELD_LENGTH",
    "FIELD_WIDTH",
    "FORCE",
    "GOAL_POSITION",
    "GRAVITY",
    "MAX_POSITION",
    "MAX_SPEED",
    "MIN_POSITION",
    "MOUNTAIN_CAR_PARAMS",
    "MOUNTAIN_CAR_TEMPLATE",
    "OPPONENT_GOAL",
    "OWN_GOAL",
    "PLAYER_MAX_SPEED",
    "DiscretisedMountainCar",
    "LandscapeExample",
    "ball_and_goal",
    "ball_and_goal_arrows",
    "ball_and_goal_points",
    "ball_and_goal_reward",
    "mountain_car",
    "mountain_car_energy",
    "mountain_car_mdp",
    "mountain_car_potential",
    "mountain_car_reward",
    "mountain_car_step",
    "mountain_car_terminal",
    "mountain_car_transition_reward",
]

# ---------------------------------------------------------------------------
# The record.


@dataclasses.dataclass(frozen=True)
class LandscapeExample:
    """A reward function ready to draw as a landscape.

    Attributes:
        name: a short title.
        reward_fn: ``reward_fn(state, params)``, see :func:`rewardviz.landscape.evaluate`.
        template: ``{coordinate: value}`` the default state.
        x, y: the coordinates swept by default; ``bounds``: their ranges.
        params: default shape parameters; ``param_ranges``: ``{name: (low, high)}``
            slider ranges.
        coordinate_ranges: ``{coordinate: (low, high)}`` slider ranges of the coordinates
            worth moving by hand.
        points: ``points(state) -> {label: (x, y)}`` markers to draw (e.g. the ball).
        arrows: ``arrows(state) -> {label: ((x, y), (dx, dy))}`` velocities to draw.
    """

    name: str
    reward_fn: Callable
    template: Mapping[str, float]
    x: str
    y: str
    bounds: Mapping[str, tuple[float, float]]
    params: Mapping[str, float]
    param_ranges: Mapping[str, tuple[float, float]]
    coordinate_ranges: Mapping[str, tuple[float, float]]
    points: Callable[[Mapping[str, float]], dict] | None = None
    arrows: Callable[[Mapping[str, float]], dict] | None = None

    def evaluate(self, **options) -> landscape.Landscape:
        """:func:`rewardviz.landscape.evaluate` with this example's defaults; ``options`` override them.

        Example:
            >>> field = rv.landscape_examples.ball_and_goal()
            >>> land = field.evaluate(resolution=48, params={**field.params, "dispersion": 0.5})
        """
        arguments = {
            "template": self.template,
            "x": self.x,
            "y": self.y,
            "bounds": self.bounds,
            "params": self.params,
            **options,
        }
        template = arguments.pop("template")
        return landscape.evaluate(self.reward_fn, template, **arguments)


# ---------------------------------------------------------------------------
# Ball and goal.

#: Field size: x in [−length/2, length/2], y in [−width/2, width/2]; goals on the x ends.
FIELD_LENGTH, FIELD_WIDTH = 10.0, 6.0
#: Top speeds of the player and the ball: the Liu shapes' length unit and the velocity terms' scale.
PLAYER_MAX_SPEED, BALL_MAX_SPEED = 2.3, 6.0
OPPONENT_GOAL = (FIELD_LENGTH / 2, 0.0)
OWN_GOAL = (-FIELD_LENGTH / 2, 0.0)
#: The five terms of :func:`ball_and_goal_reward`, in order.
BALL_AND_GOAL_TERMS = (
    "approach",
    "ball_to_goal",
    "velocity_to_ball",
    "ball_velocity_to_goal",
    "own_goal_danger",
)
BALL_AND_GOAL_PARAMS = {
    "dispersion": 1.0,
    "density": 1.0,
    "neutral_distance": 5.0,
    "w_approach": 1.0,
    "w_ball_to_goal": 0.5,
    "w_velocity_to_ball": 0.3,
    "w_ball_velocity_to_goal": 0.5,
    "w_own_goal_danger": 0.5,
}


def ball_and_goal_reward(state, params) -> dict[str, jax.Array]:
    """The five weighted terms of the ball-and-goal reward (their sum is the reward).

    With ``p`` the player, ``b`` the ball, ``g`` the opponent's goal, ``o`` one's own goal,
    ``v_p``, ``v_b`` their velocities and ``θ`` the player's heading:

    - ``approach = w·KRC(liu(‖p − b‖), cos∠(θ, b − p))``: near the ball *and* facing it;
      negative when facing away (KRC's sign rule).
    - ``ball_to_goal = w·liu_signed(‖b − g‖, neutral_distance)``: positive when the ball is
      within ``neutral_distance`` of the opponent's goal, negative further out.
    - ``velocity_to_ball = w·v_p·(b − p)/‖b − p‖ / PLAYER_MAX_SPEED``.
    - ``ball_velocity_to_goal = w·v_b·(g − b)/‖g − b‖ / BALL_MAX_SPEED``.
    - ``own_goal_danger = −w·liu(‖b − o‖)``: a penalty for the ball near one's own goal.

    The Liu shapes share ``dispersion`` and ``density``. Their length unit follows
    Lucy-SKG: the top speed of what has to cover the distance, ``PLAYER_MAX_SPEED`` for
    the player-to-ball ``approach`` and ``BALL_MAX_SPEED`` for the ball-to-goal
    ``own_goal_danger``.

    Args:
        state: ``player_x, player_y, player_vx, player_vy, heading, ball_x, ball_y,
            ball_vx, ball_vy`` (see :data:`BALL_AND_GOAL_TEMPLATE`).
        params: the keys of :data:`BALL_AND_GOAL_PARAMS`.
    """
    player = jnp.stack([state["player_x"], state["player_y"]])
    ball = jnp.stack([state["ball_x"], state["ball_y"]])
    player_velocity = jnp.stack([state["player_vx"], state["player_vy"]])
    ball_velocity = jnp.stack([state["ball_vx"], state["ball_vy"]])
    goal, own_goal = jnp.asarray(OPPONENT_GOAL), jnp.asarray(OWN_GOAL)
    shape = {"dispersion": params["dispersion"], "density": params["density"]}
    near_ball = shapes.liu_distance(shapes.distance(player, ball), scale=PLAYER_MAX_SPEED, **shape)
    facing_ball = shapes.facing(shapes.heading(state["heading"]), player, ball)
    return {
        "approach": params["w_approach"]
        * shapes.kinesthetic_combination(jnp.stack([near_ball, facing_ball])),
        "ball_to_goal": params["w_ball_to_goal"]
        * shapes.liu_distance_signed(
            shapes.distance(ball, goal),
            neutral_distance=params["neutral_distance"],
            dispersion=params["dispersion"],
            density=params["density"],
        ),
        "velocity_to_ball": params["w_velocity_to_ball"]
        * shapes.velocity_towards(player_velocity, player, ball, scale=PLAYER_MAX_SPEED),
        "ball_velocity_to_goal": params["w_ball_velocity_to_goal"]
        * shapes.velocity_towards(ball_velocity, ball, goal, scale=BALL_MAX_SPEED),
        "own_goal_danger": -params["w_own_goal_danger"]
        * shapes.liu_distance(shapes.distance(ball, own_goal), scale=BALL_MAX_SPEED, **shape),
    }


BALL_AND_GOAL_TEMPLATE = {
    "player_x": -2.0,
    "player_y": -1.0,
    "player_vx": 1.0,
    "player_vy": 0.5,
    "heading": 0.0,
    "ball_x": 1.0,
    "ball_y": 0.5,
    "ball_vx": 2.0,
    "ball_vy": -1.0,
}


def ball_and_goal_points(state) -> dict[str, tuple[float, float]]:
    """Markers for the field: the player, the ball and both goals."""
    return {
        "player": (float(state["player_x"]), float(state["player_y"])),
        "ball": (float(state["ball_x"]), float(state["ball_y"])),
        "own goal": OWN_GOAL,
        "opponent goal": OPPONENT_GOAL,
    }


def ball_and_goal_arrows(state) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
    """Velocity arrows of the player and the ball (one second of travel)."""
    return {
        "player velocity": (
            (float(state["player_x"]), float(state["player_y"])),
            (float(state["player_vx"]), float(state["player_vy"])),
        ),
        "ball velocity": (
            (float(state["ball_x"]), float(state["ball_y"])),
            (float(state["ball_vx"]), float(state["ball_vy"])),
        ),
    }


def ball_and_goal() -> LandscapeExample:
    """The ball-and-goal field, sweeping the player's position over the whole field.

    Example:
        >>> field = rv.landscape_examples.ball_and_goal()
        >>> land = field.evaluate(resolution=64)
        >>> land.names
        ('approach', 'ball_to_goal', 'velocity_to_ball', 'ball_velocity_to_goal', 'own_goal_danger')
    """
    half_length, half_width = FIELD_LENGTH / 2, FIELD_WIDTH / 2
    return LandscapeExample(
        name="ball and goal",
        reward_fn=ball_and_goal_reward,
        template=dict(BALL_AND_GOAL_TEMPLATE),
        x="player_x",
        y="player_y",
        bounds={"player_x": (-half_length, half_length), "player_y": (-half_width, half_width)},
        params=dict(BALL_AND_GOAL_PARAMS),
        param_ranges={
            "dispersion": (0.1, 3.0),
            "density": (0.2, 4.0),
            "neutral_distance": (0.5, 10.0),
            **{f"w_{term}": (0.0, 2.0) for term in BALL_AND_GOAL_TERMS},
        },
        coordinate_ranges={
            "heading": (-math.pi, math.pi),
            "ball_x": (-half_length, half_length),
            "ball_y": (-half_width, half_width),
            "player_vx": (-PLAYER_MAX_SPEED, PLAYER_MAX_SPEED),
            "player_vy": (-PLAYER_MAX_SPEED, PLAYER_MAX_SPEED),
        },
        points=ball_and_goal_points,
        arrows=ball_and_goal_arrows,
    )


# ---------------------------------------------------------------------------
# MountainCar.

#: Gymnasium ``MountainCar-v0`` constants.
MIN_POSITION, MAX_POSITION, MAX_SPEED = -1.2, 0.6, 0.07
GOAL_POSITION, FORCE, GRAVITY = 0.5, 0.001, 0.0025
MOUNTAIN_CAR_TEMPLATE = {"position": -0.5, "velocity": 0.0, "action": 1.0}
MOUNTAIN_CAR_PARAMS = {"gamma": 0.99, "scale": 1.0}


def mountain_car_step(position, velocity, action) -> tuple[jax.Array, jax.Array]:
    """One step of ``MountainCar-v0``'s dynamics (actions 0 push left, 1 none, 2 right).

    ``v' = clip(v + (a − 1)·0.001 − 0.0025·cos(3p), ±0.07)``, ``p' = clip(p + v', −1.2, 0.6)``,
    and ``v' = 0`` when the car hits the left wall moving left.
    """
    velocity = jnp.clip(
        velocity + (action - 1.0) * FORCE - GRAVITY * jnp.cos(3.0 * position), -MAX_SPEED, MAX_SPEED
    )
    position = jnp.clip(position + velocity, MIN_POSITION, MAX_POSITION)
    velocity = jnp.where((position == MIN_POSITION) & (velocity < 0), 0.0, velocity)
    return position, velocity


def mountain_car_energy(position, velocity) -> jax.Array:
    """Mechanical energy ``E = ½v² + (0.0025/3)·sin(3p)`` per unit mass.

    The dynamics' gravity term ``−0.0025·cos(3p)`` is ``−dU/dp`` for the height energy
    ``U(p) = (0.0025/3)·sin(3p)``; pushing adds energy, so ``E`` measures progress.
    """
    return 0.5 * jnp.square(velocity) + (GRAVITY / 3.0) * jnp.sin(3.0 * position)


#: Energy at rest in the valley and at rest on the goal line: Φ is 0 and ``scale`` there.
_VALLEY_ENERGY = -GRAVITY / 3.0
_GOAL_ENERGY = (GRAVITY / 3.0) * math.sin(3.0 * GOAL_POSITION)


def mountain_car_potential(position, velocity, scale=1.0) -> jax.Array:
    """``Φ(p, v) = scale·(E − E_valley)/(E_goal − E_valley)``: 0 at rest in the valley, ``scale`` at rest on the goal line."""
    energy = mountain_car_energy(position, velocity)
    return scale * (energy - _VALLEY_ENERGY) / (_GOAL_ENERGY - _VALLEY_ENERGY)


def mountain_car_terminal(position, velocity) -> jax.Array:
    """Whether a state ends the episode: ``p >= 0.5`` and ``v >= 0``."""
    return (position >= GOAL_POSITION) & (velocity >= 0)


def mountain_car_transition_reward(state, next_state, params) -> dict[str, jax.Array]:
    """``{"step": −1, "shaping": γ·Φ(s')·(1 − done) − Φ(s)}`` for a transition ``s → s'``.

    ``state`` and ``next_state`` hold ``position`` and ``velocity``; ``params`` holds
    ``gamma`` and ``scale``. ``Φ(s')`` is dropped when ``s'`` is terminal, so the shaping
    is potential-based in the episodic task (Ng, Harada & Russell, 1999).
    """
    scale = params["scale"]
    shaping = shapes.potential_difference(
        lambda s: mountain_car_potential(s["position"], s["velocity"], scale), params["gamma"]
    )
    done = mountain_car_terminal(next_state["position"], next_state["velocity"])
    return {
        "step": -jnp.ones_like(jnp.asarray(state["position"])),
        "shaping": shaping(state, next_state, done),
    }


def mountain_car_reward(state, params) -> dict[str, jax.Array]:
    """The shaped reward of taking ``state["action"]`` in ``state``: the next state from the dynamics."""
    position, velocity = mountain_car_step(state["position"], state["velocity"], state["action"])
    next_state = {"position": position, "velocity": velocity}
    return mountain_car_transition_reward(state, next_state, params)


def mountain_car() -> LandscapeExample:
    """MountainCar's position–velocity plane with potential-based shaping.

    The action is a coordinate too: fix it with the template or marginalise it with
    ``marginals={"action": np.array([0.0, 1.0, 2.0])}`` (a uniformly random policy).

    Example:
        >>> car = rv.landscape_examples.mountain_car()
        >>> land = car.evaluate(marginals={"action": np.array([0.0, 1.0, 2.0])}, n_samples=16)
    """
    return LandscapeExample(
        name="MountainCar",
        reward_fn=mountain_car_reward,
        template=dict(MOUNTAIN_CAR_TEMPLATE),
        x="position",
        y="velocity",
        bounds={"position": (MIN_POSITION, MAX_POSITION), "velocity": (-MAX_SPEED, MAX_SPEED)},
        params=dict(MOUNTAIN_CAR_PARAMS),
        param_ranges={"gamma": (0.9, 1.0), "scale": (0.0, 10.0)},
        coordinate_ranges={"action": (0.0, 2.0)},
        points=lambda state: {"goal": (GOAL_POSITION, 0.0), "valley": (-math.pi / 6, 0.0)},
    )


@dataclasses.dataclass(frozen=True)
class DiscretisedMountainCar:
    """MountainCar on a grid of cells (see :func:`mountain_car_mdp`).

    Attributes:
        mdp: the :class:`rewardviz.TabularMDP` over grid points, 3 actions.
        positions, velocities: ``[S]`` the grid point of each state.
        successor_positions, successor_velocities: ``[S, A]`` where the dynamics take
            each grid point (spread over the four grid points around it by ``mdp``).
    """

    mdp: TabularMDP
    positions: np.ndarray
    velocities: np.ndarray
    successor_positions: np.ndarray
    successor_velocities: np.ndarray

    def transition_rewards(self, transition_reward: Callable, params) -> dict[str, np.ndarray]:
        """``{component: [S, A, S']}``: ``transition_reward(s, s', params)`` at grid points.

        ``transition_reward`` takes ``{"position", "velocity"}`` dicts for ``s`` and ``s'``
        (like :func:`mountain_car_transition_reward`) and is evaluated on every pair of
        grid points: the reward of each tabular transition, however the function
        computes it.
        """
        p, v = jnp.asarray(self.positions), jnp.asarray(self.velocities)
        grid = jax.vmap(
            jax.vmap(
                lambda ps, vs, pn, vn: transition_reward(
                    {"position": ps, "velocity": vs}, {"position": pn, "velocity": vn}, params
                ),
                in_axes=(None, None, 0, 0),
            ),
            in_axes=(0, 0, None, None),
        )(p, v, p, v)  # {name: [S, S']}
        n_actions = self.mdp.n_actions
        return {
            name: np.repeat(np.asarray(values)[:, None, :], n_actions, axis=1)
            for name, values in grid.items()
        }


def _grid_points(n_positions: int, n_velocities: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities ``[S]`` of the points of a ``n_velocities × n_positions`` grid, row-major."""
    positions = np.linspace(MIN_POSITION, MAX_POSITION, n_positions)
    velocities = np.linspace(-MAX_SPEED, MAX_SPEED, n_velocities)
    p, v = np.meshgrid(positions, velocities)
    return p.ravel(), v.ravel()


def mountain_car_mdp(
    n_positions: int = 15, n_velocities: int = 15, *, gamma: float = 0.99
) -> DiscretisedMountainCar:
    """MountainCar on a grid of points of the position–velocity plane: a :class:`rewardviz.TabularMDP`.

    State ``i`` is the grid point ``(velocity row, position column)`` in row-major order.
    Action ``a`` from a grid point moves the car with :func:`mountain_car_step` to a
    point ``s'`` between grid points, and the MDP goes to the four grid points around
    ``s'`` with their bilinear interpolation weights (Munos & Moore's interpolating
    discretisation), so the expected next grid point is ``s'`` itself. Snapping ``s'`` to
    the nearest point instead would leave the car on its own cell for most actions on
    a coarse grid (one step moves it by at most 0.0035 in velocity). Grid points that
    are terminal (:func:`mountain_car_terminal`) are terminal states.

    An approximation of the continuous task, good enough to ask tabular questions of a
    reward *function*: evaluate it on pairs of grid points with
    :meth:`DiscretisedMountainCar.transition_rewards`. ``rv.shaping``'s exact fits build
    an ``[S², S]`` design matrix: keep ``S = n_positions·n_velocities`` to a few hundred.
    """
    n_positions = _checks.positive_int("n_positions", n_positions, minimum=2)
    n_velocities = _checks.positive_int("n_velocities", n_velocities, minimum=2)
    positions, velocities = _grid_points(n_positions, n_velocities)
    actions = jnp.arange(3.0)
    next_p, next_v = jax.vmap(lambda p, v: mountain_car_step(p, v, actions))(
        jnp.asarray(positions), jnp.asarray(velocities)
    )
    next_p, next_v = np.asarray(next_p, dtype=float), np.asarray(next_v, dtype=float)
    # Fractional grid coordinates of s', the lower corner of its cell and the offsets in it.
    column = (next_p - MIN_POSITION) / ((MAX_POSITION - MIN_POSITION) / (n_positions - 1))
    row = (next_v + MAX_SPEED) / (2 * MAX_SPEED / (n_velocities - 1))
    low_column = np.clip(np.floor(column), 0, n_positions - 2).astype(int)
    low_row = np.clip(np.floor(row), 0, n_velocities - 2).astype(int)
    t, u = np.clip(column - low_column, 0, 1), np.clip(row - low_row, 0, 1)
    n_states = len(positions)
    transitions = np.zeros((n_states, 3, n_states))
    states, action_index = np.meshgrid(np.arange(n_states), np.arange(3), indexing="ij")
    for d_row, d_column, weight in (
        (0, 0, (1 - t) * (1 - u)),
        (0, 1, t * (1 - u)),
        (1, 0, (1 - t) * u),
        (1, 1, t * u),
    ):
        successor = (low_row + d_row) * n_positions + low_column + d_column
        np.add.at(transitions, (states, action_index, successor), weight)
    terminal = np.asarray(mountain_car_terminal(positions, velocities))
    mdp = TabularMDP(
        transitions,
        gamma=gamma,
        terminal=terminal,
        action_names=("left", "none", "right"),
        grid_shape=(n_velocities, n_positions),
    )
    return DiscretisedMountainCar(mdp, positions, velocities, next_p, next_v)
