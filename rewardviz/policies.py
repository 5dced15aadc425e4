"""Policies: stochastic ``[..., S, A]`` arrays, and conversion of deterministic ones.

Deterministic policies are integer arrays ``[..., S]`` (the action taken in each
state); they are converted to one-hot stochastic arrays at the public boundary so
every kernel sees one representation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, _deprecation
from rewardviz.mdp import SUM_TOLERANCE, TabularMDP

__all__ = [
    "as_stochastic",
    "uniform",
]


@_deprecation.positional_options("name")
def as_stochastic(mdp: TabularMDP, policy, *, name: str = "policy") -> jax.Array:
    """Return ``policy`` as a stochastic array ``[..., S, A]``, validated.

    Accepts an integer array ``[..., S]`` of actions (a deterministic policy) or a
    float array ``[..., S, A]`` of action probabilities whose rows sum to 1.

    Example:
        >>> mdp, _ = rv.envs.stay_switch()
        >>> rv.policies.as_stochastic(mdp, [1, 0])
        Array([[0., 1.],
               [1., 0.]], dtype=float32)
    """
    _checks.tabular_mdp("mdp", mdp)
    traced = isinstance(policy, jax.core.Tracer)
    # A traced policy (under the caller's jit/vmap) has no host copy; read its dtype only.
    host = policy if traced else np.asarray(policy)
    if np.issubdtype(host.dtype, np.integer):
        _checks.trailing_shape(name, host, (mdp.n_states,), "[..., S] (deterministic)")
        if not traced and host.size and (host.min() < 0 or host.max() >= mdp.n_actions):
            bad = tuple(int(i) for i in np.argwhere((host < 0) | (host >= mdp.n_actions))[0])
            raise ValueError(
                f"{name} picks action {int(host[bad])} at index {bad}; actions are "
                f"0..{mdp.n_actions - 1}."
            )
        return jax.nn.one_hot(jnp.asarray(host), mdp.n_actions, dtype=mdp.dtype)
    array = _checks.float_array(name, policy, dtype=mdp.dtype)
    _checks.trailing_shape(name, array, (mdp.n_states, mdp.n_actions), "[..., S, A]")
    if isinstance(array, jax.core.Tracer):
        return array
    _checks.finite(name, array)
    values = np.asarray(array)
    if (values < 0).any():
        bad = tuple(int(i) for i in np.argwhere(values < 0)[0])
        raise ValueError(f"{name} has a negative probability at index {bad}.")
    totals = values.sum(axis=-1)
    tolerance = SUM_TOLERANCE.get(np.dtype(values.dtype), 1e-5)
    if (np.abs(totals - 1) > tolerance).any():
        bad = tuple(int(i) for i in np.argwhere(np.abs(totals - 1) > tolerance)[0])
        raise ValueError(
            f"{name}[{', '.join(map(str, bad))}, :] sums to {totals[bad]:.10g}, not 1; "
            "each state's action probabilities must sum to 1."
        )
    return array


def uniform(mdp: TabularMDP) -> jax.Array:
    """The uniformly random policy ``[S, A]``."""
    _checks.tabular_mdp("mdp", mdp)
    return jnp.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions, dtype=mdp.dtype)
