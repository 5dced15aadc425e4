"""Plot builders: arrays and results in, figures out. They solve nothing; they draw what they get.

Every builder takes the data first and its options by keyword; every ``update_...``
redraws a figure of its builder in place and returns it. The palette and the plotly
template are in :mod:`rewardviz.plots.style`. The submodules holding
:func:`gridworld` and :func:`landscape` are called ``gridworlds`` and ``landscapes``,
so that ``rv.plots.gridworld`` and ``rv.plots.landscape`` are the functions.

>>> import rewardviz as rv
>>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
>>> q = rv.solve.q_values(mdp, reward)
>>> figure = rv.plots.gridworld(mdp, q.max(-1), rv.solve.greedy_policy(q))
"""

from rewardviz.plots import style
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
    correlation_forest,
    distance_matrix,
    potential_heatmap,
    regret_vs_distance,
    shaping_comparison,
    update_shaping_comparison,
)
from rewardviz.plots.expressivity import (
    edge_text,
    formalism_map,
    formalism_positions,
    node_text,
    realization,
    update_realization,
)
from rewardviz.plots.gridworlds import gridworld, gridworld_matplotlib, update_gridworld
from rewardviz.plots.groups import (
    advantage_attribution,
    degenerate_rate,
    length_correlation,
    proxy_gold,
    proxy_gold_matplotlib,
    reward_conflict,
    scheme_scatter,
    transform_effects,
    update_advantage_attribution,
)
from rewardviz.plots.landscapes import (
    component_distributions,
    component_maps,
    dominance_map,
    landscape,
    landscape_matplotlib,
    update_component_maps,
    update_dominance_map,
    update_landscape,
)
from rewardviz.plots.learning import (
    learning_curves,
    learning_curves_matplotlib,
    steps_to_threshold,
    update_learning_curves,
    visitation_heatmaps,
)
from rewardviz.plots.reward_learning import (
    learned_reward_distances,
    learned_reward_maps,
    update_learned_reward_distances,
    update_learned_reward_maps,
)

__all__ = [
    "advantage_attribution",
    "cluster_order",
    "component_distributions",
    "component_maps",
    "correlation_forest",
    "correlation_heatmap",
    "degenerate_rate",
    "distance_matrix",
    "dominance_map",
    "edge_text",
    "formalism_map",
    "formalism_positions",
    "gridworld",
    "gridworld_matplotlib",
    "landscape",
    "landscape_matplotlib",
    "learned_reward_distances",
    "learned_reward_maps",
    "learning_curves",
    "learning_curves_matplotlib",
    "length_correlation",
    "node_text",
    "potential_heatmap",
    "proxy_gold",
    "proxy_gold_matplotlib",
    "ranking_change",
    "realization",
    "regret_vs_distance",
    "return_distributions",
    "return_shares",
    "reward_conflict",
    "scheme_scatter",
    "shaping_comparison",
    "stacked_contributions",
    "state_heatmap",
    "steps_to_threshold",
    "style",
    "transform_effects",
    "update_advantage_attribution",
    "update_component_maps",
    "update_dominance_map",
    "update_gridworld",
    "update_landscape",
    "update_learned_reward_distances",
    "update_learned_reward_maps",
    "update_learning_curves",
    "update_ranking_change",
    "update_realization",
    "update_return_shares",
    "update_shaping_comparison",
    "update_stacked_contributions",
    "variance_attribution",
    "visitation_heatmaps",
]
