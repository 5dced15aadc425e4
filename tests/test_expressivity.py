"""Realisability LPs and formalism objectives against loop-based oracles written here."""

import itertools

import hypothesis.strategies as st
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from oracles_expressivity import ltlf_holds, mdp_arrays, run_distribution

import rewardviz as rv
from rewardviz.expressivity import environments, features

# ---------------------------------------------------------------------------
# Oracles: explicit loops over s, a, s' and over time.


def occupancy_oracle(transitions, gamma, initial, terminal, policy, steps=3000):
    """ρ(s, a) = Σ_t γ^t P(s_t = s, a_t = a), by propagating the state distribution."""
    n_states, n_actions, _ = transitions.shape
    state = np.array(initial, float)
    rho = np.zeros((n_states, n_actions))
    discount = 1.0
    for _ in range(steps):
        following = np.zeros(n_states)
        for s in range(n_states):
            if terminal[s]:
                continue
            for a in range(n_actions):
                rho[s, a] += discount * state[s] * policy[s, a]
                for s_next in range(n_states):
                    following[s_next] += state[s] * policy[s, a] * transitions[s, a, s_next]
        state, discount = following, discount * gamma
        if discount < 1e-17:
            break
    return rho


def random_tabular(rng, n_states, n_actions, sparse):
    """A random MDP built with numpy (no compilation per shape), dense or one successor."""
    if sparse:
        transitions = np.zeros((n_states, n_actions, n_states))
        successors = rng.integers(0, n_states, size=(n_states, n_actions))
        for s in range(n_states):
            for a in range(n_actions):
                transitions[s, a, successors[s, a]] = 1.0
    else:
        transitions = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    initial = rng.dirichlet(np.ones(n_states)) if rng.random() < 0.5 else np.eye(n_states)[0]
    return rv.TabularMDP(transitions, gamma=0.9, initial=initial)


def all_values(mdp, reward):
    """Start value of every deterministic policy with the foundation's solver."""
    policies = features.deterministic_policies(mdp)
    values = rv.solve.policy_return(mdp, jnp.asarray(reward), jnp.asarray(policies))
    return policies, np.asarray(values, np.float64)


# ---------------------------------------------------------------------------
# Features.


def test_occupancy_features_match_the_loop_oracle():
    rng = np.random.default_rng(1)
    mdp, _ = rv.envs.gridworld(["S.#", "..G"], gamma=0.8, slip=0.2)
    policies = rng.dirichlet(np.ones(4), size=(3, mdp.n_states))
    phi = features.occupancy_features(mdp, policies)
    for index, policy in enumerate(policies):
        expected = occupancy_oracle(*mdp_arrays(mdp), policy)
        np.testing.assert_allclose(phi[index].reshape(mdp.n_states, 4), expected, atol=1e-12)


def test_limit_average_features_match_a_long_cesaro_sum():
    rng = np.random.default_rng(2)
    mdp = random_tabular(rng, 4, 2, sparse=True)
    policy = rng.dirichlet(np.ones(2), size=4)
    transitions, _, initial, _ = mdp_arrays(mdp)
    steps, state, total = 20000, initial.copy(), np.zeros((4, 2))
    for _ in range(steps):  # Cesàro average of the state-action distribution
        for s in range(4):
            for a in range(2):
                total[s, a] += state[s] * policy[s, a]
        state = np.array(
            [sum(state[s] * policy[s, a] * transitions[s, a, t] for s in range(4) for a in range(2))
             for t in range(4)]
        )  # fmt: skip
    mu = features.limit_average_features(mdp, policy[None])[0].reshape(4, 2)
    np.testing.assert_allclose(mu, total / steps, atol=1e-3)


def test_trajectory_features_sum_discounted_visits():
    mdp = environments.stay_go(gamma=0.5)
    phi = features.trajectory_features(mdp, [[(0, 0), (0, 1), (1, 0)]], horizon=3)
    expected = np.zeros((2, 2))
    expected[0, 0] += 1.0
    expected[0, 1] += 0.5
    expected[1, 0] += 0.25
    np.testing.assert_allclose(phi[0].reshape(2, 2), expected)


def test_enumeration_is_refused_beyond_the_limit_with_the_count():
    mdp = environments.open_grid(3, 3)
    with pytest.raises(ValueError, match=r"4\^9 = 262,144 policies.*max_policies=262144"):
        features.deterministic_policies(mdp)
    with pytest.raises(ValueError, match="max_policies"):
        rv.expressivity.realize_soap(mdp, np.zeros(9, int), exhaustive=True)


# ---------------------------------------------------------------------------
# SOAPs: the cases from Abel et al. (2021).


@pytest.mark.parametrize("variant", ["equal", "range"])
@pytest.mark.parametrize("exhaustive", [False, True])
def test_xor_is_not_realisable_and_the_certificate_is_the_identity(variant, exhaustive):
    mdp = environments.xor()
    result = rv.expressivity.realize_soap(
        mdp, [[0, 1], [1, 0]], variant=variant, exhaustive=exhaustive
    )
    assert not result.realizable and result.reward is None and result.margin == 0
    certificate = result.certificate
    assert certificate.identity.replace("−", "-") in {
        "V(a1,a2) + V(a2,a1) - V(a1,a1) - V(a2,a2) = 0",
        "V(a1,a2) + V(a2,a1) - V(a2,a2) - V(a1,a1) = 0",
    }
    # Re-check the identity with the oracle: Σ c_i ρ_i = 0 for every reward.
    combined = np.zeros((2, 2))
    for coefficient, label in certificate.combination:
        actions = [("a1", "a2").index(name) for name in label.split(",")]
        policy = np.eye(2)[actions]
        combined += coefficient * occupancy_oracle(*mdp_arrays(mdp), policy)
    np.testing.assert_allclose(combined, 0, atol=1e-12)
    assert "No Markov reward realises this task" in str(result)


def test_a_realisable_soap_returns_a_verified_reward():
    mdp = environments.xor()
    result = rv.expressivity.realize_soap(mdp, [[0, 0], [0, 1]])
    assert result.realizable and result.margin > 0
    assert result.reward.shape == (2, 2, 2) and np.abs(result.reward).max() <= 1 + 1e-12
    policies, values = all_values(mdp, result.reward)
    good = policies[:, 0] == 0
    np.testing.assert_allclose(values[good], values[good][0], atol=1e-9)
    assert values[good].min() - values[~good].max() >= result.margin - 1e-9


@pytest.mark.parametrize("variant", ["equal", "range"])
def test_always_the_same_direction_is_not_realisable_on_a_grid(variant):
    mdp = environments.open_grid(2, 2)
    constant = environments.constant_direction_policies(mdp)
    result = rv.expressivity.realize_soap(mdp, constant, variant=variant)
    assert not result.realizable
    assert result.certificate.residual < 1e-9


def test_fringe_and_exhaustive_agree_on_random_mdps_and_every_reward_is_verified():
    rng = np.random.default_rng(2021)
    checked = realisable = 0
    for case in range(220):
        n_states, n_actions = int(rng.integers(2, 4)), int(rng.integers(2, 4))
        mdp = random_tabular(rng, n_states, n_actions, sparse=case % 2 == 1)
        every = features.deterministic_policies(mdp)
        chosen = every[rng.choice(len(every), int(rng.integers(1, 4)), replace=False)]
        for variant in ("equal", "range"):
            fringe = rv.expressivity.realize_soap(mdp, chosen, variant=variant)
            exhaustive = rv.expressivity.realize_soap(mdp, chosen, variant=variant, exhaustive=True)
            assert fringe.realizable == exhaustive.realizable, (case, variant)
            checked += 1
            for result in (fringe, exhaustive):
                if not result.realizable:
                    assert result.certificate.residual < 1e-8
                    continue
                realisable += 1
                policies, values = all_values(mdp, result.reward)
                good = (policies[:, None, :] == chosen[None, :, :]).all(-1).any(-1)
                if variant == "equal":
                    np.testing.assert_allclose(values[good], values[good][0], atol=1e-6)
                    gap = values[good][0] - values[~good].max() if (~good).any() else np.inf
                else:
                    gap = values[good].min() - values[~good].max() if (~good).any() else np.inf
                assert gap >= result.margin - 1e-6 and gap > 0
    assert checked >= 400 and realisable > 50


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.floats(-3, 3))
def test_a_realising_reward_still_realises_after_potential_shaping(seed, shift):
    """Potential shaping adds −Φ(s₀)-type constants to every start value (Ng et al. 1999)."""
    rng = np.random.default_rng(seed)
    mdp = random_tabular(rng, 3, 2, sparse=False)
    mdp = rv.TabularMDP(mdp.transitions, gamma=0.9, initial=np.eye(3)[0])
    every = features.deterministic_policies(mdp)
    result = rv.expressivity.realize_soap(mdp, every[:1])
    if not result.realizable:
        return
    potential = shift * rng.normal(size=3)
    shaped = rv.shaping.potential_shaping(mdp, jnp.asarray(result.reward), jnp.asarray(potential))
    _, before = all_values(mdp, result.reward)
    _, after = all_values(mdp, shaped)
    np.testing.assert_allclose(after - before, -potential[0], atol=1e-8)


def _barely_reached_state_mdp(delta):
    """s0 reaches the absorbing s1 with probability δ (else the absorbing s2).

    Accepting "a1 in s1" (anything elsewhere) is realisable for every δ > 0, but the
    values it separates differ by O(δ): at δ = 3e-10 the range LP's margin is below its
    float64 tolerance (by 3×) while no Farkas certificate exists (one appears, within
    tolerance, from δ ≈ 1e-10 down).
    """
    transitions = np.zeros((3, 2, 3))
    transitions[0, :, 1], transitions[0, :, 2] = delta, 1 - delta
    transitions[1, :, 1] = transitions[2, :, 2] = 1.0
    mdp = rv.TabularMDP(transitions, gamma=0.9, initial=[1.0, 0.0, 0.0])
    return mdp, [[a0, 0, a2] for a0 in range(2) for a2 in range(2)]


@pytest.mark.parametrize("exhaustive", [False, True])
def test_a_soap_at_the_edge_of_realisability_is_undecided_not_an_error(exhaustive):
    mdp, acceptable = _barely_reached_state_mdp(3e-10)
    result = rv.expressivity.realize_soap(mdp, acceptable, variant="range", exhaustive=exhaustive)
    assert result.realizable is None
    assert result.certificate is None
    assert "edge of realisability" in result.note and "tolerance" in result.note
    assert str(result).startswith("Undecided")
    assert "realizable=None" in repr(result)
    # The candidate is reported as found: it does separate the policies, by a margin
    # (the gap between the worst acceptable and best unacceptable value) of order δ.
    assert 0 < result.margin < 1e-7
    n_good = len(acceptable)
    assert result.values[:n_good].min() - result.values[n_good:].max() == pytest.approx(
        result.margin, rel=1e-9
    )
    figure = rv.plots.realization(mdp, result)
    assert "undecided" in figure.layout.title.text
    # Further from the edge the same task is decided.
    far = rv.expressivity.realize_soap(*_barely_reached_state_mdp(1e-3), variant="range")
    assert far.realizable is True and far.note == ""


def test_soap_input_errors_name_the_argument():
    mdp = environments.xor()
    with pytest.raises(ValueError, match="variant"):
        rv.expressivity.realize_soap(mdp, [0, 1], variant="middle")
    with pytest.raises(ValueError, match=r"acceptable\[0\] picks action 5"):
        rv.expressivity.realize_soap(mdp, [0, 5])
    with pytest.raises(ValueError, match="acceptable must be deterministic"):
        rv.expressivity.realize_soap(mdp, [[0, 1, 1]])


def test_every_policy_acceptable_is_trivially_realisable():
    mdp = environments.xor()
    result = rv.expressivity.realize_soap(mdp, features.deterministic_policies(mdp))
    assert result.realizable and result.margin == np.inf


# ---------------------------------------------------------------------------
# Policy and trajectory orders.


def test_policy_order_with_stochastic_policies_and_ties():
    mdp = environments.stay_go()
    half = np.array([[0.5, 0.5], [1.0, 0.0]])
    pairs = [([0, 0], "<", [1, 0]), ([1, 0], ">", half)]
    result = rv.expressivity.realize_policy_order(mdp, pairs)
    assert result.realizable and result.margin > 0
    values = rv.solve.policy_return(
        mdp, jnp.asarray(result.reward), jnp.stack([jnp.eye(2)[jnp.array([0, 0])],
                                                    jnp.eye(2)[jnp.array([1, 0])], half])
    )  # fmt: skip
    assert values[1] - values[0] >= result.margin - 1e-9
    assert values[1] - values[2] >= result.margin - 1e-9
    # Going is better than never going, but going half the time ties with always going:
    tie = [([1, 0], "=", half), ([1, 0], ">", [0, 0])]
    assert not rv.expressivity.realize_policy_order(mdp, tie).realizable


def test_policy_order_by_name_and_bad_pairs():
    mdp = environments.xor()
    named = {"first": [0, 0], "second": [1, 1]}
    assert rv.expressivity.realize_policy_order(mdp, [("first", ">", "second")], named).realizable
    with pytest.raises(ValueError, match="'third', which is not among"):
        rv.expressivity.realize_policy_order(mdp, [("first", ">", "third")], named)
    with pytest.raises(ValueError, match="relation one of"):
        rv.expressivity.realize_policy_order(mdp, [("first", ">>", "second")], named)
    with pytest.raises(ValueError, match="pairs is empty"):
        rv.expressivity.realize_policy_order(mdp, [])


def test_trajectory_order_realisable_and_not():
    mdp = environments.stay_go(gamma=0.9)
    stay_then_go = [(0, 0), (0, 1), (1, 0)]
    go_now = [(0, 1), (1, 0), (1, 0)]
    stay_twice = [(0, 0), (0, 0), (0, 1)]
    result = rv.expressivity.realize_trajectory_order(
        mdp, [(go_now, ">", stay_then_go), (stay_then_go, ">", stay_twice)], horizon=3
    )
    assert result.realizable
    # Oracle: returns under the found reward, by explicit sums.
    r = result.reward[:, :, 0]
    returns = [sum(0.9**t * r[s, a] for t, (s, a) in enumerate(tau))
               for tau in (go_now, stay_then_go, stay_twice)]  # fmt: skip
    assert returns[0] - returns[1] >= result.margin - 1e-9
    assert returns[1] - returns[2] >= result.margin - 1e-9
    # A cycle in the order is never realisable.
    cycle = [(go_now, ">", stay_then_go), (stay_then_go, ">", go_now)]
    assert not rv.expressivity.realize_trajectory_order(mdp, cycle, horizon=3).realizable


def test_trajectory_errors_name_the_step():
    mdp = environments.stay_go()
    with pytest.raises(ValueError, match="step 0: action 0 in state 0 cannot lead to state 1"):
        rv.expressivity.realize_trajectory_order(
            mdp, [([(0, 0), (1, 0)], ">", [(0, 1), (1, 0)])], 2
        )
    with pytest.raises(ValueError, match="horizon=3"):
        rv.expressivity.realize_trajectory_order(
            mdp, [([(0, 0), (0, 0)], ">", [(0, 1), (1, 0)])], 3
        )


# ---------------------------------------------------------------------------
# Objectives of other formalisms.


def test_inner_nonlinear_exact_and_monte_carlo_match_enumeration():
    mdp = environments.stay_go(gamma=0.8)
    reward = np.zeros((2, 2, 2))
    reward[0, 0, 0], reward[0, 1, 1] = 0.3, 1.0
    policy = np.array([[0.6, 0.4], [1.0, 0.0]])
    f = np.square
    expected = 0.0
    for path, probability in run_distribution(mdp, policy, horizon=4):
        g = sum(0.8**t * reward[s, a, path[t + 1][0]] for t, (s, a) in enumerate(path[:-1]))
        expected += probability * f(g)
    exact = rv.expressivity.InnerNonlinear(reward, f, horizon=4).values(mdp, policy[None])
    np.testing.assert_allclose(exact, [expected], atol=1e-12)
    sampled = rv.expressivity.InnerNonlinear(
        reward, f, horizon=4, method="monte_carlo", n_samples=40000, seed=3
    )
    first, second = sampled.values(mdp, policy[None]), sampled.values(mdp, policy[None])
    np.testing.assert_array_equal(first, second)  # same seed, same numbers
    np.testing.assert_allclose(first, [expected], atol=0.02)


def test_ltlf_objective_is_the_probability_of_satisfying_traces():
    mdp, _ = rv.envs.gridworld(["S.", ".G"], slip=0.3)
    labels = ["", "a", "b", "goal"]
    formula_text = "!goal U (a & F goal)"
    formula = rv.expressivity.ltlf.parse(formula_text)
    policy = np.full((4, 4), 0.25)
    expected = 0.0
    for path, probability in run_distribution(mdp, policy, horizon=5):
        trace = [{labels[s]} - {""} for s, _ in path[1:]]  # labels of states reached
        if trace and ltlf_holds(formula, trace):
            expected += probability
    value = rv.expressivity.LTLf(formula_text, labels, horizon=5).values(mdp, policy[None])
    np.testing.assert_allclose(value, [expected], atol=1e-12)


def test_outer_nonlinear_entropy_and_multi_objective_values():
    mdp, policies, bonus = environments.xor(), None, np.zeros((2, 2, 2))
    bonus[0, 0] = 1.0
    policies = np.array([[[p, 1 - p], [1.0, 0.0]] for p in (0.0, 0.25, 0.5)])
    outer = rv.expressivity.OuterNonlinear(bonus, lambda v: -((v - 0.5) ** 2))
    np.testing.assert_allclose(outer.values(mdp, policies), [-0.25, -0.0625, 0.0], atol=1e-12)
    entropy = rv.expressivity.EntropyRegularized(np.zeros((2, 2, 2)), temperature=2.0)
    h = [0.0, -(0.25 * np.log(0.25) + 0.75 * np.log(0.75)), np.log(2)]
    np.testing.assert_allclose(entropy.values(mdp, policies), 2.0 * np.array(h), atol=1e-12)
    other = np.zeros((2, 2, 2))
    other[0, 1] = 1.0
    rewards = np.stack([bonus, other])
    lexi = rv.expressivity.MultiObjective(rewards, lexicographic=True)
    ordering = rv.expressivity.policy_ordering(mdp, lexi, list(policies), names=["0", "¼", "½"])
    assert str(ordering) == "½ > ¼ > 0"
    fair = rv.expressivity.MultiObjective(rewards, scalarization=lambda v: v.min(-1))
    np.testing.assert_allclose(fair.values(mdp, policies), [0.0, 0.25, 0.5])
    with pytest.raises(ValueError, match="exactly one of"):
        rv.expressivity.MultiObjective(rewards).values(mdp, policies)
    with pytest.raises(ValueError, match="one entry per reward"):
        rv.expressivity.MultiObjective(rewards, weights=[1.0]).values(mdp, policies)


def test_markov_objective_is_always_expressible():
    rng = np.random.default_rng(5)
    mdp = random_tabular(rng, 3, 2, sparse=False)
    reward = rng.normal(size=(3, 2, 3))
    policies = [rng.dirichlet(np.ones(2), size=3) for _ in range(6)]
    result = rv.expressivity.expressible_as_markov(
        mdp, rv.expressivity.MarkovReward(reward), policies
    )
    assert result.realizable


def test_nonlinear_objective_of_a_bad_shape_is_reported():
    mdp = environments.xor()
    bad = rv.expressivity.OuterNonlinear(np.zeros((2, 2, 2)), lambda v: v.sum())
    with pytest.raises(ValueError, match="elementwise"):
        rv.expressivity.policy_ordering(mdp, bad, [[0, 0], [1, 1]])


def test_deterministic_policy_enumeration_covers_every_combination():
    mdp, _ = rv.envs.chain(4)  # one terminal state: 2^3 policies
    policies = rv.expressivity.deterministic_policies(mdp)
    live = ~np.asarray(mdp.terminal, bool)
    assert len(policies) == 8
    assert {tuple(p[live]) for p in policies} == set(itertools.product(range(2), repeat=3))
    assert (policies[:, ~live] == 0).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_orders_induced_by_a_markov_reward_are_realised_and_reproduced(seed):
    """Any ordering a Markov reward induces is realisable, and the reward found induces it too."""
    rng = np.random.default_rng(seed)
    mdp = random_tabular(rng, 3, 2, sparse=bool(seed % 2))
    reward = rng.normal(size=(3, 2, 3))
    policies = [rng.dirichlet(np.ones(2), size=3) for _ in range(5)]
    objective = rv.expressivity.MarkovReward(reward)
    ordering = rv.expressivity.policy_ordering(mdp, objective, policies)
    result = rv.expressivity.expressible_as_markov(mdp, objective, policies)
    assert result.realizable
    found = rv.expressivity.policy_ordering(
        mdp, rv.expressivity.MarkovReward(result.reward), policies
    )
    for i, relation, j in ordering.pairs:
        gap = found.values[i] - found.values[j]
        if relation == ">":
            assert gap >= result.margin - 1e-9
        else:
            assert abs(gap) < 1e-9


def test_teaching_cases_answer_as_their_names_say():
    for case in environments.teaching_cases().values():
        for name, objective in case.objectives.items():
            answer = rv.expressivity.expressible_as_markov(
                case.mdp, objective, list(case.policies), names=case.names
            )
            assert answer.realizable == name.startswith("Markov"), name


def test_exact_path_enumeration_is_guarded(monkeypatch):
    from rewardviz.expressivity import objectives

    monkeypatch.setattr(objectives, "MAX_PATHS", 10)
    mdp = environments.stay_go()
    objective = rv.expressivity.InnerNonlinear(np.ones((2, 2, 2)), np.square, horizon=30)
    policy = np.full((1, 2, 2), 0.5)
    with pytest.raises(ValueError, match=r'more than 10 trajectories.*method="monte_carlo"'):
        objective.values(mdp, policy)


# ---------------------------------------------------------------------------
# Results as pytrees and tables; old spellings warn with the new one for one release.


def _bandit_witness():
    mdp = environments.xor()
    mixes = [np.array([[p, 1 - p], [1.0, 0.0]]) for p in (0.0, 0.5, 1.0)]
    bonus = np.zeros((2, 2, 2))
    bonus[0, 0] = 1.0
    return mdp, mixes, rv.expressivity.OuterNonlinear(bonus, lambda v: -((v - 0.5) ** 2))


def test_orderings_and_realizations_are_pytrees_with_tables():
    import jax

    mdp, mixes, objective = _bandit_witness()
    ordering = rv.expressivity.policy_ordering(mdp, objective, mixes, names=["0", "½", "1"])
    assert len(jax.tree_util.tree_leaves(ordering)) == 2  # values, order
    frame = ordering.to_frame()
    assert frame["label"].tolist() == ["½", "0", "1"] and frame["rank"].tolist() == [1, 2, 2]
    np.testing.assert_allclose(frame["value"], [0.0, -0.25, -0.25])
    doubled = jax.tree_util.tree_map(lambda x: 2 * x, ordering)
    np.testing.assert_allclose(doubled.values, 2 * ordering.values)
    assert doubled.labels == ordering.labels

    realised = rv.expressivity.realize_soap(mdp, [[0, 0], [0, 1]])
    table = realised.to_frame()
    assert table["label"].tolist() == list(realised.labels)
    np.testing.assert_allclose(table["value"], realised.values)
    assert jax.tree_util.tree_structure(realised).num_leaves == 3  # reward, margin, values
    refused = rv.expressivity.realize_soap(mdp, [[0, 1], [1, 0]])
    assert refused.to_frame()["value"].isna().all()


def test_objective_before_mdp_warns_and_gives_the_same_answer():
    mdp, mixes, objective = _bandit_witness()
    new = rv.expressivity.expressible_as_markov(mdp, objective, mixes)
    with pytest.warns(DeprecationWarning, match=r"expressible_as_markov\(mdp, objective") as caught:
        old = rv.expressivity.expressible_as_markov(objective, mdp, mixes)
    assert caught[0].filename == __file__  # attributed to the caller's line
    assert old.realizable is new.realizable is False
    assert old.certificate.identity == new.certificate.identity
    with pytest.warns(DeprecationWarning, match=r"policy_ordering\(mdp, objective"):
        ordering = rv.expressivity.policy_ordering(objective, mdp=mdp, policies=mixes)
    assert str(ordering) == str(rv.expressivity.policy_ordering(mdp, objective, mixes))


def test_tolerance_keyword_warns_with_tol():
    mdp, mixes, objective = _bandit_witness()
    with pytest.warns(DeprecationWarning, match="tol=") as caught:
        old = rv.expressivity.policy_ordering(mdp, objective, mixes, tolerance=0.3)
    assert caught[0].filename == __file__
    assert str(old) == str(rv.expressivity.policy_ordering(mdp, objective, mixes, tol=0.3))
    assert str(old) == "π2 = π1 = π3"  # every gap (at most 0.25) is within the tolerance
    # Old order and old keyword at once: both warn, the answer is the new call's.
    with pytest.warns(DeprecationWarning) as caught:
        both = rv.expressivity.expressible_as_markov(objective, mdp, mixes, tolerance=0.3)
    assert {"tol=", "mdp, objective"} <= {
        part for w in caught for part in ("tol=", "mdp, objective") if part in str(w.message)
    }
    assert all(w.filename == __file__ for w in caught)
    assert (
        both.realizable
        is rv.expressivity.expressible_as_markov(mdp, objective, mixes, tol=0.3).realizable
    )
    with pytest.raises(TypeError, match="only tol="):
        rv.expressivity.policy_ordering(mdp, objective, mixes, tol=0.1, tolerance=0.1)


def test_positional_options_warn_and_give_the_same_answer():
    mdp = environments.xor()
    with pytest.warns(DeprecationWarning, match="variant=... by keyword"):
        old = rv.expressivity.realize_soap(mdp, [[0, 0], [0, 1]], "range")
    new = rv.expressivity.realize_soap(mdp, [[0, 0], [0, 1]], variant="range")
    assert old.margin == new.margin and old.labels == new.labels
    with pytest.raises(TypeError, match="positional"):
        rv.expressivity.realize_soap(mdp, [[0, 0]], "range", True)
    with pytest.warns(DeprecationWarning, match="gamma=... by keyword"):
        assert environments.open_grid(2, 2, 0.5).gamma == 0.5
    with pytest.warns(DeprecationWarning, match="gamma=... by keyword"):
        assert environments.xor(0.5).gamma == environments.xor(gamma=0.5).gamma
    with pytest.warns(DeprecationWarning, match="name=... by keyword"):
        with pytest.raises(ValueError, match="my_soap"):
            features.canonical_policies(mdp, [0, 5], "my_soap")


def test_inner_nonlinear_old_samples_keyword_and_positional_options_warn():
    mdp = environments.stay_go(gamma=0.8)
    reward = np.ones((2, 2, 2))
    policy = np.full((1, 2, 2), 0.5)
    new = rv.expressivity.InnerNonlinear(
        reward, np.square, 3, method="monte_carlo", n_samples=50, seed=1
    )
    with pytest.warns(DeprecationWarning, match="n_samples="):
        old = rv.expressivity.InnerNonlinear(
            reward, np.square, 3, method="monte_carlo", samples=50, seed=1
        )
    assert old == new
    with pytest.warns(DeprecationWarning, match=r"n_samples=\.\.\., seed=\.\.\. by keyword"):
        positional = rv.expressivity.InnerNonlinear(reward, np.square, 3, "monte_carlo", 50, 1)
    assert positional == new
    with pytest.warns(DeprecationWarning, match="InnerNonlinear.n_samples"):
        assert new.samples == 50
    np.testing.assert_array_equal(old.values(mdp, policy), new.values(mdp, policy))
    with pytest.warns(DeprecationWarning, match="lexicographic=... by keyword"):
        lexi = rv.expressivity.MultiObjective(np.stack([reward, reward]), None, None, True)
    assert lexi.lexicographic and lexi.weights is None and lexi.scalarization is None


def test_inner_nonlinear_seed_may_be_a_jax_key():
    import jax

    mdp = environments.stay_go(gamma=0.8)
    policy = np.full((1, 2, 2), 0.5)
    objective = rv.expressivity.InnerNonlinear(
        np.ones((2, 2, 2)), np.square, 3, method="monte_carlo", n_samples=200,
        seed=jax.random.key(4),
    )  # fmt: skip
    np.testing.assert_array_equal(objective.values(mdp, policy), objective.values(mdp, policy))
    with pytest.raises(ValueError, match="n_samples"):
        rv.expressivity.InnerNonlinear(
            np.ones((2, 2, 2)), np.square, 3, method="monte_carlo", n_samples=0
        ).values(mdp, policy)
