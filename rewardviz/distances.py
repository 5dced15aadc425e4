"""Distances between reward functions: canonicalisations, EPIC, DARD, STARC, NPEC, ERC, regret.

Two rewards can look different and define the same task (potential shaping, positive
scaling, S'-redistribution), or look alike and define different ones. The distances
here first map each reward to a canonical representative that removes what does not
matter, then compare representatives:

- EPIC (Gleave et al., ICLR 2021) and DARD (Wulfe et al., ICLR 2022) remove potential
  shaping, then take the Pearson distance ``D_ρ = sqrt((1 − ρ)/2)``.
- STARC (Skalse et al., ICLR 2024) removes shaping *and* S'-redistribution (VAL and the
  minimal L2 canonicalisation), normalises and takes a norm of the difference.

Terminal states: EPIC and DARD follow their papers and compare rewards on every
transition, including those out of terminal states, which no return depends on; VAL and
the minimal canonicalisation (STARC) set those rows to 0.

Every canonicalisation is linear in the reward; each works on a batch ``[..., S, A, S']``
through one per-MDP computation. This module draws nothing.

Zero canonical rewards: a reward whose canonical form is zero (within float rounding,
relative to the reward's own size) gives every policy the same value. Its standardised
form is defined as exactly zero (STARC's convention), so its Pearson distance to another
such reward is 0 and to any other reward 1/2, and its STARC distance to any other reward
is the norm of that reward's standardised form, 1.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _budget, _canonical, _checks, _deprecation, _kernels, _sharding
from rewardviz.mdp import TabularMDP
from rewardviz.policies import as_stochastic, uniform
from rewardviz.rewards import HIGHEST, check_reward
from rewardviz.shaping import (
    fit_potential,
    potential_least_squares,
    scaled_shaping_fit,
    transition_weights,
)
from rewardviz.solve import (
    DEFAULT_TIE_TOLERANCE,
    ConvergenceError,
    optimal_policy,
    policy_return,
    value_iteration,
)

__all__ = [
    "CANONICALISATIONS",
    "PAIRWISE_MEMORY",
    "Canonical",
    "OrderingCertificate",
    "canonicalize",
    "dard",
    "dard_memory_estimate",
    "epic",
    "erc",
    "memory_limit",
    "npec",
    "pairwise",
    "reachable_states",
    "regret",
    "same_policy_ordering",
    "starc",
]

Canonical = Literal["epic", "dard", "val", "minimal"]
#: Bytes of intermediate tensors ``pairwise`` may hold at once when it picks its chunk size.
PAIRWISE_MEMORY = 256 * 2**20
CANONICALISATIONS = ("epic", "dard", "val", "minimal")


# ---------------------------------------------------------------------------
# Canonicalisations.


@_deprecation.positional_options("method")
def canonicalize(
    mdp: TabularMDP,
    reward,
    *,
    method: Canonical = "epic",
    state_dist=None,
    action_dist=None,
    policy=None,
) -> jax.Array:
    """The canonical representative of each reward, ``[..., S, A, S']``.

    Methods (``D_S``, ``D_A`` are the coverage distributions ``state_dist``,
    ``action_dist``, uniform by default; ``m(x) = E_{A~D_A, S'~D_S} R(x, A, S')``):

    - ``"epic"`` (Gleave et al. 2021): ``C(R) = R + γm(s') − m(s) − γE_{S~D_S} m(S)``.
    - ``"dard"`` (Wulfe et al. 2022): ``C_T(R) = R + E[γR(s', A, S'') − R(s, A, S')
      − γR(S', A, S'')]`` with ``A ~ D_A``, ``S' ~ T(·|s, A)``, ``S'' ~ T(·|s', A)``;
      the last term is ``Σ_A D_A(A) (T_A R_A T_Aᵀ)(s, s')``, computed in ``O(|A||S|³)``.
    - ``"val"`` (STARC's value-adjusted levelling): ``c(R)(s, a, s') = E_{S'~T(s,a)}
      [R(s, a, S') − V^π(s) + γV^π(S')]`` with ``V^π`` under ``R`` for ``policy``
      (uniform by default); removes shaping and S'-redistribution.
    - ``"minimal"``: the orthogonal (L2) projection of ``R`` off the span of shaping
      and S'-redistribution directions, in closed form: with the expected reward
      ``r(s, a)``, ``R_min(s, a, s') = c*(s, a)·T(s'|s, a)/‖T(·|s, a)‖²`` where
      ``c_Φ = r + γTΦ − Φ`` and ``Φ*`` minimises ``Σ c_Φ(s, a)²/‖T(·|s, a)‖²``.

    Shaping potentials are 0 at terminal states (see :mod:`rewardviz.shaping`).
    ``"val"`` and ``"minimal"`` are 0 on the rows ``R(s, ·, ·)`` of terminal states,
    which no return depends on (for ``"minimal"`` those rows join the projected-off
    span); ``"epic"`` and ``"dard"`` follow their papers' formulas, which have no
    terminal states, and do depend on those rows.

    Example:
        >>> mdp, reward = rv.envs.random_mdp(6, 2, seed=0)
        >>> rv.distances.canonicalize(mdp, reward, method="minimal").shape
        (6, 2, 6)
    """
    reward = check_reward(mdp, reward)
    _checks.one_of("method", method, CANONICALISATIONS)
    if method == "dard":
        _check_dard_memory(mdp, reward.shape[:-3], reward.dtype, "canonicalize")
    options = _canonical_options(mdp, method, state_dist, action_dist, policy)
    return _canonicalize(mdp, reward, method, options)


def dard_memory_estimate(mdp: TabularMDP, batch_shape, dtype=np.float32) -> int:
    """Bytes DARD's canonicalisation holds at once for a batch: ~4 ``[A, S, S]`` arrays per reward.

    The reward, its ``T_A R_A`` products, the canonical reward and its Pearson terms, per
    reward of the batch (:func:`pairwise` chunks instead, so it is bounded by
    :data:`PAIRWISE_MEMORY`).
    """
    _checks.tabular_mdp("mdp", mdp)
    if not isinstance(batch_shape, list | tuple | np.ndarray):
        raise TypeError(
            f"batch_shape must be a tuple of sizes, got {_checks.describe(batch_shape)}."
        )
    batch_shape = tuple(
        _checks.positive_int(f"batch_shape[{i}]", n, minimum=0) for i, n in enumerate(batch_shape)
    )
    count = int(np.prod(batch_shape, dtype=np.int64)) if len(batch_shape) else 1
    return 4 * count * mdp.n_actions * mdp.n_states**2 * np.dtype(dtype).itemsize


def memory_limit() -> int:
    """Half of this machine's physical memory: what one call may plan to hold at once."""
    return _budget.memory_limit()


def _check_dard_memory(mdp: TabularMDP, batch_shape, dtype, caller: str) -> None:
    _budget.check_memory(
        f"{caller}(..., 'dard') on a batch of {tuple(batch_shape)} rewards with |S| = "
        f"{mdp.n_states}, |A| = {mdp.n_actions}",
        dard_memory_estimate(mdp, batch_shape, dtype),
        "Split the batch, or use rv.distances.pairwise(mdp, rewards, 'dard'), which works in "
        "chunks.",
    )


def _canonical_options(mdp, method, state_dist, action_dist, policy) -> dict:
    if method not in CANONICALISATIONS:
        raise ValueError(f"method must be one of {CANONICALISATIONS}, got {method!r}.")
    if method in ("epic", "dard"):
        if policy is not None:
            raise ValueError(f"policy is an option of 'val', not of {method!r}.")
        options = {"action_dist": _distribution("action_dist", action_dist, mdp.n_actions, mdp)}
        if method == "epic":
            options["state_dist"] = _distribution("state_dist", state_dist, mdp.n_states, mdp)
        elif state_dist is not None:
            raise ValueError("state_dist is not used by 'dard' (it samples S' from T).")
        return options
    if state_dist is not None or action_dist is not None:
        raise ValueError(
            f"state_dist and action_dist are options of 'epic'/'dard', not {method!r}."
        )
    if method == "val":
        if policy is not None:
            policy = as_stochastic(mdp, policy)
            _kernels.check_terminates(mdp, policy)
        elif not isinstance(mdp.gamma, jax.core.Tracer) and float(mdp.gamma) >= 1:
            _kernels.check_terminates(mdp, uniform(mdp))
        return {"policy": policy}
    if policy is not None:
        raise ValueError("policy is an option of 'val', not of 'minimal'.")
    return {}


def _with_defaults(mdp, options) -> dict:
    """``options`` with the uniform ``D_S``, ``D_A`` and policy where they were not given.

    Called inside the compiled kernels: building the defaults there costs nothing, where
    each eager ``jnp.full`` before a call costs a dispatch (~0.3 ms on the benchmark CPU).
    """
    defaults = {
        "state_dist": lambda: jnp.full((mdp.n_states,), 1 / mdp.n_states, mdp.dtype),
        "action_dist": lambda: jnp.full((mdp.n_actions,), 1 / mdp.n_actions, mdp.dtype),
        "policy": lambda: uniform(mdp),
    }
    return {name: defaults[name]() if value is None else value for name, value in options.items()}


@partial(jax.jit, static_argnames=("method",))
def _canonicalize(mdp, reward, method, options):
    options = _with_defaults(mdp, options)
    if method == "epic":
        return _canonical.epic_canonical(mdp, reward, options["state_dist"], options["action_dist"])
    if method == "dard":
        return _canonical.dard_canonical(mdp, reward, options["action_dist"])
    if method == "val":
        return _val_canonical(mdp, reward, options["policy"])
    return _minimal_canonical(mdp, reward)


def _val_canonical(mdp, reward, policy):
    levelled, profile = _val_factors(mdp, reward, policy)
    return levelled[..., None] * profile


def _val_factors(mdp, reward, policy):
    """VAL as ``c(s, a)·g(s, a, s')``: the levelled expected reward and ``g = 1``.

    ``V^π`` solves ``(I − γP_π)V = r_π`` over continuing transitions (as
    :func:`rewardviz.solve.policy_evaluation`), by :func:`rewardviz._kernels.block_solve`:
    the matrix is diagonally dominant by rows, and nonsingular (with ``γ = 1`` the policy
    is checked to terminate first).
    """
    # Values in the precision of the MDP and the reward together, as policy_evaluation.
    _, live_expected, _ = _kernels.live_dynamics(mdp, reward)
    values = _kernels.policy_values(mdp, live_expected, policy)
    transitions = mdp.transitions.astype(reward.dtype)
    gamma = mdp.gamma.astype(reward.dtype)
    next_value = jnp.einsum("sat,...t->...sa", transitions, values, precision=HIGHEST)
    levelled = (
        _kernels.expected_reward(transitions, reward) - values[..., :, None] + gamma * next_value
    )
    # Rewards for acting in a terminal state never count: they are not part of the task.
    levelled = jnp.where(mdp.terminal[:, None], 0, levelled)
    return levelled, jnp.ones_like(transitions)


def _minimal_canonical(mdp, reward):
    levelled, profile = _minimal_factors(mdp, reward)
    return levelled[..., None] * profile


def _minimal_factors(mdp, reward):
    """Minimal canonicalisation as ``c*(s, a)·T(s'|s, a)/‖T(·|s, a)‖²``."""
    transitions = mdp.transitions.astype(reward.dtype)
    row_norm = jnp.sum(transitions**2, axis=-1)  # ‖T(·|s, a)‖², [S, A]
    # Rows of terminal states never count: every reward on them is in the projected-off
    # span, so they get weight 0 in the fit and are 0 in the result.
    row_weight = jnp.where(mdp.terminal[:, None], 0, 1 / row_norm)
    levelled = _minimal_levelling(mdp, row_weight, _kernels.expected_reward(transitions, reward))
    levelled = jnp.where(mdp.terminal[:, None], 0, levelled)
    # The shortest reward over s' with expectation c is c·T(·|s, a)/‖T(·|s, a)‖².
    return levelled, transitions / row_norm[..., None]


#: Largest γ for which float64 minimal canonicalisation solves the normal equations.
_NORMAL_EQUATIONS_GAMMA = 0.99


def _minimal_levelling(mdp, row_weight, expected):
    """``r − (γTΦ − Φ)`` for the ``Φ`` of :func:`_expected_shaping_projection` (the residual
    is the same for every minimiser).

    In float64 with ``γ ≤ 0.99`` by the normal equations ``DᵀWD·Φ = DᵀW·r`` (the inverse
    of the ``[S, S]`` matrix, :func:`rewardviz._kernels.block_solve`) and one step of
    iterative refinement: with every non-terminal row weighted (``1/‖T(·|s, a)‖² > 0``)
    and ``γ < 1`` the design has full column rank, and its condition number, at most
    ``√S·(1 + γ)/(1 − γ)``, squared times the float64 epsilon stays below 1e-7 up to
    ``|S|`` = 1000, so the refined residual is exact to rounding. The pseudo-inverse of the ``[S·A, S]`` design that
    :func:`_expected_shaping_projection` uses otherwise (float32, whose epsilon squared
    conditioning would eat, or ``γ`` near or at 1, where ``Φ`` may not be identified)
    costs an SVD, 10-20x the time at ``|S|`` = 128.
    """
    dtype = expected.dtype

    def by_pseudo_inverse(expected):
        return _expected_shaping_projection(mdp, row_weight)(expected)[1]

    if dtype != np.float64:
        return by_pseudo_inverse(expected)

    def by_normal_equations(expected):
        n_states = mdp.n_states
        gamma = mdp.gamma.astype(dtype)
        design = gamma * mdp.transitions.astype(dtype) - jnp.eye(n_states, dtype=dtype)[:, None]
        design = jnp.where(mdp.terminal, 0, design.reshape(-1, n_states))  # Φ = 0 there
        weighted = design * row_weight.reshape(-1, 1)
        # Terminal columns are zero: 1 on their diagonal keeps the matrix definite and Φ 0.
        normal = jnp.matmul(weighted.T, design, precision=HIGHEST) + jnp.diag(mdp.terminal)
        inverse = _kernels.block_solve(normal, jnp.eye(n_states, dtype=dtype))
        flat = expected.reshape(-1, expected.shape[-2] * expected.shape[-1])
        potential = jnp.zeros((flat.shape[0], n_states), dtype)
        rest = flat
        for _ in range(2):  # solve, then refine once on the residual
            right = jnp.matmul(rest, weighted, precision=HIGHEST)  # (DᵀW·rest)ᵀ
            potential = potential + jnp.matmul(right, inverse, precision=HIGHEST)
            rest = flat - jnp.matmul(potential, design.T, precision=HIGHEST)
        return rest.reshape(expected.shape)

    return jax.lax.cond(
        mdp.gamma <= _NORMAL_EQUATIONS_GAMMA, by_normal_equations, by_pseudo_inverse, expected
    )


def _expected_shaping_projection(mdp, row_weight):
    """Projection of expected rewards ``r(s, a)`` off the shaping directions ``γTΦ − Φ``.

    Returns ``project(r) -> (Φ, r − (γTΦ − Φ))`` with ``Φ`` (0 at terminal states)
    minimising ``Σ_{s,a} w(s, a)·(r − γTΦ + Φ)²``, by
    :func:`rewardviz.shaping.potential_least_squares` over the ``[S·A, S]`` design
    ``γT − I``: one factorisation per MDP for every reward of a batch.
    """
    dtype = row_weight.dtype
    n_states = mdp.n_states
    gamma = mdp.gamma.astype(dtype)
    design = gamma * mdp.transitions.astype(dtype) - jnp.eye(n_states, dtype=dtype)[:, None, :]
    design = design.reshape(-1, n_states)
    solve = potential_least_squares(design, row_weight.reshape(-1), mdp.terminal)

    def project(expected):
        flat = expected.reshape(*expected.shape[:-2], -1)
        potential = solve(flat)
        shaping = jnp.einsum("ks,...s->...k", design, potential, precision=HIGHEST)
        return potential, (flat - shaping).reshape(expected.shape)

    return project


# ---------------------------------------------------------------------------
# Standardisation and distances between canonical rewards.


def epic(mdp: TabularMDP, reward_a, reward_b, *, state_dist=None, action_dist=None) -> jax.Array:
    """EPIC distance (Gleave et al., ICLR 2021), in ``[0, 1]``, batch dimensions broadcast.

    ``D_ρ(C(R_A), C(R_B))`` with the Pearson distance ``sqrt((1 − ρ)/2)`` under the
    coverage ``D_S(s)·D_A(a)·D_S(s')``. 0 for ``R`` and ``λ(R + shaping)``, ``λ > 0``;
    1 for ``R`` and ``−R``. Not invariant to S'-redistribution.
    """
    return _pearson_distance(mdp, reward_a, reward_b, "epic", state_dist, action_dist)


def dard(mdp: TabularMDP, reward_a, reward_b, *, action_dist=None) -> jax.Array:
    """DARD distance (Wulfe et al., ICLR 2022), in ``[0, 1]``.

    Pearson distance of the dynamics-aware canonical rewards under the coverage
    ``D_S(s)·D_A(a)·T(s'|s, a)`` (uniform ``D_S``, ``D_A`` by default): transitions the
    dynamics can produce.
    """
    return _pearson_distance(mdp, reward_a, reward_b, "dard", None, action_dist)


def _pearson_distance(mdp, reward_a, reward_b, method, state_dist, action_dist):
    reward_a = check_reward(mdp, reward_a, name="reward_a")
    reward_b = check_reward(mdp, reward_b, name="reward_b")
    _broadcastable(reward_a, reward_b)
    if method == "dard":
        batch = jnp.broadcast_shapes(reward_a.shape[:-3], reward_b.shape[:-3])
        _check_dard_memory(mdp, (2, *batch), reward_a.dtype, "dard")
    options = _canonical_options(mdp, method, state_dist, action_dist, None)
    return _pearson_kernel(mdp, reward_a, reward_b, method, options)


def _pearson_weights(mdp, method, options):
    """The coverage of EPIC (``D_S(s)·D_A(a)·D_S(s')``) or DARD (``D_S(s)·D_A(a)·T(s'|s, a)``),
    ``[S, A, S']``; ``options`` with their defaults (:func:`_with_defaults`)."""
    action_dist = options["action_dist"]
    if method == "epic":
        state_dist = options["state_dist"]
        return state_dist[:, None, None] * action_dist[None, :, None] * state_dist[None, None, :]
    state_dist = jnp.full((mdp.n_states,), 1 / mdp.n_states, mdp.dtype)
    return state_dist[:, None, None] * action_dist[None, :, None] * mdp.transitions


@partial(jax.jit, static_argnames=("method",))
def _pearson_kernel(mdp, reward_a, reward_b, method, options):
    options = _with_defaults(mdp, options)
    weights = _pearson_weights(mdp, method, options)
    unit_a = _canonical.pearson_standardise(
        _canonicalize(mdp, reward_a, method, options), reward_a, weights
    )
    unit_b = _canonical.pearson_standardise(
        _canonicalize(mdp, reward_b, method, options), reward_b, weights
    )
    return 0.5 * jnp.sqrt(_canonical.weighted_sum((unit_a - unit_b) ** 2, weights.reshape(-1)))


def starc(
    mdp: TabularMDP,
    reward_a,
    reward_b,
    *,
    canonical: Canonical = "val",
    norm: Literal[1, 2] | float = 2,
    metric: Literal[1, 2] | float | None = None,
    policy=None,
) -> jax.Array:
    """STARC distance (Skalse et al., ICLR 2024): ``‖s(R_A) − s(R_B)‖_metric``.

    ``s(R) = c(R)/‖c(R)‖_norm`` (``c(R)`` itself when that norm is zero) with the
    canonicalisation ``canonical`` (``"val"`` or ``"minimal"`` are STARC's; ``"epic"``
    is offered for comparison but ignores S'-redistribution). Norms are over all
    transitions ``(s, a, s')``; ``norm``/``metric`` take 1, 2 or ``inf``; ``metric``
    defaults to ``norm``. With L2, ``d(R, −R) = 2`` and ``d(R, c·shape(R)) = 0``.
    """
    reward_a = check_reward(mdp, reward_a, name="reward_a")
    reward_b = check_reward(mdp, reward_b, name="reward_b")
    _broadcastable(reward_a, reward_b)
    _checks.one_of("canonical (the canonicalisation method)", canonical, CANONICALISATIONS)
    norm, metric = _order("norm", norm), _order("metric", norm if metric is None else metric)
    options = _canonical_options(mdp, canonical, None, None, policy)
    return _starc_kernel(mdp, reward_a, reward_b, canonical, options, norm, metric)


@partial(jax.jit, static_argnames=("method", "norm", "metric"))
def _starc_kernel(mdp, reward_a, reward_b, method, options, norm, metric):
    options = _with_defaults(mdp, options)
    if method in _FACTORED:
        unit_a, weights, _ = _starc_factored_units(mdp, reward_a, method, options, norm)
        unit_b, _, _ = _starc_factored_units(mdp, reward_b, method, options, norm)
        return _canonical.weighted_norm(unit_a - unit_b, weights[metric], metric)
    canonical_a = _canonicalize(mdp, reward_a, method, options)
    canonical_b = _canonicalize(mdp, reward_b, method, options)
    unit_a = _canonical.starc_standardise(canonical_a, reward_a, norm, mdp.dtype)
    unit_b = _canonical.starc_standardise(canonical_b, reward_b, norm, mdp.dtype)
    return _canonical.norm(unit_a - unit_b, metric)


#: STARC's own canonicalisations have the form c(s, a)·g(s, a, s') with g fixed per MDP.
_FACTORED = ("val", "minimal")


def _starc_factored_units(mdp, reward, method, options, order):
    """Standardised ``c`` (``[..., S·A]``) of ``C = c·g``, the norm weights of ``g`` and ``‖R‖``
    (whose finiteness is the reward's).

    Every Lp norm of ``c·g`` over ``(s, a, s')`` is a weighted norm of ``c`` over
    ``(s, a)``: weights ``Σ_s' g`` (L1), ``Σ_s' g²`` (L2), ``max_s' g`` (L∞), since
    ``g ≥ 0``. Two rewards share ``g``, so the same holds for their difference. Exact,
    and it never forms the ``[..., S, A, S']`` canonical tensor.
    """
    if method == "val":
        levelled, profile = _val_factors(mdp, reward, options["policy"])
    else:
        levelled, profile = _minimal_factors(mdp, reward)
    weights = {
        1: profile.sum(-1).reshape(-1),
        2: (profile**2).sum(-1).reshape(-1),
        np.inf: profile.max(-1).reshape(-1),
    }
    flat = levelled.reshape(*levelled.shape[:-2], -1)
    norm = _canonical.weighted_norm(flat, weights[order], order)
    # ``c`` depends on R only through r(s, a), so the zero test measures r·g, not R: on
    # transitions that cannot happen a large potential adds |γΦ(s′) − Φ(s)| between far
    # states, which made ‖R‖ ~1e5× the canonical reward of a shaped grid (issue 19).
    expected = _kernels.expected_reward(mdp.transitions.astype(reward.dtype), reward)
    expected = jnp.where(mdp.terminal[:, None], 0, expected)
    expected_size = _canonical.weighted_norm(
        expected.reshape(*expected.shape[:-2], -1), weights[order], order
    )
    tolerance = _kernels.shaping_zero_tolerance(levelled.dtype, reward.dtype, mdp.dtype)
    zero = norm <= tolerance * expected_size
    size = _canonical.norm(_canonical.flat(reward), order)
    return jnp.where(zero[..., None], 0, flat / jnp.where(zero, 1, norm)[..., None]), weights, size


@_deprecation.positional_options("method")
def pairwise(
    mdp: TabularMDP,
    rewards,
    *,
    method: Literal["epic", "dard", "starc"] = "epic",
    chunk_size: int | None = None,
    devices=None,
    **options,
) -> jax.Array:
    """All distances between ``N`` rewards (``[N, S, A, S']``) as an ``[N, N]`` matrix.

    Canonicalises each reward once, then forms the matrix from a Gram product with full
    float32 precision (``HIGHEST``: reduced-precision GPU matmuls move EPIC by ~5e-3)
    or, for STARC with L1/L∞ metrics, from row-chunked differences. EPIC and DARD never
    write the canonical rewards out: the Gram product forms them block by block from the
    rewards and an ``[N, S, S']`` (DARD) or ``[N, S]`` (EPIC) offset. DARD's products, and
    STARC's canonicalisations other than VAL and minimal, run at most ``chunk_size``
    rewards at a time to bound the memory of intermediate tensors (by default as many as
    fit in about 256 MiB of intermediates, :data:`PAIRWISE_MEMORY`). A NaN or infinity in
    ``rewards`` raises ``ValueError`` naming its index, as everywhere. ``options`` are
    those of :func:`epic`, :func:`dard` or :func:`starc`. ``devices`` (None: every JAX
    device; an integer ``n``: the first ``n``; or a list) splits the rewards across
    devices with ``jax.sharding``; the matrix is the same.
    """
    _checks.tabular_mdp("mdp", mdp)
    _checks.one_of("method", method, ("epic", "dard", "starc"))
    rewards = _reward_array(mdp, rewards, "rewards")
    if rewards.ndim != 4:
        raise ValueError(
            f"rewards must have shape [N, S, A, S'] (one batch dimension), got {rewards.shape}; "
            "reshape a deeper batch with rewards.reshape(-1, S, A, S)."
        )
    if chunk_size is None:
        # A handful of [S, A, S'] intermediates per reward in flight (DARD's are [A, S, S]).
        per_reward = 6 * math.prod(rewards.shape[1:]) * rewards.dtype.itemsize
        chunk_size = max(1, min(len(rewards), PAIRWISE_MEMORY // per_reward))
    chunk_size = _checks.positive_int("chunk_size", chunk_size)
    placed, count = _sharding.put_batch(rewards, _sharding.mesh(devices))
    matrix, finite = _pairwise_matrix(mdp, placed, method, chunk_size, options)
    # The kernel reads every reward anyway and reports whether its sums over them are
    # finite: a NaN/inf check before it would be one more pass over the whole batch.
    _finite_or_raise(finite, "rewards", rewards)
    return matrix if matrix.shape[0] == count else matrix[:count, :count]


def _pairwise_matrix(mdp, rewards, method, chunk_size, options):
    if method in ("epic", "dard"):
        allowed = {"state_dist", "action_dist"} if method == "epic" else {"action_dist"}
        _known_options(options, allowed, method)
        canonical_options = _canonical_options(
            mdp, method, options.get("state_dist"), options.get("action_dist"), None
        )
        return _pairwise_pearson(mdp, rewards, method, canonical_options, chunk_size)
    if method == "starc":
        _known_options(options, {"canonical", "norm", "metric", "policy"}, method)
        canonical = options.get("canonical", "val")
        norm = _order("norm", options.get("norm", 2))
        metric = _order("metric", options.get("metric") or norm)
        canonical_options = _canonical_options(mdp, canonical, None, None, options.get("policy"))
        return _pairwise_starc(mdp, rewards, canonical, canonical_options, norm, metric, chunk_size)
    raise ValueError(f"method must be 'epic', 'dard' or 'starc', got {method!r}.")


@partial(jax.jit, static_argnames=("method", "chunk_size"))
def _pairwise_pearson(mdp, rewards, method, options, chunk_size):
    options = _with_defaults(mdp, options)
    weights = _pearson_weights(mdp, method, options)
    # Zero detection follows the least precise input (float32 rewards on a float64 MDP
    # are shaping only to float32 rounding); the arithmetic uses the most precise.
    tolerance = _kernels.shaping_zero_tolerance(rewards.dtype, weights.dtype)
    dtype = jnp.result_type(rewards, weights, mdp.transitions)
    rewards, weights = rewards.astype(dtype), weights.astype(dtype)
    gamma = mdp.gamma.astype(dtype)
    if method == "epic":
        state_dist, action_dist = options["state_dist"], options["action_dist"]
        mean_next, overall = _canonical.epic_means(rewards, state_dist, action_dist)
        # EPIC's C has weighted mean 0 under its own coverage, so no centring is needed.
        arriving = gamma * (mean_next - overall[:, None])  # [N, S']

        def offset(start, size):
            leaving = jax.lax.dynamic_slice_in_dim(mean_next, start, size, axis=1)
            return arriving[:, None, :] - leaving[:, :, None]

        # ‖O‖² of O(s, s') = γ(m(s') − m̄) − m(s) under D_S(s)·D_A(a)·D_S(s'), in closed form.
        def mass(values):
            return jnp.sum(state_dist * values, axis=-1)

        offset_size = jnp.sum(action_dist) * (
            jnp.sum(state_dist) * (mass(arriving**2) + mass(mean_next**2))
            - 2 * mass(arriving) * mass(mean_next)
        )
    else:
        pair_weights = weights.sum(axis=1)  # Σ_a w(s, a, s'): DARD's offset ignores a
        dynamics = _canonical.dard_dynamics(mdp, options["action_dist"], dtype)

        def centred_offset(reward):
            offset, mean_next = _canonical.dard_offset(reward, mdp.gamma, dynamics)
            # The coverage's mean of C = R + offset; Σ w·R = E_{S~uniform} u(S).
            offset = offset - (jnp.mean(mean_next) + jnp.sum(pair_weights * offset))
            return offset, jnp.sum(pair_weights * offset**2)

        # A few MiB of rewards at a time: products that size run on both cores of the
        # benchmark machine when it is otherwise idle (31 ms for the 64 rewards of
        # |S| = 128, |A| = 4, against 45 ms one reward at a time); the whole batch at once
        # makes XLA:CPU transpose all the rewards and runs slower than either.
        per_reward = math.prod(rewards.shape[1:]) * rewards.dtype.itemsize
        batch = max(1, min(chunk_size, _PRODUCT_BYTES // per_reward))
        offsets, offset_size = jax.lax.map(centred_offset, rewards, batch_size=batch)

        def offset(start, size):
            return jax.lax.dynamic_slice_in_dim(offsets, start, size, axis=1)

    gram = _offset_gram(rewards, offset, jnp.sqrt(weights))
    # Units are centred / norm: the norms come from the Gram diagonal and the division is
    # applied to the Gram matrix, so the [N, S·A·S'] units are never written out.
    norm = jnp.sqrt(jnp.diag(gram))
    # The reward's size for the zero test: R = C − O, so ‖R‖ is within ‖C‖ of ‖O‖, and
    # wherever the test can hold (‖C‖ ≤ 64 ulps of ‖R‖) ‖C‖ + ‖O‖ equals ‖R‖ to 1e-12
    # relative: the same decisions, without another pass over the rewards (a weighted
    # sum of squares over [N, S, A, S'] costs XLA:CPU as much as a third of the Gram).
    # A NaN or inf in a reward makes it NaN or inf (0·inf is NaN): that is the
    # finiteness the caller checks.
    size = norm + jnp.sqrt(jnp.maximum(offset_size, 0))
    zero = norm <= tolerance * size
    inverse_norm = jnp.where(zero, 0, 1 / jnp.where(zero, 1, norm))
    gram = gram * inverse_norm[:, None] * inverse_norm[None, :]
    squared = jnp.diag(gram)
    # ½‖a − b‖ with ‖a‖² = squared norms (1, or 0 for a zero canonical reward).
    matrix = 0.5 * jnp.sqrt(jnp.maximum(squared[:, None] + squared[None, :] - 2 * gram, 0))
    return matrix, jnp.all(jnp.isfinite(size))


#: Bytes of rewards whose DARD products run together (see _pairwise_pearson).
_PRODUCT_BYTES = 8 * 2**20
#: Columns per block of a Gram product: a [N, block] slice stays in cache.
_GRAM_COLUMNS = 2048


def _offset_gram(rewards, offset, root_weights):
    """``G_ij = Σ_k w_k C_ik C_jk`` over transitions ``k = (s, a, s')``, ``C = R + offset(s, s')``.

    ``offset(start, size)`` gives the ``[N, size, S']`` offsets of source states
    ``start … start + size − 1`` (EPIC's and DARD's canonical rewards are ``R`` plus such
    an action-independent term); ``root_weights`` is ``√w``, ``[S, A, S']``. Accumulated
    over blocks of a few source states: each block of ``C`` is formed from ``R`` where it
    is multiplied, so the ``[N, S·A·S']`` canonical rewards are never written out and the
    rewards are read once, with no gathers.
    """
    count, n_states, n_actions, _ = rewards.shape
    states = _block_states(n_states, n_actions * n_states)

    def accumulate(index, gram):
        start = index * states
        root = jax.lax.dynamic_slice_in_dim(root_weights, start, states, axis=0)
        block = jax.lax.dynamic_slice_in_dim(rewards, start, states, axis=1)
        columns = ((block + offset(start, states)[:, :, None, :]) * root).reshape(count, -1)
        return gram + jnp.matmul(columns, columns.T, precision=HIGHEST)

    start = jnp.zeros((count, count), rewards.dtype)
    return jax.lax.fori_loop(0, n_states // states, accumulate, start)


def _block_states(n_states: int, columns_per_state: int) -> int:
    """The largest divisor of ``n_states`` whose rows span at most ``_GRAM_COLUMNS`` columns."""
    fits = max(1, _GRAM_COLUMNS // columns_per_state)
    return max(d for d in range(1, min(fits, n_states) + 1) if n_states % d == 0)


def _gram(flat, column_weights):
    """``(flat·w) @ (flat·w).T`` (``[N, D] -> [N, N]``) accumulated over column blocks.

    XLA:CPU runs one tall ``[N, D] @ [D, N]`` product several times slower than the same
    work in cache-sized column blocks; the blocks also bound the working set, and the
    ``column_weights`` ``[D]`` are applied per block, never to the whole array.
    """
    count, width = flat.shape
    block = _GRAM_COLUMNS
    blocks = -(-width // block)
    padding = blocks * block - width
    padded = jnp.pad(flat, ((0, 0), (0, padding)))
    padded_weights = jnp.pad(column_weights, (0, padding))  # padded columns weigh 0

    def accumulate(index, gram):
        start = index * block
        columns = jax.lax.dynamic_slice_in_dim(padded, start, block, axis=1)
        columns = columns * jax.lax.dynamic_slice_in_dim(padded_weights, start, block)
        return gram + jnp.matmul(columns, columns.T, precision=HIGHEST)

    return jax.lax.fori_loop(0, blocks, accumulate, jnp.zeros((count, count), flat.dtype))


@partial(jax.jit, static_argnames=("method", "norm", "metric", "chunk_size"))
def _pairwise_starc(mdp, rewards, method, options, norm, metric, chunk_size):
    options = _with_defaults(mdp, options)
    if method in _FACTORED:
        # Only [S, A] coefficients per reward: the whole batch at once.
        units, weights, size = _starc_factored_units(mdp, rewards, method, options, norm)
        weights = weights[metric]
    else:

        def standardise(reward):
            canonical = _canonicalize(mdp, reward, method, options)
            return _canonical.starc_standardise(canonical, reward, norm, mdp.dtype)

        units = jax.lax.map(standardise, rewards, batch_size=chunk_size)  # [N, S·A·S']
        weights = jnp.ones(units.shape[-1], units.dtype)
        size = _canonical.norm(_canonical.flat(rewards), norm)
    # Any NaN or inf in a reward makes its norm NaN or inf.
    finite = jnp.all(jnp.isfinite(size))
    if metric == 2:
        gram = _gram(units, jnp.sqrt(weights))
        squared = jnp.diag(gram)
        return jnp.sqrt(jnp.maximum(squared[:, None] + squared[None, :] - 2 * gram, 0)), finite
    matrix = jax.lax.map(
        lambda row: _canonical.weighted_norm(row - units, weights, metric),
        units,
        batch_size=chunk_size,
    )
    return matrix, finite


# ---------------------------------------------------------------------------
# Regret, equivalence and the older distances.


#: Value-iteration sweeps that choose the policy :func:`regret` evaluates first: enough
#: that it is usually optimal already (one exact evaluation confirms it), far fewer than
#: value iteration needs to converge (~240 at γ = 0.9).
_WARM_START_SWEEPS = 8
#: Improvement steps :func:`regret`'s policy iteration may take (it takes a handful).
_POLICY_ITERATION_STEPS = 1000


def regret(mdp: TabularMDP, true_reward, proxy_reward) -> jax.Array:
    """Normalised regret of optimising ``proxy_reward`` when ``true_reward`` is what counts.

    ``(J_true(π*_true) − J_true(π*_proxy)) / (max_π J_true − min_π J_true)`` in ``[0, 1]``,
    with ``π*_proxy`` uniform over the proxy's optimal actions (ties included) and
    ``J`` the expected discounted return from ``mdp.initial``. 0 when every policy
    has the same true return. Batch dimensions broadcast.

    With ``γ < 1`` the optimal policies of the proxies, of the true rewards and of their
    negations (``min_π J = −max_π J_{−true}``) are found exactly, in one batch: the
    policy greedy after a few value-iteration sweeps is evaluated exactly, and where it
    is not yet optimal policy iteration (Howard 1960) continues from it; one compiled
    program. With ``γ = 1`` (some policies may never terminate) by value iteration.
    """
    _checks.tabular_mdp("mdp", mdp)
    true_reward = _reward_array(mdp, true_reward, "true_reward")
    proxy_reward = _reward_array(mdp, proxy_reward, "proxy_reward")
    _broadcastable(true_reward, proxy_reward)
    if isinstance(mdp.gamma, jax.core.Tracer) or float(mdp.gamma) >= 1:
        # Value iteration would run to its iteration limit on a NaN: check values first.
        _checks.finite("true_reward", true_reward)
        _checks.finite("proxy_reward", proxy_reward)
        return _regret_by_value_iteration(mdp, true_reward, proxy_reward)
    proxy_dtype = np.dtype(jnp.result_type(mdp.transitions, proxy_reward))
    tie_tolerance = DEFAULT_TIE_TOLERANCE.get(proxy_dtype, 1e-4)
    result, finite_true, finite_proxy, settled = _exact_regret(
        mdp, true_reward, proxy_reward, tie_tolerance
    )
    # Policy iteration ends on NaN rewards too (nothing compares better), so the values
    # are checked after the program, from sums it computed anyway.
    _finite_or_raise(finite_true, "true_reward", true_reward)
    _finite_or_raise(finite_proxy, "proxy_reward", proxy_reward)
    if not isinstance(settled, jax.core.Tracer) and not bool(settled):
        raise ConvergenceError(
            f"regret's policy iteration changed actions in all {_POLICY_ITERATION_STEPS} steps."
        )
    return result


@jax.jit
def _exact_regret(mdp, true_reward, proxy_reward, tie_tolerance):
    """:func:`regret` for ``γ < 1``; also whether each reward is finite and whether the
    policy iteration settled."""
    dtype = jnp.result_type(mdp.transitions, true_reward, proxy_reward)
    n_states, n_actions = mdp.n_states, mdp.n_actions
    transitions = mdp.transitions.astype(dtype)
    live = ~mdp.terminal
    continuing = transitions * (live[:, None, None] & live[None, None, :])
    gamma = mdp.gamma.astype(dtype)

    def expected_of(reward):
        # r(s, a), 0 in terminal states; a NaN/inf anywhere in R makes its row's sum one.
        expected = _kernels.expected_reward(transitions, reward.astype(dtype))
        return jnp.where(live[:, None], expected, 0), jnp.all(jnp.isfinite(expected))

    true_expected, finite_true = expected_of(true_reward)
    proxy_expected, finite_proxy = expected_of(proxy_reward)
    trues = true_expected.reshape(-1, n_states, n_actions)
    proxies = proxy_expected.reshape(-1, n_states, n_actions)
    expected = jnp.concatenate([proxies, trues, -trues])

    def sweep(_, values):
        return jnp.where(live, jnp.max(_kernels.backup(continuing, gamma, expected, values), -1), 0)

    values = jax.lax.fori_loop(0, _WARM_START_SWEEPS, sweep, jnp.zeros(expected.shape[:-1], dtype))
    start = jnp.argmax(_kernels.backup(continuing, gamma, expected, values), axis=-1)
    values, q = _kernels.deterministic_values(mdp, expected, start)
    # Optimal unless some action beats the chosen one by more than rounding (the rule of
    # rewardviz._kernels.improve, which policy iteration stops by).
    chosen = jnp.take_along_axis(q, start[..., None], axis=-1)[..., 0]
    scale = jnp.maximum(1, jnp.max(jnp.abs(q), axis=(-2, -1)))[..., None]
    rounding = _kernels.TIE_ROUNDING_ULPS * jnp.finfo(dtype).eps * scale
    improvable = jnp.any(jnp.max(q, axis=-1) > chosen + rounding)

    def iterate(_):
        actions, _, settled = _kernels.policy_iteration(
            mdp, expected, start, _POLICY_ITERATION_STEPS
        )
        return *_kernels.deterministic_values(mdp, expected, actions), settled

    values, q, settled = jax.lax.cond(
        improvable, iterate, lambda _: (values, q, jnp.asarray(True)), None
    )

    batch = jnp.broadcast_shapes(true_reward.shape[:-3], proxy_reward.shape[:-3])
    policy = _kernels.greedy(q[: len(proxies)], tie_tolerance)
    policy = jnp.broadcast_to(
        policy.reshape(*proxy_reward.shape[:-3], n_states, n_actions), (*batch, n_states, n_actions)
    )
    against = jnp.broadcast_to(true_expected, (*batch, n_states, n_actions))
    achieved = _kernels.start_value(mdp, _kernels.stochastic_values(mdp, policy, against))
    returns = _kernels.start_value(mdp, values[len(proxies) :])
    best = returns[: len(trues)].reshape(true_reward.shape[:-3])
    worst = -returns[len(trues) :].reshape(true_reward.shape[:-3])
    return (
        _kernels.normalised_regret(best, worst, achieved, gamma),
        finite_true,
        finite_proxy,
        settled,
    )


def _regret_by_value_iteration(mdp, true_reward, proxy_reward):
    proxy_policy = optimal_policy(mdp, proxy_reward)
    achieved = policy_return(mdp, true_reward, proxy_policy)
    start = mdp.initial.astype(achieved.dtype)
    best = jnp.einsum("s,...s->...", start, value_iteration(mdp, true_reward).values)
    try:
        lowest = value_iteration(mdp, -true_reward).values
    except ConvergenceError as error:
        raise ValueError(
            "regret normalises by the worst policy's return, which is unbounded here: with "
            "gamma = 1 some policy never reaches a terminal state and keeps collecting "
            "negative true reward. Use gamma < 1 for this comparison."
        ) from error
    worst = -jnp.einsum("s,...s->...", start, lowest)
    return _kernels.normalised_regret(best, worst, achieved, mdp.gamma)


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["equivalent", "scale", "potential", "residual"],
    meta_fields=[],
)
@dataclasses.dataclass(frozen=True, eq=False)
class OrderingCertificate:
    """Result of :func:`same_policy_ordering`.

    ``equivalent`` is true when ``r_b(s, a) = scale·r_a(s, a) + γ(TΦ)(s, a) − Φ(s)`` on
    every reachable non-terminal state, with ``scale > 0`` (``potential`` is ``Φ``);
    ``residual`` is the root-mean-square misfit of that equation.
    """

    equivalent: jax.Array
    scale: jax.Array
    potential: jax.Array
    residual: jax.Array

    def __bool__(self) -> bool:
        return bool(np.all(np.asarray(self.equivalent)))


def same_policy_ordering(
    mdp: TabularMDP, reward_a, reward_b, *, tol: float | None = None
) -> OrderingCertificate:
    """Whether two rewards order all policies the same way, with a certificate.

    Skalse et al. (ICML 2023): they do iff they differ by potential shaping, positive
    scaling and S'-redistribution. Decided on expected rewards ``r = E_T R`` (which
    removes S'-redistribution) over the non-terminal states reachable from
    ``mdp.initial``: find ``c > 0`` and ``Φ`` (0 at terminal states) with
    ``r_b − c·r_a = γTΦ − Φ`` by exact least squares, accepted when the root-mean-square
    misfit is at most ``tol`` (default 1e-8 float64, 1e-4 float32) times the larger
    root-mean-square size of ``r_a``, ``r_b``. Two rewards under which all policies tie
    are equivalent (scale 1).

    Example:
        >>> mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
        >>> shaped = rv.shaping.potential_shaping(mdp, 3 * reward, jnp.arange(5.0))
        >>> bool(rv.distances.same_policy_ordering(mdp, reward, shaped))
        True
    """
    reward_a = check_reward(mdp, reward_a, name="reward_a")
    reward_b = check_reward(mdp, reward_b, name="reward_b")
    _broadcastable(reward_a, reward_b)
    dtype = jnp.result_type(reward_a, reward_b)
    if tol is None:
        tol = 1e-8 if np.dtype(dtype) == np.float64 else 1e-4
    counted = reachable_states(mdp) & ~np.asarray(mdp.terminal)
    return _same_policy_ordering(mdp, reward_a, reward_b, jnp.asarray(counted), tol)


@jax.jit
def _same_policy_ordering(mdp, reward_a, reward_b, counted, tol):
    dtype = jnp.result_type(reward_a, reward_b)
    transitions = mdp.transitions.astype(dtype)
    row_weight = jnp.broadcast_to(counted[:, None], (mdp.n_states, mdp.n_actions)).astype(dtype)
    row_weight = row_weight / jnp.sum(row_weight)
    expected_a = _kernels.expected_reward(transitions, reward_a.astype(dtype))
    expected_b = _kernels.expected_reward(transitions, reward_b.astype(dtype))

    def inner(x, y):
        return jnp.sum(row_weight * x * y, axis=(-2, -1))

    fit = scaled_shaping_fit(
        _expected_shaping_projection(mdp, row_weight),
        inner,
        expected_a,
        expected_b,
        fit_scale=True,
        event_ndim=2,
    )
    size = jnp.sqrt(jnp.maximum(inner(expected_a, expected_a), inner(expected_b, expected_b)))
    fits = fit.residual <= tol * jnp.maximum(size, jnp.finfo(dtype).tiny)
    return OrderingCertificate(
        equivalent=fits & (fit.scale > 0),
        scale=fit.scale,
        potential=fit.potential,
        residual=fit.residual,
    )


def reachable_states(mdp: TabularMDP) -> np.ndarray:
    """Boolean ``[S]``: states reachable from the support of ``mdp.initial`` under some actions.

    Terminal states are reached but not left.
    """
    _checks.tabular_mdp("mdp", mdp)
    transitions = np.asarray(mdp.transitions)
    terminal = np.asarray(mdp.terminal)
    step = (transitions > 0).any(axis=1)
    step[terminal] = False
    reach = step | np.eye(mdp.n_states, dtype=bool)
    for _ in range(int(np.ceil(np.log2(max(mdp.n_states, 2))))):
        reach = (reach.astype(np.float32) @ reach.astype(np.float32)) > 0
    return (np.asarray(mdp.initial) > 0) @ reach > 0


def npec(mdp: TabularMDP, reward_a, reward_b, *, weights=None) -> jax.Array:
    """NPEC (Gleave et al. 2021, §4): how far ``R_b`` is from every ``c·R_a + shaping``, normalised.

    ``NPEC(R_a, R_b) = D(R_a, R_b) / D(0, R_b)`` with the premetric
    ``D(R_a, R_b) = min_{c ≥ 0, Φ} ‖c·R_a + γΦ(s') − Φ(s) − R_b‖_w`` (weighted L2, uniform
    weights by default). The normaliser is that premetric from the **zero reward**:
    ``D(0, R_b) = min_Φ ‖γΦ(s') − Φ(s) − R_b‖_w``, the distance from ``R_b`` to its
    nearest pure-shaping reward (constants included when ``γ < 1`` and no state is
    terminal, since a constant ``k`` is shaping by ``Φ ≡ k/(γ − 1)``), not ``‖R_b‖_w``.
    So NPEC is unchanged when either reward is potential-shaped or ``R_b`` is positively
    rescaled, lies in ``[0, 1]`` (``c = 0`` is allowed, so the numerator never exceeds the
    normaliser), is 1 for ``R_a = 0`` and is 0 when ``R_b`` is itself pure shaping
    (``D(0, R_b) = 0``, Gleave et al.'s convention). Both minimisations are solved exactly
    by :func:`rewardviz.shaping.fit_potential`'s least squares rather than by the paper's
    iterative optimiser. In this L2 form NPEC is ``sin θ`` between the non-shaping parts
    of the two rewards when they point the same way (1 otherwise), hence symmetric except
    when one reward is pure shaping: ``NPEC(R, shaping) = 0`` but ``NPEC(shaping, R) = 1``.

    Example:
        >>> mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
        >>> float(rv.distances.npec(mdp, reward, 2 * reward))
        0.0
    """
    reward_a = check_reward(mdp, reward_a, name="reward_a")
    reward_b = check_reward(mdp, reward_b, name="reward_b")
    _broadcastable(reward_a, reward_b)
    fit = fit_potential(mdp, reward_a, reward_b, weights=weights, fit_scale=True)
    # D(0, R_b): what is left of R_b once its best potential shaping is removed.
    zero = jnp.zeros(reward_b.shape[-3:], reward_b.dtype)
    baseline = fit_potential(mdp, zero, reward_b, weights=weights, fit_scale=False).residual
    weights = transition_weights(mdp, weights)
    size = jnp.sqrt(jnp.sum(weights * reward_b**2, axis=(-3, -2, -1)))
    # A pure-shaping R_b leaves only rounding noise; the ratio of two noises would be
    # meaningless, so that case is 0 by definition.
    pure_shaping = baseline <= _kernels.shaping_zero_tolerance(baseline.dtype) * size
    ratio = fit.residual / jnp.where(pure_shaping, 1, baseline)
    return jnp.where(pure_shaping, 0, jnp.minimum(ratio, 1))


def erc(
    mdp: TabularMDP,
    reward_a,
    reward_b,
    *,
    policy=None,
    episodes: int = 1000,
    horizon: int = 100,
    seed: int | jax.Array = 0,
) -> jax.Array:
    """Episode return correlation distance (Gleave et al. 2021), ``sqrt((1 − ρ)/2)``.

    Samples ``episodes`` trajectories of ``horizon`` steps (stopping at terminal states)
    from ``mdp.initial`` with ``policy`` (uniform by default) and seed ``seed``, and
    correlates their discounted returns under both rewards. Sampling makes it
    noisy; it is 0 only when returns are exactly affinely related on the samples.
    Returns ½ when exactly one reward gives every sampled episode the same return,
    0 when both do.
    """
    episodes = _checks.positive_int("episodes", episodes, "sampled trajectories")
    horizon = _checks.positive_int("horizon", horizon, "steps per trajectory")
    reward_a = check_reward(mdp, reward_a, name="reward_a")
    reward_b = check_reward(mdp, reward_b, name="reward_b")
    if reward_a.shape != reward_b.shape:
        raise ValueError(
            f"reward_a and reward_b must have the same shape for erc, got {reward_a.shape} "
            f"and {reward_b.shape}."
        )
    policy = uniform(mdp) if policy is None else as_stochastic(mdp, policy)
    if policy.ndim != 2:
        raise ValueError("erc takes one policy [S, A].")
    episodes, horizon = int(episodes), int(horizon)
    if episodes < 2 or horizon < 1:
        raise ValueError("erc needs episodes >= 2 and horizon >= 1.")
    key = _checks.key("seed", seed)
    returns_a, returns_b = _sampled_returns(mdp, reward_a, reward_b, policy, key, episodes, horizon)
    dtype = returns_a.dtype
    stacked = jnp.stack([returns_a, returns_b])  # [2, ..., episodes]
    centred = stacked - stacked.mean(axis=-1, keepdims=True)
    norm = jnp.sqrt(jnp.sum(centred**2, axis=-1, keepdims=True))
    scale = jnp.max(jnp.abs(stacked), axis=-1, keepdims=True)
    zero = norm <= _kernels.zero_tolerance(dtype) * jnp.sqrt(episodes) * scale
    units = jnp.where(zero, 0, centred / jnp.where(zero, 1, norm))
    return 0.5 * jnp.sqrt(jnp.sum((units[0] - units[1]) ** 2, axis=-1))


@partial(jax.jit, static_argnames=("episodes", "horizon"))
def _sampled_returns(mdp, reward_a, reward_b, policy, key, episodes, horizon):
    """Discounted returns of ``episodes`` rollouts under both rewards, all episodes in step."""
    start_key, rollout_key = jax.random.split(key)
    states = jax.random.choice(start_key, mdp.n_states, (episodes,), p=mdp.initial)

    def step(carry, step_key):
        state, alive, discount, total_a, total_b = carry
        action_key, next_key = jax.random.split(step_key)
        action = jax.random.categorical(action_key, jnp.log(policy[state]))
        following = jax.random.categorical(next_key, jnp.log(mdp.transitions[state, action]))
        alive = alive & ~mdp.terminal[state]  # nothing is collected after a terminal state
        gain = discount * alive
        total_a = total_a + gain * reward_a[..., state, action, following]
        total_b = total_b + gain * reward_b[..., state, action, following]
        return (following, alive, discount * mdp.gamma, total_a, total_b), None

    zeros = jnp.zeros((*reward_a.shape[:-3], episodes), reward_a.dtype)
    carry = (states, jnp.ones(episodes, bool), jnp.ones((), reward_a.dtype), zeros, zeros)
    (*_, returns_a, returns_b), _ = jax.lax.scan(
        step, carry, jax.random.split(rollout_key, horizon)
    )
    return returns_a, returns_b


# ---------------------------------------------------------------------------
# Small validation helpers.


def _distribution(name, dist, size, mdp):
    """``dist`` checked as a distribution over ``size`` outcomes; None (uniform, built by
    :func:`_with_defaults`) stays None."""
    if dist is None:
        return None
    dist = _checks.float_array(name, dist, dtype=mdp.dtype)
    if dist.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {dist.shape}.")
    _checks.finite(name, dist)
    if bool((dist < 0).any()) or abs(float(dist.sum()) - 1) > 1e-6:
        raise ValueError(f"{name} must be a probability distribution (non-negative, sum 1).")
    return dist


def _reward_array(mdp, reward, name):
    """``reward`` as a float array of shape ``[..., S, A, S']``; its values are not checked.

    For kernels that report whether their sums over the rewards are finite: the caller
    then runs :func:`_finite_or_raise`, which names the first NaN/inf as
    :func:`rewardviz.rewards.check_reward` does, without a pass of its own when all is well.
    """
    reward = _checks.float_array(name, reward)
    _checks.trailing_shape(
        name, reward, (mdp.n_states, mdp.n_actions, mdp.n_states), "[..., S, A, S']"
    )
    return reward


def _finite_or_raise(finite, name, reward) -> None:
    """After a kernel on ``reward`` reported ``finite``: raise naming the first NaN/inf if not.

    A finite flag that is false because a sum overflowed, not because of a NaN/inf, finds
    nothing and raises nothing. Traced flags (under the caller's jit) are not checked.
    """
    if not isinstance(finite, jax.core.Tracer) and not bool(finite):
        _checks.finite(name, reward)


def _order(name, value) -> float:
    if isinstance(value, bool) or np.ndim(value) != 0 or isinstance(value, str):
        raise ValueError(f"{name} must be 1, 2 or numpy.inf, got {_checks.describe(value)}.")
    if value in (1, 2):
        return int(value)
    if value == np.inf:
        return np.inf
    raise ValueError(f"{name} must be 1, 2 or numpy.inf, got {value!r}.")


def _broadcastable(reward_a, reward_b) -> None:
    try:
        jnp.broadcast_shapes(reward_a.shape, reward_b.shape)
    except ValueError:
        raise ValueError(
            f"the batch dimensions of the two rewards do not broadcast: {reward_a.shape[:-3]} "
            f"and {reward_b.shape[:-3]}."
        ) from None


def _known_options(options: dict, allowed: set, method: str) -> None:
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(
            f"unknown option(s) {sorted(unknown)} for method {method!r}; allowed: {sorted(allowed)}."
        )
