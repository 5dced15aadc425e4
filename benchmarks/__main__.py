"""Run every benchmark: ``python -m benchmarks`` (``make bench``)."""

import jax

jax.config.update("jax_enable_x64", True)

from benchmarks import (  # noqa: E402  (x64 before any array)
    bench_decompose,
    bench_distances,
    bench_expressivity,
    bench_groups,
    bench_landscape,
    bench_learning,
    bench_solve,
)

if __name__ == "__main__":
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, float64")
    bench_solve.run()
    bench_distances.run()
    bench_decompose.run()
    bench_groups.run()
    bench_learning.run()
    bench_expressivity.run()
    bench_landscape.run()
