"""Writing a user's file safely: to a temporary file beside it, then renamed over it.

Every writer in the package (npz exports, reports, widget exports) goes through
:func:`atomic_write`, so a reader never sees a half-written file, an interrupted or
failed write leaves the old file as it was, and no ``.partial`` file is left behind.
Every ``.npz`` reader goes through :func:`read_arrays`, which never unpickles.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def check_target(path, *, overwrite: bool) -> Path:
    """``path`` as a ``Path``, refused if it is a directory, or exists and not ``overwrite``.

    Writers call it before doing any work (rendering, compressing), so a refused write
    costs nothing; :func:`atomic_write` checks again when it puts the file in place.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"path {str(path)!r} is a directory; name the file to write inside it, e.g. "
            f"{str(path / ('out' + (path.suffix or '.npz')))!r}."
        )
    if path.exists() and not overwrite:
        raise _exists(path)
    return path


def _exists(path: Path) -> FileExistsError:
    return FileExistsError(
        f"path {str(path)!r} already exists; pass overwrite=True to replace it, or choose "
        "another name."
    )


@contextlib.contextmanager
def atomic_write(
    path, *, binary: bool = False, encoding: str = "utf-8", overwrite: bool = True
) -> Iterator:
    """Open a temporary file beside ``path`` for writing; put it at ``path`` on success.

    The temporary file (``.<name>.<random>.partial`` in ``path``'s directory, so the
    rename stays on one file system and is atomic, POSIX ``rename(2)``) is flushed and
    synced before it is put in place: renamed over ``path`` with ``overwrite``, otherwise
    hard-linked to ``path`` (``link(2)`` fails if ``path`` exists, so a file that appeared
    meanwhile is never replaced; ``FileExistsError``). If the ``with`` block raises
    (including ``KeyboardInterrupt``), the temporary file is removed and ``path`` is
    untouched. The file gets the permissions a plain ``open`` would give it (``0o666``
    less the umask), not ``mkstemp``'s private ``0o600``.

    Yields:
        The open file object (bytes when ``binary``, else text in ``encoding``).
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
    )
    try:
        os.chmod(temporary, 0o666 & ~_umask())
        mode = "wb" if binary else "w"
        with os.fdopen(descriptor, mode, **({} if binary else {"encoding": encoding})) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            _place_new(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _place_new(temporary: str, path: Path) -> None:
    """Put ``temporary`` at ``path`` only if nothing is there (atomically where possible)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise _exists(path) from None
    except OSError:  # a file system without hard links: check, then rename
        if path.exists():
            raise _exists(path) from None
        os.replace(temporary, path)
        return
    os.unlink(temporary)


def _umask() -> int:
    # The umask can only be read by setting it; set it straight back.
    current = os.umask(0)
    os.umask(current)
    return current


def read_arrays(path, *, name: str = "path") -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, read without unpickling.

    Raises:
        FileNotFoundError: nothing (or a directory) is at ``path``.
        ValueError: the file is not a zip archive of arrays, is truncated, or holds
            Python objects (pickled data is refused, never loaded). ``name`` names the
            argument in the message.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{name} {str(path)!r} does not exist or is not a file.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{name} {str(path)!r} is not an .npz file (a zip archive of arrays, as np.savez "
            "writes)."
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        reason = str(error)
        if "allow_pickle" in reason:
            reason = "it holds Python objects (pickled data), which are never loaded"
        raise ValueError(
            f"{name} {str(path)!r} is not a readable .npz file of plain arrays: {reason}."
        ) from error
