"""Potential-based reward shaping: apply it, fit it, and decide whether two rewards differ by it.

Ng, Harada & Russell (ICML 1999): adding ``F(s, a, s') = γΦ(s') − Φ(s)`` to a reward
changes no optimal policy, and ``Q*_{R+F}(s, a) = Q*_R(s, a) − Φ(s)``. In episodic
tasks this needs ``Φ = 0`` at terminal states; every function here enforces it.
This module does not solve MDPs and draws nothing.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, _deprecation, _kernels
from rewardviz.mdp import TabularMDP
from rewardviz.rewards import HIGHEST, check_reward

__all__ = [
    "SHAPING_TOLERANCE",
    "PotentialFit",
    "check_potential",
    "fit_potential",
    "is_potential_shaping",
    "potential_least_squares",
    "potential_shaping",
    "progress_bonus",
    "scaled_shaping_fit",
    "shaping_reward",
    "transition_weights",
]

#: Default relative tolerance of :func:`is_potential_shaping`.
SHAPING_TOLERANCE = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-8}


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["potential", "scale", "residual"],
    meta_fields=[],
)
@dataclasses.dataclass(frozen=True, eq=False)
class PotentialFit:
    """Result of :func:`fit_potential`: ``scale·R_a + γΦ(s') − Φ(s) ≈ R_b``.

    Attributes:
        potential: ``[..., S]`` the fitted ``Φ`` (0 at terminal states).
        scale: ``[...]`` the fitted positive scale (1 when not fitted).
        residual: ``[...]`` weighted root-mean-square of what the fit leaves unexplained.
    """

    potential: jax.Array
    scale: jax.Array
    residual: jax.Array

    def __repr__(self) -> str:
        return (
            f"PotentialFit(potential{tuple(self.potential.shape)}, "
            f"scale={np.asarray(self.scale).round(6)}, residual={np.asarray(self.residual)})"
        )


@_deprecation.positional_options("name")
def check_potential(mdp: TabularMDP, potential, *, name: str = "potential") -> jax.Array:
    """Return ``potential`` (``[..., S]``) as a float array after checking shape and values."""
    _checks.tabular_mdp("mdp", mdp)
    potential = _checks.float_array(name, potential)
    _checks.trailing_shape(name, potential, (mdp.n_states,), "[..., S]")
    _checks.finite(name, potential)
    return potential


def shaping_reward(mdp: TabularMDP, potential) -> jax.Array:
    """The shaping term ``F(s, a, s') = γΦ(s') − Φ(s)``, shape ``[..., S, A, S']``.

    ``Φ`` is set to 0 at terminal states first: an episode that ends collects
    ``γ^T Φ(s_T) − Φ(s_0)`` in total, so a non-zero terminal potential would pay
    episodes of different lengths differently and could change the optimal policy.
    """
    return _shaping_reward(mdp, check_potential(mdp, potential))


def potential_shaping(mdp: TabularMDP, reward, potential) -> jax.Array:
    """``R'(s, a, s') = R(s, a, s') + γΦ(s') − Φ(s)`` with ``Φ = 0`` at terminal states.

    Batch dimensions of ``reward`` (``[..., S, A, S']``) and ``potential``
    (``[..., S]``) broadcast. Optimal policies of ``R'`` and ``R`` coincide and
    ``Q*_{R'} = Q*_R − Φ(s)`` (Ng, Harada & Russell, ICML 1999).

    Example:
        >>> mdp, reward = rv.envs.chain(5)
        >>> shaped = rv.shaping.potential_shaping(mdp, reward, jnp.arange(5.0))
    """
    reward = check_reward(mdp, reward)
    potential = check_potential(mdp, potential)
    _check_batches("reward", reward.shape[:-3], "potential", potential.shape[:-1])
    return reward + _shaping_reward(mdp, potential)


def progress_bonus(mdp: TabularMDP, reward, potential, bonus: float) -> jax.Array:
    """``R + bonus·[Φ(s') > Φ(s)]``: pay for every step up a potential. NOT potential shaping.

    The hint engineers reach for first ("reward getting closer"), kept here as the
    standard counterexample: stepping down is free, so a loop down and back up collects
    the bonus once per lap and, when it is large enough, beats finishing the task. The
    optimal policy can change; compare :func:`potential_shaping`, which cannot.
    ``potential`` is ``[S]``, ``bonus >= 0``.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S..#", ".#.G", "...L"])
        >>> hinted = rv.shaping.progress_bonus(mdp, reward, -rv.envs.steps_to_goal(mdp), 1.0)
        >>> float(rv.distances.regret(mdp, reward, hinted)) > 0
        True
    """
    reward = check_reward(mdp, reward)
    potential = check_potential(mdp, potential)
    if potential.ndim != 1:
        raise ValueError(
            f"potential must have shape [S] = ({mdp.n_states},), got {potential.shape}."
        )
    bonus = _checks.in_range("bonus", bonus, 0.0, np.inf)
    uphill = potential[None, None, :] > potential[:, None, None]
    return reward + bonus * jnp.broadcast_to(uphill, reward.shape[-3:]).astype(reward.dtype)


def fit_potential(
    mdp: TabularMDP, reward_a, reward_b, *, weights=None, fit_scale: bool = False
) -> PotentialFit:
    """The potential (and optionally positive scale) that brings ``reward_a`` closest to ``reward_b``.

    Minimises the weighted least squares
    ``Σ_{s,a,s'} w(s, a, s') (c·R_a + γΦ(s') − Φ(s) − R_b)²`` over ``Φ`` (0 at terminal
    states) and, with ``fit_scale``, ``c ≥ 0`` (else ``c = 1``). Exact: the normal matrix
    of the shaping directions depends only on ``w`` and ``γ``, so it is factorised once
    (a pseudo-inverse, minimum-norm where ``Φ`` is not identified) and applied to every
    reward in the batch. With ``fit_scale`` both rewards are first projected off the
    shaping directions and ``c`` is the regression coefficient of the projected
    ``R_b`` on the projected ``R_a``, clipped at 0; when ``R_a`` is pure shaping every
    scale fits equally well and ``c = 1``; when only ``R_b`` is, ``c = 0``.

    Args:
        weights: ``[S, A, S']`` non-negative transition weights (a coverage
            distribution); uniform over all transitions by default.

    Returns:
        :class:`PotentialFit` with batch dimensions of the two rewards broadcast.
    """
    reward_a = check_reward(mdp, reward_a, name="reward_a")
    reward_b = check_reward(mdp, reward_b, name="reward_b")
    _check_batches("reward_a", reward_a.shape[:-3], "reward_b", reward_b.shape[:-3])
    weights = transition_weights(mdp, weights)
    return _fit_potential(mdp, reward_a, reward_b, weights, fit_scale=bool(fit_scale))


def is_potential_shaping(
    mdp: TabularMDP,
    reward_a,
    reward_b,
    *,
    tol: float | None = None,
    fit_scale: bool = False,
    weights=None,
) -> jax.Array:
    """Whether ``reward_b = c·reward_a + γΦ(s') − Φ(s)`` for some ``Φ`` (and ``c > 0`` with ``fit_scale``).

    Decided by :func:`fit_potential`: true when the residual is at most ``tol`` times
    the weighted root-mean-square size of the larger of the two rewards (default
    1e-8 in float64, 1e-4 in float32). Only transitions with positive weight count.
    The tolerance is relative to the rewards' size, which a large potential inflates: in
    float32 a fit of potential shaping with entries ~36 eps of that size is rounding
    (measured with potentials 10⁴ times the reward), so smaller differences cannot be
    told apart; with such potentials compare in float64 or use
    :func:`rewardviz.distances.epic`, whose answer shaping does not move.
    This is a statement about the reward functions themselves; for "do they define the
    same task" use :func:`rewardviz.distances.same_policy_ordering`, which also allows
    S'-redistribution and ignores unreachable states.
    """
    fit = fit_potential(mdp, reward_a, reward_b, weights=weights, fit_scale=fit_scale)
    dtype = np.dtype(fit.residual.dtype)
    tol = SHAPING_TOLERANCE.get(dtype, 1e-4) if tol is None else _checks.tolerance("tol", tol)
    weights = transition_weights(mdp, weights)
    size = jnp.maximum(_weighted_rms(reward_a, weights), _weighted_rms(reward_b, weights))
    positive = fit.scale > 0 if fit_scale else True
    return (fit.residual <= tol * jnp.maximum(size, jnp.finfo(dtype).tiny)) & positive


@_deprecation.positional_options("name")
def transition_weights(mdp: TabularMDP, weights=None, *, name: str = "weights") -> jax.Array:
    """Validated non-negative weights ``[S, A, S']`` normalised to sum to 1 (uniform by default)."""
    _checks.tabular_mdp("mdp", mdp)
    shape = (mdp.n_states, mdp.n_actions, mdp.n_states)
    if weights is None:
        return jnp.full(shape, 1.0 / np.prod(shape), dtype=mdp.dtype)
    weights = _checks.float_array(name, weights, dtype=mdp.dtype)
    if weights.shape != shape:
        raise ValueError(f"{name} must have shape [S, A, S'] = {shape}, got {weights.shape}.")
    _checks.finite(name, weights)
    if bool((weights < 0).any()) or not bool(weights.sum() > 0):
        raise ValueError(f"{name} must be non-negative with a positive sum.")
    return weights / weights.sum()


def _check_batches(name_a: str, batch_a: tuple, name_b: str, batch_b: tuple) -> None:
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise ValueError(
            f"the batch dimensions of {name_a} {batch_a} and {name_b} {batch_b} do not broadcast."
        ) from None


# ---------------------------------------------------------------------------
# Kernels.


@jax.jit
def _shaping_reward(mdp: TabularMDP, potential: jax.Array) -> jax.Array:
    potential = jnp.where(mdp.terminal, 0, potential)
    gamma = mdp.gamma.astype(potential.dtype)
    shaping = gamma * potential[..., None, None, :] - potential[..., :, None, None]
    return jnp.broadcast_to(
        shaping, (*potential.shape[:-1], mdp.n_states, mdp.n_actions, mdp.n_states)
    )


def potential_least_squares(design: jax.Array, weight: jax.Array, terminal: jax.Array):
    """A solver for ``Φ = argmin Σ_k w_k (y_k − (DΦ)_k)²`` with ``Φ = 0`` at terminal states.

    ``design`` ``D`` is ``[K, S]`` (one row per shaping equation), ``weight`` ``[K]``.
    Returns ``solve(y)`` mapping targets ``[..., K]`` to potentials ``[..., S]``; the
    pseudo-inverse of ``√w·D`` is computed once and serves every target of a batch
    (minimum-norm where ``Φ`` is not identified, e.g. constants when ``γ = 1``). It is
    taken of the design itself, not of the normal matrix ``DᵀWD``, whose condition number
    ~((1+γ)/(1−γ))² loses all float32 digits at γ ≥ 0.99; one step of iterative
    refinement then takes the residual down to rounding level.
    """
    dtype = design.dtype
    design = jnp.where(terminal[None, :], 0, design)
    root = jnp.sqrt(weight)
    # Singular values down to ~(1−γ)/(1+γ) of the largest are genuine: keep them; the
    # numpy-style cutoff 10·max(K, S)·eps would drop them for large MDPs in float32.
    cutoff = 10 * np.sqrt(max(design.shape)) * float(jnp.finfo(dtype).eps)
    inverse = jnp.linalg.pinv(root[:, None] * design, rtol=cutoff)  # [S, K]

    def solve(target):
        potential = jnp.zeros((*target.shape[:-1], design.shape[1]), dtype)
        rest = target
        for _ in range(2):  # solve, then refine once on the residual
            potential = potential + jnp.einsum(
                "sk,...k->...s", inverse, root * rest, precision=HIGHEST
            )
            rest = target - jnp.einsum("ks,...s->...k", design, potential, precision=HIGHEST)
        return jnp.where(terminal, 0, potential)  # exactly 0, not rounding noise

    return solve


def _transition_shaping_projection(mdp: TabularMDP, weights: jax.Array):
    """``project(R) -> (Φ, R − (γΦ(s') − Φ(s)))`` minimising ``Σ w(s, a, s')(R − γΦ(s') + Φ(s))²``.

    The shaping term does not depend on ``a``, so the least squares runs over the
    ``|S|²`` pairs ``(s, s')`` with weights ``W(s, s') = Σ_a w`` and targets
    ``Σ_a w·R / W``: the same minimiser, an ``[|S|², |S|]`` design instead of ``|S|²|A|``.
    """
    dtype = weights.dtype
    n_states = mdp.n_states
    gamma = mdp.gamma.astype(dtype)
    identity = jnp.eye(n_states, dtype=dtype)
    # Row (s, s') of the design is γ·e_{s'} − e_s.
    design = (gamma * identity[None, :, :] - identity[:, None, :]).reshape(-1, n_states)
    pair_weight = weights.sum(axis=1)  # W(s, s')
    solve = potential_least_squares(design, pair_weight.reshape(-1), mdp.terminal)
    safe_weight = jnp.where(pair_weight > 0, pair_weight, 1)

    def project(reward):
        pair_target = jnp.sum(weights * reward, axis=-2) / safe_weight
        potential = solve(pair_target.reshape(*reward.shape[:-3], -1))
        shaping = gamma * potential[..., None, None, :] - potential[..., :, None, None]
        return potential, reward - shaping

    return project


@partial(jax.jit, static_argnames=("fit_scale",))
def _fit_potential(mdp, reward_a, reward_b, weights, fit_scale):
    dtype = jnp.result_type(reward_a, reward_b)
    weights = weights.astype(dtype)
    return scaled_shaping_fit(
        _transition_shaping_projection(mdp, weights),
        lambda x, y: jnp.sum(weights * x * y, axis=(-3, -2, -1)),
        reward_a.astype(dtype),
        reward_b.astype(dtype),
        fit_scale=fit_scale,
        event_ndim=3,
    )


def scaled_shaping_fit(project, inner, target_a, target_b, *, fit_scale, event_ndim):
    """Least-squares fit of ``target_b ≈ c·target_a + shaping`` from a projection off shaping.

    ``project(x)`` returns the least-squares potential of ``x`` and what is left of ``x``
    after removing that shaping; ``inner(x, y)`` is the weighted inner product over the
    last ``event_ndim`` axes. Since the fit is linear, ``Φ = Φ_b − c·Φ_a`` and the best
    ``c`` is the regression coefficient of the two remainders, clipped at 0 (a negative
    coefficient means no positive scale helps). When ``target_a`` is pure shaping every
    scale fits equally and ``c = 1``; when only ``target_b`` is, ``c = 0``. Used for
    transition rewards here and for expected rewards ``r(s, a)`` in
    :mod:`rewardviz.distances`.
    """
    potential_a, rest_a = project(target_a)
    potential_b, rest_b = project(target_b)
    dtype = rest_b.dtype
    if fit_scale:
        # Squared sizes: a remainder within the tolerance of its target's size is shaping.
        tolerance = _kernels.shaping_zero_tolerance(dtype) ** 2
        size_a = inner(rest_a, rest_a)
        trivial = size_a <= tolerance * inner(target_a, target_a)
        # When only target_b is pure shaping its remainder is rounding noise, whose overlap
        # with rest_a has a random sign: the best scale is 0, not a noise-sized c > 0.
        size_b = inner(rest_b, rest_b)
        trivial_b = size_b <= tolerance * inner(target_b, target_b)
        overlap = inner(rest_a, rest_b)
        scale = jnp.where(trivial, 1, jnp.maximum(overlap / jnp.where(trivial, 1, size_a), 0))
        scale = jnp.where(trivial_b & ~trivial, 0, scale)
    else:
        batch = jnp.broadcast_shapes(rest_a.shape, rest_b.shape)[:-event_ndim]
        scale = jnp.ones(batch, dtype)
    unexplained = rest_b - scale.reshape(*scale.shape, *(1,) * event_ndim) * rest_a
    return PotentialFit(
        potential=potential_b - scale[..., None] * potential_a,
        scale=scale,
        residual=jnp.sqrt(inner(unexplained, unexplained)),
    )


def _weighted_rms(reward, weights):
    return jnp.sqrt(jnp.sum(weights * jnp.asarray(reward) ** 2, axis=(-3, -2, -1)))
