"""Plot builders: arrays in, figures out. They never solve an MDP; they draw what they are given.

>>> import rewardviz as rv
>>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
>>> q = rv.solve.q_values(mdp, reward)
>>> figure = rv.plots.gridworld(mdp, q.max(-1), rv.solve.greedy_policy(q))
"""

from rewardviz.plots.decompose import (
    correlation_heatmap,
    ranking_change,
    return_distributions,
    return_shares,
    stacked_contributions,
    state_heatmap,
    update_ranking_change,
    update_return_shares,
    update_stacked_contributions,
    variance_attribution,
)
from rewardviz.plots.distances import (
    cluster_order,
    distance_matrix,
    potential_heatmap,
    regret_vs_distance,
    shaping_comparison,
    update_shaping_comparison,
)
from rewardviz.plots.gridworld import gridworld, gridworld_matplotlib, update_gridworld

__all__ = [
    "cluster_order",
    "correlation_heatmap",
    "distance_matrix",
    "gridworld",
    "gridworld_matplotlib",
    "potential_heatmap",
    "ranking_change",
    "regret_vs_distance",
    "return_distributions",
    "return_shares",
    "shaping_comparison",
    "stacked_contributions",
    "state_heatmap",
    "update_gridworld",
    "update_ranking_change",
    "update_return_shares",
    "update_shaping_comparison",
    "update_stacked_contributions",
    "variance_attribution",
]
