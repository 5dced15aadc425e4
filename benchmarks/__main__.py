"""Run the benchmarks: ``python -m benchmarks`` (``make bench``) writes build/bench.{json,md}.

``--quick`` runs smaller problems with fewer repeats (a smoke test; its ratios are not
the issue's targets); ``--only distances,widgets`` runs some suites. The files are
rewritten (atomically) after every suite, so an interrupted run keeps what finished.
"""

import argparse
import sys
import tempfile

import jax

jax.config.update("jax_enable_x64", True)

from benchmarks import (  # noqa: E402  (x64 before any array)
    bench_decompose,
    bench_distances,
    bench_expressivity,
    bench_groups,
    bench_landscape,
    bench_learning,
    bench_reward_learning,
    bench_scale,
    bench_solve,
    bench_starc_study,
    bench_widgets,
    harness,
)

# First-call latency of the main entry points, each in a fresh process: ``(setup, call,
# sizes)``. The setup builds the inputs (not timed); the call is what a user runs first.
TOUR = 'rv.envs.gridworld(["S....", ".##..", ".#L..", "....G"], gamma=0.95, slip=0.1)'
ENTRY_POINTS = {
    "rv.solve.value_iteration": (
        "mdp, _ = rv.envs.random_mdp(100, 8, seed=0, gamma=0.95)\n"
        "rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=(64,))\n",
        "rv.solve.value_iteration(mdp, rewards).values",
        {"N": 64, "S": 100, "A": 8},
    ),
    "rv.distances.pairwise (EPIC)": (
        "mdp, _ = rv.envs.random_mdp(128, 4, seed=0, gamma=0.9)\n"
        "rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=(64,))\n",
        'rv.distances.pairwise(mdp, rewards, method="epic")',
        {"N": 64, "S": 128, "A": 4},
    ),
    "rv.decompose statistics": (
        "log = rv.io.example_log()\n",
        "(rv.decompose.component_returns(log, 0.99), rv.decompose.return_shares(log, 0.99), "
        'rv.decompose.variance_attribution(log, 0.99), rv.decompose.correlations(log, level="step"))',
        {"log": "example_log()"},
    ),
    "rv.groups.advantages": (
        "group = rv.groups.example_groups()\n",
        "rv.groups.advantages(group)",
        {"groups": "example_groups()"},
    ),
    "rv.learning.compare_rewards": (
        f"mdp, reward = {TOUR}\n"
        "candidates = {'sparse': reward, 'noisy': reward + 0.01 * rv.envs.random_reward(mdp, seed=0)}\n",
        "rv.learning.compare_rewards(mdp, reward, candidates, n_seeds=8, steps=2000).returns",
        {"seeds": 8, "rewards": 2, "steps": 2000, "grid": "tour 5x4"},
    ),
    "rv.landscape.evaluate": (
        "field = rv.landscape_examples.ball_and_goal()\n",
        "field.evaluate(resolution=64).mean",
        {"grid": "64x64", "example": "ball_and_goal"},
    ),
}


def compile_budget() -> list[dict]:
    """First-call latency of each entry point in a fresh process, with an empty then a warm
    persistent compilation cache (:func:`rewardviz.enable_compilation_cache`)."""
    rows = []
    for name, (setup, call, sizes) in ENTRY_POINTS.items():
        with tempfile.TemporaryDirectory(prefix="rewardviz-bench-cache-") as cache:
            cold = harness.first_call_in_fresh_process(setup, call, cache)
            warm = harness.first_call_in_fresh_process(setup, call, cache)
        row = {
            "benchmark": f"first call {name}",
            "sizes": sizes,
            "repeats": 3,
            "jax_compile_and_first_s": cold["first_s"],
            "jax_warm_median_s": cold["warm_s"],
            "first_call_with_warm_cache_s": warm["first_s"],
            "compiles_cold": cold["compiles"],
            "cache_hits_warm": warm["cache_hits"],
            "compiles_warm": warm["compiles"] - warm["cache_hits"],
        }
        rows.append(row)
        print(
            f"first call {name:<38} fresh process, empty cache {cold['first_s']:.2f} s "
            f"({cold['compiles']} compilations); warm cache {warm['first_s']:.2f} s "
            f"({warm['cache_hits']} loaded); later calls {cold['warm_s'] * 1e3:.1f} ms",
            flush=True,
        )
    return rows


SUITES = {
    # First: its child processes report peak RSS with ru_maxrss, which on Linux starts
    # from this process's resident memory when they are spawned; keep that small.
    "scale": bench_scale.run,
    "solve": bench_solve.run,
    "distances": bench_distances.run,
    "decompose": bench_decompose.run,
    "groups": bench_groups.run,
    "learning": bench_learning.run,
    "reward_learning": bench_reward_learning.run,
    "expressivity": bench_expressivity.run,
    "landscape": bench_landscape.run,
    "starc_study": bench_starc_study.run,
    "widgets": bench_widgets.run,
    "compile": compile_budget,
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="rewardviz kernels against vectorised numpy; writes bench.json and bench.md.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller problems, fewer repeats (smoke test)"
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated suites to run, of: {', '.join(SUITES)}"
    )
    parser.add_argument("--output-dir", default="build", help="where to write (default: build)")
    args = parser.parse_args(argv)
    requested = {name.strip() for name in args.only.split(",") if name.strip()} or set(SUITES)
    unknown = sorted(requested - set(SUITES))
    if unknown:
        parser.error(f"unknown suite(s) {unknown}; choose from {', '.join(SUITES)}")
    selected = [name for name in SUITES if name in requested]  # always in SUITES's order

    harness.QUICK = args.quick
    machine = {**harness.machine(), "suites": selected}
    print(
        f"jax {machine['jax']} on {', '.join(machine['devices'])}, {machine['cpu_model']}, "
        f"{machine['usable_cores']} cores, float64{' (quick run)' if args.quick else ''}",
        flush=True,
    )
    bandwidth = None
    rows: list[dict] = []
    for name in selected:
        # Measured after the scale suite, whose children's peak RSS would include the
        # 384 MB of arrays the measurement leaves in this process's high-water mark.
        if bandwidth is None and name != "scale":
            bandwidth = harness.memory_bandwidth()
        print(f"\n## {name}", flush=True)
        rows += [{"suite": name, **row} for row in SUITES[name]()]
        if bandwidth is not None:
            harness.add_bandwidth(rows, bandwidth)
        paths = harness.write_outputs(args.output_dir, machine, bandwidth, rows)
    print(f"\nWrote {paths[0]} and {paths[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
