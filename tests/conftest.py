"""Test session set-up: float64 everywhere, so results are compared with loop oracles tightly."""

import gc

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

# The first example of a property test compiles the kernels; later ones are fast.
# derandomize: every run draws the same examples (a seed derived from each test), and no
# example database carries state between runs, so `make test` from a fresh clone and a
# rerun on a developer's machine test exactly the same cases: a property test cannot pass
# on one run and fail on the next.
settings.register_profile(
    "rewardviz",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
settings.load_profile("rewardviz")


@pytest.fixture(autouse=True, scope="module")
def release_compiled_programs():
    """Drop JAX's compiled programs after each test module.

    Every XLA:CPU executable keeps a few memory mappings of its machine code alive, and
    the suite compiles thousands of distinct programs (shapes, dtypes, options) that no
    later module reuses. Kept for the whole session they passed Linux's default limit
    of 65,530 mappings per process (`vm.max_map_count`) at about 90 % of the suite, and
    the next compilation crashed with a segmentation fault.
    """
    yield
    jax.clear_caches()
    gc.collect()
