"""Persistent compilation cache: compiled kernels survive the Python process.

Every rewardviz kernel is compiled by XLA on its first call with new shapes, which
costs from a few hundred milliseconds to seconds on a CPU. JAX can store compiled
executables on disk and load them in later processes; :func:`enable_compilation_cache`
switches that on with thresholds low enough that rewardviz's many small kernels are
stored too (JAX's default only stores compilations that took over a second).
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
from jax.experimental.compilation_cache import compilation_cache

#: Where the cache lives unless a path is given.
DEFAULT_PATH = Path("~/.cache/rewardviz/jax")


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path:
    """Store compiled kernels on disk and reuse them in later processes.

    Sets JAX's ``jax_compilation_cache_dir`` to ``path`` (created if missing), and
    ``jax_persistent_cache_min_compile_time_secs = 0`` and
    ``jax_persistent_cache_min_entry_size_bytes = -1`` so that every compiled kernel is
    written, however quick to compile or small. Call it once, before the first
    computation whose compilation should be cached (e.g. at the top of a notebook);
    it affects the whole process, not only rewardviz. The cache is keyed by the
    computation, the jax/jaxlib versions and the device, so a stale entry is never
    used; delete the directory to reclaim the disk space.

    Args:
        path: the cache directory; default ``~/.cache/rewardviz/jax``.

    Returns:
        The absolute cache directory.

    Example:
        >>> rv.enable_compilation_cache()  # doctest: +SKIP
        PosixPath('/home/me/.cache/rewardviz/jax')
    """
    if path is not None and not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"path must be a directory path (str or os.PathLike) or None for the default "
            f"{DEFAULT_PATH}, got {type(path).__name__}."
        )
    directory = Path(DEFAULT_PATH if path is None else path).expanduser().resolve()
    if directory.exists() and not directory.is_dir():
        raise ValueError(
            f"path must be a directory, but {directory} is a file; pass another path or "
            "None for the default."
        )
    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    # JAX decides whether to use the cache at the first compilation of the process and
    # keeps that answer; forget it so that enabling works after earlier computations too.
    compilation_cache.reset_cache()
    return directory
