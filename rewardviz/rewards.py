"""Reward arrays: validation, lifting of R(s) and R(s, a) tables, expected rewards.

A reward in rewardviz is a plain array shaped ``[..., S, A, S']``: the reward for
taking action ``a`` in state ``s`` and arriving in ``s'``. Leading dimensions are a
batch of rewards that every solver and distance handles at once. This module only
converts and checks; solving lives in :mod:`rewardviz.solve`.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

from rewardviz import _checks, _deprecation, _kernels
from rewardviz.mdp import TabularMDP

__all__ = [
    "HIGHEST",
    "check_reward",
    "expected_reward",
    "state_action_reward",
    "state_reward",
]

#: Full-precision matrix products (``jax.lax.Precision.HIGHEST``), used by every kernel.
HIGHEST = _kernels.HIGHEST


@_deprecation.positional_options("name")
def check_reward(mdp: TabularMDP, reward, *, name: str = "reward") -> jax.Array:
    """Return ``reward`` as a float array after checking its shape ``[..., S, A, S']`` and values.

    Raises ``ValueError`` naming ``name`` on a wrong shape or a NaN/inf (with its index).
    Skips the value check when called under ``jit``/``vmap`` tracing.
    """
    _checks.tabular_mdp("mdp", mdp)
    reward = _checks.float_array(name, reward)
    _checks.trailing_shape(
        name, reward, (mdp.n_states, mdp.n_actions, mdp.n_states), "[..., S, A, S']"
    )
    if not isinstance(reward, jax.core.Tracer):
        _checks.finite(name, reward)
    return reward


@_deprecation.positional_options("on")
def state_reward(
    mdp: TabularMDP, values, *, on: Literal["destination", "source"] = "destination"
) -> jax.Array:
    """Lift a state reward ``R(s)`` (``[..., S]``) to ``[..., S, A, S']``.

    ``on="destination"`` pays ``R(s')`` for arriving in ``s'`` (a goal reward is paid
    on entering the goal); ``on="source"`` pays ``R(s)`` for acting in ``s``.

    Example:
        >>> mdp, _ = rv.envs.chain(4)
        >>> rv.rewards.state_reward(mdp, [0, 0, 0, 1]).shape
        (4, 2, 4)
    """
    _checks.tabular_mdp("mdp", mdp)
    _checks.one_of("on", on, ("destination", "source"))
    values = _checks.float_array("values", values)
    _checks.trailing_shape("values", values, (mdp.n_states,), "[..., S]")
    _checks.finite("values", values)
    shape = (*values.shape[:-1], mdp.n_states, mdp.n_actions, mdp.n_states)
    if on == "destination":
        return jnp.broadcast_to(values[..., None, None, :], shape)
    return jnp.broadcast_to(values[..., :, None, None], shape)


def state_action_reward(mdp: TabularMDP, values) -> jax.Array:
    """Lift a state-action reward ``R(s, a)`` (``[..., S, A]``) to ``[..., S, A, S']``."""
    _checks.tabular_mdp("mdp", mdp)
    values = _checks.float_array("values", values)
    _checks.trailing_shape("values", values, (mdp.n_states, mdp.n_actions), "[..., S, A]")
    _checks.finite("values", values)
    return jnp.broadcast_to(values[..., None], (*values.shape, mdp.n_states))


def expected_reward(mdp: TabularMDP, reward) -> jax.Array:
    """Expected reward ``r(s, a) = sum_s' T(s'|s, a) R(s, a, s')``, shape ``[..., S, A]``.

    Two rewards with equal expected rewards differ only by S'-redistribution
    (Skalse et al., ICML 2023) and induce the same values for every policy.
    """
    reward = check_reward(mdp, reward)  # checks mdp first
    return _kernels.expected_reward(mdp.transitions, reward)
