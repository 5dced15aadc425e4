"""Shared timing harness: compile time apart from warm run time, warm medians, ratios.

Timings on two shared cores are noisy, so every benchmark reports the median of
several warm runs of both implementations measured in the same process, and the
ratio numpy / JAX. Each benchmark also checks that both give the same numbers.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable

import jax
import numpy as np


@dataclasses.dataclass(frozen=True)
class Timing:
    first_seconds: float  # the first call: compilation plus one run for JAX
    warm_median_seconds: float


def measure(function: Callable[[], object], repeats: int = 7) -> tuple[Timing, object]:
    """Time ``function`` once cold and ``repeats`` times warm; return the timing and a result."""
    start = time.perf_counter()
    result = jax.block_until_ready(function())
    first = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(function())
        warm.append(time.perf_counter() - start)
    return Timing(first, statistics.median(warm)), result


def report(name: str, jax_function: Callable, numpy_function: Callable, repeats: int = 7) -> dict:
    """Measure both implementations, check they agree, print and return one row."""
    jax_timing, jax_result = measure(jax_function, repeats)
    numpy_timing, numpy_result = measure(numpy_function, repeats)
    error = float(np.max(np.abs(np.asarray(jax_result) - np.asarray(numpy_result))))
    row = {
        "benchmark": name,
        "jax_compile_and_first_s": jax_timing.first_seconds,
        "jax_warm_median_s": jax_timing.warm_median_seconds,
        "numpy_warm_median_s": numpy_timing.warm_median_seconds,
        "speedup_vs_numpy": numpy_timing.warm_median_seconds / jax_timing.warm_median_seconds,
        "max_abs_difference": error,
    }
    print(
        f"{name:<48} jax {row['jax_warm_median_s'] * 1e3:9.2f} ms "
        f"(first call {row['jax_compile_and_first_s']:.2f} s)  numpy "
        f"{row['numpy_warm_median_s'] * 1e3:9.2f} ms  ratio {row['speedup_vs_numpy']:6.2f}x  "
        f"max |diff| {error:.1e}"
    )
    return row
