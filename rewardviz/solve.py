"""Batched, jitted solvers for tabular MDPs: values, Q-values, policies, occupancies.

Every function takes one :class:`~rewardviz.mdp.TabularMDP` and a reward with any
leading batch dimensions (``[..., S, A, S']``) and solves all of them in one jitted
call: no Python loops over states, rewards or seeds. Policies are stochastic
``[..., S, A]`` arrays (integer ``[..., S]`` arrays are accepted as deterministic
policies). Public functions validate their inputs, then call a jitted kernel; the
MDP's ``gamma`` is a traced value, so changing it does not recompile. The building
blocks (backups, exact evaluation, greedy ties, policy iteration) live in
``rewardviz._kernels``, shared with distances, learning and experiments.

Terminal states are absorbing with value 0 (Sutton & Barto, 2018, §3.4): the reward
of a transition *into* a terminal state counts, nothing after it does, and Q-values
in a terminal state are 0 for every action.

Under ``jit``/``vmap`` of the caller's own (traced inputs) the checks that need
concrete values are skipped and results are returned as computed.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, _kernels, _sharding
from rewardviz.mdp import TabularMDP
from rewardviz.policies import as_stochastic
from rewardviz.rewards import HIGHEST, check_reward

__all__ = [
    "DEFAULT_TIE_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "ConvergenceError",
    "PolicyIterationResult",
    "ValueIterationResult",
    "boltzmann_policy",
    "greedy_policy",
    "occupancy",
    "optimal_policy",
    "policy_evaluation",
    "policy_iteration",
    "policy_q_values",
    "policy_return",
    "q_values",
    "soft_q_values",
    "value_iteration",
]

#: Default accuracy of iterative solvers: the sup-norm distance from the true fixed
#: point is at most this (γ < 1), or float rounding stops progress first.
DEFAULT_TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}
#: Default relative tolerance for ties between actions in greedy policies.
DEFAULT_TIE_TOLERANCE = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-8}


class ConvergenceError(RuntimeError):
    """An iterative solver stopped at its iteration limit before reaching its tolerance."""


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["values", "q_values", "iterations", "change", "converged"],
    meta_fields=[],
)
@dataclasses.dataclass(frozen=True, eq=False)
class ValueIterationResult:
    """Result of :func:`value_iteration`.

    Attributes:
        values: ``[..., S]`` optimal (or soft-optimal) state values.
        q_values: ``[..., S, A]`` the matching Q-values.
        iterations: number of Bellman backups done; one count for the whole batch of a
            call (the loop runs until every item meets the rule), one per item under vmap.
        change: the last sup-norm change of the values, over that batch.
        converged: whether the stopping rule was met before the iteration limit.
    """

    values: jax.Array
    q_values: jax.Array
    iterations: jax.Array
    change: jax.Array
    converged: jax.Array

    def __repr__(self) -> str:
        return (
            f"ValueIterationResult(values{tuple(self.values.shape)}, "
            f"q_values{tuple(self.q_values.shape)}, iterations={self.iterations}, "
            f"change={_format_change(self.change)}, converged={self.converged})"
        )


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["values", "q_values", "actions", "iterations", "converged"],
    meta_fields=[],
)
@dataclasses.dataclass(frozen=True, eq=False)
class PolicyIterationResult:
    """Result of :func:`policy_iteration`.

    Attributes:
        values: ``[..., S]`` optimal state values ``V*``.
        q_values: ``[..., S, A]`` optimal Q-values ``Q*``.
        actions: ``[..., S]`` integer actions of the optimal deterministic policy the
            iteration ended on (one optimal action per state; :func:`greedy_policy` of
            ``q_values`` gives all of them).
        iterations: improvement steps done; one count for the whole batch of a call.
        converged: whether no action changed in the last step.
    """

    values: jax.Array
    q_values: jax.Array
    actions: jax.Array
    iterations: jax.Array
    converged: jax.Array

    def __repr__(self) -> str:
        return (
            f"PolicyIterationResult(values{tuple(self.values.shape)}, "
            f"q_values{tuple(self.q_values.shape)}, actions{tuple(self.actions.shape)}, "
            f"iterations={self.iterations}, converged={self.converged})"
        )


def _format_change(change) -> str:
    # A scalar normally; one per item after the caller's vmap; a tracer inside jit.
    if isinstance(change, jax.core.Tracer):
        return "<traced>"
    return np.array2string(np.asarray(change), precision=3)


# ---------------------------------------------------------------------------
# Public functions: validate, then call a jitted kernel.


def value_iteration(
    mdp: TabularMDP,
    reward,
    *,
    tol: float | None = None,
    max_iterations: int = 100_000,
    devices=None,
) -> ValueIterationResult:
    """Optimal values by value iteration, for a batch of rewards at once.

    Backs up ``Q(s, a) = r(s, a) + γ Σ_s' T(s'|s, a) V(s')`` with ``V = max_a Q`` until
    ``γ/(1−γ)·‖V_k − V_{k−1}‖_∞ ≤ tol``, which bounds ``‖V_k − V*‖_∞ ≤ tol``
    (Puterman 1994, Thm 6.3.1). For ``γ = 1`` (episodic, terminal states) the rule
    is ``‖V_k − V_{k−1}‖_∞ ≤ tol``, which does not bound the error by itself (it is
    exact once values stop changing, as in acyclic or deterministic episodic tasks).
    The loop also stops once the change reaches the float rounding level, the best
    float32 can do.

    Args:
        mdp: the MDP.
        reward: ``[..., S, A, S']``.
        tol: accuracy; defaults to 1e-10 in float64, 1e-5 in float32.
        max_iterations: limit; reaching it raises :class:`ConvergenceError`.
        devices: where a batch of rewards runs: None for every JAX device, an integer
            ``n`` for the first ``n``, or a list of devices. With several, the batch is
            split across them (``jax.sharding``); the results are the same.

    Example:
        >>> mdp, reward = rv.envs.stay_switch()
        >>> rv.solve.value_iteration(mdp, reward).values  # doctest: +SKIP
    """
    reward = check_reward(mdp, reward)
    tol = _tolerance(tol, mdp, reward)
    max_iterations = _checks.positive_int("max_iterations", max_iterations)
    batch_mesh = None if _kernels.traced(reward) or reward.ndim == 3 else _sharding.mesh(devices)
    if batch_mesh is None:
        result = _value_iteration(mdp, reward, tol, max_iterations=int(max_iterations))
    else:
        batch = reward.shape[:-3]
        flat, count = _sharding.put_batch(reward.reshape(-1, *reward.shape[-3:]), batch_mesh)
        result = _value_iteration(mdp, flat, tol, max_iterations=int(max_iterations))
        result = dataclasses.replace(
            result,
            values=result.values[:count].reshape(*batch, mdp.n_states),
            q_values=result.q_values[:count].reshape(*batch, mdp.n_states, mdp.n_actions),
        )
    _raise_unless_converged(result, "value_iteration", max_iterations)
    return result


def policy_iteration(
    mdp: TabularMDP, reward, *, max_iterations: int = 1000
) -> PolicyIterationResult:
    """Optimal values by policy iteration (Howard 1960), exact to rounding, for a batch of rewards.

    Starts from the policy greedy on the expected reward ``r(s, a)`` and alternates
    exact evaluation of the deterministic policy, ``V^π = (I − γP_π)⁻¹ r_π``, with
    improvement ``π(s) ← argmax_a Q^π(s, a)``. A state switches action only where another
    action is better by more than rounding (4 ulps of ``max|Q^π|``), so values rise
    strictly, no policy repeats, and the loop ends when no action changes; then
    ``V^π = V*`` (Puterman 1994, Thm 6.4.2) to the rounding of one linear solve. On small
    dense problems that is a handful of steps where :func:`value_iteration` needs about
    ``log(tol)/log(γ)`` sweeps. Evaluation is Gauss–Jordan elimination without pivoting,
    stable because ``I − γP_π`` is strictly diagonally dominant for ``γ < 1``; hence
    ``gamma < 1`` is required (use :func:`value_iteration` for ``γ = 1``).

    Args:
        mdp: the MDP, ``gamma < 1``.
        reward: ``[..., S, A, S']``; the whole batch iterates together until every item
            has settled.
        max_iterations: improvement steps; reaching it raises :class:`ConvergenceError`.

    Example:
        >>> mdp, reward = rv.envs.stay_switch()
        >>> rv.solve.policy_iteration(mdp, reward).actions  # switch in both states  # doctest: +SKIP
        Array([1, 1], dtype=int32)
    """
    reward = check_reward(mdp, reward)
    max_iterations = _checks.positive_int("max_iterations", max_iterations)
    if not _kernels.traced(mdp) and float(mdp.gamma) >= 1:
        raise ValueError(
            f"policy_iteration needs gamma < 1, got {float(mdp.gamma)}: with gamma = 1 a "
            "policy that never terminates has no finite values to evaluate. Use "
            "value_iteration, or mdp.replace(gamma=0.99)."
        )
    result = _policy_iteration(mdp, reward, max_iterations=max_iterations)
    if not _kernels.traced(result) and not bool(result.converged):
        raise ConvergenceError(
            f"policy_iteration changed actions in all {max_iterations} steps; raise "
            "max_iterations (each step costs one exact evaluation per reward)."
        )
    return result


def q_values(
    mdp: TabularMDP,
    reward,
    *,
    tol: float | None = None,
    max_iterations: int = 100_000,
    devices=None,
) -> jax.Array:
    """Optimal Q-values ``Q*`` (``[..., S, A]``) by :func:`value_iteration` (``devices`` as there).

    Example:
        >>> mdp, reward = rv.envs.stay_switch()
        >>> rv.solve.q_values(mdp, reward)  # Q*(0, switch) = 1 / (1 - 0.9**2)  # doctest: +SKIP
    """
    return value_iteration(
        mdp, reward, tol=tol, max_iterations=max_iterations, devices=devices
    ).q_values


def optimal_policy(
    mdp: TabularMDP,
    reward,
    *,
    tie_tolerance: float | None = None,
    tol: float | None = None,
    max_iterations: int = 100_000,
    devices=None,
) -> jax.Array:
    """An optimal policy ``[..., S, A]``, uniform over all optimal actions.

    Ties are explicit: every action whose ``Q*`` is within the tolerance of
    :func:`greedy_policy` of the best one gets equal probability. Terminal states, where
    every action is worth 0, get the uniform policy. Potential shaping of ``reward`` does
    not change the result; in float32, gaps between actions below ~4 ulps of ``max|Q*|``
    (which a large potential inflates) count as ties: use float64 for those.
    """
    q = q_values(mdp, reward, tol=tol, max_iterations=max_iterations, devices=devices)
    return greedy_policy(q, tie_tolerance=tie_tolerance)


def greedy_policy(q, *, tie_tolerance: float | None = None) -> jax.Array:
    """Uniform over the actions whose Q-value is within ``τ`` of the best.

    ``τ = tie_tolerance·max(1, spread) + 4·eps·max|Q|`` per ``[S, A]`` table of ``q``
    (``[..., S, A]``), where ``spread`` is the largest ``max_a Q(s, a) − min_a Q(s, a)``
    over its states: unchanged by potential shaping (``Q′(s, a) = Q(s, a) − Φ(s)``), so
    the ties are too; the second term is the rounding of ``Q`` itself. Defaults:
    1e-8 (float64), 1e-4 (float32).
    """
    q = _checks.float_array("q", q)
    if q.ndim < 2:
        raise ValueError(f"q must have shape [..., S, A], got {q.shape}.")
    if tie_tolerance is None:
        tie_tolerance = DEFAULT_TIE_TOLERANCE.get(np.dtype(q.dtype), 1e-4)
    tie_tolerance = _checks.tolerance("tie_tolerance", tie_tolerance)
    if not _kernels.traced(q):
        _checks.finite("q", q)  # a NaN Q-value would make its state's policy NaN
    return _kernels.greedy(q, tie_tolerance)


def soft_q_values(
    mdp: TabularMDP,
    reward,
    temperature: float,
    *,
    tol: float | None = None,
    max_iterations: int = 100_000,
) -> jax.Array:
    """Maximum-entropy (soft) optimal Q-values, ``[..., S, A]``.

    Soft value iteration (Ziebart et al. 2008; Haarnoja et al. 2017):
    ``Q(s, a) = r(s, a) + γ Σ_s' T(s'|s, a) V(s')`` with
    ``V(s) = τ log Σ_a exp(Q(s, a)/τ)``. As ``τ → 0`` it approaches :func:`q_values`.
    The soft-optimal policy is ``boltzmann_policy(Q, τ)``.

    Args:
        temperature: ``τ > 0``.
    """
    reward = check_reward(mdp, reward)
    temperature = _checks.number("temperature", temperature)
    max_iterations = _checks.positive_int("max_iterations", max_iterations)
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(
            f"temperature must be a positive number, got {temperature!r}; use q_values "
            "for the limit temperature -> 0."
        )
    tol = _tolerance(tol, mdp, reward)
    result = _soft_value_iteration(
        mdp, reward, temperature, tol, max_iterations=int(max_iterations)
    )
    _raise_unless_converged(result, "soft_q_values", max_iterations)
    return result.q_values


def boltzmann_policy(q, temperature: float) -> jax.Array:
    """``π(a|s) ∝ exp(Q(s, a)/τ)`` over the last axis of ``q`` (``[..., S, A]``).

    Applied to :func:`soft_q_values` this is the maximum-entropy optimal policy.
    """
    q = _checks.float_array("q", q)
    temperature = _checks.number("temperature", temperature)
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}.")
    if not _kernels.traced(q):
        _checks.finite("q", q)  # a NaN Q-value would make its state's policy NaN
    return jax.nn.softmax(q / temperature, axis=-1)


def policy_evaluation(mdp: TabularMDP, reward, policy, *, devices=None) -> jax.Array:
    """State values ``V^π`` (``[..., S]``) by an exact linear solve.

    Solves ``(I − γ P_π) V = r_π`` with ``P_π(s, s') = Σ_a π(a|s) T(s'|s, a)`` restricted
    to non-terminal states and ``r_π(s) = Σ_a π(a|s) r(s, a)``. The batch dimensions
    of ``reward`` and ``policy`` broadcast; a single policy against a batch of rewards
    shares one factorisation.

    With ``γ = 1`` every state must reach a terminal state under ``π``; otherwise
    a ``ValueError`` names the states that never do. ``devices`` splits a batch across
    JAX devices as in :func:`value_iteration`.
    """
    _checks.tabular_mdp("mdp", mdp)
    reward = _reward_array(mdp, reward)
    policy = as_stochastic(mdp, policy)
    _kernels.check_terminates(mdp, policy)
    try:
        batch = jnp.broadcast_shapes(reward.shape[:-3], policy.shape[:-2])
    except ValueError as error:
        raise ValueError(
            f"the batch shapes of reward {reward.shape[:-3]} and policy {policy.shape[:-2]} "
            "do not broadcast; give one policy, one reward, or matching batches."
        ) from error
    batch_mesh = None if _kernels.traced(reward, policy) or not batch else _sharding.mesh(devices)
    if batch_mesh is None:
        values, reward_finite = _policy_evaluation(mdp, reward, policy)
    else:
        # Broadcast and flatten both batches, then split the pairs across devices.
        shape = mdp.n_states, mdp.n_actions
        rewards = jnp.broadcast_to(reward, (*batch, *shape, mdp.n_states)).reshape(
            -1, *shape, mdp.n_states
        )
        policies = jnp.broadcast_to(policy, (*batch, *shape)).reshape(-1, *shape)
        rewards, count = _sharding.put_batch(rewards, batch_mesh)
        policies, _ = _sharding.put_batch(policies, batch_mesh)
        values, reward_finite = _policy_evaluation(mdp, rewards, policies)
        values = values[:count].reshape(*batch, mdp.n_states)
    # The kernel's flag says whether the reward is finite; the scan names the first NaN or
    # infinity. Under the caller's vmap over MDPs the flag is traced but a reward it
    # closes over is not: scan that, as check_reward does.
    if not _kernels.traced(reward) and (_kernels.traced(reward_finite) or not bool(reward_finite)):
        _checks.finite("reward", reward)
    if not _kernels.traced(values):
        _checks.finite("the policy's values (singular Bellman system)", values)
    return values


def policy_q_values(mdp: TabularMDP, reward, policy) -> jax.Array:
    """``Q^π(s, a) = r(s, a) + γ Σ_s' T(s'|s, a) V^π(s')``, shape ``[..., S, A]``."""
    reward = check_reward(mdp, reward)
    policy = as_stochastic(mdp, policy)
    _kernels.check_terminates(mdp, policy)
    return _policy_q_values(mdp, reward, policy)


def policy_return(mdp: TabularMDP, reward, policy) -> jax.Array:
    """Expected discounted return ``J(π) = Σ_s initial(s) V^π(s)``, shape ``[...]``."""
    values = policy_evaluation(mdp, reward, policy)
    return jnp.einsum("s,...s->...", mdp.initial.astype(values.dtype), values, precision=HIGHEST)


def occupancy(mdp: TabularMDP, policy) -> jax.Array:
    """Discounted state-action occupancy ``ρ^π(s, a) = Σ_t γ^t P(s_t = s, a_t = a)``, ``[..., S, A]``.

    Starts from ``mdp.initial`` and counts only steps taken in non-terminal states, so
    ``Σ_{s,a} ρ^π(s, a) r(s, a)`` equals :func:`policy_return` for every reward
    (Puterman 1994, §6.9; the form used by Abel et al. 2021). Not normalised: with
    no terminal states it sums to ``1/(1−γ)``.
    """
    policy = as_stochastic(mdp, policy)
    _kernels.check_terminates(mdp, policy)
    return _occupancy(mdp, policy)


# ---------------------------------------------------------------------------
# Jitted kernels.


def _fixed_point(mdp, reward, tol, max_iterations, reduce):
    """Iterate ``V ← reduce(backup(V))`` from 0 with the stopping rule of value_iteration."""
    continuing, expected, gamma = _kernels.live_dynamics(mdp, reward)
    live = ~mdp.terminal
    dtype = expected.dtype
    eps = jnp.finfo(dtype).eps
    # ‖V_k − V*‖ ≤ γ/(1−γ)‖V_k − V_{k−1}‖ for γ < 1; the raw change for γ = 1.
    factor = jnp.where(gamma < 1, gamma / jnp.where(gamma < 1, 1 - gamma, 1), 1)

    def step(values):
        return jnp.where(live, reduce(_kernels.backup(continuing, gamma, expected, values)), 0)

    def done(values, change):
        rounding = 8 * eps * jnp.maximum(1, jnp.max(jnp.abs(values), initial=0))
        return (change * factor <= tol) | (change <= rounding)

    def cond(carry):
        iteration, values, change = carry
        return (iteration < max_iterations) & ~done(values, change)

    def body(carry):
        iteration, values, _ = carry
        new = step(values)
        return iteration + 1, new, jnp.max(jnp.abs(new - values), initial=0)

    start = jnp.zeros(expected.shape[:-1], dtype)
    first = step(start)
    carry = (jnp.asarray(1), first, jnp.max(jnp.abs(first - start), initial=0))
    iterations, values, change = jax.lax.while_loop(cond, body, carry)
    return ValueIterationResult(
        values=values,
        q_values=_kernels.backup(continuing, gamma, expected, values),
        iterations=iterations,
        change=change,
        converged=done(values, change),
    )


@partial(jax.jit, static_argnames=("max_iterations",))
def _value_iteration(mdp, reward, tol, max_iterations):
    return _fixed_point(mdp, reward, tol, max_iterations, lambda q: jnp.max(q, axis=-1))


@partial(jax.jit, static_argnames=("max_iterations",))
def _soft_value_iteration(mdp, reward, temperature, tol, max_iterations):
    def soft_max(q):
        return temperature * jax.nn.logsumexp(q / temperature, axis=-1)

    return _fixed_point(mdp, reward, tol, max_iterations, soft_max)


@partial(jax.jit, static_argnames=("max_iterations",))
def _policy_iteration(mdp, reward, max_iterations):
    _, expected, _ = _kernels.live_dynamics(mdp, reward)
    start = jnp.argmax(expected, axis=-1)
    actions, iterations, settled = _kernels.policy_iteration(mdp, expected, start, max_iterations)
    values, q = _kernels.deterministic_values(mdp, expected, actions)
    return PolicyIterationResult(
        values=values, q_values=q, actions=actions, iterations=iterations, converged=settled
    )


@jax.jit
def _policy_evaluation(mdp, reward, policy):
    """``V^π`` ``[..., S]`` and whether every expected reward ``Σ_s' T(s'|s, a) R(s, a, s')`` is finite.

    :func:`rewardviz._kernels.policy_values` (block elimination, not LAPACK), and the flag
    from the same read of ``R``. The flag is false exactly when ``R`` holds a NaN or an
    infinity, terminal states and zero-probability transitions included:
    ``0·NaN`` and ``0·∞`` are NaN (IEEE 754), a NaN or an infinity makes the sum
    non-finite, and ``T ≤ 1`` cannot overflow a product (only a sum of finite rewards
    within rounding of the float maximum could, and then the caller's scan finds
    nothing). Checking costs a reduction over ``[..., S, A]``, not a pass over ``R``.
    """
    dtype = jnp.result_type(mdp.transitions, reward)
    expected = _kernels.expected_reward(mdp.transitions.astype(dtype), reward.astype(dtype))
    reward_finite = jnp.isfinite(expected).all()
    expected = jnp.where(mdp.terminal[:, None], 0, expected)
    values = _kernels.policy_values(mdp, expected, policy)
    return values, reward_finite


@jax.jit
def _policy_q_values(mdp, reward, policy):
    continuing, expected, gamma = _kernels.live_dynamics(mdp, reward)
    return _kernels.backup(
        continuing, gamma, expected, _kernels.policy_evaluation(mdp, reward, policy)
    )


@jax.jit
def _occupancy(mdp, policy):
    system = _kernels.continuation(mdp, policy, jnp.result_type(mdp.transitions, policy))
    start = jnp.where(mdp.terminal, 0, mdp.initial)
    start = jnp.broadcast_to(start, system.shape[:-1])
    visits = jnp.linalg.solve(jnp.swapaxes(system, -1, -2), start[..., None])[..., 0]
    return visits[..., None] * policy


# ---------------------------------------------------------------------------
# Boundary checks that need concrete values.


def _reward_array(mdp: TabularMDP, reward) -> jax.Array:
    """``reward`` as a float array of shape ``[..., S, A, S']``, its values not yet read.

    :func:`rewardviz.rewards.check_reward` without its scan for NaN and infinity, for a
    kernel that reports whether the reward was finite (:func:`_policy_evaluation`); the
    caller scans only when it was not, to name the first bad entry.
    """
    reward = _checks.float_array("reward", reward)
    _checks.trailing_shape(
        "reward", reward, (mdp.n_states, mdp.n_actions, mdp.n_states), "[..., S, A, S']"
    )
    return reward


def _tolerance(tol, mdp: TabularMDP, reward) -> float:
    if tol is None:
        dtype = np.dtype(jnp.result_type(mdp.transitions, reward))
        return DEFAULT_TOLERANCE.get(dtype, 1e-5)
    return _checks.tolerance("tol", tol, positive=True)


def _raise_unless_converged(result: ValueIterationResult, name: str, max_iterations) -> None:
    if _kernels.traced(result):
        return
    if not bool(result.converged):
        raise ConvergenceError(
            f"{name} stopped after {int(result.iterations)} iterations with the values still "
            f"changing by {float(result.change):.3g}. With gamma = 1 this means some policy "
            "keeps collecting reward (or, for soft values, entropy bonus) forever without "
            "reaching a terminal state; use gamma < 1, make terminal states reachable, or "
            "raise max_iterations."
        )
