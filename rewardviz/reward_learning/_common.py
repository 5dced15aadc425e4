"""What the reward-learning modules share: reward parameterisations, a differentiable soft
value iteration, and the result of a fit.

Internal: the names here are shared by :mod:`~rewardviz.reward_learning.preferences`,
:mod:`~rewardviz.reward_learning.fit`, :mod:`~rewardviz.reward_learning.irl`,
:mod:`~rewardviz.reward_learning.blend` and :mod:`~rewardviz.reward_learning.evaluate`.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, _kernels
from rewardviz.mdp import TabularMDP

#: How a learned reward is parameterised: ``R(s')`` of the state entered, ``R(s, a)``, or
#: ``R(s, a, s')`` with one parameter per transition.
FORMS = ("state", "state_action", "transition")


def n_parameters(form: str, mdp: TabularMDP) -> int:
    """How many numbers parameterise a reward of ``form`` on ``mdp``."""
    n_states, n_actions = mdp.n_states, mdp.n_actions
    return {
        "state": n_states,
        "state_action": n_states * n_actions,
        "transition": n_states * n_actions * n_states,
    }[form]


def expand(theta: jax.Array, form: str, mdp: TabularMDP) -> jax.Array:
    """The reward ``[..., S, A, S']`` that parameters ``theta`` ``[..., n_parameters]`` define.

    ``"state"`` pays ``θ[s']`` on entering ``s'`` (as :func:`rewardviz.rewards.state_reward`
    with ``on="destination"``), ``"state_action"`` pays ``θ[s, a]`` whatever the successor,
    ``"transition"`` pays ``θ[s, a, s']``.
    """
    n_states, n_actions = mdp.n_states, mdp.n_actions
    batch = theta.shape[:-1]
    if form == "state":
        return jnp.broadcast_to(theta[..., None, None, :], (*batch, n_states, n_actions, n_states))
    if form == "state_action":
        values = theta.reshape(*batch, n_states, n_actions)
        return jnp.broadcast_to(values[..., None], (*batch, n_states, n_actions, n_states))
    return theta.reshape(*batch, n_states, n_actions, n_states)


@partial(jax.jit, static_argnames=("n_iterations",))
def soft_q_values(mdp: TabularMDP, reward: jax.Array, temperature, n_iterations: int):
    """Soft (maximum-entropy) optimal Q-values by ``n_iterations`` fixed sweeps: ``[..., S, A]``.

    ``Q(s, a) = r(s, a) + γ Σ_s' T(s'|s, a) V(s')``, ``V(s) = τ log Σ_a exp(Q(s, a)/τ)``
    (Ziebart et al. 2008; Haarnoja et al. 2017), with terminal states worth 0 as in
    :mod:`rewardviz.solve`. A fixed number of sweeps (a ``lax.scan``, not a convergence
    loop) so that ``jax.grad`` differentiates through it; with ``γ < 1`` the error after
    ``n`` sweeps is at most ``γⁿ`` times the initial one. As ``τ → 0`` this is value
    iteration.
    """
    continuing, expected, gamma = _kernels.live_dynamics(mdp, reward)
    temperature = jnp.asarray(temperature, expected.dtype)

    def sweep(values, _):
        q = _kernels.backup(continuing, gamma, expected, values)
        return temperature * jax.nn.logsumexp(q / temperature, axis=-1), None

    values = jnp.zeros(expected.shape[:-1], expected.dtype)
    values, _ = jax.lax.scan(sweep, values, None, length=n_iterations)
    return _kernels.backup(continuing, gamma, expected, values)


def soft_policy(q: jax.Array, temperature) -> jax.Array:
    """The Boltzmann policy ``π(a|s) ∝ exp(Q(s, a)/τ)`` of soft Q-values, ``[..., S, A]``."""
    return jax.nn.softmax(q / temperature, axis=-1)


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["rewards", "losses"],
    meta_fields=["sizes", "form"],
)
@dataclasses.dataclass(frozen=True, eq=False)
class FittedRewards:
    """Rewards learned from data, one per seed and dataset size.

    Attributes:
        rewards: ``[n_seeds, n_sizes, S, A, S']`` the learned rewards (seed and size axes
            present even when there is one of each).
        losses: ``[n_seeds, n_sizes, n_steps]`` the training loss (negative mean
            log-likelihood plus the penalty) after each optimiser step.
        sizes: the dataset sizes, in order (pairs of segments, or demonstrations).
        form: how the rewards were parameterised (one of :data:`FORMS`).
    """

    rewards: jax.Array
    losses: jax.Array
    sizes: tuple[int, ...]
    form: str

    def __repr__(self) -> str:
        n_seeds = self.rewards.shape[0]
        return (
            f"FittedRewards({n_seeds} seeds × sizes {list(self.sizes)}, form={self.form!r}, "
            f"final loss {float(np.mean(np.asarray(self.losses[..., -1]))):.4g})"
        )


def check_sizes(sizes, n_available: int, unit: str) -> tuple[int, ...]:
    """Dataset sizes ``1 <= m <= n_available`` as a tuple (``(n_available,)`` when None).

    ``unit`` names what is counted, for the messages (``"pairs"``, ``"demonstrations"``).
    """
    if sizes is None:
        return (n_available,)
    sizes = tuple(np.atleast_1d(np.asarray(sizes)).tolist())
    if not sizes:
        raise ValueError(f"sizes is empty; give at least one number of {unit}.")
    sizes = tuple(_checks.positive_int("sizes", size, f"numbers of {unit}") for size in sizes)
    too_large = [size for size in sizes if size > n_available]
    if too_large:
        raise ValueError(
            f"sizes {too_large} exceed the {n_available} {unit} per dataset; each size must "
            f"lie in 1..{n_available}."
        )
    return sizes
