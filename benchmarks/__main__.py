"""Run every benchmark: ``python -m benchmarks`` (``make bench``)."""

import jax

jax.config.update("jax_enable_x64", True)

from benchmarks import bench_distances, bench_solve  # noqa: E402  (x64 before any array)

if __name__ == "__main__":
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, float64")
    bench_solve.run()
    bench_distances.run()
