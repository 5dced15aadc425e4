"""Batched solvers against the same algorithms in vectorised numpy.

Policy evaluation of one policy against a batch of rewards (one factorisation, many
right-hand sides) and value iteration on a batch of rewards, both in float64 so the
two implementations can be compared to rounding. Issue target (2-core CPU): batched
value iteration for 64 rewards on |S| = 256, |A| = 8 no slower than vectorised numpy.
Both solvers first reduce the ``[B, S, A, S']`` rewards (268 MB) to expected rewards,
a memory-bound pass; value iteration then reads ``T`` once per sweep. The rows report
the bandwidth those reads take (a lower bound on the traffic).
"""

from __future__ import annotations

import jax
import numpy as np

import rewardviz as rv
from benchmarks.harness import report, size

N_STATES, N_ACTIONS, N_REWARDS = 256, 8, 64


def numpy_policy_evaluation(transitions, gamma, rewards, policy):
    expected = np.einsum("sat,bsat->bsa", transitions, rewards)
    system = np.eye(len(policy)) - gamma * np.einsum("sa,sat->st", policy, transitions)
    return np.linalg.solve(system, np.einsum("sa,bsa->sb", policy, expected)).T


def numpy_value_iteration(transitions, gamma, rewards, tol):
    expected = np.einsum("sat,bsat->bsa", transitions, rewards)
    values = np.zeros(expected.shape[:-1])
    while True:
        new = (expected + gamma * np.einsum("sat,bt->bsa", transitions, values)).max(-1)
        change = np.abs(new - values).max()
        values = new
        if change * gamma / (1 - gamma) <= tol:
            return values


def run() -> list[dict]:
    n_states = size(N_STATES, 64)
    mdp, _ = rv.envs.random_mdp(n_states, N_ACTIONS, seed=0, gamma=0.95)
    rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=(N_REWARDS,))
    policy = rv.policies.uniform(mdp)
    transitions, gamma = np.asarray(mdp.transitions), float(mdp.gamma)
    host_rewards, host_policy = np.asarray(rewards), np.asarray(policy)
    label = f"S={n_states} A={N_ACTIONS} x{N_REWARDS} rewards"
    sizes = {"N": N_REWARDS, "S": n_states, "A": N_ACTIONS}
    read = host_rewards.nbytes + transitions.nbytes
    # Each value-iteration sweep reads T again (the [N, S] values are small): bytes that
    # value iteration must move at least, given the sweeps it needs.
    sweeps = int(rv.solve.value_iteration(mdp, rewards, tol=1e-10).iterations)
    return [
        report(
            f"policy_evaluation {label}",
            lambda: rv.solve.policy_evaluation(mdp, rewards, policy),
            lambda: numpy_policy_evaluation(transitions, gamma, host_rewards, host_policy),
            sizes=sizes,
            bytes_touched=read,
        ),
        report(
            f"value_iteration {label}",
            lambda: rv.solve.value_iteration(mdp, rewards, tol=1e-10).values,
            lambda: numpy_value_iteration(transitions, gamma, host_rewards, 1e-10),
            repeats=3,
            sizes=sizes,
            bytes_touched=read + sweeps * transitions.nbytes,
            target_ratio=1.0,
        ),
    ]


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
