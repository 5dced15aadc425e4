"""Canonicalisation and standardisation kernels shared by distances and the STARC study.

EPIC's and DARD's canonical rewards, and the standardisations and norms that turn a
canonical reward into a unit vector, on validated ``[..., S, A, S']`` arrays. The
distances of :mod:`rewardviz.distances` and the batched study of
:mod:`rewardviz.experiments` both compute through these, so they agree to rounding.
Nothing here validates, solves or draws.

Zero canonical rewards: a canonical form within :func:`rewardviz._kernels.shaping_zero_tolerance`
of zero, relative to the reward's own size, is standardised to exactly zero (STARC's
convention).
"""

from __future__ import annotations

import jax.numpy as jnp

from rewardviz._kernels import HIGHEST, shaping_zero_tolerance


def epic_canonical(mdp, reward, state_dist, action_dist):
    """EPIC (Gleave et al., ICLR 2021): ``C(R) = R + γm(s') − m(s) − γE_{S~D_S} m(S)``.

    ``m(x) = E_{A~D_A, S'~D_S} R(x, A, S')``; ``[..., S, A, S']`` in and out.
    """
    gamma = mdp.gamma.astype(reward.dtype)
    mean_next, overall = epic_means(reward, state_dist, action_dist)
    return (
        reward
        + gamma * mean_next[..., None, None, :]
        - mean_next[..., :, None, None]
        - gamma * overall[..., None, None, None]
    )


def epic_means(reward, state_dist, action_dist):
    """EPIC's ``m(x) = E_{A~D_A, S'~D_S} R(x, A, S')`` (``[..., S]``) and ``E_{S~D_S} m(S)`` (``[...]``)."""
    mean_next = jnp.sum(reward * (action_dist[:, None] * state_dist[None, :]), axis=(-2, -1))
    return mean_next, jnp.sum(mean_next * state_dist, axis=-1)


def dard_canonical(mdp, reward, action_dist):
    """DARD (Wulfe et al., ICLR 2022): ``R + E[γR(s', A, S'') − R(s, A, S') − γR(S', A, S'')]``.

    ``A ~ D_A``, ``S' ~ T(·|s, A)``, ``S'' ~ T(·|s', A)``; the last term is
    ``Σ_A D_A(A) (T_A R_A T_Aᵀ)(s, s')``, computed in ``O(|A||S|³)``.
    """
    offset, _ = dard_offset(reward, mdp.gamma, dard_dynamics(mdp, action_dist, reward.dtype))
    return reward + offset[..., :, None, :]


def dard_dynamics(mdp, action_dist, dtype):
    """DARD's per-action matrices ``T_A`` and ``D_A(A)·T_A`` (``[A, S, S']`` each) and ``D_A``."""
    per_action = jnp.swapaxes(mdp.transitions.astype(dtype), 0, 1)
    action_dist = action_dist.astype(dtype)
    return per_action, per_action * action_dist[:, None, None], action_dist


def dard_offset(reward, gamma, dynamics):
    """``C_T(R) − R`` of :func:`dard_canonical` (``[..., S, S']``: it does not depend on the
    action) and ``u(x) = E_{A~D_A, S'~T(x, A)} R(x, A, S')`` (``[..., S]``).

    ``C_T(R) − R = γu(s') − u(s) − γΣ_A D_A(A) (T_A R_A T_Aᵀ)(s, s')``; ``dynamics`` is
    :func:`dard_dynamics`. Works per action on ``[S, S]`` matrices: two |S|³ matrix
    products per action and never an |S|⁴ tensor (XLA:CPU runs the same contraction
    written as one einsum over ``(s, a, x)`` with transposed copies, about 2x slower).
    """
    per_action, weighted, action_dist = dynamics
    gamma = gamma.astype(reward.dtype)
    by_action = jnp.swapaxes(reward, -3, -2)  # R_A, [..., A, S, S']
    expected = jnp.sum(per_action * by_action, axis=-1)  # r(x, A), [..., A, S]
    mean_next = jnp.sum(expected * action_dist[:, None], axis=-2)
    step = jnp.matmul(per_action, by_action, precision=HIGHEST)  # T_A R_A
    # Σ_A (T_A R_A)(D_A(A)·T_A)ᵀ as one contraction over (A, S''): one large product.
    between = jnp.einsum("...asy,aty->...st", step, weighted, precision=HIGHEST)
    offset = gamma * mean_next[..., None, :] - mean_next[..., :, None] - gamma * between
    return offset, mean_next


def flat(array):
    """``[..., S, A, S']`` as ``[..., S·A·S']``: reductions over one axis run faster."""
    return array.reshape(*array.shape[:-3], -1)


def weighted_sum(values, weights):
    """``Σ_k w_k x_k`` over the last axis, as a matrix-vector product (full precision)."""
    return jnp.einsum("...k,k->...", values, weights, precision=HIGHEST)


def norm(values, order):
    """The ``order`` norm (1, 2 or ∞) over the last axis."""
    if order == 1:
        return jnp.sum(jnp.abs(values), axis=-1)
    if order == 2:
        return jnp.sqrt(jnp.sum(values**2, axis=-1))
    return jnp.max(jnp.abs(values), axis=-1)


def weighted_norm(values, weights, order):
    """``(Σ_k w_k |x_k|^p)^(1/p)`` over the last axis for p = 1, 2; ``max_k w_k |x_k|`` for ∞."""
    if order == 1:
        return weighted_sum(jnp.abs(values), weights)
    if order == 2:
        return jnp.sqrt(weighted_sum(values**2, weights))
    return jnp.max(weights * jnp.abs(values), axis=-1)


def pearson_standardise(canonical, reward, weights):
    """``[..., S·A·S']`` centred, unit weighted L2 norm; zero canonical rewards stay zero.

    ``½‖u_A − u_B‖`` of two such units is the Pearson distance ``sqrt((1 − ρ)/2)``.
    """
    values, flat_weights = flat(canonical), weights.reshape(-1)
    centred = values - weighted_sum(values, flat_weights)[..., None]
    size = jnp.sqrt(weighted_sum(centred**2, flat_weights))
    reward_size = jnp.sqrt(weighted_sum(flat(reward) ** 2, flat_weights))
    zero = (
        size <= shaping_zero_tolerance(canonical.dtype, reward.dtype, weights.dtype) * reward_size
    )
    return jnp.where(zero[..., None], 0, centred / jnp.where(zero, 1, size)[..., None])


def starc_standardise(canonical, reward, order, mdp_dtype):
    """``[..., S·A·S']`` scaled to unit ``order`` norm (STARC's ``c(R)/‖c(R)‖``); zero stays zero."""
    values = flat(canonical)
    size = norm(values, order)
    reward_size = norm(flat(reward), order)
    zero = size <= shaping_zero_tolerance(canonical.dtype, reward.dtype, mdp_dtype) * reward_size
    return jnp.where(zero[..., None], 0, values / jnp.where(zero, 1, size)[..., None])
