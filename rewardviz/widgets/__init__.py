"""Notebook widgets: they own controls and state, call the solvers and redraw the plots.

Every explorer is an :class:`~rewardviz.widgets._common.Explorer`: it displays as its
``widget``, draws in ``fig`` (and ``figs``), reports refused settings in ``status``,
returns what it shows from ``state()`` as a frozen dataclass, and gives a static copy of
a figure with ``freeze()`` and ``export(path)``.

>>> import rewardviz as rv
>>> mdp, reward = rv.envs.gridworld(["S..#", "...G"])
>>> rv.widgets.MDPExplorer(mdp, reward)  # in a notebook cell
"""

from rewardviz.widgets.component_explorer import ComponentExplorer, ComponentExplorerState
from rewardviz.widgets.expressivity_explorer import (
    ExpressivityExplorer,
    ExpressivityExplorerState,
    FormalismMapExplorer,
    FormalismMapExplorerState,
)
from rewardviz.widgets.group_explorer import GroupExplorer, GroupExplorerState
from rewardviz.widgets.landscape_explorer import LandscapeExplorer, LandscapeExplorerState
from rewardviz.widgets.mdp_explorer import MDPExplorer, MDPExplorerState
from rewardviz.widgets.reward_learning_lab import RewardLearningLab, RewardLearningLabState
from rewardviz.widgets.shaping_lab import ShapingLab, ShapingLabState

__all__ = [
    "ComponentExplorer",
    "ComponentExplorerState",
    "ExpressivityExplorer",
    "ExpressivityExplorerState",
    "FormalismMapExplorer",
    "FormalismMapExplorerState",
    "GroupExplorer",
    "GroupExplorerState",
    "LandscapeExplorer",
    "LandscapeExplorerState",
    "MDPExplorer",
    "MDPExplorerState",
    "RewardLearningLab",
    "RewardLearningLabState",
    "ShapingLab",
    "ShapingLabState",
]
