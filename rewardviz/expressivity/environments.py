"""Small environments where expressivity questions have known answers (Abel et al. 2021).

Each returns a :class:`~rewardviz.TabularMDP` with named states and actions, so
certificates and plots read in the environment's own words; the discount ``gamma`` is
keyword-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rewardviz import envs
from rewardviz._deprecation import positional_options
from rewardviz.mdp import TabularMDP

__all__ = [
    "Case",
    "constant_direction_policies",
    "open_grid",
    "stay_go",
    "teaching_cases",
    "three_rooms",
    "xor",
]


@positional_options("gamma")
def xor(*, gamma: float = 0.9) -> TabularMDP:
    """Start state ``s0`` moves to the absorbing ``s1`` under either action ``a1``, ``a2``.

    A deterministic policy is the pair (action at s0, action at s1). Abel et al.'s XOR
    task accepts exactly ``(a1,a2)`` and ``(a2,a1)``; no Markov reward realises it,
    because ``V(a1,a2) + V(a2,a1) = V(a1,a1) + V(a2,a2)`` for every reward.
    The same environment, read as a one-step bandit with policies mixing ``a1`` and
    ``a2``, is the witness for nonlinear objectives (``f(E[G])``, entropy bonuses).
    """
    transitions = np.zeros((2, 2, 2))
    transitions[:, :, 1] = 1.0  # every action leads to (or stays in) s1
    return TabularMDP(
        transitions,
        gamma=gamma,
        initial=[1.0, 0.0],
        state_names=("s0", "s1"),
        action_names=("a1", "a2"),
    )


@positional_options("gamma")
def stay_go(*, gamma: float = 0.9) -> TabularMDP:
    """At ``start``, ``stay`` loops and ``go`` reaches the absorbing ``goal``.

    Reaching the goal (LTL ``F goal``) or a limit-average reward for being there gives
    every policy with ``P(go) > 0`` the same value and the never-going policy less: a
    discontinuity no discounted Markov reward reproduces, since its values vary
    continuously (and not linearly) with ``P(go)``.
    """
    transitions = np.zeros((2, 2, 2))
    transitions[0, 0, 0] = 1.0  # start, stay
    transitions[0, 1, 1] = 1.0  # start, go
    transitions[1, :, 1] = 1.0  # goal is absorbing
    return TabularMDP(
        transitions,
        gamma=gamma,
        initial=[1.0, 0.0],
        state_names=("start", "goal"),
        action_names=("stay", "go"),
    )


@positional_options("gamma")
def open_grid(rows: int = 2, cols: int = 2, *, gamma: float = 0.9) -> TabularMDP:
    """An open grid with no goal and no walls: up/right/down/left, bumping into edges.

    Abel et al.'s "always move in the same direction" task (accept the four
    constant-direction policies, see :func:`constant_direction_policies`) is not
    realisable here.
    """
    mdp, _ = envs.gridworld(["." * cols] * rows, gamma=gamma)
    return mdp


def constant_direction_policies(mdp: TabularMDP) -> np.ndarray:
    """The ``A`` policies that take the same action in every state, ``[A, S]``."""
    return np.repeat(np.arange(mdp.n_actions)[:, None], mdp.n_states, axis=1)


@positional_options("gamma")
def three_rooms(*, gamma: float = 0.9) -> TabularMDP:
    """Rooms ``home``, ``a``, ``b``; each action walks to the room it names (labels ``a``, ``b``).

    With the reward machine "reach b after a", the witness that reward machines express
    orderings no Markov reward on the rooms can.
    """
    transitions = np.zeros((3, 3, 3))
    transitions[:, np.arange(3), np.arange(3)] = 1.0
    return TabularMDP(
        transitions,
        gamma=gamma,
        initial=[1.0, 0.0, 0.0],
        state_names=("home", "a", "b"),
        action_names=("home", "a", "b"),
    )


@dataclass(frozen=True)
class Case:
    """A teaching case: an environment, policies to compare, and objectives of several formalisms."""

    mdp: TabularMDP
    policies: tuple
    names: tuple[str, ...]
    objectives: dict


def teaching_cases() -> dict[str, Case]:
    """The cases :class:`~rewardviz.widgets.ExpressivityExplorer` and notebook 04 offer."""
    from rewardviz.expressivity import objectives as o
    from rewardviz.expressivity.reward_machines import RewardMachine

    mixes = (0.0, 0.25, 0.5, 0.75, 1.0)
    mix_names = tuple(f"p={p:g}" for p in mixes)
    bandit = xor()
    first = np.zeros((2, 2, 2))
    first[0, 0] = 1.0
    bandit_policies = tuple(np.array([[p, 1 - p], [1.0, 0.0]]) for p in mixes)
    walk = stay_go()
    at_goal = np.zeros((2, 2, 2))
    at_goal[1] = 1.0
    reach = np.zeros((2, 2, 2))
    reach[0, 1, 1] = 1.0
    walk_policies = tuple(np.array([[1 - p, p], [1.0, 0.0]]) for p in mixes)
    rooms = three_rooms()
    machine = RewardMachine.from_text(  # "stay": it waits in 0 until a, in 1 until b
        "0\n[2]\n(0, 1, 'a', 0)\n(1, 2, 'b', 1)", on_no_match="stay"
    )
    room_policies = tuple(np.array(p) for p in ([1, 2, 1], [1, 2, 2], [2, 2, 1], [2, 2, 2]))
    entering_b = np.zeros((3, 3, 3))
    entering_b[:, :, 2] = 1.0
    grid = open_grid(2, 2)
    corner = np.zeros((4, 4, 4))
    corner[:, :, 0] = 1.0  # entering the top-left cell
    grid_policies = tuple(constant_direction_policies(grid))
    return {
        "XOR (one-step bandit)": Case(bandit, bandit_policies, mix_names, {
            "outer nonlinear: −(V − ½)², V = P(a1)": o.OuterNonlinear(first, lambda v: -((v - 0.5) ** 2)),
            "entropy-regularised: α·H(π), α = 1": o.EntropyRegularized(np.zeros((2, 2, 2)), 1.0),
            "Markov: reward 1 for a1 at s0": o.MarkovReward(first),
        }),
        "stay / go": Case(walk, walk_policies, mix_names, {
            "limit average: 1 per step at the goal": o.LimitAverage(at_goal),
            "LTLf: goal first reached at step 2 (!goal & X goal)": o.LTLf(
                "!goal & X goal", ["", "goal"], horizon=2
            ),
            "Markov: reward 1 on reaching the goal": o.MarkovReward(reach),
        }),
        "three rooms (a, then b)": Case(
            rooms, room_policies, ("a, b, then a", "a, b, then stay", "b, a, b", "b forever"), {
                "reward machine: 1 on reaching b after a": o.RewardMachineObjective(machine, ["", "a", "b"]),
                "Markov: reward 1 on entering b": o.MarkovReward(entering_b),
            }),
        "open grid 2×2": Case(
            grid, grid_policies, ("always up", "always right", "always down", "always left"), {
                "Markov: reward 1 on entering the top-left cell": o.MarkovReward(corner),
            }),
    }  # fmt: skip
