"""Input that used to give a silently wrong answer is now read as meant or refused by name.

A single TensorBoard prefix given as a string, non-integer or missing steps in a Parquet
log, non-integer sizes and non-finite rewards of the environment builders.
"""

import math

import jax
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_io import write_scalars  # TensorBoard's own writer, as the reader tests use it

import rewardviz as rv
from rewardviz import io

# ---------------------------------------------------------------------------
# TensorBoard: one prefix or tag as a plain string.


@pytest.fixture
def reward_run(tmp_path):
    write_scalars(
        tmp_path / "run",
        {
            "rewards/forward": [(0, 1.0), (1, 2.0)],
            "rewards/ctrl": [(0, -0.5), (1, -0.25)],
            "Episode_Reward/forward": [(0, 9.0), (1, 9.0)],
            "loss/value": [(0, 3.0), (1, 4.0)],
        },
    )
    return tmp_path


def test_a_single_prefix_string_is_one_prefix(reward_run):
    log = io.read_tensorboard(reward_run, prefixes="rewards/")
    assert log.names == ("ctrl", "forward")  # not 'ewards/ctrl', one prefix per character
    np.testing.assert_array_equal(log.components[0], [[-0.5, 1.0], [-0.25, 2.0]])
    as_list = io.read_tensorboard(reward_run, prefixes=["rewards/"])
    np.testing.assert_array_equal(log.components, as_list.components)


def test_a_single_tag_string_is_one_tag(reward_run):
    log = io.read_tensorboard(reward_run, tags="rewards/ctrl")
    assert log.names == ("ctrl",)
    np.testing.assert_array_equal(log.components[0, :, 0], [-0.5, -0.25])


def test_prefixes_that_are_not_strings_are_refused(reward_run):
    with pytest.raises(TypeError, match=r"prefixes must be a string or a sequence of strings"):
        io.read_tensorboard(reward_run, prefixes=["rewards/", 3])


# ---------------------------------------------------------------------------
# Parquet returns: steps must be whole numbers, present in every row.


def table(steps):
    return pd.DataFrame(
        {
            "episode": [0] * len(steps),
            "step": steps,
            "component": ["a"] * len(steps),
            "value": [1.0] * len(steps),
        }
    )


def test_fractional_steps_are_refused_naming_the_column_and_row(tmp_path):
    path = tmp_path / "log.parquet"
    table([0.0, 1.5, 3.0]).to_parquet(path)  # read as steps 0, 1, 3 before
    with pytest.raises(ValueError, match=r"column 'step' .* 1\.5 at row 1\b.*whole numbers"):
        io.read_parquet_returns(path, gamma=0.5)


def test_the_first_bad_row_counts_across_record_batches(tmp_path):
    path = tmp_path / "log.parquet"
    table([0.0, 1.0, 2.0, 3.0, 4.25]).to_parquet(path)
    with pytest.raises(ValueError, match=r"4\.25 at row 4\b"):
        io.read_parquet_returns(path, batch_size=2)


def test_nan_steps_are_refused_as_missing(tmp_path):
    # pyarrow keeps NaN as a value (not a null) when it is not converting from pandas;
    # it was cast to a huge negative integer and reported as "a negative step".
    path = tmp_path / "nan.parquet"
    pq.write_table(
        pa.table(
            {
                "episode": [0, 0, 0],
                "step": pa.array([0.0, 1.0, math.nan]),
                "component": ["a", "a", "a"],
                "value": [1.0, 1.0, 1.0],
            }
        ),
        path,
    )
    with pytest.raises(ValueError, match=r"column 'step' .* missing \(NaN\) .* row 2\b"):
        io.read_parquet_returns(path)


def test_null_steps_are_refused_naming_the_row(tmp_path):
    path = tmp_path / "null.parquet"
    table([0.0, math.nan, 2.0]).to_parquet(path)  # pandas writes NaN as a null
    with pytest.raises(ValueError, match=r"column 'step' .* missing values \(first at row 1\b"):
        io.read_parquet_returns(path)


def test_steps_of_another_type_are_refused_naming_the_type(tmp_path):
    path = tmp_path / "text.parquet"
    table(["0", "1"]).to_parquet(path)
    with pytest.raises(
        ValueError, match=r"column 'step' .*must hold non-negative integers.*string"
    ):
        io.read_parquet_returns(path)


def test_whole_float_steps_read_as_integer_steps(tmp_path):
    floats, integers = tmp_path / "float.parquet", tmp_path / "int.parquet"
    table([0.0, 1.0, 2.0]).to_parquet(floats)
    table([0, 1, 2]).to_parquet(integers)
    read = io.read_parquet_returns(floats, gamma=0.5)
    np.testing.assert_allclose(read.components, [[[1.75]]])
    np.testing.assert_array_equal(
        read.components, io.read_parquet_returns(integers, gamma=0.5).components
    )
    assert read.episode_info["length"] == [3]


# ---------------------------------------------------------------------------
# Environments: sizes are whole numbers, rewards are finite.


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: rv.envs.chain(2.7), "n_states"),
        (lambda: rv.envs.chain(True), "n_states"),
        (lambda: rv.envs.random_mdp(3.5, 2), "n_states"),
        (lambda: rv.envs.random_mdp(3, 2.2), "n_actions"),
        (lambda: rv.envs.random_mdp(3, 2, n_successors=1.5), "n_successors"),
        (
            lambda: rv.envs.random_reward(rv.envs.chain(3)[0], batch_shape=(2.5,)),
            r"batch_shape\[0\]",
        ),
    ],
)
def test_non_integer_sizes_are_refused_by_name(build, name):
    with pytest.raises(TypeError, match=rf"{name} .*must be a whole number"):
        build()


def test_whole_sizes_of_any_integer_type_are_accepted():
    assert rv.envs.chain(3.0)[0].n_states == 3
    assert rv.envs.chain(np.int64(4))[0].n_states == 4
    mdp, _ = rv.envs.random_mdp(np.int32(3), jax.numpy.asarray(2), n_successors=2.0)
    assert mdp.transitions.shape == (3, 2, 3)
    assert rv.envs.random_reward(mdp, batch_shape=(np.int64(2),)).shape == (2, 3, 2, 3)
    with pytest.raises(ValueError, match=r"batch_shape\[1\] .*must be at least 0, got -1"):
        rv.envs.random_reward(mdp, batch_shape=(2, -1))


@pytest.mark.parametrize("name", ["step_reward", "goal_reward", "lava_reward", "cliff_reward"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_gridworld_refuses_non_finite_rewards(name, bad):
    with pytest.raises(ValueError, match=rf"{name} must be a finite number, got {bad}"):
        rv.envs.gridworld(["S.L", "C.G"], **{name: bad})


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_chain_refuses_a_non_finite_goal_reward(bad):
    with pytest.raises(ValueError, match=rf"goal_reward must be a finite number, got {bad}"):
        rv.envs.chain(4, goal_reward=bad)


def test_rewards_must_be_numbers():
    with pytest.raises(TypeError, match="goal_reward must be a finite number, got 'one'"):
        rv.envs.chain(4, goal_reward="one")


def test_an_infinite_concentration_is_refused_by_name():
    # It gave NaN transition rows, refused by TabularMDP without naming the argument.
    with pytest.raises(ValueError, match="concentration must be positive and finite, got inf"):
        rv.envs.random_mdp(3, 2, concentration=math.inf)


def test_component_names_as_one_string_are_refused():
    components = np.ones((2, 3, 2))
    with pytest.raises(
        TypeError, match=r"names must be a sequence of 2 component names, got the string 'ab'"
    ):
        rv.RewardLog.from_arrays(components, names="ab")
    assert rv.RewardLog.from_arrays(components, names=["a", "b"]).names == ("a", "b")


# ---------------------------------------------------------------------------
# Tolerances and Q-values that used to change answers silently.


@pytest.mark.parametrize("bad", [-1e-4, float("nan"), float("inf")])
def test_tie_tolerance_must_be_finite_and_not_negative(bad):
    q = np.array([[1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="tie_tolerance must be a finite number >= 0"):
        rv.solve.greedy_policy(q, tie_tolerance=bad)
    # Before, -1e-4 gave a policy of NaN (no action tied with the best, not even itself).
    np.testing.assert_allclose(rv.solve.greedy_policy(q, tie_tolerance=0.0), [[0.5, 0.5, 0]])


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_value_iteration_tol_must_be_finite_and_positive(bad):
    mdp, reward = rv.envs.chain(4, gamma=0.9)
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        rv.solve.value_iteration(mdp, reward, tol=bad)


def test_shaping_and_ordering_tolerances_are_checked():
    mdp, reward = rv.envs.chain(4, gamma=0.9)
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        rv.shaping.is_potential_shaping(mdp, reward, reward, tol=float("nan"))
    with pytest.raises(TypeError, match="tol must be a number"):
        rv.shaping.is_potential_shaping(mdp, reward, reward, tol="small")


@pytest.mark.parametrize("policy", ["greedy", "boltzmann"])
def test_nan_q_values_are_refused_with_their_location(policy):
    q = np.zeros((3, 2))
    q[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"q .*NaN.*\(1, 0\)"):
        if policy == "greedy":
            rv.solve.greedy_policy(q)
        else:
            rv.solve.boltzmann_policy(q, 0.5)


@pytest.mark.parametrize("weight", [float("nan"), float("inf")])
@pytest.mark.parametrize("name", ["accuracy", "new"])
def test_with_reward_refuses_a_non_finite_weight(name, weight):
    group = rv.groups.example_groups()
    values = np.ones(group.mask.shape)
    with pytest.raises(ValueError, match=f"weight for '{name}' must be a finite number"):
        group.with_reward(name, values, weight=weight)
    changed = group.with_reward(name, values, weight=2.0)
    assert changed.weights[changed.names.index(name)] == 2.0
