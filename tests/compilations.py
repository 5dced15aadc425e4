"""Counting XLA compilations package-wide, for the tests that widgets never recompile.

JAX reports every backend compilation as the monitoring event below; one listener,
registered once for the whole test session, counts them (per-kernel ``_cache_size()``
would miss eager ops and kernels a widget calls indirectly).
"""

import jax

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class CompileCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, event: str, duration: float, **kwargs) -> None:
        if event == COMPILE_EVENT:
            self.count += 1


COUNTER = CompileCounter()
jax.monitoring.register_event_duration_secs_listener(COUNTER)
