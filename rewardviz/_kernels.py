"""Solver building blocks shared by solve, distances, learning and experiments.

Pure JAX functions on validated arrays: expected rewards, Bellman backups, exact policy
evaluation, greedy policies with explicit ties, policy iteration on deterministic
policies, the normalisation of regret, and the random-environment generator. Public
functions (in :mod:`rewardviz.solve`, :mod:`rewardviz.distances`, ...) validate their
inputs and then call these; nothing here checks arguments (except
:func:`check_terminates`, the one check that needs the dynamics) or draws anything.

Conventions of :mod:`rewardviz.solve`: terminal states are absorbing with value 0, so
every kernel works on the *continuing* transitions (neither from nor into a terminal
state) and on expected rewards that are 0 in terminal states.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz._xla import batched_lapack_safe

#: Full-precision matrix products: reduced-precision (TF32/bf16) GPU matmuls would move
#: values and distances by ~1e-3.
HIGHEST = jax.lax.Precision.HIGHEST


def traced(*trees) -> bool:
    """Whether any leaf of ``trees`` is a tracer (called under the caller's jit/vmap)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(trees))


def zero_tolerance(*dtypes) -> float:
    """Relative size below which a return span or a score difference counts as zero.

    1000 machine epsilons of the least precise of ``dtypes``: sums of a few hundred
    rewards (episode returns, preference segments) round by that much at most.
    """
    return 1e3 * max(float(jnp.finfo(dtype).eps) for dtype in dtypes)


#: Rounding headroom, in machine epsilons, of :func:`shaping_zero_tolerance`.
SHAPING_ZERO_ULPS = 64


def shaping_zero_tolerance(*dtypes) -> float:
    """Relative size below which what is left of a reward once potential shaping is
    removed (a canonical reward, a least-squares remainder) counts as zero.

    A reward that is pure shaping up to rounding, ``γΦ(s′) − Φ(s)`` stored in float32,
    leaves about one machine epsilon of its own size (measured on random MDPs up to
    |S| = 64, γ = 0.999); 64 epsilons of the least precise of ``dtypes`` leave headroom.
    The bound must stay small, because a large potential makes ``‖R′‖`` large while the
    part of ``R′`` that shaping cannot remove keeps its size: with ``Φ = −10⁴·steps``
    on a γ = 0.9 grid the canonical reward is ~600 epsilons of ``‖R′‖`` in float32, and
    the former bound of 1000 epsilons called it zero (issue 19).
    """
    return SHAPING_ZERO_ULPS * max(float(jnp.finfo(dtype).eps) for dtype in dtypes)


#: Rounding floor, in machine epsilons of ``max|Q|``, of :func:`greedy`'s ties and of the
#: improvements :func:`improve` makes.
TIE_ROUNDING_ULPS = 4


# ---------------------------------------------------------------------------
# Expected rewards, backups and policy evaluation.


def expected_reward(transitions: jax.Array, reward: jax.Array) -> jax.Array:
    """``r(s, a) = Σ_s' T(s'|s, a) R(s, a, s')``: ``[S, A, S']``, ``[..., S, A, S']`` -> ``[..., S, A]``."""
    # A multiply-and-sum, not einsum: XLA:CPU lowers this batched contraction to a
    # dot_general about 10x slower than the fused elementwise form, and the elementwise
    # form is exact float arithmetic on every backend (no reduced-precision matmul).
    return jnp.sum(transitions * reward, axis=-1)


def live_dynamics(mdp, reward: jax.Array):
    """Continuing transitions ``[S, A, S']``, expected rewards ``[..., S, A]`` (0 in terminal
    states) and ``γ``, all in the common float type of the MDP and the reward."""
    dtype = jnp.result_type(mdp.transitions, reward)
    live = ~mdp.terminal
    transitions = mdp.transitions.astype(dtype)
    continuing = transitions * live[:, None, None] * live[None, None, :]
    expected = jnp.where(live[:, None], expected_reward(transitions, reward.astype(dtype)), 0)
    return continuing, expected, mdp.gamma.astype(dtype)


def backup(continuing, gamma, expected, values):
    """``Q(s, a) = r(s, a) + γ Σ_s' T(s'|s, a) V(s')`` over continuing transitions, ``[..., S, A]``."""
    return expected + gamma * jnp.einsum("sat,...t->...sa", continuing, values, precision=HIGHEST)


@jax.jit
def greedy(q, tie_tolerance, rounding_ulps=TIE_ROUNDING_ULPS):
    """Uniform over the actions tied with the best, ``[..., S, A]``.

    Action ``a`` ties in state ``s`` when ``Q(s, a) ≥ max_b Q(s, b) − τ`` with
    ``τ = tie_tolerance·max(1, spread) + 4·eps·max|Q|``, where ``spread`` is the largest
    ``max_b Q(s, b) − min_b Q(s, b)`` over the states of the table. Spreads are
    differences within a state, so potential shaping (``Q′(s, a) = Q(s, a) − Φ(s)``) does
    not change them; a tolerance relative to ``max|Q|`` grew with the potential and, with
    ``Φ = −1000·steps``, called every action of a grid optimal (issue 19). The second
    term is the rounding of ``Q`` itself, which does grow with the values
    (``rounding_ulps`` epsilons; 0 with ``tie_tolerance = 0`` keeps only exact ties).
    """
    best = jnp.max(q, axis=-1, keepdims=True)
    spread = jnp.max(best - jnp.min(q, axis=-1, keepdims=True), axis=-2, keepdims=True)
    rounding = jnp.finfo(q.dtype).eps * jnp.max(jnp.abs(q), axis=(-2, -1), keepdims=True)
    tolerance = tie_tolerance * jnp.maximum(1, spread) + rounding_ulps * rounding
    ties = (q >= best - tolerance).astype(q.dtype)
    return ties / jnp.sum(ties, axis=-1, keepdims=True)


def continuation(mdp, policy, dtype):
    """``I − γ P_π`` (``[..., S, S]``) over continuing (non-terminal) transitions."""
    live = ~mdp.terminal
    continuing = mdp.transitions.astype(dtype) * live[:, None, None] * live[None, None, :]
    next_state = jnp.einsum("...sa,sat->...st", policy.astype(dtype), continuing, precision=HIGHEST)
    return jnp.eye(mdp.n_states, dtype=dtype) - mdp.gamma.astype(dtype) * next_state


def _policy_system(mdp, reward, policy):
    """``I − γ P_π`` (``[..., S, S]``) and ``r_π(s) = Σ_a π(a|s) r(s, a)`` (``[..., S]``)."""
    _, expected, _ = live_dynamics(mdp, reward)
    system = continuation(mdp, policy, expected.dtype)
    return system, jnp.sum(policy.astype(expected.dtype) * expected, axis=-1)


@jax.jit
def policy_evaluation(mdp, reward, policy):
    """``V^π`` ``[..., S]`` by solving ``(I − γP_π)V = r_π`` (LAPACK, partial pivoting)."""
    system, policy_reward = _policy_system(mdp, reward, policy)
    n_states = mdp.n_states
    if policy.ndim == 2:
        # One policy, many rewards: one factorisation, the rewards as right-hand sides.
        columns = policy_reward.reshape(-1, n_states).T
        return jnp.linalg.solve(system, columns).T.reshape(policy_reward.shape)
    batch = policy_reward.shape[:-1]
    system = jnp.broadcast_to(system, (*batch, n_states, n_states))
    return jnp.linalg.solve(system, policy_reward[..., None])[..., 0]


def policy_values(mdp, expected, policy):
    """``V^π`` ``[..., S]`` for expected rewards ``[..., S, A]`` (0 in terminal states) by
    :func:`block_solve`; one policy ``[S, A]`` against many rewards shares one elimination."""
    dtype = expected.dtype
    system = continuation(mdp, policy, dtype)
    policy_reward = jnp.sum(policy.astype(dtype) * expected, axis=-1)
    n_states = mdp.n_states
    if policy.ndim == 2:
        # One policy, many rewards: one elimination, the rewards as right-hand sides.
        columns = policy_reward.reshape(-1, n_states).T
        return block_solve(system, columns).T.reshape(policy_reward.shape)
    batch = policy_reward.shape[:-1]
    system = jnp.broadcast_to(system, (*batch, n_states, n_states))
    return block_solve(system, policy_reward[..., None])[..., 0]


def check_terminates(mdp, policy: jax.Array) -> None:
    """With γ = 1, raise ``ValueError`` unless every state reaches a terminal state under ``policy``."""
    if traced(mdp, policy) or float(mdp.gamma) < 1.0:
        return
    stuck = _never_terminating(
        np.asarray(mdp.transitions), np.asarray(mdp.terminal), np.asarray(policy)
    )
    if stuck.any():
        where = tuple(int(i) for i in np.argwhere(stuck)[0])
        raise ValueError(
            f"with gamma = 1 the policy must reach a terminal state from every state, but "
            f"from state {where[-1]} (policy index {where[:-1]}) it never does "
            f"({int(stuck.sum())} such states); its return would be an infinite sum. "
            "Use gamma < 1 or a policy that terminates."
        )


def _never_terminating(transitions, terminal, policy) -> np.ndarray:
    """States (``[..., S]``) from which no terminal state is reachable under ``policy``.

    Reachability by repeated squaring of the one-step support graph: ⌈log2 S⌉ boolean
    matrix products instead of a breadth-first search per state.
    """
    n_states = terminal.shape[0]
    step = np.einsum("...sa,sat->...st", policy, transitions) > 0
    step[..., terminal, :] = False
    reach = step | np.eye(n_states, dtype=bool)
    for _ in range(int(np.ceil(np.log2(max(n_states, 2))))):
        reach = (reach.astype(np.float32) @ reach.astype(np.float32)) > 0
    return ~(reach & terminal).any(axis=-1)


# ---------------------------------------------------------------------------
# Policy iteration on deterministic policies (γ < 1).


#: Rows that one step of :func:`block_solve` eliminates.
BLOCK = 32


def block_solve(system, rhs):
    """``x`` with ``system·x = rhs`` (``[..., S, S]``, ``[..., S, K]``) by block Gauss–Jordan elimination.

    Without pivoting, so only for the two kinds of matrix where that is stable: ``I − γP_π``
    (strictly diagonally dominant by rows when ``γ < 1``; a nonsingular M-matrix, dominant
    by rows, when ``γ = 1`` and π terminates, checked at the boundary) and symmetric
    positive definite ones (normal equations). Their Schur complements keep these
    properties, so every pivot block is nonsingular (Golub & Van Loan, Matrix
    Computations, §3.4.10; Higham, Accuracy and Stability of Numerical Algorithms,
    chapters 9, 10 and 14). Each step reduces :data:`BLOCK` rows (:func:`_reduce_rows`)
    and removes their columns from the other rows with one matrix product.

    XLA arithmetic rather than LAPACK: jaxlib's LAPACK runs on multithreaded OpenBLAS,
    whose threads compete with XLA's for two cores. Measured for S = 256 and 64
    rewards: the LU with partial pivoting took 1.2 ms alone, 2–230 ms (median 160)
    between XLA operations and 1.8 ms there with ``OPENBLAS_NUM_THREADS=1``; this
    elimination takes 2–3 ms. (For many small systems, LAPACK wins: see
    :func:`continuation_solve`.)
    """
    n_states, n_columns = system.shape[-1], rhs.shape[-1]
    block = min(BLOCK, n_states)
    size = -(-n_states // block) * block
    batch = [(0, 0)] * (system.ndim - 2)
    # Identity rows and columns with zero right-hand sides pad S to whole blocks; they
    # leave x unchanged.
    padding = jnp.diag((jnp.arange(size) >= n_states).astype(system.dtype))
    system = jnp.pad(system, [*batch, (0, size - n_states), (0, size - n_states)]) + padding
    rhs = jnp.pad(rhs, [*batch, (0, size - n_states), (0, 0)])
    augmented = jnp.concatenate([system, rhs], axis=-1)  # [..., size, size + K]

    def eliminate(step, a):
        start = step * block
        rows = _reduce_rows(jax.lax.dynamic_slice_in_dim(a, start, block, axis=-2), start)
        column = jax.lax.dynamic_slice_in_dim(a, start, block, axis=-1)
        a = a - jnp.matmul(column, rows, precision=HIGHEST)
        return jax.lax.dynamic_update_slice_in_dim(a, rows, start, axis=-2)

    solved = jax.lax.fori_loop(0, size // block, eliminate, augmented)
    return solved[..., :n_states, size : size + n_columns]


def _reduce_rows(rows, start):
    """``rows`` ``[..., b, M]`` times the inverse of its ``b × b`` block at column ``start``.

    Gauss–Jordan elimination one row at a time, without pivoting (see :func:`block_solve`).
    """
    index = jnp.arange(rows.shape[-2])

    def eliminate(k, r):
        row = jax.lax.dynamic_index_in_dim(r, k, axis=-2, keepdims=False)
        row = row / jax.lax.dynamic_index_in_dim(row, start + k, axis=-1)
        column = jax.lax.dynamic_index_in_dim(r, start + k, axis=-1)
        return jnp.where((index == k)[:, None], row[..., None, :], r - column * row[..., None, :])

    return jax.lax.fori_loop(0, rows.shape[-2], eliminate, rows)


def continuation_solve(system, rhs):
    """``x`` with ``system·x = rhs`` for ``system = I − γP_π`` (γ < 1, ``[..., S, S]``) and
    right-hand sides ``rhs`` ``[..., S, K]`` (one factorisation for the ``K`` columns).

    LAPACK (LU with partial pivoting) where batched LAPACK calls are safe in this process
    (:func:`rewardviz._xla.batched_lapack_safe`; 3-5x faster on a CPU for the many small
    systems of policy iteration), otherwise :func:`block_solve`. Both are exact to
    rounding for these diagonally dominant systems.
    """
    if batched_lapack_safe():
        return jnp.linalg.solve(system, rhs)
    return block_solve(system, rhs)


def deterministic_values(mdp, expected, actions):
    """``V^π`` ``[..., S]`` and ``Q^π`` ``[..., S, A]`` of deterministic ``actions`` ``[..., S]``.

    ``expected`` ``[..., S, A]`` is 0 in terminal states. Gathers and plain matrix
    products instead of the batched contractions of :func:`policy_evaluation`, which
    XLA:CPU runs several times slower under ``vmap``.
    """
    dtype = expected.dtype
    n_states = mdp.n_states
    live = ~mdp.terminal
    continuing = mdp.transitions.astype(dtype) * live[:, None, None] * live[None, None, :]
    chosen = continuing[jnp.arange(n_states), actions]  # T(·|s, π(s)), [..., S, S]
    system = jnp.eye(n_states, dtype=dtype) - mdp.gamma.astype(dtype) * chosen  # [..., S, S]
    policy_reward = jnp.take_along_axis(expected, actions[..., None], axis=-1)[..., 0]
    values = continuation_solve(system, policy_reward[..., None])[..., 0]
    following = jnp.matmul(values, continuing.reshape(-1, n_states).T, precision=HIGHEST)
    q = expected + mdp.gamma.astype(dtype) * following.reshape(expected.shape)
    return values, q


def improve(mdp, expected, actions):
    """One policy-iteration step: new actions ``[..., S]``, whether any changed, and the
    values ``[..., S]`` and ``Q`` ``[..., S, A]`` of the old ``actions``.

    A state switches action only where another is better by more than rounding (4 ulps
    of ``max|Q|`` of its table, the floor of :func:`greedy`'s ties), so values rise
    strictly and the iteration ends. (64 ulps stopped short of the optimum on a grid
    shaped by ``Φ = −10⁴·steps``, whose Q gaps are 9 ulps of ``max|Q′|`` in float32; with 4
    ulps, 540 random MDPs and 96 shaped grids up to γ = 0.999 in float32 all settled.)
    """
    values, q = deterministic_values(mdp, expected, actions)
    current = jnp.take_along_axis(q, actions[..., None], axis=-1)[..., 0]
    scale = jnp.maximum(1, jnp.max(jnp.abs(q), axis=(-2, -1), keepdims=True))[..., 0]
    better = jnp.max(q, axis=-1) > current + TIE_ROUNDING_ULPS * jnp.finfo(q.dtype).eps * scale
    return jnp.where(better, jnp.argmax(q, axis=-1), actions), jnp.any(better), values, q


def policy_iteration(mdp, expected, actions, max_iterations: int):
    """Howard's policy iteration (1960) from ``actions`` ``[..., S]`` on ``expected`` ``[..., S, A]``.

    Exact evaluation (:func:`deterministic_values`) and greedy improvement
    (:func:`improve`) until no action changes, for the whole batch at once. Returns the
    final actions, the number of improvement steps and whether the policies settled
    within ``max_iterations`` steps.
    """
    actions, _, _, count, settled = optimal_values(mdp, expected, actions, max_iterations)
    return actions, count, settled


def optimal_values(mdp, expected, actions, max_iterations: int):
    """:func:`policy_iteration` that also returns ``V*`` ``[..., S]`` and ``Q*`` ``[..., S, A]``.

    The last step evaluates the final actions (and finds nothing to improve), so its
    values are those of the optimal policy: no further solve is needed. Returns
    ``(actions, values, q, count, settled)``; values are only optimal when settled.
    """
    dtype = expected.dtype
    batch = actions.shape

    def step(carry):
        count, actions, _, _, _ = carry
        actions, changed, values, q = improve(mdp, expected, actions)
        return count + 1, actions, values, q, changed

    start = (
        jnp.asarray(0),
        actions,
        jnp.zeros(batch, dtype),
        jnp.zeros(expected.shape, dtype),
        jnp.asarray(True),
    )
    count, actions, values, q, changed = jax.lax.while_loop(
        lambda carry: carry[4] & (carry[0] < max_iterations), step, start
    )
    return actions, values, q, count, ~changed


def stochastic_values(mdp, policy, expected):
    """``V^π`` ``[..., S]`` of stochastic policies ``[..., S, A]`` on expected rewards ``[..., S, A]``."""
    system = continuation(mdp, policy, expected.dtype)
    policy_reward = jnp.sum(policy * expected, axis=-1)
    return continuation_solve(system, policy_reward[..., None])[..., 0]


# ---------------------------------------------------------------------------
# Regret.


def start_value(mdp, values):
    """``J = Σ_s initial(s) V(s)`` over the last axis of ``values``."""
    start = mdp.initial.astype(values.dtype)
    return jnp.einsum("s,...s->...", start, values, precision=HIGHEST)


def normalised_regret(best, worst, achieved, gamma):
    """``(best − achieved)/(best − worst)`` clipped to [0, 1]; 0 when all policies tie.

    Skalse et al. (ICLR 2024): regret normalised by the range of returns. "All policies
    tie" means a span within the rounding of the solves that gave the returns:
    ``min(4κ, 1000)`` machine epsilons of the returns' size, with ``κ = (1 + γ)/(1 − γ)``
    the ∞-norm condition number of ``I − γP_π`` (1000 for γ = 1). Potential shaping moves
    every return by ``−E[Φ(s₀)]`` and leaves the span alone; a fixed 1000 epsilons of
    the returns' size called a γ = 0.9 grid shaped by ``Φ = −10⁴·steps`` flat (issue 19).
    """
    span = best - worst
    size = jnp.maximum(jnp.abs(best), jnp.abs(worst))
    gamma = jnp.asarray(gamma, span.dtype)
    condition = (1 + gamma) / jnp.where(gamma < 1, 1 - gamma, 1)
    ulps = jnp.where(gamma < 1, jnp.minimum(4 * condition, 1e3), 1e3)
    flat = span <= ulps * jnp.finfo(span.dtype).eps * size
    return jnp.where(flat, 0, jnp.clip((best - achieved) / jnp.where(flat, 1, span), 0, 1))


# ---------------------------------------------------------------------------
# Random environments.


@partial(jax.jit, static_argnames=("shape", "n_successors", "dtype"))
def random_dynamics(key, concentration, shape, n_successors, dtype=None):
    """Dirichlet kernels on ``n_successors`` random successors, and standard normal rewards.

    Each ``(s, a)`` row of the ``shape = (S, A, S')`` kernel is supported on
    ``n_successors`` states chosen uniformly (all when None), with
    Dirichlet(``concentration``) probabilities drawn as normalised gamma variates.
    ``dtype`` (default: JAX's default float) is the precision of the draws.
    """
    dtype = jnp.result_type(float) if dtype is None else dtype
    support_key, weight_key, reward_key = jax.random.split(key, 3)
    weights = jax.random.gamma(weight_key, concentration, shape, dtype)
    support = jnp.ones(shape, bool)
    if n_successors is not None:
        noise = jax.random.uniform(support_key, shape, dtype)
        cutoff = jnp.sort(noise, axis=-1)[..., -int(n_successors)][..., None]
        support = noise >= cutoff
    weights = jnp.where(support, weights, 0.0)
    # A row whose gamma draws all underflow (tiny concentration) becomes uniform on its support.
    weights = jnp.where(weights.sum(-1, keepdims=True) > 0, weights, support)
    return weights / weights.sum(-1, keepdims=True), jax.random.normal(reward_key, shape, dtype)
