"""LTLf automata and reward machines against direct semantics and simulation."""

import hypothesis.strategies as st
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from oracles_expressivity import ltlf_holds

import rewardviz as rv
from rewardviz.expressivity import ltlf
from rewardviz.expressivity.reward_machines import RewardMachineError

PROPS = ("a", "b", "c")


def formulas():
    atoms = st.sampled_from([("ap", p) for p in PROPS] + [("true",), ("false",)])

    def extend(children):
        unary = st.tuples(st.sampled_from(["not", "X", "WX", "F", "G"]), children)
        binary = st.tuples(st.sampled_from(["and", "or", "U", "R"]), children, children)
        return unary | binary

    return st.recursive(atoms, extend, max_leaves=6)


def to_text(formula):
    kind = formula[0]
    if kind == "ap":
        return formula[1]
    if kind in ("true", "false"):
        return kind
    if kind in ("not", "X", "WX", "F", "G"):
        return f"{'!' if kind == 'not' else kind + ' '}({to_text(formula[1])})"
    symbol = {"and": "&", "or": "|", "U": "U", "R": "R"}[kind]
    return f"({to_text(formula[1])}) {symbol} ({to_text(formula[2])})"


traces = st.lists(st.frozensets(st.sampled_from(PROPS)), min_size=1, max_size=6)


@settings(max_examples=150)
@given(formula=formulas(), trace=traces)
def test_the_automaton_accepts_exactly_the_models(formula, trace):
    automaton = ltlf.to_automaton(formula)
    assert automaton.accepts(trace) == ltlf_holds(formula, trace)


@settings(max_examples=60)
@given(formula=formulas())
def test_parsing_the_printed_formula_gives_it_back(formula):
    assert ltlf.parse(to_text(formula)) == formula


def test_parser_precedence_and_errors():
    assert ltlf.parse("a & b | c -> X d") == (
        "or",
        ("not", ("or", ("and", ("ap", "a"), ("ap", "b")), ("ap", "c"))),
        ("X", ("ap", "d")),
    )
    assert ltlf.parse("a U b U c") == ("U", ("ap", "a"), ("U", ("ap", "b"), ("ap", "c")))
    with pytest.raises(ltlf.FormulaError, match="missing '\\)'"):
        ltlf.parse("(a & b")
    with pytest.raises(ltlf.FormulaError, match="unexpected '\\$' at character 2"):
        ltlf.parse("a $ b")
    with pytest.raises(ltlf.FormulaError, match="ends too early"):
        ltlf.parse("a &")


OFFICE = """\
# coffee, then the office
0
[2]
(0, 0, '!coffee', 0)
(0, 1, 'coffee & !office', 0)
(0, 2, 'coffee & office', 1)
(1, 1, '!office', 0)
(1, 2, 'office', 1)
"""


def office():
    """A 3x3 office: coffee at the top right, office at the bottom left; slippery moves."""
    mdp, _ = rv.envs.gridworld(["S..", "...", "..."], slip=0.2, gamma=0.9)
    labels = [""] * mdp.n_states
    labels[2], labels[6] = "coffee", "office"
    return mdp, rv.expressivity.RewardMachine.from_text(OFFICE), labels


def test_office_text_parses_and_round_trips():
    _, machine, _ = office()
    assert machine.names == ("0", "1", "2") and machine.terminal == (2,)
    assert machine.propositions == {"coffee", "office"}
    again = rv.expressivity.RewardMachine.from_text(machine.to_text())
    assert [(e.source, e.target, e.reward) for e in again.edges] == [
        (e.source, e.target, e.reward) for e in machine.edges
    ]
    assert machine.run([set(), {"coffee"}, set(), {"office"}]) == (2, 1.0)
    assert machine.run([{"office"}, {"coffee"}]) == (1, 0.0)


def test_product_value_iteration_equals_simulation():
    mdp, machine, labels = office()
    joint, reward = rv.expressivity.product(mdp, machine, labels)
    assert joint.n_states == mdp.n_states * 3
    q = rv.solve.q_values(joint, reward)
    policy = np.asarray(rv.solve.greedy_policy(q)).argmax(-1)  # [S·U] deterministic
    value = float(rv.solve.policy_return(joint, reward, jnp.asarray(policy)))
    # Simulate the base MDP and run the machine alongside, following the product policy.
    rng = np.random.default_rng(0)
    transitions = np.asarray(mdp.transitions, float)
    initial = np.asarray(mdp.initial, float)
    returns = []
    for _ in range(4000):
        s, u, total, discount = rng.choice(mdp.n_states, p=initial), 0, 0.0, 1.0
        for _ in range(200):
            if u in machine.terminal or discount < 1e-6:
                break
            a = policy[s * 3 + u]
            s = rng.choice(mdp.n_states, p=transitions[s, a])
            u, paid = machine.step(u, {labels[s]} - {""})
            total += discount * paid
            discount *= mdp.gamma
        returns.append(total)
    standard_error = np.std(returns) / np.sqrt(len(returns))
    assert abs(np.mean(returns) - value) < 4 * standard_error + 1e-3


def test_machine_potential_and_product_shaping_keep_the_optimal_policy():
    mdp, machine, labels = office()
    # From 0 the edge "coffee & office" pays 1 at once, so V(0) = V(1) = 1 and V(2) = 0.
    np.testing.assert_allclose(machine.potential(0.9), [1.0, 1.0, 0.0])
    joint, reward = rv.expressivity.product(mdp, machine, labels)
    potential = rv.expressivity.shaping_potential(machine, 0.9, mdp.n_states)
    shaped = rv.shaping.potential_shaping(joint, reward, jnp.asarray(potential))
    original = np.asarray(rv.solve.q_values(joint, reward))
    after = np.asarray(rv.solve.q_values(joint, shaped))
    live = ~np.asarray(joint.terminal, bool)
    # Q changes by −Φ(s) per state only, so the greedy action is the same everywhere.
    np.testing.assert_allclose(
        (after - original)[live],
        np.broadcast_to(-potential[live, None], after[live].shape),
        atol=1e-9,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0\n[1]\n(0, 1, 'a', 1)\n(0, 1, a, 1)", "line 4: expected \\(u, u', 'formula', reward\\)"),
        ("0\n[5]\n(0, 1, 'a', 1)", "line 2: unknown state 5"),
        ("0\n[1]\n(0, 1, 'a &', 1)\n(1, 0, 'b', 0)", "line 3: formula 'a &' ends too early"),
        ("0\n[1]\n(0, 1, 'a', 1)\n(1, 0, 'b', 0)", "line 4: transition leaves terminal state 1"),
        ("0\n[1]\n(0, 1, 'F a', 1)", "line 3: 'F a' has a temporal operator"),
        ("0\n1\n(0, 1, 'a', 1)", "line 2: the second line must list the terminal states"),
        ("0\n[]", "no transition lines"),
    ],
)
def test_parse_errors_name_the_line(text, message):
    with pytest.raises(RewardMachineError, match=message):
        rv.expressivity.RewardMachine.from_text(text)


def test_ambiguous_machines_and_bad_labelings_are_refused():
    machine = rv.expressivity.RewardMachine.from_text("0\n[]\n(0, 1, 'a', 1)\n(0, 2, 'a | b', 0)")
    with pytest.raises(ValueError, match="ambiguous for labels \\['a'\\]: lines 3, 4"):
        machine.step(0, {"a"})
    mdp, _ = rv.envs.chain(3)
    with pytest.raises(ValueError, match="labeling has 2 entries for 3 states"):
        rv.expressivity.product(mdp, machine, ["", "a"])


@settings(max_examples=40)
@given(formula=formulas(), trace=traces)
def test_machine_from_ltlf_pays_one_exactly_on_models(formula, trace):
    machine = rv.expressivity.RewardMachine.from_ltlf(formula)
    _, total = machine.run(trace)
    assert total == (1.0 if ltlf_holds(formula, trace) else 0.0)


def test_ltlf_task_is_markov_on_the_product_but_not_on_the_base():
    """The notebook's example: 'visit a, then b' in three rooms."""
    from rewardviz.expressivity.formalisms import WITNESSES, _visit_a_then_b

    assert not WITNESSES["reward_machine"].check().realizable
    mdp, machine, labels = _visit_a_then_b()
    joint, reward = rv.expressivity.product(mdp, machine, labels)
    _, policies, names, objective = WITNESSES["reward_machine"].build()
    lifted = [np.repeat(np.eye(3)[p], 3, axis=0) for p in policies]
    on_product = rv.expressivity.expressible_as_markov(
        rv.expressivity.MarkovReward(reward), joint, lifted, names=names
    )
    assert on_product.realizable
    ordering = rv.expressivity.policy_ordering(objective, mdp, policies, names=names)
    np.testing.assert_allclose(
        rv.expressivity.MarkovReward(reward).values(joint, np.stack(lifted)), ordering.values
    )
