"""Realisability LPs: the fringe reduction against checking every deterministic policy.

On a 3×3 open grid (9 states, 4 actions: 4^9 = 262,144 deterministic policies) the
"always move in the same direction" SOAP is checked twice: against its fringe (the
default) and exhaustively. Both must give the same answer; the ratio is what the fringe
saves. Both paths are float64 numpy features plus one HiGHS LP, so this is not a
JAX-versus-numpy comparison; the issue asks for the LP sizes and times.
"""

from __future__ import annotations

import rewardviz as rv
from benchmarks.harness import measure
from rewardviz.expressivity import environments


def run() -> list[dict]:
    grid = environments.open_grid(3, 3)
    acceptable = environments.constant_direction_policies(grid)
    fringe_timing, fringe = measure(lambda: rv.expressivity.realize_soap(grid, acceptable), 3)
    exhaustive_timing, exhaustive = measure(
        lambda: rv.expressivity.realize_soap(
            grid, acceptable, exhaustive=True, max_policies=300_000, progress=False
        ),
        1,
    )
    assert fringe.realizable == exhaustive.realizable
    row = {
        "benchmark": "SOAP realisability, 3x3 grid, same direction",
        "fringe_constraints": fringe.n_constraints,
        "exhaustive_constraints": exhaustive.n_constraints,
        "fringe_warm_median_s": fringe_timing.warm_median_seconds,
        "exhaustive_warm_median_s": exhaustive_timing.warm_median_seconds,
        "speedup_of_fringe": exhaustive_timing.warm_median_seconds
        / fringe_timing.warm_median_seconds,
    }
    print(
        f"{row['benchmark']:<48} fringe {fringe.n_constraints} rows "
        f"{row['fringe_warm_median_s'] * 1e3:8.1f} ms  exhaustive {exhaustive.n_constraints:,} rows "
        f"{row['exhaustive_warm_median_s']:6.2f} s  ratio {row['speedup_of_fringe']:7.0f}x  "
        f"same answer: {fringe.realizable == exhaustive.realizable}"
    )
    return [row]


if __name__ == "__main__":
    run()
