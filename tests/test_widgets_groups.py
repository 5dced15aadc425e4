"""Tests of GroupExplorer: what it draws is the group's attribution, recomputed by hand here."""

import math

import numpy as np
import pytest
from test_widget_messages import assert_strict_json, sent_messages

import rewardviz as rv
from rewardviz.groups import learning_signal

NAMES = ("format", "accuracy", "length")
WEIGHTS = np.array([0.5, 1.0, 0.25])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    scores = np.stack(
        [
            rng.integers(0, 2, (6, 4)).astype(float),
            rng.integers(0, 2, (6, 4)).astype(float),
            rng.uniform(size=(6, 4)),
        ],
        axis=-1,
    )
    mask = np.ones((6, 4), bool)
    mask[2, 3] = False
    return scores, mask


@pytest.fixture
def explorer(data):
    scores, mask = data
    group = rv.GroupRewards.from_arrays(scores, mask, names=NAMES, weights=WEIGHTS)
    return rv.widgets.GroupExplorer(group, index=2)


def parts_by_hand(scores, mask, weights, index, eps=1e-4, spread=None):
    """Sum-then-normalise attribution of one group, with loops; ``spread`` replaces the
    group's standard deviation of the totals (the batch's, for ``normalize="batch"``)."""
    samples = [g for g in range(scores.shape[1]) if mask[index, g]]
    totals = [sum(w * scores[index, g, k] for k, w in enumerate(weights)) for g in samples]
    n = len(samples)
    out = np.full((scores.shape[1], scores.shape[2]), np.nan)
    if all(t == totals[0] for t in totals):
        out[samples] = 0.0
        return out
    mean_total = sum(totals) / n
    std = math.sqrt(sum((t - mean_total) ** 2 for t in totals) / (n - 1))
    std = std if spread is None else spread
    for k, w in enumerate(weights):
        column = [scores[index, g, k] for g in samples]
        flat = all(v == column[0] for v in column)
        for i, g in enumerate(samples):
            centred = 0.0 if flat else column[i] - sum(column) / n
            out[g, k] = w * centred / (std + eps)
    return out


def normalised_parts_by_hand(scores, mask, index, eps=1e-4):
    """Normalise-then-sum attribution of one group, with loops."""
    samples = [g for g in range(scores.shape[1]) if mask[index, g]]
    n = len(samples)
    out = np.full((scores.shape[1], scores.shape[2]), np.nan)
    for k, w in enumerate(WEIGHTS):
        column = [scores[index, g, k] for g in samples]
        mean = sum(column) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in column) / (n - 1))
        flat = all(v == column[0] for v in column)
        for i, g in enumerate(samples):
            out[g, k] = 0.0 if flat else w * (column[i] - mean) / (std + eps)
    return out


def gdpo_parts_by_hand(scores, mask, weights, index, eps=1e-4):
    """TRL's normalise-then-sum (GDPO) attribution of one group, with loops: every group is
    in the batch (the fixture has no steps)."""
    weighted = {}
    for p in range(scores.shape[0]):
        samples = [g for g in range(scores.shape[1]) if mask[p, g]]
        n = len(samples)
        weighted[p] = {g: [0.0] * scores.shape[2] for g in samples}
        for k, w in enumerate(weights):
            column = [scores[p, g, k] for g in samples]
            if all(v == column[0] for v in column):
                continue
            mean = sum(column) / n
            std = math.sqrt(sum((v - mean) ** 2 for v in column) / (n - 1))
            for g, v in zip(samples, column, strict=True):
                weighted[p][g][k] = w * (v - mean) / (std + eps)
    combined = [sum(parts) for group in weighted.values() for parts in group.values()]
    mean = sum(combined) / len(combined)
    spread = math.sqrt(sum((r - mean) ** 2 for r in combined) / (len(combined) - 1)) + eps
    out = np.full((scores.shape[1], scores.shape[2]), np.nan)
    for g, parts in weighted[index].items():
        out[g] = [part / spread for part in parts]
    return out


def drawn(explorer):
    bars = [np.array(trace.y, dtype=float) for trace in explorer.fig.data[:-1]]
    return np.stack(bars, axis=1)


def test_starts_with_the_logs_weights_and_group(explorer, data):
    scores, mask = data
    np.testing.assert_allclose(drawn(explorer), parts_by_hand(scores, mask, WEIGHTS, 2))
    assert "group 2" in explorer.fig.layout.title.text
    assert explorer.state().weights == dict(zip(NAMES, WEIGHTS.tolist(), strict=True))
    assert "carry no signal" in explorer.status.value
    assert_strict_json(explorer.fig.to_plotly_json())


def test_controls_redraw_in_place_without_recompiling(explorer, data):
    scores, mask = data
    traces = list(explorer.fig.data)
    explorer.weight_sliders["length"].value = 1.5  # the top of its range
    before = learning_signal._attribution._cache_size()
    explorer.weight_sliders["format"].value = 0.0
    explorer.eps_slider.value = 1e-2
    explorer.group_slider.value = 4
    assert learning_signal._attribution._cache_size() == before
    assert list(explorer.fig.data) == traces
    weights = np.array([0.0, 1.0, 1.5])
    np.testing.assert_allclose(drawn(explorer), parts_by_hand(scores, mask, weights, 4, 1e-2))
    messages = sent_messages(explorer.fig, lambda: setattr(explorer.group_slider, "value", 2))
    for message in messages:
        assert_strict_json(message)


def test_scheme_and_normalisation(explorer, data):
    explorer.normalize_toggle.value = "mean"
    mean_parts = drawn(explorer)
    explorer.scheme_dropdown.value = "sum_of_normalized"
    np.testing.assert_allclose(drawn(explorer), mean_parts)  # centring only: schemes agree
    explorer.normalize_toggle.value = "std"
    scores, mask = data
    np.testing.assert_allclose(drawn(explorer), normalised_parts_by_hand(scores, mask, 2))
    state = explorer.state()
    assert (state.scheme, state.normalize) == ("sum_of_normalized", "std")


def test_gdpo_disables_the_normalisation_and_batch_scaling_draws_the_steps_spread(explorer, data):
    scores, mask = data
    assert not explorer.normalize_toggle.disabled
    explorer.scheme_dropdown.value = "normalize_then_sum"
    assert explorer.normalize_toggle.disabled  # TRL ignores scale_rewards here
    expected = gdpo_parts_by_hand(scores, mask, WEIGHTS, 2)
    np.testing.assert_allclose(drawn(explorer), expected)
    before = learning_signal._attribution._cache_size()
    for normalize in ("mean", "batch", "std"):
        explorer.normalize_toggle.value = normalize
        np.testing.assert_allclose(drawn(explorer), expected)
    assert learning_signal._attribution._cache_size() == before
    explorer.scheme_dropdown.value = "sum_then_normalize"
    explorer.normalize_toggle.value = "batch"
    assert not explorer.normalize_toggle.disabled
    totals = [
        sum(w * scores[p, g, k] for k, w in enumerate(WEIGHTS))
        for p in range(scores.shape[0])
        for g in range(scores.shape[1])
        if mask[p, g]
    ]
    mean = sum(totals) / len(totals)
    batch_std = math.sqrt(sum((t - mean) ** 2 for t in totals) / (len(totals) - 1))
    by_hand = parts_by_hand(scores, mask, WEIGHTS, 2, spread=batch_std)
    np.testing.assert_allclose(drawn(explorer), by_hand)
    assert explorer.state().normalize == "batch"


def test_all_weights_zero_make_every_group_degenerate(explorer):
    for slider in explorer.weight_sliders.values():
        slider.value = 0.0
    assert explorer.state().degenerate_fraction == 1.0
    assert "100.0%" in explorer.status.value
    np.testing.assert_array_equal(np.nan_to_num(drawn(explorer)), 0.0)


def test_bad_arguments(data):
    scores, mask = data
    group = rv.GroupRewards.from_arrays(scores, mask, names=NAMES)
    with pytest.raises(TypeError, match="GroupRewards"):
        rv.widgets.GroupExplorer(scores)
    with pytest.raises(ValueError, match=r"index must lie in \[0, 5\]"):
        rv.widgets.GroupExplorer(group, index=6)
    with pytest.raises(ValueError, match="scheme must be one of"):
        rv.widgets.GroupExplorer(group, scheme="sum")
    explorer = rv.widgets.GroupExplorer(group)
    assert explorer._repr_mimebundle_() is not None
