"""Whether batched LAPACK solves are safe inside large jitted programs in this process.

jaxlib 0.10's CPU runtime can deadlock a jitted program that runs batched LAPACK calls
(``jnp.linalg.solve`` under ``vmap``) while its *concurrency-optimised scheduler* runs
other work beside them. Measured on this project's 2-core machines with jax 0.10.2: the
STARC study's regret program with LAPACK solves hung on its first to third call, every
time; with ``XLA_FLAGS=--xla_cpu_enable_concurrency_optimized_scheduler=false`` it ran
every call, several times faster than with the pure-array elimination
(:func:`rewardviz._kernels.block_solve`) used otherwise.

rewardviz does not set the flag itself: it is process-wide, XLA reads it once when JAX
starts, and with it set for the whole test suite XLA:CPU crashed compiling an unrelated
program late in the run (twice, at the same test). A user opts in by starting Python
with the flag in ``XLA_FLAGS`` (``make bench`` does); kernels then use LAPACK.
"""

from __future__ import annotations

import os

__all__ = ["SCHEDULER_FLAG", "batched_lapack_safe"]

#: The XLA:CPU option whose default (true) deadlocks batched LAPACK calls in jaxlib 0.10.
SCHEDULER_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler"


def _opted_in() -> bool:
    """Whether ``XLA_FLAGS`` turns the scheduler off (the last occurrence is the one XLA applies)."""
    flags = os.environ.get("XLA_FLAGS", "")
    chosen = [item for item in flags.split() if item.split("=")[0] == SCHEDULER_FLAG]
    return bool(chosen) and chosen[-1].split("=", 1)[-1].lower() in ("false", "0")


_SAFE = _opted_in()


def batched_lapack_safe() -> bool:
    """Whether kernels may run batched LAPACK solves inside large jitted programs.

    True when ``XLA_FLAGS`` held ``--xla_cpu_enable_concurrency_optimized_scheduler=false``
    when rewardviz was imported (set it before starting Python: XLA reads it once); kernels
    then use ``jnp.linalg.solve``, otherwise the slower pivot-free block elimination that
    XLA compiles to plain array operations.
    """
    return _SAFE
