"""The map of objective-specification formalisms, as data that never overstates what is known.

Subramani, Williams, Heitmann, Holm, Griffin and Skalse (ICLR 2024, arXiv 2310.11840)
order 17 formalisms by the policy orderings their objectives can induce. Only part of
their diagram could be checked against the paper itself (its abstract), so every
relation here carries a ``status``:

- ``"cited"``: stated in the paper, in a part we checked (the abstract), with the citation;
- ``"reconstructed"``: believed but not verified against the paper — from the published
  OpenReview reviews (which describe the paper but are not the paper), a third-party
  summary, or our own reasoning; plots draw it dashed and label it, and it must never be
  presented as established;
- ``"witnessed"``: demonstrated by a witness this package builds and checks (an
  environment and an objective whose induced ordering the weaker formalism cannot
  realise, re-checked in the test suite), together with an inclusion that holds by
  definition.

Relations are ``"strictly more expressive"`` (``left`` can express everything ``right``
can, and more), ``"equivalent"`` or ``"incomparable"``.
"""

from __future__ import annotations

import itertools
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rewardviz import _deprecation
from rewardviz.expressivity import environments
from rewardviz.expressivity.objectives import (
    EntropyRegularized,
    LimitAverage,
    MarkovReward,
    OuterNonlinear,
    RewardMachineObjective,
    expressible_as_markov,
)
from rewardviz.expressivity.realize import Realization
from rewardviz.expressivity.reward_machines import RewardMachine
from rewardviz.mdp import TabularMDP

__all__ = [
    "ABSTRACT",
    "KINDS",
    "REVIEWS",
    "STATUSES",
    "SUBRAMANI",
    "SUMMARY",
    "WITNESSES",
    "Formalism",
    "FormalismMap",
    "Relation",
    "Witness",
    "formalism_map",
]

SUBRAMANI = (
    "Subramani, Williams, Heitmann, Holm, Griffin, Skalse. On the Expressivity of "
    "Objective-Specification Formalisms in Reinforcement Learning. ICLR 2024, arXiv 2310.11840"
)
ABSTRACT = SUBRAMANI + ", abstract"
REVIEWS = "published OpenReview reviews of " + SUBRAMANI + " (reviewers' words, not the paper's)"
SUMMARY = "third-party summary of " + SUBRAMANI + " (not checked against the paper)"

KINDS = ("strictly more expressive", "equivalent", "incomparable")
STATUSES = ("cited", "reconstructed", "witnessed")


@dataclass(frozen=True)
class Formalism:
    """One way to specify an objective: ``key`` (e.g. ``"MR"``), name, objective, source."""

    key: str
    name: str
    objective: str
    source: str
    layer: int  # height in the Hasse diagram (more expressive higher); drawing only
    note: str = ""


@dataclass(frozen=True)
class Witness:
    """A machine-checkable demonstration that ``formalism`` expresses what ``weaker`` cannot.

    ``build()`` returns ``(mdp, policies, names, objective)``; :meth:`check` recomputes the
    objective's ordering of the policies and runs the realisability LP of the weaker
    formalism, returning the :class:`Realization` (``realizable`` must be False).
    """

    name: str
    description: str
    build: Callable[[], tuple]
    criterion: str = "discounted"

    def check(self) -> Realization:
        mdp, policies, names, objective = self.build()
        if self.criterion == "discounted":
            return expressible_as_markov(mdp, objective, policies, names=names)
        # The weaker formalism is limit-average: order by the objective, realise with μ^π.
        return expressible_as_markov(
            mdp, objective, policies, names=names, criterion="limit_average"
        )


@dataclass(frozen=True)
class Relation:
    """An expressivity relation between formalisms ``left`` and ``right``.

    ``kind`` is read left to right ("MR" … "ONMR" with kind "strictly more expressive"
    would be wrong: ``left`` is the more expressive one). ``source`` cites where the
    relation is stated; ``witnesses`` are the checks behind a ``"witnessed"`` relation;
    ``justification`` explains it in a sentence.
    """

    left: str
    right: str
    kind: str
    status: str
    justification: str
    source: str = ""
    witnesses: tuple[Witness, ...] = field(default=())


@dataclass(frozen=True)
class FormalismMap:
    """Formalisms and the relations between them; see :func:`formalisms`."""

    formalisms: tuple[Formalism, ...]
    relations: tuple[Relation, ...]

    def formalism(self, key: str) -> Formalism:
        for item in self.formalisms:
            if item.key == key:
                return item
        known = ", ".join(f.key for f in self.formalisms)
        raise KeyError(f"no formalism {key!r}; known: {known}.")

    def relations_of(self, key: str) -> tuple[Relation, ...]:
        self.formalism(key)
        return tuple(r for r in self.relations if key in (r.left, r.right))

    def to_frame(self):
        """The relations as a pandas DataFrame (one row per relation)."""
        import pandas

        return pandas.DataFrame(
            [
                {
                    "left": r.left,
                    "kind": r.kind,
                    "right": r.right,
                    "status": r.status,
                    "source": r.source,
                    "witnesses": ", ".join(w.name for w in r.witnesses),
                    "justification": r.justification,
                }
                for r in self.relations
            ]
        )


# ---------------------------------------------------------------------------
# Witness environments (each small enough to print).

_HALF = ("p=0", "p=1/2", "p=1")


def _bandit_mixtures():
    """XOR environment read as a one-step bandit: play ``a1`` with probability p."""
    mdp = environments.xor()
    policies = [np.array([[p, 1 - p], [1.0, 0.0]]) for p in (0.0, 0.5, 1.0)]
    bonus = np.zeros((2, 2, 2))
    bonus[0, 0] = 1.0  # reward 1 for a1 at s0, so V(π_p) = p
    return mdp, policies, bonus


def _outer_nonlinear():
    mdp, policies, bonus = _bandit_mixtures()
    return mdp, policies, _HALF, OuterNonlinear(bonus, lambda v: -((v - 0.5) ** 2))


def _entropy_regularized():
    mdp, policies, _ = _bandit_mixtures()
    return mdp, policies, _HALF, EntropyRegularized(np.zeros((2, 2, 2)), temperature=1.0)


def _stay_go_mixtures():
    mdp = environments.stay_go()
    return mdp, [np.array([[1 - p, p], [1.0, 0.0]]) for p in (0.0, 0.5, 1.0)]


def _limit_average():
    mdp, policies = _stay_go_mixtures()
    at_goal = np.zeros((2, 2, 2))
    at_goal[1] = 1.0
    return mdp, policies, _HALF, LimitAverage(at_goal)


def _markov_not_limit_average():
    mdp, _, bonus = _bandit_mixtures()
    return mdp, [np.array([0, 0]), np.array([1, 0])], ("a1 first", "a2 first"), MarkovReward(bonus)


def _visit_a_then_b() -> tuple[TabularMDP, RewardMachine, list[str]]:
    """Three rooms (home, a, b) and the machine paying 1 on reaching b after a."""
    # "stay": the machine waits in state 0 until a, then in state 1 until b.
    text = "0\n[2]\n(0, 1, 'a', 0)\n(1, 2, 'b', 1)"
    machine = RewardMachine.from_text(text, on_no_match="stay")
    return environments.three_rooms(), machine, ["", "a", "b"]


def _reward_machine():
    mdp, machine, labels = _visit_a_then_b()
    # (home, a, b) → room walked to. Found by shrinking all 27 deterministic policies to a
    # smallest set whose machine ordering is still unrealisable.
    policies = [np.array(p) for p in ([1, 2, 1], [1, 2, 2], [2, 2, 1], [2, 2, 2])]
    names = ("a, b, then a", "a, b, then stay", "b, a, b", "b forever")
    return mdp, policies, names, RewardMachineObjective(machine, labels)


WITNESSES = {
    "outer_nonlinear": Witness(
        "outer nonlinear on the one-step bandit",
        "J(π_p) = −(V(π_p) − ½)² with V(π_p) = p ranks p=½ above p=0 and p=1, which tie; "
        "a Markov value is linear in p here, so V(½) is the average of V(0) and V(1).",
        _outer_nonlinear,
    ),
    "entropy_regularized": Witness(
        "entropy bonus on the one-step bandit",
        "J(π_p) = α·H(p) ranks p=½ above p=0 = p=1; no Markov reward does (values are "
        "linear in p).",
        _entropy_regularized,
    ),
    "limit_average": Witness(
        "limit average on stay/go",
        "Reward 1 for being at the goal, limit average: every p > 0 scores 1, p = 0 scores "
        "0. A discounted Markov value with V(½) = V(1) forces V(0) = V(1).",
        _limit_average,
    ),
    "markov_not_limit_average": Witness(
        "discounted reward on the one-step bandit, against limit averages",
        "A discounted reward for a1 at the start prefers a1 there; both policies then "
        "spend the long run in s1 doing the same, so every limit-average reward ties them.",
        _markov_not_limit_average,
        criterion="limit_average",
    ),
    "reward_machine": Witness(
        "visit a, then b, in three rooms",
        "A reward machine pays 1 on reaching b after a. Going a then b earns it whatever "
        "follows; going to b first earns it only if the agent later walks b → a → b. A "
        "Markov reward sees the same rooms and moves in both cases and cannot make what "
        "happens after b matter in one and not the other.",
        _reward_machine,
    ),
}


def formalism_map() -> FormalismMap:
    """The formalism map: 17 formalisms and the relations we can stand behind, each with status.

    Draw it with ``rv.plots.formalism_map``. (Formerly ``rv.expressivity.formalisms()``,
    a function that shadowed this module; calling the module still works for one
    release, with a warning.)

    Example:
        >>> fmap = rv.expressivity.formalism_map()
        >>> sorted({r.status for r in fmap.relations})
        ['cited', 'reconstructed', 'witnessed']
    """
    items = (
        Formalism("MR", "Markov rewards", "E[Σ_t γ^t R(s_t, a_t, s_{t+1})]", SUBRAMANI, 0),
        Formalism("LAR", "limit-average rewards", "lim_{T→∞} (1/T) E[Σ_{t<T} R(s_t, a_t, s_{t+1})]", SUBRAMANI, 1),
        Formalism("LTL", "linear temporal logic", "P(trajectory ⊨ φ)", SUBRAMANI, 1),
        Formalism(
            "RM", "reward machines", "E[Σ_t γ^t R_M(u_t, s_t, a_t, s_{t+1})], machine state u_t", SUBRAMANI, 1,
            note="Toro Icarte et al. put a reward function R(s, a, s') on each machine edge. "
            "rewardviz's machines (rv.expressivity.RewardMachine) pay a constant per edge and read "
            "the labels L(s') of the state entered; R(s, a, s') is expressed with them by labelling "
            "transitions: refine the MDP so that each state also records the transition that "
            "entered it, label it with that transition, and give the one-state machine an edge per "
            "label paying R(s, a, s').",
        ),
        Formalism("RRL", "regularised RL", "E[Σ_t γ^t R] − α·F(π), e.g. F = −entropy", SUBRAMANI, 1),
        Formalism("ONMR", "outer nonlinear Markov rewards", "f(E[Σ_t γ^t R])", SUBRAMANI, 1),
        Formalism("INMR", "inner nonlinear Markov rewards", "E[f(Σ_t γ^t R)]", SUBRAMANI, 1),
        Formalism("IMORL", "inner multi-objective RL", "E[f(Σ_t γ^t R_1, …, Σ_t γ^t R_k)]", SUBRAMANI, 1),
        Formalism("FTR", "functions from trajectories to reals", "E[f(ξ)] over trajectories ξ", SUBRAMANI, 1),
        Formalism("OMORL", "outer multi-objective RL", "f(E[Σ_t γ^t R_1], …, E[Σ_t γ^t R_k])", SUBRAMANI, 2),
        Formalism("FOMR", "functions from occupancy measures to reals", "f(ρ^π)", SUBRAMANI, 2),
        Formalism("FTLR", "functions from trajectory lotteries to reals", "f(distribution of ξ under π)", SUBRAMANI, 2),
        Formalism("GOMORL", "generalised outer multi-objective RL", "an ordering of (E[Σ γ^t R_1], …, E[Σ γ^t R_k]) vectors", SUBRAMANI, 3),
        Formalism("OMO", "occupancy measure orderings", "a total preorder on occupancy measures ρ^π", SUBRAMANI, 3),
        Formalism("TLO", "trajectory lottery orderings", "a total preorder on trajectory distributions", SUBRAMANI, 3),
        Formalism("PO", "policy orderings", "a total preorder on policies", SUBRAMANI, 4),
        Formalism(
            "FPR", "functions from policies to reals", "f(π)", SUMMARY, 4,
            note="Listed as the probable 17th formalism by a third-party summary; membership "
            "unverified, so no relation is drawn for it.",
        ),
    )  # fmt: skip
    five = ("LAR", "LTL", "RM", "RRL", "ONMR")
    relations = [
        Relation(
            a, b, "incomparable", "cited",
            "Each of regularised RL, outer nonlinear Markov rewards, reward machines, LTL and "
            "limit-average rewards can express a task the others cannot.",
            ABSTRACT,
        )
        for index, a in enumerate(five)
        for b in five[index + 1 :]
    ]  # fmt: skip
    relations += [
        Relation(
            "OMO", "FOMR", "strictly more expressive", "reconstructed",
            "Occupancy-measure orderings are strictly more expressive than functions from "
            "occupancy measures to reals, as the published reviews describe the paper; not "
            "checked against the paper itself.", REVIEWS,
        ),
        Relation(
            "FOMR", "FTR", "strictly more expressive", "reconstructed",
            "Functions from trajectories to reals are less expressive than functions from "
            "occupancy measures to reals, as the published reviews describe the paper; not "
            "checked against the paper itself.", REVIEWS,
        ),
        Relation(
            "ONMR", "MR", "strictly more expressive", "witnessed",
            "Inclusion by definition (f = identity); strict by the one-step bandit witness.",
            witnesses=(WITNESSES["outer_nonlinear"],),
        ),
        Relation(
            "RRL", "MR", "strictly more expressive", "witnessed",
            "Inclusion by definition (α = 0); strict by the entropy-bonus witness.",
            witnesses=(WITNESSES["entropy_regularized"],),
        ),
        Relation(
            "RM", "MR", "strictly more expressive", "witnessed",
            "Inclusion holds for Toro Icarte et al.'s definition, whose edges carry reward "
            "functions R(s, a, s'): a one-state machine paying R expresses any Markov reward. "
            "rewardviz's machines pay constants and read the labels of the state entered, so "
            "they express R(s, a, s') once states are labelled by the transition that entered "
            "them (see the RM note). Strict by the visit-a-then-b witness.",
            witnesses=(WITNESSES["reward_machine"],),
        ),
        Relation(
            "LAR", "MR", "incomparable", "witnessed",
            "Limit averages see only the long run (stay/go witness: no discounted reward "
            "matches); discounted rewards see the start (bandit witness: no limit average "
            "matches).",
            witnesses=(WITNESSES["limit_average"], WITNESSES["markov_not_limit_average"]),
        ),
        Relation(
            "PO", "OMO", "strictly more expressive", "reconstructed",
            "A total policy ordering is the most expressive specification (as the reviews "
            "describe the paper); strictness because two policies differing only in unreached states "
            "share an occupancy measure is our reasoning, not checked against the paper.",
            REVIEWS,
        ),
        Relation(
            "INMR", "MR", "strictly more expressive", "reconstructed",
            "Inclusion by definition (f = identity); strictness believed, no witness here.",
        ),
        Relation(
            "OMORL", "ONMR", "strictly more expressive", "reconstructed",
            "Outer multi-objective with k = 1 is outer nonlinear; strictness believed.",
        ),
        Relation(
            "GOMORL", "OMORL", "strictly more expressive", "reconstructed",
            "An ordering of value vectors generalises a function of them; strictness believed.",
        ),
        Relation(
            "FOMR", "ONMR", "strictly more expressive", "reconstructed",
            "f(E[G]) is a function of the occupancy measure; strictness believed.",
        ),
        Relation(
            "FOMR", "RRL", "strictly more expressive", "reconstructed",
            "Holds only for occupancy-weighted regularisers, such as the discounted policy "
            "entropy Σ_s ρ^π(s) H(π(·|s)): π is recoverable from ρ^π where ρ^π(s) > 0, so "
            "such objectives are functions of ρ^π. A regulariser that depends on π at states "
            "the policy never visits, or otherwise not through ρ^π, is not covered. "
            "Strictness believed.",
        ),
    ]  # fmt: skip
    for group in (("INMR", "IMORL", "FTR"), ("OMORL", "FOMR", "FTLR"), ("GOMORL", "OMO", "TLO")):
        relations += [
            Relation(a, b, "equivalent", "reconstructed",
                     f"{' = '.join(group)} according to a third-party summary.", SUMMARY)
            for a, b in itertools.pairwise(group)
        ]  # fmt: skip
    return FormalismMap(items, tuple(relations))


class _CallableModule(types.ModuleType):
    """This module, callable as the function it used to be shadowed by (one release)."""

    def __call__(self) -> FormalismMap:
        _deprecation.warn("rv.expressivity.formalisms()", "rv.expressivity.formalism_map()")
        return formalism_map()


sys.modules[__name__].__class__ = _CallableModule
__getattr__ = _deprecation.module_getattr(
    __name__, {"formalisms": "rewardviz.expressivity.formalisms.formalism_map"}
)
