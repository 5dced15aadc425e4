"""Tests of ComponentExplorer: what it draws is the log reweighted, checked with numpy here.

Returns, shares and ranks are recomputed from the raw arrays of the log with loops and
numpy, independently of rv.decompose, and compared with what the figures hold.
"""

import numpy as np
import pytest
import scipy.stats
from test_widget_messages import assert_strict_json, sent_messages

import rewardviz as rv
from rewardviz import decompose

NAMES = ("forward", "ctrl", "alive")
WEIGHTS = np.array([1.0, -0.5, 2.0])
LENGTHS = np.array([8, 3, 5, 1, 6, 8])


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(11)
    components = rng.normal(size=(len(LENGTHS), LENGTHS.max(), len(NAMES)))
    mask = np.arange(LENGTHS.max())[None, :] < LENGTHS[:, None]
    return np.where(mask[..., None], components, 0.0), mask


@pytest.fixture
def explorer(arrays):
    components, mask = arrays
    log = rv.RewardLog.from_arrays(components, mask, names=NAMES, weights=WEIGHTS)
    return rv.widgets.ComponentExplorer(log, gamma=0.9)


def returns_by_hand(arrays, weights, gamma):
    """``[E, K]`` discounted weighted component returns over valid steps."""
    components, mask = arrays
    returns = np.zeros((components.shape[0], components.shape[2]))
    for e in range(components.shape[0]):
        for t in range(components.shape[1]):
            if mask[e, t]:
                returns[e] += gamma**t * components[e, t] * weights
    return returns


def ranks_by_hand(episode_returns):
    ranks = np.empty(len(episode_returns), dtype=int)
    ranks[np.argsort(-episode_returns, kind="stable")] = np.arange(len(episode_returns))
    return ranks


def bars(explorer):
    return {trace.name: np.asarray(trace.y, float) for trace in explorer.fig.data[:-1]}


def drawn_ranks(explorer):
    """``[E]`` old and new ranks read off the ranking figure's line ends."""
    old, new = np.full(len(LENGTHS), -1), np.full(len(LENGTHS), -1)
    for trace in explorer.figs["ranking"].data:
        points = np.asarray(trace.y, float).reshape(-1, 3)
        drawn = ~np.isnan(points[:, 0])
        old[drawn], new[drawn] = points[drawn, 0], points[drawn, 1]
    return old, new


def test_starts_at_the_logs_weights(explorer, arrays):
    components, _ = arrays
    for (name, slider), weight in zip(explorer.weight_sliders.items(), WEIGHTS, strict=True):
        assert slider.description == name
        assert slider.value == weight
        assert (slider.min, slider.max) == (-2 * abs(weight) - 1, 2 * abs(weight) + 1)
    for k, name in enumerate(NAMES):
        np.testing.assert_allclose(bars(explorer)[name], WEIGHTS[k] * components[0, :, k])
    old, new = drawn_ranks(explorer)
    np.testing.assert_array_equal(old, new)


def test_weight_slider_reweights_the_bars_and_the_ranking(explorer, arrays):
    components, _ = arrays
    explorer.weight_sliders["ctrl"].value = 1.75
    weights = np.array([1.0, 1.75, 2.0])

    shown = bars(explorer)
    for k, name in enumerate(NAMES):
        np.testing.assert_allclose(shown[name], weights[k] * components[0, :, k])
    np.testing.assert_allclose(explorer.fig.data[-1].y, components[0] @ weights)

    old_returns = returns_by_hand(arrays, WEIGHTS, 0.9).sum(axis=1)
    new_returns = returns_by_hand(arrays, weights, 0.9).sum(axis=1)
    old, new = drawn_ranks(explorer)
    np.testing.assert_array_equal(old, ranks_by_hand(old_returns))
    np.testing.assert_array_equal(new, ranks_by_hand(new_returns))
    assert not np.array_equal(old, new), "choose a weight that changes the ranking"

    change = decompose.reweight(explorer._log, weights, 0.9)
    np.testing.assert_array_equal(new, np.asarray(change.new_rank))
    state = explorer.state()
    assert state.weights == dict(zip(NAMES, weights.tolist(), strict=True))
    assert (state.gamma, state.episode) == (0.9, 0)
    expected_rho = scipy.stats.spearmanr(old_returns, new_returns).statistic
    assert state.rank_correlation == pytest.approx(expected_rho)


def test_episode_slider_shows_that_episode(explorer, arrays):
    components, _ = arrays
    explorer.weight_sliders["alive"].value = -1.0
    explorer.episode_slider.value = 2
    weights = np.array([1.0, -0.5, -1.0])
    shown = bars(explorer)
    for k, name in enumerate(NAMES):
        np.testing.assert_allclose(shown[name], weights[k] * components[2, :, k])
    assert tuple(explorer.fig.layout.xaxis.range) == (-0.5, LENGTHS[2] - 0.5)
    expected_return = returns_by_hand(arrays, weights, 0.9)[2].sum()
    assert explorer.fig.layout.title.text.startswith(f"Episode 2 ({LENGTHS[2]} steps)")
    assert f"{expected_return:.4g}" in explorer.fig.layout.title.text
    assert explorer.state().episode == 2


def test_gamma_changes_the_shares(explorer, arrays):
    def expected_shares(gamma):
        returns = np.abs(returns_by_hand(arrays, WEIGHTS, gamma))
        return (returns / returns.sum(axis=1, keepdims=True)).mean(axis=0)

    shares = explorer.figs["shares"].data[0]
    np.testing.assert_allclose(shares.x, expected_shares(0.9))
    explorer.gamma_slider.value = 0.3
    np.testing.assert_allclose(shares.x, expected_shares(0.3))
    assert not np.allclose(expected_shares(0.3), expected_shares(0.9))
    assert explorer.state().gamma == 0.3


def test_updates_reuse_the_figures_and_traces(explorer):
    figures = dict(explorer.figs)
    traces = {name: list(figure.data) for name, figure in figures.items()}
    assert figures["contributions"] is explorer.fig
    explorer.weight_sliders["forward"].value = -2.0
    explorer.episode_slider.value = 4
    explorer.gamma_slider.value = 0.5
    for name, figure in explorer.figs.items():
        assert figure is figures[name]
        assert len(figure.data) == len(traces[name])
        assert all(a is b for a, b in zip(figure.data, traces[name], strict=True))


def test_moving_controls_does_not_recompile(explorer):
    kernels = [
        decompose._reweight,
        decompose._raw_returns,
        decompose._component_returns,
        decompose._shares,
    ]
    # Warm up: one move of each control compiles whatever it needs.
    explorer.weight_sliders["ctrl"].value = 0.3
    explorer.episode_slider.value = 1
    explorer.gamma_slider.value = 0.7
    compiled = [kernel._cache_size() for kernel in kernels]
    for value in (-1.2, 0.0, 1.9):
        explorer.weight_sliders["ctrl"].value = value
        explorer.weight_sliders["alive"].value = value / 2
    for episode in (0, 3, 5):
        explorer.episode_slider.value = episode
    for gamma in (0.0, 0.42, 1.0):
        explorer.gamma_slider.value = gamma
    assert [kernel._cache_size() for kernel in kernels] == compiled


def test_state_and_updates_sent_to_the_browser_are_strict_json(explorer):
    for figure in explorer.figs.values():
        assert_strict_json(figure.get_state())
    for figure in explorer.figs.values():

        def move():
            explorer.weight_sliders["forward"].value += 0.5

        messages = sent_messages(figure, move)
        assert messages, "moving a weight sent no update to the browser"
        for message in messages:
            assert_strict_json(message)


def test_bad_arguments_raise(arrays):
    components, mask = arrays
    log = rv.RewardLog.from_arrays(components, mask, names=NAMES)
    with pytest.raises(TypeError, match=r"log must be a rewardviz\.RewardLog"):
        rv.widgets.ComponentExplorer(components)
    with pytest.raises(ValueError, match=r"episode must lie in \[0, 5\]"):
        rv.widgets.ComponentExplorer(log, episode=6)
    with pytest.raises(TypeError, match="episode must be an integer"):
        rv.widgets.ComponentExplorer(log, episode=1.5)
    with pytest.raises(ValueError, match=r"gamma must lie in \[0.0, 1.0\]"):
        rv.widgets.ComponentExplorer(log, gamma=1.5)
