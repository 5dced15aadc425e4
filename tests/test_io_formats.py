"""Training logs as their own writers leave them: TensorBoard event files from
``tensorboard.summary.Writer`` and torch's ``SummaryWriter`` (scalars, ``add_scalars``,
CleanRL-style repeated steps, restarts) and Stable-Baselines3 ``Monitor`` files, each read
back and checked against the values the test itself wrote; the errors that point to the
right reader; and the step numbers and wall times a log now carries."""

import csv
import json
import warnings

import gymnasium
import jax
import numpy as np
import pandas as pd
import pytest
from tensorboard.summary import Writer as TensorBoardWriter

import rewardviz as rv
from rewardviz import decompose, io

torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
sb3_monitor = pytest.importorskip("stable_baselines3.common.monitor")


def float32(values):
    """What TensorBoard stores for a value: a float32."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


# ---------------------------------------------------------------------------
# TensorBoard: tensor summaries and plain scalars.


def test_tensor_summaries_of_tensorboards_own_writer_are_read(tmp_path):
    rng = np.random.default_rng(0)
    steps = {"seed_0": [0, 10, 20, 30], "seed_1": [0, 10]}
    written = {}
    for run, run_steps in steps.items():
        written[run] = rng.normal(size=(len(run_steps), 2))
        writer = TensorBoardWriter(str(tmp_path / run))
        for step, (forward, ctrl) in zip(run_steps, written[run], strict=True):
            when = 1.7e9 + step + 0.25
            writer.add_scalar("rewards/forward", forward, step=step, wall_time=when)
            writer.add_scalar("rewards/ctrl", ctrl, step=step, wall_time=when + 0.5)
        writer.close()

    log = io.read_tensorboard(tmp_path)

    assert log.names == ("ctrl", "forward")
    assert list(log.episode_info["run"]) == ["seed_0", "seed_1"]
    np.testing.assert_array_equal(log.lengths, [4, 2])
    for e, run in enumerate(steps):
        n = len(steps[run])
        np.testing.assert_array_equal(log.components[e, :n], float32(written[run][:, ::-1]))
        np.testing.assert_array_equal(log.steps[e, :n], steps[run])
        # the later of the two tags' wall times at each step
        np.testing.assert_array_equal(log.wall_times[e, :n], 1.7e9 + np.array(steps[run]) + 0.75)
    assert log.steps.dtype == np.int64 and log.wall_times.dtype == np.float64
    np.testing.assert_array_equal(log.steps[1, 2:], 0)  # masked entries


def test_plain_and_tensor_scalars_mix_and_runs_without_the_tags_are_skipped(tmp_path):
    """torch's add_scalar (plain and new_style tensors) next to TensorBoard's writer; an
    evaluation run with other tags and a run that logged nothing are skipped."""
    plain = torch_tensorboard.SummaryWriter(str(tmp_path / "a_plain"))
    tensor = torch_tensorboard.SummaryWriter(str(tmp_path / "b_tensor"))
    native = TensorBoardWriter(str(tmp_path / "c_native"))
    evaluation = torch_tensorboard.SummaryWriter(str(tmp_path / "eval"))
    values = np.arange(1.0, 4.0) / 8  # exact in float32
    for step, value in enumerate(values):
        plain.add_scalar("Episode_Reward/track", value, step)
        tensor.add_scalar("Episode_Reward/track", 2 * value, step, new_style=True)
        native.add_scalar("Episode_Reward/track", 3 * value, step=step)
        evaluation.add_scalar("eval/return", 10.0, step)
    for writer in (plain, tensor, native, evaluation):
        writer.close()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # other data in other runs is no surprise
        log = io.read_tensorboard(tmp_path)

    assert log.names == ("track",)
    assert list(log.episode_info["run"]) == ["a_plain", "b_tensor", "c_native"]
    np.testing.assert_array_equal(log.components[..., 0], np.outer([1, 2, 3], values))

    torch_tensorboard.SummaryWriter(str(tmp_path / "crashed")).close()  # an empty run
    with pytest.warns(UserWarning, match=r"skipped 1 run.*no scalar at all.*\['crashed'\]"):
        again = io.read_tensorboard(tmp_path)
    np.testing.assert_array_equal(again.components, log.components)


def test_no_run_with_the_tags_lists_the_tags_of_every_run(tmp_path):
    writer = TensorBoardWriter(str(tmp_path / "seed_0"))
    writer.add_scalar("train/reward", 1.0, step=0)
    writer.close()
    writer = torch_tensorboard.SummaryWriter(str(tmp_path / "seed_1"))
    writer.add_scalar("losses/value", 1.0, 0)
    writer.close()
    with pytest.raises(
        ValueError,
        match=r"no scalar tag starting with.*'seed_0': \['train/reward'\]; "
        r"'seed_1': \['losses/value'\]",
    ):
        io.read_tensorboard(tmp_path)
    with pytest.raises(ValueError, match=r"no scalar tag\(s\) \['rewards/x'\].*'train/reward'"):
        io.read_tensorboard(tmp_path, tags=["rewards/x"])


def test_a_run_with_only_some_of_the_tags_is_an_error(tmp_path):
    for run, tags in {"full": ["rewards/a", "rewards/b"], "partial": ["rewards/a"]}.items():
        writer = torch_tensorboard.SummaryWriter(str(tmp_path / run))
        for tag in tags:
            writer.add_scalar(tag, 1.0, 0)
        writer.close()
    with pytest.raises(
        ValueError, match=r"run 'partial' has the tags \['rewards/a'\] but not \['rewards/b'\]"
    ):
        io.read_tensorboard(tmp_path)
    log = io.read_tensorboard(tmp_path, tags=["rewards/a"])
    assert list(log.episode_info["run"]) == ["full", "partial"]


# ---------------------------------------------------------------------------
# TensorBoard: torch's add_scalars.


def test_add_scalars_sub_runs_are_components_of_their_run(tmp_path):
    rng = np.random.default_rng(1)
    written = {}
    for seed in range(2):
        writer = torch_tensorboard.SummaryWriter(str(tmp_path / f"seed_{seed}"))
        written[seed] = rng.normal(size=(5, 3))
        for step, (forward, ctrl_cost, alive) in enumerate(written[seed]):
            writer.add_scalars(
                "rewards", {"forward": forward, "ctrl_cost": ctrl_cost, "alive": alive}, step
            )
            writer.add_scalar("losses/policy", 0.5, step)
        writer.close()
    assert (tmp_path / "seed_0" / "rewards_ctrl_cost").is_dir()  # the layout under test

    log = io.read_tensorboard(tmp_path)

    assert log.names == ("alive", "ctrl_cost", "forward")  # the keys, sorted
    assert list(log.episode_info["run"]) == ["seed_0", "seed_1"]
    for seed in range(2):
        np.testing.assert_array_equal(log.components[seed], float32(written[seed][:, [2, 1, 0]]))
        np.testing.assert_array_equal(log.steps[seed], np.arange(5))


def test_add_scalars_with_a_nested_main_tag_and_its_errors(tmp_path):
    writer = torch_tensorboard.SummaryWriter(str(tmp_path))
    for step in range(3):
        writer.add_scalars("train/terms", {"run": step + 0.5, "cost": -0.25}, 100 * step)
    writer.close()

    log = io.read_tensorboard(tmp_path, prefixes=["train/terms/"])

    assert log.names == ("cost", "run")
    assert list(log.episode_info["run"]) == ["."]  # the parent run, not one per key
    np.testing.assert_array_equal(log.components[0], [[-0.25, 0.5], [-0.25, 1.5], [-0.25, 2.5]])
    np.testing.assert_array_equal(log.steps[0], [0, 100, 200])

    clash = torch_tensorboard.SummaryWriter(str(tmp_path / "clash"))
    clash.add_scalar("rewards/forward", 1.0, 0)
    clash.add_scalars("rewards", {"forward": 1.0}, 0)
    clash.close()
    with pytest.raises(ValueError, match=r"'rewards/forward' twice.*add_scalars\('rewards'"):
        io.read_tensorboard(tmp_path / "clash")


# ---------------------------------------------------------------------------
# TensorBoard: repeated steps (CleanRL) and restarts.


def cleanrl_loop(logdir, seed=2, first_step=0, iterations=6):
    """A CleanRL-style loop: at each global step, every sub-environment that finished an
    episode logs its return and length at that same step. Returns what was written."""
    rng = np.random.default_rng(seed)
    writer = torch_tensorboard.SummaryWriter(str(logdir))
    logged = []  # (global step, return, length)
    for iteration in range(iterations):
        global_step = first_step + 512 * iteration
        for _ in range(rng.integers(1, 4)):  # 1 to 3 episodes end together
            episodic_return = float(np.float32(rng.normal(100, 10)))
            length = int(rng.integers(10, 500))
            writer.add_scalar("charts/episodic_return", episodic_return, global_step)
            writer.add_scalar("charts/episodic_length", length, global_step)
            logged.append((global_step, episodic_return, length))
    writer.close()
    return logged


def test_cleanrl_repeated_steps_load_and_keep_every_episode_by_default(tmp_path):
    logged = cleanrl_loop(tmp_path)
    steps = np.array([step for step, _, _ in logged])
    assert len(np.unique(steps)) < len(steps)  # the loop did repeat steps

    log = io.read_tensorboard(tmp_path, tags=["charts/episodic_return", "charts/episodic_length"])

    assert log.names == ("charts/episodic_return", "charts/episodic_length")
    np.testing.assert_array_equal(log.steps[0], steps)
    np.testing.assert_array_equal(log.components[0, :, 0], [r for _, r, _ in logged])
    np.testing.assert_array_equal(log.components[0, :, 1], [n for _, _, n in logged])

    by_step = {}
    for step, episodic_return, _ in logged:
        by_step.setdefault(step, []).append(episodic_return)
    unique = sorted(by_step)
    mean = io.read_tensorboard(tmp_path, tags=["charts/episodic_return"], duplicates="mean")
    last = io.read_tensorboard(tmp_path, tags=["charts/episodic_return"], duplicates="last")
    np.testing.assert_array_equal(mean.steps[0], unique)
    np.testing.assert_allclose(
        mean.components[0, :, 0], [np.mean(by_step[s]) for s in unique], rtol=1e-6
    )
    np.testing.assert_array_equal(last.components[0, :, 0], [by_step[s][-1] for s in unique])
    with pytest.raises(ValueError, match=r"'charts/episodic_return'.* values at step \d+.*'keep'"):
        io.read_tensorboard(tmp_path, tags=["charts/episodic_return"], duplicates="error")
    with pytest.raises(ValueError, match=r"duplicates must be one of"):
        io.read_tensorboard(tmp_path, tags=["charts/episodic_return"], duplicates="first")


def test_steps_beyond_int32_and_old_wall_times_keep_every_digit(tmp_path):
    writer = torch_tensorboard.SummaryWriter(str(tmp_path))
    big = [3_000_000_007, 3_000_000_011]
    for step in big:
        writer.add_scalar("rewards/x", 1.0, step, walltime=1_700_000_000.123456)
    writer.close()
    log = io.read_tensorboard(tmp_path)
    np.testing.assert_array_equal(log.steps[0], big)
    np.testing.assert_allclose(log.wall_times[0], 1_700_000_000.123456, rtol=0, atol=1e-6)


def test_a_restart_into_the_same_directory_is_refused_or_replaced(tmp_path):
    first = torch_tensorboard.SummaryWriter(str(tmp_path))
    for step in range(10):  # steps 0 .. 900, at times 1.7e9 + step
        first.add_scalar("rewards/x", step, 100 * step, walltime=1.7e9 + step)
    first.close()
    second = torch_tensorboard.SummaryWriter(str(tmp_path))  # resumed from step 500
    for step in range(5, 15):  # steps 500 .. 1400, each an hour later than before
        second.add_scalar("rewards/x", 1000 + step, 100 * step, walltime=1.7e9 + 3600 + step)
    second.close()

    with pytest.raises(
        ValueError, match=r"'rewards/x'.*goes back from step 900 to step 500.*on_restart='last'"
    ):
        io.read_tensorboard(tmp_path)
    log = io.read_tensorboard(tmp_path, on_restart="last")

    np.testing.assert_array_equal(log.steps[0], 100 * np.arange(15))
    np.testing.assert_array_equal(log.components[0, :, 0], [*range(5), *range(1005, 1015)])
    np.testing.assert_array_equal(
        log.wall_times[0], 1.7e9 + np.r_[np.arange(5), 3600 + np.arange(5, 15)]
    )


def test_a_restart_at_the_last_step_with_repeated_steps(tmp_path):
    """The second writer starts at the step the first ended on: no step goes back, but
    the new file marks the restart, so its values replace the first writer's at that step."""
    first = torch_tensorboard.SummaryWriter(str(tmp_path))
    for step, value in [(0, 1.0), (100, 2.0), (100, 3.0), (200, 4.0), (200, 5.0)]:
        first.add_scalar("charts/episodic_return", value, step)
    first.close()
    second = torch_tensorboard.SummaryWriter(str(tmp_path))
    for step, value in [(200, 6.0), (300, 7.0), (300, 8.0)]:
        second.add_scalar("charts/episodic_return", value, step)
    second.close()

    tags = ["charts/episodic_return"]
    with pytest.raises(
        ValueError, match=r"starts again at step 200, which it had reached, in the event file"
    ):
        io.read_tensorboard(tmp_path, tags=tags)
    log = io.read_tensorboard(tmp_path, tags=tags, on_restart="last")
    np.testing.assert_array_equal(log.steps[0], [0, 100, 100, 200, 300, 300])
    np.testing.assert_array_equal(log.components[0, :, 0], [1, 2, 3, 6, 7, 8])


# ---------------------------------------------------------------------------
# Stable-Baselines3 Monitor files.


class RewardTerms(gymnasium.Wrapper):
    """CartPole with its reward split into terms, whose episode sums go into ``info``
    (Monitor writes ``info[key]`` as it is at an episode's last step)."""

    def __init__(self, env, bonus=0.0):
        super().__init__(env)
        self.bonus = bonus

    def reset(self, **kwargs):
        self.sums = {"reward_alive": 0.0, "reward_centre": 0.0}
        return self.env.reset(**kwargs)

    def step(self, action):
        observation, _, terminated, truncated, info = self.env.step(action)
        terms = {"reward_alive": 1.0, "reward_centre": -0.1 * abs(float(observation[0]))}
        for key, value in terms.items():
            self.sums[key] += value
        info = {**info, **self.sums, "is_success": bool(truncated)}
        return observation, sum(terms.values()) + self.bonus, terminated, truncated, info


def run_monitored(filename, *, seed, episodes, bonus=0.0):
    """Episodes of a Monitor-wrapped env, and what the test saw of each: return, length
    and the summed terms."""
    env = sb3_monitor.Monitor(
        RewardTerms(gymnasium.make("CartPole-v1", max_episode_steps=30), bonus),
        str(filename),
        info_keywords=("reward_alive", "reward_centre", "is_success"),
    )
    env.action_space.seed(seed)
    seen = []
    env.reset(seed=seed)
    for _ in range(episodes):
        rewards = []
        while True:
            _, reward, terminated, truncated, info = env.step(env.action_space.sample())
            rewards.append(reward)
            if terminated or truncated:
                break
        seen.append((sum(rewards), len(rewards), info["reward_alive"], info["reward_centre"]))
        env.reset()
    env.close()
    return seen


def test_sb3_monitor_directory_one_episode_per_row(tmp_path):
    seen = {name: run_monitored(tmp_path / name, seed=s, episodes=3 + s) for s, name in
            enumerate(["0", "1", "10", "2"])}  # fmt: skip

    log = io.read_sb3_monitor(tmp_path)

    order = ["0", "1", "2", "10"]  # numbers in names compare as numbers
    rows = [episode for name in order for episode in seen[name]]
    assert log.names == ("reward_alive", "reward_centre")  # is_success is no component
    assert log.components.shape == (len(rows), 1, 2)
    np.testing.assert_allclose(
        log.components[:, 0], [(alive, centre) for _, _, alive, centre in rows], rtol=1e-6
    )
    np.testing.assert_allclose(log.total[:, 0], [r for r, _, _, _ in rows], rtol=1e-5)
    assert list(log.episode_info["file"]) == [
        f"{name}.monitor.csv" for name in order for _ in seen[name]
    ]
    assert list(log.episode_info["row"]) == [
        row for name in order for row in range(len(seen[name]))
    ]
    np.testing.assert_array_equal(log.episode_info["length"], [n for _, n, _, _ in rows])
    np.testing.assert_array_equal(log.episode_info["is_success"], [n == 30 for _, n, _, _ in rows])
    assert set(log.episode_info["env_id"]) == {"CartPole-v1"}
    cumulative = [np.cumsum([n for _, n, _, _ in seen[name]]) for name in order]
    np.testing.assert_array_equal(log.steps[:, 0], np.concatenate(cumulative))
    shares, _ = decompose.return_shares(log)
    terms = np.array([(alive, centre) for _, _, alive, centre in rows])
    np.testing.assert_allclose(shares, terms / terms.sum(axis=1, keepdims=True), rtol=1e-5)


def test_is_sb3_monitor_tells_monitor_files_from_other_logs(tmp_path):
    monitors = tmp_path / "monitors"
    monitors.mkdir()
    run_monitored(monitors / "0", seed=0, episodes=1)
    assert io.is_sb3_monitor(monitors) and io.is_sb3_monitor(monitors / "0.monitor.csv")
    table = tmp_path / "long.csv"
    table.write_text("episode,step,component,value\n0,0,forward,1.0\n")
    events = tmp_path / "events"
    writer = TensorBoardWriter(str(events))
    writer.add_scalar("rewards/forward", 1.0, step=0)
    writer.close()
    assert not io.is_sb3_monitor(table)
    assert not io.is_sb3_monitor(events)
    assert not io.is_sb3_monitor(tmp_path / "missing.csv")
    # Event files beside Monitor files: the directory is a TensorBoard log.
    run_monitored(events / "0", seed=0, episodes=1)
    assert not io.is_sb3_monitor(events)


def test_sb3_monitor_file_keeps_a_bonus_the_terms_miss_and_its_times(tmp_path):
    seen = run_monitored(tmp_path / "run", seed=5, episodes=4, bonus=0.5)

    log = io.read_sb3_monitor(tmp_path / "run.monitor.csv")

    assert log.names == ("reward_alive", "reward_centre", "unexplained")
    np.testing.assert_allclose(log.components[:, 0, 2], [0.5 * n for _, n, _, _ in seen], rtol=1e-5)
    np.testing.assert_allclose(log.total[:, 0], [r for r, *_ in seen], rtol=1e-5)
    with open(tmp_path / "run.monitor.csv", newline="") as handle:
        t_start = json.loads(handle.readline()[1:])["t_start"]
        ends = [float(row["t"]) for row in csv.DictReader(handle)]
    np.testing.assert_array_equal(log.wall_times[:, 0], t_start + np.array(ends))
    np.testing.assert_array_equal(log.episode_info["time"], ends)

    only = io.read_sb3_monitor(tmp_path / "run.monitor.csv", components=["reward_alive"])
    assert only.names == ("reward_alive", "unexplained")
    np.testing.assert_allclose(only.episode_info["reward_centre"], [c for *_, c in seen])


def test_sb3_monitor_errors_say_what_is_wrong_and_where(tmp_path):
    run_monitored(tmp_path / "0", seed=0, episodes=2)
    (tmp_path / "1.monitor.csv").write_text('#{"t_start": 1.0, "env_id": "x"}\nr,l,t\n1.0,3,0.5\n')
    with pytest.raises(ValueError, match=r"1.monitor.csv has the columns \['r', 'l', 't'\]"):
        io.read_sb3_monitor(tmp_path)

    cut = tmp_path / "cut.monitor.csv"
    cut.write_text('#{"t_start": 1.0, "env_id": "x"}\nr,l,t,reward_a\n1.0,3,0.5,1.0\n2.0,4,0.9\n')
    with pytest.raises(ValueError, match=r"cut.monitor.csv, episode row 1: column 'reward_a'"):
        io.read_sb3_monitor(cut)
    with pytest.raises(ValueError, match=r"components names column\(s\) \['reward_b'\]"):
        io.read_sb3_monitor(cut, components=["reward_b"])

    long = tmp_path / "long.csv"
    long.write_text("episode,step,component,value\n0,0,a,1.0\n")
    with pytest.raises(ValueError, match=r"does not start with the header.*rv\.io\.read_csv"):
        io.read_sb3_monitor(long)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no Stable-Baselines3 Monitor files"):
        io.read_sb3_monitor(tmp_path / "empty")


# ---------------------------------------------------------------------------
# Every reader points to the one that fits.


def test_read_csv_points_to_the_reader_that_fits(tmp_path):
    run_monitored(tmp_path / "monitor", seed=0, episodes=1)
    with pytest.raises(ValueError, match=r"Stable-Baselines3 Monitor file.*read_sb3_monitor"):
        io.read_csv(tmp_path / "monitor.monitor.csv")

    writer = torch_tensorboard.SummaryWriter(str(tmp_path / "runs"))
    writer.add_scalar("rewards/x", 1.0, 0)
    writer.close()
    with pytest.raises(ValueError, match=r"is a directory.*read_tensorboard"):
        io.read_csv(tmp_path / "runs")

    wide = pd.DataFrame({"episode": [0, 0], "step": [0, 1], "forward": [1.0, 2.0]})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(ValueError, match=r"wide table.*melt\(id_vars=\['episode', 'step'\]"):
        io.read_csv(tmp_path / "wide.csv")
    exported = pd.DataFrame({"Wall time": [1.0], "Step": [0], "Value": [1.5]})
    exported.to_csv(tmp_path / "exported.csv", index=False)
    with pytest.raises(ValueError, match=r"exported from TensorBoard.*read_tensorboard"):
        io.read_csv(tmp_path / "exported.csv")


def test_parquet_and_tensorboard_readers_point_to_the_reader_that_fits(tmp_path):
    wide = pd.DataFrame({"run": [0, 0], "step": [0, 1], "forward": [1.0, 2.0]})
    wide.to_parquet(tmp_path / "wide.parquet")
    for reader in (io.read_parquet, io.read_parquet_returns):
        with pytest.raises(ValueError, match=r"'value'.*wide table.*id_vars=\['run', 'step'\]"):
            reader(tmp_path / "wide.parquet", episode="run")
    run_monitored(tmp_path / "0", seed=0, episodes=1)
    with pytest.raises(ValueError, match=r"not a readable Parquet file.*read_sb3_monitor"):
        io.read_parquet(tmp_path / "0.monitor.csv")
    with pytest.raises(ValueError, match=r"no TensorBoard event files.*read_sb3_monitor"):
        io.read_tensorboard(tmp_path)
    with pytest.raises(ValueError, match=r"is a file.*Parquet file: read it with"):
        io.read_tensorboard(tmp_path / "wide.parquet")


# ---------------------------------------------------------------------------
# RewardLog's steps and wall times.


def test_steps_and_wall_times_travel_with_the_log():
    mask = np.array([[True, True, False], [True, False, False]])
    steps = np.array([[5, 9, -1], [2**40, -1, -1]])
    wall_times = np.array([[1.7e9 + 0.25, 1.7e9 + 0.5, np.nan], [1.7e9 + 0.75, np.nan, np.nan]])
    log = rv.RewardLog.from_arrays(np.ones((2, 3, 1)), mask, steps=steps, wall_times=wall_times)
    np.testing.assert_array_equal(log.steps, np.where(mask, steps, 0))
    np.testing.assert_array_equal(log.wall_times, np.where(mask, wall_times, 0.0))
    steps[0, 0] = 77  # the log keeps its own copy
    assert log.steps[0, 0] == 5 and not log.steps.flags.writeable

    reweighted = log.with_weights([2.0])
    through_jit = jax.jit(lambda log: log)(log)
    leaves, treedef = jax.tree_util.tree_flatten(log)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    for copy in (reweighted, through_jit, rebuilt):
        np.testing.assert_array_equal(copy.steps, log.steps)
        np.testing.assert_array_equal(copy.wall_times, log.wall_times)
        assert copy.steps.dtype == np.int64 and copy.wall_times.dtype == np.float64
    assert len(leaves) == 3  # metadata, not leaves: nothing goes through float32
    assert reweighted.steps is log.steps  # shared, not copied for every new weight

    without = rv.RewardLog.from_arrays(np.ones((2, 3, 1)), mask)
    assert without.steps is None and without.wall_times is None
    with pytest.raises(ValueError, match=r"steps must be integers of shape"):
        rv.RewardLog.from_arrays(np.ones((2, 3, 1)), mask, steps=steps.astype(float))
    with pytest.raises(ValueError, match=r"wall_times .* episode 0, step 1"):
        bad = wall_times.copy()
        bad[0, 1] = np.inf
        rv.RewardLog.from_arrays(np.ones((2, 3, 1)), mask, wall_times=bad)


def test_equal_time_axes_share_compiled_kernels():
    values = np.random.default_rng(4).normal(size=(2, 4, 3))
    steps = np.arange(8).reshape(2, 4)
    log = rv.RewardLog.from_arrays(values, steps=steps)
    decompose.component_returns(log)
    before = decompose._component_returns._cache_size()
    decompose.component_returns(rv.RewardLog.from_arrays(values * 2, steps=steps.copy()))
    decompose.component_returns(log.with_weights([1.0, 0.0, 2.0]), 0.9)
    assert decompose._component_returns._cache_size() == before


def test_write_npz_keeps_the_time_axis(tmp_path):
    log = rv.RewardLog.from_arrays(
        np.ones((1, 2, 1)), steps=[[10, 20]], wall_times=[[1.7e9, 1.7e9 + 1]]
    )
    io.write_npz(log, tmp_path / "log.npz")
    with np.load(tmp_path / "log.npz", allow_pickle=False) as stored:
        np.testing.assert_array_equal(stored["steps"], [[10, 20]])
        np.testing.assert_array_equal(stored["wall_times"], [[1.7e9, 1.7e9 + 1]])
