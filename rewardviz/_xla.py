"""The one XLA:CPU setting rewardviz makes, applied when the package is imported.

jaxlib 0.10's CPU runtime can deadlock a jitted program that runs batched LAPACK calls
(``jnp.linalg.solve`` under ``vmap``) while its *concurrency-optimised scheduler* runs
other work beside them. Measured on this project's 2-core machines with jax 0.10.2: the
STARC study's regret program with LAPACK solves hung on its first to third call, every
time; with ``--xla_cpu_enable_concurrency_optimized_scheduler=false`` it ran every call,
and the program then runs several times faster than with the pure-array elimination
(:func:`rewardviz._kernels.block_solve`) used when the flag is not in effect.

XLA reads ``XLA_FLAGS`` once, when JAX creates its first backend, so the flag can only be
added before any JAX computation in the process. It is added when that is still
possible and the user has not chosen a value: ``import rewardviz`` before running
anything in JAX (the usual first cell) gets the fast solves. A user who sets
``--xla_cpu_enable_concurrency_optimized_scheduler=true`` keeps it, and rewardviz falls
back to the elimination; so does a process whose backend started before the import.
The setting only changes how XLA:CPU orders independent operations, never a result.
"""

from __future__ import annotations

import os

__all__ = ["SCHEDULER_FLAG", "batched_lapack_safe"]

#: The XLA:CPU option whose default (true) deadlocks batched LAPACK calls in jaxlib 0.10.
SCHEDULER_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler"


def _backend_started() -> bool:
    """Whether JAX has created a backend already (so ``XLA_FLAGS`` was read)."""
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # a JAX without this helper: assume the worst
        return True


def _configure() -> bool:
    """Add the flag if possible; return whether it is in effect for this process."""
    flags = os.environ.get("XLA_FLAGS", "")
    chosen = [item for item in flags.split() if item.split("=")[0] == SCHEDULER_FLAG]
    if chosen:  # the user's choice wins; the last occurrence is the one XLA applies
        return chosen[-1].split("=", 1)[-1].lower() in ("false", "0")
    if _backend_started():
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {SCHEDULER_FLAG}=false".strip()
    return True


_SAFE = _configure()


def batched_lapack_safe() -> bool:
    """Whether kernels may run batched LAPACK solves inside large jitted programs.

    True when the scheduler flag is in effect for this process (see the module
    docstring); kernels then use ``jnp.linalg.solve``, otherwise the slower pivot-free
    elimination that XLA compiles to plain array operations.
    """
    return _SAFE
