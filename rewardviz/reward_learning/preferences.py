"""Preference data on a tabular MDP: pairs of trajectory segments and who prefers which.

A dataset is ``n`` pairs of segments of ``k`` steps, each sampled by running a policy in the
MDP, and one label per pair: the probability that segment 0 is preferred to segment 1 under
a preference model of a (simulated) person who knows the true reward. Two models, both
Bradley–Terry ``P(σ0 ≻ σ1) = sigmoid((G(σ0) − G(σ1))/β)`` (Bradley & Terry 1952):

- partial return (Christiano et al. 2017): ``G(σ) = Σ_t r(s_t, a_t, s_{t+1})``;
- regret (Knox et al. 2022, "Models of human preference for learning reward functions"):
  ``G(σ) = −regret(σ) = Σ_t A*(s_t, a_t)``, the segment's summed optimal advantages.

``β → 0`` gives deterministic labels (0 or 1, ½ on ties) and a flip rate flips a fraction
of the labels at random. Datasets are arrays (``Preferences``), reproducible from a seed
and batched over seeds; everything here is sampled with explicit ``jax.random`` keys in one
jitted call (``lax.scan`` over steps, ``vmap`` over seeds). Fitting a reward to the labels
is :mod:`rewardviz.reward_learning.fit`; this module does not fit or draw.

Terminal states are absorbing as in :mod:`rewardviz.solve`: a segment that enters one stays
there, and its later steps are padding (``mask`` false) that count for nothing.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, _kernels
from rewardviz import solve as solvers
from rewardviz.mdp import TabularMDP
from rewardviz.policies import as_stochastic
from rewardviz.rewards import check_reward

__all__ = [
    "MODELS",
    "STARTS",
    "Preferences",
    "label_preferences",
    "preference_probabilities",
    "sample_preferences",
    "sample_segments",
    "segment_regrets",
    "segment_returns",
]

#: The preference models, by the name ``model=`` takes.
MODELS = ("partial_return", "regret")
#: Where segments start: uniformly over the non-terminal states, or from ``mdp.initial``.
STARTS = ("uniform", "initial")


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["states", "actions", "mask", "labels"],
    meta_fields=["model", "beta", "flip_rate"],
)
@dataclasses.dataclass(frozen=True, eq=False)
class Preferences:
    """Pairs of trajectory segments and preference labels: :func:`sample_preferences`.

    Attributes:
        states: ``int32 [..., n, 2, k + 1]`` each segment's states ``s_0 … s_k``.
        actions: ``int32 [..., n, 2, k]`` its actions ``a_0 … a_{k−1}``.
        mask: ``bool [..., n, 2, k]`` whether step ``t`` is taken from a non-terminal state;
            steps after the segment entered a terminal state are padding and count for
            nothing.
        labels: ``[..., n]`` ``P(σ0 ≻ σ1)``, the probability that segment 0 is preferred,
            used as the target of fitting (0 or 1 when deterministic, ½ on a tie).
        model: the preference model that made the labels (one of :data:`MODELS`).
        beta: its temperature ``β`` (0: deterministic labels).
        flip_rate: the probability with which each label was flipped to ``1 − label``.
    """

    states: jax.Array
    actions: jax.Array
    mask: jax.Array
    labels: jax.Array
    model: str = "partial_return"
    beta: float = 1.0
    flip_rate: float = 0.0

    @property
    def n_pairs(self) -> int:
        """``n``, the number of segment pairs (per seed)."""
        return self.labels.shape[-1]

    @property
    def segment_length(self) -> int:
        """``k``, the number of steps of each segment."""
        return self.actions.shape[-1]

    def check(self, mdp: TabularMDP) -> Preferences:
        """This dataset checked against ``mdp``, arrays as ``int32``/``bool``/float.

        Raises ``ValueError`` naming the field when the shapes disagree, the dataset is
        empty, a state or action is out of range for ``mdp``, or a label lies outside
        ``[0, 1]``; ``TypeError`` when states or actions are not integers.
        """
        _check_mdp(mdp)
        states, actions, mask = _check_segments(mdp, self.states, self.actions, self.mask)
        labels = _check_labels(self.labels, states.shape[:-2])
        return dataclasses.replace(self, states=states, actions=actions, mask=mask, labels=labels)

    def to_frame(self):
        """A tidy ``pandas.DataFrame``, one row per seed, pair, segment and step.

        Columns: ``seed`` (the flattened leading axes; 0 when there are none), ``pair``,
        ``segment`` (0 or 1), ``step``, ``state``, ``action``, ``next_state``, ``valid``
        (the mask) and ``label`` (the pair's label, repeated on each of its rows).
        """
        import pandas as pd

        states = np.asarray(self.states)
        n, k = self.n_pairs, self.segment_length
        states = states.reshape(-1, n, 2, k + 1)
        n_seeds = states.shape[0]
        index = np.indices((n_seeds, n, 2, k)).reshape(4, -1)
        labels = np.asarray(self.labels).reshape(n_seeds, n)
        return pd.DataFrame(
            {
                "seed": index[0],
                "pair": index[1],
                "segment": index[2],
                "step": index[3],
                "state": states[..., :-1].ravel(),
                "action": np.asarray(self.actions).ravel(),
                "next_state": states[..., 1:].ravel(),
                "valid": np.asarray(self.mask).ravel(),
                "label": labels[index[0], index[1]],
            }
        )

    def __repr__(self) -> str:
        labels, actions = np.shape(self.labels), np.shape(self.actions)
        seeds = f"{labels[:-1]} × " if labels[:-1] else ""
        return (
            f"Preferences({seeds}{labels[-1]} pairs of {actions[-1]}-step segments, "
            f"model={self.model!r}, beta={self.beta:g}, flip_rate={self.flip_rate:g})"
        )


# ---------------------------------------------------------------------------
# Public functions: validate, then call a jitted kernel.


def sample_segments(
    mdp: TabularMDP,
    policy,
    *,
    n_pairs: int,
    segment_length: int,
    seed: int | jax.Array = 0,
    n_seeds: int | None = None,
    start: str = "uniform",
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Sample ``n_pairs`` pairs of ``segment_length``-step segments by running ``policy``.

    Each segment starts in ``s_0`` drawn uniformly from the non-terminal states
    (``start="uniform"``: every state is compared, as in Knox et al. 2022) or from
    ``mdp.initial`` (``start="initial"``), then takes ``a_t ~ π(·|s_t)`` and
    ``s_{t+1} ~ T(·|s_t, a_t)``. Once in a terminal state it stays there: the remaining
    steps have ``mask`` false and action 0.

    Args:
        mdp: the MDP.
        policy: ``[S, A]`` action probabilities (or ``[S]`` integer actions), or a batch
            ``[P, S, A]`` of policies (uniform, optimal, ε-greedy, your own): each segment
            runs one policy of the batch drawn uniformly at random.
        n_pairs: pairs per dataset, ``>= 1``.
        segment_length: steps per segment ``k``, ``>= 1``.
        seed: an integer or a ``jax.random`` key.
        n_seeds: with a count, ``n_seeds`` datasets along a leading axis; dataset ``i``
            uses the key ``jax.random.fold_in(key, i)``. Without one, the single dataset
            is dataset 0 of that batch (``n_seeds=None`` equals ``[0]`` of any batch).
        start: one of :data:`STARTS`.

    Returns:
        ``(states, actions, mask)``: ``int32 [..., n, 2, k + 1]``, ``int32 [..., n, 2, k]``,
        ``bool [..., n, 2, k]``, with a leading ``[n_seeds]`` axis when ``n_seeds`` is given.

    Example:
        >>> mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
        >>> states, actions, mask = sample_segments(
        ...     mdp, rv.policies.uniform(mdp), n_pairs=100, segment_length=3
        ... )
        >>> states.shape
        (100, 2, 4)
    """
    _check_mdp(mdp)
    policies = _policies(mdp, policy)
    n_pairs = _checks.positive_int("n_pairs", n_pairs, "pairs of segments")
    segment_length = _checks.positive_int("segment_length", segment_length, "steps per segment")
    keys = _dataset_keys(seed, n_seeds)
    start_dist = _start_distribution(mdp, _checks.one_of("start", start, STARTS))
    states, actions, mask = _sample(
        mdp, policies, start_dist, keys, n_pairs=n_pairs, segment_length=segment_length
    )
    if n_seeds is None:
        return states[0], actions[0], mask[0]
    return states, actions, mask


def segment_returns(mdp: TabularMDP, reward, states, actions, mask) -> jax.Array:
    """Partial return ``G(σ) = Σ_t r(s_t, a_t, s_{t+1})`` of each segment, ``[..., n, 2]``.

    Undiscounted, over the valid steps only (Christiano et al. 2017; the partial return of
    Knox et al. 2022). The batch dimensions of ``reward`` (``[..., S, A, S']``) and of the
    segments broadcast.

    Example:
        >>> mdp, reward = rv.envs.stay_switch()
        >>> segment_returns(mdp, reward, [[[0, 1, 0], [0, 0, 0]]], [[[1, 1], [0, 0]]],
        ...                 np.ones((1, 2, 2), bool))  # [[1, 0]]  # doctest: +SKIP
    """
    _check_mdp(mdp)
    reward = check_reward(mdp, reward)
    states, actions, mask = _check_segments(mdp, states, actions, mask)
    return _batched(_returns, reward, 3, (states, actions, mask))


def segment_regrets(mdp: TabularMDP, reward, states, actions, mask) -> jax.Array:
    """Regret of each segment, ``[..., n, 2]``: its summed optimal disadvantages.

    ``regret(σ) = Σ_t (V*(s_t) − Q*(s_t, a_t)) = −Σ_t A*(s_t, a_t)`` over the valid steps:
    the regret of Knox et al. (2022, "Models of human preference for learning reward
    functions", the form for stochastic transitions), with ``V*`` and ``Q*`` the exact
    optimal values of ``reward`` (:func:`rewardviz.solve.value_iteration`), discounted by
    ``mdp.gamma``, and ``Q*(s, a) = r(s, a) + γ Σ_s' T(s'|s, a) V*(s')`` built on the
    expected reward ``r(s, a)``. It is 0 exactly when every action of the segment is
    optimal, and positive otherwise.

    With deterministic transitions ``Q*(s_t, a_t) = r_t + γV*(s_{t+1})`` and the sum is
    ``V*(s_0) − Σ_t r_t + (1 − γ) Σ_{t=1}^{k−1} V*(s_t) − γV*(s_k)``; for ``γ = 1`` this is
    Knox et al.'s deterministic form ``V*(s_0) − (Σ_t r_t + V*(s_k))``: what the segment's
    start promised minus what the segment collected and left in reach. (With stochastic
    transitions the sampled ``r_t + γV*(s_{t+1})`` differs from ``Q*`` by luck, which the
    regret does not count.)

    Example:
        >>> mdp, reward = rv.envs.stay_switch()
        >>> segment_regrets(mdp, reward, [[[0, 0, 1, 1], [0, 1, 0, 1]]],
        ...                 [[[0, 1, 0], [1, 1, 1]]], np.ones((1, 2, 3), bool))
        ... # [[1, 0]]: staying in 0 and in 1 costs 1/(1+γ) + γ/(1+γ)  # doctest: +SKIP
    """
    _check_mdp(mdp)
    reward = check_reward(mdp, reward)
    states, actions, mask = _check_segments(mdp, states, actions, mask)
    q = solvers.q_values(mdp, reward)
    return _batched(_regrets, q, 2, (states, actions, mask))


def preference_probabilities(
    mdp: TabularMDP, reward, preferences_or_arrays, *, model: str, beta: float
) -> jax.Array:
    """``P(σ0 ≻ σ1)`` for each pair, ``[..., n]``, under a Bradley–Terry preference model.

    ``P(σ0 ≻ σ1) = sigmoid((G(σ0) − G(σ1))/β)`` (Bradley & Terry 1952) with ``G`` the partial
    return (:func:`segment_returns`, Christiano et al. 2017) for ``model="partial_return"``
    or minus the regret (:func:`segment_regrets`, Knox et al. 2022) for ``model="regret"``.
    ``beta = 0`` is the limit ``β → 0``: 1 or 0 for the better segment, ½ on a tie (``G``
    equal to within ``1000·eps·max(1, |G(σ0)|, |G(σ1)|)``).

    Args:
        mdp: the MDP.
        reward: ``[..., S, A, S']``, batch dimensions broadcast with the segments'.
        preferences_or_arrays: a :class:`Preferences` (its labels are ignored) or a tuple
            ``(states, actions, mask)`` from :func:`sample_segments`.
        model: one of :data:`MODELS`.
        beta: ``β >= 0``.
    """
    _check_mdp(mdp)
    model = _checks.one_of("model", model, MODELS)
    beta = _beta(beta)
    if isinstance(preferences_or_arrays, Preferences):
        segments = (
            preferences_or_arrays.states,
            preferences_or_arrays.actions,
            preferences_or_arrays.mask,
        )
    elif isinstance(preferences_or_arrays, tuple | list) and len(preferences_or_arrays) == 3:
        segments = tuple(preferences_or_arrays)
    else:
        raise TypeError(
            "preferences_or_arrays must be a Preferences or a tuple (states, actions, mask), "
            f"got {type(preferences_or_arrays).__name__}."
        )
    scores = _scores(mdp, reward, *segments, model=model)
    return _bradley_terry(scores, jnp.asarray(beta, scores.dtype), deterministic=beta == 0)


def label_preferences(
    mdp: TabularMDP,
    reward,
    states,
    actions,
    mask,
    *,
    model: str = "partial_return",
    beta: float = 1.0,
    flip_rate: float = 0.0,
    seed: int | jax.Array = 0,
    binary: bool = False,
) -> Preferences:
    """Label pairs of segments with a preference model of ``reward``: a :class:`Preferences`.

    The label of a pair is ``P(σ0 ≻ σ1)`` (:func:`preference_probabilities`): the target a
    crowd of annotators following the model would give on average, so that fitting the
    same model recovers the reward up to what the model cannot see. ``beta=0`` gives
    deterministic labels (0/1, ½ on ties). Noise:

    - ``binary=True`` draws each label as one annotator's 0/1 choice, ``Bernoulli(P)``;
    - ``flip_rate`` ``ε`` then replaces each label by ``1 − label`` with probability ``ε``
      (independently per pair), a mistaken or adversarial annotator.

    Args:
        mdp: the MDP.
        reward: the true reward ``[S, A, S']`` (or a batch broadcasting with the segments).
        states, actions, mask: segments from :func:`sample_segments`.
        model: one of :data:`MODELS`.
        beta: ``β >= 0``.
        flip_rate: ``ε`` in ``[0, 0.5]`` (beyond ½ the labels say the opposite).
        seed: an integer or a ``jax.random`` key for the flips and the binary draws.
        binary: draw 0/1 labels instead of using the probabilities.

    Example:
        >>> mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
        >>> segments = sample_segments(mdp, rv.policies.uniform(mdp), n_pairs=50,
        ...                            segment_length=3)
        >>> label_preferences(mdp, reward, *segments, model="regret", beta=0.5)
        Preferences(50 pairs of 3-step segments, model='regret', beta=0.5, flip_rate=0)
    """
    _check_mdp(mdp)
    model = _checks.one_of("model", model, MODELS)
    beta = _beta(beta)
    flip_rate = _checks.in_range(
        "flip_rate", flip_rate, 0.0, 0.5, hint="It is the probability of flipping a label."
    )
    key = _checks.key("seed", seed)
    states, actions, mask = _check_segments(mdp, states, actions, mask)
    scores = _scores(mdp, reward, states, actions, mask, model=model)
    labels = _noisy_labels(
        scores,
        jnp.asarray(beta, scores.dtype),
        jnp.asarray(flip_rate, scores.dtype),
        key,
        deterministic=beta == 0,
        binary=bool(binary),
    )
    batch = labels.shape[:-1]
    return Preferences(
        states=jnp.broadcast_to(states, (*batch, *states.shape[-3:])),
        actions=jnp.broadcast_to(actions, (*batch, *actions.shape[-3:])),
        mask=jnp.broadcast_to(mask, (*batch, *mask.shape[-3:])),
        labels=labels,
        model=model,
        beta=beta,
        flip_rate=flip_rate,
    )


def sample_preferences(
    mdp: TabularMDP,
    reward,
    policy,
    *,
    n_pairs: int,
    segment_length: int,
    model: str = "partial_return",
    beta: float = 1.0,
    flip_rate: float = 0.0,
    seed: int | jax.Array = 0,
    n_seeds: int | None = None,
    start: str = "uniform",
    binary: bool = False,
) -> Preferences:
    """Sample segments (:func:`sample_segments`) and label them (:func:`label_preferences`).

    The key from ``seed`` is split in two: one for the segments, one for the labels' noise.

    Example:
        >>> mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
        >>> data = sample_preferences(mdp, reward, rv.policies.uniform(mdp), n_pairs=200,
        ...                           segment_length=3, n_seeds=8)
        >>> data.labels.shape
        (8, 200)
    """
    segment_key, label_key = jax.random.split(_checks.key("seed", seed))
    segments = sample_segments(
        mdp,
        policy,
        n_pairs=n_pairs,
        segment_length=segment_length,
        seed=segment_key,
        n_seeds=n_seeds,
        start=start,
    )
    return label_preferences(
        mdp,
        reward,
        *segments,
        model=model,
        beta=beta,
        flip_rate=flip_rate,
        seed=label_key,
        binary=binary,
    )


# ---------------------------------------------------------------------------
# Kernels on one reward and one dataset (batched by the callers with vmap).


def _returns(reward, states, actions, mask):
    """``[n, 2]`` masked sums of ``reward[s_t, a_t, s_{t+1}]``."""
    steps = reward[states[..., :-1], actions, states[..., 1:]]
    return jnp.sum(jnp.where(mask, steps, 0), axis=-1)


def _regrets(q, states, actions, mask):
    """``[n, 2]`` masked sums of ``max_a q[s_t, a] − q[s_t, a_t]``."""
    return _disadvantages(q, jnp.max(q, axis=-1), states, actions, mask)


def _disadvantages(q, v, states, actions, mask):
    """``[n, 2]`` masked sums of ``v[s_t] − q[s_t, a_t]`` (exact or soft values)."""
    here = states[..., :-1]
    steps = v[here] - q[here, actions]
    return jnp.sum(jnp.where(mask, steps, 0), axis=-1)


@partial(jax.jit, static_argnames=("kernel",))
def _vmapped(kernel, table, states, actions, mask):
    return jax.vmap(kernel)(table, states, actions, mask)


def _batched(kernel, table, table_rank, segments):
    """Apply ``kernel`` to every pair of a table ``[..., *table_dims]`` and segment arrays
    ``[..., n, 2, ·]`` whose batch dimensions broadcast, in one vmapped call."""
    states, actions, mask = segments
    try:
        batch = jnp.broadcast_shapes(table.shape[:-table_rank], states.shape[:-3])
    except ValueError as error:
        raise ValueError(
            f"the batch shapes of the reward {table.shape[:-table_rank]} and of the "
            f"segments {states.shape[:-3]} do not broadcast."
        ) from error

    def flat(array, rank):
        return jnp.broadcast_to(array, (*batch, *array.shape[-rank:])).reshape(
            -1, *array.shape[-rank:]
        )

    result = _vmapped(
        kernel, flat(table, table_rank), flat(states, 3), flat(actions, 3), flat(mask, 3)
    )
    return result.reshape(*batch, *result.shape[-2:])


def _scores(mdp, reward, states, actions, mask, *, model):
    """``[..., n, 2]`` ``G(σ)`` of each segment: partial return, or minus the regret."""
    reward = check_reward(mdp, reward)
    states, actions, mask = _check_segments(mdp, states, actions, mask)
    if model == "partial_return":
        return segment_returns(mdp, reward, states, actions, mask)
    return -segment_regrets(mdp, reward, states, actions, mask)


@partial(jax.jit, static_argnames=("deterministic",))
def _bradley_terry(scores, beta, *, deterministic):
    """``[..., n]`` ``sigmoid((G0 − G1)/β)``, or its limit ``β → 0`` with ties at ½."""
    difference = scores[..., 0] - scores[..., 1]
    if not deterministic:
        return jax.nn.sigmoid(difference / beta)
    scale = jnp.maximum(1, jnp.max(jnp.abs(scores), axis=-1))
    tie = jnp.abs(difference) <= _kernels.zero_tolerance(scores.dtype) * scale
    return jnp.where(tie, 0.5, (difference > 0).astype(scores.dtype))


@partial(jax.jit, static_argnames=("deterministic", "binary"))
def _noisy_labels(scores, beta, flip_rate, key, *, deterministic, binary):
    labels = _bradley_terry(scores, beta, deterministic=deterministic)
    draw_key, flip_key = jax.random.split(key)
    if binary:
        labels = (jax.random.uniform(draw_key, labels.shape, labels.dtype) < labels).astype(
            labels.dtype
        )
    flips = jax.random.uniform(flip_key, labels.shape, labels.dtype) < flip_rate
    return jnp.where(flips, 1 - labels, labels)


@partial(jax.jit, static_argnames=("n_pairs", "segment_length"))
def _sample(mdp, policies, start_dist, keys, *, n_pairs, segment_length):
    """``states [B, n, 2, k + 1]``, ``actions``, ``mask [B, n, 2, k]`` for keys ``[B]``.

    One uniform draw per dataset, ``[k + 1, n, 2, 2]`` (the policy and the start state,
    then an action and a successor per step), turned into indices by inverse CDFs: one
    random call site rather than one per draw keeps the program small to compile.
    """
    dtype = mdp.dtype
    policy_cdf, policy_last = _inverse_cdf(policies.astype(dtype))
    next_cdf, next_last = _inverse_cdf(mdp.transitions)
    start_cdf, start_last = _inverse_cdf(start_dist.astype(dtype))
    n_policies = policies.shape[0]

    def dataset(key):
        uniforms = jax.random.uniform(key, (segment_length + 1, n_pairs, 2, 2), dtype)
        which = jnp.minimum(jnp.floor(uniforms[0, ..., 0] * n_policies), n_policies - 1)
        which = which.astype(jnp.int32)
        first = _draw(start_cdf, start_last, uniforms[0, ..., 1])

        def step(state, u):
            live = ~mdp.terminal[state]
            action = _draw(policy_cdf[which, state], policy_last[which, state], u[..., 0])
            successor = _draw(next_cdf[state, action], next_last[state, action], u[..., 1])
            action = jnp.where(live, action, 0)
            successor = jnp.where(live, successor, state)
            return successor, (action, successor, live)

        _, (actions, successors, live) = jax.lax.scan(step, first, uniforms[1:])
        states = jnp.concatenate([first[None], successors])  # time first: [k + 1, n, 2]
        return (
            jnp.moveaxis(states, 0, -1),
            jnp.moveaxis(actions, 0, -1),
            jnp.moveaxis(live, 0, -1),
        )

    return jax.vmap(dataset)(keys)


def _inverse_cdf(probabilities):
    """Cumulative probabilities ``[..., m]`` and the last index of positive probability."""
    m = probabilities.shape[-1]
    last = m - 1 - jnp.argmax(jnp.flip(probabilities, -1) > 0, axis=-1)
    return jnp.cumsum(probabilities, axis=-1), last.astype(jnp.int32)


def _draw(cumulative, last, uniform):
    """The first index whose cumulative probability exceeds ``uniform`` in ``[0, 1)``,
    clamped to the last index of positive probability (where rounding leaves the total
    just below 1): an index of probability 0 is never drawn."""
    index = jnp.sum(cumulative <= uniform[..., None], axis=-1).astype(jnp.int32)
    return jnp.minimum(index, last)


# ---------------------------------------------------------------------------
# Boundary checks.


def _check_mdp(mdp) -> None:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")


def _beta(beta) -> float:
    beta = float(beta)
    if not np.isfinite(beta) or beta < 0:
        raise ValueError(
            f"beta must be a finite number >= 0 (the preference temperature; 0 for "
            f"deterministic labels), got {beta!r}."
        )
    return beta


def _dataset_keys(seed, n_seeds) -> jax.Array:
    """``[n_seeds]`` keys ``fold_in(key, i)`` (one, ``i = 0``, without ``n_seeds``)."""
    key = _checks.key("seed", seed)
    count = 1 if n_seeds is None else _checks.positive_int("n_seeds", n_seeds, "datasets")
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(count))


def _policies(mdp, policy) -> jax.Array:
    """The policy batch ``[P, S, A]``."""
    policies = as_stochastic(mdp, policy)
    if policies.ndim == 2:
        return policies[None]
    if policies.ndim != 3 or policies.shape[0] == 0:
        raise ValueError(
            f"policy must be one policy [S, A] or a non-empty batch [P, S, A], got shape "
            f"{tuple(policies.shape)}."
        )
    return policies


def _start_distribution(mdp, start) -> jax.Array:
    if start == "initial":
        return mdp.initial
    live = ~np.asarray(mdp.terminal)
    if not live.any():
        raise ValueError(
            "every state of mdp is terminal, so no segment can take a step; "
            "mark fewer states terminal."
        )
    return jnp.asarray(live / live.sum(), mdp.dtype)


def _check_segments(mdp, states, actions, mask):
    """``(states, actions, mask)`` as ``int32``, ``int32``, ``bool`` arrays, checked."""
    arrays = {}
    for name, value in (("states", states), ("actions", actions)):
        host = np.asarray(value)
        if not np.issubdtype(host.dtype, np.integer):
            raise TypeError(f"{name} must hold integers (indices), got dtype {host.dtype}.")
        arrays[name] = host
    states, actions = arrays["states"], arrays["actions"]
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        if not (np.issubdtype(mask.dtype, np.integer) and np.isin(mask, (0, 1)).all()):
            raise TypeError(f"mask must be boolean, got dtype {mask.dtype}.")
        mask = mask.astype(bool)
    if states.ndim < 3 or states.shape[-2] != 2 or states.shape[-1] < 2:
        raise ValueError(
            f"states must have shape [..., n, 2, k + 1] with k >= 1 (a pair of segments of k "
            f"steps per row), got {states.shape}."
        )
    expected = (*states.shape[:-1], states.shape[-1] - 1)
    for name, array in (("actions", actions), ("mask", mask)):
        if array.shape != expected:
            raise ValueError(
                f"{name} must have shape [..., n, 2, k] = {expected} to match states "
                f"{states.shape}, got {array.shape}."
            )
    if states.shape[-3] == 0:
        raise ValueError("the dataset is empty (n = 0 pairs of segments); sample some first.")
    for name, array, count in (
        ("states", states, mdp.n_states),
        ("actions", actions, mdp.n_actions),
    ):
        bad = (array < 0) | (array >= count)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name} has {int(array[where])} at index {where}; {name} are 0..{count - 1} "
                f"on this MDP ({int(bad.sum())} out-of-range entries in all)."
            )
    return (
        jnp.asarray(states, jnp.int32),
        jnp.asarray(actions, jnp.int32),
        jnp.asarray(mask),
    )


def _check_labels(labels, batch_shape) -> jax.Array:
    """``labels`` as a float array of shape ``batch_shape`` with values in ``[0, 1]``."""
    labels = _checks.float_array("labels", labels)
    if tuple(labels.shape) != tuple(batch_shape):
        raise ValueError(
            f"labels must have shape [..., n] = {tuple(batch_shape)} (one per pair of "
            f"segments), got {tuple(labels.shape)}."
        )
    _checks.finite("labels", labels)
    host = np.asarray(labels)
    bad = (host < 0) | (host > 1)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"labels must lie in [0, 1] (the probability that segment 0 is preferred), got "
            f"{float(host[where])!r} at index {where}."
        )
    return labels
