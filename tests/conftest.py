"""Test session set-up: float64 everywhere, so results are compared with loop oracles tightly."""

import jax
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

# The first example of a property test compiles the kernels; later ones are fast.
settings.register_profile(
    "rewardviz",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("rewardviz")
