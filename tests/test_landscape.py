"""Reward landscapes (:mod:`rewardviz.landscape`) against a plain Python loop over the grid.

The test rewards are written twice: with :mod:`rewardviz.shapes` for the kernel, and one
number at a time with ``math`` for the oracle, which loops over grid points and marginal
samples. Gradients are checked against central differences of the oracle's mean. The
shipped examples are checked against Gymnasium's MountainCar and with the shaping tools.
"""

import dataclasses
import math

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rewardviz as rv
from rewardviz import landscape, landscape_examples, shapes

TEMPLATE = {"px": 0.0, "py": 0.0, "bx": 1.0, "th": 0.3, "k": 1.0}
BOUNDS = {"px": (-2.0, 2.3), "py": (-1.1, 1.4)}
PARAMS = {"dispersion": 0.8, "density": 1.7}
BALL_Y = 0.5


def reward_components(state, params):
    player = jnp.stack([state["px"], state["py"]])
    ball = jnp.stack([state["bx"], jnp.asarray(BALL_Y)])
    near = shapes.liu_distance(
        shapes.distance(player, ball),
        scale=1.5,
        dispersion=params["dispersion"],
        density=params["density"],
    )
    face = 0.5 * shapes.facing(shapes.heading(state["th"]), player, ball)
    return {"near": near, "face": face, "drift": 0.3 * state["k"] * state["px"]}


def reward_pair(state, params):
    parts = reward_components(state, params)
    return shapes.kinesthetic_combination(jnp.stack([parts["near"], parts["face"]])), parts


def oracle_components(state, params):
    dx, dy = state["bx"] - state["px"], BALL_Y - state["py"]
    distance = math.hypot(dx, dy)
    near = math.exp(-0.5 * distance / (1.5 * params["dispersion"])) ** (1 / params["density"])
    heading = (math.cos(state["th"]), math.sin(state["th"]))
    face = 0.0 if distance == 0 else 0.5 * (heading[0] * dx + heading[1] * dy) / distance
    return {"near": near, "face": face, "drift": 0.3 * state["k"] * state["px"]}


def oracle_pair(state, params):
    parts = oracle_components(state, params)
    product = abs(parts["near"] * parts["face"])
    sign = 1.0 if parts["near"] >= 0 and parts["face"] >= 0 else -1.0
    return sign * math.sqrt(product), parts


def quantile_by_hand(values, level):
    """Linear interpolation between order statistics (numpy's default method)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * level
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def landscape_by_hand(oracle, land, params):
    """Loop over grid points and the landscape's own marginal samples."""
    ny, nx = land.shape
    n = land.n_samples
    names = land.names
    samples = {name: np.asarray(values) for name, values in land.marginal_samples.items()}
    result = {
        "mean": np.zeros((ny, nx)),
        "std": np.zeros((ny, nx)),
        "quantiles": np.zeros((len(land.quantile_levels), ny, nx)),
        "components": np.zeros((ny, nx, len(names))),
        "dominant": np.zeros((ny, nx), dtype=int),
    }
    for iy, y in enumerate(np.asarray(land.y_values)):
        for ix, x in enumerate(np.asarray(land.x_values)):
            totals, parts = [], []
            for s in range(n):
                state = dict(TEMPLATE)
                state.update({name: float(values[s]) for name, values in samples.items()})
                state[land.x_name], state[land.y_name] = float(x), float(y)
                total, components = oracle(state, params)
                totals.append(total)
                parts.append([components[name] for name in names])
            mean = sum(totals) / n
            result["mean"][iy, ix] = mean
            if n > 1:
                result["std"][iy, ix] = math.sqrt(sum((t - mean) ** 2 for t in totals) / (n - 1))
            for q, level in enumerate(land.quantile_levels):
                result["quantiles"][q, iy, ix] = quantile_by_hand(totals, level)
            for k in range(len(names)):
                result["components"][iy, ix, k] = sum(p[k] for p in parts) / n
            sizes = [abs(result["components"][iy, ix, k]) for k in range(len(names))]
            result["dominant"][iy, ix] = sizes.index(max(sizes))
    return result


def summed(oracle_parts):
    def oracle(state, params):
        parts = oracle_parts(state, params)
        return sum(parts.values()), parts

    return oracle


def mean_by_hand(oracle, land, params, x, y):
    """The oracle's mean reward at one (x, y), over the landscape's samples."""
    samples = {name: np.asarray(values) for name, values in land.marginal_samples.items()}
    total = 0.0
    for s in range(land.n_samples):
        state = dict(TEMPLATE)
        state.update({name: float(values[s]) for name, values in samples.items()})
        state[land.x_name], state[land.y_name] = x, y
        total += oracle(state, params)[0]
    return total / land.n_samples


MARGINALS = {"th": (-3.0, 3.0), "k": np.array([-1.0, 0.5, 2.0])}


@pytest.mark.parametrize(
    ("reward_fn", "oracle"),
    [(reward_components, summed(oracle_components)), (reward_pair, oracle_pair)],
    ids=["components", "pair"],
)
def test_maps_match_a_loop_over_the_grid(reward_fn, oracle):
    land = landscape.evaluate(
        reward_fn,
        TEMPLATE,
        x="px",
        y="py",
        bounds=BOUNDS,
        resolution=(7, 5),
        marginals=MARGINALS,
        n_samples=6,
        seed=3,
        quantiles=(0.0, 0.1, 0.5, 0.9, 1.0),
        params=PARAMS,
    )
    assert land.shape == (5, 7)
    np.testing.assert_allclose(land.x_values, np.linspace(-2.0, 2.3, 7))
    np.testing.assert_allclose(land.y_values, np.linspace(-1.1, 1.4, 5))
    expected = landscape_by_hand(oracle, land, PARAMS)
    for field in ("mean", "std", "quantiles", "components"):
        np.testing.assert_allclose(getattr(land, field), expected[field], atol=1e-12, err_msg=field)
    np.testing.assert_array_equal(land.dominant, expected["dominant"])
    np.testing.assert_allclose(land.standard_error, expected["std"] / math.sqrt(6), atol=1e-12)
    assert land.names == ("near", "face", "drift")

    # Gradients against central differences of the oracle's mean.
    step = 1e-6
    for iy, y in enumerate(np.asarray(land.y_values)):
        for ix, x in enumerate(np.asarray(land.x_values)):
            d_dx = (
                mean_by_hand(oracle, land, PARAMS, x + step, y)
                - mean_by_hand(oracle, land, PARAMS, x - step, y)
            ) / (2 * step)
            d_dy = (
                mean_by_hand(oracle, land, PARAMS, x, y + step)
                - mean_by_hand(oracle, land, PARAMS, x, y - step)
            ) / (2 * step)
            assert float(land.gradient[0][iy, ix]) == pytest.approx(d_dx, rel=1e-5, abs=1e-7)
            assert float(land.gradient[1][iy, ix]) == pytest.approx(d_dy, rel=1e-5, abs=1e-7)


def test_scalar_reward_without_marginals():
    def reward(state):
        return state["px"] ** 2 - 3 * state["py"] + state["bx"]

    land = landscape.evaluate(reward, TEMPLATE, x="px", y="py", bounds=BOUNDS, resolution=4)
    x, y = np.meshgrid(np.linspace(-2.0, 2.3, 4), np.linspace(-1.1, 1.4, 4))
    np.testing.assert_allclose(land.mean, x**2 - 3 * y + 1.0)
    np.testing.assert_allclose(land.components, (x**2 - 3 * y + 1.0)[..., None])
    np.testing.assert_allclose(land.gradient[0], 2 * x)
    np.testing.assert_allclose(land.gradient[1], np.full_like(y, -3.0))
    assert land.names == ("reward",) and land.n_samples == 1
    assert land.marginal_samples == {}
    np.testing.assert_array_equal(land.std, 0.0)
    np.testing.assert_allclose(land.quantiles, np.broadcast_to(land.mean, (3, 4, 4)))


def test_gradient_is_finite_where_the_player_stands_on_the_ball():
    land = landscape.evaluate(
        reward_components,
        {**TEMPLATE, "bx": 0.0},
        x="px",
        y="py",
        bounds={"px": (-1.0, 1.0), "py": (-0.5, 1.5)},
        resolution=(5, 5),  # (0, 0.5), the ball, is a grid point
        params=PARAMS,
    )
    assert float(land.components[2, 2, 0]) == 1.0  # Liu shape at zero distance
    assert np.isfinite(np.asarray(land.gradient)).all()


def test_marginal_samples_are_seeded_and_drawn_from_the_samplers():
    def run(seed, marginals=MARGINALS):
        return landscape.evaluate(
            reward_components,
            TEMPLATE,
            x="px",
            y="py",
            bounds=BOUNDS,
            resolution=3,
            marginals=marginals,
            n_samples=400,
            seed=seed,
            params=PARAMS,
        )

    first, again, other = run(5), run(5), run(6)
    np.testing.assert_array_equal(first.mean, again.mean)
    np.testing.assert_array_equal(first.marginal_samples["th"], again.marginal_samples["th"])
    assert not np.allclose(first.mean, other.mean)
    angles = np.asarray(first.marginal_samples["th"])
    assert angles.min() >= -3.0 and angles.max() <= 3.0 and angles.std() > 1.4
    drawn = np.asarray(first.marginal_samples["k"])
    assert set(np.unique(drawn)) == {-1.0, 0.5, 2.0}
    # Adding a marginal leaves the draws of the others unchanged.
    fewer = run(5, {"th": (-3.0, 3.0)})
    np.testing.assert_array_equal(fewer.marginal_samples["th"], angles)


def test_standard_error_describes_the_spread_across_seeds():
    means, errors = [], []
    for seed in range(150):
        land = landscape.evaluate(
            reward_components,
            TEMPLATE,
            x="px",
            y="py",
            bounds=BOUNDS,
            resolution=2,
            marginals={"th": (-3.0, 3.0)},
            n_samples=16,
            seed=seed,
            params=PARAMS,
        )
        means.append(np.asarray(land.mean))
        errors.append(np.asarray(land.standard_error))
    spread = np.std(means, axis=0, ddof=1)
    typical_error = np.sqrt(np.mean(np.square(errors), axis=0))
    np.testing.assert_allclose(spread, typical_error, rtol=0.25)


def test_traced_arguments_never_recompile():
    def run(**changes):
        arguments = {
            "template": TEMPLATE,
            "x": "px",
            "y": "py",
            "bounds": BOUNDS,
            "resolution": 6,
            "marginals": MARGINALS,
            "n_samples": 8,
            "params": PARAMS,
            **changes,
        }
        return landscape.evaluate(reward_components, arguments.pop("template"), **arguments)

    run()
    compiled = landscape._landscape_kernel._cache_size()
    run(params={"dispersion": 0.3, "density": 4.0})
    run(template={**TEMPLATE, "bx": -0.7})
    run(bounds={"px": (0.0, 1.0), "py": (-3.0, 3.0)})
    run(seed=11)
    run(marginals={"th": (0.0, 1.0), "k": np.array([3.0, 4.0, 5.0])})
    assert landscape._landscape_kernel._cache_size() == compiled


def test_distribution_matches_a_loop():
    sampled = landscape.distribution(
        reward_pair,
        TEMPLATE,
        {"px": (-2.0, 2.0), "th": (-3.0, 3.0), "k": np.array([0.0, 1.0])},
        n_samples=50,
        seed=2,
        params=PARAMS,
    )
    assert sampled.names == ("near", "face", "drift")
    states = {name: np.asarray(values) for name, values in sampled.states.items()}
    np.testing.assert_array_equal(states["py"], 0.0)
    rows = []
    for s in range(50):
        state = {name: float(values[s]) for name, values in states.items()}
        total, parts = oracle_pair(state, PARAMS)
        rows.append([parts["near"], parts["face"], parts["drift"], total])
    rows = np.asarray(rows)
    np.testing.assert_allclose(sampled.components, rows[:, :3], atol=1e-12)
    np.testing.assert_allclose(sampled.total, rows[:, 3], atol=1e-12)
    summary = sampled.summary()
    assert list(summary.index) == ["near", "face", "drift", "total"]
    for k, name in enumerate(summary.index):
        column = rows[:, k]
        assert summary.loc[name, "mean"] == pytest.approx(sum(column) / 50)
        spread = math.sqrt(sum((v - column.mean()) ** 2 for v in column) / 49)
        assert summary.loc[name, "std"] == pytest.approx(spread)
        assert summary.loc[name, "standard_error"] == pytest.approx(spread / math.sqrt(50))
        assert summary.loc[name, "median"] == pytest.approx(quantile_by_hand(list(column), 0.5))
        assert summary.loc[name, "positive"] == pytest.approx(np.count_nonzero(column > 0) / 50)
    assert len(sampled.to_frame()) == 50


def test_to_frame_and_component_lookup():
    land = landscape.evaluate(
        reward_components, TEMPLATE, x="px", y="py", bounds=BOUNDS, resolution=(3, 2), params=PARAMS
    )
    frame = land.to_frame()
    assert len(frame) == 6
    assert {"px", "py", "mean", "near", "dominant", "grad_x", "grad_y", "q0.5"} <= set(frame)
    np.testing.assert_allclose(frame["near"], np.asarray(land.component("near")).ravel())
    assert frame["px"].iloc[1] == pytest.approx(np.asarray(land.x_values)[1])  # x fastest
    with pytest.raises(ValueError, match="no component named 'far'"):
        land.component("far")
    assert "px x py on 3 x 2 points" in repr(land)


# ---------------------------------------------------------------------------
# Bad input.


def evaluate(reward_fn=reward_components, template=TEMPLATE, **options):
    arguments = {"x": "px", "y": "py", "bounds": BOUNDS, "resolution": 4, "params": PARAMS}
    arguments.update(options)
    return landscape.evaluate(reward_fn, template, **arguments)


def test_non_scalar_reward_is_refused():
    def vector_reward(state, params):
        return {"ok": state["px"], "position": jnp.stack([state["px"], state["py"]])}

    with pytest.raises(
        ValueError,
        match=r"component 'position' has shape \(2,\) \(at every grid point, e\.g\. "
        r"\[y=0, x=0\] \(px=-2, py=-1\.1\)\)",
    ):
        evaluate(vector_reward)
    with pytest.raises(ValueError, match=r"the reward has shape \(2,\)"):
        evaluate(lambda state, params: jnp.stack([state["px"], state["py"]]))
    with pytest.raises(TypeError, match="return a scalar"):
        evaluate(lambda state, params: (state["px"], state["py"], 1.0))


def test_nan_reward_names_the_grid_point_and_state():
    def broken(state, params):
        return {"log": jnp.log(state["px"]), "fine": state["py"]}

    with pytest.raises(
        ValueError, match=r"nan for component 'log' at grid point \[y=0, x=0\] \(px=-2, py=-1.1\)"
    ):
        evaluate(broken)


def test_nan_gradient_names_the_grid_point():
    def root(state, params):
        return jnp.sqrt(state["px"] ** 2 + state["py"] ** 2)  # NaN gradient at the origin

    with pytest.raises(ValueError, match=r"gradient .* at grid point \[y=1, x=1\] \(px=0, py=0\)"):
        evaluate(root, bounds={"px": (-1.0, 1.0), "py": (-1.0, 1.0)}, resolution=3)


def test_nan_in_one_marginal_sample_names_the_sample():
    def fragile(state, params):
        return jnp.where(state["k"] > 1.5, jnp.nan, 1.0) + state["px"]

    with pytest.raises(ValueError, match=r"sample \d+ \(state .*k=2"):
        evaluate(fragile, marginals={"k": np.array([0.0, 2.0])}, n_samples=8)


def test_nan_in_a_sampled_state_is_refused():
    def fragile(state, params):
        return {"log": jnp.log(state["px"])}

    with pytest.raises(ValueError, match=r"NaN or infinity at sampled state \d+: .*'px': -"):
        landscape.distribution(fragile, TEMPLATE, {"px": (-1.0, 1.0)}, n_samples=64, params=PARAMS)


def affine(state, params):
    """The test reward scaled by ``params["scale"]``, plus a constant ``params["shift"]``.

    At module level: one function object, one compiled program for every example.
    """
    parts = reward_components(state, PARAMS)
    return {name: params["scale"] * value for name, value in parts.items()} | {
        "shift": params["shift"] + 0.0 * state["px"]
    }


@given(st.floats(-5, 5), st.floats(0.1, 5))
def test_shifting_and_scaling_the_reward(shift, scale):
    """A constant shift moves mean and quantiles only; a positive scale scales everything."""

    def run(shift, scale):
        return evaluate(
            affine,
            params={"shift": shift, "scale": scale},
            marginals=MARGINALS,
            n_samples=5,
            resolution=3,
        )

    base, moved = run(0.0, 1.0), run(shift, scale)
    np.testing.assert_allclose(moved.mean, scale * base.mean + shift, atol=1e-10)
    np.testing.assert_allclose(moved.quantiles, scale * base.quantiles + shift, atol=1e-10)
    np.testing.assert_allclose(moved.std, scale * base.std, atol=1e-10)
    for axis in range(2):
        np.testing.assert_allclose(moved.gradient[axis], scale * base.gradient[axis], atol=1e-10)
    np.testing.assert_allclose(
        moved.components[..., :3], scale * base.components[..., :3], atol=1e-10
    )


def test_seed_may_be_an_integer_or_a_key():
    by_int = evaluate(marginals=MARGINALS, n_samples=5, seed=7)
    compiled = landscape._landscape_kernel._cache_size()
    by_key = evaluate(marginals=MARGINALS, n_samples=5, seed=jax.random.key(7))
    assert landscape._landscape_kernel._cache_size() == compiled  # a key is traced too
    np.testing.assert_array_equal(by_key.mean, by_int.mean)
    for name, values in by_int.marginal_samples.items():
        np.testing.assert_array_equal(by_key.marginal_samples[name], values)
    sampled = [
        landscape.distribution(
            reward_components, TEMPLATE, MARGINALS, n_samples=9, seed=seed, params=PARAMS
        )
        for seed in (4, jax.random.key(4))
    ]
    np.testing.assert_array_equal(sampled[0].components, sampled[1].components)
    with pytest.raises(TypeError, match=r"seed must be an integer or a jax\.random key"):
        evaluate(seed=1.5)


def test_components_sit_on_the_last_axis_named_by_names():
    land = evaluate(marginals=MARGINALS, n_samples=4)
    ny, nx = land.shape
    assert land.components.shape == (ny, nx, len(land.names))
    for k, name in enumerate(land.names):
        np.testing.assert_array_equal(land.component(name), land.components[..., k])
    sampled = landscape.distribution(
        reward_components, TEMPLATE, MARGINALS, n_samples=6, params=PARAMS
    )
    assert sampled.components.shape == (6, len(sampled.names))


def test_component_names_is_the_deprecated_spelling_of_names():
    land = evaluate()
    with pytest.warns(DeprecationWarning, match=r"Landscape\.names"):
        assert land.component_names == land.names
    sampled = landscape.distribution(
        reward_components, TEMPLATE, MARGINALS, n_samples=4, params=PARAMS
    )
    with pytest.warns(DeprecationWarning, match=r"RewardDistribution\.names"):
        assert sampled.component_names == sampled.names


def test_results_are_frozen_pytrees():
    land = evaluate(marginals=MARGINALS, n_samples=4)
    doubled = jax.tree_util.tree_map(lambda leaf: 2 * leaf, land)
    assert isinstance(doubled, landscape.Landscape) and doubled.names == land.names
    np.testing.assert_allclose(doubled.components, 2 * land.components)
    sampled = landscape.distribution(
        reward_components, TEMPLATE, MARGINALS, n_samples=4, params=PARAMS
    )
    leaves, tree = jax.tree_util.tree_flatten(sampled)
    rebuilt = jax.tree_util.tree_unflatten(tree, leaves)
    assert rebuilt.names == sampled.names
    np.testing.assert_array_equal(rebuilt.total, sampled.total)
    with pytest.raises(dataclasses.FrozenInstanceError):
        land.names = ("other",)


def test_unknown_coordinates_are_refused():
    with pytest.raises(ValueError, match=r"x='pz' is not a coordinate of the template"):
        evaluate(x="pz")
    with pytest.raises(ValueError, match=r"y='q' is not a coordinate"):
        evaluate(y="q")
    with pytest.raises(ValueError, match=r"marginals\['speed'\]: 'speed' is not a coordinate"):
        evaluate(marginals={"speed": (0.0, 1.0)})
    with pytest.raises(ValueError, match=r"bounds has ranges for \['bx'\]"):
        evaluate(bounds={**BOUNDS, "bx": (0.0, 1.0)})
    with pytest.raises(ValueError, match="bounds has no range for 'py'"):
        evaluate(bounds={"px": (0.0, 1.0)})
    with pytest.raises(ValueError, match="is swept on the grid"):
        evaluate(marginals={"px": (0.0, 1.0)})
    with pytest.raises(KeyError, match=r"reward_fn read state\['speed'\]"):
        evaluate(lambda state, params: state["speed"])
    with pytest.raises(ValueError, match="x and y are both 'px'"):
        evaluate(y="px")


def test_degenerate_grids_and_arguments_are_refused():
    with pytest.raises(ValueError, match="grid with 0 point"):
        evaluate(resolution=0)
    with pytest.raises(ValueError, match="grid with 1 point"):
        evaluate(resolution=(5, 1))
    with pytest.raises(TypeError, match="resolution must hold integers"):
        evaluate(resolution=4.5)
    with pytest.raises(
        ValueError, match=r"bounds\['px'\] must be \(low, high\) with finite low < high"
    ):
        evaluate(bounds={"px": (1.0, 1.0), "py": (0.0, 1.0)})
    with pytest.raises(ValueError, match="n_samples must be >= 2"):
        evaluate(marginals={"th": (0.0, 1.0)}, n_samples=1)
    with pytest.raises(ValueError, match=r"template\['px'\] must be a scalar"):
        evaluate(template={**TEMPLATE, "px": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"template\['bx'\] is nan"):
        evaluate(template={**TEMPLATE, "bx": float("nan")})
    with pytest.raises(ValueError, match=r"quantiles must lie in \[0, 1\]"):
        evaluate(quantiles=(0.5, 1.5))
    with pytest.raises(ValueError, match=r"marginals\['k'\] must be a \(low, high\) tuple"):
        evaluate(marginals={"k": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="marginals is empty"):
        landscape.distribution(reward_components, TEMPLATE, {}, params=PARAMS)


# ---------------------------------------------------------------------------
# The shipped examples.


def test_ball_and_goal_terms_add_up_and_have_the_right_signs():
    field = landscape_examples.ball_and_goal()
    land = field.evaluate(resolution=(21, 13))
    assert land.names == landscape_examples.BALL_AND_GOAL_TERMS
    np.testing.assert_allclose(np.asarray(land.components).sum(axis=-1), land.mean, atol=1e-12)
    assert np.isfinite(np.asarray(land.gradient)).all()
    # Sweep the ball instead: the ball-to-goal term is positive near the opponent's goal
    # and negative near one's own; the own-goal penalty is negative near one's own goal.
    ball = field.evaluate(
        x="ball_x", y="ball_y", bounds={"ball_x": (-5, 5), "ball_y": (-3, 3)}, resolution=(11, 7)
    )
    to_goal = np.asarray(ball.component("ball_to_goal"))
    assert to_goal[3, -1] > 0 > to_goal[3, 0]
    danger = np.asarray(ball.component("own_goal_danger"))
    assert danger[3, 0] < danger[3, -1] <= 0


def test_ball_and_goal_approach_term_by_hand():
    state = dict(landscape_examples.BALL_AND_GOAL_TEMPLATE)
    params = landscape_examples.BALL_AND_GOAL_PARAMS
    terms = landscape_examples.ball_and_goal_reward(
        {name: jnp.asarray(value) for name, value in state.items()}, params
    )
    dx, dy = state["ball_x"] - state["player_x"], state["ball_y"] - state["player_y"]
    distance = math.hypot(dx, dy)
    near = math.exp(-0.5 * distance / landscape_examples.PLAYER_MAX_SPEED)
    facing = (math.cos(state["heading"]) * dx + math.sin(state["heading"]) * dy) / distance
    expected = math.copysign(math.sqrt(abs(near * facing)), facing)
    assert float(terms["approach"]) == pytest.approx(expected)


def test_ball_and_goal_ball_to_goal_liu_term_uses_the_ball_top_speed():
    """Lucy-SKG measures a ball-to-goal distance in seconds of the ball's travel."""
    state = dict(landscape_examples.BALL_AND_GOAL_TEMPLATE)
    params = landscape_examples.BALL_AND_GOAL_PARAMS
    terms = landscape_examples.ball_and_goal_reward(
        {name: jnp.asarray(value) for name, value in state.items()}, params
    )
    own_goal_x, own_goal_y = landscape_examples.OWN_GOAL
    distance = math.hypot(state["ball_x"] - own_goal_x, state["ball_y"] - own_goal_y)
    expected = -params["w_own_goal_danger"] * math.exp(
        -0.5 * distance / landscape_examples.BALL_MAX_SPEED
    )
    assert float(terms["own_goal_danger"]) == pytest.approx(expected, rel=1e-12)


def test_mountain_car_step_matches_gymnasium():
    env = gym.make("MountainCar-v0").unwrapped
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    states = np.column_stack([rng.uniform(-1.2, 0.6, 200), rng.uniform(-0.07, 0.07, 200)])
    states[:5] = [[-1.2, -0.05], [-1.19, -0.07], [0.6, 0.07], [0.59, 0.03], [-0.5, 0.0]]
    actions = rng.integers(0, 3, 200)
    expected = []
    for (position, velocity), action in zip(states, actions, strict=True):
        env.state = np.array([position, velocity])
        env.step(int(action))
        expected.append(np.asarray(env.state, dtype=float))
    position, velocity = jax.vmap(landscape_examples.mountain_car_step)(
        states[:, 0], states[:, 1], actions.astype(float)
    )
    np.testing.assert_allclose(np.column_stack([position, velocity]), expected, atol=1e-13)


def test_mountain_car_shaping_is_potential_based_on_the_discretised_plane():
    grid = landscape_examples.mountain_car_mdp(9, 9, gamma=0.99)
    mdp = grid.mdp
    rewards = grid.transition_rewards(
        landscape_examples.mountain_car_transition_reward, landscape_examples.MOUNTAIN_CAR_PARAMS
    )
    base = rewards["step"]
    shaped = rewards["step"] + rewards["shaping"]
    # Transitions out of terminal cells never happen: weight 0.
    weights = np.asarray(mdp.transitions) * ~np.asarray(mdp.terminal)[:, None, None]
    assert bool(rv.shaping.is_potential_shaping(mdp, base, shaped, weights=weights))
    fit = rv.shaping.fit_potential(mdp, base, shaped, weights=weights)
    expected = np.asarray(
        landscape_examples.mountain_car_potential(grid.positions, grid.velocities)
    )
    expected = np.where(np.asarray(mdp.terminal), 0.0, expected)
    np.testing.assert_allclose(fit.potential, expected, atol=1e-9)

    def speed_bonus(state, next_state, params):  # a hint that is not potential-based
        gain = jnp.abs(next_state["velocity"]) - jnp.abs(state["velocity"])
        return {"step": -1.0 + 0 * gain, "bonus": 10.0 * jnp.maximum(gain, 0.0)}

    hinted = grid.transition_rewards(speed_bonus, {})
    assert not bool(
        rv.shaping.is_potential_shaping(
            mdp, base, hinted["step"] + hinted["bonus"], weights=weights
        )
    )


def test_mountain_car_landscape_over_random_actions():
    car = landscape_examples.mountain_car()
    actions = np.array([0.0, 1.0, 2.0])
    land = car.evaluate(resolution=(9, 7), marginals={"action": actions}, n_samples=12)
    np.testing.assert_allclose(land.component("step"), -1.0)
    drawn = np.asarray(land.marginal_samples["action"])
    p, v = np.meshgrid(np.asarray(land.x_values), np.asarray(land.y_values))
    expected = np.zeros_like(p)
    for a in drawn:
        next_p, next_v = landscape_examples.mountain_car_step(p, v, a)
        phi = landscape_examples.mountain_car_potential
        done = np.asarray(landscape_examples.mountain_car_terminal(next_p, next_v))
        expected += 0.99 * np.asarray(phi(next_p, next_v)) * ~done - np.asarray(phi(p, v))
    np.testing.assert_allclose(land.component("shaping"), expected / len(drawn), atol=1e-12)
