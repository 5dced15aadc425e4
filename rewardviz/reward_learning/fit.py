"""Fitting a reward to preference labels by maximum likelihood, batched over seeds and sizes.

The likelihood of a dataset (:class:`~rewardviz.reward_learning.preferences.Preferences`)
under a candidate reward is the Bradley–Terry model of
:mod:`~rewardviz.reward_learning.preferences`, with either the partial return
(Christiano et al. 2017) or the regret (Knox et al. 2022) as the segment's score. Fitting
maximises it over a parameterised reward (:data:`rewardviz.reward_learning._common.FORMS`)
with ``optax.adam``: every seed's dataset and every dataset size is fitted in one jitted
program (``vmap`` over seeds and sizes, ``lax.scan`` over optimiser steps). The regret
model needs ``Q*`` of the candidate reward, which moves with every step; it is the soft
(maximum-entropy) ``Q`` of :func:`rewardviz.reward_learning._common.soft_q_values`, a fixed
number of sweeps that ``jax.grad`` differentiates through. Judging the learned rewards
(EPIC, STARC, regret) is :mod:`rewardviz.reward_learning.evaluate`'s job; this module
neither samples data nor draws.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rewardviz import _checks
from rewardviz.mdp import TabularMDP
from rewardviz.reward_learning import _common
from rewardviz.reward_learning.preferences import (
    MODELS,
    Preferences,
    segment_regrets,
    segment_returns,
)
from rewardviz.rewards import check_reward

__all__ = [
    "fit_preferences",
    "log_likelihood",
]

#: Standard deviation of the random initial parameters (small: the fit starts near the
#: zero reward, with the symmetry between parameters broken).
_INITIAL_SCALE = 0.01


def log_likelihood(
    mdp: TabularMDP,
    reward,
    preferences: Preferences,
    *,
    model: str,
    beta: float = 1.0,
    temperature: float | None = None,
    n_iterations: int | None = None,
) -> jax.Array:
    """Mean log-likelihood of the labels under a preference model of ``reward``, ``[...]``.

    With ``y`` the label (the target probability that segment 0 is preferred) and
    ``p = sigmoid((G(σ0) − G(σ1))/β)`` the model's, each pair contributes the cross-entropy
    term ``y·log p + (1 − y)·log(1 − p)`` (Christiano et al. 2017), averaged over pairs.
    ``G`` is the partial return ``Σ_t r(s_t, a_t, s_{t+1})`` or, for ``model="regret"``,
    ``−Σ_t (V*(s_t) − Q*(s_t, a_t))`` (Knox et al. 2022). For the regret model, ``Q*`` and
    ``V*`` are exact (value iteration, not differentiable) without ``temperature``; with
    it they are the soft ones, ``V(s) = τ log Σ_a exp(Q(s, a)/τ)`` after ``n_iterations``
    sweeps (:func:`rewardviz.reward_learning._common.soft_q_values`), which ``jax.grad``
    differentiates through and which tend to the exact ones as ``τ → 0``.

    Args:
        mdp: the MDP.
        reward: ``[..., S, A, S']``; its batch dimensions broadcast with the dataset's.
        preferences: the dataset.
        model: one of :data:`~rewardviz.reward_learning.preferences.MODELS`.
        beta: ``β > 0``, the model's temperature.
        temperature: ``τ > 0`` for the soft regret model; ``None`` for the exact one.
        n_iterations: soft value-iteration sweeps (default 100; with ``γ < 1`` the values
            err by at most ``γⁿ`` of their size). Used only with ``temperature``.

    Example:
        >>> mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
        >>> data = sample_preferences(mdp, reward, rv.policies.uniform(mdp), n_pairs=100,
        ...                           segment_length=3)
        >>> log_likelihood(mdp, reward, data, model="partial_return")  # doctest: +SKIP
    """
    preferences = _dataset(mdp, preferences)
    model = _checks.one_of("model", model, MODELS)
    beta = _checks.positive_number("beta", beta, "the preference temperature")
    reward = check_reward(mdp, reward)
    segments = (preferences.states, preferences.actions, preferences.mask)
    if model == "partial_return":
        scores = segment_returns(mdp, reward, *segments)
    elif temperature is None:
        scores = -segment_regrets(mdp, reward, *segments)
    else:
        temperature = _checks.positive_number("temperature", temperature, "of the soft values")
        n_iterations = _checks.positive_int(
            "n_iterations", 100 if n_iterations is None else n_iterations, "soft sweeps"
        )
        scores = _soft_regret_scores(mdp, reward, segments, temperature, n_iterations)
    weights = jnp.ones(preferences.labels.shape, scores.dtype)
    return _mean_log_likelihood(scores, preferences.labels, jnp.asarray(beta), weights)


def fit_preferences(
    mdp: TabularMDP,
    preferences: Preferences,
    *,
    model: str = "partial_return",
    form: str = "state_action",
    beta: float = 1.0,
    l2: float = 0.0,
    sizes=None,
    n_steps: int = 300,
    learning_rate: float = 0.05,
    temperature: float = 0.05,
    n_iterations: int = 100,
    seed: int | jax.Array = 0,
) -> _common.FittedRewards:
    """Maximum-likelihood rewards from preferences, for every seed and dataset size at once.

    Minimises ``−(1/m) Σ_{i<m} [y_i log p_i + (1 − y_i) log(1 − p_i)] + l2·‖θ‖²`` over the
    parameters ``θ`` of a reward of ``form`` (``p_i`` as in :func:`log_likelihood`: the
    Bradley–Terry model of Christiano et al. 2017, or Knox et al. 2022's regret model),
    for each dataset along the seeds axis and each size ``m`` in ``sizes`` (its first ``m``
    pairs), with ``n_steps`` full-batch steps of Adam (Kingma & Ba 2015; ``optax.adam``)
    from ``θ ~ N(0, 0.01²)`` drawn per dataset (the same start for every size). One jitted
    program: ``vmap`` over seeds and sizes, ``lax.scan`` over steps; a size is a mask on the
    pairs, so every size has the same shapes. The regret model differentiates through
    ``n_iterations`` sweeps of soft value iteration at ``temperature``
    (:func:`rewardviz.reward_learning._common.soft_q_values`).

    What the data identify: Bradley–Terry labels see only differences of segment scores,
    so the fit is blind to adding a constant to the reward (both segments of a pair take
    the same number of steps; ``l2`` pins it) and, under the regret model, to potential
    shaping. ``"state_action"`` (the default) is identifiable from partial returns up to
    that constant once the segments visit every state-action pair in varied combinations:
    ``S·A`` parameters, each seen often, and enough for every policy question (optimal
    policies and regret depend on the reward only through ``r(s, a)``).
    ``"transition"`` has a parameter per ``(s, a, s')``, and a transition the segments
    rarely take stays near its start; ``"state"`` pays on entering a state and cannot
    express rewards that depend on the action. Compare a ``"state_action"`` fit with a
    true reward that depends on ``s'`` through STARC (invariant to S'-redistribution), not
    EPIC.

    Deterministic labels (``β = 0`` in
    :func:`~rewardviz.reward_learning.preferences.label_preferences`) say which segment is
    better, not by how much: many rewards order every pair correctly, and maximum
    likelihood picks a large-margin one, not the true one (STARC can stay near 1 however
    long the fit runs). The Bradley–Terry noise carries the magnitudes: fit soft labels
    with the labeller's ``β``.

    Args:
        mdp: the MDP.
        preferences: ``n`` pairs, with at most one leading (seeds) axis.
        model: the model fitted, one of
            :data:`~rewardviz.reward_learning.preferences.MODELS` (need not be the one
            that made the labels: that is the identifiability experiment).
        form: one of :data:`~rewardviz.reward_learning._common.FORMS`.
        beta: ``β > 0`` of the fitted model.
        l2: penalty weight ``>= 0``.
        sizes: dataset sizes ``1 <= m <= n``; ``(n,)`` by default.
        n_steps: optimiser steps.
        learning_rate: Adam's step size.
        temperature: ``τ > 0`` of the soft values (regret model only).
        n_iterations: soft value-iteration sweeps (regret model only).
        seed: an integer or a ``jax.random`` key for the initial parameters (dataset ``i``
            starts from ``jax.random.fold_in(key, i)``).

    Returns:
        :class:`~rewardviz.reward_learning._common.FittedRewards` with rewards
        ``[n_seeds, n_sizes, S, A, S']`` and losses ``[n_seeds, n_sizes, n_steps]`` (the
        loss after each step).

    Example:
        >>> mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
        >>> data = sample_preferences(mdp, reward, rv.policies.uniform(mdp), n_pairs=400,
        ...                           segment_length=3, n_seeds=4)
        >>> fitted = fit_preferences(mdp, data, sizes=(25, 100, 400))
        >>> fitted.rewards.shape
        (4, 3, 5, 2, 5)
    """
    preferences = _dataset(mdp, preferences)
    if preferences.labels.ndim == 1:
        preferences = jax.tree_util.tree_map(lambda leaf: leaf[None], preferences)
    if preferences.labels.ndim != 2:
        raise ValueError(
            "preferences must have at most one leading (seeds) axis: labels [n_seeds, n], "
            f"got labels of shape {tuple(preferences.labels.shape)}."
        )
    model = _checks.one_of("model", model, MODELS)
    form = _checks.one_of("form", form, _common.FORMS)
    beta = _checks.positive_number("beta", beta, "the preference temperature")
    l2 = float(l2)
    if not np.isfinite(l2) or l2 < 0:
        raise ValueError(f"l2 must be a finite number >= 0 (the penalty weight), got {l2!r}.")
    n_pairs = preferences.n_pairs
    sizes = _common.check_sizes(sizes, n_pairs, "pairs")
    n_steps = _checks.positive_int("n_steps", n_steps, "optimiser steps")
    learning_rate = _checks.positive_number("learning_rate", learning_rate, "Adam's step size")
    temperature = _checks.positive_number("temperature", temperature, "of the soft values")
    n_iterations = _checks.positive_int("n_iterations", n_iterations, "soft sweeps")
    key = _checks.key("seed", seed)

    dtype = jnp.result_type(mdp.transitions, preferences.labels)
    n_seeds = preferences.labels.shape[0]
    starts = jax.vmap(
        lambda i: (
            _INITIAL_SCALE
            * jax.random.normal(
                jax.random.fold_in(key, i), (_common.n_parameters(form, mdp),), dtype
            )
        )
    )(jnp.arange(n_seeds))
    rewards, losses = _fit(
        mdp,
        preferences.states,
        preferences.actions,
        preferences.mask,
        preferences.labels.astype(dtype),
        jnp.asarray(sizes),
        starts,
        *(jnp.asarray(value, dtype) for value in (beta, l2, learning_rate, temperature)),
        model=model,
        form=form,
        n_steps=n_steps,
        n_iterations=n_iterations,
    )
    return _common.FittedRewards(rewards=rewards, losses=losses, sizes=sizes, form=form)


# ---------------------------------------------------------------------------
# Kernels.


def _pair_log_likelihoods(scores, labels, beta):
    """``[..., n]`` ``y log p + (1 − y) log(1 − p)`` with ``p = sigmoid((G0 − G1)/β)``."""
    logit = (scores[..., 0] - scores[..., 1]) / beta
    # log_sigmoid(−z) = log(1 − sigmoid(z)) without the cancellation of 1 − p near p = 1.
    return labels * jax.nn.log_sigmoid(logit) + (1 - labels) * jax.nn.log_sigmoid(-logit)


@jax.jit
def _mean_log_likelihood(scores, labels, beta, weights):
    terms = _pair_log_likelihoods(scores, labels, beta.astype(scores.dtype))
    return jnp.sum(weights * terms, axis=-1) / jnp.sum(weights, axis=-1)


def _scores(mdp, reward, states, actions, mask, temperature, *, model, n_iterations):
    """``[n, 2]`` segment scores of one reward ``[S, A, S']`` on one dataset: the partial
    return, or minus the soft regret ``Σ_t (V(s_t) − Q(s_t, a_t))``."""
    if model == "partial_return":
        steps = reward[states[..., :-1], actions, states[..., 1:]]
    else:
        q = _common.soft_q_values(mdp, reward, temperature, n_iterations)
        values = temperature * jax.nn.logsumexp(q / temperature, axis=-1)
        here = states[..., :-1]
        steps = q[here, actions] - values[here]
    return jnp.sum(jnp.where(mask, steps, 0), axis=-1)


@partial(jax.jit, static_argnames=("n_iterations",))
def _soft_regret_batch(mdp, rewards, states, actions, mask, temperature, n_iterations):
    def one(reward, states, actions, mask):
        return _scores(
            mdp,
            reward,
            states,
            actions,
            mask,
            temperature,
            model="regret",
            n_iterations=n_iterations,
        )

    return jax.vmap(one)(rewards, states, actions, mask)


def _soft_regret_scores(mdp, reward, segments, temperature, n_iterations):
    """``[..., n, 2]`` minus the soft regrets, the batches of reward and segments broadcast."""
    states, actions, mask = segments
    try:
        batch = jnp.broadcast_shapes(reward.shape[:-3], states.shape[:-3])
    except ValueError as error:
        raise ValueError(
            f"the batch shapes of reward {reward.shape[:-3]} and of preferences "
            f"{states.shape[:-3]} do not broadcast."
        ) from error

    def flat(array, rank):
        tail = array.shape[-rank:]
        return jnp.broadcast_to(array, (*batch, *tail)).reshape(-1, *tail)

    temperature = jnp.asarray(temperature, reward.dtype)
    scores = _soft_regret_batch(
        mdp,
        flat(reward, 3),
        flat(states, 3),
        flat(actions, 3),
        flat(mask, 3),
        temperature,
        n_iterations,
    )
    return scores.reshape(*batch, *scores.shape[-2:])


@partial(jax.jit, static_argnames=("model", "form", "n_steps", "n_iterations"))
def _fit(
    mdp,
    states,
    actions,
    mask,
    labels,
    sizes,
    starts,
    beta,
    l2,
    learning_rate,
    temperature,
    *,
    model,
    form,
    n_steps,
    n_iterations,
):
    """Rewards ``[N, M, S, A, S']`` and losses ``[N, M, n_steps]`` for datasets ``[N, ...]``
    and sizes ``[M]``."""
    optimiser = optax.adam(learning_rate)
    pairs = jnp.arange(labels.shape[-1])

    def loss(theta, states, actions, mask, labels, weights):
        reward = _common.expand(theta, form, mdp)
        scores = _scores(
            mdp, reward, states, actions, mask, temperature, model=model, n_iterations=n_iterations
        )
        terms = _pair_log_likelihoods(scores, labels, beta)
        return -jnp.sum(weights * terms) / jnp.sum(weights) + l2 * jnp.sum(theta**2)

    def fit_one(states, actions, mask, labels, size, theta):
        data = (states, actions, mask, labels, (pairs < size).astype(labels.dtype))

        def step(carry, _):
            theta, state = carry
            value, gradient = jax.value_and_grad(loss)(theta, *data)
            updates, state = optimiser.update(gradient, state, theta)
            return (optax.apply_updates(theta, updates), state), value

        (theta, _), before = jax.lax.scan(
            step, (theta, optimiser.init(theta)), None, length=n_steps
        )
        # The scan saw the loss before each step; shift by one for the loss after it.
        after = jnp.concatenate([before[1:], loss(theta, *data)[None]])
        return _common.expand(theta, form, mdp), after

    over_sizes = jax.vmap(fit_one, in_axes=(None, None, None, None, 0, None))
    return jax.vmap(over_sizes, in_axes=(0, 0, 0, 0, None, 0))(
        states, actions, mask, labels, sizes, starts
    )


# ---------------------------------------------------------------------------
# Boundary checks.


def _dataset(mdp, preferences) -> Preferences:
    if not isinstance(preferences, Preferences):
        raise TypeError(
            "preferences must be a rewardviz.reward_learning.Preferences (from "
            f"sample_preferences or label_preferences), got {type(preferences).__name__}."
        )
    return preferences.check(mdp)
