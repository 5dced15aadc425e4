"""Linear features of policies and trajectories: what a Markov reward can see of them.

A Markov reward ``r(s, a)`` scores a policy by ``V^π = ⟨ρ^π, r⟩`` (its discounted
state-action occupancy), a trajectory by ``⟨Σ_t γ^t e(s_t, a_t), r⟩`` and, under the
limit-average criterion, a policy by ``⟨μ^π, r⟩`` (its long-run state-action
frequencies). Every realisability question is therefore a question about these
feature vectors (Abel et al. 2021), and this module computes them.

The linear programs that use them run on the host in float64 (scipy's HiGHS), so the
features are computed here in float64 numpy whatever JAX's precision setting is: a
certificate ``Σ c_i φ_i = 0`` must hold to ~1e-12, not to float32 rounding.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from rewardviz._deprecation import positional_options
from rewardviz.mdp import SUM_TOLERANCE, TabularMDP

__all__ = [
    "MAX_POLICIES",
    "canonical_policies",
    "deterministic_policies",
    "dynamics",
    "limit_average_features",
    "live_state_count",
    "occupancy_features",
    "policy_count",
    "stochastic_policies",
    "trajectory_features",
]

MAX_POLICIES = 100_000
"""Default cap on deterministic-policy enumeration (raise it with ``max_policies=``)."""

_CHUNK = 4096  # policies per batched solve: bounds memory at ~CHUNK·S² floats


def dynamics(mdp: TabularMDP) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """``(transitions[S, A, S'], gamma, initial[S], live[S])`` as float64 host arrays.

    ``live`` marks the non-terminal states, the only ones where an action is taken.
    """
    transitions = np.asarray(mdp.transitions, dtype=np.float64)
    live = ~np.asarray(mdp.terminal, dtype=bool)
    return transitions, float(mdp.gamma), np.asarray(mdp.initial, np.float64), live


def live_state_count(mdp: TabularMDP) -> int:
    return int((~np.asarray(mdp.terminal, bool)).sum())


def policy_count(mdp: TabularMDP) -> int:
    """Number of distinct deterministic policies: ``A`` choices in every non-terminal state."""
    return mdp.n_actions ** live_state_count(mdp)


@positional_options("name")
def canonical_policies(mdp: TabularMDP, policies, *, name: str = "policies") -> np.ndarray:
    """Deterministic policies ``[N, S]`` as int64, validated, with terminal states set to 0.

    The action in a terminal state is never taken, so policies that differ only there
    are the same behaviour; setting it to 0 makes them compare equal. ``name`` is what
    error messages call the argument.
    """
    array = np.asarray(policies)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != mdp.n_states:
        raise ValueError(
            f"{name} must be deterministic policies: integer arrays of shape [S] = "
            f"[{mdp.n_states}] (or a stack [N, {mdp.n_states}]), got shape {array.shape}."
        )
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer actions, got dtype {array.dtype}.")
    bad = (array < 0) | (array >= mdp.n_actions)
    if bad.any():
        row, state = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}[{row}] picks action {int(array[row, state])} in state {state}; "
            f"actions are 0..{mdp.n_actions - 1}."
        )
    array = array.astype(np.int64, copy=True)
    array[:, np.asarray(mdp.terminal, bool)] = 0
    return array


@positional_options("name")
def stochastic_policies(mdp: TabularMDP, policies, *, name: str = "policies") -> np.ndarray:
    """Policies as float64 action probabilities ``[N, S, A]``.

    Accepts one policy or a sequence mixing deterministic ``[S]`` integer arrays and
    stochastic ``[S, A]`` arrays. ``name`` is what error messages call the argument.
    """
    items = [policies] if _is_single_policy(mdp, policies) else list(policies)
    if not items:
        raise ValueError(f"{name} is empty; pass at least one policy.")
    out = np.empty((len(items), mdp.n_states, mdp.n_actions))
    for index, item in enumerate(items):  # host-side conversion of a short user list
        array = np.asarray(item)
        if array.shape == (mdp.n_states,) and np.issubdtype(array.dtype, np.integer):
            out[index] = np.eye(mdp.n_actions)[canonical_policies(mdp, array, name=name)[0]]
            continue
        if array.shape != (mdp.n_states, mdp.n_actions):
            raise ValueError(
                f"{name}[{index}] must be an integer array [S] = [{mdp.n_states}] or action "
                f"probabilities [S, A] = [{mdp.n_states}, {mdp.n_actions}], got {array.shape}."
            )
        array = array.astype(np.float64)
        if not np.isfinite(array).all() or (array < 0).any():
            raise ValueError(f"{name}[{index}] has negative or non-finite probabilities.")
        sums = array.sum(-1)
        if np.abs(sums - 1).max() > SUM_TOLERANCE[np.dtype(np.float32)]:
            state = int(np.argmax(np.abs(sums - 1)))
            raise ValueError(
                f"{name}[{index}] row {state} sums to {sums[state]:.6g}; each state's "
                "action probabilities must sum to 1."
            )
        out[index] = array
    return out


def _is_single_policy(mdp: TabularMDP, policies) -> bool:
    if isinstance(policies, (list, tuple)):
        return False
    shape = np.shape(policies)
    return shape in {(mdp.n_states,), (mdp.n_states, mdp.n_actions)}


def deterministic_policies(
    mdp: TabularMDP, *, max_policies: int = MAX_POLICIES, progress: bool = True
) -> np.ndarray:
    """Every deterministic policy, ``[A^L, S]`` int64 (``L`` non-terminal states).

    Refuses beyond ``max_policies`` with the count, so an enumeration never runs
    out of memory by surprise. Terminal states get action 0 (never taken).

    Example:
        >>> mdp, _ = rv.envs.stay_switch()
        >>> rv.expressivity.deterministic_policies(mdp).tolist()
        [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    count = policy_count(mdp)
    live = np.flatnonzero(~np.asarray(mdp.terminal, bool))
    if count > max_policies:
        raise ValueError(
            f"enumerating every deterministic policy means {mdp.n_actions}^{live.size} = "
            f"{count:,} policies, more than max_policies={max_policies:,}. Pass "
            f"max_policies={count} to allow it (about {count * mdp.n_states * 8 / 1e6:.0f} MB "
            "of policies plus their features), or use the fringe reduction "
            "(exhaustive=False), which needs no enumeration."
        )
    grid = np.array(list(itertools.product(range(mdp.n_actions), repeat=live.size)), np.int64)
    policies = np.zeros((count, mdp.n_states), np.int64)
    policies[:, live] = grid.reshape(count, live.size)
    return policies


def occupancy_features(
    mdp: TabularMDP, policies: np.ndarray, *, progress: bool = False
) -> np.ndarray:
    """Discounted state-action occupancies ``ρ^π(s, a)``, ``[N, S·A]`` float64.

    ``ρ^π(s) = d₀ᵀ (I − γ P_π)^{-1}`` with terminal rows of ``P_π`` zeroed and terminal
    states carrying no action, the convention of ``rv.solve.occupancy`` (so
    ``⟨ρ^π, r̄⟩ = V^π(d₀)`` for every reward). ``policies`` are ``[N, S, A]``
    probabilities; batched solves in chunks, with a progress bar when asked.

    Raises ``ValueError`` naming the policy when ``γ = 1`` and it never terminates.
    """
    transitions, gamma, initial, live = dynamics(mdp)
    chunks = range(0, len(policies), _CHUNK)
    if progress and len(policies) > _CHUNK:
        chunks = tqdm(chunks, desc=f"occupancy of {len(policies):,} policies", unit="chunk")
    out = np.empty((len(policies), mdp.n_states * mdp.n_actions))
    identity = np.eye(mdp.n_states)
    for start in chunks:  # chunking bounds memory; each chunk is one batched solve
        block = policies[start : start + _CHUNK] * live[None, :, None]
        step = np.einsum("nsa,sat->nst", block, transitions)
        system = np.swapaxes(identity - gamma * step, -1, -2)
        try:
            state = np.linalg.solve(system, np.broadcast_to(initial, block.shape[:2])[..., None])
        except np.linalg.LinAlgError as error:
            raise ValueError(
                f"a policy among policies[{start}:{start + len(block)}] never terminates "
                "with gamma = 1, so its occupancy is infinite; use gamma < 1 or add "
                "terminal states it reaches."
            ) from error
        out[start : start + len(block)] = (state[..., 0, None] * block).reshape(len(block), -1)
    if not np.isfinite(out).all() or (gamma == 1 and np.abs(out).max() > 1e12):
        raise ValueError(
            "occupancies are unbounded: with gamma = 1 some policy never terminates; "
            "use gamma < 1 or add terminal states."
        )
    return out


def limit_average_features(mdp: TabularMDP, policies: np.ndarray) -> np.ndarray:
    """Long-run state-action frequencies ``μ^π(s, a)``, ``[N, S·A]`` float64.

    ``μ^π = d₀ᵀ P*_π ∘ π`` where ``P*_π = lim_T (1/T) Σ_{t<T} P_π^t`` is the Cesàro
    limit (Puterman 1994, §8.2). A limit-average reward scores a policy by
    ``⟨μ^π, r̄⟩``. Terminal states are absorbing with no action (frequency 0).
    ``P*`` of the lazy chain ``(I + P)/2`` (same Cesàro limit, aperiodic) is reached by
    repeated squaring, renormalising rows: 2^64 steps, far past any mixing time of a
    small MDP.
    """
    transitions, _, initial, live = dynamics(mdp)
    block = policies * live[None, :, None]
    step = np.einsum("nsa,sat->nst", block, transitions)
    step += np.diag((~live).astype(float))[None]  # terminal states stay put
    lazy = 0.5 * (np.eye(mdp.n_states) + step)
    for _ in range(64):
        lazy = lazy @ lazy
        # Rows must stay stochastic: without this, rounding of the row sums compounds
        # as (1 − ε)^(2^k) and the limit vanishes.
        lazy /= lazy.sum(-1, keepdims=True)
    frequency = np.einsum("s,nst->nt", initial, lazy)
    return (frequency[..., None] * block).reshape(len(policies), -1)


@positional_options("name")
def trajectory_features(
    mdp: TabularMDP, trajectories: Sequence, horizon: int, *, name: str = "trajectories"
) -> np.ndarray:
    """Discounted state-action counts ``Σ_t γ^t e(s_t, a_t)``, ``[N, S·A]`` float64.

    Each trajectory is a sequence of ``(state, action)`` pairs of length ``horizon``
    (shorter only if it enters a terminal state, where it must stop). Every step must
    be possible in ``mdp``: ``T(s_{t+1} | s_t, a_t) > 0``.
    """
    transitions, gamma, _, live = dynamics(mdp)
    out = np.zeros((len(trajectories), mdp.n_states * mdp.n_actions))
    for index, trajectory in enumerate(trajectories):  # validation of user input, short
        steps = np.asarray(trajectory)
        if steps.ndim != 2 or steps.shape[1] != 2 or not np.issubdtype(steps.dtype, np.integer):
            raise ValueError(
                f"{name}[{index}] must be a sequence of integer (state, action) pairs, "
                f"got an array of shape {steps.shape} and dtype {steps.dtype}."
            )
        states, actions = steps[:, 0], steps[:, 1]
        if ((states < 0) | (states >= mdp.n_states)).any():
            raise ValueError(f"{name}[{index}] has a state outside 0..{mdp.n_states - 1}.")
        if ((actions < 0) | (actions >= mdp.n_actions)).any():
            raise ValueError(f"{name}[{index}] has an action outside 0..{mdp.n_actions - 1}.")
        ends = np.flatnonzero(~live[states])
        if ends.size and ends[0] < len(states) - 1:
            raise ValueError(
                f"{name}[{index}] continues after reaching terminal state {states[ends[0]]} "
                f"at step {ends[0]}; a trajectory stops at a terminal state."
            )
        if len(states) != horizon and not ends.size:
            raise ValueError(
                f"{name}[{index}] has {len(states)} steps but horizon={horizon}; trajectories "
                "must all have the horizon's length (or end at a terminal state)."
            )
        feasible = transitions[states[:-1], actions[:-1], states[1:]] > 0
        if not feasible.all():
            t = int(np.argmin(feasible))
            raise ValueError(
                f"{name}[{index}] step {t}: action {actions[t]} in state {states[t]} cannot "
                f"lead to state {states[t + 1]} (transition probability 0)."
            )
        acting = live[states]
        np.add.at(
            out[index],
            states[acting] * mdp.n_actions + actions[acting],
            gamma ** np.flatnonzero(acting),
        )
    return out
