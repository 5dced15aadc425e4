"""Expressivity: which tasks a Markov reward can express, decided exactly, and how formalisms relate.

- :mod:`~rewardviz.expressivity.realize`: realisability of SOAPs, policy orders and
  trajectory orders by linear programming, with a reward or a certificate (Abel et al. 2021).
- :mod:`~rewardviz.expressivity.objectives`: objectives of other formalisms (limit average,
  nonlinear, regularised, multi-objective, LTLf, reward machines) on a finite MDP, the
  orderings they induce, and whether a Markov reward induces the same.
- :mod:`~rewardviz.expressivity.reward_machines` and :mod:`~rewardviz.expressivity.ltlf`:
  reward machines (parse, product, potentials) and LTLf compiled to automata.
- :mod:`~rewardviz.expressivity.formalisms`: the map of objective-specification
  formalisms (Subramani et al. 2024) as data, :func:`formalism_map`, each relation with
  its status and source or a witness this package checks.

Everything here runs on the host in float64 (scipy's HiGHS LP solver); nothing imports
plotly or ipywidgets.

    >>> mdp = rv.expressivity.environments.xor()
    >>> print(rv.expressivity.realize_soap(mdp, [[0, 1], [1, 0]]).certificate.identity)
    V(a1,a2) + V(a2,a1) − V(a2,a2) − V(a1,a1) = 0
"""

from rewardviz.expressivity import environments, formalisms, ltlf
from rewardviz.expressivity.features import (
    MAX_POLICIES,
    canonical_policies,
    deterministic_policies,
    dynamics,
    limit_average_features,
    live_state_count,
    occupancy_features,
    policy_count,
    stochastic_policies,
    trajectory_features,
)
from rewardviz.expressivity.formalisms import (
    ABSTRACT,
    KINDS,
    REVIEWS,
    STATUSES,
    SUBRAMANI,
    SUMMARY,
    WITNESSES,
    Formalism,
    FormalismMap,
    Relation,
    Witness,
    formalism_map,
)
from rewardviz.expressivity.objectives import (
    MAX_PATHS,
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
    RELATIONS,
    Certificate,
    Realization,
    policy_label,
    realize_policy_order,
    realize_soap,
    realize_trajectory_order,
)
from rewardviz.expressivity.reward_machines import (
    NO_MATCH_MODES,
    NO_MATCH_STATE,
    OVERLAP_MODES,
    Edge,
    Labeling,
    RewardMachine,
    RewardMachineError,
    product,
    shaping_potential,
    state_labels,
)

# The package is the namespace: every public name of the modules above, reachable as
# rv.expressivity.<name> and documented once, on this page.
__all__ = [
    "ABSTRACT",
    "KINDS",
    "MAX_PATHS",
    "MAX_POLICIES",
    "NO_MATCH_MODES",
    "NO_MATCH_STATE",
    "OVERLAP_MODES",
    "RELATIONS",
    "REVIEWS",
    "STATUSES",
    "SUBRAMANI",
    "SUMMARY",
    "WITNESSES",
    "Certificate",
    "Edge",
    "EntropyRegularized",
    "Formalism",
    "FormalismMap",
    "InnerNonlinear",
    "LTLf",
    "Labeling",
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
    "canonical_policies",
    "deterministic_policies",
    "dynamics",
    "environments",
    "expressible_as_markov",
    "formalism_map",
    "formalisms",
    "limit_average_features",
    "live_state_count",
    "ltlf",
    "occupancy_features",
    "policy_count",
    "policy_label",
    "policy_ordering",
    "product",
    "realize_policy_order",
    "realize_soap",
    "realize_trajectory_order",
    "shaping_potential",
    "state_labels",
    "stochastic_policies",
    "trajectory_features",
]
