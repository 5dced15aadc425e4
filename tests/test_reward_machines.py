"""LTLf automata and reward machines against direct semantics, simulation and a reference
interpreter of the text format of Toro Icarte et al. written again here."""

import ast
import dataclasses
import doctest
import re
import textwrap

import hypothesis.strategies as st
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from oracles_expressivity import ltlf_holds

import rewardviz as rv
from rewardviz.expressivity import ltlf, reward_machines
from rewardviz.expressivity.reward_machines import RewardMachine, RewardMachineError

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
    n_u = len(machine.states)
    assert machine.states[-1] == "no-match" and joint.n_states == mdp.n_states * n_u == 36
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
            if machine.is_terminal(u) or discount < 1e-6:
                break
            a = policy[s * n_u + u]
            s = rng.choice(mdp.n_states, p=transitions[s, a])
            u, paid = machine.step(u, {labels[s]} - {""})
            total += discount * paid
            discount *= mdp.gamma
        returns.append(total)
    standard_error = np.std(returns) / np.sqrt(len(returns))
    assert abs(np.mean(returns) - value) < 4 * standard_error + 1e-3


def test_machine_potential_and_product_shaping_keep_the_optimal_policy():
    mdp, machine, labels = office()
    # From 0 the edge "coffee & office" pays 1 at once, so V(0) = V(1) = 1 and V(2) = 0,
    # and the no-match state is terminal: 0.
    np.testing.assert_allclose(machine.potential(0.9), [1.0, 1.0, 0.0, 0.0])
    joint, reward = rv.expressivity.product(mdp, machine, labels)
    potential = rv.expressivity.shaping_potential(machine, 0.9, n_states=mdp.n_states)
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
        (
            "0 # initial state\n[] # terminal state\n(0,0,'!c',RewardControl())",
            "line 3: reward 'RewardControl\\(\\)' is not a constant; non-constant reward "
            "functions .* are not supported",
        ),
        ("0\n[1]\n\n(0,1,'a',RewardForward( 2 ))", "line 4: reward 'RewardForward\\( 2 \\)'"),
        ("0\n[1]\n(0,1,'a',ConstantRewardFunction(x))", "line 3: reward .* is not a number"),
        ("0\n[1]\n(0,1,'a',one)", "line 3: reward 'one' is not a number"),
        ("0\n[1]\n(0, 1, 'a', 1)\n(1, 1, 'True', 0)", "the reference loader ignores them"),
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
        joint, rv.expressivity.MarkovReward(reward), lifted, names=names
    )
    assert on_product.realizable
    ordering = rv.expressivity.policy_ordering(mdp, objective, policies, names=names)
    np.testing.assert_allclose(
        rv.expressivity.MarkovReward(reward).values(joint, np.stack(lifted)), ordering.values
    )


# ---------------------------------------------------------------------------
# The text format of Toro Icarte et al.'s reward_machines code, against an interpreter of
# that format written again here: its own reading (ast.literal_eval after stripping
# comments), its own DNF evaluation and its own value iteration with explicit loops.

END = "end"  # the reference merges every terminal state, and "no formula holds", into one


def reference_lines(text):
    """Initial state, terminal list and ``(u1, u2, formula, reward)`` tuples of a machine file."""
    rows = [row.split("#")[0].strip() for row in text.splitlines()]
    rows = [row for row in rows if row]
    lines = [ast.literal_eval(row.replace("ConstantRewardFunction", "")) for row in rows[2:]]
    return ast.literal_eval(rows[0]), ast.literal_eval(rows[1]), lines


def dnf_holds(formula, true_props):
    """A DNF of single-character propositions; ``true_props`` is a string of the true ones."""

    def literal(text):
        negated = text.startswith("!")
        atom = text[1:] if negated else text
        if atom in ("True", "False"):
            value = atom == "True"
        else:
            assert len(atom) == 1, atom
            value = atom in true_props
        return value != negated

    clauses = formula.replace(" ", "").split("|")
    return any(all(literal(part) for part in clause.split("&")) for clause in clauses)


class ReferenceMachine:
    """The reference semantics: each state's transitions keyed by target, in order of the
    target's first appearance; the first one whose formula holds is taken, and when none
    holds the machine ends with reward 0."""

    def __init__(self, text):
        self.initial, terminal, self.lines = reference_lines(text)
        self.delta = {}
        for u1, u2, formula, reward in self.lines:
            if u1 not in terminal:
                target = END if u2 in terminal else u2
                self.delta.setdefault(u1, {})[target] = (formula, reward)

    def step(self, u1, true_props):
        for u2, (formula, reward) in self.delta.get(u1, {}).items():
            if dnf_holds(formula, true_props):
                return u2, reward
        return END, 0.0


def reference_values(mdp, machine, labels):
    """Optimal values ``V[(s, u)]`` of the product by value iteration over (s, u, a, s')."""
    transitions = np.asarray(mdp.transitions, np.float64)
    ended = np.asarray(mdp.terminal, bool)
    n_s, n_a = mdp.n_states, mdp.n_actions
    live = list(machine.delta)
    values = {(s, u): 0.0 for s in range(n_s) for u in [*live, END]}
    for _ in range(2000):
        change = 0.0
        for s in range(n_s):
            for u in live:
                if ended[s]:
                    continue
                best = -np.inf
                for a in range(n_a):
                    q = 0.0
                    for s_next in range(n_s):
                        p = transitions[s, a, s_next]
                        if p > 0:
                            u_next, reward = machine.step(u, labels[s_next])
                            q += p * (reward + mdp.gamma * values[(s_next, u_next)])
                    best = max(best, q)
                change = max(change, abs(best - values[(s, u)]))
                values[(s, u)] = best
        if change < 1e-15:
            return values
    raise AssertionError("reference value iteration did not converge")


COFFEE = """\
0 # initial state
[2] # terminal state
(0,0,'!f&!n',ConstantRewardFunction(0))
(0,1,'f&!n',ConstantRewardFunction(0))
(1,1,'!g&!n',ConstantRewardFunction(0))
(1,2,'g&!n',ConstantRewardFunction(1))
"""

MAIL = """\
0 # initial state
[2] # terminal state
(0,0,'!e&!n',ConstantRewardFunction(0))
(0,1,'e&!n',ConstantRewardFunction(0))
(1,1,'!g&!n',ConstantRewardFunction(0))
(1,2,'g&!n',ConstantRewardFunction(1))
"""

COFFEE_AND_MAIL = """\
0 # initial state
[4] # terminal state
(0,0,'!e&!f&!n',ConstantRewardFunction(0))
(0,1,'f&!e&!n',ConstantRewardFunction(0))   # coffee first
(0,2,'e&!f&!n',ConstantRewardFunction(0))   # mail first
(0,3,'e&f&!n',ConstantRewardFunction(0))    # both in one cell
(1,1,'!e&!n',ConstantRewardFunction(0))
(1,3,'e&!n',ConstantRewardFunction(0))
(2,2,'!f&!n',ConstantRewardFunction(0))
(2,3,'f&!n',ConstantRewardFunction(0))

(3,3,'!g&!n',ConstantRewardFunction(0))
(3,4,'g&!n',ConstantRewardFunction(1))
"""

PATROL = """\
0 # initial state
[4] # terminal state
(0,1,'a&!n',ConstantRewardFunction(0))
(0,0,'!a&!n',ConstantRewardFunction(0))
(1,2,'b&!n',ConstantRewardFunction(0))
(1,1,'!b&!n',ConstantRewardFunction(0))
(2,3,'c&!n',ConstantRewardFunction(0))
(2,2,'!c&!n',ConstantRewardFunction(0))
(3,4,'d&!n',ConstantRewardFunction(1))
(3,3,'!d&!n',ConstantRewardFunction(0))
"""

# Craft style: wood (a) and iron (f) in either order, then workbench (c), toolshed (b),
# factory (e). Its formulas overlap where a cell holds both wood and iron.
CRAFT = """\
0 # initial state
[6] # terminal state
(0,0,'!a&!f',ConstantRewardFunction(0))
(0,1,'a',ConstantRewardFunction(0))
(0,2,'f',ConstantRewardFunction(0))
(1,1,'!f',ConstantRewardFunction(0))
(1,3,'f',ConstantRewardFunction(0))
(2,2,'!a',ConstantRewardFunction(0))
(2,3,'a',ConstantRewardFunction(0))
(3,3,'!c',ConstantRewardFunction(0))
(3,4,'c',ConstantRewardFunction(0))
(4,4,'!b',ConstantRewardFunction(0))
(4,5,'b',ConstantRewardFunction(0))
(5,5,'!e',ConstantRewardFunction(0))
(5,6,'e',ConstantRewardFunction(1))
"""

GRID = ["S....", ".....", "..G..", ".....", "....."]  # G: a terminal cell of the MDP
OFFICE_CELLS = {
    (0, 4): "a", (4, 4): "b", (4, 0): "c", (2, 0): "d", (1, 1): "f", (1, 3): "e",
    (3, 3): "ef", (3, 1): "g", (2, 2): "g", (2, 1): "n", (2, 3): "n",
}  # fmt: skip
CRAFT_CELLS = {(0, 4): "a", (4, 0): "f", (1, 3): "af", (3, 1): "c", (4, 4): "b", (0, 2): "e"}

MACHINES = {
    "coffee": (COFFEE, OFFICE_CELLS, "error"),
    "mail": (MAIL, OFFICE_CELLS, "error"),
    "coffee_and_mail": (COFFEE_AND_MAIL, OFFICE_CELLS, "error"),
    "patrol": (PATROL, OFFICE_CELLS, "error"),
    "craft": (CRAFT, CRAFT_CELLS, "first"),
}


def labelled_grid(cells):
    mdp, _ = rv.envs.gridworld(GRID, slip=0.1, gamma=0.9)
    return mdp, [cells.get(tuple(cell), "") for cell in mdp.grid_cells]


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_reference_files_parse_and_their_products_match_a_reference_interpreter(name, tmp_path):
    text, cells, on_overlap = MACHINES[name]
    path = tmp_path / f"{name}.txt"
    path.write_text(text)
    machine = RewardMachine.from_file(path, on_overlap=on_overlap)
    reference = ReferenceMachine(text)
    initial, terminal, lines = reference_lines(text)

    assert machine.on_no_match == "terminate" and machine.names[machine.initial] == str(initial)
    assert set(machine.names) == {str(u) for line in lines for u in line[:2]}
    assert [machine.names[u] for u in machine.terminal] == [str(u) for u in terminal]
    edges = [
        (machine.names[e.source], machine.names[e.target], e.text, e.reward) for e in machine.edges
    ]
    assert edges == [(str(u1), str(u2), formula, float(r)) for u1, u2, formula, r in lines]

    mdp, labels = labelled_grid(cells)
    for u in reference.delta:
        for label in set(labels):
            expected, paid = reference.step(u, label)
            reached, reward = machine.step(machine.names.index(str(u)), set(label))
            assert reward == paid
            if expected == END:
                assert machine.is_terminal(reached)
            else:
                assert machine.states[reached] == str(expected)

    joint, reward = rv.expressivity.product(mdp, machine, [set(label) for label in labels])
    values = np.asarray(rv.solve.value_iteration(joint, reward, tol=1e-13).values)
    values = values.reshape(mdp.n_states, len(machine.states))
    expected = reference_values(mdp, reference, labels)
    live = [machine.names.index(str(u)) for u in reference.delta]
    ours = values[:, live]
    theirs = np.array([[expected[(s, u)] for u in reference.delta] for s in range(mdp.n_states)])
    assert theirs.max() > 0.1  # the task is reachable, so the comparison is not of zeros
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    dead = [u for u in range(len(machine.states)) if machine.is_terminal(u)]
    assert not values[:, dead].any()


def test_decorations_end_the_office_episode_with_nothing_and_overlaps_need_first():
    machine = RewardMachine.from_text(COFFEE)
    assert machine.run(["f", "n", "g"]) == (machine.no_match_state, 0.0)
    assert machine.run(["f", "", "g"]) == (2, 1.0)
    staying = RewardMachine.from_text(COFFEE, on_no_match="stay")
    assert staying.run(["f", "n", "g"]) == (2, 1.0) and staying.states == staying.names
    craft = RewardMachine.from_text(CRAFT)
    with pytest.raises(ValueError, match="ambiguous for labels \\['a', 'f'\\]: lines 4, 5"):
        craft.step(0, "af")
    first = RewardMachine.from_text(CRAFT, on_overlap="first")
    assert first.states[first.step(0, "af")[0]] == "1"  # line 4 comes first
    mdp, labels = labelled_grid(CRAFT_CELLS)
    with pytest.raises(ValueError, match="on_overlap='first'"):
        rv.expressivity.product(mdp, craft, [set(label) for label in labels])


def test_stay_and_terminate_products_agree_on_a_complete_machine():
    mdp, terminating, labels = office()
    staying = dataclasses.replace(terminating, on_no_match="stay")
    values = []
    for machine in (terminating, staying):
        joint, reward = rv.expressivity.product(mdp, machine, labels)
        found = rv.solve.value_iteration(joint, reward, tol=1e-13).values
        values.append(np.asarray(found).reshape(mdp.n_states, len(machine.states))[:, :3])
    assert values[0].max() > 0.1
    np.testing.assert_allclose(values[0], values[1], rtol=1e-10)


def test_the_module_docstring_example_parses():
    after = reward_machines.__doc__.split("::\n", 1)[1]
    block = []
    for line in after.splitlines()[1:]:
        if line and not line.startswith(" "):
            break
        block.append(line)
    machine = RewardMachine.from_text(textwrap.dedent("\n".join(block)))
    assert machine.names == ("0", "1", "3") and machine.terminal == (2,)
    assert machine.run([{"coffee"}, {"office"}]) == (2, 1.0)


def test_the_module_examples_run():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for test in finder.find(reward_machines, globs={"rv": rv, "np": np}):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0 and results.attempted >= 12


def test_repeated_targets_warn_when_reading_for_the_reference_order():
    text = "0\n[2, 3]\n(0,1,'a',0)\n(0,2,'b',1)\n(0,1,'c',0)\n(0,3,'a&b',5)\n(1,2,'True',0)"
    with pytest.warns(UserWarning) as caught:
        machine = RewardMachine.from_text(text, on_overlap="first")
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 2
    assert messages[0].startswith("lines 3, 5 all lead from state 0 to 1: rewardviz keeps")
    assert messages[1].startswith("lines 4, 6 all lead from state 0 to terminal states")
    assert machine.step(0, {"c"}) == (1, 0.0) and machine.step(0, {"a", "b"}) == (1, 0.0)


def test_files_names_keywords_and_indices_are_checked(tmp_path):
    broken = tmp_path / "broken.txt"
    broken.write_text("0 # initial state\n[1] # terminal state\n(0,1,'a'&,1)\n")
    with pytest.raises(RewardMachineError, match=f"^{re.escape(str(broken))}: line 3: expected"):
        RewardMachine.from_file(broken)
    with pytest.raises(TypeError, match=r"use RewardMachine.from_file"):
        RewardMachine.from_text(broken)
    with pytest.raises(ValueError, match=r"on_no_match must be 'terminate' .* got 'end'"):
        RewardMachine.from_text(COFFEE, on_no_match="end")
    with pytest.raises(ValueError, match=r"on_overlap must be 'error' .* got 'last'"):
        RewardMachine.from_text(COFFEE, on_overlap="last")
    machine = RewardMachine.from_text(COFFEE)
    with pytest.raises(ValueError, match="named 'no-match'"):
        dataclasses.replace(machine, names=("0", "no-match", "2"))
    with pytest.raises(ValueError, match="state index 3 is not one of the 3 named states"):
        dataclasses.replace(machine, terminal=(3,))
    with pytest.raises(ValueError, match=r"state 4 is not a machine state index 0..3"):
        machine.step(4, "f")


def test_formats_read_with_spaces_quotes_and_comments_anywhere():
    spaced = """
    # a comment line, then a blank one

    -1   # initial state
    [ 7 , ]  # terminal states
    ( -1 , 7 , "a & (b | !c)" , ConstantRewardFunction( -2.5e-1 ) )  # a comment
    (-1,-1,'!(a & (b | !c))',.5)
    """
    machine = RewardMachine.from_text(spaced)
    assert machine.names == ("-1", "7") and machine.terminal == (1,)
    assert [(e.text, e.reward, e.line) for e in machine.edges] == [
        ("a & (b | !c)", -0.25, 6),
        ("!(a & (b | !c))", 0.5, 7),
    ]
    assert machine.run(["", "a"]) == (1, 0.25)


# Random machines in the reference format: single-character propositions, formulas in
# disjunctive normal form, and at most one line per (source, target) pair with every
# terminal state counted as one target, the files on which file order is the reference order.

REWARDS = st.floats(-10, 10, allow_nan=False) | st.sampled_from([0.0, 1.0, 0.1, -3.0])
LITERALS = st.sampled_from(["a", "b", "c", "!a", "!b", "!c", "True", "False"])
DNF = st.lists(st.lists(LITERALS, min_size=1, max_size=3), min_size=1, max_size=3)


@st.composite
def reference_texts(draw):
    n_live, n_terminal = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    live, terminal = list(range(n_live)), list(range(n_live, n_live + n_terminal))
    lines = []
    for source in live:
        targets = draw(
            st.lists(st.sampled_from(live + terminal), min_size=1, max_size=4, unique=True).filter(
                lambda chosen: sum(t in terminal for t in chosen) <= 1
            )
        )
        for target in targets:
            clauses = draw(DNF)
            lines.append((source, target, "|".join("&".join(c) for c in clauses), draw(REWARDS)))
    lines = draw(st.permutations(lines))
    reached = [t for t in terminal if any(line[1] == t for line in lines)]
    rows = ["0  # initial state", f"{reached}  # terminal states"]
    for source, target, formula, reward in lines:
        written = draw(st.sampled_from([repr(reward), f"ConstantRewardFunction({reward!r})"]))
        spaced = draw(st.booleans())
        row = (
            f"({source}, {target}, '{formula}', {written})"
            if spaced
            else (f"({source},{target},'{formula}',{written})")
        )
        rows.append(row + draw(st.sampled_from(["", "  # a comment", " #"])))
    return "\n".join(rows)


label_traces = st.lists(st.text("abc", max_size=3), max_size=8)


@settings(max_examples=60)
@given(text=reference_texts(), trace=label_traces)
def test_random_files_step_as_the_reference_interpreter(text, trace):
    machine = RewardMachine.from_text(text, on_overlap="first")
    reference = ReferenceMachine(text)
    ours, theirs = machine.initial, reference.initial
    for label in trace:
        ours, paid = machine.step(ours, set(label))
        theirs, expected = reference.step(theirs, label)
        assert paid == expected
        if theirs == END:
            assert machine.is_terminal(ours)
            break
        assert machine.states[ours] == str(theirs)


@settings(max_examples=40)
@given(
    text=reference_texts(),
    trace=label_traces,
    on_no_match=st.sampled_from(["terminate", "stay"]),
)
def test_text_round_trip_keeps_the_machine(text, trace, on_no_match):
    machine = RewardMachine.from_text(text, on_no_match=on_no_match, on_overlap="first")
    again = RewardMachine.from_text(machine.to_text(), on_no_match=on_no_match, on_overlap="first")

    def described(m):
        return [(m.names[e.source], m.names[e.target], e.text, e.reward) for e in m.edges]

    assert described(again) == described(machine)
    assert [again.names[u] for u in again.terminal] == [machine.names[u] for u in machine.terminal]
    ours, theirs = machine.run(trace), again.run(trace)
    assert (machine.states[ours[0]], ours[1]) == (again.states[theirs[0]], theirs[1])


@settings(max_examples=40)
@given(text=reference_texts(), trace=label_traces)
def test_stay_and_terminate_agree_until_no_formula_holds(text, trace):
    terminating = RewardMachine.from_text(text, on_overlap="first")
    staying = dataclasses.replace(terminating, on_no_match="stay")
    ended = False
    u_terminating = u_staying = terminating.initial
    for label in trace:
        u_terminating, paid_terminating = terminating.step(u_terminating, set(label))
        u_staying, paid_staying = staying.step(u_staying, set(label))
        if ended:
            assert (u_terminating, paid_terminating) == (terminating.no_match_state, 0.0)
            continue
        no_formula_held = u_terminating == terminating.no_match_state
        assert paid_terminating == paid_staying
        if no_formula_held:
            assert paid_staying == 0.0
            ended = True
        else:
            assert u_terminating == u_staying


def test_positional_options_of_machines_and_formulas_warn_and_agree():
    machine = RewardMachine.from_text("0\n[1]\n(0, 1, 'end', 1)")
    with pytest.warns(DeprecationWarning, match="n_states=... by keyword") as caught:
        old = rv.expressivity.shaping_potential(machine, 0.9, 3)
    assert caught[0].filename == __file__
    np.testing.assert_array_equal(old, rv.expressivity.shaping_potential(machine, 0.9, n_states=3))
    with pytest.warns(DeprecationWarning, match="alphabet=... by keyword"):
        old = ltlf.to_automaton("a U b", [{"a"}, {"b"}])
    assert old == ltlf.to_automaton("a U b", alphabet=[{"a"}, {"b"}])
    formula = ltlf.parse("X (a U b)")
    with pytest.warns(DeprecationWarning, match="negate=... by keyword"):
        old = ltlf.negation_normal_form(formula, True)
    assert old == ltlf.negation_normal_form(formula, negate=True)
    assert old == ltlf.negation_normal_form(("not", formula))


def test_the_product_docstring_says_which_product():
    doc = rv.expressivity.product.__doc__
    assert "reward-machine × MDP product" in doc and "Toro Icarte" in doc
