"""rewardviz: analyse and visualise reward functions for reinforcement learning.

The compute layers (core: ``mdp``, ``rewards``, ``policies``, ``solve``, ``envs``;
analysis: ``shaping``, ``distances``, ``decompose``) run in
scripts, tests and on accelerators without a front end; ``plots`` and ``widgets``
build on it and are imported lazily so that ``import rewardviz`` stays light.

    >>> import rewardviz as rv
    >>> mdp, reward = rv.envs.gridworld(["S..", "..G"])
    >>> values = rv.solve.value_iteration(mdp, reward).values
"""

from importlib import import_module

from rewardviz import decompose, distances, envs, io, policies, rewards, shaping, solve
from rewardviz.decompose import RewardLog
from rewardviz.mdp import TabularMDP

__version__ = "0.1.0"
__all__ = [
    "RewardLog",
    "TabularMDP",
    "decompose",
    "distances",
    "envs",
    "io",
    "plots",
    "policies",
    "rewards",
    "shaping",
    "solve",
    "widgets",
]


def __getattr__(name: str):
    # plots and widgets pull in plotly and ipywidgets; load them on first use.
    if name in {"plots", "widgets"}:
        return import_module(f"rewardviz.{name}")
    raise AttributeError(f"module 'rewardviz' has no attribute {name!r}")
