"""Wrong types, sizes and files are refused with an error that names the argument (issue 19).

A small fuzz harness: each public entry point is called with one bad value in one
argument (a string, ``None``, a list of strings, an ``object()``, an empty array, an
array of the wrong rank) and must raise ``TypeError`` or ``ValueError`` whose message
names that argument, never an ``AttributeError``, ``IndexError`` or numpy's "truth value
of an array is ambiguous" from deep inside. Unreadable files name the file.
"""

import zipfile

import numpy as np
import pytest

import rewardviz as rv
from rewardviz import decompose, distances, envs, groups, io, landscape, learning, solve

MDP, REWARD = envs.chain(4, gamma=0.9)
POLICY = rv.policies.uniform(MDP)
LOG = rv.RewardLog.from_arrays(np.arange(12.0).reshape(2, 3, 2), names=["a", "b"])
GROUP = groups.example_groups()

#: One bad value of each kind, by name.
BAD = {
    "str": "abc",
    "None": None,
    "strings": ["a", "b"],
    "object": object(),
    "empty": np.zeros((0,)),
    "rank5": np.zeros((2, 2, 2, 2, 2)),
}


def _surface(x, y):
    return x**2 + y


def _reward_fn(state):
    return _surface(state["x"], state["y"])


#: (entry point, the argument given a bad value, a call taking that value).
CASES = [
    # Numbers where a string, None or an array was given.
    ("envs.chain", "gamma", lambda v: envs.chain(4, gamma=v)),
    ("envs.chain", "slip", lambda v: envs.chain(4, slip=v)),
    ("envs.gridworld", "gamma", lambda v: envs.gridworld(["S.G"], gamma=v)),
    ("envs.stay_switch", "gamma", lambda v: envs.stay_switch(gamma=v)),
    ("envs.random_mdp", "concentration", lambda v: envs.random_mdp(3, 2, concentration=v)),
    ("TabularMDP", "gamma", lambda v: rv.TabularMDP(MDP.transitions, gamma=v)),
    ("solve.soft_q_values", "temperature", lambda v: solve.soft_q_values(MDP, REWARD, v)),
    ("solve.boltzmann_policy", "temperature", lambda v: solve.boltzmann_policy(np.zeros((4, 2)), v)),
    ("solve.value_iteration", "max_iterations", lambda v: solve.value_iteration(MDP, REWARD, max_iterations=v)),
    ("distances.erc", "episodes", lambda v: distances.erc(MDP, REWARD, REWARD, episodes=v)),
    ("distances.erc", "horizon", lambda v: distances.erc(MDP, REWARD, REWARD, horizon=v)),
    ("distances.pairwise", "chunk_size", lambda v: distances.pairwise(MDP, REWARD[None], chunk_size=v)),
    ("shaping.progress_bonus", "bonus", lambda v: rv.shaping.progress_bonus(MDP, REWARD, np.zeros(4), v)),
    ("decompose.component_returns", "gamma", lambda v: decompose.component_returns(LOG, v)),
    ("decompose.reweight", "gamma", lambda v: decompose.reweight(LOG, [1.0, 1.0], v)),
    ("decompose.dead_components", "tol", lambda v: decompose.dead_components(LOG, tol=v)),
    ("groups.advantages", "eps", lambda v: groups.advantages(GROUP, eps=v)),
    ("groups.clip_process_rewards", "threshold", lambda v: groups.clip_process_rewards(np.ones((2, 3)), threshold=v)),
    ("groups.gated_accumulation", "threshold", lambda v: groups.gated_accumulation(np.ones(3), np.ones(3), threshold=v)),
    ("groups.gated_length_penalty", "alpha", lambda v: groups.gated_length_penalty(np.ones((2, 3)), np.ones((2, 3)), alpha=v)),
    ("GroupRewards.with_reward", "weight", lambda v: GROUP.with_reward("new", np.ones(GROUP.mask.shape), v)),
    ("learning.train", "learning_rate", lambda v: learning.train(MDP, REWARD, 0, steps=50, learning_rate=v)),
    ("learning.train", "epsilon", lambda v: learning.train(MDP, REWARD, 0, steps=50, epsilon=v)),
    ("learning.compare_rewards", "threshold", lambda v: learning.compare_rewards(MDP, REWARD, {"r": REWARD}, n_seeds=2, steps=50, threshold=v)),
    ("learning.bootstrap_ci", "confidence", lambda v: learning.bootstrap_ci(np.ones(3), confidence=v)),
    ("learning.normalised_regret", "optimal_return", lambda v: learning.normalised_regret(np.ones(3), v, 0.0)),
    ("learning.normalised_regret", "worst_return", lambda v: learning.normalised_regret(np.ones(3), 1.0, v)),
    # Objects of the wrong type: an MDP, a log, groups.
    ("rewards.check_reward", "mdp", lambda v: rv.rewards.check_reward(v, REWARD)),
    ("rewards.state_reward", "mdp", lambda v: rv.rewards.state_reward(v, np.zeros(4))),
    ("policies.uniform", "mdp", lambda v: rv.policies.uniform(v)),
    ("policies.as_stochastic", "mdp", lambda v: rv.policies.as_stochastic(v, POLICY)),
    ("envs.random_reward", "mdp", lambda v: envs.random_reward(v)),
    ("envs.steps_to_goal", "mdp", lambda v: envs.steps_to_goal(v)),
    ("solve.value_iteration", "mdp", lambda v: solve.value_iteration(v, REWARD)),
    ("solve.policy_evaluation", "mdp", lambda v: solve.policy_evaluation(v, REWARD, POLICY)),
    ("solve.occupancy", "mdp", lambda v: solve.occupancy(v, POLICY)),
    ("distances.epic", "mdp", lambda v: distances.epic(v, REWARD, REWARD)),
    ("distances.regret", "mdp", lambda v: distances.regret(v, REWARD, REWARD)),
    ("distances.pairwise", "mdp", lambda v: distances.pairwise(v, REWARD[None])),
    ("distances.reachable_states", "mdp", lambda v: distances.reachable_states(v)),
    ("distances.dard_memory_estimate", "mdp", lambda v: distances.dard_memory_estimate(v, (2,))),
    ("shaping.shaping_reward", "mdp", lambda v: rv.shaping.shaping_reward(v, np.zeros(4))),
    ("shaping.fit_potential", "mdp", lambda v: rv.shaping.fit_potential(v, REWARD, REWARD)),
    ("shaping.transition_weights", "mdp", lambda v: rv.shaping.transition_weights(v)),
    ("decompose.component_returns", "log", lambda v: decompose.component_returns(v)),
    ("decompose.dominance", "log", lambda v: decompose.dominance(v)),
    ("decompose.correlations", "log", lambda v: decompose.correlations(v)),
    ("decompose.reweight", "log", lambda v: decompose.reweight(v, [1.0, 1.0])),
    ("io.write_npz", "log", lambda v: io.write_npz(v, "never-written.npz")),
    ("groups.write_npz", "group", lambda v: groups.write_npz(v, "never-written.npz")),
    ("RewardLog.from_dataframe", "frame", lambda v: rv.RewardLog.from_dataframe(v)),
    ("RewardLog.from_episodes", "episodes", lambda v: rv.RewardLog.from_episodes(v)),
    ("groups.transform_effects", "transforms", lambda v: groups.transform_effects(GROUP, v)),
    # Arrays of the wrong type or shape, sequences of names, option names.
    ("RewardLog.from_arrays", "weights", lambda v: rv.RewardLog.from_arrays(np.ones((2, 3, 2)), weights=v)),
    ("RewardLog.with_weights", "weights", lambda v: LOG.with_weights(v)),
    ("GroupRewards.with_weights", "weights", lambda v: GROUP.with_weights(v)),
    ("GroupRewards.from_arrays", "scores", lambda v: groups.GroupRewards.from_arrays(v)),
    ("groups.compare_advantages", "first", lambda v: groups.compare_advantages(v, np.zeros((2, 3)), np.ones((2, 3), bool))),
    ("groups.compare_advantages", "second", lambda v: groups.compare_advantages(np.zeros((2, 3)), v, np.ones((2, 3), bool))),
    ("groups.preference_as_reward", "reference", lambda v: groups.preference_as_reward(np.ones((2, 3)), v)),
    ("groups.gated_accumulation", "dense", lambda v: groups.gated_accumulation(np.ones((2, 3)), v, threshold=0.5)),
    ("learning.bootstrap_ci", "samples", lambda v: learning.bootstrap_ci(v)),
    ("learning.normalised_regret", "returns", lambda v: learning.normalised_regret(v, 1.0, 0.0)),
    ("envs.gridworld", "layout", lambda v: envs.gridworld(v)),
    ("envs.random_reward", "batch_shape", lambda v: envs.random_reward(MDP, batch_shape=v)),
    ("TabularMDP", "grid_shape", lambda v: rv.TabularMDP(MDP.transitions, gamma=0.9, grid_shape=v)),
    ("distances.dard_memory_estimate", "batch_shape", lambda v: distances.dard_memory_estimate(MDP, v)),
    ("distances.canonicalize", "method", lambda v: distances.canonicalize(MDP, REWARD, method=v)),
    ("distances.pairwise", "method", lambda v: distances.pairwise(MDP, REWARD[None], method=v)),
    ("distances.starc", "canonical", lambda v: distances.starc(MDP, REWARD, REWARD, canonical=v)),
    ("distances.starc", "norm", lambda v: distances.starc(MDP, REWARD, REWARD, norm=v)),
    ("decompose.correlations", "level", lambda v: decompose.correlations(LOG, level=v)),
    ("groups.advantages", "ddof", lambda v: groups.advantages(GROUP, ddof=v)),
    ("GroupRewards.reward", "name", lambda v: GROUP.reward(v)),
    ("GroupRewards.with_reward", "name", lambda v: GROUP.with_reward(v, np.ones(GROUP.mask.shape))),
    ("io.example_log", "name", lambda v: io.example_log(v)),
    ("groups.example_groups", "name", lambda v: groups.example_groups(v)),
    ("io.read_tensorboard", "logdir", lambda v: io.read_tensorboard(v)),
    ("landscape.evaluate", "x", lambda v: landscape.evaluate(_reward_fn, {"x": 0.0, "y": 0.0}, x=v, y="y", bounds={"x": (0, 1), "y": (0, 1)}, resolution=4)),
    ("landscape.distribution", "marginals", lambda v: landscape.distribution(_reward_fn, {"x": 0.0, "y": 0.0}, v)),
]  # fmt: skip

#: Bad values that are legitimate for an argument (None is a default), or that an
#: argument reads as it should (an empty batch shape is one reward).
ALLOWED = {
    ("RewardLog.from_arrays", "weights", "None"),
    ("RewardLog.with_weights", "weights", "None"),
    ("GroupRewards.with_weights", "weights", "None"),
    ("distances.pairwise", "chunk_size", "None"),
    ("distances.starc", "norm", "None"),  # refused: 1, 2 or inf only (checked below)
    ("envs.random_reward", "batch_shape", "empty"),
    ("distances.dard_memory_estimate", "batch_shape", "empty"),
    ("GroupRewards.with_reward", "weight", "None"),
    ("learning.normalised_regret", "returns", "empty"),
    ("learning.normalised_regret", "returns", "rank5"),  # returns of any shape
    ("learning.bootstrap_ci", "samples", "rank5"),  # [..., N]
    ("TabularMDP", "grid_shape", "None"),  # not a grid
    ("GroupRewards.with_reward", "name", "str"),  # adds a reward called 'abc'
}


@pytest.mark.parametrize("bad", list(BAD), ids=list(BAD))
@pytest.mark.parametrize(
    ("entry", "argument", "call"), CASES, ids=[f"{e}-{a}" for e, a, _ in CASES]
)
def test_a_bad_value_is_refused_naming_the_argument(
    entry, argument, call, bad, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the writers must refuse before they write anything
    try:
        call(BAD[bad])
    except (TypeError, ValueError, FileNotFoundError) as error:
        assert argument in str(error), f"{entry}({argument}={bad}): {error}"
    except Exception as error:  # an error from numpy, JAX or Python internals
        pytest.fail(f"{entry}({argument}={bad}) raised {type(error).__name__}: {error}")
    else:
        assert (entry, argument, bad) in ALLOWED, f"{entry}({argument}={bad}) was accepted"
    assert not list(tmp_path.iterdir())


def test_numbers_given_as_strings_are_not_converted():
    # float("0.5") would succeed: a string is refused rather than read as a number.
    with pytest.raises(TypeError, match=r"gamma must be a real number, got '0\.5' \(str\)"):
        envs.chain(4, gamma="0.5")
    with pytest.raises(TypeError, match=r"temperature must be a real number"):
        solve.boltzmann_policy(np.zeros((2, 2)), "1")


def test_a_wrong_mdp_says_how_to_build_one():
    with pytest.raises(TypeError, match=r"mdp must be a TabularMDP, got .*rv\.envs\.gridworld"):
        solve.q_values(REWARD, REWARD)


# ---------------------------------------------------------------------------
# Unreadable files name the file.


@pytest.fixture
def saved(tmp_path):
    log_path, group_path = tmp_path / "log.npz", tmp_path / "groups.npz"
    io.write_npz(LOG, log_path)
    groups.write_npz(GROUP, group_path)
    return {"io": (io.read_npz, log_path), "groups": (groups.read_npz, group_path)}


def _corrupt_first_member(path, out):
    # Flip bytes inside the compressed data of the first array: the zip directory stays
    # valid, so only decompression fails (zlib.error, neither OSError nor ValueError).
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        offset = archive.infolist()[0].header_offset
    name_length = int.from_bytes(data[offset + 26 : offset + 28], "little")
    extra_length = int.from_bytes(data[offset + 28 : offset + 30], "little")
    start = offset + 30 + name_length + extra_length
    for i in range(start + 2, start + 10):
        data[i] ^= 0xFF
    out.write_bytes(bytes(data))


@pytest.mark.parametrize("reader", ["io", "groups"])
@pytest.mark.parametrize("damage", ["truncated", "corrupt data", "text", "empty"])
def test_unreadable_npz_files_are_refused_naming_the_file(saved, tmp_path, reader, damage):
    read, path = saved[reader]
    bad = tmp_path / f"bad {damage}.npz"
    if damage == "truncated":
        bad.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif damage == "corrupt data":
        _corrupt_first_member(path, bad)
    elif damage == "text":
        bad.write_text("episode,step\n0,0\n")
    else:
        bad.write_bytes(b"")
    with pytest.raises(ValueError, match=rf"path '.*bad {damage}\.npz' is not a.* \.npz file"):
        read(bad)


def test_group_arrays_of_the_wrong_shape_name_the_file(tmp_path):
    path = tmp_path / "groups.npz"
    groups.write_npz(GROUP, path)
    arrays = dict(np.load(path))
    arrays["weights"] = arrays["weights"][:1]  # one weight for three rewards
    odd = tmp_path / "odd.npz"
    np.savez(odd, **arrays)
    with pytest.raises(ValueError, match=r"odd\.npz'?: weights must have one entry per reward"):
        groups.read_npz(odd)


def test_a_binary_file_given_as_csv_names_the_file(tmp_path):
    pytest.importorskip("pandas")
    path = tmp_path / "rewards.csv"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.bin", bytes(range(256)) * 64)  # a compressed file, renamed
    with pytest.raises(ValueError, match=r"rewards\.csv' is not a readable CSV text file"):
        io.read_csv(path)
