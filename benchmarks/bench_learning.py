"""Batched tabular learning: 32 seeds x 8 candidate rewards x 10⁵ steps on a 10x10 gridworld.

Issue target (2-core CPU): :func:`rewardviz.learning.compare_rewards` (Q-learning, all
256 runs vmapped in one jitted call, greedy policies evaluated exactly 21 times per run)
at least 20x faster than a per-seed numpy loop doing the same work.

The numpy loop is the straightforward implementation: one Python loop over steps per
run, Q in a numpy array, an exact ``np.linalg.solve`` per evaluation. At roughly
microseconds per step it would take several minutes for all 256 runs, so it is timed on
``NUMPY_RUNS`` runs and scaled to 256 (runs are independent and cost the same; the
output says so). It is fed the uniform numbers the JAX run draws (generated beforehand,
not timed), so it replays a JAX run exactly and the benchmark checks that both learn
the same Q-values.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import rewardviz as rv
from benchmarks.harness import measure, n_repeats
from rewardviz import learning

N_SEEDS, N_CANDIDATES, STEPS, EVAL_EVERY = 32, 8, 100_000, 5_000
NUMPY_RUNS = 2
TARGET_RATIO = 20.0
ALPHA, EPSILON = 0.1, 0.1

LAYOUT = [
    "S.........",
    "..........",
    "..#####...",
    "......#...",
    "......#...",
    "..#...#...",
    "..#.......",
    "..#####...",
    ".........G",
    "..........",
]


def candidates(mdp, reward) -> dict:
    """Eight rewards: sparse, shaped by four potentials, two progress bonuses, noise."""
    distance = rv.envs.steps_to_goal(mdp)
    gamma = float(mdp.gamma)
    shaped = {
        f"shaped {name}": rv.shaping.potential_shaping(mdp, reward, potential)
        for name, potential in [
            ("γ^d", gamma**distance),
            ("-d", -distance),
            ("-0.1d", -0.1 * distance),
            ("random", np.random.default_rng(0).normal(size=mdp.n_states)),
        ]
    }
    bonuses = {
        f"bonus {bonus}": rv.shaping.progress_bonus(mdp, reward, -distance, bonus)
        for bonus in (0.05, 0.3)
    }
    noisy = reward + 0.01 * rv.envs.random_reward(mdp, seed=0)
    return {"sparse": reward, **shaped, **bonuses, "noisy": noisy}


@jax.jit
def _uniforms(key):
    """The uniform numbers one run draws, as documented in rewardviz.learning: the start
    draw [3], then one [EVAL_EVERY, 8] draw per stretch between evaluations."""
    key, draw = jax.random.split(key)
    start = jax.random.uniform(draw, (3,), jnp.float64)

    def stretch(key, _):
        key, draw = jax.random.split(key)
        return key, jax.random.uniform(draw, (EVAL_EVERY, 8), jnp.float64)

    _, draws = jax.lax.scan(stretch, key, None, length=STEPS // EVAL_EVERY)
    return start, draws.reshape(STEPS, 8)


def numpy_q_learning(transitions, reward, true_reward, gamma, initial, terminal, start, draws):
    """One Q-learning run with a Python loop over steps; the greedy returns at each evaluation."""
    n_states, n_actions, _ = transitions.shape
    cumulative = np.cumsum(transitions, axis=-1)
    initial_cumulative = np.cumsum(initial)
    max_length = 4 * n_states
    q = np.zeros((n_states, n_actions))
    live = ~terminal
    continuing = transitions * live[:, None, None] * live[None, None, :]
    expected = np.where(live[:, None], (transitions * true_reward).sum(-1), 0.0)

    def draw_from(cum, u):
        return min(int(np.searchsorted(cum, u, side="right")), len(cum) - 1)

    def act(row, explore, pick):
        if explore < EPSILON:
            return min(int(pick * n_actions), n_actions - 1)
        ties = np.flatnonzero(row == row.max())
        return int(ties[min(int(pick * len(ties)), len(ties) - 1)])

    def greedy_return():
        ties = (q == q.max(axis=1, keepdims=True)).astype(float)
        policy = ties / ties.sum(axis=1, keepdims=True)
        system = np.eye(n_states) - gamma * np.einsum("sa,sat->st", policy, continuing)
        values = np.linalg.solve(system, (policy * expected).sum(axis=1))
        return initial @ values

    state = draw_from(initial_cumulative, start[0])
    age = 0
    returns = [greedy_return()]
    for t in range(STEPS):
        u = draws[t]
        action = act(q[state], u[0], u[1])
        successor = draw_from(cumulative[state, action], u[2])
        done = terminal[successor]
        target = reward[state, action, successor] + (0.0 if done else gamma * q[successor].max())
        q[state, action] += ALPHA * (target - q[state, action])
        age += 1
        if done or age >= max_length:
            state, age = draw_from(initial_cumulative, u[5]), 0
        else:
            state = successor
        if (t + 1) % EVAL_EVERY == 0:
            returns.append(greedy_return())
    return q, np.array(returns)


def run() -> list[dict]:
    mdp, reward = rv.envs.gridworld(LAYOUT, gamma=0.95)
    rewards = candidates(mdp, reward)
    options = {"n_seeds": N_SEEDS, "steps": STEPS, "eval_every": EVAL_EVERY, "n_bootstrap": 1000}

    timing, result = measure(
        lambda: learning.compare_rewards(mdp, reward, rewards, **options).returns, n_repeats(3)
    )
    n_runs = N_SEEDS * N_CANDIDATES

    # numpy: NUMPY_RUNS runs of the first candidate, replaying the JAX runs' random draws.
    keys = jax.random.split(jax.random.key(0), N_SEEDS)
    arrays = [np.asarray(a, dtype=np.float64) for a in (mdp.transitions, reward)]
    initial = np.asarray(mdp.initial, np.float64)
    terminal = np.asarray(mdp.terminal)
    numpy_seconds, max_difference = 0.0, 0.0
    for run_index in range(NUMPY_RUNS):
        start, draws = (np.asarray(a) for a in _uniforms(keys[run_index]))
        began = time.perf_counter()
        _, numpy_returns = numpy_q_learning(
            arrays[0], arrays[1], arrays[1], float(mdp.gamma), initial, terminal, start, draws
        )
        numpy_seconds += time.perf_counter() - began
        max_difference = max(
            max_difference, float(np.abs(numpy_returns - result[0, run_index]).max())
        )
    numpy_total = numpy_seconds / NUMPY_RUNS * n_runs
    ratio = numpy_total / timing.warm_median_seconds
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    label = f"{N_SEEDS} seeds x {N_CANDIDATES} rewards x {STEPS:.0e} steps, 10x10 grid"
    print(
        f"{'compare_rewards Q-learning ' + label:<48} jax "
        f"{timing.warm_median_seconds:7.2f} s (first call {timing.first_seconds:.2f} s)  "
        f"numpy {numpy_total:8.1f} s (measured on {NUMPY_RUNS} runs, "
        f"{numpy_seconds / NUMPY_RUNS:.2f} s each, scaled to {n_runs})  ratio {ratio:6.1f}x "
        f"({verdict} the {TARGET_RATIO:.0f}x target)  max |diff| of replayed curves "
        f"{max_difference:.1e}"
    )
    return [
        {
            "benchmark": f"compare_rewards Q-learning {label}",
            "sizes": {
                "seeds": N_SEEDS,
                "rewards": N_CANDIDATES,
                "steps": STEPS,
                "S": mdp.n_states,
                "A": mdp.n_actions,
            },
            "repeats": n_repeats(3),
            "baseline": f"per-seed numpy loop ({NUMPY_RUNS} runs timed, scaled to {n_runs})",
            "jax_compile_and_first_s": timing.first_seconds,
            "jax_warm_median_s": timing.warm_median_seconds,
            "numpy_warm_median_s": numpy_total,
            "speedup_vs_numpy": ratio,
            "max_abs_difference": max_difference,
            "target": f"ratio >= {TARGET_RATIO:g}",
            "target_met": bool(ratio >= TARGET_RATIO),
        }
    ]


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
