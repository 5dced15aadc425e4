"""Learning a reward from demonstrations: maximum-entropy inverse reinforcement learning.

Demonstrations are trajectories of one policy from ``mdp.initial``, stored as arrays
(:class:`Demonstrations`). Maximum-entropy IRL (Ziebart et al., AAAI 2008; the causal
form of Ziebart, Bagnell & Dey, ICML 2010) models the demonstrator as the soft-optimal
(Boltzmann) policy of a parameterised reward, ``π_θ(a|s) = exp((Q_θ(s, a) − V_θ(s))/τ)``
with ``Q_θ``, ``V_θ`` from soft value iteration, and fits ``θ`` by maximum likelihood.
The likelihood's gradient is the classic "empirical minus expected feature counts"
(see :func:`maxent_irl`); here it is computed by ``jax.grad`` through a fixed number of
soft value-iteration sweeps (:func:`rewardviz.reward_learning._common.soft_q_values`).

Every fit runs in one jitted program, ``vmap``-ed over seeds (a leading axis of the
demonstrations) and over numbers of demonstrations (the first ``m`` of each set, by
masking, so shapes stay static). This module does not plot and does not evaluate the
learned rewards (:mod:`rewardviz.reward_learning.evaluate` does).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rewardviz import _checks
from rewardviz.mdp import TabularMDP
from rewardviz.policies import as_stochastic
from rewardviz.reward_learning import _common
from rewardviz.rewards import HIGHEST, check_reward

__all__ = [
    "Demonstrations",
    "demonstration_log_likelihood",
    "empirical_feature_counts",
    "feature_expectations",
    "maxent_irl",
    "sample_demonstrations",
]


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["states", "actions", "mask"],
    meta_fields=[],
)
@dataclasses.dataclass(frozen=True, eq=False)
class Demonstrations:
    """Trajectories of a demonstrator, as arrays.

    Attributes:
        states: int32 ``[..., n, H + 1]`` the states ``s_0 … s_H`` of each trajectory.
        actions: int32 ``[..., n, H]`` the actions ``a_0 … a_{H−1}``.
        mask: bool ``[..., n, H]`` whether step ``t`` was taken from a non-terminal state.
            After a trajectory enters a terminal state its remaining steps are padding
            (the state repeats, the action is 0, the mask is False) and count for nothing.

    Leading dimensions (``...``) are seeds.
    """

    states: jax.Array
    actions: jax.Array
    mask: jax.Array

    @property
    def n_demos(self) -> int:
        """Trajectories per set, ``n``."""
        return int(self.actions.shape[-2])

    @property
    def horizon(self) -> int:
        """Steps per trajectory, ``H``."""
        return int(self.actions.shape[-1])

    def to_frame(self):
        """A tidy ``pandas.DataFrame``, one row per step: the leading indices (``seed``, or
        ``batch_0``, ``batch_1``, … with several), ``demo``, ``step``, ``state``, ``action``,
        ``next_state`` and ``valid`` (the mask)."""
        import pandas as pd

        actions = np.asarray(self.actions)
        states = np.asarray(self.states)
        batch = actions.shape[:-2]
        index = np.indices(actions.shape).reshape(actions.ndim, -1)
        names = ["seed"] if len(batch) == 1 else [f"batch_{i}" for i in range(len(batch))]
        columns = dict(zip([*names, "demo", "step"], index, strict=True))
        columns["state"] = states[..., :-1].ravel()
        columns["action"] = actions.ravel()
        columns["next_state"] = states[..., 1:].ravel()
        columns["valid"] = np.asarray(self.mask).ravel()
        return pd.DataFrame(columns)

    def __repr__(self) -> str:
        batch = tuple(np.shape(self.actions)[:-2])
        prefix = f"{batch} × " if batch else ""
        return (
            f"Demonstrations({prefix}{self.n_demos} trajectories × {self.horizon} steps, "
            f"{int(np.asarray(self.mask).sum())} valid steps)"
        )


# ---------------------------------------------------------------------------
# Public functions: validate, then call a jitted kernel.


def sample_demonstrations(
    mdp: TabularMDP,
    policy,
    *,
    n_demos: int,
    horizon: int,
    seed: int | jax.Array = 0,
    n_seeds: int | None = None,
) -> Demonstrations:
    """Trajectories of ``policy`` from ``mdp.initial``: ``s_0 ~ initial``, ``a_t ~ π(·|s_t)``,
    ``s_{t+1} ~ T(·|s_t, a_t)``.

    A trajectory that enters a terminal state stays there; its later steps are padding
    (mask False, action 0). Seed ``i`` draws from ``jax.random.fold_in(key, i)`` with
    ``key`` from ``seed``; without ``n_seeds`` the result is seed 0's, so
    ``sample_demonstrations(..., n_seeds=k).states[0]`` equals the unbatched draw.

    Args:
        mdp: the MDP.
        policy: ``[S, A]`` action probabilities, or ``[S]`` integer actions.
        n_demos: trajectories per seed, ``>= 1``.
        horizon: steps per trajectory ``H``, ``>= 1``.
        seed: an integer or a ``jax.random`` key.
        n_seeds: if given, that many independent sets on a leading axis.

    Returns:
        :class:`Demonstrations`, ``[n_seeds, n_demos, …]`` with ``n_seeds``.

    Example:
        >>> mdp, reward = rv.envs.chain(4)
        >>> policy = rv.solve.optimal_policy(mdp, reward)
        >>> demos = rv.reward_learning.sample_demonstrations(mdp, policy, n_demos=8, horizon=6)
        >>> demos.states[0]  # doctest: +SKIP
        Array([0, 1, 2, 3, 3, 3, 3], dtype=int32)
    """
    _check_mdp(mdp)
    policy = as_stochastic(mdp, policy)
    if policy.ndim != 2:
        raise ValueError(
            f"policy must be one policy of shape [S, A] = ({mdp.n_states}, {mdp.n_actions}) "
            f"or [S] integer actions, got shape {tuple(policy.shape)}."
        )
    n_demos = _checks.positive_int("n_demos", n_demos, "trajectories per seed")
    horizon = _checks.positive_int("horizon", horizon, "steps per trajectory")
    key = _checks.key("seed", seed)
    count = 1 if n_seeds is None else _checks.positive_int("n_seeds", n_seeds, "independent sets")
    states, actions, mask = _sample(
        mdp, policy, key, n_seeds=count, n_demos=n_demos, horizon=horizon
    )
    if n_seeds is None:
        states, actions, mask = states[0], actions[0], mask[0]
    return Demonstrations(states=states, actions=actions, mask=mask)


def feature_expectations(mdp: TabularMDP, policy, *, form: str, horizon: int) -> jax.Array:
    """Expected discounted feature counts of ``policy`` over ``horizon`` steps, ``[..., P]``.

    ``μ_π = E[Σ_{t<H} γ^t φ(s_t, a_t, s_{t+1})]`` from ``s_0 ~ mdp.initial``, counting only
    steps taken from non-terminal states, where ``φ`` is the indicator feature of ``form``
    (:data:`~rewardviz.reward_learning._common.FORMS`): the state entered ``s'`` for
    ``"state"``, ``(s, a)`` for ``"state_action"``, ``(s, a, s')`` for ``"transition"``.
    So ``θ·μ_π`` is the ``H``-step return of ``π`` under the reward ``expand(θ, form)``:
    the quantity maximum-entropy IRL matches (Abbeel & Ng 2004; Ziebart et al. 2008).
    Computed by propagating the state distribution ``H`` steps (a ``lax.scan``).

    Args:
        policy: ``[..., S, A]`` (or integer ``[..., S]``); leading dimensions are a batch.
        form: one of ``"state"``, ``"state_action"``, ``"transition"``.
        horizon: steps ``H >= 1``.

    Example:
        >>> mdp, reward = rv.envs.chain(4)
        >>> policy = rv.solve.optimal_policy(mdp, reward)
        >>> mu = rv.reward_learning.feature_expectations(mdp, policy, form="state", horizon=10)
        >>> np.asarray(mu, float).round(2).tolist()  # enter s_1 at t = 0, s_2 at t = 1, the goal s_3 at t = 2
        [0.0, 1.0, 0.9, 0.81]
    """
    _check_mdp(mdp)
    policy = as_stochastic(mdp, policy)
    form = _checks.one_of("form", form, _common.FORMS)
    horizon = _checks.positive_int("horizon", horizon, "steps")
    return _feature_expectations(mdp, policy, form=form, horizon=horizon)


def empirical_feature_counts(
    mdp: TabularMDP, demonstrations: Demonstrations, *, form: str
) -> jax.Array:
    """The demonstrations' mean discounted feature counts, ``[..., P]``.

    ``μ_D = (1/n) Σ_i Σ_{t<H} γ^t m_{i,t} φ(s_{i,t}, a_{i,t}, s_{i,t+1})`` with the mask
    ``m`` and the features of :func:`feature_expectations`, whose expectation over
    demonstrations sampled from ``π`` is ``μ_π``.

    Example:
        >>> mdp, reward = rv.envs.chain(4)
        >>> policy = rv.solve.optimal_policy(mdp, reward)
        >>> demos = rv.reward_learning.sample_demonstrations(mdp, policy, n_demos=8, horizon=10)
        >>> rv.reward_learning.empirical_feature_counts(mdp, demos, form="state")  # doctest: +SKIP
    """
    _check_mdp(mdp)
    demonstrations = _check_demonstrations(mdp, demonstrations)
    form = _checks.one_of("form", form, _common.FORMS)
    return _empirical_feature_counts(mdp, demonstrations, form=form)


def demonstration_log_likelihood(
    mdp: TabularMDP,
    reward,
    demonstrations: Demonstrations,
    *,
    temperature: float = 1.0,
    n_iterations: int = 100,
) -> jax.Array:
    """Mean discounted log-likelihood of the demonstrations' actions under the soft-optimal
    policy of ``reward``, ``[...]``.

    ``ℓ(R) = (1/n) Σ_i Σ_t γ^t m_{i,t} log π_R(a_{i,t}|s_{i,t})`` with
    ``π_R = softmax(Q_R/τ)`` and ``Q_R`` the soft Q-values after ``n_iterations`` sweeps
    of soft value iteration from 0 (:func:`~rewardviz.reward_learning._common.soft_q_values`,
    Ziebart et al. 2008). The ``γ^t`` weights make ``τ∇_θ ℓ`` the classic maximum-entropy
    IRL gradient (see :func:`maxent_irl`). Differentiable in ``reward`` (``jax.grad``).

    Args:
        reward: ``[..., S, A, S']``; its batch broadcasts with the demonstrations' leading
            dimensions.
        demonstrations: :class:`Demonstrations`.
        temperature: ``τ > 0``.
        n_iterations: soft value-iteration sweeps, ``>= 1``.
    """
    _check_mdp(mdp)
    reward = check_reward(mdp, reward)
    demonstrations = _check_demonstrations(mdp, demonstrations)
    temperature = _checks.positive_number("temperature", temperature, "of the soft values")
    n_iterations = _checks.positive_int("n_iterations", n_iterations, "soft value-iteration sweeps")
    counts = _state_action_counts(mdp, demonstrations).mean(axis=-3)  # [..., S, A]
    try:
        jnp.broadcast_shapes(reward.shape[:-3], counts.shape[:-2])
    except ValueError as error:
        raise ValueError(
            f"the batch shapes of reward {reward.shape[:-3]} and demonstrations "
            f"{counts.shape[:-2]} do not broadcast."
        ) from error
    return _log_likelihood(mdp, reward, counts, temperature, n_iterations=n_iterations)


def maxent_irl(
    mdp: TabularMDP,
    demonstrations: Demonstrations,
    *,
    form: str = "state",
    l2: float = 0.0,
    sizes: Sequence[int] | None = None,
    n_steps: int = 200,
    learning_rate: float = 0.1,
    temperature: float = 1.0,
    n_iterations: int = 100,
) -> _common.FittedRewards:
    """Maximum-entropy inverse reinforcement learning (Ziebart et al., AAAI 2008).

    Minimises ``L(θ) = −ℓ(expand(θ, form)) + l2·‖θ‖²`` with Adam (optax) from ``θ = 0``,
    ``ℓ`` the discounted log-likelihood of :func:`demonstration_log_likelihood`. The
    gradient is taken by ``jax.grad`` through ``n_iterations`` soft value-iteration sweeps.
    It is the classic max-ent IRL gradient: since ``τ log π_θ(a|s) = Q_θ(s, a) − V_θ(s)``,

        ``τ ∇_θ ℓ = μ_D − μ_{π_θ}``  (empirical minus expected feature counts)

    exactly when soft value iteration has converged, the dynamics are deterministic, the
    demonstrations start from ``mdp.initial``'s single start state and end in a terminal
    state (or ``γ^H`` is negligible), with ``μ`` as in :func:`empirical_feature_counts`
    and :func:`feature_expectations`. With stochastic dynamics the two differ by terms
    ``γ^{t+1}(E[∇V(s')|s_t, a_t] − ∇V(s_{t+1}))`` of mean zero: the likelihood's gradient is
    an unbiased sample of the classic one. So at the unpenalised optimum the soft-optimal
    policy's expected feature counts match the demonstrations' (the max-ent IRL fixed
    point). Without a penalty the optimum is finite only when the demonstrations' counts
    lie inside the set the soft-optimal policies can reach (a deterministic demonstrator
    drives ``θ`` to infinity; ``l2 > 0`` keeps it finite).

    One jitted program, ``vmap``-ed over the seeds axis of ``demonstrations`` (added when
    absent) and over ``sizes``: size ``m`` fits the first ``m`` trajectories of each set.

    Args:
        mdp: the MDP.
        demonstrations: :class:`Demonstrations` ``[n_demos, …]`` or ``[n_seeds, n_demos, …]``.
        form: the reward's parameterisation, one of
            :data:`~rewardviz.reward_learning._common.FORMS`. ``"state"`` (the reward of
            entering a state) is Ziebart et al.'s choice and is identified up to the
            constant and shaping ambiguities of the demonstrated behaviour.
        l2: penalty weight ``>= 0``.
        sizes: numbers of demonstrations to fit, each in ``1..n_demos``; all by default.
        n_steps: optimiser steps, ``>= 1``.
        learning_rate: Adam's step size, ``> 0``.
        temperature: ``τ > 0`` of the soft-optimal policy.
        n_iterations: soft value-iteration sweeps, ``>= 1``.

    Returns:
        :class:`~rewardviz.reward_learning._common.FittedRewards` with rewards
        ``[n_seeds, n_sizes, S, A, S']`` and losses ``[n_seeds, n_sizes, n_steps]`` (the
        loss after each step).

    Example:
        >>> mdp, reward = rv.envs.chain(5)
        >>> q = rv.solve.soft_q_values(mdp, reward, 0.1)
        >>> demos = rv.reward_learning.sample_demonstrations(
        ...     mdp, rv.solve.boltzmann_policy(q, 0.1), n_demos=64, horizon=20, n_seeds=4)
        >>> fitted = rv.reward_learning.maxent_irl(mdp, demos, sizes=[8, 64], temperature=0.1)
        >>> fitted.rewards.shape
        (4, 2, 5, 2, 5)
    """
    _check_mdp(mdp)
    demonstrations = _check_demonstrations(mdp, demonstrations)
    if demonstrations.actions.ndim == 2:
        demonstrations = jax.tree_util.tree_map(lambda x: x[None], demonstrations)
    elif demonstrations.actions.ndim != 3:
        raise ValueError(
            "demonstrations must have at most one leading (seeds) axis: actions "
            f"[n_seeds, n_demos, H], got shape {tuple(demonstrations.actions.shape)}."
        )
    form = _checks.one_of("form", form, _common.FORMS)
    l2 = _checks.in_range("l2", l2, 0.0, np.inf)
    sizes = _common.check_sizes(sizes, demonstrations.n_demos, "demonstrations")
    n_steps = _checks.positive_int("n_steps", n_steps, "optimiser steps")
    learning_rate = _checks.positive_number("learning_rate", learning_rate)
    temperature = _checks.positive_number("temperature", temperature, "of the soft values")
    n_iterations = _checks.positive_int("n_iterations", n_iterations, "soft value-iteration sweeps")
    dtype = mdp.dtype
    rewards, losses = _fit(
        mdp,
        demonstrations,
        jnp.asarray(sizes, jnp.int32),
        jnp.asarray(l2, dtype),
        jnp.asarray(temperature, dtype),
        form=form,
        n_steps=n_steps,
        learning_rate=learning_rate,
        n_iterations=n_iterations,
    )
    return _common.FittedRewards(rewards=rewards, losses=losses, sizes=sizes, form=form)


# ---------------------------------------------------------------------------
# Jitted kernels.


@partial(jax.jit, static_argnames=("n_seeds", "n_demos", "horizon"))
def _sample(mdp, policy, key, *, n_seeds, n_demos, horizon):
    """States ``[N, n, H + 1]``, actions and mask ``[N, n, H]``; set ``i`` uses ``fold_in(key, i)``.

    Inverse-CDF draws from one vector of uniforms drawn up front (the first ``n`` for
    the starts, then ``[H, n, 2]`` for actions and successors): one random-bit kernel
    per set, cheaper to compile than a categorical draw per step.
    """
    dtype = policy.dtype

    def inverse_cdf(probabilities):
        # Cumulative probabilities, and the last index of positive probability, where a
        # draw is clamped when rounding leaves the total just below 1.
        n = probabilities.shape[-1]
        last = n - 1 - jnp.argmax(jnp.flip(probabilities, -1) > 0, axis=-1)
        return jnp.cumsum(probabilities, axis=-1), last.astype(jnp.int32)

    start_cdf, start_last = inverse_cdf(mdp.initial.astype(dtype))
    policy_cdf, policy_last = inverse_cdf(policy)
    transition_cdf, transition_last = inverse_cdf(mdp.transitions.astype(dtype))

    def draw(cdf, last, uniform):
        # The first index whose cumulative probability exceeds the uniform number.
        return jnp.minimum(jnp.sum(cdf <= uniform[..., None], axis=-1), last).astype(jnp.int32)

    def one(index):
        uniforms = jax.random.uniform(
            jax.random.fold_in(key, index), ((2 * horizon + 1) * n_demos,), dtype
        )
        start = draw(start_cdf, start_last, uniforms[:n_demos])

        def step(state, uniforms):
            live = ~mdp.terminal[state]
            action = draw(policy_cdf[state], policy_last[state], uniforms[:, 0])
            successor = draw(
                transition_cdf[state, action], transition_last[state, action], uniforms[:, 1]
            )
            action = jnp.where(live, action, 0)
            successor = jnp.where(live, successor, state)
            return successor, (successor, action, live)

        steps = uniforms[n_demos:].reshape(horizon, n_demos, 2)
        _, (states, actions, mask) = jax.lax.scan(step, start, steps)
        states = jnp.concatenate([start[None], states])  # [H + 1, n]
        return states.T, actions.T, mask.T

    return jax.vmap(one)(jnp.arange(n_seeds))


def _transition_features(form, transitions_visited):
    """Project discounted transition counts ``[..., S, A, S']`` onto the features of ``form``."""
    if form == "state":
        return transitions_visited.sum(axis=(-3, -2))
    if form == "state_action":
        flat = transitions_visited.sum(axis=-1)
        return flat.reshape(*flat.shape[:-2], -1)
    return transitions_visited.reshape(*transitions_visited.shape[:-3], -1)


@partial(jax.jit, static_argnames=("form", "horizon"))
def _feature_expectations(mdp, policy, *, form, horizon):
    dtype = policy.dtype
    live = (~mdp.terminal).astype(dtype)
    transitions = mdp.transitions.astype(dtype)
    gamma = mdp.gamma.astype(dtype)
    start = jnp.broadcast_to(mdp.initial.astype(dtype), policy.shape[:-1])

    def step(carry, _):
        distribution, discount, total = carry  # P(s_t = s) [..., S], γ^t, counts so far
        acting = (distribution * live)[..., None] * policy  # [..., S, A]
        flow = acting[..., None] * transitions  # [..., S, A, S']
        return (flow.sum(axis=(-3, -2)), discount * gamma, total + discount * flow), None

    total = jnp.zeros((*policy.shape, mdp.n_states), dtype)
    (_, _, total), _ = jax.lax.scan(
        step, (start, jnp.asarray(1, dtype), total), None, length=horizon
    )
    return _transition_features(form, total)


def _transition_counts(mdp, demonstrations):
    """Per-trajectory discounted transition counts ``[..., n, S, A, S']``."""
    states, actions, mask = demonstrations.states, demonstrations.actions, demonstrations.mask
    dtype = mdp.dtype
    horizon = actions.shape[-1]
    discount = mdp.gamma.astype(dtype) ** jnp.arange(horizon, dtype=dtype)
    weight = jnp.where(mask, discount, 0)  # [..., n, H]
    n_states, n_actions = mdp.n_states, mdp.n_actions
    flat = (states[..., :-1] * n_actions + actions) * n_states + states[..., 1:]
    size = n_states * n_actions * n_states
    counts = jax.vmap(lambda f, w: jnp.zeros(size, dtype).at[f].add(w))(
        flat.reshape(-1, horizon), weight.reshape(-1, horizon)
    )
    return counts.reshape(*actions.shape[:-1], n_states, n_actions, n_states)


@partial(jax.jit, static_argnames=("form",))
def _empirical_feature_counts(mdp, demonstrations, *, form):
    counts = _transition_counts(mdp, demonstrations).mean(axis=-4)
    return _transition_features(form, counts)


@jax.jit
def _state_action_counts(mdp, demonstrations):
    """Per-trajectory discounted state-action counts ``[..., n, S, A]``."""
    return _transition_counts(mdp, demonstrations).sum(axis=-1)


def _soft_log_policy(mdp, reward, temperature, n_iterations):
    q = _common.soft_q_values(mdp, reward, temperature, n_iterations)
    return jax.nn.log_softmax(q / temperature, axis=-1)


@partial(jax.jit, static_argnames=("n_iterations",))
def _log_likelihood(mdp, reward, counts, temperature, *, n_iterations):
    log_policy = _soft_log_policy(mdp, reward, temperature, n_iterations)
    return jnp.sum(counts * log_policy, axis=(-2, -1))


@partial(jax.jit, static_argnames=("form", "n_steps", "learning_rate", "n_iterations"))
def _fit(
    mdp, demonstrations, sizes, l2, temperature, *, form, n_steps, learning_rate, n_iterations
):
    """Rewards ``[N, K, S, A, S']`` and losses ``[N, K, n_steps]``: seeds × sizes."""
    per_demo = _state_action_counts(mdp, demonstrations)  # [N, n, S, A]
    n_demos = per_demo.shape[-3]
    # Size m weighs the first m trajectories by 1/m: the mean over them, static shapes.
    weights = (jnp.arange(n_demos)[None, :] < sizes[:, None]) / sizes[:, None]  # [K, n]
    counts = jnp.einsum(
        "kn,Nnsa->Nksa", weights.astype(per_demo.dtype), per_demo, precision=HIGHEST
    )
    optimiser = optax.adam(learning_rate)

    def loss(theta, counts):
        reward = _common.expand(theta, form, mdp)
        likelihood = jnp.sum(counts * _soft_log_policy(mdp, reward, temperature, n_iterations))
        return -likelihood + l2 * jnp.sum(theta**2)

    def one(counts):
        theta = jnp.zeros(_common.n_parameters(form, mdp), counts.dtype)

        def step(carry, _):
            theta, state = carry
            value, gradient = jax.value_and_grad(loss)(theta, counts)
            updates, state = optimiser.update(gradient, state, theta)
            return (optax.apply_updates(theta, updates), state), value

        (theta, _), values = jax.lax.scan(step, (theta, optimiser.init(theta)), None, n_steps)
        # values[k] is the loss before step k; shift by one for the loss after each step.
        losses = jnp.concatenate([values[1:], loss(theta, counts)[None]])
        return _common.expand(theta, form, mdp), losses

    return jax.vmap(jax.vmap(one))(counts)


# ---------------------------------------------------------------------------
# Boundary checks.


def _check_mdp(mdp) -> None:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")


def _check_demonstrations(mdp: TabularMDP, demonstrations) -> Demonstrations:
    """The demonstrations as int32/bool arrays after checking shapes and index ranges."""
    if not isinstance(demonstrations, Demonstrations):
        raise TypeError(
            "demonstrations must be a Demonstrations (from sample_demonstrations, or "
            f"Demonstrations(states, actions, mask)), got {type(demonstrations).__name__}."
        )
    states, actions, mask = demonstrations.states, demonstrations.actions, demonstrations.mask
    for name, array in (("states", states), ("actions", actions)):
        if not jnp.issubdtype(jnp.asarray(array).dtype, jnp.integer):
            raise TypeError(
                f"demonstrations.{name} must hold integers, got dtype {jnp.asarray(array).dtype}."
            )
    states, actions = jnp.asarray(states, jnp.int32), jnp.asarray(actions, jnp.int32)
    mask = jnp.asarray(mask)
    if mask.dtype != jnp.bool_:
        raise TypeError(f"demonstrations.mask must be boolean, got dtype {mask.dtype}.")
    if actions.ndim < 2:
        raise ValueError(
            f"demonstrations.actions must have shape [..., n, H], got {tuple(actions.shape)}."
        )
    n_demos, horizon = actions.shape[-2:]
    if n_demos == 0 or horizon == 0:
        raise ValueError(
            f"demonstrations are empty ({n_demos} trajectories of {horizon} steps); sample "
            "at least one trajectory of at least one step."
        )
    expected = (*actions.shape[:-1], horizon + 1)
    if states.shape != expected:
        raise ValueError(
            f"demonstrations.states must have shape [..., n, H + 1] = {expected} to match "
            f"actions {tuple(actions.shape)}, got {tuple(states.shape)}."
        )
    if mask.shape != actions.shape:
        raise ValueError(
            f"demonstrations.mask must have the shape of actions {tuple(actions.shape)}, "
            f"got {tuple(mask.shape)}."
        )
    for name, array, count in (
        ("states", states, mdp.n_states),
        ("actions", actions, mdp.n_actions),
    ):
        if isinstance(array, jax.core.Tracer):
            continue
        host = np.asarray(array)
        bad = (host < 0) | (host >= count)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"demonstrations.{name} has {int(host[where])} at index {where}, outside "
                f"0..{count - 1} of this MDP."
            )
    return Demonstrations(states=states, actions=actions, mask=mask)
