"""What a reward does to learning: tabular learners trained on candidate rewards, judged by the true one.

Distances and regret (:mod:`rewardviz.distances`) say whether two rewards define the same
task; this module shows what a reward does to *learning* it. Tabular Q-learning, SARSA
and expected SARSA (Sutton & Barto, 2018, §6.4–6.6) are trained on each candidate reward
and, at regular intervals, their greedy policy is scored on a designated true reward by
its exact expected discounted return; value iteration with a limited sweep budget is a
planning baseline. Potential shaping changes how fast learning goes (a potential near
``V*`` speeds it up, a pessimistic one slows it down) but never the answer; a "helpful"
bonus that is not a potential difference can trap the learner in a reward loop; a sparse
reward may take long to be found.

Learners are written the gymnax way: one stateless step function on one run
(``lax.scan`` over steps), batched with ``vmap`` over seeds and over candidate rewards,
all in one jitted call; randomness comes only from explicit ``jax.random`` keys, so a run
is a pure function of its key. Results are summarised across seeds with percentile
bootstrap confidence intervals, as rliable reports aggregate RL results (Agarwal et al.,
NeurIPS 2021). This module does not draw; :mod:`rewardviz.plots.learning` does.

Episodes start from a state drawn from ``mdp.initial`` and restart from a new draw when
they enter a terminal state or reach ``max_episode_length`` steps. Reaching the limit is
truncation, not termination: the update bootstraps through it (REFERENCES.md, Ng et al.).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from rewardviz import _bootstrap, _budget, _checks, _deprecation, _kernels
from rewardviz import solve as solvers
from rewardviz.mdp import TabularMDP
from rewardviz.rewards import HIGHEST, check_reward

__all__ = [
    "DEFAULT_EVALUATIONS",
    "LEARNERS",
    "TD_LEARNERS",
    "LearningComparison",
    "LearningRun",
    "bootstrap_ci",
    "compare_rewards",
    "normalised_regret",
    "train",
]

#: The model-free learners, by the name ``learner=`` takes.
TD_LEARNERS = ("q_learning", "sarsa", "expected_sarsa")
#: Every ``learner=``: the learners and the planning baseline (value iteration, which
#: knows the model and spends its budget on sweeps).
LEARNERS = (*TD_LEARNERS, "value_iteration")
#: Default number of evaluations of the greedy policy over a run (besides step 0).
DEFAULT_EVALUATIONS = 50
#: Uniform numbers drawn per step: exploration coin and action pick for the action taken
#: (0, 1), next state (2), next action for SARSA (3, 4), restart state (5) and the action
#: taken there by SARSA (6, 7). A run splits its key once for its start (3 uniforms: start
#: state, then SARSA's first action) and once per stretch between evaluations, drawing
#: ``[stretch length, 8]`` uniforms at once.
_UNIFORMS_PER_STEP = 8


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["steps", "q_values", "returns", "visits"],
    meta_fields=[],
)
@dataclasses.dataclass(frozen=True, eq=False)
class LearningRun:
    """One learner on one reward with one key: the result of :func:`train`.

    Attributes:
        steps: ``[E]`` environment steps at which the greedy policy was evaluated
            (0 first, the full budget last).
        q_values: ``[E, S, A]`` the learned Q-values at those steps.
        returns: ``[E]`` expected discounted return, under the true reward, of the
            greedy policy of each ``q_values`` (uniform over tied actions).
        visits: ``[S]`` how many times the learner acted in each state.
    """

    steps: jax.Array
    q_values: jax.Array
    returns: jax.Array
    visits: jax.Array

    def __repr__(self) -> str:
        return (
            f"LearningRun(steps={int(self.steps[-1])}, evaluations={self.steps.shape[0]}, "
            f"q_values{tuple(self.q_values.shape)}, final return "
            f"{float(self.returns[-1]):.4g})"
        )


@dataclasses.dataclass(frozen=True, eq=False)
class LearningComparison:
    """Learning curves of candidate rewards under the true reward: :func:`compare_rewards`.

    Regret is normalised as in :func:`rewardviz.distances.regret`:
    ``(J* − J(π)) / (J* − J_min)`` in ``[0, 1]``, with ``J*`` and ``J_min`` the best and
    worst returns of any policy under the true reward (0 when all policies tie).

    Attributes:
        names: ``R`` candidate names, in the order given.
        learner: the learner's name.
        steps: ``[E]`` evaluation steps.
        returns: ``[R, N, E]`` true return of the greedy policy per candidate, seed, step.
        regret: ``[R, N, E]`` its normalised regret.
        optimal_return, worst_return: ``J*`` and ``J_min`` of the true reward.
        visits: ``[R, N, S]`` how often each run acted in each state.
        final_policy: ``[R, S, A]`` final greedy policies averaged over seeds (the share
            of seeds that end up taking each action, ties split).
        frame: tidy ``DataFrame``, one row per candidate, seed and evaluation step:
            ``reward``, ``seed``, ``step``, ``true_return``, ``regret``.
        curves: ``DataFrame`` per candidate and step: mean true return and regret over
            seeds with bootstrap intervals (``return_mean``, ``return_low``,
            ``return_high``, ``regret_mean``, ``regret_low``, ``regret_high``).
        summary: ``DataFrame`` indexed by candidate: ``auc`` (mean normalised return
            ``1 − regret`` over training, trapezoid rule), ``steps_to_threshold`` (first
            evaluation step with normalised return ``>= threshold``; runs that never
            get there count as the full budget), ``reached`` (share of seeds that got
            there), ``final_regret``; each mean with ``_low`` and ``_high`` bounds.
        threshold: the normalised return that counts as learned (0.9: "90% of optimal").
        confidence: level of the bootstrap intervals.
    """

    names: tuple[str, ...]
    learner: str
    steps: np.ndarray
    returns: np.ndarray
    regret: np.ndarray
    optimal_return: float
    worst_return: float
    visits: np.ndarray
    final_policy: np.ndarray
    frame: pd.DataFrame
    curves: pd.DataFrame
    summary: pd.DataFrame
    threshold: float
    confidence: float

    def to_frame(self) -> pd.DataFrame:
        """The tidy per-run table (:attr:`frame`)."""
        return self.frame

    def __repr__(self) -> str:
        n_rewards, n_seeds, _ = self.returns.shape
        lines = [
            f"LearningComparison({self.learner}, {n_rewards} rewards x {n_seeds} seeds x "
            f"{int(self.steps[-1])} steps, optimal return {self.optimal_return:.4g})"
        ]
        for name, row in self.summary.iterrows():
            lines.append(
                f"  {name}: AUC {row.auc:.3f} [{row.auc_low:.3f}, {row.auc_high:.3f}], "
                f"steps to {self.threshold:.0%} {row.steps_to_threshold:.0f} "
                f"(reached {row.reached:.0%}), final regret {row.final_regret:.3f}"
            )
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Public functions: validate, then call a jitted kernel.


@_deprecation.renamed_keywords(key="seed")
def train(
    mdp: TabularMDP,
    reward,
    seed: int | jax.Array,
    *,
    learner: str = "q_learning",
    steps: int,
    true_reward=None,
    eval_every: int | None = None,
    learning_rate: float = 0.1,
    epsilon: float = 0.1,
    max_episode_length: int | None = None,
) -> LearningRun:
    """Train one tabular learner on ``reward`` with one seed; score it on ``true_reward``.

    Every step the learner acts ε-greedily (ties between greedy actions broken
    uniformly at random), observes ``s′ ~ T(·|s, a)`` and ``r = R(s, a, s′)`` and updates
    ``Q(s, a) ← Q(s, a) + α(r + γ·b − Q(s, a))`` with ``b = 0`` when ``s′`` is terminal and
    otherwise (Sutton & Barto, 2018, eqs. 6.8, 6.7 and 6.9):

    - ``"q_learning"`` (Watkins 1989): ``b = max_a′ Q(s′, a′)``;
    - ``"sarsa"`` (Rummery & Niranjan 1994): ``b = Q(s′, a′)`` with ``a′`` the ε-greedy
      action that will be taken next;
    - ``"expected_sarsa"`` (van Seijen et al. 2009): ``b = Σ_a′ π_ε(a′|s′) Q(s′, a′)``.

    ``"value_iteration"`` is a planning baseline with a limited budget: it knows the model
    and, by step ``t``, has done ``⌊t/(|S|·|A|)⌋`` synchronous sweeps
    ``Q(s, a) ← r(s, a) + γ Σ_s′ T(s′|s, a) max_a′ Q(s′, a′)`` from ``Q = 0`` (one sweep backs
    up as many state-action pairs as that many steps update). It ignores the seed,
    ``learning_rate``, ``epsilon`` and ``max_episode_length``, and never acts, so its
    visits are 0.

    Q starts at 0. Episodes restart from ``mdp.initial`` on entering a terminal state or
    after ``max_episode_length`` steps (truncation: the update still bootstraps).
    ε and α are constant: Q-learning learns ``Q*`` whatever ε; SARSA and expected SARSA
    learn the values of the ε-greedy policy itself, whose greedy policy is optimal only
    for small enough ε (Sutton & Barto 2018, §6.4–6.6). Training on a potential-shaped
    reward from ``Q = 0`` behaves like training on the original from ``Q = Φ``
    (Wiewiora 2003), so a potential changes learning speed but not the answer.

    Args:
        mdp: the MDP; ``gamma < 1`` (the greedy policies met during learning need not
            terminate, and their return must be finite).
        reward: ``[S, A, S′]`` the reward the learner is trained on.
        seed: an integer or a ``jax.random`` key; the run is a pure function of it.
        learner: one of :data:`LEARNERS`.
        steps: environment steps, ``>= 1``.
        true_reward: ``[S, A, S′]`` the reward the greedy policy is scored on; ``reward``
            by default.
        eval_every: steps between evaluations; ``steps // 50`` by default (at least 1).
            When it does not divide ``steps`` the last interval is shorter.
        learning_rate: ``α`` in ``(0, 1]``.
        epsilon: exploration rate ``ε`` in ``[0, 1]``.
        max_episode_length: steps before an episode is cut; ``4·|S|`` by default.

    Returns:
        :class:`LearningRun`.

    Example:
        >>> mdp, reward = rv.envs.chain(5)
        >>> run = rv.learning.train(mdp, reward, 0, steps=2000)
        >>> run.returns[-1]  # the optimal return γ³ once learned  # doctest: +SKIP
    """
    reward = _one_reward(mdp, reward, "reward")
    true_reward = reward if true_reward is None else _one_reward(mdp, true_reward, "true_reward")
    options = _options(mdp, learner, steps, eval_every, learning_rate, epsilon, max_episode_length)
    q, returns, visits = _train_one(
        mdp, true_reward, reward, _checks.key("seed", seed), *options.traced, **options.static
    )
    return LearningRun(
        steps=jnp.asarray(options.evaluation_steps), q_values=q, returns=returns, visits=visits
    )


@_deprecation.renamed_keywords(seeds="n_seeds")
def compare_rewards(
    mdp: TabularMDP,
    true_reward,
    candidates: Mapping[str, object],
    *,
    learner: str = "q_learning",
    n_seeds: int = 32,
    steps: int = 20_000,
    seed: int | jax.Array = 0,
    eval_every: int | None = None,
    learning_rate: float = 0.1,
    epsilon: float = 0.1,
    max_episode_length: int | None = None,
    threshold: float = 0.9,
    confidence: float = 0.95,
    n_bootstrap: int = 2000,
) -> LearningComparison:
    """Learning curves of several candidate rewards, all scored on the true reward.

    Trains ``n_seeds`` independent runs of ``learner`` (see :func:`train`) on every
    candidate in one jitted call (vmapped over candidates and seeds) and evaluates each
    run's greedy policy on ``true_reward`` exactly every ``eval_every`` steps. Run ``i``
    uses the key ``jax.random.split(key, n_seeds)[i]`` (``key = jax.random.key(seed)``
    for an integer seed) for every candidate: candidates are compared on common random
    numbers, and a run can be reproduced alone with :func:`train` and that key.

    Summaries across seeds (mean, and a ``confidence`` percentile bootstrap interval from
    :func:`bootstrap_ci`, ``n_bootstrap`` resamples seeded by ``seed``): the area under the
    normalised-return curve, the steps to reach ``threshold`` of the optimal return
    (normalised return ``1 − regret``), and the final regret. See
    :class:`LearningComparison`.

    Args:
        mdp: the MDP, ``gamma < 1``.
        true_reward: ``[S, A, S′]`` the reward that counts.
        candidates: ``{name: reward [S, A, S′]}`` the rewards to learn from, at least one.
        learner: one of :data:`LEARNERS`.
        n_seeds: runs per candidate, ``>= 1``.
        steps: environment steps per run, ``>= 1``.
        seed: an integer or a ``jax.random`` key. An integer also seeds the bootstrap
            (``bootstrap_ci(..., seed=seed)``); a key seeds it with an integer drawn
            from the key.
        eval_every, learning_rate, epsilon, max_episode_length: as in :func:`train`.
        threshold: normalised return counted as learned, in ``(0, 1]``.
        confidence: level of the bootstrap intervals, in ``(0, 1)``.
        n_bootstrap: bootstrap resamples, ``>= 1``.

    Example:
        >>> mdp, reward = rv.envs.gridworld(["S...", ".#..", "...G"])
        >>> shaped = rv.shaping.potential_shaping(mdp, reward, -rv.envs.steps_to_goal(mdp))
        >>> result = rv.learning.compare_rewards(
        ...     mdp, reward, {"sparse": reward, "shaped": shaped}, n_seeds=16, steps=4000)
        >>> result.summary[["auc", "steps_to_threshold", "final_regret"]]  # doctest: +SKIP
    """
    true_reward = _one_reward(mdp, true_reward, "true_reward")
    names, rewards = _candidates(mdp, candidates, true_reward.dtype)
    n_seeds = _checks.positive_int(
        "n_seeds", n_seeds, "the number of independent runs per candidate"
    )
    options = _options(mdp, learner, steps, eval_every, learning_rate, epsilon, max_episode_length)
    _budget.check_steps(
        f"compare_rewards(n_seeds={n_seeds:,}, steps={steps:,}) on {len(names)} candidate(s)",
        float(n_seeds) * len(names) * steps,
        "Use fewer seeds or steps: 32 seeds of 20,000 steps separate most shapings.",
    )
    _budget.check_memory(
        f"compare_rewards(n_seeds={n_seeds:,}) on {len(names)} candidate(s)",
        # Per run: Q-table, its greedy policy and values, and the evaluation curve.
        n_seeds * len(names) * (4 * mdp.n_states * mdp.n_actions + steps) * 8,
        "Use fewer seeds, or compare the candidates in several calls.",
    )
    threshold = _checks.in_range("threshold", threshold, 0.0, 1.0)
    if threshold == 0:
        raise ValueError("threshold must lie in (0, 1], got 0; 0.9 means 90% of optimal.")
    confidence = _checks.in_range("confidence", confidence, 0.0, 1.0)
    if confidence in (0.0, 1.0):
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    n_bootstrap = _checks.positive_int(
        "n_bootstrap", n_bootstrap, "the number of bootstrap resamples"
    )

    keys = jax.random.split(_checks.key("seed", seed), n_seeds)
    q, returns, visits = _train_batch(
        mdp, true_reward, rewards, keys, *options.traced, **options.static
    )
    best, worst = _return_range(mdp, true_reward)
    returns = np.asarray(returns, dtype=np.float64)
    regret = normalised_regret(returns, best, worst)
    final_policy = np.asarray(_kernels.greedy(q[:, :, -1], 0.0, 0), dtype=np.float64).mean(axis=1)
    bootstrap_seed = _checks.seed_int("seed", seed)
    return _summarise(
        names=names,
        learner=options.static["learner"],
        steps=options.evaluation_steps,
        returns=returns,
        regret=regret,
        best=best,
        worst=worst,
        visits=np.asarray(visits),
        final_policy=final_policy,
        threshold=threshold,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        bootstrap_seed=bootstrap_seed,
    )


def normalised_regret(returns, optimal_return: float, worst_return: float) -> np.ndarray:
    """``(J* − J) / (J* − J_min)`` clipped to ``[0, 1]``; 0 everywhere when ``J* = J_min``.

    The normalisation of :func:`rewardviz.distances.regret` (Skalse et al., ICLR 2024),
    applied to any array of returns ``J``. "All policies tie" is decided relative to the
    size of the returns, at 1e3 float64 machine epsilons.
    """
    returns = _checks.host_float64("returns", returns)
    optimal_return = _checks.number("optimal_return", optimal_return)
    worst_return = _checks.number("worst_return", worst_return)
    span = optimal_return - worst_return
    size = max(abs(optimal_return), abs(worst_return))
    if span <= 1e3 * np.finfo(np.float64).eps * size or span == 0:
        return np.zeros_like(returns)
    return np.clip((optimal_return - returns) / span, 0.0, 1.0)


@_deprecation.renamed_keywords(n_resamples="n_bootstrap")
def bootstrap_ci(
    samples, *, confidence: float = 0.95, n_bootstrap: int = 2000, seed: int | jax.Array = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over the last axis with a percentile bootstrap interval (Efron & Tibshirani 1993).

    Draws ``n_bootstrap`` resamples of the ``N`` entries of the last axis with
    replacement, the same resamples for every leading index (so paired quantities stay
    paired), as ``numpy.random.default_rng(seed).integers(0, N, (n_bootstrap, N))``,
    and returns the ``(1 ∓ confidence)/2`` quantiles (numpy's linear interpolation) of
    the resampled means. rliable reports aggregate RL results this way across runs.
    The package's one bootstrap (``rewardviz._bootstrap``) draws the resamples.

    Args:
        samples: ``[..., N]`` finite numbers, ``N >= 1``.
        seed: an integer or a ``jax.random`` key (turned into an integer by one draw).

    Returns:
        ``(mean, low, high)``, each ``[...]``.

    Example:
        >>> mean, low, high = rv.learning.bootstrap_ci(np.array([1.0, 2.0, 4.0]))
    """
    confidence = _checks.in_range("confidence", confidence, 0.0, 1.0)
    if confidence in (0.0, 1.0):
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    n_bootstrap = _checks.positive_int("n_bootstrap", n_bootstrap, "the number of resamples")
    return _bootstrap.mean_interval(
        _checks.host_float64("samples", samples),
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=_checks.seed_int("seed", seed),
    )


# ---------------------------------------------------------------------------
# Kernels: one run, batched by vmap.


def _inverse_cdf(probabilities):
    """Cumulative probabilities ``[..., n]`` and the last index of positive probability ``[...]``.

    Computed once per run, outside the step loop: a cumulative sum inside it made a
    batched run ~1.5x slower (benchmarks/bench_learning.py).
    """
    n = probabilities.shape[-1]
    last = n - 1 - jnp.argmax(jnp.flip(probabilities, -1) > 0, axis=-1)
    return jnp.cumsum(probabilities, axis=-1), last


def _sample(cumulative, last, uniform):
    """Inverse-CDF draw with one uniform number in ``[0, 1)``.

    The first index whose cumulative probability exceeds ``uniform``; clamped to ``last``,
    the last index of positive probability, where rounding leaves the total just below 1.
    """
    return jnp.minimum(jnp.sum(cumulative <= uniform), last)


def _greedy_ties(q_row):
    """``[A]`` mask of the actions with the highest value, and how many there are."""
    ties = q_row == jnp.max(q_row)
    return ties, jnp.sum(ties)


def _epsilon_greedy(q_row, epsilon, explore, pick):
    """The ε-greedy action: uniform with probability ε, else a uniform pick among ties.

    ``explore`` and ``pick`` are uniform numbers in ``[0, 1)``: explore when
    ``explore < ε``; ``pick`` chooses the ``⌊pick·n⌋``-th of the ``n`` candidates.
    """
    n_actions = q_row.shape[-1]
    ties, n_ties = _greedy_ties(q_row)
    rank = jnp.minimum(jnp.floor(pick * n_ties), n_ties - 1)
    greedy = jnp.argmax(jnp.cumsum(ties) > rank)
    uniform = jnp.minimum(jnp.floor(pick * n_actions), n_actions - 1).astype(greedy.dtype)
    return jnp.where(explore < epsilon, uniform, greedy)


def _epsilon_greedy_probabilities(q_row, epsilon):
    """``π_ε(a|s) = ε/|A| + (1 − ε)·[a greedy]/#greedy``, the policy of :func:`_epsilon_greedy`."""
    ties, n_ties = _greedy_ties(q_row)
    return epsilon / q_row.shape[-1] + (1 - epsilon) * ties / n_ties


def _run(mdp, reward, key, learning_rate, epsilon, max_episode_length, *, learner, steps, every):
    """One run: Q-value snapshots ``[E, S, A]`` at the evaluation steps and visits ``[S]``."""
    if learner == "value_iteration":
        return _planning(mdp, reward, steps=steps, every=every)
    dtype = reward.dtype
    next_cumulative, next_last = _inverse_cdf(mdp.transitions.astype(dtype))
    start_cumulative, start_last = _inverse_cdf(mdp.initial.astype(dtype))
    gamma = mdp.gamma.astype(dtype)

    def step(carry, u):
        q, state, action, age, visits = carry
        if learner != "sarsa":  # SARSA carries the action it chose at the last step
            action = _epsilon_greedy(q[state], epsilon, u[0], u[1])
        successor = _sample(next_cumulative[state, action], next_last[state, action], u[2])
        done = mdp.terminal[successor]
        q_next = q[successor]
        if learner == "q_learning":
            bootstrap = jnp.max(q_next)
        elif learner == "sarsa":
            next_action = _epsilon_greedy(q_next, epsilon, u[3], u[4])
            bootstrap = q_next[next_action]
        else:
            bootstrap = jnp.sum(_epsilon_greedy_probabilities(q_next, epsilon) * q_next)
        target = reward[state, action, successor] + gamma * jnp.where(done, 0, bootstrap)
        q = q.at[state, action].add(learning_rate * (target - q[state, action]))
        visits = visits.at[state].add(1)
        age = age + 1
        # Termination and truncation both restart; only termination stops the bootstrap.
        restart = done | (age >= max_episode_length)
        start = _sample(start_cumulative, start_last, u[5])
        if learner == "sarsa":
            restart_action = _epsilon_greedy(q[start], epsilon, u[6], u[7])
            action = jnp.where(restart, restart_action, next_action)
        state = jnp.where(restart, start, successor)
        age = jnp.where(restart, 0, age)
        return (q, state, action, age, visits), None

    def advance(key, carry, length):
        # One draw of uniforms for a whole stretch of steps: a split and a draw inside
        # every step made a batched run about 15% slower (benchmarks/bench_learning.py).
        uniforms = jax.random.uniform(key, (length, _UNIFORMS_PER_STEP), dtype)
        return jax.lax.scan(step, carry, uniforms)[0]

    q = jnp.zeros((mdp.n_states, mdp.n_actions), dtype)
    key, draw = jax.random.split(key)
    u = jax.random.uniform(draw, (3,), dtype)
    state = _sample(start_cumulative, start_last, u[0])
    action = _epsilon_greedy(q[state], epsilon, u[1], u[2])
    visits = jnp.zeros(mdp.n_states, jnp.int32)
    carry = (q, state, action, jnp.asarray(0, jnp.int32), visits)

    def chunk(keyed, _):
        key, carry = keyed
        key, draw = jax.random.split(key)
        carry = advance(draw, carry, every)
        return (key, carry), carry[0]

    n_chunks, rest = divmod(steps, every)
    (key, carry), snapshots = jax.lax.scan(chunk, (key, carry), None, length=n_chunks)
    parts = [q[None], snapshots]
    if rest:
        carry = advance(jax.random.split(key)[1], carry, rest)
        parts.append(carry[0][None])
    return jnp.concatenate(parts), carry[-1]


def _planning(mdp, reward, *, steps, every):
    """Value iteration with ``⌊t/(|S|·|A|)⌋`` sweeps by each evaluation step ``t``: ``[E, S, A]``."""
    continuing, expected, gamma = _kernels.live_dynamics(mdp, reward)
    live = ~mdp.terminal
    sweeps = _evaluation_steps(steps, every) // (mdp.n_states * mdp.n_actions)

    def sweep(_, q):
        values = jnp.where(live, jnp.max(q, axis=-1), 0)
        return _kernels.backup(continuing, gamma, expected, values)

    def stretch(q, count):
        q = jax.lax.fori_loop(0, count, sweep, q)
        return q, q

    q = jnp.zeros(expected.shape, expected.dtype)
    _, snapshots = jax.lax.scan(stretch, q, jnp.asarray(np.diff(sweeps)))
    return jnp.concatenate([q[None], snapshots]), jnp.zeros(mdp.n_states, jnp.int32)


def _greedy_returns(mdp, true_reward, q):
    """``[...]`` true return of the greedy policies (exact ties shared) of ``q [..., S, A]``.

    Evaluated outside the scans, all snapshots at once: one batched linear solve rather
    than LAPACK inside a loop (a pattern seen to hang XLA:CPU, docs/architecture.md).
    """
    policy = _kernels.greedy(q, 0.0, 0)
    values = _kernels.policy_evaluation(mdp, true_reward, policy)
    initial = mdp.initial.astype(values.dtype)
    return jnp.einsum("s,...s->...", initial, values, precision=HIGHEST)


@partial(jax.jit, static_argnames=("learner", "steps", "every"))
def _train_one(mdp, true_reward, reward, key, learning_rate, epsilon, max_length, **static):
    q, visits = _run(mdp, reward, key, learning_rate, epsilon, max_length, **static)
    return q, _greedy_returns(mdp, true_reward, q), visits


@partial(jax.jit, static_argnames=("learner", "steps", "every"))
def _train_batch(mdp, true_reward, rewards, keys, learning_rate, epsilon, max_length, **static):
    def one(reward, key):
        return _run(mdp, reward, key, learning_rate, epsilon, max_length, **static)

    over_seeds = jax.vmap(one, in_axes=(None, 0))
    q, visits = jax.vmap(over_seeds, in_axes=(0, None))(rewards, keys)  # [R, N, E, S, A]
    return q, _greedy_returns(mdp, true_reward, q), visits


# ---------------------------------------------------------------------------
# Summaries (numpy and pandas on the host: small arrays, no kernels).


def _summarise(
    *,
    names,
    learner,
    steps,
    returns,
    regret,
    best,
    worst,
    visits,
    final_policy,
    threshold,
    confidence,
    n_bootstrap,
    bootstrap_seed,
) -> LearningComparison:
    n_rewards, n_seeds, n_evaluations = returns.shape
    budget = float(steps[-1])
    progress = 1.0 - regret  # normalised return
    span = float(steps[-1] - steps[0])
    auc = np.trapezoid(progress, steps, axis=-1) / span  # [R, N]
    reached_at = progress >= threshold
    reached = reached_at.any(axis=-1)
    first = np.where(reached, steps[np.argmax(reached_at, axis=-1)], budget)
    final = regret[..., -1]

    def ci(values):
        return bootstrap_ci(
            values, confidence=confidence, n_bootstrap=n_bootstrap, seed=bootstrap_seed
        )

    summary = {}
    for column, values in (("auc", auc), ("steps_to_threshold", first), ("final_regret", final)):
        mean, low, high = ci(values)
        summary[column], summary[f"{column}_low"], summary[f"{column}_high"] = mean, low, high
    summary["reached"] = reached.mean(axis=-1)
    summary_frame = pd.DataFrame(summary, index=pd.Index(names, name="reward"))

    return_mean, return_low, return_high = ci(np.moveaxis(returns, 1, -1))  # [R, E]
    regret_mean, regret_low, regret_high = ci(np.moveaxis(regret, 1, -1))
    curves = pd.DataFrame(
        {
            "reward": pd.Categorical(np.repeat(names, n_evaluations), categories=names),
            "step": np.tile(steps, n_rewards),
            "return_mean": return_mean.ravel(),
            "return_low": return_low.ravel(),
            "return_high": return_high.ravel(),
            "regret_mean": regret_mean.ravel(),
            "regret_low": regret_low.ravel(),
            "regret_high": regret_high.ravel(),
        }
    )
    frame = pd.DataFrame(
        {
            "reward": pd.Categorical(np.repeat(names, n_seeds * n_evaluations), categories=names),
            "seed": np.tile(np.repeat(np.arange(n_seeds), n_evaluations), n_rewards),
            "step": np.tile(steps, n_rewards * n_seeds),
            "true_return": returns.ravel(),
            "regret": regret.ravel(),
        }
    )
    return LearningComparison(
        names=tuple(names),
        learner=learner,
        steps=np.asarray(steps),
        returns=returns,
        regret=regret,
        optimal_return=best,
        worst_return=worst,
        visits=visits,
        final_policy=final_policy,
        frame=frame,
        curves=curves,
        summary=summary_frame,
        threshold=threshold,
        confidence=confidence,
    )


def _return_range(mdp: TabularMDP, true_reward) -> tuple[float, float]:
    """``J*`` and ``J_min``: the best and worst expected returns of any policy."""
    both = solvers.value_iteration(mdp, jnp.stack([true_reward, -true_reward])).values
    returns = np.asarray(both, dtype=np.float64) @ np.asarray(mdp.initial, dtype=np.float64)
    return float(returns[0]), float(-returns[1])


# ---------------------------------------------------------------------------
# Boundary checks.


@dataclasses.dataclass(frozen=True)
class _Options:
    """Validated learner settings: traced values, static configuration, evaluation steps."""

    traced: tuple
    static: dict
    evaluation_steps: np.ndarray


def _options(mdp, learner, steps, eval_every, learning_rate, epsilon, max_episode_length):
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")
    if float(mdp.gamma) >= 1:
        raise ValueError(
            "learning curves need gamma < 1: the greedy policies met along the way need not "
            "reach a terminal state, and with gamma = 1 their return is an infinite sum. "
            "Use mdp.replace(gamma=0.99)."
        )
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {LEARNERS}, got {learner!r}.")
    steps = _checks.positive_int("steps", steps, "the number of environment steps per run")
    if eval_every is None:
        eval_every = max(1, steps // DEFAULT_EVALUATIONS)
    eval_every = _checks.positive_int("eval_every", eval_every, "the steps between evaluations")
    if eval_every > steps:
        raise ValueError(f"eval_every ({eval_every}) must be at most steps ({steps}).")
    learning_rate = _checks.in_range("learning_rate", learning_rate, 0.0, 1.0)
    if learning_rate == 0:
        raise ValueError("learning_rate must lie in (0, 1], got 0; nothing would be learned.")
    epsilon = _checks.in_range("epsilon", epsilon, 0.0, 1.0)
    if max_episode_length is None:
        max_episode_length = 4 * mdp.n_states
    max_episode_length = _checks.positive_int(
        "max_episode_length", max_episode_length, "the steps before an episode is cut"
    )
    evaluation_steps = _evaluation_steps(steps, eval_every)
    dtype = mdp.dtype
    traced = (
        jnp.asarray(learning_rate, dtype),
        jnp.asarray(epsilon, dtype),
        jnp.asarray(max_episode_length, jnp.int32),
    )
    static = {"learner": learner, "steps": steps, "every": eval_every}
    return _Options(traced, static, evaluation_steps)


def _evaluation_steps(steps: int, every: int) -> np.ndarray:
    """``[E]`` steps 0, every, 2·every, ..., and ``steps`` itself."""
    return np.unique(np.append(np.arange(0, steps + 1, every), steps))


def _one_reward(mdp: TabularMDP, reward, name: str) -> jax.Array:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")
    reward = check_reward(mdp, reward, name=name)
    if reward.ndim != 3:
        raise ValueError(
            f"{name} must be one reward of shape [S, A, S'] = ({mdp.n_states}, "
            f"{mdp.n_actions}, {mdp.n_states}), got {tuple(reward.shape)}."
        )
    return reward


def _candidates(mdp: TabularMDP, candidates, dtype) -> tuple[list[str], jax.Array]:
    if not isinstance(candidates, Mapping):
        raise TypeError(
            "candidates must be a dict {name: reward [S, A, S']}, got "
            f"{type(candidates).__name__}."
        )
    if not candidates:
        raise ValueError("candidates is empty; pass at least one {name: reward}.")
    names, rewards = [], []
    for name, reward in candidates.items():
        names.append(str(name))
        rewards.append(_one_reward(mdp, reward, f"candidates[{name!r}]"))
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be distinct as strings, got {names}.")
    return names, jnp.stack([reward.astype(dtype) for reward in rewards])
