"""Reward decomposition (:mod:`rewardviz.decompose`) against slow loop oracles written here.

Every kernel is recomputed with explicit Python loops over episodes, steps and
components on float64 numbers, on random ragged logs drawn by hypothesis: episodes of
length 1 included, and masked steps holding garbage (NaN, infinities, huge values)
that must be ignored. Values and weights lie on a grid of quarters and discounts are
1, 0.5 or 0, so sums are exact and ties, zero returns and constant components are
decided identically by the kernels and the oracles.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import rewardviz as rv
from rewardviz import decompose

# ---------------------------------------------------------------------------
# Random ragged logs.

QUARTERS = st.integers(-40, 40).map(lambda i: i / 4)
GARBAGE = st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -7.0, 0.0])
EXACT_GAMMAS = st.sampled_from([1.0, 0.5, 0.0])


@dataclasses.dataclass(frozen=True)
class Drawn:
    """A drawn log and the plain arrays it was built from (garbage at masked steps)."""

    log: rv.RewardLog
    values: np.ndarray  # [E, T, K] with garbage where masked
    lengths: list[int]
    weights: list[float]


@st.composite
def ragged_values(draw, max_episodes=5, max_steps=6, max_components=4, min_episodes=1):
    n_episodes = draw(st.integers(min_episodes, max_episodes))
    n_steps = draw(st.integers(1, max_steps))
    n_components = draw(st.integers(1, max_components))
    lengths = draw(st.lists(st.integers(1, n_steps), min_size=n_episodes, max_size=n_episodes))
    shape = (n_episodes, n_steps, n_components)
    valid = draw(arrays(np.float64, shape, elements=QUARTERS))
    garbage = draw(arrays(np.float64, shape, elements=GARBAGE))
    mask = np.arange(n_steps)[None, :] < np.asarray(lengths)[:, None]
    return np.where(mask[..., None], valid, garbage), mask, lengths


@st.composite
def ragged_logs(draw, **sizes):
    values, mask, lengths = draw(ragged_values(**sizes))
    n_components = values.shape[-1]
    weights = draw(st.lists(QUARTERS, min_size=n_components, max_size=n_components))
    log = rv.RewardLog.from_arrays(values, mask, weights=weights)
    return Drawn(log, values, lengths, weights)


# ---------------------------------------------------------------------------
# Loop oracles: nothing from rewardviz, explicit loops over episodes, steps, components.


def loop_returns(drawn, gamma):
    n_episodes, _, n_components = drawn.values.shape
    out = np.zeros((n_episodes, n_components))
    for e in range(n_episodes):
        for k in range(n_components):
            total = 0.0
            for t in range(drawn.lengths[e]):
                total += gamma**t * drawn.weights[k] * drawn.values[e, t, k]
            out[e, k] = total
    return out


def loop_returns_to_go(drawn, gamma):
    out = np.zeros(drawn.values.shape)
    n_episodes, _, n_components = drawn.values.shape
    for e in range(n_episodes):
        for k in range(n_components):
            following = 0.0
            for t in reversed(range(drawn.lengths[e])):
                following = drawn.weights[k] * drawn.values[e, t, k] + gamma * following
                out[e, t, k] = following
    return out


def loop_dominance(drawn):
    n_episodes, n_steps, n_components = drawn.values.shape
    out = np.full((n_episodes, n_steps), -1)
    for e in range(n_episodes):
        for t in range(drawn.lengths[e]):
            best = 0
            for k in range(1, n_components):
                size = abs(drawn.weights[k] * drawn.values[e, t, k])
                if size > abs(drawn.weights[best] * drawn.values[e, t, best]):
                    best = k
            out[e, t] = best
    return out


def loop_correlation(rows):
    """Pearson correlation of the columns of a list of rows; constant columns give 0."""
    n, n_columns = len(rows), len(rows[0])
    means = [sum(row[k] for row in rows) / n for k in range(n_columns)]
    constant = [all(row[k] == rows[0][k] for row in rows) for k in range(n_columns)]
    out = np.eye(n_columns)
    for i in range(n_columns):
        for j in range(n_columns):
            if i == j or constant[i] or constant[j]:
                continue
            cov = sum((row[i] - means[i]) * (row[j] - means[j]) for row in rows) / n
            var_i = sum((row[i] - means[i]) ** 2 for row in rows) / n
            var_j = sum((row[j] - means[j]) ** 2 for row in rows) / n
            out[i, j] = cov / np.sqrt(var_i * var_j)
    return out


def valid_rows(drawn):
    rows = []
    for e, length in enumerate(drawn.lengths):
        for t in range(length):
            rows.append([w * drawn.values[e, t, k] for k, w in enumerate(drawn.weights)])
    return rows


def loop_ranks(values):
    """0 for the largest; among equal values the lower episode index ranks first."""
    ranks = []
    for e, value in enumerate(values):
        ranks.append(
            sum(1 for f, other in enumerate(values) if other > value or (other == value and f < e))
        )
    return np.array(ranks)


def close(actual, expected, atol=1e-10):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-10, atol=atol)


# ---------------------------------------------------------------------------
# Kernels against the oracles.


@given(ragged_logs(), st.sampled_from([1.0, 0.5, 0.9, 0.0]))
def test_component_returns_match_loops(drawn, gamma):
    returns = decompose.component_returns(drawn.log, gamma)
    close(returns, loop_returns(drawn, gamma))
    close(returns.sum(axis=1), loop_returns(drawn, gamma).sum(axis=1))


@given(ragged_logs(), st.sampled_from([1.0, 0.5, 0.9]))
def test_returns_to_go_match_loops(drawn, gamma):
    to_go = decompose.returns_to_go(drawn.log, gamma)
    close(to_go, loop_returns_to_go(drawn, gamma))
    close(to_go[:, 0], decompose.component_returns(drawn.log, gamma))


@given(ragged_logs(), EXACT_GAMMAS)
def test_return_shares_match_loops(drawn, gamma):
    signed, absolute = decompose.return_shares(drawn.log, gamma)
    returns = loop_returns(drawn, gamma)
    for e, row in enumerate(returns):
        total, size = sum(row), sum(abs(value) for value in row)
        close(signed[e], [value / total if total != 0 else 0.0 for value in row])
        close(absolute[e], [abs(value) / size if size > 0 else 0.0 for value in row])
        if total != 0:
            assert float(signed[e].sum()) == pytest.approx(1.0, abs=1e-9)
        if size > 0:
            assert float(absolute[e].sum()) == pytest.approx(1.0, abs=1e-12)


@given(ragged_logs())
def test_dominance_matches_loops(drawn):
    np.testing.assert_array_equal(decompose.dominance(drawn.log), loop_dominance(drawn))


def test_dominance_ties_pick_the_first_component_and_masked_steps_are_minus_one():
    values = np.array([[[1.0, -1.0, 1.0], [0.0, 2.0, -2.0], [0.0, 0.0, 0.0]]])
    log = rv.RewardLog.from_arrays(values, [[True, True, False]], weights=[2.0, 2.0, 2.0])
    np.testing.assert_array_equal(decompose.dominance(log), [[0, 1, -1]])


@given(ragged_logs(max_episodes=4, max_steps=5))
def test_step_correlations_match_loops(drawn):
    close(decompose.correlations(drawn.log, level="step"), loop_correlation(valid_rows(drawn)))


@given(ragged_logs(min_episodes=2), EXACT_GAMMAS)
def test_episode_correlations_match_loops(drawn, gamma):
    expected = loop_correlation(loop_returns(drawn, gamma).tolist())
    close(decompose.correlations(drawn.log, level="episode", gamma=gamma), expected)


def test_step_correlations_over_several_chunks_match_loops():
    """A log of more rows than one chunk of the kernel: every valid row counts once.

    The last chunk overlaps the one before it; masked steps (a hole in an episode, a
    ragged end) hold garbage; one component is constant, one has a mean a hundred times
    its spread.
    """
    rng = np.random.default_rng(5)
    n_episodes, n_steps = 2, 20_011
    assert decompose._CHUNK_ROWS < n_episodes * n_steps < 2 * decompose._CHUNK_ROWS
    values = np.stack(
        [
            1.0 + 0.01 * rng.normal(size=(n_episodes, n_steps)),
            np.full((n_episodes, n_steps), 0.3),
            5.0 * rng.normal(size=(n_episodes, n_steps)),
        ],
        axis=-1,
    )
    values[..., 2] += 40.0 * values[..., 0]  # correlated with the first
    mask = np.ones((n_episodes, n_steps), bool)
    mask[0, 7_000:7_500] = False
    mask[1, 15_000:] = False
    weights = [2.0, -1.0, -0.5]
    clean = rv.RewardLog.from_arrays(values, mask, weights=weights)
    log = dataclasses.replace(clean, components=jnp.where(mask[..., None], clean.components, 1e3))
    rows = [
        [w * values[e, t, k] for k, w in enumerate(weights)]
        for e in range(n_episodes)
        for t in range(n_steps)
        if mask[e, t]
    ]
    expected = loop_correlation(rows)
    close(decompose.correlations(log, level="step"), expected, atol=1e-9)
    # float32 (the package default), built directly: summing raw products instead of
    # centred ones would lose every digit of the first component's spread here.
    single = rv.RewardLog(
        log.components.astype(jnp.float32), log.mask, log.names, log.weights.astype(jnp.float32)
    )
    close(decompose.correlations(single, level="step"), expected, atol=1e-6)


def test_constant_components_have_zero_correlation():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 1000, 3))  # enough steps for float32 rounding to show
    values[..., 1] = 0.3
    for dtype in (jnp.float64, jnp.float32):  # float32, the package default, built directly
        log = rv.RewardLog(
            jnp.asarray(values, dtype),
            jnp.ones((3, 1000), bool),
            ("a", "b", "c"),
            jnp.ones(3, dtype),
        )
        matrix = np.asarray(decompose.correlations(log, level="step"))
        np.testing.assert_array_equal(matrix[1], [0.0, 1.0, 0.0])
        np.testing.assert_array_equal(matrix[:, 1], [0.0, 1.0, 0.0])
        assert abs(matrix[0, 2]) > 0
    with pytest.raises(ValueError, match="level"):
        decompose.correlations(log, level="steps")


@given(ragged_logs(), EXACT_GAMMAS)
def test_variance_attribution_matches_loops(drawn, gamma):
    returns = loop_returns(drawn, gamma)
    n_episodes, n_components = returns.shape
    totals = [sum(row) for row in returns]
    mean_total = sum(totals) / n_episodes
    variance = sum((g - mean_total) ** 2 for g in totals) / n_episodes
    if n_episodes < 2 or variance == 0:
        with pytest.raises(ValueError, match="no variance to attribute"):
            decompose.variance_attribution(drawn.log, gamma)
        return
    expected = []
    for k in range(n_components):
        mean_k = sum(returns[e, k] for e in range(n_episodes)) / n_episodes
        cov = sum((returns[e, k] - mean_k) * (totals[e] - mean_total) for e in range(n_episodes))
        expected.append(cov / n_episodes / variance)
    attribution = decompose.variance_attribution(drawn.log, gamma)
    close(attribution, expected, atol=1e-9)
    assert float(attribution.sum()) == pytest.approx(1.0, abs=1e-9)


def test_variance_attribution_errors_without_variance():
    one_episode = rv.RewardLog.from_arrays(np.arange(6.0).reshape(1, 3, 2))
    with pytest.raises(ValueError, match="only one episode"):
        decompose.variance_attribution(one_episode)
    same_returns = rv.RewardLog.from_arrays([[[1.0, 2.0]], [[2.0, 1.0]]])
    with pytest.raises(ValueError, match="same return"):
        decompose.variance_attribution(same_returns)
    attribution = decompose.variance_attribution(same_returns.with_weights([1.0, 0.5]))
    close(attribution, [2.0, -1.0])  # G = (2, 2.5): the first term drives it, the second opposes


@given(ragged_logs(), st.data())
def test_reweight_matches_loops(drawn, data):
    n_components = len(drawn.weights)
    new_weights = data.draw(st.lists(QUARTERS, min_size=n_components, max_size=n_components))
    result = decompose.reweight(drawn.log, new_weights)
    old = loop_returns(drawn, 1.0).sum(axis=1)
    new = loop_returns(dataclasses.replace(drawn, weights=new_weights), 1.0).sum(axis=1)
    close(result.old_returns, old)
    close(result.new_returns, new)
    np.testing.assert_array_equal(result.old_rank, loop_ranks(old.tolist()))
    np.testing.assert_array_equal(result.new_rank, loop_ranks(new.tolist()))
    ties = len(set(old.tolist())) < len(old) or len(set(new.tolist())) < len(new)
    if len(old) >= 2 and not ties:
        expected = scipy.stats.spearmanr(old, new).statistic
        assert float(result.rank_correlation) == pytest.approx(expected, abs=1e-12)


def test_reweight_from_zero_weights_and_spearman():
    values = np.array([[[1.0, 5.0]], [[2.0, 0.0]], [[3.0, -5.0]], [[0.5, 1.0]]])
    log = rv.RewardLog.from_arrays(values, names=["a", "b"], weights=[1.0, 0.0])
    result = decompose.reweight(log, {"b": 1.0})  # "a" keeps weight 1; "b" was switched off
    close(result.old_returns, [1.0, 2.0, 3.0, 0.5])
    close(result.new_returns, [6.0, 2.0, -2.0, 1.5])
    np.testing.assert_array_equal(result.old_rank, [2, 1, 0, 3])
    np.testing.assert_array_equal(result.new_rank, [0, 1, 3, 2])
    expected = scipy.stats.spearmanr(result.old_returns, result.new_returns).statistic
    assert float(result.rank_correlation) == pytest.approx(expected)
    gone = decompose.reweight(log, [0.0, 0.0])
    close(gone.new_returns, np.zeros(4))
    np.testing.assert_array_equal(gone.new_rank, [0, 1, 2, 3])  # ties: episode order


@given(ragged_values(), st.data())
def test_dead_components(drawn_values, data):
    values, mask, _ = drawn_values
    n_components = values.shape[-1]
    dead = data.draw(st.integers(0, n_components - 1))
    values[..., dead] = np.where(mask, data.draw(QUARTERS), values[..., dead])
    log = rv.RewardLog.from_arrays(values, mask)
    expected = []
    for k in range(n_components):
        seen = {
            values[e, t, k] for e in range(len(mask)) for t in range(mask.shape[1]) if mask[e, t]
        }
        expected.append(len(seen) == 1)
    assert expected[dead]
    np.testing.assert_array_equal(decompose.dead_components(log), expected)


# ---------------------------------------------------------------------------
# Construction.


def test_from_arrays_ignores_garbage_at_masked_steps():
    values = np.array([[[1.0, 2.0], [np.nan, np.inf]], [[3.0, 4.0], [5.0, 6.0]]])
    mask = np.array([[True, False], [True, True]])
    log = rv.RewardLog.from_arrays(values, mask, names=["a", "b"], total=[[3.0, np.nan], [7, 11]])
    assert log.names == ("a", "b")
    np.testing.assert_array_equal(log.components[0, 1], [0.0, 0.0])
    np.testing.assert_array_equal(log.total, [[3.0, 0.0], [7.0, 11.0]])
    np.testing.assert_array_equal(log.lengths, [1, 2])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"components": np.ones((2, 3))}, ValueError, "components must have shape"),
        ({"components": np.ones((1, 2, 3, 4))}, ValueError, "components must have shape"),
        ({"components": np.ones((0, 3, 2))}, ValueError, "empty"),
        ({"components": np.ones((2, 3, 0))}, ValueError, "empty"),
        ({"mask": np.ones((2, 2), bool)}, ValueError, r"mask must have shape .*\(2, 3\)"),
        ({"mask": np.ones((2, 3))}, TypeError, "mask must be boolean"),
        ({"mask": np.zeros((2, 3), bool)}, ValueError, "no step"),
        ({"names": ["a"]}, ValueError, "names must have 2 entries"),
        ({"names": ["a", "a"]}, ValueError, "unique"),
        ({"weights": [1.0, 2.0, 3.0]}, ValueError, "one entry per component"),
        ({"weights": [1.0, np.nan]}, ValueError, "weights contains NaN"),
        ({"weights": {"a": 1.0, "c": 2.0}}, ValueError, r"unknown component\(s\) \['c'\]"),
        ({"weights": {"a": np.inf}}, ValueError, "weights contains an infinite value"),
        ({"total": np.ones((2, 4))}, ValueError, "total must have shape"),
        ({"episode_info": {"seed": [1, 2, 3]}}, ValueError, r"episode_info\['seed'\]"),
    ],
)
def test_from_arrays_validation(kwargs, error, message):
    arguments = {"components": np.ones((2, 3, 2)), "names": ["a", "b"], **kwargs}
    with pytest.raises(error, match=message):
        rv.RewardLog.from_arrays(**arguments)


def test_from_arrays_names_the_non_finite_step():
    values = np.ones((2, 3, 2))
    values[1, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"episode 1, step 2, component 'speed'"):
        rv.RewardLog.from_arrays(values, names=["alive", "speed"])
    mask = np.ones((2, 3), bool)
    mask[1, 2] = False
    rv.RewardLog.from_arrays(values, mask, names=["alive", "speed"])  # masked: accepted
    with pytest.raises(ValueError, match=r"total .*episode 0, step 1"):
        rv.RewardLog.from_arrays(np.ones((2, 3, 2)), total=[[2, np.inf, 2], [2, 2, 2]])


@given(ragged_logs(), st.data())
def test_unexplained_appears_exactly_when_the_total_differs(drawn, data):
    weighted = loop_returns_to_go(drawn, 0.0).sum(axis=-1)  # γ = 0: the step's own reward
    extra = data.draw(arrays(np.float64, weighted.shape, elements=QUARTERS))
    mask = np.asarray(drawn.log.mask)
    differs = bool((extra[mask] != 0).any())
    logged = weighted + extra
    log = rv.RewardLog.from_arrays(drawn.values, mask, weights=drawn.weights, total=logged)
    assert (rv.decompose.UNEXPLAINED in log.names) == differs
    close(log.total, np.where(mask, logged, 0.0))
    if differs:
        assert log.names[-1] == "unexplained"
        assert float(log.weights[-1]) == 1.0
        close(log.components[..., -1], np.where(mask, extra, 0.0))
    with pytest.raises(ValueError, match="already named 'unexplained'"):
        rv.RewardLog.from_arrays(
            np.ones((1, 2, 1)), names=["unexplained"], total=np.full((1, 2), 3.0)
        )


def test_from_episodes_ragged():
    log = rv.RewardLog.from_episodes(
        {"forward": [[1, 2, 3], [4]], "ctrl": [[0, -1, 0], [-2]]},
        weights={"ctrl": 0.5},
        total=[[1, 1.5, 3], [3]],
        episode_info={"seed": [7, 8]},
    )
    assert log.names == ("forward", "ctrl")
    np.testing.assert_array_equal(log.lengths, [3, 1])
    np.testing.assert_array_equal(log.mask, [[True, True, True], [True, False, False]])
    close(decompose.component_returns(log), [[6.0, -0.5], [4.0, -1.0]])
    assert dict(log.episode_info)["seed"].tolist() == [7, 8]
    with pytest.raises(ValueError, match=r"episode 1 has 2 steps in 'ctrl' but 1 in 'forward'"):
        rv.RewardLog.from_episodes({"forward": [[1, 2], [3]], "ctrl": [[0, 0], [1, 1]]})
    with pytest.raises(ValueError, match="different numbers of episodes"):
        rv.RewardLog.from_episodes({"forward": [[1, 2], [3]], "ctrl": [[0, 0]]})
    with pytest.raises(ValueError, match="same episodes and lengths"):
        rv.RewardLog.from_episodes({"forward": [[1, 2], [3]]}, total=[[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="episodes is empty"):
        rv.RewardLog.from_episodes({})
    for empty in ({"forward": []}, {"forward": [[], []]}):
        with pytest.raises(ValueError, match="every episode is empty"):
            rv.RewardLog.from_episodes(empty)


def long_table(values, mask, names, total=None):
    rows = []
    for e in range(len(mask)):
        for t in range(mask.shape[1]):
            if mask[e, t]:
                for k, name in enumerate(names):
                    rows.append((f"run{e}", t, name, values[e, t, k]))
                if total is not None:
                    rows.append((f"run{e}", t, "total", total[e, t]))
    return pd.DataFrame(rows, columns=["episode", "step", "component", "value"])


@given(ragged_values(max_components=3))
def test_from_dataframe_round_trip(drawn_values):
    values, mask, _ = drawn_values
    names = ["forward", "ctrl", "alive"][: values.shape[-1]]
    frame = long_table(values, mask, names).sample(frac=1.0, random_state=0)  # any row order
    log = rv.RewardLog.from_dataframe(frame)
    assert sorted(log.names) == sorted(names)  # in order of first appearance in the rows
    order = [log.names.index(name) for name in names]
    longest = max(mask.sum(axis=1))  # a table has no padding beyond the longest episode
    np.testing.assert_array_equal(log.mask, mask[:, :longest])
    expected = np.where(mask[..., None], values, 0.0)[:, :longest]
    np.testing.assert_array_equal(np.asarray(log.components)[..., order], expected)
    assert list(log.episode_info["episode"]) == [f"run{e}" for e in range(len(mask))]


def test_from_dataframe_total_rows():
    values = np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [0.0, 0.0]]])
    mask = np.array([[True, True], [True, False]])
    exact = values.sum(axis=-1)
    log = rv.RewardLog.from_dataframe(long_table(values, mask, ["a", "b"], total=exact))
    assert log.names == ("a", "b")
    off = exact + np.array([[0.0, 1.0], [-2.0, 0.0]])
    log = rv.RewardLog.from_dataframe(long_table(values, mask, ["a", "b"], total=off))
    assert log.names == ("a", "b", "unexplained")
    close(log.components[..., 2], [[0.0, 1.0], [-2.0, 0.0]])
    close(log.total, np.where(mask, off, 0.0))
    frame = long_table(values, mask, ["a", "b"], total=exact)
    frame = frame.drop(frame.index[(frame.component == "total") & (frame.step == 1)])
    with pytest.raises(ValueError, match=r"episode 'run0', step 1 has no 'total' row"):
        rv.RewardLog.from_dataframe(frame)
    lonely_total = pd.DataFrame(
        [("run1", 1, "total", 3.0)], columns=["episode", "step", "component", "value"]
    )
    with pytest.raises(ValueError, match=r"episode 'run1', step 1 has no value for component 'a'"):
        rv.RewardLog.from_dataframe(pd.concat([long_table(values, mask, ["a", "b"]), lonely_total]))


def test_from_dataframe_errors():
    values = np.arange(12.0).reshape(2, 3, 2)
    mask = np.ones((2, 3), bool)
    frame = long_table(values, mask, ["a", "b"])
    with pytest.raises(ValueError, match=r"no column\(s\) \['reward'\]"):
        rv.RewardLog.from_dataframe(frame, value="reward")
    with pytest.raises(ValueError, match="no rows"):
        rv.RewardLog.from_dataframe(frame.iloc[:0])
    missing = frame.drop(frame.index[(frame.episode == "run1") & (frame.step == 2)][1:])
    with pytest.raises(ValueError, match=r"episode 'run1', step 2 has no value for component 'b'"):
        rv.RewardLog.from_dataframe(missing)
    duplicated = pd.concat([frame, frame.iloc[[3]]])
    with pytest.raises(ValueError, match=r"episode 'run0', step 1 has 2 rows for 'b'"):
        rv.RewardLog.from_dataframe(duplicated)
    gap = frame.drop(frame.index[(frame.episode == "run0") & (frame.step == 1)])
    with pytest.raises(ValueError, match=r"episode 'run0' has a gap at step 1"):
        rv.RewardLog.from_dataframe(gap)
    with pytest.raises(ValueError, match="non-negative integers"):
        rv.RewardLog.from_dataframe(frame.assign(step=frame.step - 1))


# ---------------------------------------------------------------------------
# Jit and vmap friendliness.


def test_reward_log_is_a_pytree():
    log = rv.RewardLog.from_arrays(
        np.arange(12.0).reshape(2, 3, 2), names=["a", "b"], episode_info={"seed": [3, 4]}
    )
    leaves, treedef = jax.tree_util.tree_flatten(log)
    assert len(leaves) == 3
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert rebuilt.names == log.names
    assert rebuilt.episode_info["seed"].tolist() == [3, 4]
    for new, old in zip(jax.tree_util.tree_leaves(rebuilt), leaves, strict=True):
        np.testing.assert_array_equal(new, old)
    through_jit = jax.jit(lambda log: log)(log)
    assert through_jit.names == log.names
    np.testing.assert_array_equal(through_jit.components, log.components)


def test_kernels_under_jit_and_vmap():
    log = rv.RewardLog.from_arrays(
        np.arange(24.0).reshape(2, 4, 3) % 5,
        np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool),
        weights=[1, 2, 3],
    )
    jitted = jax.jit(lambda log: decompose.component_returns(log, 0.5))(log)
    close(jitted, decompose.component_returns(log, 0.5))
    stacked = jnp.array([[1.0, 0.0, 0.0], [0.5, -1.0, 2.0]])
    batched = jax.vmap(
        lambda weights: decompose.component_returns(dataclasses.replace(log, weights=weights))
    )(stacked)
    for weights, returns in zip(stacked, batched, strict=True):
        close(returns, decompose.component_returns(log.with_weights(np.asarray(weights))))


def test_new_weights_and_discounts_do_not_recompile():
    values = np.random.default_rng(1).normal(size=(3, 7, 4))
    info = {"episode": np.array(["a", "b", "c"])}
    log = rv.RewardLog.from_arrays(values, episode_info=info)
    decompose.component_returns(log)
    before = decompose._component_returns._cache_size()
    for weights in ([1.0, 2.0, 3.0, 4.0], {"component_0": 0.0}):
        decompose.component_returns(log.with_weights(weights), 0.9)
    equal_info = {"episode": np.array(["a", "b", "c"])}  # equal metadata, other arrays
    again = rv.RewardLog.from_arrays(values * 2, episode_info=equal_info)
    decompose.component_returns(again, 0.5)
    decompose.reweight(again, [0.0, 1.0, 0.0, 1.0])
    assert decompose._component_returns._cache_size() == before


def test_with_weights_keeps_the_log_dtype():
    """A float32 log (the package default) in an x64 session: new weights stay float32."""
    values = jnp.asarray(np.random.default_rng(2).normal(size=(2, 5, 3)), dtype=jnp.float32)
    log = rv.RewardLog(values, jnp.ones((2, 5), bool), ("a", "b", "c"), jnp.ones(3, jnp.float32))
    decompose.component_returns(log)
    before = decompose._component_returns._cache_size()
    reweighted = log.with_weights({"b": 2.0})
    assert reweighted.weights.dtype == jnp.float32
    assert decompose.component_returns(reweighted).dtype == jnp.float32
    assert decompose._component_returns._cache_size() == before


def test_kernels_read_only_valid_steps():
    """Kernels that take the mask ignore whatever a directly built log holds at masked steps."""
    rng = np.random.default_rng(3)
    values = rng.normal(size=(3, 6, 2))
    mask = np.arange(6)[None, :] < np.array([[6], [1], [4]])
    clean = rv.RewardLog.from_arrays(values, mask, weights=[1.0, -2.0])
    garbage = dataclasses.replace(
        clean, components=jnp.where(mask[..., None], clean.components, 1e3)
    )
    close(decompose.component_returns(garbage, 0.9), decompose.component_returns(clean, 0.9))
    close(decompose.returns_to_go(garbage, 0.9), decompose.returns_to_go(clean, 0.9))
    np.testing.assert_array_equal(decompose.dominance(garbage), decompose.dominance(clean))
    close(decompose.correlations(garbage), decompose.correlations(clean))
    close(
        decompose.reweight(garbage, [1.0, 1.0]).new_returns,
        decompose.reweight(clean, [1, 1]).new_returns,
    )


def test_positions_travel_with_the_log_and_are_checked():
    components = np.ones((2, 3, 1))
    mask = np.array([[True, True, False], [True, False, False]])
    positions = np.arange(12, dtype=float).reshape(2, 3, 2)
    positions[1, 2] = np.nan  # a masked step: ignored
    log = rv.RewardLog.from_arrays(components, mask, positions=positions)
    expected = np.where(mask[..., None], positions, 0.0)
    np.testing.assert_array_equal(np.asarray(log.positions), expected)
    np.testing.assert_array_equal(np.asarray(log.with_weights([2.0]).positions), expected)
    leaves = jax.tree_util.tree_leaves(log)
    assert any(leaf.shape == (2, 3, 2) for leaf in leaves)
    positions[0, 1, 0] = np.inf  # a valid step
    with pytest.raises(ValueError, match=r"positions .* episode 0, step 1, component 'x'"):
        rv.RewardLog.from_arrays(components, mask, positions=positions)
    with pytest.raises(ValueError, match=r"positions must have shape"):
        rv.RewardLog.from_arrays(components, mask, positions=np.zeros((2, 3)))
