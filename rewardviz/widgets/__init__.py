"""Notebook widgets: they own controls and state, call the solvers and redraw the plots.

>>> import rewardviz as rv
>>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
>>> rv.widgets.MDPExplorer(mdp, reward)  # in a notebook cell
"""

from rewardviz.widgets.component_explorer import ComponentExplorer, ComponentExplorerState
from rewardviz.widgets.explorer import MDPExplorer
from rewardviz.widgets.expressivity_explorer import ExpressivityExplorer, FormalismMapExplorer
from rewardviz.widgets.group_explorer import GroupExplorer, GroupExplorerState
from rewardviz.widgets.landscape_explorer import LandscapeExplorer, LandscapeExplorerState
from rewardviz.widgets.shaping_lab import ShapingLab, ShapingLabState

__all__ = [
    "ComponentExplorer",
    "ComponentExplorerState",
    "ExpressivityExplorer",
    "FormalismMapExplorer",
    "GroupExplorer",
    "GroupExplorerState",
    "LandscapeExplorer",
    "LandscapeExplorerState",
    "MDPExplorer",
    "ShapingLab",
    "ShapingLabState",
]
