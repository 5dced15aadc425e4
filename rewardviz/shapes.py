"""Shape functions and combinators for writing a reward of a continuous state in JAX.

Building blocks for rewards such as "approach the ball, face it, push it towards the
goal": distance shapes, velocity and facing terms, and the ways Lucy-SKG (Moschopoulos
et al., 2023, "Lucy-SKG: learning to play Rocket League efficiently using deep
reinforcement learning"; shapes as in the authors' public code) combines them. Every
function is a pure ``jax.numpy`` function of arrays, broadcasts over leading
dimensions, and is safe under ``jit``, ``vmap`` and ``grad``: where a formula divides by
a length or takes a root that is not differentiable at 0 (zero distance, zero
velocity, a zero component), the value is the formula's limit or 0 and the gradient is
0 rather than NaN. Parameters are ordinary (traceable) arguments, so a slider that
moves a dispersion never recompiles a jitted reward.

Nothing here validates: these run inside the caller's traced code. The public
boundary that checks inputs is :func:`rewardviz.landscape.evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from rewardviz import _deprecation

__all__ = [
    "alignment",
    "clip",
    "distance",
    "facing",
    "half_life_gamma",
    "heading",
    "kinesthetic_combination",
    "linear_annealing",
    "liu_distance",
    "liu_distance_signed",
    "multiply",
    "norm",
    "potential_difference",
    "team_spirit",
    "velocity_towards",
    "weighted_sum",
]


def norm(vector, *, axis: int = -1) -> jax.Array:
    """Euclidean length ``‖v‖`` along ``axis``, with gradient 0 (not NaN) at ``v = 0``.

    ``jnp.linalg.norm`` has a NaN gradient at the zero vector (``v/‖v‖``); every
    distance below goes through this instead.

    Example:
        >>> rv.shapes.norm(jnp.array([3.0, 4.0]))
        Array(5., dtype=float32)
    """
    squared = jnp.sum(jnp.square(vector), axis=axis)
    positive = squared > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, squared, 1.0)), 0.0)


def distance(a, b, *, axis: int = -1) -> jax.Array:
    """``‖a − b‖`` along ``axis`` with a finite gradient where ``a = b`` (see :func:`norm`)."""
    return norm(jnp.asarray(a) - jnp.asarray(b), axis=axis)


def liu_distance(distance, *, scale=1.0, dispersion=1.0, density=1.0, radius=0.0) -> jax.Array:
    """Liu's distance shape: ``r = exp(−0.5·d / (scale·dispersion))^(1/density)``, ``d = max(distance − radius, 0)``.

    The reward is 1 at (or inside) the target's ``radius`` and decays monotonically to 0
    with distance. Lucy-SKG uses it for "player to ball" with ``scale`` the car's maximum
    speed and for "ball to goal" with ``scale`` the **ball's** maximum speed, so that
    ``d/scale`` is in seconds of travel of whatever has to cover the distance.

    Args:
        distance: ``[...]`` distance to the target's centre (non-negative).
        scale: length unit ``v_max`` (> 0).
        dispersion: width of the peak: below 1 concentrates the reward near the target,
            above 1 spreads it out (> 0).
        density: above 1 raises the values everywhere (the curve is flattened towards
            1), below 1 lowers them (> 0).
        radius: the target's radius; the distance is measured from its surface, and
            the reward is 1 inside it (with gradient 0).

    Returns:
        ``[...]`` rewards in ``(0, 1]``.

    ``exp(x)^(1/density)`` is computed as ``exp(x/density)``: the same number, with a
    gradient in ``density`` that never takes a logarithm of 0.

    Example:
        >>> rv.shapes.liu_distance(jnp.array([0.0, 1.0]), dispersion=0.5)
        Array([1.        , 0.36787945], dtype=float32)
    """
    surface = jnp.maximum(jnp.asarray(distance) - radius, 0.0)
    return jnp.exp(-0.5 * surface / (scale * dispersion * density))


def liu_distance_signed(
    distance, *, neutral_distance, dispersion=1.0, density=1.0, radius=0.0
) -> jax.Array:
    """Signed Liu shape: ``e = exp(−0.5·d/(d0·dispersion))``, ``r = sign(2e − 1)·|2e − 1|^(1/density)``.

    ``d = max(distance − radius, 0)`` and ``d0 = neutral_distance / (2 ln 2)``, so that
    with ``dispersion = 1`` the reward is 0 exactly at ``neutral_distance``: positive
    (up to 1 at the target) closer in, negative (down to −1) further out. ``dispersion``
    moves the zero crossing to ``neutral_distance·dispersion``; ``density > 1`` pushes
    values away from 0 towards ±1. A penalty for being far away, which the unsigned
    shape (always positive) cannot express: on a map its sign shows at a glance which
    side of the target a term rewards.

    Args:
        distance: ``[...]`` distance to the target's centre.
        neutral_distance: distance (from the surface) at which the reward is 0 when
            ``dispersion = 1`` (> 0).
        dispersion, density, radius: as in :func:`liu_distance`.

    Returns:
        ``[...]`` rewards in ``(−1, 1]``. At the zero crossing the gradient of
        ``|2e − 1|^(1/density)`` is infinite for ``density > 1``; it is reported as 0
        there instead of NaN.

    Example:
        >>> rv.shapes.liu_distance_signed(jnp.array([0.0, 2.0, 8.0]), neutral_distance=2.0)
        Array([ 1.   ,  0.   , -0.875], dtype=float32)
    """
    surface = jnp.maximum(jnp.asarray(distance) - radius, 0.0)
    unit = neutral_distance / (2.0 * math.log(2.0))
    centred = 2.0 * jnp.exp(-0.5 * surface / (unit * dispersion)) - 1.0
    return _signed_power(centred, 1.0 / density)


def kinesthetic_combination(components, *, axis: int = -1) -> jax.Array:
    """Kinesthetic Reward Combination (KRC): ``r = sign·|Π_i r_i|^(1/N)`` over ``axis``.

    The signed geometric mean of ``N`` components (Lucy-SKG): large only when every
    component is large at once (a player near the ball *and* facing it), unlike a sum,
    where one large term hides a zero in another. The sign is ``+`` only when every
    component is non-negative and ``−`` otherwise, so a single negative term makes the
    combination a penalty (an even number of negative terms does not cancel out, as it
    would in a plain product). Components that cannot be negative (an unsigned Liu
    shape) never flip the sign.

    Args:
        components: ``[..., N, ...]`` the terms, combined along ``axis`` (the last by
            default).

    Returns:
        ``[...]`` with ``axis`` removed. 0 where any component is 0; the gradient there
        is 0 (the root's derivative at 0 is infinite for ``N > 1``).

    Example:
        >>> rv.shapes.kinesthetic_combination(jnp.array([[0.25, 1.0], [-0.25, -1.0]]))
        Array([ 0.5, -0.5], dtype=float32)
    """
    components = jnp.asarray(components)
    count = components.shape[axis]
    size = jnp.prod(jnp.abs(components), axis=axis)
    sign = jnp.where(jnp.all(components >= 0, axis=axis), 1.0, -1.0)
    positive = size > 0
    mean = jnp.where(positive, jnp.where(positive, size, 1.0) ** (1.0 / count), 0.0)
    return sign * mean


def weighted_sum(components, weights, *, axis: int = -1) -> jax.Array:
    """``r = Σ_i w_i·r_i`` over ``axis``; ``weights`` ``[N]`` broadcast against ``components``.

    An elementwise multiply-and-sum rather than a matrix product: exact on every
    backend (no reduced-precision matmul).

    Example:
        >>> rv.shapes.weighted_sum(jnp.array([1.0, 2.0]), jnp.array([0.5, -1.0]))
        Array(-1.5, dtype=float32)
    """
    components = jnp.moveaxis(jnp.asarray(components), axis, -1)
    return jnp.sum(components * jnp.asarray(weights), axis=-1)


def multiply(components, *, axis: int = -1) -> jax.Array:
    """``r = Π_i r_i`` over ``axis``: the components multiplied (signs multiply, unlike KRC's rule).

    Formerly ``product``, which still works until rewardviz 0.3.0 but warns: in this
    package a product is a reward machine's product MDP (:mod:`rewardviz.expressivity`).

    Example:
        >>> rv.shapes.multiply(jnp.array([0.5, -0.5]))
        Array(-0.25, dtype=float32)
    """
    return jnp.prod(jnp.asarray(components), axis=axis)


def linear_annealing(reward_start, reward_end, progress, *, start=0.0, end=1.0) -> jax.Array:
    """Blend two rewards over training: ``r = (1 − α)·r_start + α·r_end``, ``α = clip((p − start)/(end − start), 0, 1)``.

    A curriculum (Lucy-SKG anneals from dense shaping terms to the sparse game reward):
    before ``start`` the reward is ``reward_start``, after ``end`` it is ``reward_end``,
    in between the weight moves linearly with ``progress`` (e.g. the fraction of
    training steps done). Needs ``end > start``.

    Example:
        >>> rv.shapes.linear_annealing(1.0, 0.0, 0.25)
        Array(0.75, dtype=float32, weak_type=True)
    """
    alpha = jnp.clip((jnp.asarray(progress) - start) / (end - start), 0.0, 1.0)
    return (1.0 - alpha) * jnp.asarray(reward_start) + alpha * jnp.asarray(reward_end)


def team_spirit(rewards, team, tau) -> jax.Array:
    """Share rewards within a team: ``r_i' = (1 − τ)·r_i + τ·mean_team(r) − mean_opponents(r)``.

    Lucy-SKG's team-spirit distribution (after OpenAI Five): ``τ = 0`` is selfish, ``τ = 1``
    gives every team member the team's mean; subtracting the opponents' mean makes the
    game zero-sum. ``mean_team`` averages over the agent's own team including itself;
    with no opponents the last term is 0.

    Args:
        rewards: ``[..., N]`` reward of each of ``N`` agents.
        team: ``[N]`` integer team label of each agent.
        tau: team spirit in ``[0, 1]``.

    Returns:
        ``[..., N]`` the distributed rewards.

    Example:
        >>> rv.shapes.team_spirit(jnp.array([1.0, 0.0, 0.5, 0.5]), jnp.array([0, 0, 1, 1]), 0.5)
        Array([ 0.25, -0.25,  0.  ,  0.  ], dtype=float32)
    """
    rewards = jnp.asarray(rewards)
    team = jnp.asarray(team)
    same = (team[:, None] == team[None, :]).astype(rewards.dtype)  # [N (agent), N (other)]
    other = 1.0 - same
    team_mean = jnp.sum(rewards[..., None, :] * same, axis=-1) / jnp.sum(same, axis=-1)
    n_opponents = jnp.sum(other, axis=-1)
    opponent_sum = jnp.sum(rewards[..., None, :] * other, axis=-1)
    opponent_mean = jnp.where(n_opponents > 0, opponent_sum / jnp.maximum(n_opponents, 1.0), 0.0)
    return (1.0 - tau) * rewards + tau * team_mean - opponent_mean


def clip(reward, low=-1.0, high=1.0) -> jax.Array:
    """``r`` clipped to ``[low, high]`` (bounded rewards; Gao et al. 2024 clip process rewards).

    The gradient is 0 outside the interval: a clipped region is flat on a landscape.
    """
    return jnp.clip(jnp.asarray(reward), low, high)


def potential_difference(
    potential: Callable[..., jax.Array], gamma, *, negative_slope=1.0
) -> Callable[..., jax.Array]:
    """Turn a state potential ``Φ`` into the shaping reward ``F(s, s') = γ·Φ(s')·(1 − done) − Φ(s)``.

    Ng, Harada & Russell (ICML 1999): adding ``F`` changes no optimal policy, provided
    ``Φ = 0`` at terminal states, which ``done`` enforces (``Φ(s')`` is dropped when
    ``s'`` ends the episode; time-limit truncation is not termination, pass
    ``done=False`` there).

    ``negative_slope`` (Lucy-SKG's potential-difference rewards): a negative difference is
    multiplied by it, ``F' = F`` if ``F ≥ 0`` else ``negative_slope·F``, like a leaky ReLU.
    Below 1 it punishes losing potential less than it rewards gaining it. Only the
    default 1 is potential shaping: any other value rewards going back and forth between
    two states, so Ng et al.'s guarantee no longer holds (the optimal policy may change).

    Args:
        potential: ``Φ(state) -> [...]``, any JAX function of a state (a dict of
            coordinates, an array, ...).
        gamma: the discount the agent is trained with (see :func:`half_life_gamma`).
        negative_slope: factor on negative differences (traceable; 1 by default).

    Returns:
        ``shaping(state, next_state, done=False) -> [...]``.

    Example:
        >>> height = lambda s: s["y"]
        >>> shaping = rv.shapes.potential_difference(height, gamma=0.99)
        >>> shaping({"y": 1.0}, {"y": 2.0})
        Array(0.98, dtype=float32)
        >>> leaky = rv.shapes.potential_difference(height, gamma=1.0, negative_slope=0.5)
        >>> leaky({"y": 2.0}, {"y": 1.0})
        Array(-0.5, dtype=float32)
    """

    def shaping(state, next_state, done=False) -> jax.Array:
        keep = 1.0 - jnp.asarray(done, dtype=jnp.result_type(float))
        difference = gamma * potential(next_state) * keep - potential(state)
        return jnp.where(difference >= 0, difference, negative_slope * difference)

    return shaping


def half_life_gamma(steps_per_second, seconds) -> jax.Array:
    """The discount whose weight halves after ``seconds``: ``γ = exp(ln 0.5 / (steps_per_second·seconds))``.

    Lucy-SKG sets γ this way from the game's tick rate. Example:
    ``half_life_gamma(15, 10)`` is about 0.9954.
    """
    return jnp.exp(math.log(0.5) / (jnp.asarray(steps_per_second) * seconds))


def velocity_towards(velocity, position, target, *, scale=1.0) -> jax.Array:
    """Speed towards a target: ``r = v·(t − p)/‖t − p‖ / scale``, over the last axis.

    The component of ``velocity`` along the direction from ``position`` to ``target``,
    in units of ``scale`` (e.g. the maximum speed, so ``r ∈ [−1, 1]``). 0 (with gradient
    0) when the position is on the target, where no direction is defined.

    Args:
        velocity, position, target: ``[..., D]`` vectors.
        scale: speed unit (> 0).

    Example:
        >>> rv.shapes.velocity_towards(jnp.array([1.0, 1.0]), jnp.zeros(2), jnp.array([2.0, 0.0]))
        Array(1., dtype=float32)
    """
    offset = jnp.asarray(target) - jnp.asarray(position)
    return _cosine_scaled(velocity, offset, unit_a=False) / scale


def alignment(a, b) -> jax.Array:
    """Cosine of the angle between two vectors over the last axis: ``a·b / (‖a‖‖b‖)`` in ``[−1, 1]``.

    0 (with gradient 0) when either vector is zero. Use it for "facing the ball"
    (:func:`facing`) or "ball moving the same way as the player".

    Example:
        >>> rv.shapes.alignment(jnp.array([1.0, 0.0]), jnp.array([-2.0, 0.0]))
        Array(-1., dtype=float32)
    """
    return _cosine_scaled(a, b, unit_a=True)


def facing(forward, position, target) -> jax.Array:
    """How squarely an agent faces a target: ``cos∠(forward, target − position)`` in ``[−1, 1]``.

    ``forward`` is the agent's heading vector (any length). 0 when the agent is on the
    target.
    """
    return alignment(forward, jnp.asarray(target) - jnp.asarray(position))


def heading(angle) -> jax.Array:
    """Unit heading vector ``[..., 2] = (cos θ, sin θ)`` of an angle in radians."""
    angle = jnp.asarray(angle)
    return jnp.stack([jnp.cos(angle), jnp.sin(angle)], axis=-1)


def _cosine_scaled(a, b, *, unit_a: bool) -> jax.Array:
    """``a·b / (‖a‖‖b‖)`` (``unit_a``) or ``a·b / ‖b‖``, 0 where the divisor is 0.

    Both branches of the ``where`` are differentiated, so the divisor is replaced by 1
    where it is 0 before dividing: otherwise 0/0 would make the gradient NaN.
    """
    a, b = jnp.asarray(a), jnp.asarray(b)
    dot = jnp.sum(a * b, axis=-1)
    divisor = norm(b) * (norm(a) if unit_a else 1.0)
    positive = divisor > 0
    return jnp.where(positive, dot / jnp.where(positive, divisor, 1.0), 0.0)


def _signed_power(value, exponent) -> jax.Array:
    """``sign(v)·|v|^exponent`` with value and gradient 0 at ``v = 0`` (never NaN)."""
    size = jnp.abs(value)
    positive = size > 0
    return jnp.where(positive, jnp.sign(value) * jnp.where(positive, size, 1.0) ** exponent, 0.0)


# Old names kept for one release: each warns and names its replacement.
__getattr__ = _deprecation.module_getattr(__name__, {"product": "rewardviz.shapes.multiply"})
