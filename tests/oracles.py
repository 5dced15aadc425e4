"""Slow, loop-based reference solvers that the package's jitted solvers are checked against.

Everything here is written with explicit Python loops over states, actions and
successor states on float64 numbers, and uses nothing from ``rewardviz``: an
oracle that shared code with the package could share its bugs. Terminal states
follow the package's documented semantics (``rewardviz.solve``): the reward of a
transition *into* a terminal state counts, nothing after it does, ``V(terminal) = 0``
and ``Q(terminal, ·) = 0``; the rows of ``transitions`` out of terminal states are
never read.

Arguments are plain arrays: ``transitions[s, a, s']``, ``reward[s, a, s']``,
``policy[s, a]`` (probabilities), ``initial[s]``, ``terminal[s]`` (booleans).
"""

from __future__ import annotations

import math

import numpy as np

#: Values are iterated until the distance to the fixed point is below this.
ORACLE_TOLERANCE = 1e-13
#: A sweep budget far beyond what any test MDP needs.
MAX_SWEEPS = 1_000_000


def _lists(transitions, reward=None, terminal=None):
    """Nested Python float lists (fast to index in loops) and the problem's sizes."""
    transitions = np.asarray(transitions, dtype=np.float64)
    n_states, n_actions, _ = transitions.shape
    reward_list = None if reward is None else np.asarray(reward, dtype=np.float64).tolist()
    if terminal is None:
        terminal_list = [False] * n_states
    else:
        terminal_list = [bool(flag) for flag in np.asarray(terminal)]
    return transitions.tolist(), reward_list, terminal_list, n_states, n_actions


def expected_reward(transitions, reward) -> np.ndarray:
    """``r(s, a) = Σ_s' T(s'|s, a) R(s, a, s')`` for one reward ``[S, A, S']``."""
    t, r, _, n_states, n_actions = _lists(transitions, reward)
    out = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            total = 0.0
            for s_next in range(n_states):
                total += t[s][a][s_next] * r[s][a][s_next]
            out[s, a] = total
    return out


def _backup(t, r, terminal, gamma, values, s, a) -> float:
    """``Σ_s' T(s'|s, a) (R(s, a, s') + γ V(s'))`` with no bootstrap from terminal ``s'``."""
    total = 0.0
    for s_next, probability in enumerate(t[s][a]):
        if probability == 0.0:
            continue
        future = 0.0 if terminal[s_next] else gamma * values[s_next]
        total += probability * (r[s][a][s_next] + future)
    return total


def _iterate(transitions, reward, gamma, terminal, state_value, tol):
    """Iterate ``V(s) = state_value([Q(s, a) for a])`` from 0; return ``V`` and ``Q``."""
    t, r, terminal, n_states, n_actions = _lists(transitions, reward, terminal)
    gamma = float(gamma)
    values = [0.0] * n_states
    for _ in range(MAX_SWEEPS):
        q = [
            [0.0] * n_actions
            if terminal[s]
            else [_backup(t, r, terminal, gamma, values, s, a) for a in range(n_actions)]
            for s in range(n_states)
        ]
        new = [0.0 if terminal[s] else state_value(q[s]) for s in range(n_states)]
        change = max(abs(x - y) for x, y in zip(new, values, strict=True))
        values = new
        if _converged(change, values, gamma, tol):
            break
    else:
        raise RuntimeError("oracle value iteration did not converge")
    q = [
        [0.0] * n_actions
        if terminal[s]
        else [_backup(t, r, terminal, gamma, values, s, a) for a in range(n_actions)]
        for s in range(n_states)
    ]
    return np.array(values), np.array(q)


def value_iteration(transitions, reward, gamma, terminal=None, tol=ORACLE_TOLERANCE):
    """Optimal ``(V*, Q*)`` of one reward by plain value iteration."""
    return _iterate(transitions, reward, gamma, terminal, max, tol)


def soft_value_iteration(
    transitions, reward, gamma, temperature, terminal=None, tol=ORACLE_TOLERANCE
):
    """Soft-optimal ``(V, Q)`` with ``V(s) = τ log Σ_a exp(Q(s, a)/τ)``."""
    temperature = float(temperature)

    def soft_max(q_row):
        top = max(q_row)
        return top + temperature * math.log(sum(math.exp((q - top) / temperature) for q in q_row))

    return _iterate(transitions, reward, gamma, terminal, soft_max, tol)


def policy_evaluation(transitions, reward, gamma, policy, terminal=None) -> np.ndarray:
    """``V^π`` by solving ``(I − γ P_π) V = r_π``, the matrix built entry by entry.

    Rows of terminal states read ``V(s) = 0``; columns of terminal successor states
    get no ``γ`` term (no bootstrap after termination).
    """
    t, r, terminal, n_states, n_actions = _lists(transitions, reward, terminal)
    pi = np.asarray(policy, dtype=np.float64).tolist()
    gamma = float(gamma)
    matrix = np.zeros((n_states, n_states))
    rhs = np.zeros(n_states)
    for s in range(n_states):
        matrix[s, s] = 1.0
        if terminal[s]:
            continue
        for a in range(n_actions):
            for s_next in range(n_states):
                weight = pi[s][a] * t[s][a][s_next]
                rhs[s] += weight * r[s][a][s_next]
                if not terminal[s_next]:
                    matrix[s, s_next] -= gamma * weight
    return np.linalg.solve(matrix, rhs)


def policy_q_values(transitions, reward, gamma, policy, terminal=None) -> np.ndarray:
    """``Q^π(s, a) = Σ_s' T(s'|s, a)(R(s, a, s') + γ V^π(s'))``; 0 in terminal states."""
    values = policy_evaluation(transitions, reward, gamma, policy, terminal).tolist()
    t, r, terminal, n_states, n_actions = _lists(transitions, reward, terminal)
    q = np.zeros((n_states, n_actions))
    for s in range(n_states):
        if terminal[s]:
            continue
        for a in range(n_actions):
            q[s, a] = _backup(t, r, terminal, float(gamma), values, s, a)
    return q


def policy_iteration(transitions, reward, gamma, terminal=None, max_steps=1000):
    """Howard's policy iteration with loops: ``(values, q, actions)`` of the policy it ends on.

    Starts from the actions best on the immediate expected reward, evaluates each
    deterministic policy with :func:`policy_evaluation` and switches a state's action
    only to one better by more than 1e-12 (relative to ``max(1, max|Q|)``).
    """
    _, _, terminal_list, n_states, n_actions = _lists(transitions, reward, terminal)
    expected = expected_reward(transitions, reward)
    actions = [0 if terminal_list[s] else int(np.argmax(expected[s])) for s in range(n_states)]
    for _ in range(max_steps):
        policy = np.eye(n_actions)[actions]
        q = policy_q_values(transitions, reward, gamma, policy, terminal)
        scale = max(1.0, float(np.abs(q).max()))
        changed = False
        for s in range(n_states):
            best = max(range(n_actions), key=lambda a, s=s: q[s, a])
            if q[s, best] > q[s, actions[s]] + 1e-12 * scale:
                actions[s] = best
                changed = True
        if not changed:
            values = policy_evaluation(transitions, reward, gamma, policy, terminal)
            return values, q, np.asarray(actions)
    raise RuntimeError(f"loop policy iteration did not settle in {max_steps} steps")


def policy_return(transitions, reward, gamma, policy, initial, terminal=None) -> float:
    """``J(π) = Σ_s initial(s) V^π(s)``."""
    values = policy_evaluation(transitions, reward, gamma, policy, terminal)
    return float(sum(float(p) * float(v) for p, v in zip(initial, values, strict=True)))


def occupancy(transitions, gamma, policy, initial, terminal=None, mass_floor=1e-17):
    """``ρ^π(s, a) = Σ_t γ^t P(s_t = s, a_t = a, not terminated)`` by forward propagation.

    The state distribution of agents still acting is pushed forward one step at a time;
    probability that enters a terminal state leaves the sum (an agent that starts in a
    terminal state never acts). Stops when the discounted mass left is below
    ``mass_floor``.
    """
    t, _, terminal, n_states, n_actions = _lists(transitions, None, terminal)
    pi = np.asarray(policy, dtype=np.float64).tolist()
    gamma = float(gamma)
    acting = [0.0 if terminal[s] else float(p) for s, p in enumerate(initial)]
    rho = np.zeros((n_states, n_actions))
    discount = 1.0
    for _ in range(MAX_SWEEPS):
        if discount * sum(acting) < mass_floor:
            return rho
        following = [0.0] * n_states
        for s in range(n_states):
            if acting[s] == 0.0:
                continue
            for a in range(n_actions):
                mass = acting[s] * pi[s][a]
                rho[s, a] += discount * mass
                for s_next in range(n_states):
                    if not terminal[s_next]:
                        following[s_next] += mass * t[s][a][s_next]
        acting = following
        discount *= gamma
    raise RuntimeError("oracle occupancy did not converge")


def gymnasium_value_iteration(table, n_states, n_actions, gamma, tol=ORACLE_TOLERANCE):
    """Optimal ``(V*, Q*)`` straight from a Gymnasium toy-text table ``P[s][a]``.

    ``P[s][a]`` lists ``(probability, next_state, reward, terminated)``; a terminated
    outcome pays its reward and stops (no bootstrap), whatever the table says about
    ``next_state`` elsewhere.
    """
    gamma = float(gamma)
    values = [0.0] * n_states

    def backup(s, a, values):
        total = 0.0
        for probability, next_state, reward, terminated in table[s][a]:
            future = 0.0 if terminated else gamma * values[next_state]
            total += probability * (reward + future)
        return total

    for _ in range(MAX_SWEEPS):
        new = [max(backup(s, a, values) for a in range(n_actions)) for s in range(n_states)]
        change = max(abs(x - y) for x, y in zip(new, values, strict=True))
        values = new
        if _converged(change, values, gamma, tol):
            break
    else:
        raise RuntimeError("oracle value iteration did not converge")
    q = [[backup(s, a, values) for a in range(n_actions)] for s in range(n_states)]
    return np.array(values), np.array(q)


def gymnasium_acting_states(table, initial) -> np.ndarray:
    """States an agent can act in: reachable from ``initial`` by outcomes that do not terminate."""
    n_states = len(initial)
    seen = [False] * n_states
    frontier = [s for s in range(n_states) if initial[s] > 0]
    for s in frontier:
        seen[s] = True
    while frontier:
        s = frontier.pop()
        for outcomes in table[s].values():
            for probability, next_state, _, terminated in outcomes:
                if probability > 0 and not terminated and not seen[next_state]:
                    seen[next_state] = True
                    frontier.append(next_state)
    return np.array(seen)


def _converged(change, values, gamma, tol) -> bool:
    """Value-iteration stopping rule shared by the oracles.

    γ < 1: ‖V_k − V*‖ ≤ γ/(1−γ)·change. γ = 1: stop when nothing moves any more.
    """
    scale = max(1.0, *(abs(v) for v in values))
    bound = change * gamma / (1.0 - gamma) if gamma < 1 else change
    return bound <= tol or change <= 4 * np.finfo(np.float64).eps * scale
