"""Blending auxiliary rewards into a primary one, tuned by differentiating through planning.

The bi-level idea of Gupta et al. ("Behavior Alignment via Reward Function Optimization",
NeurIPS 2023): an agent plans (here: soft value iteration with a fixed budget of sweeps)
on a blended reward ``r_w = r_primary + Σ_i w_i r_i``, and the blend weights ``w`` are
tuned so that the resulting policy does well on the *primary* reward. The outer
objective is ``J(w) = Σ_s initial(s) V^{π_w}_{primary}(s)``, the primary reward's exact
expected discounted return of the soft-optimal policy ``π_w`` of ``r_w``; its gradient
flows through the sweeps of soft value iteration and the exact policy evaluation.

The teaching point: with full planning a potential-based auxiliary ``γΦ(s') − Φ(s)``
changes nothing (the soft-optimal policy is invariant to potential shaping, as the
optimal one is: Ng, Harada & Russell 1999), while with a small planning budget a
potential near ``V*`` helps, by carrying the long-term value into the reward the short
planner sees; a bonus that is not a potential difference can change the optimal
behaviour and hurt. This module does not plot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rewardviz import _checks, _kernels
from rewardviz.mdp import TabularMDP
from rewardviz.reward_learning import _common
from rewardviz.rewards import HIGHEST, check_reward

__all__ = [
    "BlendResult",
    "blend_grid",
    "blend_returns",
    "tune_blend",
]


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["weights", "primary_returns"],
    meta_fields=["names"],
)
@dataclasses.dataclass(frozen=True, eq=False)
class BlendResult:
    """The trace of :func:`tune_blend`.

    Attributes:
        weights: ``[n_steps + 1, M]`` the blend weights before the first step and after
            each step.
        primary_returns: ``[n_steps + 1]`` the primary reward's return ``J(w)`` of the
            soft-optimal policy for each of those weights.
        names: ``M`` names of the auxiliary rewards.
    """

    weights: jax.Array
    primary_returns: jax.Array
    names: tuple[str, ...]

    @property
    def final_weights(self) -> jax.Array:
        """``[M]`` the weights after the last step."""
        return self.weights[-1]

    @property
    def final_return(self) -> float:
        """``J`` at the final weights."""
        return float(self.primary_returns[-1])

    def to_frame(self):
        """A ``pandas.DataFrame``, one row per step: ``step``, ``primary_return`` and one
        column of weights per auxiliary (named by :attr:`names`)."""
        import pandas as pd

        returns = np.asarray(self.primary_returns)
        columns = {"step": np.arange(len(returns)), "primary_return": returns}
        for name, values in zip(self.names, np.asarray(self.weights).T, strict=True):
            columns[name] = values
        return pd.DataFrame(columns)

    def __repr__(self) -> str:
        start, final = np.asarray(self.primary_returns)[[0, -1]]
        weights = ", ".join(
            f"{name}={value:.3g}"
            for name, value in zip(self.names, np.asarray(self.weights[-1]), strict=True)
        )
        return (
            f"BlendResult({len(self.primary_returns) - 1} steps, primary return "
            f"{start:.4g} -> {final:.4g}, final weights {weights})"
        )


# ---------------------------------------------------------------------------
# Public functions: validate, then call a jitted kernel.


def blend_returns(
    mdp: TabularMDP,
    primary,
    auxiliaries,
    weights,
    *,
    temperature: float = 0.1,
    n_iterations: int = 100,
) -> jax.Array:
    """The primary reward's return of the soft-optimal policy for a blended reward, ``[...]``.

    ``J(w) = Σ_s initial(s) V^{π_w}_{primary}(s)`` with ``π_w = softmax(Q_w/τ)``, ``Q_w``
    the soft Q-values of ``r_w = primary + Σ_i w_i auxiliaries_i`` after ``n_iterations``
    sweeps of soft value iteration from 0 (the planning budget;
    :func:`~rewardviz.reward_learning._common.soft_q_values`), and ``V^π`` the exact
    value of ``π`` under the primary reward (no entropy bonus). Differentiable in
    ``weights`` (and the rewards) by ``jax.grad`` (Gupta et al. 2023).

    Args:
        mdp: the MDP; with ``γ = 1`` every state must reach a terminal state (the soft
            policy takes every action).
        primary: ``[S, A, S']`` the reward that counts.
        auxiliaries: ``[M, S, A, S']`` the auxiliary rewards, ``M >= 1``.
        weights: ``[..., M]`` blend weights; leading dimensions are a batch.
        temperature: ``τ > 0`` of the soft-optimal policy.
        n_iterations: sweeps of soft value iteration, ``>= 1``.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S....", ".###.", "....G"])
        >>> shaping = rv.shaping.shaping_reward(mdp, rv.solve.value_iteration(mdp, reward).values)
        >>> rv.reward_learning.blend_returns(
        ...     mdp, reward, shaping[None], jnp.array([[0.0], [1.0]]), n_iterations=3)
        ... # doctest: +SKIP
    """
    primary, auxiliaries = _check_rewards(mdp, primary, auxiliaries)
    weights = _check_weights("weights", weights, auxiliaries.shape[0], mdp.dtype)
    temperature = _checks.positive_number("temperature", temperature, "of the soft values")
    n_iterations = _checks.positive_int("n_iterations", n_iterations, "soft value-iteration sweeps")
    return _blend_returns(
        mdp, primary, auxiliaries, weights, temperature, n_iterations=n_iterations
    )


def tune_blend(
    mdp: TabularMDP,
    primary,
    auxiliaries,
    *,
    names: Sequence[str] | None = None,
    init=None,
    temperature: float = 0.1,
    n_iterations: int = 100,
    n_steps: int = 200,
    learning_rate: float = 0.05,
) -> BlendResult:
    """Tune the blend weights by gradient ascent on :func:`blend_returns` (Gupta et al. 2023).

    Adam (optax) on ``−J(w)`` from ``init``, each gradient taken by ``jax.grad`` through
    soft value iteration and the exact evaluation, all ``n_steps`` in one jitted
    ``lax.scan``. ``J`` need not be concave in ``w``: the ascent finds a local optimum,
    which :func:`blend_grid` over the same weights lets you check. Compare the trace's
    best return with its final one when the step size is large.

    Args:
        mdp, primary, auxiliaries, temperature, n_iterations: as in :func:`blend_returns`.
        names: ``M`` names for the auxiliaries; ``"auxiliary_0"``, … by default.
        init: ``[M]`` starting weights; zeros (the primary reward alone) by default.
        n_steps: optimiser steps, ``>= 1``.
        learning_rate: Adam's step size, ``> 0``.

    Returns:
        :class:`BlendResult`.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S....", ".###.", "....G"])
        >>> shaping = rv.shaping.shaping_reward(mdp, rv.solve.value_iteration(mdp, reward).values)
        >>> result = rv.reward_learning.tune_blend(
        ...     mdp, reward, shaping[None], names=["potential"], n_iterations=3)
        >>> result.to_frame().tail(1)  # doctest: +SKIP
    """
    primary, auxiliaries = _check_rewards(mdp, primary, auxiliaries)
    n_auxiliaries = auxiliaries.shape[0]
    names = _names(names, n_auxiliaries)
    if init is None:
        init = jnp.zeros(n_auxiliaries, mdp.dtype)
    init = _check_weights("init", init, n_auxiliaries, mdp.dtype)
    if init.ndim != 1:
        raise ValueError(f"init must have shape [M] = ({n_auxiliaries},), got {init.shape}.")
    temperature = _checks.positive_number("temperature", temperature, "of the soft values")
    n_iterations = _checks.positive_int("n_iterations", n_iterations, "soft value-iteration sweeps")
    n_steps = _checks.positive_int("n_steps", n_steps, "optimiser steps")
    learning_rate = _checks.positive_number("learning_rate", learning_rate)
    weights, returns = _tune(
        mdp,
        primary,
        auxiliaries,
        init,
        temperature,
        n_iterations=n_iterations,
        n_steps=n_steps,
        learning_rate=learning_rate,
    )
    return BlendResult(weights=weights, primary_returns=returns, names=names)


def blend_grid(
    mdp: TabularMDP,
    primary,
    auxiliaries,
    *,
    grid,
    temperature: float = 0.1,
    n_iterations: int = 100,
) -> jax.Array:
    """:func:`blend_returns` over every combination of per-auxiliary weight values.

    ``grid`` is either one 1-D sequence of values used for every auxiliary, or a sequence
    of ``M`` 1-D sequences (values for auxiliary ``i`` in entry ``i``). The result has
    shape ``[n_0, …, n_{M−1}]``: entry ``[j_0, …]`` is ``J`` at weights
    ``(grid_0[j_0], grid_1[j_1], …)``. All points are solved in one jitted call.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S....", ".###.", "....G"])
        >>> shaping = rv.shaping.shaping_reward(mdp, rv.solve.value_iteration(mdp, reward).values)
        >>> returns = rv.reward_learning.blend_grid(
        ...     mdp, reward, shaping[None], grid=jnp.linspace(0, 2, 9), n_iterations=3)
        >>> returns.shape
        (9,)
    """
    primary, auxiliaries = _check_rewards(mdp, primary, auxiliaries)
    n_auxiliaries = auxiliaries.shape[0]
    axes = _grid_axes(grid, n_auxiliaries, mdp.dtype)
    weights = jnp.stack(jnp.meshgrid(*axes, indexing="ij"), axis=-1)  # [n_0, …, M]
    return blend_returns(
        mdp,
        primary,
        auxiliaries,
        weights,
        temperature=temperature,
        n_iterations=n_iterations,
    )


# ---------------------------------------------------------------------------
# Jitted kernels.


def _primary_return(mdp, primary, auxiliaries, weights, temperature, n_iterations):
    """``J(w)`` for weights ``[..., M]``: plan on the blend, evaluate on the primary."""
    blended = primary + jnp.einsum("...m,msat->...sat", weights, auxiliaries, precision=HIGHEST)
    q = _common.soft_q_values(mdp, blended, temperature, n_iterations)
    policy = _common.soft_policy(q, temperature)
    values = _kernels.policy_evaluation(mdp, primary, policy)
    return jnp.einsum("s,...s->...", mdp.initial.astype(values.dtype), values, precision=HIGHEST)


@partial(jax.jit, static_argnames=("n_iterations",))
def _blend_returns(mdp, primary, auxiliaries, weights, temperature, *, n_iterations):
    return _primary_return(mdp, primary, auxiliaries, weights, temperature, n_iterations)


@partial(jax.jit, static_argnames=("n_iterations", "n_steps", "learning_rate"))
def _tune(mdp, primary, auxiliaries, init, temperature, *, n_iterations, n_steps, learning_rate):
    optimiser = optax.adam(learning_rate)

    def objective(weights):
        return _primary_return(mdp, primary, auxiliaries, weights, temperature, n_iterations)

    def step(carry, _):
        weights, state = carry
        value, gradient = jax.value_and_grad(objective)(weights)
        updates, state = optimiser.update(-gradient, state, weights)  # ascent on J
        return (optax.apply_updates(weights, updates), state), (weights, value)

    (final, _), (weights, returns) = jax.lax.scan(
        step, (init, optimiser.init(init)), None, length=n_steps
    )
    weights = jnp.concatenate([weights, final[None]])
    returns = jnp.concatenate([returns, objective(final)[None]])
    return weights, returns


# ---------------------------------------------------------------------------
# Boundary checks.


def _check_rewards(mdp, primary, auxiliaries):
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")
    primary = check_reward(mdp, primary, name="primary")
    if primary.ndim != 3:
        raise ValueError(
            f"primary must be one reward of shape [S, A, S'] = ({mdp.n_states}, "
            f"{mdp.n_actions}, {mdp.n_states}), got {tuple(primary.shape)}."
        )
    auxiliaries = check_reward(mdp, auxiliaries, name="auxiliaries")
    if auxiliaries.ndim != 4 or auxiliaries.shape[0] == 0:
        raise ValueError(
            f"auxiliaries must have shape [M, S, A, S'] = (M, {mdp.n_states}, "
            f"{mdp.n_actions}, {mdp.n_states}) with M >= 1, got {tuple(auxiliaries.shape)}; "
            "stack the auxiliary rewards on a leading axis (auxiliary[None] for one)."
        )
    if not _kernels.traced(mdp) and float(mdp.gamma) >= 1:
        # The soft policy takes every action, so its return is finite iff the uniform
        # policy reaches a terminal state from every state.
        uniform = jnp.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions, mdp.dtype)
        try:
            _kernels.check_terminates(mdp, uniform)
        except ValueError as error:
            raise ValueError(
                f"with gamma = 1 the soft-optimal policies, which take every action, must "
                f"reach a terminal state from every state: {error}"
            ) from error
    dtype = jnp.result_type(mdp.dtype, primary, auxiliaries)
    return primary.astype(dtype), auxiliaries.astype(dtype)


def _check_weights(name: str, weights, n_auxiliaries: int, dtype) -> jax.Array:
    weights = _checks.float_array(name, weights)
    _checks.trailing_shape(name, weights, (n_auxiliaries,), "[..., M]")
    _checks.finite(name, weights)
    return weights.astype(jnp.result_type(weights, dtype))


def _grid_axes(grid, n_auxiliaries: int, dtype) -> list[jax.Array]:
    try:
        ragged = [np.asarray(values, dtype=float) for values in grid]
    except TypeError as error:
        raise TypeError(
            "grid must be a 1-D sequence of weight values or one such sequence per auxiliary."
        ) from error
    if all(axis.ndim == 0 for axis in ragged):  # one sequence shared by every auxiliary
        ragged = [np.asarray(ragged)] * n_auxiliaries
    if len(ragged) != n_auxiliaries or any(axis.ndim != 1 or axis.size == 0 for axis in ragged):
        raise ValueError(
            f"grid must be one non-empty 1-D sequence of values, or {n_auxiliaries} of them "
            f"(one per auxiliary), got {len(ragged)} entries of shapes "
            f"{[axis.shape for axis in ragged]}."
        )
    axes = [_checks.float_array(f"grid[{i}]", axis, dtype=dtype) for i, axis in enumerate(ragged)]
    for i, axis in enumerate(axes):
        _checks.finite(f"grid[{i}]", axis)
    return axes


def _names(names, n_auxiliaries: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"auxiliary_{i}" for i in range(n_auxiliaries))
    if isinstance(names, str):
        names = (names,)
    names = tuple(str(name) for name in names)
    if len(names) != n_auxiliaries:
        raise ValueError(
            f"names must give one name per auxiliary ({n_auxiliaries}), got {len(names)}: "
            f"{list(names)}."
        )
    reserved = {"step", "primary_return"}
    if len(set(names)) != len(names) or reserved & set(names):
        raise ValueError(
            f"names must be distinct and not {sorted(reserved)} (columns of the table), "
            f"got {list(names)}."
        )
    return names
