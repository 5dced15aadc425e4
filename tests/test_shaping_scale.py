"""Potential shaping never changes an answer, however large the potential (issue 19).

Ng et al. (1999): ``R′ = R + γΦ(s′) − Φ(s)`` has the optimal policies of ``R``; EPIC, DARD,
STARC and NPEC are 0 between ``R`` and ``R′`` and the regret of optimising ``R′`` is 0.
In float32 a potential of ``−10⁴·steps`` makes ``|Q′|`` and ``‖R′‖`` ~10⁴ times the
differences that decide these answers; tolerances relative to ``max|Q|`` or ``‖R‖`` then
called every action optimal and the canonical rewards zero. These tests sweep the scale
of the potential over 1…10⁴ on the issue's grid in float32 and float64.

Bounds: what shaping leaves in float32 is rounding of ``R′``, about one machine epsilon of
``max|Φ|`` per entry (measured: distances ≤ 1.3·eps·max|Φ| on this grid); the bound is
8·eps·max(1, max|Φ|). Pairwise Pearson and L2 STARC distances come from Gram matrices,
``√(‖a‖² + ‖b‖² − 2⟨a, b⟩)``, whose cancellation leaves ~√eps (measured 3.5e-4 in
float32): their bound adds 8·√eps. A broken answer is 0.5 or 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardviz import _kernels, distances, envs, shaping, solve

LAYOUT = ["S..#", ".#.G", "...L"]
SCALES = [1.0, 10.0, 100.0, 1e3, 1e4]


def grid(dtype, gamma):
    """The issue's grid in ``dtype``, its reward, and ``steps`` to the goal (0 in terminals)."""
    mdp, reward = envs.gridworld(LAYOUT, gamma=gamma)
    mdp = mdp.replace(
        transitions=np.asarray(mdp.transitions, dtype),
        initial=np.asarray(mdp.initial, dtype),
        gamma=gamma,
    )
    steps = np.asarray(envs.steps_to_goal(mdp), np.float64)
    steps = np.where(np.isfinite(steps) & ~np.asarray(mdp.terminal), steps, 0)
    return mdp, np.asarray(reward, dtype), steps


def shaped(mdp, reward, steps, scale):
    """``R + γΦ(s′) − Φ(s)`` with ``Φ = −scale·steps``, in the reward's dtype."""
    potential = np.asarray(-scale * steps, reward.dtype)
    return np.asarray(shaping.potential_shaping(mdp, reward, potential))


def bound(dtype, steps, scale, *, gram=False):
    eps = float(np.finfo(dtype).eps)
    return 8 * eps * max(1.0, scale * steps.max()) + (8 * np.sqrt(eps) if gram else 0.0)


def greedy_reference(q, tie_tolerance):
    """:func:`rewardviz._kernels.greedy` with explicit loops over states and actions."""
    q = np.asarray(q, np.float64)
    n_states, n_actions = q.shape
    eps = float(np.finfo(np.asarray(q).dtype).eps)
    spread = max(max(q[s]) - min(q[s]) for s in range(n_states))
    largest = max(abs(q[s, a]) for s in range(n_states) for a in range(n_actions))
    tolerance = tie_tolerance * max(1.0, spread) + 4 * eps * largest
    policy = np.zeros_like(q)
    for s in range(n_states):
        best = max(q[s])
        ties = [a for a in range(n_actions) if q[s, a] >= best - tolerance]
        for a in ties:
            policy[s, a] = 1 / len(ties)
    return policy


@pytest.mark.parametrize(
    ("dtype", "gamma", "scales"),
    [
        (np.float32, 0.9, SCALES),
        # At γ = 0.99 the grid's smallest Q gap is 0.0197, below float32's resolution
        # (4 ulps of max|Q′| = 0.029) at scale 10⁴: that scale needs float64.
        (np.float32, 0.99, SCALES[:-1]),
        (np.float64, 0.9, SCALES),
        (np.float64, 0.99, SCALES),
    ],
)
def test_shaping_changes_no_answer_at_any_scale(dtype, gamma, scales):
    mdp, reward, steps = grid(dtype, gamma)
    policy = np.asarray(solve.optimal_policy(mdp, reward))
    stacked_methods = [
        ("epic", {}),
        ("dard", {}),
        ("starc", {}),
        ("starc", {"canonical": "minimal"}),
    ]
    for scale in scales:
        other = shaped(mdp, reward, steps, scale)
        tight, loose = bound(dtype, steps, scale), bound(dtype, steps, scale, gram=True)
        where = f"dtype {np.dtype(dtype).name}, gamma {gamma}, scale {scale:g}"
        np.testing.assert_array_equal(solve.optimal_policy(mdp, other), policy, err_msg=where)
        actions = np.asarray(solve.policy_iteration(mdp, other).actions)
        assert (policy[np.arange(len(actions)), actions] > 0).all(), where
        assert float(distances.regret(mdp, reward, other)) == 0, where
        assert float(distances.regret(mdp, other, reward)) == 0, where
        for name, value in [
            ("epic", distances.epic(mdp, reward, other)),
            ("dard", distances.dard(mdp, reward, other)),
            ("starc val", distances.starc(mdp, reward, other)),
            ("starc minimal", distances.starc(mdp, reward, other, canonical="minimal")),
            ("starc epic", distances.starc(mdp, reward, other, canonical="epic")),
            ("npec", distances.npec(mdp, reward, other)),
            ("npec reversed", distances.npec(mdp, other, reward)),
        ]:
            assert 0 <= float(value) <= tight, f"{name} = {float(value):.3g} at {where}"
        for method, options in stacked_methods:
            matrix = distances.pairwise(mdp, np.stack([reward, other]), method=method, **options)
            value = float(np.asarray(matrix)[0, 1])
            assert 0 <= value <= loose, f"pairwise {method} {options} = {value:.3g} at {where}"


def test_shaping_lab_at_scale_ten_thousand_shows_nothing_changed():
    from rewardviz.widgets import ShapingLab

    mdp, reward, _ = grid(np.float32, 0.9)
    state = ShapingLab(mdp, reward, scale=1e4).state()
    assert state.policy_unchanged
    assert state.regret == 0
    # What float32 leaves of Φ = −10⁴·steps (max 6·10⁴): about eps·max|Φ| = 0.007.
    assert state.epic <= 0.06 and state.starc <= 0.06, state


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_greedy_matches_loops_and_ignores_potentials(dtype):
    rng = np.random.default_rng(19)
    q = rng.normal(size=(12, 4)).round(1).astype(dtype)  # rounding makes exact ties
    tie_tolerance = solve.DEFAULT_TIE_TOLERANCE[np.dtype(dtype)]
    expected = greedy_reference(q, tie_tolerance)
    assert (expected > 0).sum() > q.shape[0], "the fixture has ties"
    np.testing.assert_array_equal(_kernels.greedy(q, tie_tolerance), expected)
    # Q′(s, a) = Q(s, a) − Φ(s): the same ties, for potentials up to 10⁴ (whose values
    # are exact in float32, so Q′ differs from Q by the potential alone).
    potential = (1e4 * rng.integers(0, 7, size=(12, 1))).astype(dtype)
    np.testing.assert_array_equal(_kernels.greedy(q - potential, tie_tolerance), expected)


def test_normalised_regret_is_not_flat_when_shaping_shifts_every_return():
    # Returns of a γ = 0.9 task shifted by E[Φ(s₀)] = −4·10⁴: span 1.6, 9e-5 of the size.
    best, worst, achieved = np.float32(40001.6), np.float32(40000.0), np.float32(40000.8)
    regret = float(_kernels.normalised_regret(best, worst, achieved, np.float32(0.9)))
    assert regret == pytest.approx(0.5, rel=1e-3)
    # An all-ties task (span at rounding level) is still 0, also for γ = 1.
    for gamma in (0.9, 1.0):
        flat = _kernels.normalised_regret(
            np.float32(40000.0),
            np.float32(40000.0) - 2 * np.spacing(np.float32(40000.0)),
            np.float32(39999.0),
            np.float32(gamma),
        )
        assert float(flat) == 0


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    gamma=st.sampled_from([0.5, 0.9]),
    exponent=st.integers(0, 4),
    successors=st.sampled_from([2, 6]),
)
def test_large_random_potentials_leave_float32_distances_at_rounding(
    seed, gamma, exponent, successors
):
    """Random MDPs (sparse and dense rows), rewards and potentials of size up to 10⁴.

    The distances of R to R + shaping are rounding of the shaped reward: at most
    16·eps·max|Φ| relative to the size of R's own canonical reward (computed in float64;
    measured: at most 3.5·eps·max|Φ| over 240 draws).
    """
    mdp64, reward64 = envs.random_mdp(6, 3, seed=seed, gamma=gamma, n_successors=successors)
    mdp = mdp64.replace(transitions=np.asarray(mdp64.transitions, np.float32), gamma=gamma)
    reward = np.asarray(reward64, np.float32)
    potential = 10.0**exponent * np.random.default_rng(seed).normal(size=6)
    other = np.asarray(shaping.potential_shaping(mdp, reward, potential.astype(np.float32)))
    eps = float(np.finfo(np.float32).eps)
    for name, function, canonical in [
        ("epic", distances.epic, "epic"),
        ("dard", distances.dard, "dard"),
        ("starc", distances.starc, "val"),
    ]:
        size = np.sqrt(
            np.mean(np.asarray(distances.canonicalize(mdp64, reward64, method=canonical)) ** 2)
        )
        limit = 16 * eps * max(1.0, np.abs(potential).max()) / min(1.0, size)
        value = float(function(mdp, reward, other))
        assert 0 <= value <= limit, f"{name} = {value:.3g} > {limit:.3g}"
