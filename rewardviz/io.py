"""Reward logs in and out of files and live environments: everything becomes a :class:`RewardLog`.

Readers turn what training code leaves behind into a
:class:`~rewardviz.decompose.RewardLog`. The sections of this module, in order:

- long-format tables, one row per episode, step, component and value:
  :func:`read_csv`, :func:`read_parquet` (streamed in record batches) and
  :func:`read_parquet_returns` (per-episode returns only, for logs too long to hold);
- TensorBoard event files (:func:`read_tensorboard`): plain scalars and rank-0 tensor
  summaries, torch's ``add_scalars`` sub-runs, repeated steps (``duplicates=``, default
  ``"keep"``) and restarts into the same directory (``on_restart=``, default
  ``"error"``), with the step numbers and wall times kept in ``log.steps`` and
  ``log.wall_times``;
- Stable-Baselines3 ``Monitor`` files (:func:`read_sb3_monitor`): one episode per row,
  the ``info_keywords`` columns as components;
- plain ``.npz`` files (:func:`write_npz` and its inverse :func:`read_npz`) and the
  logs bundled with the package (:func:`example_log`);
- recording from a live Gymnasium environment: :class:`RecordRewardComponents` and
  :func:`collect` record the reward terms it reports in ``info``;
- the checks the readers share, and which reader fits a file.

A reader given a layout it cannot read says what it found (columns, tags per run) and
which reader fits instead. ``docs/formats.md`` lists exactly what each accepts.

This module only reads, records and writes logs. It computes no statistics (see
:mod:`rewardviz.decompose`), draws nothing, and never unpickles anything: pickle runs
arbitrary code, so only CSV, Parquet, JSON header lines, TensorBoard's protobuf events
and ``.npz`` archives of plain arrays (``allow_pickle=False``) are read. pandas, pyarrow
and tensorboard are imported inside the readers (``pip install "rewardviz[logs]"``);
gymnasium is needed only to build a recorder (``pip install "rewardviz[gym]"``). Reading
Monitor files needs pandas only, not Stable-Baselines3.

Example:
    >>> log = rv.io.read_tensorboard("runs/")  # every run's ``rewards/<term>`` tags
    >>> log.names, log.steps.shape
    (('ctrl', 'forward'), (2, 500))
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import pathlib
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any

import numpy as np

from rewardviz import _checks, _deprecation, _files
from rewardviz.decompose import RewardLog, log_from_long_cube

__all__ = [
    "DUPLICATE_POLICIES",
    "EXAMPLE_LOGS",
    "RESTART_POLICIES",
    "REWARD_INFO_PREFIX",
    "REWARD_TAG_PREFIXES",
    "SB3_MONITOR_COLUMNS",
    "SB3_MONITOR_PATTERN",
    "RecordRewardComponents",
    "collect",
    "example_log",
    "is_sb3_monitor",
    "read_csv",
    "read_npz",
    "read_parquet",
    "read_parquet_returns",
    "read_sb3_monitor",
    "read_tensorboard",
    "write_npz",
]

try:
    from gymnasium import Wrapper as _GymnasiumWrapper
except ImportError:  # gymnasium is an optional extra: fail when a recorder is built, not here

    class _GymnasiumWrapper:
        def __init__(self, env):
            raise ImportError(
                'RecordRewardComponents needs gymnasium: pip install "rewardviz[gym]"'
            )


# ---------------------------------------------------------------------------
# Long-format tables.


def read_csv(
    path,
    *,
    episode: str = "episode",
    step: str = "step",
    component: str = "component",
    value: str = "value",
    total_name: str | None = "total",
    weights=None,
) -> RewardLog:
    """A log from a long-format CSV file: one row per (episode, step, component, value).

    Rows whose component is ``total_name`` are the logged total; a total that differs
    from the weighted sum of the components becomes an ``"unexplained"`` component.
    Episodes are sorted by their id (kept in ``episode_info["episode"]``); components
    keep the order in which they first appear. Other columns are not read. The whole
    table is held in memory while the log is built; for large files prefer
    :func:`read_parquet`, which streams. See
    :meth:`~rewardviz.decompose.RewardLog.from_dataframe` for the rules on steps.

    A directory, a TensorBoard event file, a Parquet file or a Stable-Baselines3 Monitor
    file is refused with the reader that fits it; a table without the four columns is
    refused naming the columns it has and, for a wide table (one column per component),
    a Monitor table or a TensorBoard CSV export, how to read it instead.

    Example:
        ``episode,step,component,value`` rows such as ``0,0,forward,1.5``:

        >>> log = rv.io.read_csv("rewards.csv", weights={"ctrl": 0.1})
        >>> log.names
        ('forward', 'ctrl')
    """
    pandas = _import_optional("pandas", "read_csv")
    _refuse_other_formats(path, "read_csv")
    columns = [episode, step, component, value]
    try:
        header = pandas.read_csv(path, nrows=0)
    except pandas.errors.EmptyDataError as error:
        raise ValueError(
            f"{path} is empty: a reward table needs a header row with the columns {columns} "
            "and one row per (episode, step, component)."
        ) from error
    except (UnicodeDecodeError, pandas.errors.ParserError) as error:
        raise _unreadable_text(path, error) from error
    _require_columns(path, columns, list(header.columns))
    try:
        frame = pandas.read_csv(path, usecols=columns, dtype={component: str})
    except (UnicodeDecodeError, pandas.errors.ParserError) as error:
        raise _unreadable_text(path, error) from error
    return RewardLog.from_dataframe(
        frame,
        episode=episode,
        step=step,
        component=component,
        value=value,
        total_name=total_name,
        weights=weights,
    )


def read_parquet(
    path,
    *,
    episode: str = "episode",
    step: str = "step",
    component: str = "component",
    value: str = "value",
    total_name: str | None = "total",
    weights=None,
    batch_size: int = 1_000_000,
) -> RewardLog:
    """A log from a long-format Parquet file, read in record batches of ``batch_size`` rows.

    Same table layout and rules as :func:`read_csv`, and the same log. The file is read
    twice, one record batch at a time, so memory stays bounded by one batch plus the
    dense ``[E, T, K + 1]`` result (and a boolean cube of the same shape marking which
    entries were written):

    1. the ``episode``, ``step`` and ``component`` columns, for the episode ids, the
       longest episode and the component names;
    2. all four columns, each batch written straight into the cube, checking that no
       (episode, step, component) appears twice.

    Example:
        >>> log = rv.io.read_parquet("rewards.parquet", batch_size=100_000)
        >>> log.components.shape  # [episodes, longest episode, components]
        (64, 1000, 4)
    """
    pyarrow = _import_optional("pyarrow", "read_parquet")
    parquet = import_module("pyarrow.parquet")
    compute = import_module("pyarrow.compute")
    batch_size = _checks.positive_int("batch_size", batch_size)
    file = _parquet_file(path, pyarrow, parquet, "read_parquet")
    schema = file.schema_arrow
    _require_columns(path, [episode, step, component, value], schema.names)
    step_type, value_type = schema.field(step).type, schema.field(value).type
    if not pyarrow.types.is_integer(step_type):
        raise ValueError(f"column {step!r} must hold non-negative integers, got type {step_type}.")
    if not (pyarrow.types.is_integer(value_type) or pyarrow.types.is_floating(value_type)):
        raise ValueError(f"column {value!r} must hold numbers, got type {value_type}.")

    def batches(columns):
        for batch in file.iter_batches(batch_size=batch_size, columns=columns):
            if batch.num_rows == 0:
                continue
            for name in columns:
                if batch.column(name).null_count:
                    raise ValueError(
                        f"column {name!r} has missing values; every row needs an episode, "
                        "step, component and value."
                    )
            yield batch

    def labels_of(batch):
        return compute.cast(batch.column(component), "string")

    # Pass 1: episode ids, longest episode, component names in order of first appearance.
    episodes = None
    labels: dict[str, None] = {}
    last_step = -1
    for batch in batches([episode, step, component]):
        ids = batch.column(episode).unique().to_numpy(zero_copy_only=False)
        episodes = ids if episodes is None else np.union1d(episodes, ids)
        extremes = compute.min_max(batch.column(step)).as_py()
        if extremes["min"] is not None and extremes["min"] < 0:
            raise ValueError(f"column {step!r} must hold non-negative integers.")
        last_step = max(last_step, extremes["max"] if extremes["max"] is not None else -1)
        labels.update(dict.fromkeys(labels_of(batch).unique().to_pylist()))
    if episodes is None:
        raise ValueError(f"{path} has no rows: the log is empty.")
    episodes = np.unique(episodes)
    names = tuple(label for label in labels if label != total_name)
    if not names:
        raise ValueError(f"{path} has only {total_name!r} rows and no components.")
    column_of = {name: k for k, name in enumerate(names)}
    if total_name is not None:
        column_of[total_name] = len(names)

    # Pass 2: write every batch into the cube.
    cube = np.zeros((len(episodes), last_step + 1, len(column_of)))
    filled = np.zeros(cube.shape, dtype=bool)
    for batch in batches([episode, step, component, value]):
        episode_index = np.searchsorted(
            episodes, batch.column(episode).to_numpy(zero_copy_only=False)
        )
        encoded = labels_of(batch).dictionary_encode()
        label_columns = np.array(
            [column_of[label] for label in encoded.dictionary.to_pylist()], dtype=np.intp
        )
        where = (
            episode_index,
            batch.column(step).to_numpy(zero_copy_only=False),
            label_columns[encoded.indices.to_numpy(zero_copy_only=False)],
        )
        flat = np.ravel_multi_index(where, cube.shape)
        in_order = np.sort(flat)
        repeated = np.concatenate(
            [flat[filled.ravel()[flat]], in_order[1:][in_order[1:] == in_order[:-1]]]
        )
        if repeated.size:
            e, t, k = np.unravel_index(repeated[0], cube.shape)
            raise ValueError(
                f"episode {episodes[e]!r}, step {t} has more than one row for "
                f"{list(column_of)[k]!r}; each (episode, step, component) must appear once."
            )
        cube[where] = compute.cast(batch.column(value), "float64").to_numpy(zero_copy_only=False)
        filled[where] = True
    return log_from_long_cube(cube, filled, episodes, names, total_name=total_name, weights=weights)


def _parquet_file(path, pyarrow, parquet, reader: str):
    """``path`` opened as a Parquet file, or an error saying what it is instead."""
    location = pathlib.Path(path) if isinstance(path, str | os.PathLike) else None
    if location is not None and location.is_dir():
        raise ValueError(
            f"{reader} reads one file, but {str(path)!r} is a directory{_format_hint(location)}"
        )
    try:
        # pre_buffer=False: pyarrow would otherwise read ahead and hold most of the file.
        return parquet.ParquetFile(path, pre_buffer=False)
    except pyarrow.ArrowInvalid as error:
        hint = _format_hint(location) if location is not None else "."
        raise ValueError(f"{path} is not a readable Parquet file ({error}){hint}") from error


def read_parquet_returns(
    path,
    *,
    gamma: float = 1.0,
    episode: str = "episode",
    step: str = "step",
    component: str = "component",
    value: str = "value",
    total_name: str | None = "total",
    weights=None,
    batch_size: int = 1_000_000,
) -> RewardLog:
    """Each episode's discounted return per component, streamed from a long-format Parquet file.

    For logs too long to hold as a dense ``[E, T, K]`` cube (10⁸ steps and more): one pass
    over the file, one record batch at a time, accumulating
    ``G_{e,k} = Σ_t γ^t r_{e,t,k}`` into an ``[E, K]`` table, so memory is one batch plus
    ``O(E·K)``. The result is a :class:`~rewardviz.decompose.RewardLog` with one step per
    episode whose reward is that return, so the episode-level statistics of
    :mod:`rewardviz.decompose` (``return_shares``, ``variance_attribution``,
    ``correlations(level="episode")``, ``reweight`` with ``gamma=1``) apply unchanged;
    ``episode_info["length"]`` holds each episode's length. A logged total (component
    ``total_name``) that differs from the weighted sum becomes ``"unexplained"``, as in
    :func:`read_parquet`. Same columns as :func:`read_parquet`; rows may come in any order.

    Steps are whole numbers from 0: an integer column, or a float column of whole values
    (pandas writes one once a column held a NaN). A missing (null or NaN), fractional or
    negative step, like a missing or non-finite value, is an error naming the column and
    its first such row (counting from 0 in file order), never truncated or skipped.

    Duplicated ``(episode, step, component)`` rows are detected when an episode holds
    more rows of a component than its length and raise an error; a duplicate that
    exactly fills a missing step cannot be told apart from a complete episode.
    """
    pyarrow = _import_optional("pyarrow", "read_parquet_returns")
    parquet = import_module("pyarrow.parquet")
    gamma = _checks.in_range("gamma", gamma, 0.0, 1.0)
    batch_size = _checks.positive_int("batch_size", batch_size)
    file = _parquet_file(path, pyarrow, parquet, "read_parquet_returns")
    schema = file.schema_arrow
    _require_columns(path, [episode, step, component, value], schema.names)
    step_type, value_type = schema.field(step).type, schema.field(value).type
    # Float steps are accepted (pandas writes a float column once a step was NaN) and
    # checked row by row below, so a fractional step is refused rather than truncated.
    if not (pyarrow.types.is_integer(step_type) or pyarrow.types.is_floating(step_type)):
        raise ValueError(
            f"column {step!r} of {path} must hold non-negative integers, got type {step_type}."
        )
    if not (pyarrow.types.is_integer(value_type) or pyarrow.types.is_floating(value_type)):
        raise ValueError(f"column {value!r} of {path} must hold numbers, got type {value_type}.")
    episodes: dict = {}
    names: dict = {}
    returns = np.zeros((0, 0))
    counts = np.zeros((0, 0), np.int64)
    lengths = np.zeros(0, np.int64)
    first_row = 0  # of the batch in the file, so errors name the file's row
    for batch in file.iter_batches(
        batch_size=batch_size, columns=[episode, step, component, value]
    ):
        columns = {name: batch.column(name) for name in (episode, step, component, value)}
        for name, column in columns.items():
            if column.null_count:
                row = first_row + int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))
                raise ValueError(
                    f"column {name!r} of {path} has missing values (first at row {row}, "
                    "counting from 0); every row needs an episode, step, component and value."
                )
        steps = _whole_steps(columns[step].to_numpy(), f"column {step!r} of {path}", first_row)
        values = columns[value].to_numpy().astype(np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(
                f"column {value!r} of {path} has a NaN or infinite value (first at row "
                f"{first_row + int(np.argmax(bad))}, counting from 0); clean the log before "
                "reading it."
            )
        first_row += batch.num_rows
        episode_index, episode_rows = _first_seen(episodes, columns[episode])
        label_index, label_rows = _first_seen(names, columns[component], as_text=True)
        returns, counts, lengths = _grown(returns, counts, lengths, len(episodes), len(names))
        rows, cols = episode_index[episode_rows], label_index[label_rows]
        flat = rows * returns.shape[1] + cols
        returns += np.bincount(flat, values * gamma**steps, returns.size).reshape(returns.shape)
        counts += np.bincount(flat, minlength=counts.size).reshape(counts.shape)
        np.maximum.at(lengths, rows, steps + 1)
    if not episodes:
        raise ValueError(f"{path} has no rows; nothing to read.")
    over = counts > lengths[:, None]
    if over.any():
        e, k = (int(i) for i in np.argwhere(over)[0])
        raise ValueError(
            f"episode {list(episodes)[e]!r} has {counts[e, k]} rows of component "
            f"{list(names)[k]!r} but only {lengths[e]} steps: some (episode, step, component) "
            "rows are duplicated."
        )
    component_names = [n for n in names if n != total_name]
    keep = [names[n] for n in component_names]
    total = returns[:, names[total_name]][:, None] if total_name in names else None
    return RewardLog.from_arrays(
        returns[:, keep][:, None, :],
        names=component_names,
        weights=weights,
        total=total,
        episode_info={"episode": list(episodes), "length": lengths.tolist()},
    )


def _whole_steps(raw: np.ndarray, where: str, first_row: int) -> np.ndarray:
    """``raw`` steps as ``int64``, or an error at the first NaN, fractional or negative step.

    ``where`` names the column and file in the message; ``first_row`` is the file's row
    of ``raw[0]``.
    """
    if raw.dtype.kind == "f":
        missing = np.isnan(raw)
        if missing.any():
            at = int(np.argmax(missing))
            raise ValueError(
                f"{where} has a missing (NaN) step at row {first_row + at} (counting from 0); "
                "every row needs its step, a whole number 0, 1, 2, ..."
            )
        fractional = ~np.isfinite(raw) | (raw != np.floor(raw))
        if fractional.any():
            at = int(np.argmax(fractional))
            raise ValueError(
                f"{where} has a non-integer step {raw[at]} at row {first_row + at} (counting "
                "from 0); steps must be whole numbers 0, 1, 2, ..., not truncated here."
            )
    negative = raw < 0
    if negative.any():
        at = int(np.argmax(negative))
        raise ValueError(
            f"{where} has a negative step {raw[at]} at row {first_row + at} (counting from 0); "
            "steps count from 0 at the start of each episode."
        )
    return raw.astype(np.int64)


def _first_seen(known: dict, column, as_text: bool = False):
    """Global indices for a batch column, numbering new values in order of first appearance.

    Returns the index of each distinct value of the batch (in ``np.unique`` order) and, per
    row, which distinct value it holds. ``known`` (value → index) grows in place.
    """
    values = column.to_numpy(zero_copy_only=False)
    values = values.astype(str) if as_text else values
    distinct, first, rows = np.unique(values, return_index=True, return_inverse=True)
    distinct = distinct.tolist()  # Python scalars and strings: stable dictionary keys
    for position in np.argsort(first):  # new values in the order the file shows them
        known.setdefault(distinct[position], len(known))
    return np.array([known[value] for value in distinct]), rows


def _grown(returns, counts, lengths, n_episodes, n_names):
    """The accumulators enlarged (with zeros) to hold ``n_episodes × n_names``."""
    if returns.shape == (n_episodes, n_names):
        return returns, counts, lengths
    grown = np.zeros((n_episodes, n_names))
    grown_counts = np.zeros((n_episodes, n_names), np.int64)
    grown[: returns.shape[0], : returns.shape[1]] = returns
    grown_counts[: counts.shape[0], : counts.shape[1]] = counts
    return (
        grown,
        grown_counts,
        np.concatenate([lengths, np.zeros(n_episodes - len(lengths), np.int64)]),
    )


# ---------------------------------------------------------------------------
# TensorBoard.


#: TensorBoard tag prefixes that :func:`read_tensorboard` reads by default.
REWARD_TAG_PREFIXES = ("rewards/", "Episode_Reward/")

#: What :func:`read_tensorboard` does with several values of a tag at one step.
DUPLICATE_POLICIES = ("keep", "last", "mean", "error")

#: What :func:`read_tensorboard` does when a tag's steps go back (a restarted run).
RESTART_POLICIES = ("error", "last")


def read_tensorboard(
    logdir,
    *,
    tags: str | Sequence[str] | None = None,
    prefixes: str | Sequence[str] = REWARD_TAG_PREFIXES,
    duplicates: str = "keep",
    on_restart: str = "error",
) -> RewardLog:
    """A log from the scalar reward tags of TensorBoard event files under ``logdir``.

    Layout:

    - every directory under ``logdir`` (``logdir`` included) that holds event files
      (``*tfevents*``) is one run, and each run becomes one episode, in sorted order;
      the run's path relative to ``logdir`` is kept in ``episode_info["run"]``;
    - scalars are read both as plain values (``simple_value``: torch's and tensorboardX's
      ``SummaryWriter``, TF1) and as rank-0 tensors of the ``scalars`` plugin
      (``tensorboard.summary.Writer``, TF2's ``tf.summary.scalar``);
    - torch's ``SummaryWriter.add_scalars(main_tag, {key: value})`` writes each key to a
      sub-run ``<main_tag with / → _>_<key>`` holding the tag ``main_tag``: such a sub-run
      is read as the tag ``<main_tag>/<key>`` of the run above it (whose own event file,
      which ``SummaryWriter`` always writes, marks the layout), so
      ``add_scalars("rewards", {"forward": ...})`` gives the component ``forward``;
    - each selected tag is one component, named by the tag without its prefix
      (``rewards/forward`` → ``forward``); by default every scalar tag starting with one
      of ``prefixes`` in any run is selected, or pass the exact ``tags``. A single string
      is one prefix or one tag (``prefixes="rewards/"``), not a sequence of characters.
      A run holding none of the selected tags is skipped (with a warning only when it
      holds no scalar at all, as a crashed run does); a run holding some but not all is
      an error;
    - the values of a run, in the order they were written (event files in the order
      they were started), are the log's step axis: entry ``t`` is the run's ``t``-th
      value. Every selected tag must give the same sequence of steps. The step numbers
      and wall times are kept in ``log.steps`` and ``log.wall_times`` (for several tags,
      the latest of their wall times); runs of different lengths are masked.

    Several values of a tag at one step, as a CleanRL-style loop writes when several
    sub-environments finish an episode at the same global step, follow ``duplicates``:
    ``"keep"`` (the default: each value is its own entry, in the order written, so no
    value is dropped and each finished episode stays one entry), ``"last"``,
    ``"mean"`` (one entry per step, at the wall time of its last value) or ``"error"``.

    A restart that writes into the same directory shows as a tag whose steps go back,
    or as a newer event file starting at a step the tag has already reached. With
    ``on_restart="error"`` (the default: the earlier values would otherwise be dropped)
    that is an error naming the run, tag and steps; with ``"last"``, the values written
    after the restart replace the earlier ones from the restart's first step on.

    Every selected tag becomes a component, so do not select a tag that holds the sum of
    the others (e.g. ``rewards/total``): list the terms with ``tags=``. With per-iteration
    episode means, as in Isaac Lab's ``Episode_Reward/<term>``, the steps are training
    iterations. Every event is read (nothing is sampled away, as TensorBoard's
    ``size_guidance`` would); values are stored as float32 by most writers.

    Example:
        >>> log = rv.io.read_tensorboard("runs/", prefixes=["Episode_Reward/"])
        >>> log.episode_info["run"]
        array(['seed_0', 'seed_1'], dtype='<U6')
        >>> cleanrl = rv.io.read_tensorboard("runs/", tags=["charts/episodic_return"])
        >>> cleanrl.steps[0, :3]  # global steps; one entry per finished episode
        array([1024, 1024, 2048])
    """
    loader = _import_optional(
        "tensorboard.backend.event_processing.event_file_loader", "read_tensorboard"
    )
    duplicates = _checks.one_of("duplicates", duplicates, DUPLICATE_POLICIES)
    on_restart = _checks.one_of("on_restart", on_restart, RESTART_POLICIES)
    root = pathlib.Path(_checks.path("logdir", logdir))
    if not root.exists():
        raise FileNotFoundError(f"logdir {str(logdir)!r} does not exist.")
    if not root.is_dir():
        raise ValueError(
            f"logdir {str(logdir)!r} is a file, not a log directory{_format_hint(root)}"
        )
    event_files: dict[pathlib.Path, list[pathlib.Path]] = {}
    for path in sorted(root.rglob("*tfevents*")):
        # TensorBoard's profiler leaves empty placeholder files with this suffix.
        if path.is_file() and not path.name.endswith(".profile-empty"):
            event_files.setdefault(path.parent, []).append(path)
    if not event_files:
        raise ValueError(
            f"no TensorBoard event files (names containing 'tfevents') under "
            f"{str(logdir)!r}{_format_hint(root)}"
        )
    runs = {}
    for directory, files in sorted(event_files.items()):
        run_name = directory.relative_to(root).as_posix()
        runs[run_name] = _read_run(run_name, files, loader)
    runs = _with_add_scalars_folded(runs)
    prefixes = _strings("prefixes", prefixes)
    if tags is None:
        selected = tuple(
            sorted({tag for run in runs.values() for tag in run if tag.startswith(prefixes)})
        )
        if not selected:
            raise ValueError(
                f"no scalar tag starting with {list(prefixes)} in any run under "
                f"{str(logdir)!r}; {_describe_tags(runs)}. Pass tags=[...] or prefixes=[...]."
            )
    else:
        selected = tuple(dict.fromkeys(_strings("tags", tags)))
        if not selected:
            raise ValueError("tags is empty: name at least one scalar tag.")
    names = _component_names_of_tags(selected, prefixes)

    kept, empty = [], []
    for run_name, run in runs.items():
        present = [tag for tag in selected if tag in run]
        if not present:
            if not run:
                empty.append(run_name)
            continue
        if len(present) < len(selected):
            missing = [tag for tag in selected if tag not in run]
            raise ValueError(
                f"run {run_name!r} has the tags {present} but not {missing}; every run needs "
                f"all the selected tags or none; {_describe_tags(runs)}. Choose the tags with "
                "tags=[...] (or move the run out of the directory)."
            )
        kept.append(run_name)
    if not kept:
        raise ValueError(
            f"no scalar tag(s) {list(selected)} in any run under {str(logdir)!r}; "
            f"{_describe_tags(runs)}."
        )
    if empty:
        warnings.warn(
            f"skipped {len(empty)} run(s) under {str(logdir)!r} whose event files hold no "
            f"scalar at all (crashed or not started yet?): {empty}.",
            stacklevel=2,
        )

    series = [
        _aligned_series(runs[run_name], selected, run_name, duplicates, on_restart)
        for run_name in kept
    ]
    lengths = [len(steps) for steps, _, _ in series]
    shape = (len(kept), max(lengths))
    components = np.zeros((*shape, len(names)))
    steps = np.zeros(shape, dtype=np.int64)
    wall_times = np.zeros(shape)
    for e, (run_steps, run_times, values) in enumerate(series):
        components[e, : lengths[e]] = values
        steps[e, : lengths[e]] = run_steps
        wall_times[e, : lengths[e]] = run_times
    mask = np.arange(shape[1])[None, :] < np.asarray(lengths)[:, None]
    return RewardLog.from_arrays(
        components,
        mask,
        names=names,
        episode_info={"run": np.asarray(kept)},
        steps=steps,
        wall_times=wall_times,
    )


@dataclasses.dataclass
class _ScalarSeries:
    """One tag's values in one run, in the order written, and the event file of each."""

    origin: str  # e.g. "tag 'rewards/a' in run 'seed_0'", for messages
    files: list[str] = dataclasses.field(default_factory=list)
    steps: list[int] = dataclasses.field(default_factory=list)
    wall_times: list[float] = dataclasses.field(default_factory=list)
    values: list[float] = dataclasses.field(default_factory=list)

    def append(self, file: str, step: int, wall_time: float, value: float) -> None:
        self.files.append(file)
        self.steps.append(step)
        self.wall_times.append(wall_time)
        self.values.append(value)


def _read_run(run_name: str, files: Sequence[pathlib.Path], loader) -> dict[str, _ScalarSeries]:
    """Every scalar tag of one run directory, its event files taken in the order they started."""
    tensor_util = import_module("tensorboard.util.tensor_util")
    loaded = [(path, list(loader.LegacyEventFileLoader(str(path)).Load())) for path in files]
    # A writer's first event (the file version) is stamped when the writer starts; file
    # names carry only whole seconds, too coarse for two writers started together.
    loaded.sort(key=lambda item: (item[1][0].wall_time if item[1] else np.inf, item[0].name))
    series: dict[str, _ScalarSeries] = {}
    plugin_of: dict[str, str] = {}  # a tensor's plugin is named only in its tag's first event
    for path, events in loaded:
        for event in events:
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name:
                    plugin_of.setdefault(value.tag, value.metadata.plugin_data.plugin_name)
                kind = value.WhichOneof("value")
                if kind == "simple_value":
                    number = float(value.simple_value)
                elif (
                    kind == "tensor"
                    and plugin_of.get(value.tag) == "scalars"
                    and not value.tensor.tensor_shape.dim
                ):
                    number = float(tensor_util.make_ndarray(value.tensor))
                else:
                    continue  # images, histograms, text, ...: not scalars
                if value.tag not in series:
                    series[value.tag] = _ScalarSeries(f"tag {value.tag!r} in run {run_name!r}")
                series[value.tag].append(path.name, event.step, event.wall_time, number)
    return series


def _with_add_scalars_folded(
    runs: dict[str, dict[str, _ScalarSeries]],
) -> dict[str, dict[str, _ScalarSeries]]:
    """Runs with torch's ``add_scalars`` sub-runs read as tags of the run above them.

    ``add_scalars(main_tag, {key: value})`` writes ``key`` to the run directory
    ``<parent>/<main_tag with / → _>_<key>`` under the tag ``main_tag``. A run all of
    whose tags fit that pattern under its nearest ancestor run becomes the tags
    ``<main_tag>/<key>`` of that ancestor.
    """
    folded = {name: dict(series) for name, series in runs.items()}
    for name, series in runs.items():
        parent = _add_scalars_parent(name, series, runs)
        if parent is None:
            continue
        relative = name if parent == "." else name[len(parent) + 1 :]
        for tag, values in series.items():
            merged = f"{tag}/{relative[len(tag.replace('/', '_')) + 1 :]}"
            if merged in folded[parent]:
                raise ValueError(
                    f"run {parent!r} has the tag {merged!r} twice: logged directly and by "
                    f"add_scalars({tag!r}, ...) in the sub-run {name!r}; move one of them out "
                    "of the directory."
                )
            values.origin = f"tag {merged!r} of run {parent!r} (add_scalars sub-run {name!r})"
            folded[parent][merged] = values
        del folded[name]
    return folded


def _add_scalars_parent(
    name: str, series: Mapping[str, _ScalarSeries], runs: Mapping[str, object]
) -> str | None:
    """The run whose ``add_scalars`` wrote the run ``name``, or None if it is a run itself."""
    if name == "." or not series:
        return None
    parts = name.split("/")
    for cut in range(len(parts) - 1, -1, -1):  # nearest ancestor run first
        parent = "/".join(parts[:cut]) or "."
        if parent not in runs:
            continue
        relative = "/".join(parts[cut:])
        written_by_add_scalars = all(
            relative.startswith(f"{tag.replace('/', '_')}_")
            and len(relative) > len(tag.replace("/", "_")) + 1
            for tag in series
        )
        return parent if written_by_add_scalars else None
    return None


def _aligned_series(
    run: Mapping[str, _ScalarSeries],
    tags: Sequence[str],
    run_name: str,
    duplicates: str,
    on_restart: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps ``[T]``, wall times ``[T]`` and values ``[T, K]`` of ``tags`` in one run."""
    resolved = [_resolved(run[tag], duplicates, on_restart) for tag in tags]
    steps, wall_times, _ = resolved[0]
    for tag, (other_steps, other_times, _) in zip(tags[1:], resolved[1:], strict=True):
        if not np.array_equal(other_steps, steps):
            position = _first_difference(steps, other_steps)
            raise ValueError(
                f"tags {tags[0]!r} and {tag!r} in run {run_name!r} were logged at different "
                f"steps ({len(steps)} and {len(other_steps)} entries; entry {position} is "
                f"step {_entry(steps, position)} and step {_entry(other_steps, position)}); "
                "every selected tag must be logged at the same steps (choose the tags with "
                "tags=[...], or duplicates='mean' if only the number of values per step "
                "differs)."
            )
        wall_times = np.maximum(wall_times, other_times)
    return steps, wall_times, np.stack([values for _, _, values in resolved], axis=1)


def _resolved(
    series: _ScalarSeries, duplicates: str, on_restart: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One tag's steps, wall times and values after restarts and repeated steps."""
    where = series.origin
    files = np.asarray(series.files)
    steps = np.asarray(series.steps, dtype=np.int64)
    wall_times = np.asarray(series.wall_times, dtype=np.float64)
    values = np.asarray(series.values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"{where} has a non-finite value ({values[first]}) at step {steps[first]} "
            f"({int(bad.sum())} in all); a reward log needs finite values."
        )
    goes_back = steps[1:] < steps[:-1]
    new_file_not_ahead = (files[1:] != files[:-1]) & (steps[1:] <= steps[:-1])
    restarts = np.flatnonzero(goes_back | new_file_not_ahead) + 1
    if restarts.size and on_restart == "error":
        at = int(restarts[0])
        jump = (
            f"goes back from step {steps[at - 1]} to step {steps[at]}"
            if steps[at] < steps[at - 1]
            else f"starts again at step {steps[at]}, which it had reached,"
        )
        raise ValueError(
            f"{where} {jump} in the event file {str(files[at])!r} ({restarts.size} time(s) "
            "in all): the run was restarted into the same directory, or the tag was logged "
            "out of order. Pass "
            "on_restart='last' to keep the values written after each restart (they replace "
            "the earlier ones from the restart's first step on), or give each restart its "
            "own run directory."
        )
    kept = np.ones(len(steps), dtype=bool)
    for start in restarts:
        kept[:start] &= steps[:start] < steps[start]
    steps, wall_times, values = steps[kept], wall_times[kept], values[kept]

    repeated = np.flatnonzero(steps[1:] == steps[:-1])
    if repeated.size == 0 or duplicates == "keep":
        return steps, wall_times, values
    if duplicates == "error":
        step = steps[repeated[0]]
        raise ValueError(
            f"{where} has {int((steps == step).sum())} values at step {step} "
            f"({repeated.size} repeated value(s) in all). Pass duplicates='keep' (each value "
            "its own entry), 'mean' or 'last'."
        )
    starts = np.flatnonzero(np.r_[True, steps[1:] != steps[:-1]])
    ends = np.r_[starts[1:], len(steps)] - 1
    if duplicates == "last":
        chosen = values[ends]
    else:
        chosen = np.add.reduceat(values, starts) / (ends - starts + 1)
    return steps[starts], wall_times[ends], chosen


def _first_difference(first: np.ndarray, second: np.ndarray) -> int:
    shorter = min(len(first), len(second))
    differing = np.flatnonzero(first[:shorter] != second[:shorter])
    return int(differing[0]) if differing.size else shorter


def _entry(steps: np.ndarray, position: int) -> str:
    return str(steps[position]) if position < len(steps) else "(none)"


def _strings(name: str, value) -> tuple[str, ...]:
    """``value`` as a tuple of strings; a single string is one entry, not its characters."""
    if isinstance(value, str):
        return (value,)
    try:
        entries = tuple(value)
    except TypeError:
        entries = None
    if entries is None or not all(isinstance(entry, str) for entry in entries):
        raise TypeError(
            f"{name} must be a string or a sequence of strings, got {value!r}; pass one "
            "string or a list of strings."
        )
    return entries


def _describe_tags(runs: Mapping[str, Mapping[str, _ScalarSeries]]) -> str:
    """``the scalar tags per run are 'a': [...]; ...``, cut short for many runs or tags."""
    listed = [f"{name!r}: [{_shortened(sorted(series))}]" for name, series in runs.items()]
    return f"the scalar tags per run are {_shortened(listed, quote=False, separator='; ')}"


def _component_names_of_tags(tags: Sequence[str], prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """Each tag without the first prefix it starts with; two tags may not share a name."""
    names = []
    for tag in tags:
        prefix = next((prefix for prefix in prefixes if tag.startswith(prefix)), "")
        names.append(tag[len(prefix) :])
    if len(set(names)) != len(names):
        clash = [tag for tag, name in zip(tags, names, strict=True) if names.count(name) > 1]
        raise ValueError(
            f"the tags {clash} give the same component name once their prefix is removed; "
            "select one of them with tags=[...]."
        )
    return tuple(names)


# ---------------------------------------------------------------------------
# Stable-Baselines3 Monitor files.


#: Names of the files :func:`read_sb3_monitor` reads in a directory, as SB3's own loader.
SB3_MONITOR_PATTERN = "*monitor.csv"

#: The columns every Stable-Baselines3 Monitor file has: return, length, seconds since start.
SB3_MONITOR_COLUMNS = ("r", "l", "t")


@_deprecation.renamed_keywords(total_tolerance="total_tol")
def read_sb3_monitor(
    path,
    *,
    components: Sequence[str] | None = None,
    weights=None,
    total_tol: float = 1e-6,
) -> RewardLog:
    """A log from Stable-Baselines3 ``Monitor`` files: one episode per row, one step each.

    ``path`` is one file, or a directory whose ``*monitor.csv`` files are all read (not
    its subdirectories; names in natural order, ``2.monitor.csv`` before
    ``10.monitor.csv``), as ``Monitor(env, filename, info_keywords=(...))`` and
    ``make_vec_env(..., monitor_dir=...)`` write them. A file is a first line
    ``#{"t_start": <epoch seconds>, "env_id": ...}`` and then a CSV table with the columns
    ``r`` (the episode's return), ``l`` (its length), ``t`` (seconds from ``t_start`` to
    its end) and one column per ``info_keywords`` (and ``reset_keywords``) entry. Every
    file must have the same columns.

    - Each row is one episode of the log with a single step holding its return, so
      ``component_returns``, ``return_shares``, ``variance_attribution`` and
      ``reweight`` describe episodes as :func:`read_parquet_returns` logs do. Episodes
      come file by file, rows in file order.
    - ``r`` is the logged total; the components are ``components`` (column names) or, by
      default, every other column holding numbers (booleans such as ``is_success`` are
      not components). A total that differs from the weighted sum of the components by
      more than ``total_tol`` (relative to the largest absolute return) is kept as
      an ``"unexplained"`` component. Monitor writes ``info[key]`` as it is at the
      episode's last step, so the info keywords should hold the episode's summed reward
      terms; per-step terms show up as a large ``unexplained``. Without component
      columns, ``r`` is the only component, named ``"r"``.
    - ``log.steps`` is the environment steps of the episode's file up to its end (the
      running sum of ``l``: exact for that environment; with several files, each
      sub-environment counts its own), ``log.wall_times`` is ``t_start + t``.
    - ``episode_info``: ``file`` (the file's name) and ``row`` (0 for its first episode)
      say where each episode came from; ``length`` (``l``), ``time`` (``t``),
      ``env_id`` (from the header line) and every other column (e.g. ``is_success``) are
      kept as they are.

    Example:
        >>> from stable_baselines3.common.monitor import Monitor
        >>> env = Monitor(env, "logs/0", info_keywords=("reward_run", "reward_ctrl"))
        >>> # ... train, or step until a few episodes end ...
        >>> log = rv.io.read_sb3_monitor("logs/")
        >>> log.names
        ('reward_run', 'reward_ctrl')
    """
    pandas = _import_optional("pandas", "read_sb3_monitor")
    root = pathlib.Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{str(path)!r} does not exist.")
    if root.is_dir():
        files = _monitor_files(root)
        if not files:
            raise ValueError(
                f"no Stable-Baselines3 Monitor files ({SB3_MONITOR_PATTERN!r}) in "
                f"{str(path)!r}{_format_hint(root)}"
            )
    else:
        files = [root]
    tables = [_read_monitor_file(file, pandas) for file in files]
    columns = list(tables[0][1].columns)
    for file, (_, frame) in zip(files[1:], tables[1:], strict=True):
        if list(frame.columns) != columns:
            raise ValueError(
                f"{file.name} has the columns {list(frame.columns)} but {files[0].name} has "
                f"{columns}; every Monitor file of a log needs the same info_keywords (read "
                "the files separately)."
            )
    rows = [len(frame) for _, frame in tables]
    if not any(rows):
        raise ValueError(
            f"no finished episode in {[file.name for file in files]}: the Monitor files "
            "have a header but no rows yet."
        )
    # Files without rows would make pandas guess the columns' types from nothing.
    table = pandas.concat([frame for _, frame in tables if len(frame)], ignore_index=True)
    source = {
        "file": np.repeat([file.name for file in files], rows),
        "row": np.concatenate([np.arange(n) for n in rows]),
        "env_id": np.repeat([str(header.get("env_id", "")) for header, _ in tables], rows),
    }
    t_start = np.repeat([float(header["t_start"]) for header, _ in tables], rows)

    extra = [column for column in columns if column not in SB3_MONITOR_COLUMNS]
    if components is None:
        components = [column for column in extra if _holds_numbers(table[column], pandas)]
    else:
        components = list(dict.fromkeys(str(column) for column in components))
        unknown = [column for column in components if column not in extra]
        if unknown:
            raise ValueError(
                f"components names column(s) {unknown} that the Monitor files do not have "
                f"beyond r, l, t; their other columns are {extra}."
            )
        not_numbers = [c for c in components if not _holds_numbers(table[c], pandas)]
        if not_numbers:
            raise ValueError(
                f"component column(s) {not_numbers} do not hold numbers only; a component "
                "needs a number in every row."
            )
    numbers = {}
    for column in [*SB3_MONITOR_COLUMNS, *components]:
        values = pandas.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            at = int(np.argmax(bad))
            raise ValueError(
                f"{source['file'][at]}, episode row {source['row'][at]}: column {column!r} "
                f"holds {table[column][at]!r}, not a finite number ({int(bad.sum())} such "
                "rows in all); a file cut short while being written ends this way."
            )
        numbers[column] = values
    lengths = numbers["l"]
    not_lengths = (lengths < 1) | (lengths != np.round(lengths))
    if not_lengths.any():
        at = int(np.argmax(not_lengths))
        raise ValueError(
            f"{source['file'][at]}, episode row {source['row'][at]}: the length l = "
            f"{table['l'][at]!r} is not a positive integer."
        )
    lengths = lengths.astype(np.int64)

    info = {**source, "length": lengths, "time": numbers["t"]}
    clashing = [column for column in extra if column not in components and column in info]
    if clashing:
        raise ValueError(
            f"the Monitor files have column(s) {clashing}, names that episode_info uses for "
            "where each episode came from; rename those info_keywords."
        )
    info.update({column: table[column].to_numpy() for column in extra if column not in components})
    # Each file counts its own environment's steps.
    steps = np.concatenate([np.cumsum(part) for part in np.split(lengths, np.cumsum(rows)[:-1])])
    if components:
        values = np.stack([numbers[column] for column in components], axis=1)
        names, total = components, numbers["r"][:, None]
    else:
        values, names, total = numbers["r"][:, None], ["r"], None
    return RewardLog.from_arrays(
        values[:, None, :],
        names=names,
        weights=weights,
        total=total,
        total_tol=total_tol,
        episode_info=info,
        steps=steps[:, None],
        wall_times=(t_start + numbers["t"])[:, None],
    )


def is_sb3_monitor(path) -> bool:
    """Whether :func:`read_sb3_monitor` is the reader for ``path``.

    A file is a Monitor file when its first line is the ``#{"t_start": ...}`` header that
    Stable-Baselines3's ``Monitor`` writes; a directory is one of Monitor files when it
    holds ``*monitor.csv`` files and no TensorBoard event files.

    Example:
        >>> rv.io.is_sb3_monitor("logs/0.monitor.csv")
        True
    """
    path = pathlib.Path(path)
    if path.is_dir():
        return bool(_monitor_files(path)) and not any(path.rglob("*tfevents*"))
    if not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        return _monitor_header(handle.readline(65536)) is not None


def _monitor_files(directory: pathlib.Path) -> list[pathlib.Path]:
    """The Monitor files directly in ``directory``, numbers in names compared as numbers."""

    def natural(path: pathlib.Path):
        return [
            (0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", path.name)
        ]

    return sorted((p for p in directory.glob(SB3_MONITOR_PATTERN) if p.is_file()), key=natural)


def _read_monitor_file(file: pathlib.Path, pandas):
    """The header dictionary and the table of one Monitor file."""
    with open(file, encoding="utf-8", errors="replace", newline="") as handle:
        header = _monitor_header(handle.readline())
        if header is None:
            raise ValueError(
                f"{file} does not start with the header line "
                '#{"t_start": ..., "env_id": ...} that Stable-Baselines3\'s Monitor writes'
                f"{_format_hint(file)}"
            )
        try:
            frame = pandas.read_csv(handle)
        except pandas.errors.EmptyDataError as error:
            raise ValueError(
                f"{file} has the Monitor header line but no column names (r,l,t,...) after it."
            ) from error
    _require_columns(file, SB3_MONITOR_COLUMNS, list(frame.columns))
    return header, frame


def _monitor_header(line: str) -> dict | None:
    """The JSON object of a Monitor file's first line, or None if it is not one."""
    if not line.startswith("#"):
        return None
    try:
        header = json.loads(line[1:])
    except json.JSONDecodeError:
        return None
    if not isinstance(header, dict) or not isinstance(header.get("t_start"), int | float):
        return None
    return header


def _holds_numbers(column, pandas) -> bool:
    types = pandas.api.types
    return types.is_numeric_dtype(column) and not types.is_bool_dtype(column)


# ---------------------------------------------------------------------------
# Plain .npz files, and the bundled example logs.


#: Reward logs bundled with the package (``rewardviz/data/<name>.npz``).
EXAMPLE_LOGS = ("hopper_random",)


def example_log(name: str = "hopper_random") -> RewardLog:
    """A small reward log bundled with the package, for the tour, teaching and tests.

    ``"hopper_random"``: 40 episodes of Gymnasium's MuJoCo ``Hopper-v5`` under a uniformly
    random policy (seed 0, at most 200 steps), recorded with :func:`collect`: components
    ``reward_forward``, ``reward_ctrl``, ``reward_survive`` and the env's total. Stored as
    a plain ``.npz`` read by :func:`read_npz`, so loading it needs neither pandas nor
    MuJoCo. ``tools/make_example_logs.py`` regenerates it.

    Example:
        >>> rv.io.example_log().names
        ('reward_forward', 'reward_ctrl', 'reward_survive')
    """
    if not isinstance(name, str) or name not in EXAMPLE_LOGS:
        raise ValueError(f"unknown example log {name!r}; name must be one of {list(EXAMPLE_LOGS)}.")
    return read_npz(pathlib.Path(__file__).parent / "data" / f"{name}.npz")


def read_npz(path) -> RewardLog:
    """A log from a plain ``.npz`` file, as :func:`write_npz` writes it: its inverse.

    Needs the arrays ``components`` ``[E, T, K]`` and ``names`` ``[K]`` (strings); reads
    ``mask`` ``[E, T]``, ``weights`` ``[K]``, ``total`` ``[E, T]``, ``steps`` ``[E, T]``
    and ``wall_times`` ``[E, T]`` when present, and ignores other arrays. Loaded with
    ``allow_pickle=False``: an archive holding Python objects is refused, never unpickled
    (unpickling runs arbitrary code). Errors name the file.

    Example:
        >>> rv.io.write_npz(log, "log.npz")
        >>> rv.io.read_npz("log.npz").names == log.names
        True
    """
    path = pathlib.Path(path)
    arrays = _files.read_arrays(path)
    missing = [key for key in ("components", "names") if key not in arrays]
    if missing:
        raise ValueError(
            f"{path.name} has no {missing}: a reward log .npz holds 'components' [E, T, K] "
            "and 'names' [K] (and optionally 'mask', 'weights', 'total'), as written by "
            "rewardviz.io.write_npz."
        )
    names = arrays["names"]
    if names.ndim != 1 or names.dtype.kind != "U":
        raise ValueError(
            f"'names' in {path.name} must be a 1-D array of strings, got dtype "
            f"{names.dtype} and shape {names.shape}."
        )
    try:
        return RewardLog.from_arrays(
            arrays["components"],
            arrays.get("mask"),
            names=[str(name) for name in names],
            weights=arrays.get("weights"),
            total=arrays.get("total"),
            steps=arrays.get("steps"),
            wall_times=arrays.get("wall_times"),
        )
    except (TypeError, ValueError) as error:
        raise type(error)(f"{path.name}: {error}") from error


def write_npz(log: RewardLog, path, *, overwrite: bool = False) -> None:
    """Save ``log`` as a plain ``.npz`` that :func:`read_npz` reads back.

    The arrays ``components``, ``mask``, ``names``, ``weights`` and ``total``, and
    ``steps`` and ``wall_times`` when the log has them. Written with
    :func:`rewardviz._files.atomic_write`: a reader never sees a half-written file, and a
    failed write leaves the old file and no temporary file behind.

    Args:
        log: the log to save.
        path: the file to write.
        overwrite: replace ``path`` if it exists (as the CLI's ``--force`` does). Without
            it an existing file is kept and the write refused, also when the file
            appears while the archive is being written.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        IsADirectoryError: ``path`` is a directory.

    Example:
        >>> rv.io.write_npz(rv.io.example_log(), "hopper.npz")
        >>> rv.io.write_npz(rv.io.example_log(), "hopper.npz", overwrite=True)
    """
    _checks.instance(
        "log", log, RewardLog, "pass a log such as rv.io.read_csv(...) or rv.io.example_log()."
    )
    path = pathlib.Path(_checks.path("path", path))
    _files.check_target(path, overwrite=overwrite)
    time_axis = {
        key: values
        for key, values in (("steps", log.steps), ("wall_times", log.wall_times))
        if values is not None
    }
    with _files.atomic_write(path, binary=True, overwrite=overwrite) as handle:
        np.savez_compressed(
            handle,
            components=np.asarray(log.components),
            mask=np.asarray(log.mask),
            names=np.array(log.names, dtype=str),
            weights=np.asarray(log.weights),
            total=np.asarray(log.total),
            **time_axis,
        )


# ---------------------------------------------------------------------------
# Recording from a live environment.


#: Prefix of the ``info`` keys that :class:`RecordRewardComponents` detects as reward terms.
REWARD_INFO_PREFIX = "reward_"


@dataclasses.dataclass(frozen=True)
class _RecordedEpisode:
    components: np.ndarray  # [T, K]
    total: np.ndarray  # [T]
    positions: np.ndarray | None  # [T, 2]
    terminated: bool


class RecordRewardComponents(_GymnasiumWrapper):
    """A Gymnasium wrapper that records the reward terms an environment reports in ``info``.

    At every step it records the terms (by default every ``info`` key starting with
    ``"reward_"`` whose value is a real scalar, found at the first step and then fixed;
    or the keys listed in ``components``) and the environment's reward as the logged
    total. The terms are expected to add up to the reward at every step: where they do
    not (by more than ``total_tol`` relative to the largest absolute reward of the
    log), :meth:`log` keeps the difference as an ``"unexplained"`` component. Component
    names are the ``info`` keys.

    An episode ends when the environment reports ``terminated`` or ``truncated``; a
    ``reset`` in the middle of an episode drops the unfinished one. :meth:`log` returns
    the completed episodes, with ``episode_info["terminated"]`` telling terminations
    from truncations. With ``positions=lambda observation, info: (x, y)``, the 2-D
    position after each step is recorded too and :meth:`positions` returns them.
    Vector environments are not supported.

    Example:
        >>> import gymnasium as gym
        >>> env = rv.io.RecordRewardComponents(gym.make("Hopper-v5"))
        >>> observation, info = env.reset(seed=0)
        >>> # ... step until terminated or truncated ...
        >>> env.log().names
        ('reward_forward', 'reward_ctrl', 'reward_survive')
    """

    @_deprecation.renamed_keywords(total_tolerance="total_tol")
    def __init__(
        self,
        env,
        *,
        components: Sequence[str] | None = None,
        total_tol: float = 1e-6,
        positions: Callable[[Any, Mapping[str, Any]], tuple[float, float]] | None = None,
    ):
        super().__init__(env)
        if components is not None:
            components = tuple(str(key) for key in components)
            if not components or len(set(components)) != len(components):
                raise ValueError(
                    f"components must list distinct info keys, got {list(components)}."
                )
        self._names: tuple[str, ...] | None = components
        self._total_tol = _checks.in_range("total_tol", total_tol, 0.0, np.inf)
        self._position_of = positions
        self._episodes: list[_RecordedEpisode] = []
        self._start_episode()

    def reset(self, *, seed=None, options=None):
        self._start_episode()
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self._names is None:
            self._names = _reward_keys(info)
        self._step_components.append(self._terms(info))
        self._step_totals.append(float(reward))
        if self._position_of is not None:
            self._step_positions.append(self._position(observation, info))
        if terminated or truncated:
            self._finish_episode(terminated=bool(terminated))
        return observation, reward, terminated, truncated, info

    def log(self) -> RewardLog:
        """The :class:`RewardLog` of every episode completed so far."""
        return _reward_log(self._completed(), self._names, self._total_tol)

    def positions(self) -> np.ndarray:
        """``[E, T, 2]`` position after each step of every completed episode (NaN where masked)."""
        if self._position_of is None:
            raise ValueError(
                "positions were not recorded: build the recorder with "
                "positions=lambda observation, info: (x, y)."
            )
        episodes = self._completed()
        padded = np.full((len(episodes), max(len(e.total) for e in episodes), 2), np.nan)
        for index, episode in enumerate(episodes):
            padded[index, : len(episode.total)] = episode.positions
        return padded

    def _completed(self) -> list[_RecordedEpisode]:
        if not self._episodes:
            raise ValueError(
                "no episode has ended yet: step the environment until it reports "
                "terminated or truncated (or use rewardviz.io.collect)."
            )
        return self._episodes

    def _start_episode(self) -> None:
        self._step_components: list[list[float]] = []
        self._step_totals: list[float] = []
        self._step_positions: list[tuple[float, float]] = []

    def _finish_episode(self, *, terminated: bool) -> None:
        if self._step_totals:
            self._episodes.append(
                _RecordedEpisode(
                    components=np.asarray(self._step_components, dtype=float),
                    total=np.asarray(self._step_totals, dtype=float),
                    positions=(
                        np.asarray(self._step_positions, dtype=float)
                        if self._position_of is not None
                        else None
                    ),
                    terminated=terminated,
                )
            )
        self._start_episode()

    def _terms(self, info: Mapping[str, Any]) -> list[float]:
        where = f"step {len(self._step_totals)} of episode {len(self._episodes)}"
        missing = [key for key in self._names if key not in info]
        if missing:
            raise ValueError(
                f"info has no reward term(s) {missing} at {where}; its keys are "
                f"{sorted(map(str, info))}. Pass components=[...] with keys the "
                "environment reports at every step."
            )
        for key in self._names:
            if not _is_real_scalar(info[key]):
                raise TypeError(
                    f"info[{key!r}] must be a real scalar at every step, got {info[key]!r} "
                    f"at {where}."
                )
        return [float(info[key]) for key in self._names]

    def _position(self, observation, info) -> tuple[float, float]:
        position = np.asarray(self._position_of(observation, info), dtype=float)
        if position.shape != (2,):
            raise ValueError(
                f"positions must return (x, y), got an array of shape {position.shape}."
            )
        return float(position[0]), float(position[1])


@_deprecation.renamed_keywords(episodes="n_episodes")
def collect(
    env,
    policy: Callable[[Any], Any] | None = None,
    *,
    n_episodes: int = 10,
    seed=0,
    max_steps: int | None = None,
    progress: bool = True,
) -> RewardLog:
    """Roll out ``n_episodes`` episodes of ``env`` and return their reward components.

    ``env`` is wrapped in :class:`RecordRewardComponents` unless it is one already (wrap
    it yourself to name the ``components``); the log holds only the episodes of this
    call. The first episode starts with ``env.reset(seed=seed)``, the others continue the
    environment's random stream. ``policy`` maps an observation to an action; by default
    actions are sampled from ``env.action_space`` seeded with ``seed``, so the same seed
    gives the same log; ``seed`` is an integer or a ``jax.random`` key (turned into an
    integer, as Gymnasium needs one). ``max_steps`` cuts an episode that runs longer (recorded as
    truncated); without it, each episode must end on its own. The progress bar is
    ``tqdm.auto`` (a widget in notebooks).

    Example:
        >>> import gymnasium as gym
        >>> log = rv.io.collect(gym.make("HalfCheetah-v5"), n_episodes=5, max_steps=200)
        >>> log.names
        ('reward_forward', 'reward_ctrl')
    """
    from tqdm.auto import tqdm

    n_episodes = _checks.positive_int("n_episodes", n_episodes)
    seed = _checks.seed_int("seed", seed)
    if max_steps is not None:
        max_steps = _checks.positive_int("max_steps", max_steps)
    recorder = env if isinstance(env, RecordRewardComponents) else RecordRewardComponents(env)
    if policy is None:
        recorder.action_space.seed(seed)

        def policy(_observation):
            return recorder.action_space.sample()

    first_new = len(recorder._episodes)
    observation, _ = recorder.reset(seed=seed)
    with tqdm(total=n_episodes, disable=not progress, desc="episodes", unit="episode") as bar:
        for index in range(n_episodes):
            if index:
                observation, _ = recorder.reset()
            for steps_taken in itertools.count(1):
                observation, _, terminated, truncated, _ = recorder.step(policy(observation))
                if terminated or truncated:
                    break
                if max_steps is not None and steps_taken >= max_steps:
                    recorder._finish_episode(terminated=False)
                    break
            bar.update()
    return _reward_log(recorder._episodes[first_new:], recorder._names, recorder._total_tol)


def _reward_log(
    episodes: Sequence[_RecordedEpisode], names: tuple[str, ...], total_tol: float
) -> RewardLog:
    lengths = [len(episode.total) for episode in episodes]
    components = np.zeros((len(episodes), max(lengths), len(names)))
    total = np.zeros(components.shape[:2])
    for index, episode in enumerate(episodes):
        components[index, : lengths[index]] = episode.components
        total[index, : lengths[index]] = episode.total
    mask = np.arange(max(lengths))[None, :] < np.asarray(lengths)[:, None]
    positions = None
    if episodes[0].positions is not None:
        positions = np.zeros((*components.shape[:2], 2))
        for index, episode in enumerate(episodes):
            positions[index, : lengths[index]] = episode.positions
    return RewardLog.from_arrays(
        components,
        mask,
        names=names,
        total=total,
        total_tol=total_tol,
        positions=positions,
        episode_info={"terminated": np.array([episode.terminated for episode in episodes])},
    )


def _reward_keys(info: Mapping[str, Any]) -> tuple[str, ...]:
    keys = tuple(
        str(key)
        for key, value in info.items()
        if str(key).startswith(REWARD_INFO_PREFIX) and _is_real_scalar(value)
    )
    if not keys:
        raise ValueError(
            f"the environment's info has no reward terms (real scalars under keys starting "
            f"with {REWARD_INFO_PREFIX!r}); its keys are {sorted(map(str, info))}. Name the "
            "terms with RecordRewardComponents(env, components=[...])."
        )
    return keys


def _is_real_scalar(value) -> bool:
    return np.ndim(value) == 0 and np.asarray(value).dtype.kind in "fiu"


# ---------------------------------------------------------------------------
# Shared checks, and which reader fits a file.


def _import_optional(module: str, user: str):
    try:
        return import_module(module)
    except ImportError as error:
        raise ImportError(
            f'{user} needs {module.split(".")[0]}: pip install "rewardviz[logs]"'
        ) from error


def _require_columns(path, required: Sequence[str], present: Sequence[str]) -> None:
    """Raise naming the missing columns, the columns present and the reader they fit."""
    missing = [column for column in dict.fromkeys(required) if column not in present]
    if not missing:
        return
    long_format = list(required) != list(SB3_MONITOR_COLUMNS)
    hint = _columns_hint(present, *(required[:2] if long_format else ()))
    if hint and not (long_format and hint.startswith("a long-format")):
        advice = f"It looks like {hint}."
    elif long_format:
        advice = "Name the columns with episode=, step=, component=, value=."
    else:
        advice = "Is it a Monitor file, as Stable-Baselines3 writes it?"
    raise ValueError(
        f"{path} has no column(s) {missing}; its columns are {_shortened(list(present))}. " + advice
    )


def _columns_hint(
    columns: Sequence[str], episode: str = "episode", step: str = "step"
) -> str | None:
    """Which reader fits a table with ``columns``, or None when none does.

    ``episode`` and ``step`` are the long-format column names the caller was asked for: a
    table with those but without component and value columns is a wide one.
    """
    present = set(columns)
    if set(SB3_MONITOR_COLUMNS) <= present:
        return (
            "a Stable-Baselines3 Monitor table (r, l, t): read the monitor.csv file that "
            "Monitor wrote with rv.io.read_sb3_monitor"
        )
    if {"Wall time", "Step", "Value"} <= present:
        return (
            "one scalar series exported from TensorBoard's page (Wall time, Step, Value): "
            "read the log directory itself with rv.io.read_tensorboard"
        )
    if {"episode", "step", "component", "value"} <= present:
        return "a long-format reward table: read it with rv.io.read_csv or rv.io.read_parquet"
    if {episode, step} <= present:
        return (
            "a wide table, one column per component: reshape it with pandas, "
            f"frame.melt(id_vars=[{episode!r}, {step!r}], var_name='component', "
            "value_name='value'), and build the log with rv.RewardLog.from_dataframe"
        )
    return None


def _looks_like(path: pathlib.Path, *, from_columns: bool = True) -> str | None:
    """What the file or directory at ``path`` seems to hold and which reader fits it.

    With ``from_columns``, a text file's first line is read as a header and matched to a
    reader by its column names (see :func:`_columns_hint`).
    """
    if path.is_dir():
        if any(path.rglob("*tfevents*")):
            return "a TensorBoard log directory: read it with rv.io.read_tensorboard"
        if _monitor_files(path):
            return (
                "a directory of Stable-Baselines3 Monitor files: read it with "
                "rv.io.read_sb3_monitor"
            )
        tables = sorted(p.name for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
        if tables:
            return (
                f"a directory of tables ({_shortened(tables)}): read one file at a time with "
                "rv.io.read_csv, rv.io.read_parquet or rv.io.read_sb3_monitor"
            )
        return None
    if not path.is_file():
        return None
    if "tfevents" in path.name:
        return "a TensorBoard event file: read its directory with rv.io.read_tensorboard"
    with open(path, "rb") as handle:
        start = handle.read(65536)
    if start.startswith(b"PAR1"):
        return "a Parquet file: read it with rv.io.read_parquet"
    first_line = start.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    if _monitor_header(first_line) is not None:
        return "a Stable-Baselines3 Monitor file: read it with rv.io.read_sb3_monitor"
    if not from_columns or b"\0" in start:
        return None
    return _columns_hint([column.strip() for column in first_line.split(",")])


def _format_hint(path: pathlib.Path) -> str:
    """``"; it looks like ...: read it with ..."`` and a full stop, or just the full stop."""
    hint = _looks_like(path)
    return f"; it looks like {hint}." if hint else "."


def _unreadable_text(path, error: Exception) -> ValueError:
    """The error for a file that is not text a CSV parser can read (binary, or garbled)."""
    hint = _format_hint(pathlib.Path(path)) if isinstance(path, str | os.PathLike) else "."
    return ValueError(
        f"path {str(path)!r} is not a readable CSV text file ({type(error).__name__}: "
        f"{error}); a reward table is UTF-8 text with a header row, not a binary or "
        f"compressed file{hint}"
    )


def _refuse_other_formats(path, reader: str) -> None:
    """Raise when ``path`` is a directory, or a file in a format another reader handles."""
    if not isinstance(path, str | os.PathLike):
        return  # a buffer: pandas tells what is wrong with it
    location = pathlib.Path(path)
    if location.is_dir():
        raise ValueError(
            f"{reader} reads one file, but {str(path)!r} is a directory{_format_hint(location)}"
        )
    hint = _looks_like(location, from_columns=False)
    if hint:
        raise ValueError(f"{reader} cannot read {str(path)!r}: it is {hint}.")


def _shortened(
    items: Sequence, most: int = 10, *, quote: bool = True, separator: str = ", "
) -> str:
    """The first ``most`` items joined, and how many more there are."""
    shown = [repr(item) if quote else str(item) for item in items[:most]]
    if len(items) > most:
        shown.append(f"... ({len(items) - most} more)")
    return separator.join(shown)
