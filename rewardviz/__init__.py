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

import importlib as _importlib

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
    mdp,
    policies,
    reward_learning,
    rewards,
    shapes,
    shaping,
    solve,
    teaching,
)
from rewardviz._cache import enable_compilation_cache
from rewardviz.decompose import RewardLog as RewardLog
from rewardviz.groups import GroupRewards as GroupRewards
from rewardviz.mdp import TabularMDP as TabularMDP

__version__ = "0.1.0"
#: The public namespace: every module a user reaches as ``rv.<name>`` and the one function
#: defined at the top. ``RewardLog``, ``GroupRewards`` and ``TabularMDP`` are also reachable
#: here as shortcuts, but documented where they live (``rv.decompose``, ``rv.groups``,
#: ``rv.mdp``), so the API reference lists each name once.
__all__ = [
    "cli",
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
    "mdp",
    "plots",
    "policies",
    "report",
    "reward_learning",
    "rewards",
    "shapes",
    "shaping",
    "solve",
    "teaching",
    "widgets",
]


_SHORTCUTS = ("GroupRewards", "RewardLog", "TabularMDP", "__version__")
#: Loaded on first use: plots, widgets and report pull in plotly and ipywidgets, cli the report.
_LAZY = frozenset({"cli", "plots", "report", "widgets"})


def __getattr__(name: str):
    if name in _LAZY:
        return _importlib.import_module(f"rewardviz.{name}")
    raise AttributeError(f"module 'rewardviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    # Tab completion offers the public namespace, lazy modules included, and nothing private
    # (``_cache``, ``_checks`` ... become attributes once imported) or imported in passing.
    return sorted({*__all__, *_SHORTCUTS})
