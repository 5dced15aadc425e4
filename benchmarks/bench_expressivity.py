"""Realisability LPs: the fringe reduction against checking every deterministic policy.

On a 3×3 open grid (9 states, 4 actions: 4^9 = 262,144 deterministic policies) the
"always move in the same direction" SOAP is checked twice: against its fringe (the
default) and exhaustively. Both must give the same answer; the ratio is what the fringe
saves. Both paths are float64 numpy features plus one HiGHS LP, so this is not a
JAX-versus-numpy comparison; the issue asks for the LP sizes and times.
"""

from __future__ import annotations

import rewardviz as rv
from benchmarks.harness import measure, n_repeats, size
from rewardviz.expressivity import environments


def run() -> list[dict]:
    side = size(3, 2)  # 4^9 policies in the full run, 4^4 in a quick one
    grid = environments.open_grid(side, side)
    acceptable = environments.constant_direction_policies(grid)
    fringe_timing, fringe = measure(
        lambda: rv.expressivity.realize_soap(grid, acceptable), n_repeats(3)
    )
    exhaustive_timing, exhaustive = measure(
        lambda: rv.expressivity.realize_soap(
            grid, acceptable, exhaustive=True, max_policies=300_000, progress=False
        ),
        1,
    )
    assert fringe.realizable == exhaustive.realizable
    row = {
        "benchmark": f"SOAP realisability LP, {side}x{side} grid, same direction",
        "sizes": {
            "S": grid.n_states,
            "A": grid.n_actions,
            "policies": grid.n_actions**grid.n_states,
            "fringe_rows": fringe.n_constraints,
            "exhaustive_rows": exhaustive.n_constraints,
        },
        "repeats": n_repeats(3),
        "baseline": "the same LP over every deterministic policy",
        "jax_compile_and_first_s": fringe_timing.first_seconds,
        "jax_warm_median_s": fringe_timing.warm_median_seconds,
        "numpy_warm_median_s": exhaustive_timing.warm_median_seconds,
        "speedup_vs_numpy": exhaustive_timing.warm_median_seconds
        / fringe_timing.warm_median_seconds,
        "same_answer": fringe.realizable == exhaustive.realizable,
    }
    print(
        f"{row['benchmark']:<48} fringe {fringe.n_constraints} rows "
        f"{row['jax_warm_median_s'] * 1e3:8.1f} ms  exhaustive {exhaustive.n_constraints:,} rows "
        f"{row['numpy_warm_median_s']:6.2f} s  ratio {row['speedup_vs_numpy']:7.0f}x  "
        f"same answer: {fringe.realizable == exhaustive.realizable}"
    )
    return [row]


if __name__ == "__main__":
    run()
