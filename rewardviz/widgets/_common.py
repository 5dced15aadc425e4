"""What the gridworld widgets share: argument checks and the error line (no computation)."""

from __future__ import annotations

import html

import jax

from rewardviz.mdp import TabularMDP
from rewardviz.rewards import check_reward


def one_grid_reward(widget: str, mdp: TabularMDP, reward) -> jax.Array:
    """Check that ``mdp`` lives on a grid and ``reward`` is a single ``[S, A, S']`` reward.

    ``widget`` names the widget in the messages, e.g. ``"MDPExplorer"``.
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")
    if mdp.grid_shape is None:
        raise ValueError(
            f"{widget} draws on a grid and needs mdp.grid_shape; use rv.envs.gridworld "
            "or pass grid_shape=(rows, cols) (and grid_cells=...) to rv.TabularMDP."
        )
    reward = check_reward(mdp, reward)
    if reward.ndim != 3:
        raise ValueError(
            f"{widget} takes one reward: reward must have shape [S, A, S'] = "
            f"({mdp.n_states}, {mdp.n_actions}, {mdp.n_states}), got {tuple(reward.shape)}; "
            "pick one reward of a batch, e.g. reward[0]."
        )
    return reward


def error_html(error: Exception) -> str:
    """The status line a widget shows when a control change could not be applied."""
    return f'<span style="color: #b00020">Not updated: {html.escape(str(error))}</span>'
