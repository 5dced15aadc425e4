"""Plots of learned rewards: distance curves with bootstrap bands, reward maps, in-place updates."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import plotly.graph_objects as go
import pytest

import rewardviz as rv
from rewardviz.plots.reward_learning import (
    learned_reward_distances,
    learned_reward_maps,
    update_learned_reward_distances,
    update_learned_reward_maps,
)
from rewardviz.reward_learning.evaluate import DISTANCES, evaluate_learned

LAYOUT = ["S..#", ".#.G", "...L"]


@pytest.fixture(scope="module")
def grid():
    return rv.envs.gridworld(LAYOUT, gamma=0.9, slip=0.1)


@pytest.fixture(scope="module")
def evaluations(grid):
    mdp, reward = grid
    noise = jax.random.normal(jax.random.key(0), (4, 3, *reward.shape))
    learned = reward + noise * jnp.array([1.0, 0.3, 0.1])[None, :, None, None, None]
    first = evaluate_learned(mdp, reward, learned, sizes=(10, 30, 100), n_bootstrap=200)
    second = evaluate_learned(mdp, reward, learned[:, ::-1], sizes=(2, 4, 6), n_bootstrap=200)
    return first, second


def check_curves(figure, evaluation, distances):
    summary = evaluation.summary()
    sizes = np.asarray(evaluation.sizes, dtype=float)
    assert len(figure.data) == 2 * len(distances)
    for index, name in enumerate(distances):
        band, line = figure.data[2 * index], figure.data[2 * index + 1]
        rows = summary[summary.distance == name]
        np.testing.assert_allclose(line.x, sizes)
        np.testing.assert_allclose(line.y, rows["mean"])
        np.testing.assert_allclose(band.x, np.concatenate([sizes, sizes[::-1]]))
        np.testing.assert_allclose(band.y, np.concatenate([rows["high"], rows["low"][::-1]]))
        assert band.fill == "toself" and line.name == name
        # Each curve in its own panel.
        assert band.xaxis == line.xaxis == ("x" if index == 0 else f"x{index + 1}")


def test_distance_curves_carry_means_and_bands(evaluations):
    first, _ = evaluations
    figure = learned_reward_distances(first, title="learned rewards")
    check_curves(figure, first, DISTANCES)
    assert figure.layout.title.text == "learned rewards"
    assert figure.layout.xaxis.type == "log"  # sizes 10..100 span a factor of 10
    chosen = learned_reward_distances(first, distances=["regret", "epic"])
    check_curves(chosen, first, ["regret", "epic"])


def test_update_redraws_in_place_and_returns_the_figure(evaluations):
    first, second = evaluations
    figure = go.FigureWidget(learned_reward_distances(first, distances=["epic", "starc_val"]))
    traces = list(figure.data)
    returned = update_learned_reward_distances(figure, second, title="new")
    assert returned is figure
    assert all(a is b for a, b in zip(traces, figure.data, strict=True))
    check_curves(figure, second, ["epic", "starc_val"])
    assert figure.layout.title.text == "new"
    assert figure.layout.xaxis.type == "linear"


def test_distance_plot_refuses_bad_input(evaluations, grid):
    first, _ = evaluations
    with pytest.raises(TypeError, match="LearnedRewardEvaluation"):
        learned_reward_distances(first.to_frame())
    with pytest.raises(ValueError, match="distances must be names"):
        learned_reward_distances(first, distances=["epic", "l2"])
    with pytest.raises(ValueError, match="non-empty sequence"):
        learned_reward_distances(first, distances="epic")
    mdp, reward = grid
    with pytest.raises(ValueError, match="learned_reward_distances"):
        update_learned_reward_distances(learned_reward_maps(mdp, reward, reward), first)


def entering_oracle(mdp, reward) -> np.ndarray:
    """The normalised mean reward of entering each state, with explicit loops."""
    transitions, terminal = np.asarray(mdp.transitions), np.asarray(mdp.terminal)
    reward = np.asarray(reward)
    n_states, n_actions = mdp.n_states, mdp.n_actions
    entering = np.zeros(n_states)
    for target in range(n_states):
        total = mass = 0.0
        for state in range(n_states):
            if terminal[state]:
                continue
            for action in range(n_actions):
                total += transitions[state, action, target] * reward[state, action, target]
                mass += transitions[state, action, target]
        entering[target] = total / mass if mass > 0 else 0.0
    centred = entering - entering.mean()
    return centred / np.abs(centred).max()


def cells(mdp, heatmap) -> np.ndarray:
    z = np.array(heatmap.z, dtype=float)  # None (no state) becomes NaN
    rows, cols = np.asarray(mdp.grid_cells).T
    return z[rows, cols]


def test_reward_maps_show_normalised_entering_rewards(grid):
    mdp, reward = grid
    learned = 3 * reward + 0.5 + 0.1 * jax.random.normal(jax.random.key(2), reward.shape)
    policy = rv.solve.optimal_policy(mdp, learned)
    figure = learned_reward_maps(mdp, reward, learned, learned_policy=policy, title="maps")
    heatmaps = [trace for trace in figure.data if isinstance(trace, go.Heatmap)]
    assert [trace.name for trace in heatmaps] == ["true reward", "learned reward"]
    np.testing.assert_allclose(cells(mdp, heatmaps[0]), entering_oracle(mdp, reward), atol=1e-12)
    np.testing.assert_allclose(cells(mdp, heatmaps[1]), entering_oracle(mdp, learned), atol=1e-12)
    assert heatmaps[0].coloraxis == heatmaps[1].coloraxis == "coloraxis"
    assert figure.layout.coloraxis.cmin == -1 and figure.layout.coloraxis.cmax == 1
    # The goal, which pays on entering, is the brightest cell of the true map.
    goal = next(i for i, (r, c) in enumerate(mdp.grid_cells) if LAYOUT[r][c] == "G")
    assert cells(mdp, heatmaps[0])[goal] == pytest.approx(np.max(cells(mdp, heatmaps[0])))
    shafts = [trace for trace in figure.data if trace.name == "policy"]
    assert len(shafts) == 2
    assert np.isnan(np.array(shafts[0].x, dtype=float)).all()  # no true policy given
    assert not np.isnan(np.array(shafts[1].x, dtype=float)).all()


def test_update_reward_maps_in_place(grid):
    mdp, reward = grid
    figure = go.FigureWidget(learned_reward_maps(mdp, reward, reward))
    traces = list(figure.data)
    learned = -reward + 0.2 * jax.random.normal(jax.random.key(3), reward.shape)
    true_policy = rv.solve.optimal_policy(mdp, reward)
    returned = update_learned_reward_maps(
        figure,
        mdp,
        reward,
        learned,
        true_policy=true_policy,
        titles=["R", "R̂"],
        title="updated",
    )
    assert returned is figure
    assert all(a is b for a, b in zip(traces, figure.data, strict=True))
    heatmaps = [trace for trace in figure.data if isinstance(trace, go.Heatmap)]
    np.testing.assert_allclose(cells(mdp, heatmaps[1]), entering_oracle(mdp, learned), atol=1e-12)
    shafts = [trace for trace in figure.data if trace.name == "policy"]
    assert not np.isnan(np.array(shafts[0].x, dtype=float)).all()
    assert np.isnan(np.array(shafts[1].x, dtype=float)).all()
    assert [a.text for a in figure.layout.annotations[:2]] == ["R", "R̂"]
    assert figure.layout.title.text == "updated"


def test_reward_maps_refuse_bad_input(grid):
    mdp, reward = grid
    with pytest.raises(ValueError, match=r"learned_reward: .*one reward \[S, A, S'\]"):
        learned_reward_maps(mdp, reward, jnp.stack([reward, reward]))
    with pytest.raises(ValueError, match="learned_reward has NaN"):
        learned_reward_maps(mdp, reward, reward.at[0, 0, 0].set(jnp.nan))
    with pytest.raises(ValueError, match="learned_policy must have shape"):
        learned_reward_maps(mdp, reward, reward, learned_policy=jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match="titles must have 2 entries"):
        learned_reward_maps(mdp, reward, reward, titles=["one"])
    chain, chain_reward = rv.envs.random_mdp(4, 2, seed=0)
    with pytest.raises(ValueError, match="grid_shape"):
        learned_reward_maps(chain, chain_reward, chain_reward)
