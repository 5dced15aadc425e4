"""Shape functions (:mod:`rewardviz.shapes`) against scalar oracles written here with ``math``.

Every shape is recomputed one number at a time from its formula in REFERENCES.md
(Lucy-SKG's shapes), run both jitted and not (chex-style variants), and its gradient is
checked to be finite where the formula's is not (zero distances, zero vectors, zero
components). Properties drawn by hypothesis: the KRC sign rule, homogeneity and
permutation invariance, monotonicity of the Liu shapes and the effect of their
dispersion and density.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rewardviz as rv
from rewardviz import shapes

VARIANTS = [pytest.param(lambda f: f, id="eager"), pytest.param(jax.jit, id="jit")]
POSITIVE = st.floats(0.05, 5.0)
DISTANCES = st.floats(0.0, 50.0)
COMPONENT = st.floats(-3.0, 3.0).filter(lambda v: abs(v) > 1e-3 or v == 0.0)


def liu_by_hand(distance, scale, dispersion, density, radius):
    d = max(distance - radius, 0.0)
    return math.exp(-0.5 * d / (scale * dispersion)) ** (1.0 / density)


def signed_liu_by_hand(distance, neutral, dispersion, density, radius):
    d = max(distance - radius, 0.0)
    d0 = neutral / (2 * math.log(2))
    e = math.exp(-0.5 * d / (d0 * dispersion))
    value = 2 * e - 1
    return math.copysign(abs(value) ** (1.0 / density), value) if value != 0 else 0.0


def krc_by_hand(values):
    product = 1.0
    for value in values:
        product *= abs(value)
    sign = 1.0 if all(value >= 0 for value in values) else -1.0
    return sign * product ** (1.0 / len(values))


def cosine_by_hand(a, b):
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    size = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 0.0 if size == 0 else dot / size


# ---------------------------------------------------------------------------
# Values against the oracles.


@pytest.mark.parametrize("variant", VARIANTS)
def test_liu_distance_matches_formula(variant):
    rng = np.random.default_rng(0)
    distances = rng.uniform(0, 12, 40)
    for scale, dispersion, density, radius in [(1.0, 1.0, 1.0, 0.0), (2.3, 0.4, 3.0, 0.5)]:
        function = variant(
            lambda d, s=scale, di=dispersion, de=density, r=radius: shapes.liu_distance(
                d, scale=s, dispersion=di, density=de, radius=r
            )
        )
        got = np.asarray(function(jnp.asarray(distances)))
        expected = [liu_by_hand(d, scale, dispersion, density, radius) for d in distances]
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_signed_liu_matches_formula(variant):
    distances = np.concatenate([np.linspace(0, 20, 41), [2.0]])
    for neutral, dispersion, density, radius in [(2.0, 1.0, 1.0, 0.0), (5.0, 1.7, 2.5, 0.3)]:
        function = variant(
            lambda d, n=neutral, di=dispersion, de=density, r=radius: shapes.liu_distance_signed(
                d, neutral_distance=n, dispersion=di, density=de, radius=r
            )
        )
        got = np.asarray(function(jnp.asarray(distances)))
        expected = [signed_liu_by_hand(d, neutral, dispersion, density, radius) for d in distances]
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("variant", VARIANTS)
def test_kinesthetic_combination_matches_formula(variant):
    rng = np.random.default_rng(1)
    values = rng.uniform(-1, 1, (30, 4))
    values[::3] = np.abs(values[::3])  # all non-negative rows too
    values[5, 2] = 0.0
    got = np.asarray(variant(shapes.kinesthetic_combination)(jnp.asarray(values)))
    np.testing.assert_allclose(got, [krc_by_hand(row) for row in values], rtol=1e-12)
    # Components on another axis.
    got_axis0 = variant(lambda v: shapes.kinesthetic_combination(v, axis=0))(jnp.asarray(values.T))
    np.testing.assert_allclose(got_axis0, got, rtol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_combinators_match_formulas(variant):
    rng = np.random.default_rng(2)
    values, weights = rng.normal(size=(7, 3)), rng.normal(size=3)
    summed = variant(shapes.weighted_sum)(values, weights)
    multiplied = variant(shapes.multiply)(values)
    for row, total, prod in zip(values, np.asarray(summed), np.asarray(multiplied), strict=True):
        assert total == pytest.approx(sum(w * v for w, v in zip(weights, row, strict=True)))
        assert prod == pytest.approx(row[0] * row[1] * row[2])
    clipped = variant(lambda r: shapes.clip(r, -0.5, 0.25))(values)
    np.testing.assert_array_equal(clipped, [[min(max(v, -0.5), 0.25) for v in r] for r in values])


@pytest.mark.parametrize("variant", VARIANTS)
def test_linear_annealing(variant):
    anneal = variant(lambda a, b, p: shapes.linear_annealing(a, b, p, start=0.2, end=0.6))
    for progress in [0.0, 0.2, 0.3, 0.5, 0.6, 0.9]:
        alpha = min(max((progress - 0.2) / 0.4, 0.0), 1.0)
        assert float(anneal(3.0, -1.0, progress)) == pytest.approx((1 - alpha) * 3 + alpha * -1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_team_spirit(variant):
    rng = np.random.default_rng(3)
    rewards = rng.normal(size=(5, 6))
    team = np.array([0, 1, 0, 2, 1, 0])
    for tau in [0.0, 0.3, 1.0]:
        got = np.asarray(variant(shapes.team_spirit)(rewards, team, tau))
        for b in range(rewards.shape[0]):
            for i in range(6):
                mates = [rewards[b, j] for j in range(6) if team[j] == team[i]]
                opponents = [rewards[b, j] for j in range(6) if team[j] != team[i]]
                expected = (
                    (1 - tau) * rewards[b, i]
                    + tau * sum(mates) / len(mates)
                    - sum(opponents) / len(opponents)
                )
                assert got[b, i] == pytest.approx(expected)
    alone = variant(shapes.team_spirit)(np.array([1.0, 3.0]), np.array([0, 0]), 0.5)
    np.testing.assert_allclose(alone, [1.5, 2.5])  # no opponents: nothing subtracted


@pytest.mark.parametrize("variant", VARIANTS)
def test_potential_difference_and_half_life(variant):
    shaping = shapes.potential_difference(lambda s: s["h"] ** 2, gamma=0.9)
    got = variant(lambda a, b, d: shaping({"h": a}, {"h": b}, d))
    assert float(got(1.0, 2.0, False)) == pytest.approx(0.9 * 4 - 1)
    assert float(got(1.0, 2.0, True)) == pytest.approx(-1.0)  # Φ = 0 after termination
    leaky = shapes.potential_difference(lambda s: s["h"] ** 2, gamma=0.9, negative_slope=0.25)
    got = variant(lambda a, b, d: leaky({"h": a}, {"h": b}, d))
    assert float(got(1.0, 2.0, False)) == pytest.approx(0.9 * 4 - 1)  # gains unchanged
    assert float(got(2.0, 1.0, False)) == pytest.approx(0.25 * (0.9 * 1 - 4))  # losses scaled
    assert float(got(1.0, 2.0, True)) == pytest.approx(0.25 * -1.0)
    gamma = float(shapes.half_life_gamma(15, 10))
    assert gamma == pytest.approx(math.exp(math.log(0.5) / 150))
    assert gamma**150 == pytest.approx(0.5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_velocity_alignment_and_facing(variant):
    rng = np.random.default_rng(4)
    for _ in range(20):
        velocity, position, target = rng.normal(size=(3, 2))
        offset = target - position
        length = math.hypot(*offset)
        expected = (velocity @ offset) / length / 2.0
        got = variant(lambda v, p, t: shapes.velocity_towards(v, p, t, scale=2.0))(
            velocity, position, target
        )
        assert float(got) == pytest.approx(expected)
        angle = rng.uniform(-4, 4)
        forward = np.array([math.cos(angle), math.sin(angle)])
        facing = variant(lambda a, p, t: shapes.facing(shapes.heading(a), p, t))(
            angle, position, target
        )
        assert float(facing) == pytest.approx(cosine_by_hand(forward, offset))
        a, b = rng.normal(size=(2, 3))
        assert float(variant(shapes.alignment)(a, b)) == pytest.approx(cosine_by_hand(a, b))


def test_norm_and_distance():
    assert float(shapes.norm(jnp.array([3.0, 4.0]))) == 5.0
    assert float(shapes.distance(jnp.array([1.0, 1.0]), jnp.array([4.0, 5.0]))) == 5.0
    assert float(shapes.norm(jnp.zeros(3))) == 0.0


# ---------------------------------------------------------------------------
# Limits, monotonicity, parameter effects, the sign rule.


@given(POSITIVE, POSITIVE, POSITIVE, st.floats(0.0, 2.0))
def test_liu_is_one_at_the_target_and_decreases(scale, dispersion, density, radius):
    liu = lambda d: np.asarray(  # noqa: E731
        shapes.liu_distance(d, scale=scale, dispersion=dispersion, density=density, radius=radius)
    )
    assert liu(0.0) == 1.0
    assert liu(radius) == 1.0  # on the surface
    values = liu(np.linspace(radius, radius + 30, 200))
    assert np.all(np.diff(values) <= 0) and np.all(values >= 0)  # 0 only by underflow
    assert np.diff(values)[0] < 0


@given(DISTANCES.filter(lambda d: d > 1e-3), POSITIVE, POSITIVE)
def test_liu_dispersion_and_density_effects(distance, dispersion, density):
    base = float(shapes.liu_distance(distance))
    concentrated = float(shapes.liu_distance(distance, dispersion=dispersion))
    denser = float(shapes.liu_distance(distance, density=density))
    if dispersion < 1:
        assert concentrated <= base
    else:
        assert concentrated >= base
    if density > 1:
        assert denser >= base
    else:
        assert denser <= base


@given(POSITIVE, POSITIVE, POSITIVE)
def test_signed_liu_limits_and_zero_crossing(neutral, dispersion, density):
    signed = lambda d: float(  # noqa: E731
        shapes.liu_distance_signed(
            d, neutral_distance=neutral, dispersion=dispersion, density=density
        )
    )
    assert signed(0.0) == 1.0
    crossing = neutral * dispersion
    assert abs(signed(crossing)) <= 1e-14 ** (1 / density)  # rounding, raised to 1/density
    assert signed(0.5 * crossing) > 0 > signed(2 * crossing)
    assert signed(1e4 * crossing) == pytest.approx(-1.0)
    values = np.asarray(
        shapes.liu_distance_signed(
            np.linspace(0, 10 * crossing, 300),
            neutral_distance=neutral,
            dispersion=dispersion,
            density=density,
        )
    )
    assert np.all(np.diff(values) <= 1e-15)


@given(st.lists(COMPONENT, min_size=1, max_size=6))
def test_krc_sign_rule(values):
    result = float(shapes.kinesthetic_combination(jnp.asarray(values)))
    if 0.0 in values:
        assert result == 0.0
    elif all(v >= 0 for v in values):
        assert result > 0
    else:
        assert result < 0  # even with an even number of negative components
    assert abs(result) <= max(abs(v) for v in values) + 1e-12  # a mean
    assert abs(result) >= min(abs(v) for v in values) - 1e-12


@given(st.lists(COMPONENT, min_size=2, max_size=6), POSITIVE, st.randoms())
def test_krc_is_homogeneous_and_symmetric(values, scale, random):
    values = np.asarray(values)
    result = float(shapes.kinesthetic_combination(values))
    assert float(shapes.kinesthetic_combination(scale * values)) == pytest.approx(
        scale * result, abs=1e-12
    )
    shuffled = values.copy()
    random.shuffle(shuffled)
    assert float(shapes.kinesthetic_combination(shuffled)) == pytest.approx(result, abs=1e-12)


def test_krc_differs_from_a_plain_product_on_two_negatives():
    values = jnp.array([-0.5, -0.5])
    assert float(shapes.multiply(values)) == 0.25
    assert float(shapes.kinesthetic_combination(values)) == -0.5


def test_product_is_the_deprecated_spelling_of_multiply():
    values = jnp.array([[0.5, -2.0, 3.0], [1.0, 0.0, 4.0]])
    with pytest.warns(DeprecationWarning, match=r"rewardviz\.shapes\.multiply"):
        old = shapes.product
    np.testing.assert_array_equal(old(values, axis=0), shapes.multiply(values, axis=0))
    assert old is shapes.multiply


# ---------------------------------------------------------------------------
# Gradients: finite everywhere, and right where the formula is smooth.


def test_gradients_are_finite_at_zero_distance_and_zero_vectors():
    zero, origin = jnp.zeros(2), jnp.zeros(2)
    checks = {
        "norm": jax.grad(lambda v: shapes.norm(v))(zero),
        "distance": jax.grad(lambda p: shapes.distance(p, origin))(zero),
        "liu": jax.grad(lambda p: shapes.liu_distance(shapes.distance(p, origin)))(zero),
        "signed liu": jax.grad(
            lambda p: shapes.liu_distance_signed(shapes.distance(p, origin), neutral_distance=1.0)
        )(zero),
        "velocity towards (on target)": jax.grad(
            lambda p: shapes.velocity_towards(jnp.ones(2), p, origin)
        )(zero),
        "alignment (zero vector)": jax.grad(lambda a: shapes.alignment(a, jnp.ones(2)))(zero),
        "facing (on target)": jax.grad(lambda p: shapes.facing(jnp.ones(2), p, origin))(zero),
        "krc (zero component)": jax.grad(shapes.kinesthetic_combination)(jnp.array([0.0, 0.5])),
        "signed liu at its zero": jax.grad(
            lambda d: shapes.liu_distance_signed(d, neutral_distance=2.0, density=3.0)
        )(2.0),
    }
    for name, gradient in checks.items():
        assert np.all(np.isfinite(np.asarray(gradient))), name


def test_gradients_match_central_differences():
    def reward(point, parameters):
        dispersion, density = parameters
        ball, goal = jnp.array([1.0, 0.5]), jnp.array([5.0, 0.0])
        near = shapes.liu_distance(
            shapes.distance(point, ball), scale=2.0, dispersion=dispersion, density=density
        )
        face = shapes.facing(jnp.array([1.0, 0.2]), point, ball)
        signed = shapes.liu_distance_signed(
            shapes.distance(point, goal), neutral_distance=3.0, dispersion=dispersion
        )
        combined = shapes.kinesthetic_combination(jnp.stack([near, face]))
        return combined + 0.5 * signed + shapes.velocity_towards(jnp.ones(2), point, ball)

    point, parameters = jnp.array([-1.3, 0.7]), jnp.array([0.8, 1.6])
    grads = jax.grad(reward, argnums=(0, 1))(point, parameters)
    step = 1e-6
    for argnum, where in ((0, point), (1, parameters)):
        for i in range(2):
            delta = jnp.zeros(2).at[i].set(step)
            args = [point, parameters]
            args[argnum] = where + delta
            high = reward(*args)
            args[argnum] = where - delta
            low = reward(*args)
            assert float(grads[argnum][i]) == pytest.approx(
                float(high - low) / (2 * step), rel=1e-6
            )


def test_parameters_are_traced_not_static():
    compiled = jax.jit(lambda d, dispersion: shapes.liu_distance(d, dispersion=dispersion))
    compiled(1.0, 0.5)
    size = compiled._cache_size()
    for dispersion in (0.2, 1.0, 3.0):
        compiled(1.0, dispersion)
    assert compiled._cache_size() == size


def test_public_names():
    assert rv.shapes.kinesthetic_combination is shapes.kinesthetic_combination
