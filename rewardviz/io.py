"""Reward logs in and out of files and live environments: everything becomes a :class:`RewardLog`.

Readers turn what training code leaves behind into a
:class:`~rewardviz.decompose.RewardLog`: long-format tables (:func:`read_csv`,
:func:`read_parquet`, one row per episode, step, component and value) and TensorBoard
scalar logs (:func:`read_tensorboard`). :class:`RecordRewardComponents` and
:func:`collect` record the reward terms a Gymnasium environment reports in ``info``.

This module only reads and records. It computes no statistics (see
:mod:`rewardviz.decompose`), draws nothing, and never unpickles anything: pickle runs
arbitrary code, so only CSV, Parquet and TensorBoard's protobuf events are read. pandas,
pyarrow and tensorboard are imported inside the readers (``pip install
"rewardviz[logs]"``); gymnasium is needed only to build a recorder (``pip install
"rewardviz[gym]"``).
"""

from __future__ import annotations

import dataclasses
import itertools
import pathlib
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any

import numpy as np

from rewardviz import _checks
from rewardviz.decompose import RewardLog, log_from_long_cube

try:
    from gymnasium import Wrapper as _GymnasiumWrapper
except ImportError:  # gymnasium is an optional extra: fail when a recorder is built, not here

    class _GymnasiumWrapper:
        def __init__(self, env):
            raise ImportError(
                'RecordRewardComponents needs gymnasium: pip install "rewardviz[gym]"'
            )


#: TensorBoard tag prefixes that :func:`read_tensorboard` reads by default.
REWARD_TAG_PREFIXES = ("rewards/", "Episode_Reward/")

#: Prefix of the ``info`` keys that :class:`RecordRewardComponents` detects as reward terms.
REWARD_INFO_PREFIX = "reward_"


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

    Example:
        ``episode,step,component,value`` rows such as ``0,0,forward,1.5``:

        >>> log = rv.io.read_csv("rewards.csv", weights={"ctrl": 0.1})
        >>> log.names
        ('forward', 'ctrl')
    """
    pandas = _import_optional("pandas", "read_csv")
    columns = [episode, step, component, value]
    try:
        header = pandas.read_csv(path, nrows=0)
    except pandas.errors.EmptyDataError as error:
        raise ValueError(
            f"{path} is empty: a reward table needs a header row with the columns {columns} "
            "and one row per (episode, step, component)."
        ) from error
    _require_columns(path, columns, list(header.columns))
    frame = pandas.read_csv(path, usecols=columns, dtype={component: str})
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
    batch_size = _positive_int("batch_size", batch_size)
    try:
        file = parquet.ParquetFile(path, pre_buffer=False)  # no read-ahead of the file
    except pyarrow.ArrowInvalid as error:
        raise ValueError(f"{path} is not a readable Parquet file: {error}") from error
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


# ---------------------------------------------------------------------------
# TensorBoard.


#: Reward logs bundled with the package (``rewardviz/data/<name>.npz``).
EXAMPLE_LOGS = ("hopper_random",)


def example_log(name: str = "hopper_random") -> RewardLog:
    """A small reward log bundled with the package, for the tour, teaching and tests.

    ``"hopper_random"``: 40 episodes of Gymnasium's MuJoCo ``Hopper-v5`` under a uniformly
    random policy (seed 0, at most 200 steps), recorded with :func:`collect`: components
    ``reward_forward``, ``reward_ctrl``, ``reward_survive`` and the env's total. Stored as
    a plain ``.npz`` (read with ``allow_pickle=False``), so loading it needs neither
    pandas nor MuJoCo. ``tools/make_example_logs.py`` regenerates it.

    Example:
        >>> rv.io.example_log().names
        ('reward_forward', 'reward_ctrl', 'reward_survive')
    """
    if name not in EXAMPLE_LOGS:
        raise ValueError(f"unknown example log {name!r}; available: {list(EXAMPLE_LOGS)}.")
    path = pathlib.Path(__file__).parent / "data" / f"{name}.npz"
    with np.load(path, allow_pickle=False) as stored:
        return RewardLog.from_arrays(
            stored["components"],
            stored["mask"],
            names=[str(component) for component in stored["names"]],
            weights=stored["weights"],
            total=stored["total"],
        )


def write_npz(log: RewardLog, path) -> None:
    """Save ``log`` as a plain ``.npz`` that :func:`example_log`-style loaders read back.

    Written to a temporary file next to ``path`` and renamed, so a reader never sees a
    half-written file.
    """
    path = pathlib.Path(path)
    temporary = path.with_name(f".{path.name}.partial")
    with open(temporary, "wb") as handle:
        np.savez_compressed(
            handle,
            components=np.asarray(log.components),
            mask=np.asarray(log.mask),
            names=np.array(log.names, dtype=str),
            weights=np.asarray(log.weights),
            total=np.asarray(log.total),
        )
    temporary.replace(path)


def read_tensorboard(
    logdir,
    *,
    tags: Sequence[str] | None = None,
    prefixes: Sequence[str] = REWARD_TAG_PREFIXES,
) -> RewardLog:
    """A log from the scalar reward tags of TensorBoard event files under ``logdir``.

    Layout:

    - every directory under ``logdir`` (``logdir`` included) that holds event files
      (``*tfevents*``) is one run, and each run becomes one episode, in sorted order;
      the run's path relative to ``logdir`` is kept in ``episode_info["run"]``;
    - each selected tag is one component, named by the tag without its prefix
      (``rewards/forward`` → ``forward``); by default every scalar tag starting with one
      of ``prefixes`` is selected, or pass the exact ``tags``;
    - the logged steps of a run, in increasing order, are the log's step axis: position
      ``t`` is the run's ``t``-th logged step (the step numbers themselves are not
      kept). Within a run every selected tag must be logged at the same steps; runs of
      different lengths are masked.

    Every selected tag becomes a component, so do not select a tag that holds the sum of
    the others (e.g. ``rewards/total``): list the terms with ``tags=``. With per-iteration
    episode means, as in Isaac Lab's ``Episode_Reward/<term>``, the steps are training
    iterations. TensorBoard stores scalars as float32. All events are kept
    (``size_guidance`` 0 for scalars).

    Example:
        >>> log = rv.io.read_tensorboard("runs/", prefixes=["Episode_Reward/"])
        >>> log.episode_info["run"]
        array(['seed_0', 'seed_1'], dtype='<U6')
    """
    accumulator_module = _import_optional(
        "tensorboard.backend.event_processing.event_accumulator", "read_tensorboard"
    )
    root = pathlib.Path(logdir)
    if not root.is_dir():
        raise FileNotFoundError(f"logdir {str(logdir)!r} is not a directory.")
    runs = sorted({path.parent for path in root.rglob("*tfevents*") if path.is_file()})
    if not runs:
        raise ValueError(
            f"no TensorBoard event files (names containing 'tfevents') under {str(logdir)!r}."
        )
    prefixes = tuple(prefixes)
    run_names = [path.relative_to(root).as_posix() for path in runs]
    selected: tuple[str, ...] | None = None if tags is None else tuple(tags)
    series = []  # per run: [K, T_run] values
    for run, run_name in zip(runs, run_names, strict=True):
        accumulator = accumulator_module.EventAccumulator(
            str(run), size_guidance={accumulator_module.SCALARS: 0}
        )
        accumulator.Reload()
        available = accumulator.Tags()[accumulator_module.SCALARS]
        if tags is None:
            matched = tuple(sorted(tag for tag in available if tag.startswith(prefixes)))
            if not matched:
                raise ValueError(
                    f"run {run_name!r} has no scalar tag starting with {list(prefixes)}; its "
                    f"scalar tags are {sorted(available)}. Pass tags=[...] or prefixes=[...]."
                )
            if selected is None:
                selected = matched
            elif matched != selected:
                raise ValueError(
                    f"run {run_name!r} has the reward tags {list(matched)} but run "
                    f"{run_names[0]!r} has {list(selected)}; every run needs the same tags "
                    "(choose them with tags=[...])."
                )
        missing = [tag for tag in selected if tag not in available]
        if missing:
            raise ValueError(
                f"run {run_name!r} has no scalar tag(s) {missing}; its scalar tags are "
                f"{sorted(available)}."
            )
        series.append(_aligned_scalars(accumulator, selected, run_name))
    names = _component_names_of_tags(selected, prefixes)
    lengths = [values.shape[1] for values in series]
    components = np.zeros((len(runs), max(lengths), len(names)))
    for e, values in enumerate(series):
        components[e, : values.shape[1]] = values.T
    mask = np.arange(max(lengths))[None, :] < np.asarray(lengths)[:, None]
    return RewardLog.from_arrays(
        components, mask, names=names, episode_info={"run": np.asarray(run_names)}
    )


def _aligned_scalars(accumulator, tags: Sequence[str], run_name: str) -> np.ndarray:
    """``[K, T]`` values of ``tags`` in one run, checking that they share their steps."""
    steps_of_first = None
    rows = []
    for tag in tags:
        events = accumulator.Scalars(tag)
        steps = np.array([event.step for event in events])
        if (np.diff(steps) <= 0).any():
            raise ValueError(
                f"tag {tag!r} in run {run_name!r} has steps out of order or logged twice; "
                "write each step once per tag (or give each restart its own run directory)."
            )
        if steps_of_first is None:
            steps_of_first = steps
        elif not np.array_equal(steps, steps_of_first):
            raise ValueError(
                f"tags {tags[0]!r} and {tag!r} in run {run_name!r} were logged at different "
                f"steps ({len(steps_of_first)} and {len(steps)} steps); every selected tag "
                "must be logged at the same steps (choose the tags with tags=[...])."
            )
        rows.append([event.value for event in events])
    if steps_of_first.size == 0:
        raise ValueError(f"run {run_name!r} logged no value for the tags {list(tags)}.")
    return np.asarray(rows, dtype=float)


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
# Recording from a live environment.


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
    not (by more than ``total_tolerance`` relative to the largest absolute reward of the
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

    def __init__(
        self,
        env,
        *,
        components: Sequence[str] | None = None,
        total_tolerance: float = 1e-6,
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
        self._total_tolerance = _checks.in_range("total_tolerance", total_tolerance, 0.0, np.inf)
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
        return _reward_log(self._completed(), self._names, self._total_tolerance)

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


def collect(
    env,
    policy: Callable[[Any], Any] | None = None,
    *,
    episodes: int = 10,
    seed: int = 0,
    max_steps: int | None = None,
    progress: bool = True,
) -> RewardLog:
    """Roll out ``episodes`` episodes of ``env`` and return their reward components.

    ``env`` is wrapped in :class:`RecordRewardComponents` unless it is one already (wrap
    it yourself to name the ``components``); the log holds only the episodes of this
    call. The first episode starts with ``env.reset(seed=seed)``, the others continue the
    environment's random stream. ``policy`` maps an observation to an action; by default
    actions are sampled from ``env.action_space`` seeded with ``seed``, so the same seed
    gives the same log. ``max_steps`` cuts an episode that runs longer (recorded as
    truncated); without it, each episode must end on its own. The progress bar is
    ``tqdm.auto`` (a widget in notebooks).

    Example:
        >>> import gymnasium as gym
        >>> log = rv.io.collect(gym.make("HalfCheetah-v5"), episodes=5, max_steps=200)
        >>> log.names
        ('reward_forward', 'reward_ctrl')
    """
    from tqdm.auto import tqdm

    episodes = _positive_int("episodes", episodes)
    if max_steps is not None:
        max_steps = _positive_int("max_steps", max_steps)
    recorder = env if isinstance(env, RecordRewardComponents) else RecordRewardComponents(env)
    if policy is None:
        recorder.action_space.seed(seed)

        def policy(_observation):
            return recorder.action_space.sample()

    first_new = len(recorder._episodes)
    observation, _ = recorder.reset(seed=seed)
    with tqdm(total=episodes, disable=not progress, desc="episodes", unit="episode") as bar:
        for index in range(episodes):
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
    return _reward_log(recorder._episodes[first_new:], recorder._names, recorder._total_tolerance)


def _reward_log(
    episodes: Sequence[_RecordedEpisode], names: tuple[str, ...], total_tolerance: float
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
        total_tolerance=total_tolerance,
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

    Duplicated ``(episode, step, component)`` rows are detected when an episode holds
    more rows of a component than its length and raise an error; a duplicate that
    exactly fills a missing step cannot be told apart from a complete episode.
    """
    pyarrow = _import_optional("pyarrow", "read_parquet_returns")
    parquet = import_module("pyarrow.parquet")
    gamma = _checks.in_range("gamma", gamma, 0.0, 1.0)
    batch_size = _positive_int("batch_size", batch_size)
    try:
        # pre_buffer=False: pyarrow would otherwise read ahead and hold most of the file.
        file = parquet.ParquetFile(path, pre_buffer=False)
    except pyarrow.ArrowInvalid as error:
        raise ValueError(f"{path} is not a readable Parquet file: {error}") from error
    _require_columns(path, [episode, step, component, value], file.schema_arrow.names)
    episodes: dict = {}
    names: dict = {}
    returns = np.zeros((0, 0))
    counts = np.zeros((0, 0), np.int64)
    lengths = np.zeros(0, np.int64)
    for batch in file.iter_batches(
        batch_size=batch_size, columns=[episode, step, component, value]
    ):
        columns = {name: batch.column(name) for name in (episode, step, component, value)}
        for name, column in columns.items():
            if column.null_count:
                raise ValueError(f"column {name!r} of {path} has missing values.")
        steps = columns[step].to_numpy().astype(np.int64)
        if steps.size and steps.min() < 0:
            raise ValueError(f"column {step!r} of {path} has a negative step.")
        values = columns[value].to_numpy().astype(np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(
                f"column {value!r} of {path} has a NaN or infinite value (first at batch row "
                f"{int(np.argmax(bad))}); clean the log before reading it."
            )
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
# Shared checks.


def _import_optional(module: str, user: str):
    try:
        return import_module(module)
    except ImportError as error:
        raise ImportError(
            f'{user} needs {module.split(".")[0]}: pip install "rewardviz[logs]"'
        ) from error


def _require_columns(path, required: Sequence[str], present: Sequence[str]) -> None:
    missing = [column for column in dict.fromkeys(required) if column not in present]
    if missing:
        raise ValueError(
            f"{path} has no column(s) {missing}; its columns are {list(present)}. "
            "Name the columns with episode=, step=, component=, value=."
        )


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)
