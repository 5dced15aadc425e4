"""Pairwise reward distances against vectorised numpy and against a per-pair Python loop.

Issue targets (2-core CPU): pairwise EPIC, DARD and STARC (VAL and minimal) for N = 64
rewards on |S| = 128, |A| = 4 no slower than vectorised numpy of the same formula
(these are memory- and matmul-bound: the rows report the fraction of the measured
memory bandwidth that reading the rewards once takes) and at least 50x faster than
calling a distance once per pair in a Python loop (how older tabular code is used);
DARD for one reward at that size in under 50 ms. A pipeline of several steps, the
canonicalise-normalise-distance-regret sweep (EPIC and STARC-VAL distances and the
regret of optimising each of a sweep of noisy proxies of a true reward), at least 5x
faster than the same steps in vectorised numpy.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import rewardviz as rv
from benchmarks.harness import measure, n_repeats, report, size

N_REWARDS, N_STATES, N_ACTIONS = 64, 128, 4
SWEEP_REWARDS, SWEEP_STATES, SWEEP_ACTIONS = 64, 64, 4
TIE_TOLERANCE, VI_TOLERANCE = 1e-8, 1e-10  # rewardviz's float64 defaults


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
    matrix = np.sqrt(np.maximum(1 - flat @ flat.T, 0) / 2)
    np.fill_diagonal(matrix, 0)  # a reward's distance to itself, not sqrt(rounding error)
    return matrix


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
    matrix = np.sqrt(np.maximum(2 - 2 * gram, 0))
    np.fill_diagonal(matrix, 0)
    return matrix


def per_pair_loop(distance, rewards):
    """One distance call per pair, as with older tabular reward-distance code."""
    n = len(rewards)
    matrix = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            matrix[i, j] = matrix[j, i] = distance(rewards[i], rewards[j])
    return matrix


def numpy_dard_canonical(transitions, gamma, rewards):
    """DARD with uniform D_A, batched: R + γu(s') − u(s) − γΣ_a D_A(a)(T_a R_a T_aᵀ)(s, s')."""
    n_actions = transitions.shape[1]
    per_action = np.ascontiguousarray(transitions.transpose(1, 0, 2))  # [A, s, x]
    by_action = rewards.transpose(0, 2, 1, 3)  # [N, A, x, y]
    expected = (transitions * rewards).sum(-1)  # [N, S, A]
    mean_next = expected.mean(-1)  # [N, S]
    step = np.matmul(per_action, by_action)  # [N, A, s, y]
    between = np.matmul(step, per_action.transpose(0, 2, 1)).sum(1) / n_actions  # [N, s, t]
    return (
        rewards
        + gamma * mean_next[:, None, None, :]
        - mean_next[:, :, None, None]
        - gamma * between[:, :, None, :]
    )


def numpy_weighted_pearson_matrix(canonical, weights):
    """``sqrt((1 − ρ_w)/2)`` between all rows, ρ_w the Pearson correlation under ``weights``."""
    flat, w = canonical.reshape(len(canonical), -1), weights.reshape(-1)
    flat = flat - (flat @ w)[:, None]
    flat /= np.sqrt((flat**2) @ w)[:, None]
    matrix = np.sqrt(np.maximum(1 - (flat * w) @ flat.T, 0) / 2)
    np.fill_diagonal(matrix, 0)
    return matrix


def numpy_minimal_levelled(transitions, gamma, terminal, rewards):
    """STARC's minimal canonicalisation as ``c(s, a)`` and the L2 weights ``1/‖T(·|s, a)‖²``.

    ``c = r − (γTΦ − Φ)`` with ``Φ`` (0 at terminal states) the least-squares fit under
    weights ``1/‖T(·|s, a)‖²`` (0 on terminal rows); the canonical reward is
    ``c·T/‖T‖²``, whose L2 norm over ``(s, a, s')`` is ``Σ c²/‖T‖²``.
    """
    n_states, n_actions, _ = transitions.shape
    row_norm = (transitions**2).sum(-1).reshape(-1)
    row_weight = np.where(np.repeat(terminal, n_actions), 0.0, 1 / row_norm)
    design = (gamma * transitions - np.eye(n_states)[:, None, :]).reshape(-1, n_states)
    design[:, terminal] = 0
    root = np.sqrt(row_weight)
    expected = (transitions * rewards).sum(-1).reshape(len(rewards), -1)  # [N, S·A]
    potential = np.linalg.lstsq(root[:, None] * design, (root * expected).T, rcond=None)[0]
    levelled = expected - (design @ potential).T
    levelled[:, np.repeat(terminal, n_actions)] = 0
    return levelled, row_weight


def numpy_weighted_starc_matrix(levelled, weights):
    unit = levelled / np.sqrt((levelled**2) @ weights)[:, None]
    matrix = np.sqrt(np.maximum(2 - 2 * (unit * weights) @ unit.T, 0))
    np.fill_diagonal(matrix, 0)
    return matrix


def numpy_value_iteration_q(transitions, gamma, rewards, tol=VI_TOLERANCE):
    """Optimal Q ``[N, S, A]`` for a batch of rewards: matrix products, the stopping rule of
    rewardviz (sup-norm change · γ/(1 − γ) <= tol)."""
    n_states = transitions.shape[0]
    expected = (transitions * rewards).sum(-1)
    stacked = transitions.reshape(-1, n_states)  # [S·A, S']
    values = np.zeros(expected.shape[:-1])
    while True:
        q = expected + gamma * (values @ stacked.T).reshape(expected.shape)
        new = q.max(-1)
        change = np.abs(new - values).max()
        values = new
        if change * gamma / (1 - gamma) <= tol:
            return expected + gamma * (values @ stacked.T).reshape(expected.shape)


def numpy_regret(transitions, gamma, initial, true, proxies):
    """Normalised regret of each proxy's optimal policy (uniform over ties) under ``true``."""
    n_states = transitions.shape[0]
    q = numpy_value_iteration_q(transitions, gamma, proxies)
    scale = np.maximum(1, np.abs(q).max(axis=(-2, -1), keepdims=True))
    ties = q >= q.max(-1, keepdims=True) - TIE_TOLERANCE * scale
    policy = ties / ties.sum(-1, keepdims=True)  # [N, S, A]
    true_expected = (transitions * true).sum(-1)  # [S, A]
    systems = np.eye(n_states) - gamma * np.einsum("nsa,sat->nst", policy, transitions)
    values = np.linalg.solve(systems, (policy * true_expected).sum(-1)[..., None])[..., 0]
    achieved = values @ initial
    best = numpy_value_iteration_q(transitions, gamma, true[None]).max(-1)[0] @ initial
    worst = -numpy_value_iteration_q(transitions, gamma, -true[None]).max(-1)[0] @ initial
    return np.clip((best - achieved) / (best - worst), 0, 1)


def run() -> list[dict]:
    n_rewards, n_states = size(N_REWARDS, 16), size(N_STATES, 32)
    mdp, _ = rv.envs.random_mdp(n_states, N_ACTIONS, seed=0, gamma=0.9)
    rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=(n_rewards,))
    host, transitions, gamma = np.asarray(rewards), np.asarray(mdp.transitions), float(mdp.gamma)
    terminal = np.asarray(mdp.terminal)
    label = f"N={n_rewards} S={n_states} A={N_ACTIONS}"
    sizes = {"N": n_rewards, "S": n_states, "A": N_ACTIONS}
    read = host.nbytes + transitions.nbytes  # every implementation reads these once
    uniform_weights = np.broadcast_to(transitions / (n_states * N_ACTIONS), host.shape[1:])
    rows = [
        report(
            f"pairwise EPIC {label} vs numpy",
            lambda: rv.distances.pairwise(mdp, rewards, method="epic"),
            lambda: numpy_pearson_matrix(numpy_epic_canonical(host, gamma)),
            sizes=sizes,
            bytes_touched=host.nbytes,
            target_ratio=1.0,
        ),
        report(
            f"pairwise DARD {label} vs numpy",
            lambda: rv.distances.pairwise(mdp, rewards, method="dard"),
            lambda: numpy_weighted_pearson_matrix(
                numpy_dard_canonical(transitions, gamma, host), uniform_weights
            ),
            sizes=sizes,
            bytes_touched=read,
            target_ratio=1.0,
        ),
        report(
            f"pairwise STARC-VAL {label} vs numpy",
            lambda: rv.distances.pairwise(mdp, rewards, method="starc"),
            lambda: numpy_starc_matrix(numpy_val_canonical(transitions, gamma, host)),
            sizes=sizes,
            bytes_touched=read,
            target_ratio=1.0,
        ),
        report(
            f"pairwise STARC-minimal {label} vs numpy",
            lambda: rv.distances.pairwise(mdp, rewards, method="starc", canonical="minimal"),
            lambda: numpy_weighted_starc_matrix(
                *numpy_minimal_levelled(transitions, gamma, terminal, host)
            ),
            sizes=sizes,
            bytes_touched=read,
            target_ratio=1.0,
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
            lambda method=method: rv.distances.pairwise(mdp, rewards, method=method), n_repeats(7)
        )
        ratio = loop_timing.warm_median_seconds / jax_timing.warm_median_seconds
        error = float(np.abs(np.asarray(jax_result) - loop_result).max())
        print(
            f"pairwise {name} {label} vs per-pair loop: loop {loop_timing.warm_median_seconds:.2f} s"
            f"  jax {jax_timing.warm_median_seconds * 1e3:.1f} ms  ratio {ratio:.0f}x"
            f"  max |diff| {error:.1e}",
            flush=True,
        )
        rows.append(
            {
                "benchmark": f"pairwise {name} {label} vs per-pair loop",
                "sizes": sizes,
                "repeats": n_repeats(7),
                "baseline": "per-pair Python loop (numpy)",
                "jax_compile_and_first_s": jax_timing.first_seconds,
                "jax_warm_median_s": jax_timing.warm_median_seconds,
                "numpy_warm_median_s": loop_timing.warm_median_seconds,
                "speedup_vs_numpy": ratio,
                "max_abs_difference": error,
                "target": "ratio >= 50",
                "target_met": bool(ratio >= 50),
            }
        )

    one = rewards[:1]
    timing, _ = measure(lambda: rv.distances.canonicalize(mdp, one, method="dard"), n_repeats(7))
    print(
        f"DARD canonicalisation S={n_states} A={N_ACTIONS}, one reward: "
        f"{timing.warm_median_seconds * 1e3:.1f} ms (target < 50 ms)",
        flush=True,
    )
    rows.append(
        {
            "benchmark": f"DARD canonicalisation, one reward, S={n_states} A={N_ACTIONS}",
            "sizes": {"N": 1, "S": n_states, "A": N_ACTIONS},
            "repeats": n_repeats(7),
            "jax_compile_and_first_s": timing.first_seconds,
            "jax_warm_median_s": timing.warm_median_seconds,
            "target": "< 50 ms",
            "target_met": bool(timing.warm_median_seconds < 0.050),
        }
    )
    rows.append(sweep())
    return rows


def sweep() -> dict:
    """The canonicalise-normalise-distance-regret sweep over noisy proxies of a true reward.

    Proxies ``R + σ_i·noise_i`` for ``σ`` swept over [0.05, 3]: the EPIC matrix of the
    true reward and all proxies (canonicalise, normalise, distances), their STARC-VAL
    matrix's row of distances to the true reward, and the regret of optimising each proxy.
    """
    n_proxies, n_states = size(SWEEP_REWARDS, 8), size(SWEEP_STATES, 16)
    mdp, true = rv.envs.random_mdp(n_states, SWEEP_ACTIONS, seed=2, gamma=0.9)
    noise = rv.envs.random_reward(mdp, seed=3, batch_shape=(n_proxies,))
    scales = jnp.linspace(0.05, 3.0, n_proxies, dtype=true.dtype)
    proxies = true + scales[:, None, None, None] * noise
    stacked = jnp.concatenate([true[None], proxies])
    transitions, gamma = np.asarray(mdp.transitions), float(mdp.gamma)
    initial = np.asarray(mdp.initial)
    host_true, host_proxies, host_stacked = (np.asarray(a) for a in (true, proxies, stacked))

    def jax_sweep():
        epic = rv.distances.pairwise(mdp, stacked, method="epic")
        starc = rv.distances.pairwise(mdp, stacked, method="starc")[0, 1:]
        regret = rv.distances.regret(mdp, true, proxies)
        return jnp.concatenate([epic.ravel(), starc, regret])

    def numpy_sweep():
        epic = numpy_pearson_matrix(numpy_epic_canonical(host_stacked, gamma))
        canonical = numpy_val_canonical(transitions, gamma, host_stacked)
        starc = numpy_starc_matrix(canonical)[0, 1:]
        regret = numpy_regret(transitions, gamma, initial, host_true, host_proxies)
        return np.concatenate([epic.ravel(), starc, regret])

    row = report(
        f"sweep: canonicalise-normalise-distance-regret, {n_proxies} proxies S={n_states} "
        f"A={SWEEP_ACTIONS}",
        jax_sweep,
        numpy_sweep,
        repeats=5,
        sizes={"N": n_proxies + 1, "S": n_states, "A": SWEEP_ACTIONS},
        target_ratio=5.0,
    )
    parts = {
        "pairwise EPIC": lambda: rv.distances.pairwise(mdp, stacked, method="epic"),
        "pairwise STARC-VAL": lambda: rv.distances.pairwise(mdp, stacked, method="starc"),
        "regret": lambda: rv.distances.regret(mdp, true, proxies),
    }
    breakdown = {
        name: measure(part, n_repeats(5))[0].warm_median_seconds * 1e3
        for name, part in parts.items()
    }
    print("  of which " + ", ".join(f"{k} {v:.1f} ms" for k, v in breakdown.items()), flush=True)
    slowest = max(breakdown, key=breakdown.get)
    return {
        **row,
        "breakdown_ms": breakdown,
        "slowest_part": f"{slowest} {breakdown[slowest]:.1f} ms",
    }


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
