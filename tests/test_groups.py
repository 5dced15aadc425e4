"""Group-relative advantages and multi-reward analysis (:mod:`rewardviz.groups`) against loop oracles.

Every kernel is recomputed here with explicit Python loops over groups, samples and
rewards on float64 numbers, on random ragged groups drawn by hypothesis: groups of
one valid sample, ties and zero-variance groups are common because scores take few
values, and masked samples hold garbage (NaN, infinities) that must be ignored. Scores
and weights are quarters, so totals are exact and "all equal" is decided identically by
the kernels and the oracles.
"""

import dataclasses
import math
import re
from fractions import Fraction

import jax
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import rewardviz as rv
from rewardviz import groups
from rewardviz.groups import learning_signal

FEW_VALUES = st.sampled_from([0.0, 0.25, 1.0, -0.5, 2.0])
QUARTERS = st.integers(-8, 8).map(lambda i: i / 4)
GARBAGE = st.sampled_from([np.nan, np.inf, -np.inf, 1e300, 3.0])
SCHEMES = st.sampled_from(groups.SCHEMES)
NORMALIZATIONS = st.sampled_from(groups.NORMALIZATIONS)


@dataclasses.dataclass(frozen=True)
class Drawn:
    group: rv.GroupRewards
    scores: np.ndarray  # [P, G, K] garbage where masked
    mask: np.ndarray
    weights: list[float]
    step: list[int]


#: Shapes (prompts, group size, rewards) drawn from: every kernel compiles once per shape,
#: so a short menu keeps the file fast while covering groups of one, two and eight samples
#: and one to four rewards; masks make the groups ragged within each shape.
SHAPES = [(1, 1, 1), (2, 2, 4), (3, 5, 2), (4, 8, 3)]


@st.composite
def drawn_groups(draw, max_rewards=4, ragged=True):
    shape = draw(st.sampled_from([shape for shape in SHAPES if shape[2] <= max_rewards]))
    n_prompts, size, n_rewards = shape
    values = draw(arrays(np.float64, shape, elements=FEW_VALUES))
    if ragged:
        sizes = draw(st.lists(st.integers(1, size), min_size=n_prompts, max_size=n_prompts))
        mask = np.arange(size)[None, :] < np.asarray(sizes)[:, None]
        # Valid samples need not come first: shuffle each group's mask.
        order = draw(st.permutations(range(size)))
        mask = mask[:, list(order)]
    else:
        mask = np.ones((n_prompts, size), bool)
    garbage = draw(arrays(np.float64, shape, elements=GARBAGE))
    scores = np.where(mask[..., None], values, garbage)
    weights = draw(st.lists(QUARTERS, min_size=n_rewards, max_size=n_rewards))
    # Training steps in any order: "batch" statistics are per step.
    step = draw(st.lists(st.integers(0, 2), min_size=n_prompts, max_size=n_prompts))
    group = rv.GroupRewards.from_arrays(scores, mask, weights=weights, step=step)
    return Drawn(group, scores, mask, weights, step)


# ---------------------------------------------------------------------------
# Loop oracles: nothing from rewardviz.


def loop_std(values, ddof):
    n = len(values)
    if n - ddof <= 0:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - ddof))


def loop_flat(values, tolerance=0.0):
    return len(values) < 2 or max(values) - min(values) <= tolerance


def loop_centred(values):
    """Values minus their mean; all 0 for fewer than two values or all equal."""
    if loop_flat(values):
        return [0.0] * len(values)
    mean = sum(values) / len(values)
    return [v - mean for v in values]


def divided(value, denominator):
    return value / denominator if denominator > 0 else 0.0


def loop_attribution(drawn, scheme, normalize, ddof, eps, tie=0.0):
    """Parts ``[P, G, K]`` with loops over steps, groups, samples and rewards.

    Weighted totals count as equal when they differ by at most ``tie``.
    """
    n_prompts, size, n_rewards = drawn.scores.shape
    w = drawn.weights
    columns, totals, samples = {}, {}, {}
    for p in range(n_prompts):
        samples[p] = [g for g in range(size) if drawn.mask[p, g]]
        columns[p] = [[drawn.scores[p, g, k] for g in samples[p]] for k in range(n_rewards)]
        totals[p] = [
            sum(w[k] * columns[p][k][i] for k in range(n_rewards)) for i in range(len(samples[p]))
        ]
    out = np.zeros((n_prompts, size, n_rewards))
    for step in set(drawn.step):
        prompts = [p for p in range(n_prompts) if drawn.step[p] == step]
        if scheme == "normalize_then_sum":
            # z per reward within the group, weighted; R tied (rewards cancel) gives 0.
            weighted = {}
            for p in prompts:
                n = len(samples[p])
                weighted[p] = [[0.0] * n_rewards for _ in range(n)]
                for k in range(n_rewards):
                    spread = loop_std(columns[p][k], ddof) + eps
                    for i, c in enumerate(loop_centred(columns[p][k])):
                        weighted[p][i][k] = w[k] * divided(c, spread)
                if loop_flat([sum(row) for row in weighted[p]], 1e-9):
                    weighted[p] = [[0.0] * n_rewards for _ in range(n)]
            combined = [sum(row) for p in prompts for row in weighted[p]]
            spread = loop_std(combined, ddof) + eps
            for p in prompts:
                for i, g in enumerate(samples[p]):
                    out[p, g] = [divided(part, spread) for part in weighted[p][i]]
            continue
        for p in prompts:
            for k in range(n_rewards):
                if normalize == "mean":
                    spread = 1.0
                elif scheme == "sum_of_normalized" and normalize == "std":
                    spread = loop_std(columns[p][k], ddof) + eps
                elif scheme == "sum_of_normalized":
                    spread = loop_std([v for q in prompts for v in columns[q][k]], ddof) + eps
                elif loop_flat(totals[p], tie):
                    continue
                elif normalize == "std":
                    spread = loop_std(totals[p], ddof) + eps
                else:
                    spread = loop_std([t for q in prompts for t in totals[q]], ddof) + eps
                for i, c in enumerate(loop_centred(columns[p][k])):
                    out[p, samples[p][i], k] = divided(w[k] * c, spread)
    return out


def loop_advantages(drawn, scheme, normalize, ddof, eps):
    """Advantages ``[P, G]`` from the totals (no parts) wherever a scheme allows it."""
    n_prompts, size, n_rewards = drawn.scores.shape
    if scheme == "normalize_then_sum" or (scheme == "sum_of_normalized" and normalize != "mean"):
        return loop_attribution(drawn, scheme, normalize, ddof, eps).sum(-1)
    out = np.zeros((n_prompts, size))
    totals = {}
    for p in range(n_prompts):
        samples = [g for g in range(size) if drawn.mask[p, g]]
        totals[p] = {
            g: sum(drawn.weights[k] * drawn.scores[p, g, k] for k in range(n_rewards))
            for g in samples
        }
    for p in range(n_prompts):
        values = list(totals[p].values())
        if normalize == "std":
            spread = loop_std(values, ddof) + eps
        elif normalize == "batch":
            same_step = [q for q in range(n_prompts) if drawn.step[q] == drawn.step[p]]
            spread = loop_std([t for q in same_step for t in totals[q].values()], ddof) + eps
        else:
            spread = 1.0
        for g, c in zip(totals[p], loop_centred(values), strict=True):
            out[p, g] = divided(c, spread)
    return out


def close(actual, expected, atol=1e-10):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-10, atol=atol)


# ---------------------------------------------------------------------------
# Advantages and attribution.


@given(
    drawn_groups(),
    SCHEMES,
    NORMALIZATIONS,
    st.sampled_from([0, 1]),
    st.sampled_from([1e-4, 0.0, 0.5]),
)
def test_advantages_match_loops(drawn, scheme, normalize, ddof, eps):
    expected = loop_advantages(drawn, scheme, normalize, ddof, eps)
    close(
        groups.advantages(drawn.group, scheme=scheme, normalize=normalize, ddof=ddof, eps=eps),
        expected,
    )


@given(drawn_groups(), SCHEMES, NORMALIZATIONS, st.sampled_from([0, 1]))
def test_attribution_matches_loops_and_sums_to_the_advantage(drawn, scheme, normalize, ddof):
    parts = groups.attribution(drawn.group, scheme=scheme, normalize=normalize, ddof=ddof)
    close(parts, loop_attribution(drawn, scheme, normalize, ddof, 1e-4))
    advantage = groups.advantages(drawn.group, scheme=scheme, normalize=normalize, ddof=ddof)
    close(np.asarray(parts).sum(-1), np.asarray(advantage), atol=1e-12)
    assert (np.asarray(parts)[~drawn.mask] == 0).all()


@given(drawn_groups(), SCHEMES)
def test_advantages_sum_to_zero_in_each_group_and_follow_a_permutation(drawn, scheme):
    advantage = np.asarray(groups.advantages(drawn.group, scheme=scheme))
    close(advantage.sum(axis=1), np.zeros(len(advantage)), atol=1e-9)
    reverse = drawn.group.mask.shape[1] - 1 - np.arange(drawn.group.mask.shape[1])
    flipped = rv.GroupRewards.from_arrays(
        drawn.scores[:, reverse], drawn.mask[:, reverse], weights=drawn.weights, step=drawn.step
    )
    close(groups.advantages(flipped, scheme=scheme), advantage[:, reverse])


@given(drawn_groups(ragged=False), st.data())
def test_shifting_a_reward_per_group_changes_nothing(drawn, data):
    shift = data.draw(arrays(np.float64, (drawn.scores.shape[0], 1, 1), elements=QUARTERS))
    shifted = rv.GroupRewards.from_arrays(
        drawn.scores + shift, weights=drawn.weights, step=drawn.step
    )
    for scheme in groups.SCHEMES:
        close(
            groups.advantages(shifted, scheme=scheme),
            groups.advantages(drawn.group, scheme=scheme),
            1e-8,
        )


def test_trl_closed_form_one_correct_of_four():
    # Rewards (1, 0, 0, 0): mean 1/4, sample std sqrt((9/16 + 3/16) / 3) = 1/2.
    group = rv.GroupRewards.from_arrays(np.array([[[1.0], [0.0], [0.0], [0.0]]]))
    close(
        groups.advantages(group), [[0.75 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001]]
    )
    # Population std (ddof=0): sqrt(3/16); Dr. GRPO (mean only): 3/4 and -1/4.
    population = math.sqrt(3 / 16)
    close(groups.advantages(group, ddof=0, eps=0.0)[0, 0], 0.75 / population)
    close(groups.advantages(group, normalize="mean"), [[0.75, -0.25, -0.25, -0.25]])


def test_the_two_schemes_differ_when_rewards_have_different_spreads():
    # format: (1, 1, 1, 0) — small spread; accuracy: (1, 0, 1, 0).
    scores = np.array([[[1, 1], [1, 0], [1, 1], [0, 0]]], dtype=float)
    group = rv.GroupRewards.from_arrays(scores, names=["format", "accuracy"])
    summed = np.asarray(groups.advantages(group, scheme="sum_then_normalize", eps=0.0))[0]
    normalised = np.asarray(groups.advantages(group, scheme="sum_of_normalized", eps=0.0))[0]
    # Totals (2, 1, 2, 0): mean 5/4, sample std sqrt((9+1+9+25)/16/3) = sqrt(11/12).
    close(summed, (np.array([2, 1, 2, 0]) - 1.25) / math.sqrt(11 / 12))
    # format: mean 3/4, std 1/2; accuracy: mean 1/2, std sqrt(1/3).
    format_part = (np.array([1, 1, 1, 0]) - 0.75) / 0.5
    accuracy_part = (np.array([1, 0, 1, 0]) - 0.5) / math.sqrt(1 / 3)
    close(normalised, format_part + accuracy_part)
    close(
        groups.attribution(group, scheme="sum_of_normalized", eps=0.0)[0],
        np.stack([format_part, accuracy_part], 1),
    )


def test_group_size_one_and_zero_variance_give_zero_advantage_and_count_as_degenerate():
    scores = np.array(
        [[[1.0, 2.0], [5.0, 9.0]], [[0.5, 1.0], [0.5, 1.0]], [[2.0, 0.0], [0.0, 1.0]]]
    )
    mask = np.array([[True, False], [True, True], [True, True]])
    group = rv.GroupRewards.from_arrays(scores, mask, names=["a", "b"], weights=[1.0, 2.0])
    for scheme in groups.SCHEMES:
        for ddof in (0, 1):
            advantage = np.asarray(groups.advantages(group, scheme=scheme, ddof=ddof))
            assert (advantage[:2] == 0).all()
            assert not np.isnan(advantage).any()
    # Group 2: totals tie (2 and 2) though each reward varies: no signal under scheme A,
    # and its attribution is 0 rather than two huge cancelling terms.
    assert (np.asarray(groups.attribution(group))[2] == 0).all()
    assert (np.asarray(groups.advantages(group, scheme="sum_of_normalized"))[2] != 0).all()
    degenerate = groups.degenerate_groups(group)
    np.testing.assert_array_equal(degenerate.total, [True, True, True])
    np.testing.assert_array_equal(
        degenerate.per_reward, [[True, True], [True, True], [False, False]]
    )
    assert degenerate.fraction == 1.0
    close(degenerate.fraction_per_reward, [2 / 3, 2 / 3])
    assert list(degenerate.to_frame().columns) == ["total", "a", "b"]


@given(drawn_groups())
def test_degenerate_groups_match_loops(drawn):
    result = groups.degenerate_groups(drawn.group)
    n_prompts, size, n_rewards = drawn.scores.shape
    for p in range(n_prompts):
        samples = [g for g in range(size) if drawn.mask[p, g]]
        totals = [
            sum(w * drawn.scores[p, g, k] for k, w in enumerate(drawn.weights)) for g in samples
        ]
        assert result.total[p] == loop_flat(totals)
        for k in range(n_rewards):
            assert result.per_reward[p, k] == loop_flat([drawn.scores[p, g, k] for g in samples])


def test_degenerate_rate_by_step():
    scores = np.array([[[1.0], [1.0]], [[0.0], [1.0]], [[2.0], [2.0]], [[3.0], [3.0]]])
    group = rv.GroupRewards.from_arrays(scores, names=["acc"], step=[5, 5, 9, 9])
    rates = groups.degenerate_rate_by_step(group)
    assert rates.steps.tolist() == [5, 9] and rates.names == ("total", "acc")
    close(rates.rates[:, 0], [0.5, 1.0])
    close(rates.rates[:, 1], [0.5, 1.0])
    frame = rates.to_frame()
    assert frame.index.tolist() == [5, 9] and frame.columns.tolist() == ["total", "acc"]
    close(frame["acc"].to_numpy(), [0.5, 1.0])


@given(drawn_groups())
def test_sign_agreement_and_within_group_correlation_match_loops(drawn):
    n_prompts, size, n_rewards = drawn.scores.shape
    centred = np.zeros((n_prompts, size, n_rewards))
    for p in range(n_prompts):
        samples = [g for g in range(size) if drawn.mask[p, g]]
        for k in range(n_rewards):
            column = [drawn.scores[p, g, k] for g in samples]
            if not loop_flat(column):
                for g in samples:
                    centred[p, g, k] = drawn.scores[p, g, k] - sum(column) / len(column)
    rows = centred.reshape(-1, n_rewards).tolist()
    agreement = np.eye(n_rewards)
    correlation = np.eye(n_rewards)
    for j in range(n_rewards):
        for k in range(n_rewards):
            if j == k:
                continue
            both = [(row[j] > 0) == (row[k] > 0) for row in rows if row[j] != 0 and row[k] != 0]
            agreement[j, k] = sum(both) / len(both) if both else 1.0
            cross = sum(row[j] * row[k] for row in rows)
            norm = math.sqrt(sum(row[j] ** 2 for row in rows) * sum(row[k] ** 2 for row in rows))
            correlation[j, k] = cross / norm if norm > 0 else 0.0
    close(groups.sign_agreement(drawn.group), agreement)
    close(groups.within_group_correlation(drawn.group), correlation, atol=1e-9)


def test_opposed_rewards_have_agreement_zero_and_correlation_minus_one():
    scores = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], [[2.0, 5.0], [3.0, 4.0], [3.0, 4.0]]])
    group = rv.GroupRewards.from_arrays(scores)
    close(groups.sign_agreement(group), [[1.0, 0.0], [0.0, 1.0]])
    close(groups.within_group_correlation(group), [[1.0, -1.0], [-1.0, 1.0]])


def test_slider_values_do_not_recompile():
    group = groups.example_groups()
    groups.advantages(group)
    before = learning_signal._attribution._cache_size()
    for eps in (1e-4, 1e-3, 0.1):
        for weights in ([1.0, 1.0, 1.0], [0.5, 2.0, 0.0]):
            groups.advantages(group.with_weights(weights), eps=eps)
    groups.advantages(group, ddof=0)
    assert learning_signal._attribution._cache_size() == before


def test_advantages_compose_with_jit():
    drawn = rv.GroupRewards.from_arrays(np.arange(24.0).reshape(2, 4, 3) % 5, step=[0, 1])
    jitted = jax.jit(lambda g: groups.advantages(g))(drawn)
    close(jitted, groups.advantages(drawn))
    for scheme in groups.SCHEMES:  # the step is traced too: "batch" needs it
        jitted = jax.jit(lambda g, s=scheme: groups.advantages(g, scheme=s, normalize="batch"))(
            drawn
        )
        close(jitted, groups.advantages(drawn, scheme=scheme, normalize="batch"))


def test_normalize_then_sum_is_gdpo_and_sum_of_normalized_has_no_batch_step():
    # Two groups of one step; rewards format (small spread) and accuracy.
    scores = np.array(
        [[[1, 1], [1, 0], [1, 1], [0, 0]], [[1, 0], [1, 1], [1, 1], [1, 1]]], dtype=float
    )
    group = rv.GroupRewards.from_arrays(scores, names=["format", "accuracy"], weights=[1, 2])
    # Group 0: format z = ±(1/4, 3/4) / (1/2), accuracy z = ±(1/2) / sqrt(1/3) (eps = 0);
    # group 1: format constant (z = 0), accuracy (0, 1, 1, 1): mean 3/4, std 1/2.
    z_format = np.array([[0.5, 0.5, 0.5, -1.5], [0, 0, 0, 0]])
    z_accuracy = np.array([[1, -1, 1, -1], [-1.5, 0.5, 0.5, 0.5]])
    z_accuracy[0] *= 0.5 / math.sqrt(1 / 3)
    summed = z_format + 2 * z_accuracy
    close(groups.advantages(group, scheme="sum_of_normalized", eps=0.0), summed)
    # GDPO standardises the weighted sum over the batch: both groups, 8 samples.
    gdpo = summed / np.std(summed, ddof=1)
    close(groups.advantages(group, scheme="normalize_then_sum", eps=0.0), gdpo)
    parts = np.asarray(groups.attribution(group, scheme="normalize_then_sum", eps=0.0))
    close(parts, np.stack([z_format, 2 * z_accuracy], -1) / np.std(summed, ddof=1))
    # TRL ignores scale_rewards in this branch: every normalisation gives the same.
    for normalize in (*groups.NORMALIZATIONS, *groups.NORMALIZATION_ALIASES):
        close(
            groups.advantages(group, scheme="normalize_then_sum", normalize=normalize, eps=0.0),
            gdpo,
        )


def test_batch_normalisation_divides_by_the_steps_spread_and_keeps_the_group_mean():
    scores = np.array([[[1.0], [0.0]], [[4.0], [2.0]], [[5.0], [9.0]]])
    group = rv.GroupRewards.from_arrays(scores, step=[7, 7, 3])
    batch_std = np.std([1.0, 0.0, 4.0, 2.0], ddof=1)  # step 7; step 3 is one group
    expected = [[0.5 / batch_std, -0.5 / batch_std], [1 / batch_std, -1 / batch_std]]
    expected.append([-2 / np.std([5.0, 9.0], ddof=1), 2 / np.std([5.0, 9.0], ddof=1)])
    for scheme in ("sum_then_normalize", "sum_of_normalized"):  # one reward: the same
        close(groups.advantages(group, scheme=scheme, normalize="batch", eps=0.0), expected)
    # TRL's spellings of the other two normalisations.
    close(groups.advantages(group, normalize="group"), groups.advantages(group, normalize="std"))
    close(groups.advantages(group, normalize="none"), groups.advantages(group, normalize="mean"))


@given(drawn_groups(), st.data())
def test_z_schemes_ignore_positive_affine_rescaling_of_a_reward_in_a_group(drawn, data):
    # With eps = 0, z = (s - mean) / std is unchanged by s -> a s + b with a > 0, per group
    # and reward; eps > 0 breaks this by eps / std, so it is tested at eps = 0 only.
    shape = (drawn.scores.shape[0], 1, drawn.scores.shape[2])
    scale = data.draw(arrays(np.float64, shape, elements=st.sampled_from([0.5, 2.0, 4.0])))
    shift = data.draw(arrays(np.float64, shape, elements=QUARTERS))
    rescaled = rv.GroupRewards.from_arrays(
        drawn.scores * scale + shift, drawn.mask, weights=drawn.weights, step=drawn.step
    )
    for scheme in ("normalize_then_sum", "sum_of_normalized"):
        close(
            groups.advantages(rescaled, scheme=scheme, eps=0.0),
            groups.advantages(drawn.group, scheme=scheme, eps=0.0),
            atol=1e-9,
        )


def test_batch_options_do_not_recompile():
    group = groups.example_groups()
    for scheme in groups.SCHEMES:
        groups.advantages(group, scheme=scheme, normalize="batch")
    before = learning_signal._attribution._cache_size()
    for normalize in (*groups.NORMALIZATIONS, *groups.NORMALIZATION_ALIASES):
        groups.advantages(
            group, scheme="normalize_then_sum", normalize=normalize
        )  # one kernel for all
    for scheme in groups.SCHEMES:  # other steps, even another number of them
        groups.advantages(
            dataclasses.replace(group, step=group.step % 7), scheme=scheme, normalize="batch"
        )
    assert learning_signal._attribution._cache_size() == before


# ---------------------------------------------------------------------------
# Parity with TRL's GRPOTrainer: its formulas written out in numpy from its documentation.

TRL_EPS = 1e-4
TRL_OPTIONS = [
    (aggregation, scale_rewards)
    for aggregation in ("sum_then_normalize", "normalize_then_sum")
    for scale_rewards in ("group", "batch", "none")
]
#: Scores of constant rewards and all-equal groups: short binary fractions (0/1 rewards
#: are), whose mean is exact, so TRL computes exactly 0 there too (see the test below).
DYADIC = [0.0, 1.0, 0.5, -0.25, 3.0]


def trl_std(values):
    """torch.std (ddof=1); taken as 0 for a single value, as TRL documents for a group of one."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def trl_nanstd(values):
    """Sample standard deviation (ddof=1) of each column over its non-NaN entries."""
    return np.array([trl_std(column[~np.isnan(column)]) for column in values.T])


def trl_advantages(scores, mask, weights, step, aggregation, scale_rewards):
    """TRL's advantages, one training step (TRL's batch) at a time.

    TRL has no mask: the masked samples are dropped from their group first. A step with a
    single valid sample has a batch standard deviation of 0 here (torch would give NaN).
    """
    out = np.zeros(mask.shape)
    for s in np.unique(step):
        prompts = np.flatnonzero(step == s)
        rewards = [scores[p][mask[p]] for p in prompts]  # [n_p, K] per group
        if aggregation == "sum_then_normalize":
            totals = [np.nansum(r * weights, axis=1) for r in rewards]
            batch_std = trl_std(np.concatenate(totals))
            result = []
            for total in totals:
                centred = total - np.mean(total)
                if scale_rewards == "group":
                    result.append(centred / (trl_std(total) + TRL_EPS))
                elif scale_rewards == "batch":
                    result.append(centred / (batch_std + TRL_EPS))
                else:
                    result.append(centred)
        else:  # scale_rewards is not read in this branch
            combined = []
            for r in rewards:
                z = (r - np.nanmean(r, axis=0)) / (trl_nanstd(r) + TRL_EPS)
                combined.append(np.nansum(z * weights, axis=1))
            batch = np.concatenate(combined)
            result = [(c - np.mean(batch)) / (trl_std(batch) + TRL_EPS) for c in combined]
        for p, advantage in zip(prompts, result, strict=True):
            out[p, mask[p]] = advantage
    return out


def trl_condition(scores, mask, weights, step, aggregation, scale_rewards):
    """``[P, G]`` how much the last division of TRL's formula amplifies rounding.

    The scale of what is divided over the divisor: ``max_i Σ_k |w_k s_ik|`` for the
    totals; for GDPO's ``R`` the scale of its rounding, ``Σ_k |w_k| max_i |s_ik| /
    (std_G(s_k) + eps)`` over the rewards that vary (a reward constant at a short binary
    fraction is centred exactly), the largest in the step since ``mean_B(R)`` adds them
    all, over ``std_B(R) + eps``. Two correct implementations may differ by about ``u``
    times this. In a step of two-sample groups GDPO's weighted ``z`` nearly cancel (each
    is ``±(1/√2) std/(std + eps)``): ``R`` is a small difference and this is large.
    """
    out = np.ones(mask.shape)
    for s in np.unique(step):
        prompts = np.flatnonzero(step == s)
        rewards = [scores[p][mask[p]] for p in prompts]
        if aggregation == "sum_then_normalize":
            totals = [np.sum(r * weights, axis=1) for r in rewards]
            batch_std = trl_std(np.concatenate(totals))
            for p, r, total in zip(prompts, rewards, totals, strict=True):
                divisor = {
                    "group": trl_std(total) + TRL_EPS,
                    "batch": batch_std + TRL_EPS,
                    "none": 1.0,
                }
                out[p] = np.abs(r * weights).sum(axis=1).max() / divisor[scale_rewards]
        else:
            combined, scales = [], []
            for r in rewards:
                std = trl_nanstd(r)
                z = (r - r.mean(axis=0)) / (std + TRL_EPS)
                combined.append(np.sum(z * weights, axis=1))
                scales.append((np.abs(weights) * np.abs(r).max(axis=0) / (std + TRL_EPS))[std > 0])
            # Every advantage of the step subtracts mean_B(R), rounded from all its R.
            largest = max(scale.sum() for scale in scales)
            out[prompts] = largest / (trl_std(np.concatenate(combined)) + TRL_EPS)
    return out


def trl_noise_bound(scores, mask, weights):
    """``[P]`` bound on TRL's advantage in a group whose totals are equal in exact arithmetic.

    TRL's totals (``K``-term sums) and their mean (``n`` terms) are rounded, so its centred
    totals there are at most ``(2 γ_K + γ_{n+2}) max_i Σ_k |w_k s_ik|``, divided by at least
    ``eps``; rewardviz has exactly 0 there (see ``degenerate_groups``).
    """
    u = np.finfo(np.float64).eps / 2

    def gamma(n):
        return n * u / (1 - n * u)

    magnitude = np.where(mask, np.abs(np.nan_to_num(scores) * weights).sum(-1), 0).max(axis=1)
    return (2 * gamma(scores.shape[-1]) + gamma(mask.sum(axis=1) + 2)) * magnitude / TRL_EPS


def trl_parity(group, scores, mask, weights, step):
    """rewardviz's advantages agree with TRL's in all six TRL configurations.

    To 1e-12, times the amplification of the formula's last division where it exceeds 1
    (:func:`trl_condition`). Where TRL divides rounding noise by eps (totals equal up to
    rounding, under group or batch scaling) rewardviz has 0 and TRL's value is within
    that noise (:func:`trl_noise_bound`).
    """
    zeroed = groups.degenerate_groups(group).total[:, None] & mask
    noise = np.broadcast_to(trl_noise_bound(scores, mask, weights)[:, None], mask.shape)
    for aggregation, scale_rewards in TRL_OPTIONS:
        expected = trl_advantages(scores, mask, weights, step, aggregation, scale_rewards)
        actual = np.asarray(groups.advantages(group, scheme=aggregation, normalize=scale_rewards))
        message = f"{aggregation}, {scale_rewards}"
        if aggregation == "sum_then_normalize" and scale_rewards != "none":
            assert (actual[zeroed] == 0).all(), message
            assert (np.abs(expected[zeroed]) <= noise[zeroed]).all(), message
            expected = np.where(zeroed, 0.0, expected)
        tolerance = 1e-12 * np.maximum(
            1.0, trl_condition(scores, mask, weights, step, aggregation, scale_rewards)
        )
        assert (np.abs(actual - expected) <= tolerance).all(), (message, actual - expected)


@st.composite
def trl_batches(draw):
    n_prompts, size, n_rewards = draw(st.sampled_from(SHAPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (n_prompts, size)
    columns = []
    for kind in draw(
        st.lists(
            st.sampled_from(["normal", "binary", "uniform", "constant"]),
            min_size=n_rewards,
            max_size=n_rewards,
        )
    ):
        if kind == "normal":
            columns.append(rng.normal(size=shape))
        elif kind == "binary":
            columns.append(rng.integers(0, 2, shape).astype(float))
        elif kind == "uniform":
            columns.append(rng.uniform(-2.0, 3.0, shape))
        else:  # constant within each group
            columns.append(np.repeat(rng.choice(DYADIC, (n_prompts, 1)), size, axis=1))
    scores = np.stack(columns, axis=-1)
    # Some groups have every sample equal (all rewards constant within the group).
    flat = np.asarray(draw(st.lists(st.booleans(), min_size=n_prompts, max_size=n_prompts)))
    scores[flat] = rng.choice(DYADIC, (int(flat.sum()), 1, n_rewards))
    sizes = draw(st.lists(st.integers(1, size), min_size=n_prompts, max_size=n_prompts))
    mask = np.arange(size)[None, :] < np.asarray(sizes)[:, None]
    mask = mask[:, rng.permutation(size)]
    scores[~mask] = np.nan  # TRL never sees them; rewardviz must not read them
    step = np.asarray(draw(st.lists(st.integers(0, 2), min_size=n_prompts, max_size=n_prompts)))
    weights = rng.uniform(-1.0, 2.0, n_rewards) if draw(st.booleans()) else np.ones(n_rewards)
    return scores, mask, weights, step


@given(trl_batches())
def test_advantages_match_trl_on_random_groups(batch):
    scores, mask, weights, step = batch
    group = rv.GroupRewards.from_arrays(scores, mask, weights=weights, step=step)
    trl_parity(group, scores, mask, weights, step)


def test_advantages_match_trl_on_degenerate_groups():
    rng = np.random.default_rng(11)
    weights = np.array([0.1, 0.1, 0.2])
    scores = rng.normal(size=(7, 4, 3))
    scores[1] = [1.0, 0.5, 0.0]  # all samples equal
    scores[2, :, 1] = 1.0  # one reward constant
    scores[3, :2] = [[2.0, 3.0, 1.0], [3.0, 0.0, 2.0]]  # totals tie up to rounding
    scores[6, :, 0] = 0.0  # a reward constant in its whole step
    mask = np.ones((7, 4), bool)
    mask[3, 2:] = False
    mask[4, 1:] = False  # one valid sample
    mask[5, 1:] = False  # ... alone in its step: a batch of one sample
    mask[0, 0] = mask[2, 3] = False
    scores[~mask] = np.nan
    step = np.array([0, 0, 0, 1, 1, 2, 3])
    for w in (weights, np.ones(3)):
        group = rv.GroupRewards.from_arrays(scores, mask, weights=w, step=step)
        if w is weights:
            assert groups.degenerate_groups(group).total.tolist() == [0, 1, 0, 1, 1, 1, 0]
        trl_parity(group, scores, mask, w, step)


def test_trl_differs_only_by_its_rounding_noise_where_a_reward_is_constant():
    # TRL centres a constant reward by its computed mean: 0.7 three times has a mean one
    # ulp off, so TRL's z is ±1.1e-12 (an ulp over eps) where rewardviz has exactly 0;
    # divided again by the batch spread of R (about 1) it stays below 1e-11.
    scores = np.array([[[0.7, 1.0], [0.7, 0.0], [0.7, 1.0]], [[0.1, 0.0], [0.1, 1.0], [0.1, 0.0]]])
    group = rv.GroupRewards.from_arrays(scores)
    mask, weights, step = np.ones((2, 3), bool), np.ones(2), np.zeros(2, int)
    for aggregation, scale_rewards in TRL_OPTIONS:
        expected = trl_advantages(scores, mask, weights, step, aggregation, scale_rewards)
        actual = np.asarray(groups.advantages(group, scheme=aggregation, normalize=scale_rewards))
        assert np.abs(actual - expected).max() < 1e-11
        parts = np.asarray(groups.attribution(group, scheme=aggregation, normalize=scale_rewards))
        assert (parts[..., 0] == 0).all()


@pytest.mark.parametrize("x64", [True, False])
def test_rewards_that_cancel_never_blow_gdpo_attribution_up(x64):
    # Complementary rewards with equal weights: z_a = -z_b in every group, so R is 0 in
    # exact arithmetic and rounding noise once computed (a few ulps in float32), over the
    # whole step. Standardising R over the batch would divide that noise by about eps.
    a = np.random.default_rng(5).uniform(size=(3, 6))
    scores = np.stack([a, 1 - a], axis=-1)
    with jax.enable_x64(x64):
        group = rv.GroupRewards.from_arrays(scores)
        parts = np.asarray(groups.attribution(group, scheme="normalize_then_sum"))
    assert (parts == 0).all()
    mask, weights, step = np.ones((3, 6), bool), np.ones(2), np.zeros(3, int)
    expected = trl_advantages(scores, mask, weights, step, "normalize_then_sum", "group")
    assert np.abs(expected).max() < 1e-10


# ---------------------------------------------------------------------------
# Totals equal up to rounding: degenerate everywhere, in float64 and float32.

#: (weights, scores of a group) whose totals are equal in exact arithmetic (0.2 = 2·0.1 and
#: 0.6 = 2·0.3 in binary too). Rounded, the first differs in float64 and float32 (0.7 and
#: 0.7000000000000001), the second in float32 and, depending on how the sum is evaluated,
#: in float64; the issue's example, last, happens to round to equal totals.
ROUNDED_TIES = [
    ((0.1, 0.1, 0.2), [[2.0, 3.0, 1.0], [3.0, 0.0, 2.0]]),
    ((0.3, 0.6), [[5.0, 1.0], [7.0, 0.0], [1.0, 3.0]]),
    ((0.1, 0.4), [[1.0, 0.5], [3.0, 0.0]]),
]


def tie_group(weights, scores, precision):
    """The group in ``precision``: float64; float32 numbers in this x64 session, which
    ``from_arrays`` widens to float64; float32 with x64 off (the package default); or
    float32 arrays put in the dataclass directly, computed in float32 in this session."""
    scores = np.array([scores])
    length = np.arange(1.0, scores.shape[1] + 1)[None]
    if precision == "float32 input":
        scores, weights = scores.astype(np.float32), np.asarray(weights, np.float32)
    if precision == "float32 dataclass":
        wide = rv.GroupRewards.from_arrays(scores, weights=weights, length=length)
        return dataclasses.replace(
            wide,
            scores=wide.scores.astype(np.float32),
            weights=wide.weights.astype(np.float32),
            length=wide.length.astype(np.float32),
        )
    return rv.GroupRewards.from_arrays(scores, weights=weights, length=length)


@pytest.mark.parametrize("precision", ["float64", "float32 input", "float32", "float32 dataclass"])
@pytest.mark.parametrize(("weights", "scores"), ROUNDED_TIES)
def test_totals_equal_up_to_rounding_are_degenerate_and_never_blow_attribution_up(
    weights, scores, precision
):
    with jax.enable_x64(precision != "float32"):
        group = tie_group(weights, scores, precision)
        dtype = np.dtype(group.scores.dtype)
        assert dtype == (np.float64 if precision in ("float64", "float32 input") else np.float32)
        # Equal in exact arithmetic on the values as stored.
        stored_w = np.asarray(group.weights).tolist()
        exact = {
            sum(Fraction(w) * Fraction(s) for w, s in zip(stored_w, row, strict=True))
            for row in np.asarray(group.scores)[0].tolist()
        }
        assert len(exact) == 1
        degenerate = groups.degenerate_groups(group)
        assert degenerate.total.tolist() == [True]
        assert not degenerate.per_reward.any()
        drift = groups.length_correlation_drift(group)
        assert drift.correlations[:, -1].tolist() == [0.0]
        drawn = Drawn(
            group, np.asarray(group.scores, float), np.ones((1, len(scores)), bool), stored_w, [0]
        )
        tolerance = (
            {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
        )
        for scheme in groups.SCHEMES:
            for normalize in groups.NORMALIZATIONS:
                parts = np.asarray(groups.attribution(group, scheme=scheme, normalize=normalize))
                advantage = np.asarray(groups.advantages(group, scheme=scheme, normalize=normalize))
                assert parts.dtype == dtype and advantage.dtype == dtype
                if scheme == "sum_then_normalize" and normalize != "mean":
                    assert (parts == 0).all() and (advantage == 0).all()
                # Each part as computed in float64 with the tie decided exactly: O(1), where
                # exact comparison gave ±500 and more.
                expected = loop_attribution(drawn, scheme, normalize, 1, 1e-4, tie=1e-12)
                np.testing.assert_allclose(parts, expected, **tolerance)


# ---------------------------------------------------------------------------
# Construction and bad input.


def test_nan_score_is_named_with_a_mask_hint():
    scores = np.ones((2, 3, 2))
    scores[1, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"prompt 1, sample 2, reward 'b'.*pass mask="):
        rv.GroupRewards.from_arrays(scores, names=["a", "b"])
    mask = np.ones((2, 3), bool)
    mask[1, 2] = False
    group = rv.GroupRewards.from_arrays(scores, mask, names=["a", "b"])  # masked: accepted
    assert int(group.sizes[1]) == 2
    with pytest.raises(ValueError, match=r"prompt 1, sample 2, reward 'b'") as error:
        rv.GroupRewards.from_arrays(scores, np.ones((2, 3), bool), names=["a", "b"])
    assert "pass mask=" not in str(error.value)


def test_ragged_groups_without_a_mask_are_refused():
    with pytest.raises(ValueError, match=r"ragged.*pass mask"):
        rv.GroupRewards.from_arrays([[[1.0], [0.0]], [[1.0]]])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"scores": np.ones((2, 3))}, ValueError, "scores must have shape"),
        ({"scores": np.ones((0, 3, 2))}, ValueError, "empty"),
        ({"mask": np.ones((2, 2), bool)}, ValueError, r"mask must have shape .*\(2, 3\)"),
        ({"mask": np.ones((2, 3))}, TypeError, "mask must be boolean"),
        ({"mask": np.array([[True] * 3, [False] * 3])}, ValueError, "group 1 has no valid"),
        ({"names": ["a"]}, ValueError, "names must have 2 entries"),
        ({"names": ["a", "a"]}, ValueError, "unique"),
        ({"names": "ab"}, TypeError, "names must be a sequence"),
        ({"weights": [1.0, 2.0, 3.0]}, ValueError, r"one entry per reward \(2: \['a', 'b'\]\)"),
        ({"weights": [1.0, np.nan]}, ValueError, "weights contains NaN"),
        ({"weights": {"a": 1.0, "c": 2.0}}, ValueError, r"unknown reward\(s\) \['c'\]"),
        ({"length": np.ones((2, 2))}, ValueError, "length must have shape"),
        ({"length": -np.ones((2, 3))}, ValueError, "length must be non-negative"),
        ({"gold": np.full((2, 3), np.nan)}, ValueError, "gold has a non-finite value at prompt 0"),
        ({"step": [0, 1, 2]}, ValueError, "one training step per group"),
        ({"step": [0.5, 1]}, TypeError, "step must hold integers"),
        ({"prompt_ids": ["x"]}, ValueError, "prompt_ids must have one entry per group"),
    ],
)
def test_from_arrays_validation(kwargs, error, message):
    arguments = {"scores": np.ones((2, 3, 2)), "names": ["a", "b"], **kwargs}
    with pytest.raises(error, match=message):
        rv.GroupRewards.from_arrays(**arguments)


def test_unknown_reward_names_and_bad_options():
    group = rv.GroupRewards.from_arrays(np.ones((2, 3, 2)), names=["format", "accuracy"])
    with pytest.raises(ValueError, match=r"unknown reward name 'length'.*\['format', 'accuracy'\]"):
        group.reward("length")
    with pytest.raises(ValueError, match=r"unknown reward\(s\) \['length'\]"):
        group.with_weights({"length": 2.0})
    with pytest.raises(ValueError, match="one entry per reward"):
        group.with_weights([1.0])
    with pytest.raises(ValueError, match="scheme must be one of"):
        groups.advantages(group, scheme="sum")
    with pytest.raises(ValueError, match="normalize must be one of"):
        groups.advantages(group, normalize="var")
    with pytest.raises(ValueError, match="ddof must be 1"):
        groups.advantages(group, ddof=2)
    with pytest.raises(ValueError, match="eps must be"):
        groups.advantages(group, eps=-1.0)
    with pytest.raises(TypeError, match="group must be a GroupRewards"):
        groups.advantages(np.ones((2, 3, 2)))


def test_with_weights_and_with_reward():
    group = rv.GroupRewards.from_arrays(np.ones((1, 2, 2)), names=["a", "b"], weights=[2.0, 3.0])
    close(group.with_weights({"b": 0.0}).weights, [2.0, 0.0])
    replaced = group.with_reward("a", [[5.0, 6.0]])
    close(replaced.scores[0, :, 0], [5.0, 6.0])
    close(replaced.weights, [2.0, 3.0])
    added = group.with_reward("c", [[1.0, 0.0]], weight=0.5)
    assert added.names == ("a", "b", "c")
    close(added.weights, [2.0, 3.0, 0.5])
    with pytest.raises(ValueError, match=r"values for 'c' must have shape"):
        group.with_reward("c", [1.0, 0.0])
    with pytest.raises(ValueError, match="non-finite value at prompt 0, sample 1"):
        group.with_reward("c", [[1.0, np.nan]])


def test_from_dataframe_ragged_groups_steps_and_metadata():
    rows = []
    for step, prompt, n_samples in ((0, "p1", 3), (0, "p0", 2), (1, "p1", 1)):
        for sample in range(n_samples):
            for reward, value in (("acc", sample % 2), ("fmt", 1.0)):
                rows.append(
                    {
                        "prompt": prompt,
                        "sample": sample,
                        "reward": reward,
                        "score": value,
                        "step": step,
                        "length": 10.0 * sample + step,
                        "gold": 0.5 * sample,
                    }
                )
    group = rv.GroupRewards.from_dataframe(pd.DataFrame(rows), weights={"fmt": 0.1})
    assert group.names == ("acc", "fmt")
    assert group.prompt_ids == ("p0", "p1", "p1")  # by step, then prompt
    np.testing.assert_array_equal(group.step, [0, 0, 1])
    np.testing.assert_array_equal(group.mask, [[1, 1, 0], [1, 1, 1], [1, 0, 0]])
    close(group.scores[1, :, 0], [0.0, 1.0, 0.0])
    close(group.length[1], [0.0, 10.0, 20.0])
    close(group.gold[0], [0.0, 0.5, 0.0])
    close(group.weights, [1.0, 0.1])
    again = rv.GroupRewards.from_dataframe(group.to_frame(), weights=[1.0, 0.1])
    for field in ("scores", "mask", "weights", "step", "length", "gold"):
        np.testing.assert_array_equal(getattr(again, field), getattr(group, field))
    assert again.prompt_ids == group.prompt_ids


def test_from_dataframe_errors():
    frame = pd.DataFrame(
        {"prompt": [0, 0, 0], "sample": [0, 0, 1], "reward": ["a", "b", "a"], "score": [1, 0, 1]}
    )
    with pytest.raises(ValueError, match=r"sample 1 has no score for reward 'b'"):
        rv.GroupRewards.from_dataframe(frame)
    twice = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(ValueError, match=r"2 rows for reward 'a'"):
        rv.GroupRewards.from_dataframe(twice)
    with pytest.raises(ValueError, match=r"no column\(s\) \['score'\]"):
        rv.GroupRewards.from_dataframe(frame.drop(columns="score"))
    with pytest.raises(ValueError, match="no rows"):
        rv.GroupRewards.from_dataframe(frame.iloc[:0])
    nan = frame.assign(score=[1.0, np.nan, 1.0], prompt=["q7"] * 3, step=[3, 3, 3])
    with pytest.raises(ValueError, match=r"prompt 'q7' at step 3, sample 0, reward 'b'"):
        rv.GroupRewards.from_dataframe(nan)
    with pytest.raises(TypeError, match="integer steps"):
        rv.GroupRewards.from_dataframe(frame.assign(step=0.5))
    full = pd.concat(
        [frame, pd.DataFrame({"prompt": [0], "sample": [1], "reward": ["b"], "score": [0]})]
    )
    with pytest.raises(ValueError, match=r"column 'length' differs between the rows of one sample"):
        rv.GroupRewards.from_dataframe(full.assign(length=[1, 2, 3, 3]))


def test_example_and_npz_round_trip(tmp_path):
    group = groups.example_groups()
    assert group.names == ("format", "accuracy", "length")
    assert group.group_size == 8 and group.length is not None and group.gold is not None
    assert len(np.unique(np.asarray(group.step))) > 10
    path = tmp_path / "groups.npz"
    groups.write_npz(group, path)
    again = groups.read_npz(path)
    for field in ("scores", "mask", "weights", "step", "length", "gold"):
        np.testing.assert_array_equal(getattr(again, field), getattr(group, field))
    assert again.prompt_ids == group.prompt_ids and again.names == group.names
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    with pytest.raises(ValueError, match="unknown example groups"):
        groups.example_groups("nope")


def test_read_npz_names_what_is_wrong_with_the_file(tmp_path):
    # Truncated, not a zip, pickled objects, a missing array: a ValueError naming the file,
    # never numpy's or zipfile's own exception.
    good = tmp_path / "groups.npz"
    groups.write_npz(groups.example_groups(), good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text = tmp_path / "text.npz"
    text.write_text("not an archive")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, scores=np.array([{"a": 1}], dtype=object))
    partial = tmp_path / "partial.npz"
    np.savez(partial, scores=np.zeros((1, 2, 1)), mask=np.ones((1, 2), bool))
    for path, reason in (
        (truncated, "not an .npz file|not a readable .npz"),
        (text, "not an .npz file"),
        (pickled, "pickled data"),
        (partial, r"has no \['names', 'weights', 'step', 'prompt_ids'\]"),
    ):
        with pytest.raises(ValueError, match=reason):
            groups.read_npz(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        groups.read_npz(tmp_path / "missing.npz")


# ---------------------------------------------------------------------------
# Transforms.


@given(arrays(np.float64, (3, 4), elements=QUARTERS), QUARTERS)
def test_preference_as_reward(reward, reference):
    expected = [[1 / (1 + math.exp(-(r - reference))) for r in row] for row in reward]
    close(groups.preference_as_reward(reward, reference), expected)
    with pytest.raises(ValueError, match="reward contains NaN"):
        groups.preference_as_reward([np.nan], 0.0)


@given(
    arrays(np.float64, (3, 5), elements=QUARTERS),
    st.lists(st.integers(1, 5), min_size=3, max_size=3),
    QUARTERS,
)
def test_clip_and_delta_process_rewards(rewards, lengths, threshold):
    mask = np.arange(5)[None, :] < np.asarray(lengths)[:, None]
    clipped = np.asarray(groups.clip_process_rewards(rewards, mask, threshold=threshold))
    delta = np.asarray(groups.delta_process_rewards(rewards, mask))
    for i, length in enumerate(lengths):
        for t in range(5):
            if t >= length:
                assert clipped[i, t] == 0 and delta[i, t] == 0
                continue
            assert clipped[i, t] == min(rewards[i, t] - threshold, 0.0)
            following = rewards[i, t + 1] if t + 1 < length else 0.0
            assert delta[i, t] == pytest.approx(rewards[i, t] - following)
            # Telescoping: the reward-to-go from any step is that step's reward.
            assert sum(delta[i, t:length]) == pytest.approx(rewards[i, t])
        assert clipped[i].sum() <= 0
    with pytest.raises(ValueError, match="prefix"):
        groups.delta_process_rewards(np.ones((1, 3)), np.array([[True, False, True]]))


def loop_length_penalty(length, correct, mask):
    out = np.zeros(length.shape)
    for p in range(len(length)):
        valid = [g for g in range(length.shape[1]) if mask[p, g]]
        lo, hi = min(length[p, g] for g in valid), max(length[p, g] for g in valid)
        for g in valid:
            lam = 0.0 if hi == lo else 0.5 - (length[p, g] - lo) / (hi - lo)
            out[p, g] = lam if correct[p, g] else min(0.0, lam)
    return out


@given(drawn_groups(max_rewards=1), st.data())
def test_length_penalties(drawn, data):
    shape = drawn.mask.shape
    length = data.draw(arrays(np.float64, shape, elements=st.integers(1, 6).map(float)))
    correct = data.draw(arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    expected = loop_length_penalty(length, correct, drawn.mask)
    close(groups.length_penalty(length, correct, drawn.mask), expected)
    threshold = data.draw(st.sampled_from([0.0, 0.5, 1.0]))
    gated = np.asarray(
        groups.gated_length_penalty(
            length, correct, drawn.mask, ratio_threshold=threshold, alpha=2.0
        )
    )
    for p in range(shape[0]):
        valid = [g for g in range(shape[1]) if drawn.mask[p, g]]
        ratio = sum(correct[p, g] for g in valid) / len(valid)
        for g in range(shape[1]):
            if not drawn.mask[p, g]:
                assert gated[p, g] == 0
            elif ratio >= threshold:
                assert gated[p, g] == pytest.approx(correct[p, g] + 2.0 * expected[p, g])
            else:
                assert gated[p, g] == correct[p, g]
    with pytest.raises(ValueError, match="ratio_threshold must lie in"):
        groups.gated_length_penalty(length, correct, drawn.mask, ratio_threshold=1.5)


def test_gated_accumulation():
    result = groups.gated_accumulation([0.0, 0.5, 1.0, 0.9], [3.0, 3.0, 3.0, -1.0], threshold=0.9)
    close(result, [0.0, 0.5, 4.0, -0.1])


@given(drawn_groups(max_rewards=1), st.integers(1, 4), st.data())
def test_difficulty_weighted_pass(drawn, n_tests, data):
    shape = (*drawn.mask.shape, n_tests)
    passed = data.draw(arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    reward = np.asarray(groups.difficulty_weighted_pass(passed, drawn.mask))
    for p in range(shape[0]):
        valid = [g for g in range(shape[1]) if drawn.mask[p, g]]
        difficulty = [1 - sum(passed[p, g, u] for g in valid) / len(valid) for u in range(n_tests)]
        total = sum(difficulty)
        weights = [d / total for d in difficulty] if total > 0 else [1 / n_tests] * n_tests
        for g in range(shape[1]):
            expected = (
                sum(w * passed[p, g, u] for u, w in enumerate(weights)) if drawn.mask[p, g] else 0.0
            )
            assert reward[p, g] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="passed must hold 0/1"):
        groups.difficulty_weighted_pass(np.full((1, 2, 1), 2.0))


def test_transform_effects():
    group = groups.example_groups()
    effects = groups.transform_effects(
        group,
        {
            "identity": lambda g: g,
            "no length": lambda g: g.with_weights({"length": 0.0}),
            "PAR length": lambda g: g.with_reward(
                "length", groups.preference_as_reward(g.reward("length"), 0.3)
            ),
        },
    )
    frame = effects.to_frame()
    assert frame.index.tolist() == ["identity", "no length", "PAR length"]
    assert frame.loc["identity", "correlation"] == pytest.approx(1.0)
    assert frame.loc["identity", "sign flips"] == 0.0
    close(effects.advantages[1], groups.advantages(group.with_weights({"length": 0.0})))
    # Without the length reward, groups where accuracy and format tie carry no signal.
    assert frame.loc["no length", "degenerate after"] > frame.loc["no length", "degenerate before"]
    with pytest.raises(TypeError, match="must return a GroupRewards"):
        groups.transform_effects(group, {"bad": lambda g: g.scores})
    other = rv.GroupRewards.from_arrays(np.ones((1, 2, 3)))
    with pytest.raises(ValueError, match="changed the samples"):
        groups.transform_effects(group, {"other": other})
    with pytest.raises(ValueError, match="transforms is empty"):
        groups.transform_effects(group, {})


def test_compare_advantages():
    mask = np.array([[True, True, False]])
    summary = groups.compare_advantages([[1.0, -1.0, 5.0]], [[2.0, 1.0, -5.0]], mask)
    assert summary.sign_flips == 0.5
    assert summary.mean_abs_change == 1.5
    assert summary.correlation == pytest.approx(1.0)  # two points always line up
    assert summary.to_frame().to_dict("records") == [
        {"correlation": summary.correlation, "sign flips": 0.5, "mean |change|": 1.5}
    ]


# ---------------------------------------------------------------------------
# Hacking signals.


def hacking_fixture(peak_step=6, n_steps=12, prompts=5, size=4, seed=0):
    """Gold rises to ``peak_step`` then falls; the proxy rises throughout."""
    rng = np.random.default_rng(seed)
    step = np.repeat(np.arange(n_steps), prompts)
    trend = np.where(step <= peak_step, step, 2 * peak_step - step).astype(float)
    gold = trend[:, None] + rng.normal(0, 0.3, (len(step), size))
    proxy = step[:, None] + rng.normal(0, 0.3, (len(step), size))
    length = 100 + 10 * step[:, None] * rng.uniform(size=(len(step), size))
    return rv.GroupRewards.from_arrays(
        proxy[..., None], names=["rm"], gold=gold, step=step, length=length
    )


def test_proxy_gold_divergence_finds_the_peak_and_matches_loops():
    group = hacking_fixture()
    result = groups.proxy_gold_divergence(group, n_bootstrap=200, seed=1)
    gold, proxy, mask, step = (
        np.asarray(x) for x in (group.gold, group.total, group.mask, group.step)
    )
    for s in range(12):
        rows = [p for p in range(len(step)) if step[p] == s]
        means = [sum(gold[p, g] for g in range(4) if mask[p, g]) / 4 for p in rows]
        assert result.gold[s] == pytest.approx(sum(means) / len(means))
        proxies = [sum(proxy[p, g] for g in range(4)) / 4 for p in rows]
        assert result.proxy[s] == pytest.approx(sum(proxies) / len(proxies))
    assert result.diverged and result.step == 6
    assert result.interval[0] <= 6 <= result.interval[1]
    assert result.proxy_gain > 0 and result.gold_drop > 0
    assert len(result.bootstrap_steps) == 200
    # Same seed, same answer; the proxy can be a named reward.
    again = groups.proxy_gold_divergence(group, proxy="rm", n_bootstrap=200, seed=1)
    np.testing.assert_array_equal(again.bootstrap_steps, result.bootstrap_steps)


def test_proxy_gold_divergence_smoothing_and_no_divergence():
    group = hacking_fixture()
    smooth = groups.proxy_gold_divergence(group, window=3, n_bootstrap=50)
    raw = groups.proxy_gold_divergence(group, n_bootstrap=50)
    close(smooth.gold[1:-1], (raw.gold[:-2] + raw.gold[1:-1] + raw.gold[2:]) / 3)
    close(smooth.gold[0], (raw.gold[0] + raw.gold[1]) / 2)
    rising = hacking_fixture(peak_step=20)  # gold never turns down
    result = groups.proxy_gold_divergence(rising, n_bootstrap=50)
    assert not result.diverged and result.step is None


def test_proxy_gold_divergence_errors():
    group = hacking_fixture()
    with pytest.raises(ValueError, match="no gold scores"):
        groups.proxy_gold_divergence(rv.GroupRewards.from_arrays(np.ones((2, 2, 1)), step=[0, 1]))
    with pytest.raises(ValueError, match="at least two training steps"):
        groups.proxy_gold_divergence(
            rv.GroupRewards.from_arrays(np.ones((2, 2, 1)), gold=np.ones((2, 2)))
        )
    with pytest.raises(ValueError, match="window must be odd"):
        groups.proxy_gold_divergence(group, window=2)
    with pytest.raises(ValueError, match="n_bootstrap must be an integer >= 1"):
        groups.proxy_gold_divergence(group, n_bootstrap=0)
    with pytest.raises(ValueError, match="unknown reward name 'gold'"):
        groups.proxy_gold_divergence(group, proxy="gold")


@given(drawn_groups(), st.data())
def test_length_correlation_drift_matches_loops(drawn, data):
    shape = drawn.mask.shape
    length = data.draw(arrays(np.float64, shape, elements=st.integers(1, 5).map(float)))
    step = data.draw(st.lists(st.integers(0, 2), min_size=shape[0], max_size=shape[0]))
    group = rv.GroupRewards.from_arrays(
        drawn.scores, drawn.mask, weights=drawn.weights, length=length, step=step
    )
    drift = groups.length_correlation_drift(group)
    frame = drift.to_frame()
    assert drift.names == (*group.names, "total")
    np.testing.assert_array_equal(frame.to_numpy(), drift.correlations)
    totals = (np.where(drawn.mask[..., None], drawn.scores, 0) * drawn.weights).sum(-1)
    columns = [*(drawn.scores[..., k] for k in range(drawn.scores.shape[-1])), totals]
    assert frame.index.tolist() == sorted(set(step))

    def centred(values, p):
        samples = [g for g in range(shape[1]) if drawn.mask[p, g]]
        column = [values[p, g] for g in samples]
        if loop_flat(column):
            return [0.0] * len(samples)
        return [v - sum(column) / len(column) for v in column]

    for s in sorted(set(step)):
        for k, values in enumerate(columns):
            cross = squares = length_squares = 0.0
            for p in range(shape[0]):
                if step[p] != s:
                    continue
                for a, b in zip(centred(values, p), centred(length, p), strict=True):
                    cross += a * b
                    squares += a * a
                    length_squares += b * b
            expected = (
                cross / math.sqrt(squares * length_squares) if squares * length_squares > 0 else 0.0
            )
            assert frame.loc[s].iloc[k] == pytest.approx(expected, abs=1e-9)


def test_length_correlation_drift_on_the_example_rises():
    drift = groups.length_correlation_drift(groups.example_groups())
    assert drift.slope("total") > 0
    assert drift.slopes.shape == (len(drift.names),)
    # The slopes are the least-squares fits of the correlations over steps.
    for k in range(len(drift.names)):
        expected = np.polyfit(drift.steps, drift.correlations[:, k], 1)[0]
        assert drift.slopes[k] == pytest.approx(expected, rel=1e-6, abs=1e-12)
    with pytest.raises(ValueError, match="unknown column"):
        drift.slope("gold")
    with pytest.raises(ValueError, match="no completion lengths"):
        groups.length_correlation_drift(rv.GroupRewards.from_arrays(np.ones((1, 2, 1))))


@given(drawn_groups(), st.data())
def test_saturation_matches_loops(drawn, data):
    shape = drawn.scores.shape
    step = data.draw(st.lists(st.integers(0, 2), min_size=shape[0], max_size=shape[0]))
    group = rv.GroupRewards.from_arrays(drawn.scores, drawn.mask, step=step)
    result = groups.saturation(group)
    frame = result.to_frame()
    assert result.level.shape == result.degenerate.shape == (len(set(step)), shape[2])
    for k, name in enumerate(group.names):
        every = [
            drawn.scores[p, g, k]
            for p in range(shape[0])
            for g in range(shape[1])
            if drawn.mask[p, g]
        ]
        lo, hi = min(every), max(every)
        for s in sorted(set(step)):
            rows = [p for p in range(shape[0]) if step[p] == s]
            values = [
                drawn.scores[p, g, k] for p in rows for g in range(shape[1]) if drawn.mask[p, g]
            ]
            mean = sum(values) / len(values)
            level = (mean - lo) / (hi - lo) if hi > lo else 0.0
            flat = [
                loop_flat([drawn.scores[p, g, k] for g in range(shape[1]) if drawn.mask[p, g]])
                for p in rows
            ]
            assert frame.loc[s, (name, "level")] == pytest.approx(level, abs=1e-12)
            assert frame.loc[s, (name, "degenerate")] == pytest.approx(sum(flat) / len(flat))


# ---------------------------------------------------------------------------
# The package layout, writing safely, and the old spellings.


def test_every_name_is_reexported_from_its_module():
    import importlib

    modules = ["comparison", "group_rewards", "hacking", "learning_signal", "npz", "transforms"]
    seen = []
    for name in modules:
        module = importlib.import_module(f"rewardviz.groups.{name}")
        assert module.__doc__ and module.__all__ == sorted(module.__all__, key=_ruff_order)
        for public in module.__all__:
            assert getattr(groups, public) is getattr(module, public), public
            if not public.isupper():  # constants have no __module__
                assert getattr(module, public).__module__ == module.__name__, public
        seen += module.__all__
    assert sorted(seen) == sorted(groups.__all__)


def _ruff_order(name):
    # ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest.
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path, monkeypatch):
    group = groups.example_groups()
    path = tmp_path / "groups.npz"
    path.write_bytes(b"the old file")

    def fail_halfway(file, **arrays):
        file.write(b"half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        groups.write_npz(group, path, overwrite=True)
    assert path.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["groups.npz"]


def test_the_bootstrap_seed_may_be_a_key():
    group = hacking_fixture()
    by_int = groups.proxy_gold_divergence(group, n_bootstrap=50, seed=3)
    by_key = groups.proxy_gold_divergence(group, n_bootstrap=50, seed=jax.random.key(3))
    again = groups.proxy_gold_divergence(group, n_bootstrap=50, seed=jax.random.key(3))
    np.testing.assert_array_equal(by_key.bootstrap_steps, again.bootstrap_steps)
    assert by_int.step == by_key.step
    with pytest.raises(TypeError, match=r"seed must be an integer or a jax\.random key"):
        groups.proxy_gold_divergence(group, seed="three")


def test_the_bootstrap_resamples_groups_within_their_step():
    # Oracle: the resamples come from rewardviz._bootstrap, one seed per step.
    from rewardviz import _bootstrap

    group = hacking_fixture(n_steps=3, prompts=4)
    result = groups.proxy_gold_divergence(group, n_bootstrap=20, seed=5)
    gold = np.asarray(group.gold).mean(1).reshape(3, 4)  # [step, group of that step]
    seeds = np.random.SeedSequence(5).generate_state(3)
    curves = np.stack(
        [gold[s, _bootstrap.resample_indices(int(seeds[s]), 4, 20)].mean(1) for s in range(3)],
        axis=1,
    )
    np.testing.assert_array_equal(result.bootstrap_steps, curves.argmax(1))


POSITIONAL_CALLS = {
    "advantages": (
        lambda g: groups.advantages(g, "sum_of_normalized", "mean"),
        lambda g: groups.advantages(g, scheme="sum_of_normalized", normalize="mean"),
        "scheme=, normalize=",
    ),
    "attribution": (
        lambda g: groups.attribution(g, "normalize_then_sum", "std", 0, 1e-3),
        lambda g: groups.attribution(g, scheme="normalize_then_sum", ddof=0, eps=1e-3),
        "scheme=, normalize=, ddof=, eps=",
    ),
    "transform_effects": (
        lambda g: groups.transform_effects(g, {"same": g}, "sum_of_normalized").advantages,
        lambda g: groups.transform_effects(g, {"same": g}, scheme="sum_of_normalized").advantages,
        "scheme=",
    ),
    "gated_length_penalty": (
        lambda g: groups.gated_length_penalty(g.length, g.reward("accuracy"), g.mask, 0.25, 2.0),
        lambda g: groups.gated_length_penalty(
            g.length, g.reward("accuracy"), g.mask, ratio_threshold=0.25, alpha=2.0
        ),
        "ratio_threshold=, alpha=",
    ),
    "clip_process_rewards": (
        lambda g: groups.clip_process_rewards(g.reward("length"), g.mask, 0.5),
        lambda g: groups.clip_process_rewards(g.reward("length"), g.mask, threshold=0.5),
        "threshold=",
    ),
    "gated_accumulation": (
        lambda g: groups.gated_accumulation(g.reward("accuracy"), g.reward("length"), 1.0),
        lambda g: groups.gated_accumulation(
            g.reward("accuracy"), g.reward("length"), threshold=1.0
        ),
        "threshold=",
    ),
    "proxy_gold_divergence": (
        lambda g: groups.proxy_gold_divergence(g, "length", n_bootstrap=20).bootstrap_steps,
        lambda g: groups.proxy_gold_divergence(g, proxy="length", n_bootstrap=20).bootstrap_steps,
        "proxy=",
    ),
}


@pytest.mark.parametrize("name", sorted(POSITIONAL_CALLS))
def test_options_passed_by_position_warn_and_still_work(name):
    old, new, keywords = POSITIONAL_CALLS[name]
    group = groups.example_groups()
    group = dataclasses.replace(
        group,
        **{
            field: getattr(group, field)[:48]
            for field in ("scores", "mask", "step", "length", "gold")
        },
        prompt_ids=group.prompt_ids[:48],
    )
    with pytest.warns(DeprecationWarning, match=re.escape(keywords.replace("=", "=..."))):
        before = old(group)
    np.testing.assert_array_equal(np.asarray(before), np.asarray(new(group)))


def test_options_by_position_and_keyword_at_once_are_refused():
    group = groups.example_groups()
    with pytest.raises(TypeError, match="multiple values for argument 'scheme'"):
        groups.advantages(group, "sum_of_normalized", scheme="sum_of_normalized")
    with pytest.raises(TypeError, match=r"takes 1 positional arguments .* but 6 were given"):
        groups.advantages(group, "sum_of_normalized", "std", 1, 1e-4, "extra")


def test_old_result_spellings_warn_and_give_the_old_values():
    group = groups.example_groups()
    first, second = groups.advantages(group), groups.advantages(group, scheme="normalize_then_sum")
    summary = groups.compare_advantages(first, second, group.mask)
    for key, new in (
        ("sign flips", "sign_flips"),
        ("mean |change|", "mean_abs_change"),
        ("correlation", "correlation"),
    ):
        with pytest.warns(DeprecationWarning, match=rf"\.{new}"):
            assert summary[key] == getattr(summary, new)
    drift = groups.length_correlation_drift(group)
    with pytest.warns(DeprecationWarning, match="slopes"):
        assert drift.attrs["slope"]["total"] == drift.slope("total")
    with pytest.warns(DeprecationWarning, match=r"to_frame\(\)\.index"):
        np.testing.assert_array_equal(drift.index, drift.steps)
    with pytest.warns(DeprecationWarning, match=r"to_frame\(\)\['total'\]"):
        np.testing.assert_array_equal(drift["total"].to_numpy(), drift.correlations[:, -1])
    assert not hasattr(drift, "no_such_attribute")
    rates = groups.degenerate_rate_by_step(group)
    with pytest.warns(DeprecationWarning, match=r"degenerate_rate_by_step\(\.\.\.\)\.to_frame\(\)"):
        np.testing.assert_array_equal(rates["total"].to_numpy(), rates.rates[:, 0])
    saturated = groups.saturation(group)
    with pytest.warns(DeprecationWarning, match=r"saturation\(\.\.\.\)\.to_frame\(\)\.xs"):
        levels = saturated.xs("level", axis=1, level=1)
    np.testing.assert_array_equal(levels.to_numpy(), saturated.level)
