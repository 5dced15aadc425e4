"""The STARC regret-versus-distance study at full size, and the same pipeline in numpy.

Issue target (2-core CPU): the full configuration, 128 environments × 8 reward pairs ×
16 interpolation steps on |S| = 32, |A| = 4 (16 384 points, 45 STARC distances plus
EPIC's Pearson form and both regrets each), in under 60 s end to end, compilation
included; and, as for every pipeline here, at least 5x faster than vectorised numpy
doing the same work. numpy runs on a subset of environments (one Python iteration per
environment, everything inside it vectorised over pairs and steps) and is compared
with the jitted kernels on that same subset.

Run alone for a clean peak-memory figure: ``python -m benchmarks.bench_starc_study``.
"""

from __future__ import annotations

import resource
import time

import jax
import numpy as np

import rewardviz as rv
from benchmarks.harness import report, size

# float64 explicitly: the numpy baseline is float64, and the study follows JAX's default otherwise.
FULL = dict(
    n_envs=128, n_rewards=8, steps=16, n_states=32, n_actions=4, gamma=0.95, dtype="float64"
)
ORDERS = (1, 2, np.inf)


def lp(x, order, axis=-1):
    if order == 1:
        return np.abs(x).sum(axis)
    if order == 2:
        return np.sqrt((x**2).sum(axis))
    return np.abs(x).max(axis)


def weighted_lp(x, weights, order):
    if order == 1:
        return (weights * np.abs(x)).sum(-1)
    if order == 2:
        return np.sqrt((weights * x**2).sum(-1))
    return (weights * np.abs(x)).max(-1)


def numpy_policy_iteration(transitions, gamma, expected):
    """Optimal values ``[..., S]`` and greedy actions by policy iteration with LAPACK solves."""
    n_states = transitions.shape[0]
    actions = expected.argmax(-1)
    eye = np.eye(n_states)
    while True:
        step = np.take_along_axis(
            np.broadcast_to(transitions, (*actions.shape, *transitions.shape[1:])),
            actions[..., None, None],
            axis=-2,
        )[..., 0, :]  # [..., S, S']
        reward = np.take_along_axis(expected, actions[..., None], -1)[..., 0]
        values = np.linalg.solve(eye - gamma * step, reward[..., None])[..., 0]
        q = expected + gamma * np.einsum("sat,...t->...sa", transitions, values)
        current = np.take_along_axis(q, actions[..., None], -1)[..., 0]
        scale = np.maximum(1, np.abs(q).max((-2, -1), keepdims=True))[..., 0]
        better = q.max(-1) > current + 64 * np.finfo(float).eps * scale
        if not better.any():
            return values, actions
        actions = np.where(better, q.argmax(-1), actions)


def numpy_evaluate(transitions, gamma, actions, expected):
    n_states = transitions.shape[0]
    shape = np.broadcast_shapes(actions.shape, expected.shape[:-1])
    actions = np.broadcast_to(actions, shape)
    step = np.take_along_axis(
        np.broadcast_to(transitions, (*shape, *transitions.shape[1:])),
        actions[..., None, None],
        axis=-2,
    )[..., 0, :]
    reward = np.take_along_axis(np.broadcast_to(expected, (*shape, expected.shape[-1])), actions[..., None], -1)[..., 0]  # fmt: skip
    return np.linalg.solve(np.eye(n_states) - gamma * step, reward[..., None])[..., 0]


def numpy_environment(transitions, gamma, pairs, ts):
    """All 46 distances ``[K, P, T]`` and both regrets ``[2, P, T]`` of one environment."""
    n_states, n_actions, _ = transitions.shape
    t = ts[None, :, None, None, None]
    points = (1 - t) * pairs[:, None, 0] + t * pairs[:, None, 1]  # [P, T, S, A, S']
    out = []

    def full_distances(canonical_pairs, pearson=False):
        c = (1 - t) * canonical_pairs[:, None, 0] + t * canonical_pairs[:, None, 1]
        c = c.reshape(*c.shape[:2], -1)
        for norm in ORDERS:
            units = c / lp(c, norm)[..., None]
            for metric in ORDERS:
                out.append(lp(units[:, :1] - units, metric))
        if pearson:
            centred = c - c.mean(-1, keepdims=True)
            units = centred / np.sqrt((centred**2).mean(-1, keepdims=True))
            out.append(0.5 * np.sqrt(((units[:, :1] - units) ** 2).mean(-1)))

    full_distances(pairs)
    mean_next = pairs.mean((-2, -1))
    full_distances(
        pairs
        + gamma * mean_next[..., None, None, :]
        - mean_next[..., :, None, None]
        - gamma * mean_next.mean(-1)[..., None, None, None],
        pearson=True,
    )
    expected_pairs = (transitions * pairs).sum(-1)  # [P, 2, S, A]
    u = expected_pairs.mean(-1)
    step = np.einsum("sax,pqxay->pqasy", transitions, pairs)
    between = np.einsum("pqasy,tay->pqst", step, transitions) / n_actions
    full_distances(
        pairs + gamma * u[..., None, None, :] - u[..., :, None, None] - gamma * between[..., :, None, :]
    )  # fmt: skip

    expected = (transitions * points).sum(-1)  # [P, T, S, A]
    flat_expected = expected.reshape(*expected.shape[:2], -1)
    # VAL, uniform policy: r − V(s) + γTV, constant over s' (weights S, S, 1).
    system = np.eye(n_states) - gamma * transitions.mean(1)
    values = np.linalg.solve(system, expected.mean(-1).reshape(-1, n_states).T).T
    values = values.reshape(*expected.shape[:2], n_states)
    levelled = (
        expected - values[..., None] + gamma * np.einsum("sat,...t->...sa", transitions, values)
    )
    weights = {1: np.full(n_states * n_actions, n_states), 2: np.full(n_states * n_actions, n_states), np.inf: np.ones(n_states * n_actions)}  # fmt: skip
    factored = [(levelled.reshape(*levelled.shape[:2], -1), weights)]
    # Minimal: weighted least squares for Φ, then c·T/‖T‖².
    row_norm = (transitions**2).sum(-1).reshape(-1)
    design = (gamma * transitions - np.eye(n_states)[:, None, :]).reshape(-1, n_states)
    root = np.sqrt(1 / row_norm)
    potential = np.linalg.pinv(root[:, None] * design) @ (root[:, None] * flat_expected.reshape(-1, len(root)).T)  # fmt: skip
    minimal = flat_expected - (design @ potential).T.reshape(flat_expected.shape)
    profile = (transitions / (transitions**2).sum(-1, keepdims=True)).reshape(-1, n_states)
    factored.append(
        (minimal, {1: profile.sum(-1), 2: (profile**2).sum(-1), np.inf: profile.max(-1)})
    )
    for levels, weight in factored:
        for norm in ORDERS:
            units = levels / weighted_lp(levels, weight[norm], norm)[..., None]
            for metric in ORDERS:
                out.append(weighted_lp(units[:, :1] - units, weight[metric], metric))

    high, best = numpy_policy_iteration(transitions, gamma, expected)
    low, _ = numpy_policy_iteration(transitions, gamma, -expected)
    best_return, worst_return = high.mean(-1), -low.mean(-1)  # uniform start
    forward = numpy_evaluate(transitions, gamma, best, expected[:, :1]).mean(-1)
    backward = numpy_evaluate(transitions, gamma, best[:, :1], expected).mean(-1)
    span = best_return - worst_return
    regrets = np.stack(
        [(best_return[:, :1] - forward) / span[:, :1], (best_return - backward) / span]
    )
    return np.stack(out), np.clip(regrets, 0, 1)


def numpy_study(transitions, rewards, gamma, steps):
    ts = np.linspace(0, 1, steps)
    results = [numpy_environment(t, gamma, r, ts) for t, r in zip(transitions, rewards, strict=True)]  # fmt: skip
    return np.stack([d for d, _ in results]), np.stack([r for _, r in results])


def run() -> list[dict]:
    config = dict(FULL, n_envs=size(128, 16))  # a quick run studies 16 environments
    subset_envs = size(8, 4)
    start = time.perf_counter()
    study = rv.experiments.interpolation_study(**config, progress=False)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    study = rv.experiments.interpolation_study(**config, progress=False)
    warm = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    points = len(study.frame)
    print(
        f"{'STARC study ' + str(config['n_envs']) + 'x8x16 S=32 A=4, 46 distances':<48} "
        f"end to end {cold:6.2f} s "
        f"(with compilation), {warm:6.2f} s warm, {points} points, "
        f"peak RSS {peak:.0f} MiB (whole process)"
    )

    subset = dict(config, n_envs=subset_envs)
    transitions = study.transitions[:subset_envs]
    rewards = study.rewards[:subset_envs]
    names = [*study.distances, "regret_forward", "regret_backward"]

    def jax_subset():
        part = rv.experiments.interpolation_study(**subset, progress=False)
        return part.frame[names].to_numpy()

    def numpy_subset():
        distances, regrets = numpy_study(transitions, rewards, FULL["gamma"], FULL["steps"])
        columns = [distances[:, k].ravel() for k in range(distances.shape[1])]
        columns += [regrets[:, 0].ravel(), regrets[:, 1].ravel()]
        return np.stack(columns, axis=1)

    row = report(
        f"STARC study, {subset_envs} envs of the full config, vs numpy",
        jax_subset,
        numpy_subset,
        repeats=3,
        sizes={"envs": subset_envs, "pairs": 8, "steps": 16, "S": 32, "A": 4, "distances": 46},
        target_ratio=5,
    )
    row.update(full_cold_seconds=cold, full_warm_seconds=warm, peak_rss_mib=peak, points=points)
    return [row]


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, float64")
    run()
