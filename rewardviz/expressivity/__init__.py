"""Expressivity: which tasks a Markov reward can express, decided exactly, and how formalisms relate.

- :mod:`~rewardviz.expressivity.realize`: realisability of SOAPs, policy orders and
  trajectory orders by linear programming, with a reward or a certificate (Abel et al. 2021).
- :mod:`~rewardviz.expressivity.objectives`: objectives of other formalisms (limit average,
  nonlinear, regularised, multi-objective, LTLf, reward machines) on a finite MDP, the
  orderings they induce, and whether a Markov reward induces the same.
- :mod:`~rewardviz.expressivity.reward_machines` and :mod:`~rewardviz.expressivity.ltlf`:
  reward machines (parse, product, potentials) and LTLf compiled to automata.
- :mod:`~rewardviz.expressivity.formalisms`: the map of objective-specification
  formalisms (Subramani et al. 2024) as data, each relation with its status and source
  or a witness this package checks.

Everything here runs on the host in float64 (scipy's HiGHS LP solver); nothing imports
plotly or ipywidgets.

    >>> mdp = rv.expressivity.environments.xor()
    >>> print(rv.expressivity.realize_soap(mdp, [[0, 1], [1, 0]]).certificate.identity)
    V(a1,a2) + V(a2,a1) − V(a1,a1) − V(a2,a2) = 0
"""

from rewardviz.expressivity import environments, ltlf
from rewardviz.expressivity.features import deterministic_policies
from rewardviz.expressivity.formalisms import Formalism, FormalismMap, Relation, Witness, formalisms
from rewardviz.expressivity.objectives import (
    EntropyRegularized,
    InnerNonlinear,
    LimitAverage,
    LTLf,
    MarkovReward,
    MultiObjective,
    OuterNonlinear,
    PolicyOrdering,
    RewardMachineObjective,
    expressible_as_markov,
    policy_ordering,
)
from rewardviz.expressivity.realize import (
    Certificate,
    Realization,
    realize_policy_order,
    realize_soap,
    realize_trajectory_order,
)
from rewardviz.expressivity.reward_machines import (
    RewardMachine,
    RewardMachineError,
    product,
    shaping_potential,
)

__all__ = [
    "Certificate",
    "EntropyRegularized",
    "Formalism",
    "FormalismMap",
    "InnerNonlinear",
    "LTLf",
    "LimitAverage",
    "MarkovReward",
    "MultiObjective",
    "OuterNonlinear",
    "PolicyOrdering",
    "Realization",
    "Relation",
    "RewardMachine",
    "RewardMachineError",
    "RewardMachineObjective",
    "Witness",
    "deterministic_policies",
    "environments",
    "expressible_as_markov",
    "formalisms",
    "ltlf",
    "policy_ordering",
    "product",
    "realize_policy_order",
    "realize_soap",
    "realize_trajectory_order",
    "shaping_potential",
]
