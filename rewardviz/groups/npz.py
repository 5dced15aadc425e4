"""Group logs in and out of plain ``.npz`` files, and the bundled example log.

:func:`write_npz` stores a :class:`~rewardviz.groups.GroupRewards` as named arrays
(``scores``, ``mask``, ``names``, ``weights``, ``step``, ``prompt_ids`` and, when
present, ``length`` and ``gold``); :func:`read_npz` reads them back with
``allow_pickle=False``, so a file never runs code. :func:`example_groups` loads the log
bundled with the package.
"""

from __future__ import annotations

import pathlib

import numpy as np

from rewardviz import _checks, _files
from rewardviz.groups import _common
from rewardviz.groups.group_rewards import GroupRewards

__all__ = ["EXAMPLE_GROUPS", "example_groups", "read_npz", "write_npz"]

#: Groups bundled with the package (``rewardviz/data/<name>.npz``).
EXAMPLE_GROUPS = ("grpo_length_hacking",)


def example_groups(name: str = "grpo_length_hacking") -> GroupRewards:
    """A synthetic but realistic GRPO log bundled with the package, for the notebook and tests.

    ``"grpo_length_hacking"``: 60 training steps × 12 prompts × 8 samples with rewards
    ``format`` (0/1), ``accuracy`` (0/1) and ``length`` (a "reason more" reward that the
    policy slowly learns to hack by padding), completion lengths and a held-out gold
    score that rises, peaks and falls. Written by ``tools/make_group_log.py`` (see its
    docstring for the generating model) as a plain ``.npz`` read with
    ``allow_pickle=False``.

    Example:
        >>> rv.groups.example_groups().names
        ('format', 'accuracy', 'length')
    """
    if not isinstance(name, str) or name not in EXAMPLE_GROUPS:
        raise ValueError(
            f"unknown example groups {name!r}; name must be one of {list(EXAMPLE_GROUPS)}."
        )
    return read_npz(pathlib.Path(__file__).parent.parent / "data" / f"{name}.npz")


def read_npz(path) -> GroupRewards:
    """Groups saved by :func:`write_npz` (read with ``allow_pickle=False``: never unpickled).

    Raises:
        FileNotFoundError: nothing is at ``path``.
        ValueError: the file is not a readable ``.npz`` of plain arrays, or lacks an
            array that :func:`write_npz` writes.
    """
    stored = _files.read_arrays(path)
    missing = [
        key
        for key in ("scores", "mask", "names", "weights", "step", "prompt_ids")
        if key not in stored
    ]
    if missing:
        raise ValueError(
            f"{str(path)!r} has no {missing}: a group log .npz holds 'scores', 'mask', "
            "'names', 'weights', 'step' and 'prompt_ids', as rewardviz.groups.write_npz "
            "writes them."
        )
    try:
        return GroupRewards.from_arrays(
            stored["scores"],
            stored["mask"],
            names=[str(name) for name in stored["names"]],
            weights=stored["weights"],
            step=stored["step"],
            prompt_ids=stored["prompt_ids"].tolist(),
            length=stored["length"] if "length" in stored else None,
            gold=stored["gold"] if "gold" in stored else None,
        )
    except (TypeError, ValueError) as error:  # arrays of the wrong shape or type: say where
        raise type(error)(f"{str(path)!r}: {error}") from error


def write_npz(group: GroupRewards, path, *, overwrite: bool = False) -> None:
    """Save ``group`` as a plain ``.npz`` that :func:`read_npz` reads back.

    Prompt ids are stored as numbers or strings (no objects, so nothing needs pickle).
    Written with :func:`rewardviz._files.atomic_write`: a reader never sees a
    half-written file, and a failed write leaves the old file and no temporary file.

    Args:
        group: the groups to save.
        path: the file to write.
        overwrite: replace ``path`` if it exists (as the CLI's ``--force`` does). Without
            it an existing file is kept and the write refused, also when the file
            appears while the archive is being written.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        IsADirectoryError: ``path`` is a directory.

    Example:
        >>> rv.groups.write_npz(group, "groups.npz")
        >>> rv.groups.read_npz("groups.npz").names
        ('accuracy', 'format', 'length')
        >>> rv.groups.write_npz(group, "groups.npz", overwrite=True)
    """
    _common.check_group(group)
    path = pathlib.Path(_checks.path("path", path))
    _files.check_target(path, overwrite=overwrite)
    arrays = {
        "scores": np.asarray(group.scores),
        "mask": np.asarray(group.mask),
        "names": np.array(group.names, dtype=str),
        "weights": np.asarray(group.weights),
        "step": np.asarray(group.step),
        "prompt_ids": np.asarray(group.prompt_ids),
    }
    if arrays["prompt_ids"].dtype.kind == "O":
        arrays["prompt_ids"] = arrays["prompt_ids"].astype(str)
    for key in ("length", "gold"):
        if getattr(group, key) is not None:
            arrays[key] = np.asarray(getattr(group, key))
    with _files.atomic_write(path, binary=True, overwrite=overwrite) as file:
        np.savez_compressed(file, **arrays)
