"""Deprecated: :class:`MDPExplorer` lives in :mod:`rewardviz.widgets.mdp_explorer` now.

``from rewardviz.widgets.explorer import MDPExplorer`` keeps working until rewardviz
0.3.0, with a ``DeprecationWarning`` naming the new module.
"""

from rewardviz import _deprecation

__all__: list[str] = []

__getattr__ = _deprecation.module_getattr(
    "rewardviz.widgets.explorer", {"MDPExplorer": "rewardviz.widgets.mdp_explorer.MDPExplorer"}
)
