"""Can a Markov reward express this task? Exact answers by linear programming (Abel et al. 2021).

Three kinds of task on a finite MDP with start distribution ``d₀``:

- a set of acceptable deterministic policies (SOAP): :func:`realize_soap`;
- a partial order over (possibly stochastic) policies: :func:`realize_policy_order`;
- a partial order over finite trajectories: :func:`realize_trajectory_order`.

A reward ``r(s, a)`` scores a policy by ``V^π(d₀) = ⟨ρ^π, r⟩`` and a trajectory by
``⟨Σ_t γ^t e(s_t, a_t), r⟩``, both linear in ``r``, so "some reward realises the task"
is the feasibility of a homogeneous linear system with strict inequalities. We
maximise the margin with every ``|r| ≤ 1`` (scipy's HiGHS, in float64): a positive
margin returns the reward; a zero margin returns a Farkas certificate, a weighted
combination of the task's comparisons that is identically zero for every reward
(e.g. for the XOR task ``V(a1,a2) + V(a2,a1) − V(a1,a1) − V(a2,a2) = 0``), which the
certificate re-checks.

Rewards are returned as ``[S, A, S']`` arrays (the same value for every ``s'``), so
every other rewardviz tool applies to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial

import jax
import numpy as np

from rewardviz._deprecation import positional_options
from rewardviz.expressivity import _lp, features
from rewardviz.mdp import TabularMDP

__all__ = [
    "RELATIONS",
    "Certificate",
    "Realization",
    "policy_label",
    "realize_policy_order",
    "realize_soap",
    "realize_trajectory_order",
]

RELATIONS = {">": 1, "<": -1, "=": 0}


@dataclass(frozen=True)
class Certificate:
    """Proof that no reward realises a task: a combination that is zero for every reward.

    Attributes:
        combination: ``(coefficient, item label)`` pairs with ``Σ c_i φ_i = 0``: the
            items' values combine to 0 under *every* reward.
        requirements: ``(weight, text)`` for each comparison the task demands that
            enters the combination; their weighted sum says the same combination
            must be positive (strict ones carry positive weight).
        residual: ``‖Σ c_i φ_i‖∞ / (Σ|c_i|·max|φ|)`` in float64: how exactly the identity
            holds, relative to its size (~1e-15 for an exact certificate).
        symbol: ``"V"`` for policies, ``"G"`` for trajectory returns.
        subject: what was searched for: ``"Markov reward"`` or ``"limit-average reward"``.
    """

    combination: tuple[tuple[float, str], ...]
    requirements: tuple[tuple[float, str], ...]
    residual: float
    symbol: str = "V"
    subject: str = "Markov reward"

    @property
    def identity(self) -> str:
        """The combination as an equation, e.g. ``V(a1,a2) + V(a2,a1) − V(a1,a1) − V(a2,a2) = 0``."""
        terms = []
        for coefficient, label in self.combination:
            magnitude = abs(coefficient)
            shown = "" if magnitude == 1 else f"{_number(magnitude)}·"
            sign = "−" if coefficient < 0 else "+"
            terms.append(f"{sign} {shown}{self.symbol}({label})")
        if not terms:
            return "0 = 0"
        text = " ".join(terms)
        text = text[2:] if text.startswith("+ ") else "−" + text[2:]
        return f"{text} = 0"

    def __str__(self) -> str:
        if not self.combination:
            lines = ["No reward of any kind realises this task: its own comparisons"]
            lines += [
                f"    {text}   (weight {_number(weight)})" for weight, text in self.requirements
            ]
            lines.append("weighted and added, say 0 > 0 (a cycle).")
            return "\n".join(lines)
        lines = [
            f"No {self.subject} realises this task. For every reward r,",
            f"    {self.identity},",
            "but the task requires",
        ]
        lines += [f"    {text}   (weight {_number(weight)})" for weight, text in self.requirements]
        lines.append("and these requirements, weighted and added, make the same sum positive.")
        return "\n".join(lines)


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["reward", "margin", "values"],
    meta_fields=["realizable", "certificate", "labels", "method", "n_constraints",
                 "criterion", "note"],
)  # fmt: skip
@dataclass(frozen=True)
class Realization:
    """Answer of a realisability check (a pytree of ``reward``, ``margin`` and ``values``).

    Attributes:
        realizable: whether some Markov reward realises the task: True, False, or None
            when float64 cannot decide it (the best margin is positive but below the
            LP's tolerance and no Farkas certificate exists or checks out: the task sits
            on the edge of realisability; ``note`` says what was found).
        reward: ``[S, A, S']`` float64 reward with ``|r| ≤ 1`` when realisable (the
            unverified candidate when undecided), else None.
        margin: the smallest gap the reward achieves over all strict comparisons the task
            states (SOAP "range": best unacceptable to worst acceptable); 0 when not
            realisable; ``inf`` when the task has no strict comparison.
        certificate: why not, when not realisable.
        labels: the policies or trajectories the task compares, in ``values`` order.
        values: ``V`` (or ``G``) of each item under ``reward``; None when not realisable.
        method: how the comparisons were chosen (``"fringe"``, ``"exhaustive"``, ``"order"``).
        n_constraints: rows of the LP.
        criterion: ``"discounted"`` or ``"limit_average"``.
        note: why the answer is undecided (empty otherwise).
    """

    realizable: bool | None
    reward: np.ndarray | None
    margin: float
    certificate: Certificate | None
    labels: tuple[str, ...]
    values: np.ndarray | None
    method: str
    n_constraints: int
    criterion: str = field(default="discounted")
    note: str = ""

    def __str__(self) -> str:
        if self.realizable is None:
            return f"Undecided ({self.method}, {self.n_constraints} constraints): {self.note}"
        if self.realizable:
            return (
                f"Realisable ({self.method}, {self.n_constraints} constraints): a reward with "
                f"|r| ≤ 1 achieves margin {self.margin:.6g}."
            )
        return str(self.certificate)

    def to_frame(self):
        """One row per compared item: ``label`` and its ``value`` under ``reward`` (NaN
        when no reward realises the task)."""
        import pandas as pd

        values = np.full(len(self.labels), np.nan) if self.values is None else self.values
        return pd.DataFrame({"label": list(self.labels), "value": np.asarray(values, float)})

    def __repr__(self) -> str:
        state = f"margin={self.margin:.6g}" if self.realizable is not False else "certificate"
        return (
            f"Realization(realizable={self.realizable}, {state}, items={len(self.labels)}, "
            f"method={self.method!r}, n_constraints={self.n_constraints})"
        )


# ---------------------------------------------------------------------------
# Public checks.


@positional_options("variant")
def realize_soap(
    mdp: TabularMDP,
    acceptable,
    *,
    variant: str = "equal",
    exhaustive: bool = False,
    max_policies: int = features.MAX_POLICIES,
    progress: bool = True,
) -> Realization:
    """Is there a Markov reward under which exactly the ``acceptable`` policies come out on top?

    ``variant="equal"``: every acceptable policy has the same start value, strictly above
    every other deterministic policy. ``variant="range"``: acceptable values may differ,
    but the worst acceptable is strictly above the best unacceptable.

    The unacceptable policies compared are, by default, the *fringe*: unacceptable
    policies that differ from some acceptable one in exactly one (non-terminal) state
    (Abel et al. 2021). Why that is enough in the equal variant when every state is
    reached with positive probability under every policy (e.g. dense random MDPs): by
    the performance difference lemma ``V^f − V^g = d^f(s)·A^g(s, f(s))`` for a one-state
    deviation ``f`` of ``g``, so beating the fringe gives every acceptable ``g``
    ``A^g ≤ 0`` everywhere, i.e. makes it optimal. Optimal deterministic policies then
    form a product set (any optimal action in every state), so an unacceptable optimal
    policy would be joined to an acceptable one by one-state changes through optimal
    policies; the first unacceptable step is a fringe policy with the optimal value,
    which the constraints forbid. For the range variant and for MDPs with states some
    policy never reaches we rely on the reduction as Abel et al. state it and on our
    tests, which compare it with ``exhaustive=True`` (every deterministic policy,
    guarded by ``max_policies``) on 220 random dense and deterministic MDPs without a
    disagreement; use ``exhaustive=True`` when certainty matters and the MDP is small.

    Args:
        acceptable: deterministic policies, integer ``[S]`` or ``[N, S]``. Actions in
            terminal states are ignored (never taken).
        variant: ``"equal"`` or ``"range"`` (keyword-only).
        exhaustive: compare with every deterministic policy instead of the fringe.
        max_policies: refuse an exhaustive enumeration beyond this many policies.
        progress: show a progress bar when enumerating many policies.

    Example:
        >>> mdp = rv.expressivity.environments.xor()
        >>> rv.expressivity.realize_soap(mdp, [[0, 1], [1, 0]]).realizable
        False
    """
    if variant not in ("equal", "range"):
        raise ValueError(f'variant must be "equal" or "range", got {variant!r}.')
    good = _unique_rows(features.canonical_policies(mdp, acceptable, name="acceptable"))
    if exhaustive:
        candidates = features.deterministic_policies(mdp, max_policies=max_policies)
    else:
        candidates = _one_state_deviations(mdp, good)
    good_keys = {row.tobytes() for row in good}
    bad = _unique_rows(
        np.array([row for row in candidates if row.tobytes() not in good_keys], np.int64).reshape(
            -1, mdp.n_states
        )
    )
    policies = np.concatenate([good, bad])
    labels = tuple(policy_label(mdp, row) for row in policies)
    phi = features.occupancy_features(
        mdp, np.eye(mdp.n_actions)[policies], progress=progress and exhaustive
    )
    method = "exhaustive" if exhaustive else "fringe"
    n_good = len(good)
    good_index, bad_index = np.arange(n_good), np.arange(n_good, len(policies))
    if variant == "equal":
        strict = [(0, int(j)) for j in bad_index]
        ties = [(0, int(i)) for i in good_index[1:]]
        return _solve(mdp, phi, labels, strict, ties, method, "V")
    return _solve_threshold(mdp, phi, labels, good_index, bad_index, method)


def realize_policy_order(
    mdp: TabularMDP,
    pairs: Sequence,
    policies: Mapping | Sequence | None = None,
    *,
    criterion: str = "discounted",
) -> Realization:
    """Is there a Markov reward whose policy values respect this partial order?

    Args:
        pairs: ``(left, relation, right)`` triples with relation ``">"``, ``"<"`` or
            ``"="``. ``left`` and ``right`` are policies (integer ``[S]`` or stochastic
            ``[S, A]`` arrays) or, when ``policies`` is given, its keys or indices.
        policies: optional named policies (a mapping name → policy, or a sequence).
        criterion: ``"discounted"`` (``V^π(d₀) = ⟨ρ^π, r⟩``, the default) or
            ``"limit_average"`` (``lim (1/T) E Σ_t r = ⟨μ^π, r⟩``).

    Stochastic policies are allowed because a Markov reward's value is linear in the
    occupancy measure; a value that is not linear in it (e.g. ``f(V)`` for nonlinear
    ``f``) is exactly what this check exposes.

    Example:
        >>> mdp = rv.expressivity.environments.xor()
        >>> pairs = [([0, 0], ">", [1, 1]), ([0, 1], "=", [0, 0])]
        >>> rv.expressivity.realize_policy_order(mdp, pairs).realizable
        True
    """
    items, labels, strict, ties = _resolve_pairs(mdp, pairs, policies)
    stacked = features.stochastic_policies(mdp, items, name="policies")
    if criterion == "discounted":
        phi = features.occupancy_features(mdp, stacked)
    elif criterion == "limit_average":
        phi = features.limit_average_features(mdp, stacked)
    else:
        raise ValueError(f'criterion must be "discounted" or "limit_average", got {criterion!r}.')
    return _solve(mdp, phi, labels, strict, ties, "order", "V", criterion)


def realize_trajectory_order(
    mdp: TabularMDP, pairs: Sequence, horizon: int, trajectories: Mapping | Sequence | None = None
) -> Realization:
    """Is there a Markov reward whose discounted trajectory returns respect this order?

    A trajectory is a sequence of ``(state, action)`` pairs of length ``horizon``; its
    return under ``r(s, a)`` is ``Σ_t γ^t r(s_t, a_t) = ⟨Σ_t γ^t e(s_t, a_t), r⟩``.

    Example:
        >>> mdp = rv.expressivity.environments.xor()
        >>> up, down = [(0, 0), (1, 0)], [(0, 1), (1, 0)]
        >>> rv.expressivity.realize_trajectory_order(mdp, [(up, ">", down)], horizon=2).realizable
        True
    """
    horizon = int(horizon)
    if horizon < 1:
        raise ValueError(f"horizon must be a positive number of steps, got {horizon}.")
    items, labels, strict, ties = _resolve_pairs(mdp, pairs, trajectories, trajectory=True)
    phi = features.trajectory_features(mdp, items, horizon)
    return _solve(mdp, phi, labels, strict, ties, "order", "G")


def policy_label(mdp: TabularMDP, policy: np.ndarray) -> str:
    """``"a1,a2"``: the action names a deterministic policy takes in non-terminal states."""
    names = mdp.action_names or tuple(str(a) for a in range(mdp.n_actions))
    live = ~np.asarray(mdp.terminal, bool)
    return ",".join(names[int(a)] for a in np.asarray(policy)[live])


# ---------------------------------------------------------------------------
# LP assembly.


def _solve(mdp, phi, labels, strict, ties, method, symbol, criterion="discounted") -> Realization:
    strict_rows = _difference_rows(phi, strict)
    tie_rows = _difference_rows(phi, ties)
    solution = _lp.max_margin(strict_rows, tie_rows)
    n_constraints = len(strict) + len(ties)
    if solution.realizable is not False:
        reward = solution.reward
        return Realization(
            solution.realizable,
            None if reward is None else _as_transition_reward(mdp, reward),
            solution.margin, None, labels, None if reward is None else phi @ reward,
            method, n_constraints, criterion, solution.note,
        )  # fmt: skip
    rows = [(w, {i: 1.0, j: -1.0}, f"{symbol}({labels[i]}) > {symbol}({labels[j]})")
            for w, (i, j) in zip(solution.strict_weights, strict, strict=True)]  # fmt: skip
    for w, (i, j) in zip(solution.tie_weights, ties, strict=True):
        # A tie may enter with either sign; state it so that its weight reads positive.
        left, right = (i, j) if w >= 0 else (j, i)
        rows.append((w, {i: 1.0, j: -1.0}, f"{symbol}({labels[left]}) = {symbol}({labels[right]})"))
    subject = "Markov reward" if criterion == "discounted" else "limit-average reward"
    certificate = _certificate(phi, labels, rows, symbol, subject)
    return Realization(
        False, None, 0.0, certificate, labels, None, method, n_constraints, criterion
    )


def _solve_threshold(mdp, phi, labels, good, bad, method) -> Realization:
    """Range SOAP: ``V(g) ≥ t + ε`` for acceptable ``g``, ``V(f) ≤ t − ε`` for the rest.

    One threshold ``t`` turns |good|·|bad| comparisons into |good| + |bad| rows; a
    certificate then reads "a weighted average of acceptable values equals a weighted
    average of unacceptable values for every reward".
    """
    d = phi.shape[1]
    if len(bad) == 0:
        return Realization(
            True, np.zeros((mdp.n_states, mdp.n_actions, mdp.n_states)), np.inf, None,
            labels, np.zeros(len(labels)), method, 0,
        )  # fmt: skip
    strict = np.vstack(
        [
            np.hstack([phi[good], -np.ones((len(good), 1))]),
            np.hstack([-phi[bad], np.ones((len(bad), 1))]),
        ]
    )
    solution = _lp.max_margin(strict, np.zeros((0, d + 1)), free=1)
    if solution.realizable is not False:
        if solution.reward is None:
            return Realization(
                None, None, solution.margin, None, labels, None, method, len(good) + len(bad),
                note=solution.note,
            )  # fmt: skip
        values = phi @ solution.reward[:d]
        margin = float(values[good].min() - values[bad].max())
        return Realization(
            solution.realizable, _as_transition_reward(mdp, solution.reward[:d]), margin,
            None, labels, values, method, len(good) + len(bad), note=solution.note,
        )  # fmt: skip
    weights = solution.strict_weights
    rows = [(w, {int(i): 1.0}, f"V({labels[i]}) above every unacceptable value")
            for w, i in zip(weights[: len(good)], good, strict=True)]  # fmt: skip
    rows += [(w, {int(j): -1.0}, f"V({labels[j]}) below every acceptable value")
             for w, j in zip(weights[len(good) :], bad, strict=True)]  # fmt: skip
    certificate = _certificate(phi, labels, rows, "V")
    return Realization(False, None, 0.0, certificate, labels, None, method, len(good) + len(bad))


def _certificate(phi, labels, rows, symbol, subject="Markov reward") -> Certificate:
    """Collapse weighted requirement rows into per-item coefficients and make them readable."""
    coefficients = np.zeros(len(labels))
    for weight, terms, _ in rows:
        for item, sign in terms.items():
            coefficients[item] += weight * sign
    big = np.abs(coefficients).max()
    coefficients[np.abs(coefficients) <= 1e-9 * big] = 0.0
    nonzero = np.abs(coefficients[coefficients != 0])
    unit = nonzero.min() if nonzero.size else 1.0  # all cancel: the task contradicts itself
    scaled, used = _readable(coefficients / unit, phi), [r for r in rows if abs(r[0]) > 1e-12]
    residual = _residual(scaled, phi)
    combination = tuple((float(c), labels[i]) for i, c in enumerate(scaled) if c != 0)
    requirements = tuple((float(abs(w) / unit), text) for w, _, text in used)
    return Certificate(combination, requirements, residual, symbol, subject)


def _readable(coefficients: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Small-denominator fractions when they satisfy the identity as well as the floats do."""
    rounded = np.array([float(Fraction(c).limit_denominator(24)) for c in coefficients])
    floor = 1e-13 * max(1.0, float(np.abs(phi).max())) * np.abs(coefficients).sum()
    if _residual(rounded, phi) <= max(10 * _residual(coefficients, phi), floor):
        return rounded
    return coefficients


def _residual(coefficients: np.ndarray, phi: np.ndarray) -> float:
    """``‖Σ c_i φ_i‖∞ / (Σ|c_i| · max|φ|)``: how far the identity is from exact, scale-free."""
    size = np.abs(coefficients).sum() * max(1.0, float(np.abs(phi).max()))
    if size == 0:
        return 0.0
    return float(np.abs(coefficients @ phi).max() / size)


def _difference_rows(phi: np.ndarray, pairs) -> np.ndarray:
    if not pairs:
        return np.zeros((0, phi.shape[1]))
    left, right = np.array(pairs).T
    return phi[left] - phi[right]


def _as_transition_reward(mdp: TabularMDP, state_action: np.ndarray) -> np.ndarray:
    table = state_action.reshape(mdp.n_states, mdp.n_actions)
    return np.repeat(table[:, :, None], mdp.n_states, axis=2)


def _one_state_deviations(mdp: TabularMDP, good: np.ndarray) -> np.ndarray:
    """Every policy that changes one acceptable policy in exactly one non-terminal state."""
    live = np.flatnonzero(~np.asarray(mdp.terminal, bool))
    actions = np.arange(mdp.n_actions)
    # [G, L, A, S]: policy g with state live[l] switched to action a.
    changed = np.broadcast_to(good[:, None, None, :], (len(good), live.size, actions.size,
                                                       mdp.n_states)).copy()  # fmt: skip
    changed[:, np.arange(live.size), :, live] = actions[None, None, :]
    differs = good[:, live][:, :, None] != actions[None, None, :]
    return changed[differs]


def _unique_rows(rows: np.ndarray) -> np.ndarray:
    if len(rows) == 0:
        return rows
    _, first = np.unique(rows, axis=0, return_index=True)
    return rows[np.sort(first)]


def _resolve_pairs(mdp, pairs, named, trajectory=False):
    """Turn ``(left, relation, right)`` triples into item lists and index pairs."""
    if isinstance(named, Mapping):
        lookup, names = dict(named), list(named)
    elif named is not None:
        lookup, names = dict(enumerate(named)), None
    else:
        lookup, names = None, None
    items, labels, index = [], [], {}
    strict, ties = [], []
    kind = "trajectory" if trajectory else "policy"

    def item_index(reference, position):
        if lookup is not None:
            try:
                value = lookup[reference]
            except (KeyError, TypeError):
                known = ", ".join(map(repr, lookup)) if len(lookup) < 12 else f"{len(lookup)} keys"
                raise ValueError(
                    f"pairs[{position}] refers to {reference!r}, which is not among the "
                    f"given {kind} names ({known})."
                ) from None
            key = ("name", reference)
        else:
            value = reference
            key = ("value", np.asarray(reference).tobytes(), np.shape(reference))
        if key not in index:
            index[key] = len(items)
            items.append(value)
            labels.append(_item_label(mdp, value, reference, names, len(items), trajectory))
        return index[key]

    if len(pairs) == 0:
        raise ValueError("pairs is empty; give at least one (left, relation, right) triple.")
    for position, triple in enumerate(pairs):
        if len(triple) != 3 or triple[1] not in RELATIONS:
            raise ValueError(
                f"pairs[{position}] must be (left, relation, right) with relation one of "
                f"'>', '<', '=', got {triple!r}."
            )
        left, relation, right = triple
        i, j = item_index(left, position), item_index(right, position)
        if RELATIONS[relation] == 0:
            ties.append((i, j))
        else:
            strict.append((i, j) if RELATIONS[relation] > 0 else (j, i))
    return items, tuple(labels), strict, ties


def _item_label(mdp, value, reference, names, count, trajectory) -> str:
    if names is not None:
        return str(reference)
    if trajectory:
        return " ".join(f"s{int(s)}·a{int(a)}" for s, a in np.asarray(value))
    array = np.asarray(value)
    if array.shape == (mdp.n_states,) and np.issubdtype(array.dtype, np.integer):
        return policy_label(mdp, array)
    return f"π{count}"


def _number(value: float) -> str:
    fraction = Fraction(value).limit_denominator(24)
    if abs(float(fraction) - value) < 1e-12:
        return str(fraction)
    return f"{value:.4g}"
