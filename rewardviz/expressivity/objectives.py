"""Objectives from other specification formalisms, evaluated exactly on a finite MDP.

Subramani et al. (ICLR 2024) compare formalisms by the orderings over policies their
objectives can induce. This module evaluates an objective of each kind on a concrete
environment and a concrete set of policies, and :func:`expressible_as_markov` asks the
realisability LP whether any Markov reward induces the same ordering: a "no" is a
machine-checked witness that the formalism expresses something Markov rewards cannot.

Every objective has ``values(mdp, policies)`` returning ``[N]`` (or ``[N, K]`` for a
lexicographic multi-objective), computed in float64 on the host; policies are
``[N, S, A]`` action probabilities (see :func:`policy_ordering` for the accepted forms).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from functools import partial

import jax
import numpy as np

from rewardviz import _checks, _deprecation
from rewardviz._deprecation import mdp_first, positional_options
from rewardviz.expressivity import features
from rewardviz.expressivity.ltlf import Automaton, Formula, parse, to_automaton
from rewardviz.expressivity.realize import Realization, policy_label, realize_policy_order
from rewardviz.expressivity.reward_machines import Labeling, RewardMachine, product, state_labels
from rewardviz.mdp import TabularMDP
from rewardviz.rewards import check_reward

__all__ = [
    "MAX_PATHS",
    "EntropyRegularized",
    "InnerNonlinear",
    "LTLf",
    "LimitAverage",
    "MarkovReward",
    "MultiObjective",
    "OuterNonlinear",
    "PolicyOrdering",
    "RewardMachineObjective",
    "expressible_as_markov",
    "policy_ordering",
]

MAX_PATHS = 2_000_000
"""Cap on the number of trajectories :class:`InnerNonlinear` enumerates exactly."""


def _mean_reward(mdp: TabularMDP, reward) -> np.ndarray:
    """``r̄(s, a) = Σ_s' T(s'|s, a) r(s, a, s')`` flattened to ``[S·A]``, float64."""
    reward = np.asarray(check_reward(mdp, reward), np.float64)
    if reward.shape != (mdp.n_states, mdp.n_actions, mdp.n_states):
        raise ValueError(f"reward must be one [S, A, S'] array, got shape {reward.shape}.")
    transitions, *_ = features.dynamics(mdp)
    return (transitions * reward).sum(-1).reshape(-1)


@dataclass(frozen=True)
class MarkovReward:
    """Discounted Markov reward: ``J(π) = E[Σ_t γ^t r(s_t, a_t, s_{t+1})] = ⟨ρ^π, r̄⟩``."""

    reward: object
    name: str = "Markov reward (MR)"

    def values(self, mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
        return features.occupancy_features(mdp, policies) @ _mean_reward(mdp, self.reward)


@dataclass(frozen=True)
class LimitAverage:
    """Limit-average reward: ``J(π) = lim_{T→∞} (1/T) E[Σ_{t<T} r(s_t, a_t, s_{t+1})]``.

    Only the long-run behaviour counts (Puterman 1994, ch. 8); the discount is ignored.
    """

    reward: object
    name: str = "limit-average reward (LAR)"

    def values(self, mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
        return features.limit_average_features(mdp, policies) @ _mean_reward(mdp, self.reward)


@dataclass(frozen=True)
class OuterNonlinear:
    """Outer nonlinear Markov reward: ``J(π) = f(E[Σ_t γ^t r])``, ``f`` applied to the value.

    ``f`` must accept a numpy array of values and return one of the same shape,
    e.g. ``lambda v: -(v - 0.5) ** 2`` (prefer a target value).
    """

    reward: object
    f: Callable[[np.ndarray], np.ndarray]
    name: str = "outer nonlinear reward (ONMR)"

    def values(self, mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
        inner = MarkovReward(self.reward).values(mdp, policies)
        return _apply(self.f, inner, "f")


@dataclass(frozen=True)
class InnerNonlinear:
    """Inner nonlinear Markov reward: ``J(π) = E[f(Σ_{t<H} γ^t r_t)]`` over ``H`` steps.

    ``method="exact"`` enumerates every trajectory of positive probability (refused
    beyond :data:`MAX_PATHS`); ``"monte_carlo"`` samples ``n_samples`` trajectories per
    policy with ``seed``, an integer or a ``jax.random`` key (same seed, same numbers).
    A trajectory stops at a terminal state. The options after ``horizon`` are
    keyword-only.
    """

    reward: object
    f: Callable[[np.ndarray], np.ndarray]
    horizon: int
    _: KW_ONLY
    method: str = "exact"
    n_samples: int = 10_000
    seed: int | jax.Array = 0
    name: str = "inner nonlinear reward (INMR)"

    @property
    def samples(self) -> int:
        """Deprecated spelling of :attr:`n_samples`."""
        _deprecation.warn("InnerNonlinear.samples", "InnerNonlinear.n_samples")
        return self.n_samples

    def values(self, mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
        if self.method == "exact":
            returns, probability = _all_returns(mdp, self.reward, policies, self.horizon)
            return probability @ _apply(self.f, returns, "f")
        if self.method == "monte_carlo":
            n_samples = _checks.positive_int("n_samples", self.n_samples, "trajectories per policy")
            seed = _checks.seed_int("seed", self.seed)
            returns = _sampled_returns(mdp, self.reward, policies, self.horizon, n_samples, seed)
            return _apply(self.f, returns, "f").mean(-1)
        raise ValueError(f'method must be "exact" or "monte_carlo", got {self.method!r}.')


InnerNonlinear.__init__ = _deprecation.renamed_keywords(samples="n_samples")(
    positional_options("method", "n_samples", "seed", "name")(InnerNonlinear.__init__)
)


@dataclass(frozen=True)
class EntropyRegularized:
    """Entropy-regularised RL: ``J(π) = E[Σ_t γ^t (r_t + α H(π(·|s_t)))]`` (Haarnoja et al. 2017).

    ``temperature`` is ``α``; ``H`` is the Shannon entropy in nats.
    """

    reward: object
    temperature: float
    name: str = "entropy-regularised RL (RRL)"

    def values(self, mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
        phi = features.occupancy_features(mdp, policies)
        with np.errstate(divide="ignore", invalid="ignore"):
            surprise = np.where(policies > 0, -np.log(policies), 0.0)
        # ρ(s, a)·(−log π(a|s)) summed over a is ρ(s)·H(π(·|s)).
        entropy_term = (phi * surprise.reshape(len(policies), -1)).sum(-1)
        return phi @ _mean_reward(mdp, self.reward) + self.temperature * entropy_term


@dataclass(frozen=True)
class MultiObjective:
    """Several Markov rewards ``[K, S, A, S']`` combined into one ordering.

    Give exactly one of ``weights`` (linear scalarisation ``Σ_k w_k V_k``),
    ``scalarization`` (any ``f([N, K] values) -> [N]``, e.g. ``lambda v: v.min(-1)``
    for max-min fairness) or ``lexicographic=True`` (compare ``V_1`` first, then ``V_2``
    on ties within :func:`policy_ordering`'s ``tol``, ...), all keyword-only. The
    lexicographic case returns ``[N, K]``.
    """

    rewards: object
    _: KW_ONLY
    weights: Sequence[float] | None = None
    scalarization: Callable[[np.ndarray], np.ndarray] | None = None
    lexicographic: bool = False
    name: str = "multi-objective RL (MORL)"

    def values(self, mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
        chosen = sum([self.weights is not None, self.scalarization is not None, self.lexicographic])
        if chosen != 1:
            raise ValueError(
                "MultiObjective needs exactly one of weights=, scalarization= or "
                f"lexicographic=True; got {chosen}."
            )
        rewards = np.asarray(self.rewards, np.float64)
        if rewards.ndim != 4:
            raise ValueError(f"rewards must be [K, S, A, S'], got shape {rewards.shape}.")
        phi = features.occupancy_features(mdp, policies)
        per_reward = np.stack([phi @ _mean_reward(mdp, r) for r in rewards], -1)  # K is small
        if self.lexicographic:
            return per_reward
        if self.weights is not None:
            weights = np.asarray(self.weights, np.float64)
            if weights.shape != (len(rewards),):
                raise ValueError(
                    f"weights must have one entry per reward ({len(rewards)}), got {weights.shape}."
                )
            return per_reward @ weights
        scalar = np.asarray(self.scalarization(per_reward), np.float64)
        if scalar.shape != (len(policies),):
            raise ValueError(
                f"scalarization must map [N, K] values to [N], returned shape {scalar.shape}."
            )
        return scalar


MultiObjective.__init__ = positional_options("weights", "scalarization", "lexicographic", "name")(
    MultiObjective.__init__
)


@dataclass(frozen=True)
class LTLf:
    """Probability that the labels of a finite run satisfy an LTLf formula (De Giacomo & Vardi 2013).

    The run ``s_0, s_1, ..., s_H`` (``horizon`` steps) is cut short when it enters a
    terminal state; its trace is the label sets of the states *reached*,
    ``L(s_1), ..., L(s_H)``, the convention of reward machines (labels are read from the
    state a transition enters), so the two formalisms read the same trace. The formula is
    compiled to a DFA (:func:`rewardviz.expressivity.ltlf.to_automaton`) and the
    acceptance probability computed exactly on the MDP × DFA product.
    """

    formula: str | Formula
    labeling: Labeling
    horizon: int
    name: str = "LTLf"

    def values(self, mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
        formula = parse(self.formula) if isinstance(self.formula, str) else self.formula
        letters = state_labels(mdp, self.labeling)
        automaton = to_automaton(formula, alphabet=set(letters))
        return _acceptance(mdp, automaton, letters, policies, int(self.horizon))


@dataclass(frozen=True)
class RewardMachineObjective:
    """Discounted return of a reward machine's reward (Toro Icarte et al. 2018).

    A stationary policy of the base MDP acts the same in every machine state; its value
    is the Markov value of that lifted policy on the product.
    """

    machine: RewardMachine
    labeling: Labeling
    name: str = "reward machine (RM)"

    def values(self, mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
        joint, reward = product(mdp, self.machine, self.labeling)
        lifted = np.repeat(policies, len(self.machine.states), axis=1)  # (s, u) = s·U + u
        return MarkovReward(reward).values(joint, lifted)


# ---------------------------------------------------------------------------
# Orderings and the expressivity check.


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["values", "order"],
    meta_fields=["labels", "pairs"],
)
@dataclass(frozen=True)
class PolicyOrdering:
    """The total preorder an objective induces on a set of policies (a pytree of its arrays).

    Attributes:
        labels: one label per policy.
        values: the objective's value of each policy (``[N]``, or ``[N, K]`` lexicographic).
        order: policy indices from best to worst.
        pairs: ``(i, relation, j)`` between neighbours in ``order``, relation ``">"``
            or ``"="``: a chain that fixes the whole preorder.
    """

    labels: tuple[str, ...]
    values: np.ndarray
    order: np.ndarray
    pairs: tuple[tuple[int, str, int], ...]

    def __str__(self) -> str:
        text = self.labels[self.order[0]]
        for _, relation, j in self.pairs:
            text += f" {relation} {self.labels[j]}"
        return text

    def to_frame(self):
        """One row per policy, best first: ``label``, ``rank`` (tied policies share one),
        and ``value`` (``value_1 … value_K`` when lexicographic)."""
        import pandas as pd

        ranks, rank = {int(self.order[0]): 1}, 1
        for position, (_, relation, j) in enumerate(self.pairs, start=2):
            rank = rank if relation == "=" else position
            ranks[j] = rank
        order = np.asarray(self.order)
        values = np.asarray(self.values)
        frame = pd.DataFrame(
            {"label": [self.labels[i] for i in order], "rank": [ranks[int(i)] for i in order]}
        )
        if values.ndim == 1:
            frame["value"] = values[order]
        else:
            for k in range(values.shape[1]):
                frame[f"value_{k + 1}"] = values[order, k]
        return frame


@_deprecation.renamed_keywords(tolerance="tol")
@mdp_first
def policy_ordering(
    mdp: TabularMDP, objective, policies, *, names: Sequence[str] | None = None,
    tol: float = 1e-9,
) -> PolicyOrdering:  # fmt: skip
    """Rank ``policies`` by ``objective``; values within ``tol`` (relative) tie.

    ``policies`` is a sequence mixing deterministic ``[S]`` integer arrays and
    stochastic ``[S, A]`` arrays. Two values tie when ``|J_i − J_j| ≤ tol·max(1, max|J|)``
    (every component, when lexicographic).

    Example:
        >>> mdp = rv.expressivity.environments.xor()
        >>> mixes = [[[p, 1 - p], [1, 0]] for p in (0.0, 0.5, 1.0)]
        >>> bonus = np.zeros((2, 2, 2)); bonus[0, 0] = 1
        >>> objective = rv.expressivity.OuterNonlinear(bonus, lambda v: -(v - 0.5) ** 2)
        >>> str(rv.expressivity.policy_ordering(mdp, objective, mixes, names=["p=0", "p=½", "p=1"]))
        'p=½ > p=0 = p=1'
    """
    stacked = features.stochastic_policies(mdp, policies)
    values = np.asarray(objective.values(mdp, stacked), np.float64)
    if values.shape[0] != len(stacked) or not np.isfinite(values).all():
        raise ValueError(
            f"{getattr(objective, 'name', 'objective')} returned values of shape "
            f"{values.shape} with non-finite entries or the wrong length; expected "
            f"[{len(stacked)}] finite values."
        )
    tol = _checks.tolerance("tol", tol)
    labels = _labels(mdp, policies, stacked, names)
    keys = values if values.ndim == 2 else values[:, None]
    scale = max(1.0, float(np.abs(keys).max()))
    # Lexicographic sort, best first; neighbours closer than the tolerance tie.
    order = np.lexsort(tuple(-keys[:, k] for k in reversed(range(keys.shape[1]))))
    pairs = []
    for left, right in itertools.pairwise(order):  # N − 1 neighbours
        tied = np.all(np.abs(keys[left] - keys[right]) <= tol * scale)
        pairs.append((int(left), "=" if tied else ">", int(right)))
    return PolicyOrdering(labels, values, order, tuple(pairs))


@_deprecation.renamed_keywords(tolerance="tol")
@mdp_first
def expressible_as_markov(
    mdp: TabularMDP, objective, policies, *, names: Sequence[str] | None = None,
    tol: float = 1e-9, criterion: str = "discounted",
) -> Realization:  # fmt: skip
    """Does some Markov reward order ``policies`` exactly as ``objective`` does?

    Runs :func:`policy_ordering` (values within ``tol`` tie) and then
    :func:`realize_policy_order` on its chain of comparisons. Not realisable means: on
    this environment, this objective expresses an ordering no Markov reward can (with
    the certificate as proof).

    Example:
        >>> mdp = rv.expressivity.environments.xor()
        >>> mixes = [[[p, 1 - p], [1, 0]] for p in (0.0, 0.5, 1.0)]
        >>> bonus = np.zeros((2, 2, 2)); bonus[0, 0] = 1
        >>> objective = rv.expressivity.OuterNonlinear(bonus, lambda v: -(v - 0.5) ** 2)
        >>> rv.expressivity.expressible_as_markov(mdp, objective, mixes).realizable
        False
    """
    ordering = policy_ordering(mdp, objective, policies, names=names, tol=tol)
    named = dict(zip(ordering.labels, features.stochastic_policies(mdp, policies), strict=True))
    pairs = [
        (ordering.labels[i], relation, ordering.labels[j]) for i, relation, j in ordering.pairs
    ]
    return realize_policy_order(mdp, pairs, named, criterion=criterion)


# ---------------------------------------------------------------------------
# Helpers.


def _apply(f, values: np.ndarray, name: str) -> np.ndarray:
    out = np.asarray(f(values), np.float64)
    if out.shape != values.shape:
        raise ValueError(
            f"{name} must act elementwise on an array of values: given shape {values.shape} "
            f"it returned {out.shape}. Write it with numpy operations (e.g. np.exp, **)."
        )
    return out


def _labels(mdp, policies, stacked, names) -> tuple[str, ...]:
    if names is not None:
        if len(names) != len(stacked):
            raise ValueError(f"names has {len(names)} entries for {len(stacked)} policies.")
        return tuple(map(str, names))
    labels = []
    items = [policies] if stacked.shape[0] == 1 and np.ndim(policies) <= 2 else policies
    for index, item in enumerate(items):
        array = np.asarray(item)
        deterministic = array.shape == (mdp.n_states,) and np.issubdtype(array.dtype, np.integer)
        labels.append(policy_label(mdp, array) if deterministic else f"π{index + 1}")
    return tuple(labels)


def _acceptance(mdp, automaton: Automaton, letters, policies, horizon) -> np.ndarray:
    """``P(trace accepted)``: forward distribution over (s, q) for ``horizon`` steps."""
    transitions, _, initial, live = features.dynamics(mdp)
    n_q = automaton.n_states
    # next_q[q, s'] = DFA state after reading the label of s' in q.
    next_q = np.array([[automaton.step(q, letters[s]) for s in range(mdp.n_states)]
                       for q in range(n_q)])  # fmt: skip
    mass = np.zeros((len(policies), mdp.n_states, n_q))
    mass[:, :, automaton.initial] = initial  # no label read yet: traces start at s_1
    moving = np.einsum("nsa,sat->nst", policies * live[None, :, None], transitions)
    # One-hot DFA update as a [S', Q, Q'] tensor: from q, entering s' leads to next_q[q, s'].
    jump = np.zeros((mdp.n_states, n_q, n_q))
    jump[np.arange(mdp.n_states)[None, :], np.arange(n_q)[:, None], next_q] = 1.0
    for _ in range(horizon):  # time steps; states, policies and DFA states are vectorised
        stopped = mass * (~live)[None, :, None]
        flow = np.einsum("nsq,nst,tqr->ntr", mass, moving, jump)
        mass = stopped + flow
    accepting = np.asarray(automaton.accepting, bool)
    return mass[:, :, accepting].sum((1, 2))


def _all_returns(mdp, reward, policies, horizon) -> tuple[np.ndarray, np.ndarray]:
    """Every path of positive probability: its return ``[P]`` and probability ``[N, P]``."""
    transitions, gamma, initial, live = features.dynamics(mdp)
    reward = np.asarray(check_reward(mdp, reward), np.float64)
    state = np.flatnonzero(initial > 0)
    returns = np.zeros(state.size)
    probability = np.broadcast_to(initial[state], (len(policies), state.size)).copy()
    branch_s, branch_a, branch_next = np.nonzero(transitions > 0)
    for t in range(horizon):  # paths are vectorised; the loop is over time
        # Expand every path by every (a, s') its state allows; terminal states stay put.
        match = state[:, None] == branch_s[None, :]
        path, branch = np.nonzero(match & live[state][:, None])
        stay = np.flatnonzero(~live[state])
        if path.size + stay.size > MAX_PATHS:
            raise ValueError(
                f"exact enumeration needs more than {MAX_PATHS:,} trajectories at step {t}; "
                'use method="monte_carlo" or a shorter horizon.'
            )
        s, a, s_next = branch_s[branch], branch_a[branch], branch_next[branch]
        weight = policies[:, s, a] * transitions[s, a, s_next]
        state = np.concatenate([s_next, state[stay]])
        returns = np.concatenate([returns[path] + gamma**t * reward[s, a, s_next], returns[stay]])
        probability = np.concatenate([probability[:, path] * weight, probability[:, stay]], 1)
        keep = probability.max(0) > 0
        state, returns, probability = state[keep], returns[keep], probability[:, keep]
    return returns, probability


def _sampled_returns(mdp, reward, policies, horizon, n_samples, seed) -> np.ndarray:
    """Monte Carlo returns ``[N, n_samples]``, all policies and samples in one array."""
    transitions, gamma, initial, live = features.dynamics(mdp)
    reward = np.asarray(check_reward(mdp, reward), np.float64)
    rng = np.random.default_rng(seed)
    n = len(policies)
    state = rng.choice(mdp.n_states, size=(n, n_samples), p=initial)
    returns = np.zeros((n, n_samples))
    alive = live[state]
    rows = np.arange(n)[:, None]
    for t in range(horizon):  # time steps only
        action = _sample(rng, policies[rows, state])
        next_state = _sample(rng, transitions[state, action])
        returns += alive * gamma**t * reward[state, action, next_state]
        state = np.where(alive, next_state, state)
        alive &= live[state]
    return returns


def _sample(rng, probabilities: np.ndarray) -> np.ndarray:
    """One draw per row of ``probabilities[..., K]`` by inverse CDF."""
    cumulative = probabilities.cumsum(-1)
    draw = rng.random((*probabilities.shape[:-1], 1)) * cumulative[..., -1:]
    return np.minimum((draw > cumulative).sum(-1), probabilities.shape[-1] - 1)
