"""Finite float32 input whose results overflow float32 is refused, not turned into inf (issue 19).

Float32 tops out at ~3.4e38. Rewards near it are finite, but their sums, weighted
values or squares are not; these used to come back as inf or NaN without a word. The
errors name the input, say it overflows float32 and point to float64 or rescaling.
The test session runs with x64 on; these tests turn it off, as in a user's session.
"""

import jax
import numpy as np
import pytest

import rewardviz as rv

OVERFLOW = r"overflow float32 .*Rescale .*jax_enable_x64"


@pytest.fixture(autouse=True)
def float32_default():
    with jax.enable_x64(False):  # the package's default precision
        yield


def float32_log(value, n_steps=2):
    return rv.RewardLog.from_arrays(
        np.full((2, n_steps, 2), value, dtype=np.float32), names=["a", "b"]
    )


def spread_log(scale):
    # Finite returns whose squares (variances, correlations) overflow float32.
    values = np.random.default_rng(0).normal(size=(6, 3, 2)) * scale
    return rv.RewardLog.from_arrays(values.astype(np.float32), names=["a", "b"])


def test_float32_logs_keep_float32():
    assert float32_log(1.0).components.dtype == np.float32


def test_per_step_totals_that_overflow_are_refused_on_construction():
    # Two components of 3e38: each finite, their sum (the step's total) is not.
    with pytest.raises(ValueError, match=rf"components .*per-step totals {OVERFLOW}"):
        float32_log(3e38)


def test_weighted_values_that_overflow_are_refused():
    components = np.full((2, 2, 2), 1e38, dtype=np.float32)
    with pytest.raises(ValueError, match=rf"weighted values .*{OVERFLOW}"):
        rv.RewardLog.from_arrays(components, names=["a", "b"], weights=[10.0, 1.0])
    log = rv.RewardLog.from_arrays(components, names=["a", "b"])
    with pytest.raises(ValueError, match=rf"components .*weighted values .*{OVERFLOW}"):
        log.with_weights([10.0, 1.0])


def test_float64_values_beyond_float32_are_refused():
    # Without x64 the log is float32: float64 input of 1e39 became inf in the cast.
    with pytest.raises(
        ValueError, match=rf"components holds finite values whose values {OVERFLOW}"
    ):
        rv.RewardLog.from_arrays(np.full((1, 2, 1), 1e39), names=["a"])


def test_returns_that_overflow_are_refused():
    log = float32_log(1e38, n_steps=4)  # each step 2e38: finite; an episode's return is not
    for compute in (
        rv.decompose.component_returns,
        rv.decompose.returns_to_go,
        lambda log: rv.decompose.return_shares(log)[0],
    ):
        with pytest.raises(ValueError, match=rf"the log's components .*returns.* {OVERFLOW}"):
            compute(log)


def test_squares_that_overflow_are_refused():
    log = spread_log(1e20)  # returns ~1e20: finite; their squares ~1e40 are not
    with pytest.raises(ValueError, match=OVERFLOW):
        rv.decompose.correlations(log)
    with pytest.raises(ValueError, match=OVERFLOW):
        rv.decompose.correlations(log, level="episode")
    with pytest.raises(ValueError, match=OVERFLOW):
        rv.decompose.variance_attribution(log)


def test_reweighting_into_overflow_is_refused():
    log = float32_log(1e37)
    with pytest.raises(ValueError, match=rf"returns under the new weights {OVERFLOW}"):
        rv.decompose.reweight(log, [100.0, 100.0])


def test_large_but_representable_values_pass():
    log = float32_log(1e37, n_steps=3)
    returns = rv.decompose.component_returns(log)
    np.testing.assert_allclose(returns, 3e37, rtol=1e-6)
    assert np.isfinite(rv.decompose.correlations(spread_log(1e15))).all()
    # The same values in float64 are fine: the fix the message suggests.
    with jax.enable_x64(True):
        log64 = rv.RewardLog.from_arrays(np.full((2, 4, 2), 1e38), names=["a", "b"])
        np.testing.assert_allclose(rv.decompose.component_returns(log64), 4e38, rtol=1e-12)


def test_group_advantages_that_overflow_are_refused():
    group = rv.groups.example_groups()
    scores = np.random.default_rng(0).random(group.mask.shape).astype(np.float32) * 3e38
    huge = group.with_reward("huge", scores.astype(np.float32))
    huge = huge.with_weights({name: 0.0 for name in group.names})  # only 'huge' counts
    huge = rv.groups.GroupRewards.from_arrays(
        np.asarray(huge.scores, dtype=np.float32), huge.mask, names=huge.names,
        weights=np.asarray(huge.weights), step=huge.step,
    )  # fmt: skip
    with pytest.raises(ValueError, match=rf"the group's scores .*{OVERFLOW}"):
        rv.groups.attribution(huge)
    with pytest.raises(ValueError, match=OVERFLOW):
        rv.groups.advantages(huge, scheme="sum_of_normalized")


def test_group_scores_beyond_float32_are_refused():
    with pytest.raises(ValueError, match=rf"scores holds finite values whose values {OVERFLOW}"):
        rv.groups.GroupRewards.from_arrays(np.full((1, 2, 1), 1e39))
