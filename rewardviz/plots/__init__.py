"""Plot builders: arrays in, figures out. They never solve an MDP; they draw what they are given.

>>> import rewardviz as rv
>>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
>>> q = rv.solve.q_values(mdp, reward)
>>> figure = rv.plots.gridworld(mdp, q.max(-1), rv.solve.greedy_policy(q))
"""

from rewardviz.plots.gridworld import gridworld, gridworld_matplotlib, update_gridworld

__all__ = ["gridworld", "gridworld_matplotlib", "update_gridworld"]
