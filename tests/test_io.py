"""Tests of rewardviz.io: file readers against logs built from the same arrays, and the
recorder against rewards collected by stepping an identically seeded environment."""

import time

import gymnasium
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from rewardviz import RewardLog, io

# Three ragged episodes (ids deliberately unsorted in the file), two components.
EPISODE_IDS = [3, 7, 10]
LENGTHS = [4, 2, 3]
NAMES = ("forward", "ctrl")


def ragged_arrays(seed=0):
    rng = np.random.default_rng(seed)
    mask = np.arange(max(LENGTHS))[None, :] < np.array(LENGTHS)[:, None]
    components = np.where(mask[..., None], rng.normal(size=(len(LENGTHS), max(LENGTHS), 2)), 0)
    return components, mask


def long_table(components, mask, total=None):
    """Rows (episode, step, component, value), episodes written last id first."""
    rows = []
    for e in reversed(range(len(EPISODE_IDS))):
        for t in range(int(mask[e].sum())):
            for k, name in enumerate(NAMES):
                rows.append((EPISODE_IDS[e], t, name, components[e, t, k]))
            if total is not None:
                rows.append((EPISODE_IDS[e], t, "total", total[e, t]))
    return pd.DataFrame(rows, columns=["episode", "step", "component", "value"])


def assert_same_log(actual: RewardLog, expected: RewardLog):
    assert actual.names == expected.names
    np.testing.assert_array_equal(actual.mask, expected.mask)
    np.testing.assert_allclose(actual.components, expected.components, rtol=0, atol=1e-12)
    np.testing.assert_allclose(actual.weights, expected.weights, rtol=0, atol=0)
    assert actual.episode_info.keys() == expected.episode_info.keys()
    for key in expected.episode_info:
        np.testing.assert_array_equal(actual.episode_info[key], expected.episode_info[key])


def write_table(frame, path):
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def read_table(path, **options):
    return (io.read_csv if path.suffix == ".csv" else io.read_parquet)(path, **options)


# ---------------------------------------------------------------------------
# CSV and Parquet.


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_round_trip_with_logged_total(tmp_path, suffix):
    components, mask = ragged_arrays()
    weights = np.array([1.0, 0.5])
    total = components @ weights
    total[1, 1] += 0.25  # a bonus that no component explains
    path = tmp_path / f"rewards{suffix}"
    write_table(long_table(components, mask, total), path)

    log = read_table(path, weights={"ctrl": 0.5})

    expected = RewardLog.from_arrays(
        components,
        mask,
        names=NAMES,
        weights=weights,
        total=np.where(mask, total, 0),
        episode_info={"episode": np.array(EPISODE_IDS)},
    )
    assert_same_log(log, expected)
    assert log.names == ("forward", "ctrl", "unexplained")
    np.testing.assert_allclose(log.components[1, 1, 2], 0.25, atol=1e-12)
    np.testing.assert_allclose(log.total, np.where(mask, total, 0), atol=1e-12)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_round_trip_without_total_and_renamed_columns(tmp_path, suffix):
    components, mask = ragged_arrays(seed=1)
    frame = long_table(components, mask).rename(columns={"episode": "run", "value": "reward"})
    frame["unused"] = "ignored"
    path = tmp_path / f"rewards{suffix}"
    write_table(frame, path)

    log = read_table(path, episode="run", value="reward")

    expected = RewardLog.from_arrays(
        components, mask, names=NAMES, episode_info={"episode": np.array(EPISODE_IDS)}
    )
    assert_same_log(log, expected)


def test_parquet_small_batches_equal_one_batch_and_from_dataframe(tmp_path):
    components, mask = ragged_arrays(seed=2)
    total = components.sum(-1) + np.where(mask, 0.1, 0)
    frame = long_table(components, mask, total)
    frame["episode"] = frame["episode"].map(lambda e: f"run-{e}")  # string episode ids
    shuffled = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    path = tmp_path / "rewards.parquet"
    write_table(shuffled, path)

    one_batch = io.read_parquet(path)
    small_batches = io.read_parquet(path, batch_size=5)

    assert_same_log(small_batches, one_batch)
    assert_same_log(one_batch, RewardLog.from_dataframe(shuffled))
    assert list(one_batch.episode_info["episode"]) == ["run-10", "run-3", "run-7"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(0, 0, "a", 1.0), (0, 1, "a", 2.0), (0, 0, "a", 3.0)], "more than one row for 'a'"),
        ([(0, 0, "a", 1.0), (0, 2, "a", 2.0)], "gap at step 1"),
        ([(0, 0, "a", 1.0), (0, 1, "a", 2.0), (0, 0, "b", 1.0)], "no value for component 'b'"),
        ([(0, 0, "a", 1.0), (0, 1, "a", 2.0), (0, 0, "total", 1.0)], "step 1 has no 'total'"),
        ([(0, 0, "total", 1.0)], "only 'total' rows"),
        ([(0, -1, "a", 1.0)], "non-negative integers"),
    ],
)
def test_parquet_rejects_malformed_tables_like_from_dataframe(tmp_path, rows, message):
    frame = pd.DataFrame(rows, columns=["episode", "step", "component", "value"])
    path = tmp_path / "bad.parquet"
    write_table(frame, path)
    with pytest.raises(ValueError, match=message):
        io.read_parquet(path, batch_size=1)  # duplicates span batches


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_missing_column_names_it_and_the_columns_present(tmp_path, suffix):
    frame = pd.DataFrame({"episode": [0], "step": [0], "component": ["a"], "reward": [1.0]})
    path = tmp_path / f"rewards{suffix}"
    write_table(frame, path)
    with pytest.raises(ValueError, match=r"no column\(s\) \['value'\].*'reward'"):
        read_table(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_without_rows_is_an_error(tmp_path, suffix):
    frame = pd.DataFrame(
        {
            "episode": pd.Series([], dtype=int),
            "step": pd.Series([], dtype=int),
            "component": pd.Series([], dtype=str),
            "value": pd.Series([], dtype=float),
        }
    )
    path = tmp_path / f"rewards{suffix}"
    write_table(frame, path)
    with pytest.raises(ValueError, match="no rows"):
        read_table(path)


@pytest.mark.parametrize(
    ("suffix", "message"), [(".csv", "is empty"), (".parquet", "not a readable Parquet file")]
)
def test_empty_file_is_an_error(tmp_path, suffix, message):
    path = tmp_path / f"rewards{suffix}"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=message):
        read_table(path)


# ---------------------------------------------------------------------------
# TensorBoard.


def write_scalars(run_dir, series):
    """Event file with ``{tag: [(step, value), ...]}``, written without TensorFlow."""
    writer = EventFileWriter(str(run_dir))
    for tag, points in series.items():
        for step, value in points:
            summary = summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]
            )
            writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    writer.close()


def test_tensorboard_runs_become_episodes_and_tags_components(tmp_path):
    rng = np.random.default_rng(0)
    steps = {"seed_0": [0, 100, 200, 300, 400], "seed_1": [0, 100, 200]}
    values = {}
    for run, run_steps in steps.items():
        values[run] = rng.normal(size=(2, len(run_steps))).astype(np.float32)
        write_scalars(
            tmp_path / run,
            {
                "rewards/forward": list(zip(run_steps, values[run][0].tolist(), strict=True)),
                "rewards/ctrl": list(zip(run_steps, values[run][1].tolist(), strict=True)),
                "loss/value": [(s, 1.0) for s in run_steps],
            },
        )

    log = io.read_tensorboard(tmp_path)

    assert log.names == ("ctrl", "forward")  # sorted tags, prefix removed
    assert list(log.episode_info["run"]) == ["seed_0", "seed_1"]
    np.testing.assert_array_equal(log.lengths, [5, 3])
    for e, run in enumerate(steps):
        n = len(steps[run])
        np.testing.assert_array_equal(log.components[e, :n, 0], values[run][1])
        np.testing.assert_array_equal(log.components[e, :n, 1], values[run][0])
        np.testing.assert_array_equal(log.components[e, n:], 0)


def test_tensorboard_single_run_and_explicit_tags(tmp_path):
    write_scalars(
        tmp_path,
        {
            "Episode_Reward/track_velocity": [(1, 0.5), (2, 1.5)],
            "Episode_Reward/action_rate": [(1, -0.25), (2, -0.125)],
            "Train/mean_reward": [(1, 0.25), (2, 1.375)],
        },
    )

    log = io.read_tensorboard(tmp_path, tags=["Episode_Reward/track_velocity"])

    assert log.names == ("track_velocity",)
    assert list(log.episode_info["run"]) == ["."]
    np.testing.assert_array_equal(log.components[0, :, 0], [0.5, 1.5])


def test_tensorboard_errors_name_the_tags(tmp_path):
    write_scalars(
        tmp_path / "run",
        {"rewards/a": [(0, 1.0), (1, 2.0)], "rewards/b": [(0, 1.0)], "loss": [(0, 1.0)]},
    )
    with pytest.raises(ValueError, match=r"'rewards/a' and 'rewards/b'.*different steps"):
        io.read_tensorboard(tmp_path)
    with pytest.raises(ValueError, match=r"no scalar tag starting with.*'loss'"):
        io.read_tensorboard(tmp_path, prefixes=["Episode_Reward/"])
    with pytest.raises(ValueError, match=r"no scalar tag\(s\) \['rewards/c'\]"):
        io.read_tensorboard(tmp_path, tags=["rewards/c"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no TensorBoard event files"):
        io.read_tensorboard(tmp_path / "empty")


# ---------------------------------------------------------------------------
# Recording from environments.


def hopper():
    return gymnasium.make("Hopper-v5", max_episode_steps=40)


def test_recorder_reproduces_hopper_reward_from_its_terms():
    log = io.collect(hopper(), n_episodes=3, seed=0, progress=False)

    # Oracle: step an identically seeded Hopper by hand, as collect promises to.
    env = hopper()
    env.action_space.seed(0)
    rewards, terms = [], []
    for index in range(3):
        env.reset(seed=0 if index == 0 else None)
        rewards.append([])
        terms.append([])
        while True:
            _, reward, terminated, truncated, info = env.step(env.action_space.sample())
            rewards[-1].append(reward)
            terms[-1].append([info["reward_forward"], info["reward_ctrl"], info["reward_survive"]])
            if terminated or truncated:
                break

    assert log.names == ("reward_forward", "reward_ctrl", "reward_survive")
    np.testing.assert_array_equal(log.lengths, [len(r) for r in rewards])
    for e in range(3):
        n = len(rewards[e])
        np.testing.assert_allclose(log.total[e, :n], rewards[e], rtol=0, atol=1e-6)
        np.testing.assert_allclose(log.components[e, :n], terms[e], rtol=0, atol=1e-12)


class UnbalancedEnv(gymnasium.Env):
    """Three-step episodes whose info terms miss a bonus of 0.1·step in the reward."""

    observation_space = gymnasium.spaces.Box(-10.0, 10.0, shape=(2,))
    action_space = gymnasium.spaces.Discrete(2)

    def __init__(self, info_keys=("reward_run", "reward_cost")):
        self.info_keys = info_keys

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        run, cost = float(action) + 1.0, -0.5
        info = dict(zip(self.info_keys, (run, cost), strict=True))
        info["label"] = "not a reward"
        observation = np.array([self.t, 2.0 * self.t], np.float32)
        return observation, run + cost + 0.1 * self.t, self.t == 3, False, info


def test_recorder_keeps_what_the_terms_do_not_explain_and_positions():
    env = io.RecordRewardComponents(
        UnbalancedEnv(), positions=lambda observation, info: observation[:2]
    )
    env.reset(seed=0)
    env.step(0)  # an unfinished episode, dropped by the reset below
    for _ in range(2):
        env.reset()
        for action in (1, 0, 1):
            env.step(action)

    log = env.log()

    assert log.names == ("reward_run", "reward_cost", "unexplained")
    np.testing.assert_array_equal(log.lengths, [3, 3])
    np.testing.assert_allclose(log.components[:, :, 2], [[0.1, 0.2, 0.3]] * 2, atol=1e-12)
    np.testing.assert_allclose(log.total, [[1.6, 0.7, 1.8]] * 2, atol=1e-12)
    np.testing.assert_array_equal(log.episode_info["terminated"], [True, True])
    np.testing.assert_array_equal(env.positions(), [[[1, 2], [2, 4], [3, 6]]] * 2)
    np.testing.assert_array_equal(log.positions, [[[1, 2], [2, 4], [3, 6]]] * 2)


def test_collect_is_reproducible_for_a_seed():
    first = io.collect(hopper(), n_episodes=2, seed=3, max_steps=15, progress=False)
    again = io.collect(hopper(), n_episodes=2, seed=3, max_steps=15, progress=False)
    other = io.collect(hopper(), n_episodes=2, seed=4, max_steps=15, progress=False)

    assert_same_log(again, first)
    assert first.components.shape == (2, 15, 3)
    assert not np.array_equal(other.components, first.components)


def test_recorder_errors_name_the_info_keys():
    with pytest.raises(ValueError, match=r"no reward terms.*'label', 'run'.*components="):
        io.collect(UnbalancedEnv(info_keys=("run", "cost")), n_episodes=1, progress=False)
    recorder = io.RecordRewardComponents(UnbalancedEnv(), components=["reward_run", "reward_x"])
    with pytest.raises(ValueError, match=r"no reward term\(s\) \['reward_x'\].*'reward_cost'"):
        io.collect(recorder, n_episodes=1, progress=False)
    with pytest.raises(ValueError, match="no episode has ended"):
        io.RecordRewardComponents(UnbalancedEnv()).log()


# ---------------------------------------------------------------------------
# Plain .npz files.


def test_read_npz_is_the_inverse_of_write_npz(tmp_path):
    log = RewardLog.from_arrays(
        np.arange(24, dtype=float).reshape(2, 4, 3),
        np.array([[True] * 4, [True, True, False, False]]),
        names=["a", "b", "c"],
        weights=[1.0, 0.5, -2.0],
        total=np.ones((2, 4)),  # differs from the weighted sum: an "unexplained" component
        steps=np.arange(8).reshape(2, 4) * 10,
        wall_times=np.full((2, 4), 1.7e9),
    )
    path = tmp_path / "log.npz"
    io.write_npz(log, path)
    again = io.read_npz(path)
    assert again.names == log.names == ("a", "b", "c", "unexplained")
    for field in ("components", "mask", "weights", "steps", "wall_times"):
        np.testing.assert_array_equal(getattr(again, field), getattr(log, field))
    np.testing.assert_array_equal(again.total, log.total)
    # The bundled example is read by the same function.
    assert_same_log(
        io.read_npz(io.__file__.replace("io.py", "data/hopper_random.npz")), io.example_log()
    )


def test_read_npz_never_unpickles_and_says_what_is_missing(tmp_path):
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, components=np.ones((1, 2, 1)), names=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds Python objects"):
        io.read_npz(pickled)
    partial = tmp_path / "partial.npz"
    np.savez(partial, components=np.ones((1, 2, 1)))
    with pytest.raises(ValueError, match=r"partial.npz has no \['names'\]"):
        io.read_npz(partial)
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip archive")
    with pytest.raises(ValueError, match=r"is not an \.npz file"):
        io.read_npz(junk)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, components=np.ones((1, 2, 2)), names=np.array(["a"]))
    with pytest.raises(ValueError, match=r"wrong\.npz: names must have 2 entries"):
        io.read_npz(wrong)


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "log.npz"
    path.write_bytes(b"the old file")

    def fail_halfway(file, **arrays):
        file.write(b"half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        io.write_npz(io.example_log(), path, overwrite=True)
    assert path.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["log.npz"]


# ---------------------------------------------------------------------------
# Old spellings.


def test_collect_episodes_is_spelled_n_episodes():
    with pytest.warns(DeprecationWarning, match="n_episodes="):
        old = io.collect(hopper(), episodes=2, seed=3, max_steps=15, progress=False)
    assert_same_log(old, io.collect(hopper(), n_episodes=2, seed=3, max_steps=15, progress=False))


def test_collect_seed_may_be_a_key():
    import jax

    by_key = io.collect(hopper(), n_episodes=1, seed=jax.random.key(3), max_steps=5, progress=False)
    again = io.collect(hopper(), n_episodes=1, seed=jax.random.key(3), max_steps=5, progress=False)
    assert_same_log(by_key, again)


def test_total_tolerance_is_spelled_total_tol():
    with pytest.warns(DeprecationWarning, match="total_tol="):
        old = io.RecordRewardComponents(UnbalancedEnv(), total_tolerance=10.0)
    new = io.RecordRewardComponents(UnbalancedEnv(), total_tol=10.0)
    for recorder in (old, new):
        io.collect(recorder, n_episodes=1, progress=False)
    # A tolerance of 10 forgives the missing bonus: no "unexplained" component.
    assert old.log().names == new.log().names == ("reward_run", "reward_cost")
    with pytest.warns(DeprecationWarning, match="total_tol="):
        log = RewardLog.from_arrays(
            np.ones((1, 2, 1)), total=np.full((1, 2), 1.5), total_tolerance=1.0
        )
    assert log.names == ("component_0",)
    with pytest.raises(TypeError, match="pass only total_tol="):
        RewardLog.from_arrays(np.ones((1, 2, 1)), total_tol=1.0, total_tolerance=1.0)
