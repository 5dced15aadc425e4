"""rewardviz: analyse and visualise reward functions for reinforcement learning.

The compute layers (core: ``mdp``, ``rewards``, ``policies``, ``solve``, ``envs``, ``io``;
analysis: ``shaping``, ``distances``, ``decompose``, ``shapes``, ``landscape``,
``groups``, ``learning``, ``expressivity``, ``teaching``) run in scripts, tests and on
accelerators without a front end; ``plots``, ``widgets`` and ``report`` build on them and
are imported lazily so that ``import rewardviz`` does not load plotly or ipywidgets.

    >>> import rewardviz as rv
    >>> mdp, reward = rv.envs.gridworld(["S..", "..G"])
    >>> values = rv.solve.value_iteration(mdp, reward).values
"""

from importlib import import_module

from rewardviz import (
    decompose,
    distances,
    envs,
    experiments,
    expressivity,
    groups,
    io,
    landscape,
    landscape_examples,
    learning,
    policies,
    rewards,
    shapes,
    shaping,
    solve,
    teaching,
)
from rewardviz._cache import enable_compilation_cache
from rewardviz.decompose import RewardLog
from rewardviz.groups import GroupRewards
from rewardviz.mdp import TabularMDP

__version__ = "0.1.0"
__all__ = [
    "GroupRewards",
    "RewardLog",
    "TabularMDP",
    "decompose",
    "distances",
    "enable_compilation_cache",
    "envs",
    "experiments",
    "expressivity",
    "groups",
    "io",
    "landscape",
    "landscape_examples",
    "learning",
    "plots",
    "policies",
    "rewards",
    "shapes",
    "shaping",
    "solve",
    "teaching",
    "widgets",
]


def __getattr__(name: str):
    # plots, widgets and report pull in plotly and ipywidgets; load them on first use.
    if name in {"plots", "report", "widgets"}:
        return import_module(f"rewardviz.{name}")
    raise AttributeError(f"module 'rewardviz' has no attribute {name!r}")
