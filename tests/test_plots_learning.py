"""Learning plots draw what a LearningComparison holds: checked against the arrays by hand."""

import matplotlib
import numpy as np
import plotly.graph_objects as go
import pytest

import rewardviz as rv
from rewardviz import learning

matplotlib.use("Agg")

NAMES = ("sparse", "shaped", "bonus")


@pytest.fixture(scope="module")
def world():
    mdp, reward = rv.envs.gridworld(["S..#", ".#.G", "...L"], gamma=0.9)
    potential = -rv.envs.steps_to_goal(mdp)
    candidates = {
        "sparse": reward,
        "shaped": rv.shaping.potential_shaping(mdp, reward, float(mdp.gamma) ** -potential),
        "bonus": rv.shaping.progress_bonus(mdp, reward, potential, 1.0),
    }
    result = learning.compare_rewards(
        mdp, reward, candidates, n_seeds=6, steps=900, eval_every=150, n_bootstrap=200
    )
    return mdp, result


def test_learning_curves_draw_the_seed_means_and_their_bands(world):
    _, result = world
    figure = rv.plots.learning_curves(result, title="curves")
    assert [trace.name for trace in figure.data] == [
        "sparse (CI)",
        "sparse",
        "shaped (CI)",
        "shaped",
        "bonus (CI)",
        "bonus",
        "optimal",
    ]
    steps = np.asarray(result.steps, float)
    for r in range(3):
        band, line = figure.data[2 * r], figure.data[2 * r + 1]
        means = [sum(result.returns[r, :, e]) / 6 for e in range(len(steps))]
        np.testing.assert_allclose(line.y, means, rtol=1e-12)
        np.testing.assert_array_equal(line.x, steps)
        rows = result.curves[result.curves.reward == NAMES[r]]
        np.testing.assert_allclose(
            band.y, np.concatenate([rows.return_high, rows.return_low.to_numpy()[::-1]])
        )
        assert np.all(rows.return_low <= np.asarray(means) + 1e-12)
        assert np.all(np.asarray(means) <= rows.return_high + 1e-12)
    assert list(figure.data[-1].y) == [result.optimal_return] * 2
    assert figure.layout.title.text == "curves"


def test_regret_curves_have_no_optimal_line(world):
    _, result = world
    figure = rv.plots.learning_curves(result, quantity="regret")
    assert len(figure.data) == 6
    for r in range(3):
        means = [np.mean(result.regret[r, :, e]) for e in range(len(result.steps))]
        np.testing.assert_allclose(figure.data[2 * r + 1].y, means, rtol=1e-12, atol=1e-15)


def test_update_redraws_the_same_traces(world):
    mdp, result = world
    figure = go.FigureWidget(rv.plots.learning_curves(result))
    traces = list(figure.data)
    true_reward = rv.envs.random_reward(mdp, seed=0)
    candidates = {"a": true_reward, "b": -true_reward, "c": rv.envs.random_reward(mdp, seed=1)}
    other = learning.compare_rewards(
        mdp,
        true_reward,
        candidates,
        n_seeds=6,
        steps=900,
        eval_every=150,
        n_bootstrap=200,
    )
    assert rv.plots.update_learning_curves(figure, other, title="new") is figure
    assert all(new is old for new, old in zip(figure.data, traces, strict=True))
    assert [figure.data[i].name for i in (1, 3, 5)] == ["a", "b", "c"]
    np.testing.assert_allclose(figure.data[1].y, other.returns[0].mean(axis=0), rtol=1e-12)
    assert figure.layout.title.text == "new"
    with pytest.raises(ValueError, match=r"figure has 7 traces but a regret curve"):
        rv.plots.update_learning_curves(figure, other, quantity="regret")


def test_steps_to_threshold_bars_show_means_intervals_and_reach(world):
    _, result = world
    figure = rv.plots.steps_to_threshold(result)
    (bars,) = figure.data
    summary = result.summary
    np.testing.assert_allclose(bars.y, summary.steps_to_threshold)
    np.testing.assert_allclose(bars.error_y.array, summary.steps_to_threshold_high - bars.y)
    np.testing.assert_allclose(bars.error_y.arrayminus, bars.y - summary.steps_to_threshold_low)
    for r, text in enumerate(bars.text):
        reached = sum(any(1 - x >= 0.9 for x in result.regret[r, i]) for i in range(6))
        assert text == f"{reached}/6 reached"
    assert "90% of optimal" in figure.layout.yaxis.title.text


def test_visitation_heatmaps_place_mean_visits_on_the_grid(world):
    mdp, result = world
    figure = rv.plots.visitation_heatmaps(mdp, result)
    heatmaps = [
        trace
        for trace in figure.data
        if isinstance(trace, go.Heatmap) and trace.name.startswith("visits")
    ]
    assert [trace.name for trace in heatmaps] == [f"visits {name}" for name in NAMES]
    terminal = np.asarray(mdp.terminal)
    for r, heatmap in enumerate(heatmaps):
        z = np.array([[np.nan if v is None else v for v in row] for row in heatmap.z], float)
        for state, (row, col) in enumerate(mdp.grid_cells):
            if terminal[state]:  # never acted in: drawn in its own colour, off the scale
                assert np.isnan(z[row, col]) and result.visits[r, :, state].sum() == 0
                continue
            mean = sum(result.visits[r, i, state] for i in range(6)) / 6
            assert z[row, col] == pytest.approx(np.log10(1 + mean), rel=1e-12)
        assert np.isnan(z[0, 3])  # the wall
    assert sum(trace.name == "policy" for trace in figure.data) == 3
    no_arrows = rv.plots.visitation_heatmaps(mdp, result, policy=False)
    assert not any(trace.name == "policy" for trace in no_arrows.data)


def test_the_matplotlib_variant_draws_on_the_given_axes(world):
    import matplotlib.pyplot as plt

    _, result = world
    _, ax = plt.subplots()
    assert rv.plots.learning_curves_matplotlib(result, ax=ax) is ax
    lines = [line for line in ax.get_lines() if line.get_label() in NAMES]
    np.testing.assert_allclose(lines[0].get_ydata(), result.returns[0].mean(axis=0), rtol=1e-12)
    plt.close(ax.figure)


def test_bad_input_is_refused(world):
    _, result = world
    with pytest.raises(
        TypeError, match=r"result must be a rewardviz\.learning\.LearningComparison"
    ):
        rv.plots.learning_curves(result.frame)
    with pytest.raises(ValueError, match=r"quantity must be one of"):
        rv.plots.learning_curves(result, quantity="auc")
    other, _ = rv.envs.gridworld(["S.G"])
    with pytest.raises(ValueError, match=r"pass the MDP given to compare_rewards"):
        rv.plots.visitation_heatmaps(other, result)
