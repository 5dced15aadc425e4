"""Batched reward learning: 32 seeds x 8 dataset sizes fitted from preferences in one call.

Issue target (2-core CPU): :func:`rewardviz.reward_learning.fit.fit_preferences` fitting
all 256 runs (32 datasets, each at 8 sizes; a size is the first ``m`` pairs) in one jitted,
vmapped call at least 20x faster than a per-run Python loop of the same code: the same
public function called once per (seed, size), each call one dataset and one size, already
compiled (the loop's single-run program is compiled once, before timing, and reused for
every call: sizes are masks, so all calls share one shape).

Both fit the same data with the same options. The batched call starts dataset ``i`` from
``fold_in(key, i)`` and a lone call from ``fold_in(key, 0)``, so their random starting
points differ (standard deviation 0.01); the row reports the largest difference between
the two final losses, which is small once both have converged.
"""

from __future__ import annotations

import time

import jax
import numpy as np

import rewardviz as rv
from benchmarks.harness import measure, n_repeats, size
from rewardviz.reward_learning import fit, preferences

N_SEEDS = 32
SIZES = (8, 16, 32, 64, 128, 256, 384, 512)
SEGMENT_LENGTH = 4
TARGET_RATIO = 20.0


def run() -> list[dict]:
    n_steps = size(300, 100)
    mdp, reward = rv.envs.gridworld(["S....", ".#.#.", "..#..", "....G"], gamma=0.9)
    data = preferences.sample_preferences(
        mdp,
        reward,
        rv.policies.uniform(mdp),
        n_pairs=max(SIZES),
        segment_length=SEGMENT_LENGTH,
        beta=0.1,
        n_seeds=N_SEEDS,
        seed=0,
    )
    options = {"model": "partial_return", "n_steps": n_steps, "seed": 1}

    def batched():
        return fit.fit_preferences(mdp, data, sizes=SIZES, **options).losses

    timing, losses = measure(batched, n_repeats(3))

    datasets = [jax.tree_util.tree_map(lambda leaf, i=i: leaf[i], data) for i in range(N_SEEDS)]

    def one_run(i: int, m: int):
        return fit.fit_preferences(mdp, datasets[i], sizes=(m,), **options).losses

    jax.block_until_ready(one_run(0, SIZES[0]))  # compile the single-run program once
    began = time.perf_counter()
    loop_final = np.zeros((N_SEEDS, len(SIZES)))
    for i in range(N_SEEDS):
        for j, m in enumerate(SIZES):
            loop_final[i, j] = float(one_run(i, m)[0, 0, -1])
    loop_seconds = time.perf_counter() - began
    n_runs = N_SEEDS * len(SIZES)
    ratio = loop_seconds / timing.warm_median_seconds
    difference = float(np.abs(np.asarray(losses[..., -1]) - loop_final).max())
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    label = (
        f"{N_SEEDS} seeds x {len(SIZES)} sizes (<= {max(SIZES)} pairs, k = {SEGMENT_LENGTH}), "
        f"{n_steps} Adam steps, {mdp.n_states}-state grid"
    )
    print(
        f"{'fit_preferences ' + label:<48} batched {timing.warm_median_seconds:7.2f} s "
        f"(first call {timing.first_seconds:.2f} s)  loop of {n_runs} calls "
        f"{loop_seconds:7.2f} s  ratio {ratio:6.1f}x ({verdict} the {TARGET_RATIO:.0f}x "
        f"target)  max |diff| of final losses {difference:.1e}",
        flush=True,
    )
    return [
        {
            "benchmark": f"fit_preferences {label}",
            "sizes": {
                "seeds": N_SEEDS,
                "dataset_sizes": list(SIZES),
                "segment_length": SEGMENT_LENGTH,
                "steps": n_steps,
                "S": mdp.n_states,
                "A": mdp.n_actions,
            },
            "repeats": n_repeats(3),
            "baseline": f"per-run Python loop of fit_preferences ({n_runs} calls, compiled)",
            "jax_compile_and_first_s": timing.first_seconds,
            "jax_warm_median_s": timing.warm_median_seconds,
            "numpy_warm_median_s": loop_seconds,
            "speedup_vs_numpy": ratio,
            "max_abs_difference": difference,
            "target": f"ratio >= {TARGET_RATIO:g}",
            "target_met": bool(ratio >= TARGET_RATIO),
        }
    ]


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
