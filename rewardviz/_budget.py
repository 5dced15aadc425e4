"""Refusing up front what would exhaust memory or run for hours.

A call that would hold more than half of this machine's memory at once, or do more
elementary steps than finish within hours at a generous rate, is refused before anything
is allocated, with the estimate and what to change: a request for a million seeds of a
million steps should fail in a millisecond, not after filling the swap.
"""

from __future__ import annotations

import os

__all__ = ["LEARNER_STEPS_PER_SECOND", "check_memory", "check_steps", "memory_limit"]

#: Learner steps per second assumed for time estimates: generous (batched tabular
#: learners reach ~10⁷ on two CPU cores), so only requests that are surely too long fail.
LEARNER_STEPS_PER_SECOND = 1e8
#: Longest estimated run accepted, in seconds, at the generous rate above.
_LONGEST_SECONDS = 3600.0


def memory_limit() -> int:
    """Half of this machine's physical memory: what one call may plan to hold at once."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # not POSIX: no refusal
        return 2**62


def check_memory(request: str, n_bytes: int, fix: str) -> None:
    """Raise ``MemoryError`` if ``request`` needs more than :func:`memory_limit` bytes.

    ``request`` says what was asked (with its sizes), ``fix`` what to change.
    """
    limit = memory_limit()
    if n_bytes > limit:
        raise MemoryError(
            f"{request} needs about {n_bytes / 2**30:,.1f} GiB at once, more than half this "
            f"machine's memory ({limit / 2**30:.1f} GiB). {fix}"
        )


def check_steps(request: str, n_steps: float, fix: str) -> None:
    """Raise ``ValueError`` if ``n_steps`` learner steps would take over an hour even at
    :data:`LEARNER_STEPS_PER_SECOND`."""
    seconds = n_steps / LEARNER_STEPS_PER_SECOND
    if seconds > _LONGEST_SECONDS:
        raise ValueError(
            f"{request} is {n_steps:.2g} learner steps: at least {seconds / 3600:,.1f} hours "
            f"even at {LEARNER_STEPS_PER_SECOND:.0e} steps per second (two CPU cores do "
            f"~1e7). {fix}"
        )
