"""Pairwise reward distances against vectorised numpy and against a per-pair Python loop.

Issue targets (2-core CPU): pairwise EPIC and STARC for N = 64 rewards on |S| = 128,
|A| = 4 no slower than vectorised numpy of the same formula and at least 50x faster
than calling a distance once per pair in a Python loop (how older tabular code is
used); DARD at that size in under 50 ms.
"""

from __future__ import annotations

import time

import jax
import numpy as np

import rewardviz as rv
from benchmarks.harness import measure, report

N_REWARDS, N_STATES, N_ACTIONS = 64, 128, 4


def numpy_epic_canonical(rewards, gamma):
    """EPIC canonicalisation with uniform coverage, batched: R + γm(s') − m(s) − γm̄."""
    mean_next = rewards.mean(axis=(-2, -1))
    overall = mean_next.mean(axis=-1)
    return (
        rewards
        + gamma * mean_next[..., None, None, :]
        - mean_next[..., :, None, None]
        - gamma * overall[..., None, None, None]
    )


def numpy_pearson_matrix(canonical):
    flat = canonical.reshape(len(canonical), -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    return np.sqrt(np.maximum(1 - flat @ flat.T, 0) / 2)


def numpy_val_canonical(transitions, gamma, rewards):
    """STARC-VAL with the uniform policy: r(s, a) − V(s) + γ(TV)(s, a), broadcast over s'."""
    n_states = transitions.shape[0]
    expected = (transitions * rewards).sum(-1)
    system = np.eye(n_states) - gamma * transitions.mean(axis=1)
    values = np.linalg.solve(system, expected.mean(-1).T).T
    levelled = (
        expected - values[..., :, None] + gamma * np.einsum("sat,bt->bsa", transitions, values)
    )
    return np.broadcast_to(levelled[..., None], rewards.shape)


def numpy_starc_matrix(canonical):
    flat = canonical.reshape(len(canonical), -1)
    flat = flat / np.linalg.norm(flat, axis=1, keepdims=True)
    gram = flat @ flat.T
    return np.sqrt(np.maximum(2 - 2 * gram, 0))


def per_pair_loop(distance, rewards):
    """One distance call per pair, as with older tabular reward-distance code."""
    n = len(rewards)
    matrix = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            matrix[i, j] = matrix[j, i] = distance(rewards[i], rewards[j])
    return matrix


def run() -> list[dict]:
    mdp, _ = rv.envs.random_mdp(0, N_STATES, N_ACTIONS, gamma=0.9)
    rewards = rv.envs.random_reward(1, mdp, (N_REWARDS,))
    host, transitions, gamma = np.asarray(rewards), np.asarray(mdp.transitions), float(mdp.gamma)
    label = f"N={N_REWARDS} S={N_STATES} A={N_ACTIONS}"
    rows = [
        report(
            f"pairwise EPIC {label} vs numpy",
            lambda: rv.distances.pairwise(mdp, rewards, "epic"),
            lambda: numpy_pearson_matrix(numpy_epic_canonical(host, gamma)),
        ),
        report(
            f"pairwise STARC-VAL {label} vs numpy",
            lambda: rv.distances.pairwise(mdp, rewards, "starc"),
            lambda: numpy_starc_matrix(numpy_val_canonical(transitions, gamma, host)),
        ),
    ]

    def epic_pair(a, b):
        canonical = numpy_epic_canonical(np.stack([a, b]), gamma)
        return numpy_pearson_matrix(canonical)[0, 1]

    def starc_pair(a, b):
        canonical = numpy_val_canonical(transitions, gamma, np.stack([a, b]))
        return numpy_starc_matrix(canonical)[0, 1]

    for name, pair, method in (("EPIC", epic_pair, "epic"), ("STARC-VAL", starc_pair, "starc")):
        loop_timing, loop_result = measure(lambda pair=pair: per_pair_loop(pair, host), repeats=1)
        jax_timing, jax_result = measure(
            lambda method=method: rv.distances.pairwise(mdp, rewards, method)
        )
        ratio = loop_timing.warm_median_seconds / jax_timing.warm_median_seconds
        error = float(np.abs(np.asarray(jax_result) - loop_result).max())
        print(
            f"pairwise {name} {label} vs per-pair loop: loop {loop_timing.warm_median_seconds:.2f} s"
            f"  jax {jax_timing.warm_median_seconds * 1e3:.1f} ms  ratio {ratio:.0f}x"
            f"  max |diff| {error:.1e}"
        )
        rows.append({"benchmark": f"{name} vs per-pair loop", "speedup": ratio, "error": error})

    one = rewards[:1]
    rv.distances.canonicalize(mdp, one, "dard").block_until_ready()
    times = []
    for _ in range(7):
        start = time.perf_counter()
        rv.distances.canonicalize(mdp, one, "dard").block_until_ready()
        times.append(time.perf_counter() - start)
    print(
        f"DARD canonicalisation S={N_STATES} A={N_ACTIONS}, one reward: "
        f"{np.median(times) * 1e3:.1f} ms (target < 50 ms)"
    )
    rows.append({"benchmark": "DARD one reward", "seconds": float(np.median(times))})
    return rows


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
