"""Loop-based oracles for the expressivity tests: runs enumerated by recursion, LTLf by its definition."""

import numpy as np


def mdp_arrays(mdp):
    """``(transitions, gamma, initial, terminal)`` of a TabularMDP as float64/bool numpy arrays."""
    return (
        np.asarray(mdp.transitions, float),
        float(mdp.gamma),
        np.asarray(mdp.initial, float),
        np.asarray(mdp.terminal, bool),
    )


def run_distribution(mdp, policy, horizon):
    """Every run of ``horizon`` steps with its probability and states, by explicit recursion."""
    transitions, _, initial, terminal = mdp_arrays(mdp)
    runs = []

    def extend(path, probability, steps):
        s = path[-1][0]
        if steps == horizon or terminal[s]:
            runs.append((path, probability))
            return
        for a in range(mdp.n_actions):
            for s_next in range(mdp.n_states):
                p = policy[s, a] * transitions[s, a, s_next]
                if p > 0:
                    extend([*path[:-1], (s, a), (s_next, None)], probability * p, steps + 1)

    for s in range(mdp.n_states):
        if initial[s] > 0:
            extend([(s, None)], initial[s], 0)
    return runs


def ltlf_holds(formula, trace, i=0):
    """Direct LTLf semantics on a finite trace (De Giacomo & Vardi 2013)."""
    kind, n = formula[0], len(trace)
    if kind == "true":
        return True
    if kind == "false":
        return False
    if kind == "ap":
        return formula[1] in trace[i]
    if kind == "not":
        return not ltlf_holds(formula[1], trace, i)
    if kind == "and":
        return ltlf_holds(formula[1], trace, i) and ltlf_holds(formula[2], trace, i)
    if kind == "or":
        return ltlf_holds(formula[1], trace, i) or ltlf_holds(formula[2], trace, i)
    if kind == "X":
        return i + 1 < n and ltlf_holds(formula[1], trace, i + 1)
    if kind == "WX":
        return i + 1 >= n or ltlf_holds(formula[1], trace, i + 1)
    if kind == "F":
        return any(ltlf_holds(formula[1], trace, j) for j in range(i, n))
    if kind == "G":
        return all(ltlf_holds(formula[1], trace, j) for j in range(i, n))
    if kind == "U":
        return any(
            ltlf_holds(formula[2], trace, j)
            and all(ltlf_holds(formula[1], trace, k) for k in range(i, j))
            for j in range(i, n)
        )
    if kind == "R":
        return all(
            ltlf_holds(formula[2], trace, j)
            or any(ltlf_holds(formula[1], trace, k) for k in range(i, j))
            for j in range(i, n)
        )
    raise AssertionError(kind)
