"""Teaching-sheet checkers: right answers pass, typical mistakes get their hint, sheets stay in sync."""

import importlib.util
from pathlib import Path

import nbformat
import numpy as np
import pytest

import rewardviz as rv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def grid():
    return rv.envs.gridworld(["S...", ".##.", "...G"], gamma=0.9)


def test_shaped_reward_checker(grid):
    mdp, reward = grid
    # Not 0 at the goal, so forgetting that a terminal state's potential is 0 shows.
    potential = 1.0 - rv.envs.steps_to_goal(mdp).astype(float)
    terminal = np.asarray(mdp.terminal)
    phi = np.where(terminal, 0.0, potential)
    r = np.asarray(reward, float)
    loops = np.zeros_like(r)
    for s in range(mdp.n_states):  # the answer a student writes with loops
        for a in range(mdp.n_actions):
            for t in range(mdp.n_states):
                loops[s, a, t] = r[s, a, t] + 0.9 * phi[t] - phi[s]
    assert rv.teaching.check_shaped_reward(mdp, loops, reward, potential).correct
    flipped = r - 0.9 * phi[None, None, :] + phi[:, None, None]
    assert "sign is reversed" in str(
        rv.teaching.check_shaped_reward(mdp, flipped, reward, potential)
    )
    no_terminal = r + 0.9 * potential[None, None, :] - potential[:, None, None]
    assert "after which nothing follows" in str(
        rv.teaching.check_shaped_reward(mdp, no_terminal, reward, potential)
    )
    assert rv.teaching.check_shaped_reward(mdp, None, reward, potential).status == "unanswered"
    assert "shape" in str(rv.teaching.check_shaped_reward(mdp, r[0], reward, potential))


def test_potential_based_and_value_potential_checkers(grid):
    mdp, reward = grid
    potential = -rv.envs.steps_to_goal(mdp).astype(float)
    candidates = {
        "shaped": rv.shaping.potential_shaping(mdp, reward, potential),
        "doubled": 2 * reward,
        "bonus": rv.shaping.progress_bonus(mdp, reward, potential, 0.5),
    }
    assert rv.teaching.check_potential_based(mdp, {"shaped"}, reward, candidates).correct
    wrong = rv.teaching.check_potential_based(mdp, {"shaped", "bonus"}, reward, candidates)
    assert not wrong.correct and "bonus" in wrong.message
    assert "not among" in rv.teaching.check_potential_based(mdp, {"x"}, reward, candidates).message
    values = np.asarray(rv.solve.value_iteration(mdp, reward).values)
    assert rv.teaching.check_value_potential(mdp, values, reward).correct
    assert "wrong sign" in rv.teaching.check_value_potential(mdp, -values, reward).message


def test_distance_and_regret_checkers(grid):
    mdp, reward = grid
    candidates = {"tripled": 3 * reward, "alive bonus": reward + 0.2}
    assert rv.teaching.check_same_task(mdp, {"tripled"}, reward, candidates).correct
    assert not rv.teaching.check_same_task(mdp, set(), reward, candidates).correct
    proxy = candidates["alive bonus"]
    expected = float(rv.distances.regret(mdp, reward, proxy))
    assert expected > 0.1
    assert rv.teaching.check_regret(mdp, expected, reward, proxy).correct
    assert not rv.teaching.check_regret(mdp, expected + 0.1, reward, proxy).correct
    assert "one number" in rv.teaching.check_regret(mdp, "high", reward, proxy).message


def test_expressivity_checkers():
    xor = rv.expressivity.environments.xor()
    assert rv.teaching.check_realisable_soap(xor, [[0, 0], [0, 1]]).correct
    refused = rv.teaching.check_realisable_soap(xor, [[0, 1], [1, 0]])
    assert not refused.correct and "no Markov reward" in refused.message
    every = rv.expressivity.deterministic_policies(xor)
    assert "trivially" in rv.teaching.check_realisable_soap(xor, every).message
    good = {"a1,a2": 1, "a2,a1": 1, "a1,a1": -1, "a2,a2": -1}
    assert rv.teaching.check_certificate(xor, good, [[0, 1], [1, 0]]).correct
    signs = {k: -v for k, v in good.items()}
    assert "positive signs" in rv.teaching.check_certificate(xor, signs, [[0, 1], [1, 0]]).message
    not_zero = {"a1,a2": 1, "a1,a1": -2}
    assert "not zero" in rv.teaching.check_certificate(xor, not_zero, [[0, 1], [1, 0]]).message
    traces = {"coffee then office": ([{"coffee"}, {"office"}], 1.0)}
    text = "0\n[1]\n(0, 1, 'coffee', 0)\n(1, 2, 'office', 1)"
    assert "does not parse" in rv.teaching.check_reward_machine(text, traces).message
    right = "0\n[2]\n(0, 1, 'coffee', 0)\n(1, 2, 'office', 1)"
    assert rv.teaching.check_reward_machine(right, traces).correct


def test_feedback_renders_as_coloured_html():
    feedback = rv.teaching.Feedback("wrong", "a <hint>")
    assert "&lt;hint&gt;" in feedback._repr_html_() and "#D55E00" in feedback._repr_html_()


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_teaching_sheets", ROOT / "tools" / "make_teaching_sheets.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_student_and_solution_sheets_are_generated_from_the_sources():
    assert load_generator().main(["--check"]) == 0
    for source in sorted((ROOT / "notebooks" / "teaching" / "source").glob("*.ipynb")):
        student = nbformat.read(ROOT / "notebooks" / "teaching" / source.name, 4)
        solution = nbformat.read(ROOT / "notebooks" / "teaching" / "solutions" / source.name, 4)
        tags = lambda nb: {t for c in nb.cells for t in c.metadata.get("tags", [])}  # noqa: E731
        assert "solution" not in tags(student) and "exercise" in tags(student)
        assert "exercise" not in tags(solution) and "solution" in tags(solution)
        checks = [c for c in student.cells if "rv.teaching.check_" in c.source]
        assert len(checks) >= 2, f"{source.name} needs self-checks"


def test_checkers_take_the_mdp_first_and_the_old_order_warns(grid):
    mdp, reward = grid
    potential = np.zeros(mdp.n_states)
    shaped = rv.shaping.potential_shaping(mdp, reward, potential)
    with pytest.warns(DeprecationWarning, match=r"check_shaped_reward\(mdp, answer") as caught:
        old = rv.teaching.check_shaped_reward(shaped, mdp, reward, potential)
    assert caught[0].filename == __file__
    assert old == rv.teaching.check_shaped_reward(mdp, shaped, reward, potential)
    assert old.correct
    xor = rv.expressivity.environments.xor()
    with pytest.warns(DeprecationWarning, match=r"check_realisable_soap\(mdp, answer"):
        old = rv.teaching.check_realisable_soap([[0, 1], [1, 0]], xor)
    assert old == rv.teaching.check_realisable_soap(xor, [[0, 1], [1, 0]])
    with pytest.warns(DeprecationWarning, match=r"check_certificate\(mdp, answer"):
        old = rv.teaching.check_certificate({"a1,a2": 1, "a1,a1": -2}, xor, [[0, 1], [1, 0]])
    assert old == rv.teaching.check_certificate(xor, {"a1,a2": 1, "a1,a1": -2}, [[0, 1], [1, 0]])
    # An unanswered exercise (None) in the old order is still recognised by the MDP.
    with pytest.warns(DeprecationWarning):
        assert rv.teaching.check_regret(None, mdp, reward, reward).status == "unanswered"


@pytest.fixture(scope="module")
def goal_grid():
    """Sheet 4's kind of gridworld: a goal, no lava, so never finishing is the worst outcome."""
    return rv.envs.gridworld(["S....", ".#.#.", "....G"], gamma=0.9)


def optimal_advantage_by_loops(mdp, reward):
    """A*(s, a) = Q*(s, a) − V*(s) by value iteration written with loops (0 at terminal states)."""
    transitions, r = np.asarray(mdp.transitions, float), np.asarray(reward, float)
    terminal, gamma = np.asarray(mdp.terminal), float(mdp.gamma)
    n_states, n_actions = mdp.n_states, mdp.n_actions
    values = np.zeros(n_states)
    for _ in range(2000):
        q = np.zeros((n_states, n_actions))
        for s in range(n_states):
            if terminal[s]:
                continue
            for a in range(n_actions):
                for t in range(n_states):
                    future = 0.0 if terminal[t] else gamma * values[t]
                    q[s, a] += transitions[s, a, t] * (r[s, a, t] + future)
        values = q.max(axis=1)
    return q - values[:, None]


def test_segment_regret_checker(goal_grid):
    mdp, reward = goal_grid
    advantage = optimal_advantage_by_loops(mdp, reward)
    states, actions = np.array([0, 5, 5, 0]), np.array([2, 3, 0])  # down, a bump, back up
    regret = sum(-advantage[s, a] for s, a in zip(states[:-1], actions, strict=True))
    assert regret > 0.1
    check = rv.teaching.check_segment_regret
    assert check(mdp, regret, reward, states, actions).correct
    assert "sign" in check(mdp, -regret, reward, states, actions).message
    discounted = sum(
        -(0.9**t) * advantage[s, a]
        for t, (s, a) in enumerate(zip(states[:-1], actions, strict=True))
    )
    assert "without discounting" in check(mdp, discounted, reward, states, actions).message
    assert "partial return" in check(mdp, 0.0, reward, states, actions).message
    assert check(mdp, None, reward, states, actions).status == "unanswered"
    assert "one number" in check(mdp, "big", reward, states, actions).message
    # The step from the goal (terminal) is padding: it counts for nothing.
    to_goal = np.array([7, 7, 12, 12]), np.array([1, 2, 0])  # a bump, down into G, stuck
    finished = -advantage[7, 1]
    assert finished > 0.01
    assert check(mdp, finished, reward, *to_goal).correct


def test_advantage_reward_checker(goal_grid):
    mdp, reward = goal_grid
    advantage = optimal_advantage_by_loops(mdp, reward)
    check = rv.teaching.check_advantage_reward
    assert check(mdp, advantage, reward).correct
    terminal = np.asarray(mdp.terminal)
    anything_at_goal = np.where(terminal[:, None], 7.0, advantage)
    assert check(mdp, anything_at_goal, reward).correct  # no segment step starts there
    assert "sign" in check(mdp, -advantage, reward).message
    q = np.asarray(rv.solve.q_values(mdp, reward))
    assert "Q*" in check(mdp, q, reward).message
    assert "same 0.1" in check(mdp, advantage + 0.1, reward).message
    assert "shape" in check(mdp, advantage[0], reward).message
    assert check(mdp, None, reward).status == "unanswered"


def test_indistinguishable_checker(goal_grid):
    mdp, reward = goal_grid
    advantage = optimal_advantage_by_loops(mdp, reward)
    terminal = np.asarray(mdp.terminal)
    # Two full-length pairs of 3-step segments, none entering the goal.
    states = np.array([[[0, 1, 2, 3], [0, 5, 5, 0]], [[8, 9, 10, 9], [6, 2, 6, 10]]])
    actions = np.array([[[1, 1, 1], [2, 3, 0]], [[1, 1, 3], [0, 2, 2]]])
    assert not terminal[states].any()
    as_reward = lambda table: np.broadcast_to(table[..., None], np.shape(reward))  # noqa: E731
    candidates = {
        "advantage": as_reward(advantage),
        "advantage + 0.3": as_reward(advantage + 0.3),
        "3 × advantage": as_reward(3 * advantage),
        "true reward": np.asarray(reward),
    }
    check = rv.teaching.check_indistinguishable
    right = {"advantage", "advantage + 0.3"}
    assert check(mdp, right, reward, candidates, states, actions).correct
    missing = check(mdp, {"advantage"}, reward, candidates, states, actions)
    assert not missing.correct and "same number of steps" in missing.message
    extra = check(mdp, right | {"3 × advantage"}, reward, candidates, states, actions)
    assert not extra.correct and "3 × advantage" in extra.message
    assert "not among" in check(mdp, {"x"}, reward, candidates, states, actions).message
    assert check(mdp, None, reward, candidates, states, actions).status == "unanswered"


def test_goal_avoiding_shift_checker(goal_grid):
    mdp, reward = goal_grid
    check = rv.teaching.check_goal_avoiding_shift
    # A bonus of 1 per step is worth 1/(1 − γ) = 10 forever, more than any detour costs.
    right = check(mdp, 1.0, reward)
    assert right.correct and "regret 1.00" in right.message
    assert "negative constant" in check(mdp, -0.5, reward).message
    assert "c = 0" in check(mdp, 0, reward).message
    assert "larger c" in check(mdp, 1e-3, reward).message
    assert "one number" in check(mdp, [1, 2], reward).message
    assert check(mdp, None, reward).status == "unanswered"


# ---------------------------------------------------------------------------
# The sheets as a learner meets them: hints nudge, match the mistake, and no plot gives an
# answer away. Run on the sheets' own data (their solution versions, executed once).

SHEETS = ROOT / "notebooks" / "teaching"


@pytest.fixture(scope="module")
def solved_sheets():
    """Sheet name → the namespace left by running its solution version's code cells."""
    namespaces = {}
    for path in sorted((SHEETS / "solutions").glob("*.ipynb")):
        namespace = {}
        for cell in nbformat.read(path, 4).cells:
            if cell.cell_type == "code" and "rv.teaching.check_" not in cell.source:
                exec(compile(cell.source, f"{path.name}", "exec"), namespace)
        namespaces[path.stem] = namespace
    return namespaces


def choice_answers(truth: set, options) -> dict:
    """Each wrong answer a learner can give by one slip: a wrong option added, a right one left out."""
    answers = {f"+{o}": truth | {o} for o in options if o not in truth}
    answers.update({f"-{o}": truth - {o} for o in truth})
    return answers


#: Per sheet, the set-valued exercises: (checker, answer variable, the checker's other arguments).
CHOICE_EXERCISES = {
    "01_reward_shaping": [
        (rv.teaching.check_potential_based, "potential_based", ("reward", "candidates")),
    ],
    "02_distances_and_regret": [
        (rv.teaching.check_same_task, "same_task", ("reward", "candidates")),
    ],
    "04_reward_learning": [
        (
            rv.teaching.check_indistinguishable,
            "indistinguishable",
            ("reward", "candidates", "states", "actions"),
        ),
    ],
}


@pytest.mark.parametrize("sheet", sorted(CHOICE_EXERCISES))
def test_each_wrong_choice_gets_a_hint_about_that_choice_and_never_the_answer(solved_sheets, sheet):
    namespace = solved_sheets[sheet]
    for check, variable, extra in CHOICE_EXERCISES[sheet]:
        truth = set(namespace[variable])
        options = list(namespace["candidates"])
        assert check(namespace["mdp"], truth, *(namespace[a] for a in extra)).correct
        added, left_out = {}, {}
        for label, answer in choice_answers(truth, options).items():
            feedback = check(namespace["mdp"], answer, *(namespace[a] for a in extra))
            assert feedback.status == "wrong", (sheet, label)
            option = label[1:]
            if label.startswith("+"):
                # The hint names the option chosen wrongly ...
                assert repr(option) in feedback.message, (sheet, label, feedback.message)
                added[option] = feedback.message
            else:
                left_out[option] = feedback.message
            # ... and never a right option the learner has not chosen.
            for name in truth - answer:
                assert name not in feedback.message, (sheet, label, feedback.message)
        # Each wrong option gets its own hint: the hint answers the choice made.
        hints = [m.replace(repr(o), "<option>") for o, m in added.items()]
        assert len(set(hints)) == len(hints), (sheet, added)
        assert added and left_out


def test_value_potential_hints_do_not_print_the_answer(solved_sheets):
    namespace = solved_sheets["01_reward_shaping"]
    mdp, reward, values = namespace["mdp"], namespace["reward"], namespace["best_potential"]
    values = np.asarray(values)
    wrong = {
        "negated": -values,
        "zeros": np.zeros_like(values),
        "exercise 1's potential": namespace["potential"],
        "shifted": values + 1,
    }
    messages = {}
    for label, answer in wrong.items():
        feedback = rv.teaching.check_value_potential(mdp, answer, reward)
        assert feedback.status == "wrong", label
        for answer_text in ("V*", "value_iteration", ".values"):
            assert answer_text not in feedback.message, (label, feedback.message)
        messages[label] = feedback.message
    assert messages["negated"] != messages["zeros"]  # a sign slip is told as such


def test_an_unrealisable_soap_hint_does_not_give_the_next_exercise_away():
    xor = rv.expressivity.environments.xor()
    feedback = rv.teaching.check_realisable_soap(xor, [[0, 1], [1, 0]])
    assert feedback.status == "wrong"
    # The certificate (policy labels with signs) is exercise 2's answer.
    for label in ("a1,a2", "a2,a1", "a1,a1", "a2,a2", "V("):
        assert label not in feedback.message, feedback.message


def test_numeric_hints_do_not_print_the_value_asked_for(solved_sheets):
    sheet2 = solved_sheets["02_distances_and_regret"]
    mdp, reward = sheet2["mdp"], sheet2["reward"]
    proxy = sheet2["candidates"]["alive bonus"]
    regret = float(sheet2["regret"])
    hints = {}
    for label, answer in {
        "off": regret + 0.05,
        "kept": 1 - regret,
        "unnormalised": regret * (sheet2["best"] - sheet2["worst"]),
    }.items():
        feedback = rv.teaching.check_regret(mdp, answer, reward, proxy)
        assert feedback.status == "wrong", label
        for digits in (2, 3, 4):
            assert f"{regret:.{digits}f}" not in feedback.message, (label, feedback.message)
        hints[label] = feedback.message
    assert len(set(hints.values())) == len(hints), hints  # each mistake its own hint

    sheet4 = solved_sheets["04_reward_learning"]
    expected = float(sheet4["segment_regret"])
    args = (sheet4["reward"], sheet4["states"][0, 0], sheet4["actions"][0, 0])
    for answer in (expected + 0.3, -expected, 0.0):
        feedback = rv.teaching.check_segment_regret(sheet4["mdp"], answer, *args)
        assert feedback.status == "wrong"
        assert f"{expected:.3f}" not in feedback.message, feedback.message


#: What draws each checker's answer: a plot made before the check (in the cells a learner
#: runs first) must not call these.
ANSWER_CALLS = {
    "check_shaped_reward": ("potential_shaping(mdp, reward, potential)",),
    "check_potential_based": ("is_potential_shaping", "fit_potential"),
    "check_value_potential": ("value_iteration(mdp, reward)", "optimal_policy(mdp, reward)"),
    "check_same_task": ("starc", "pairwise"),
    "check_regret": ("regret(", "policy_return", "optimal_policy(mdp, proxy"),
    "check_realisable_soap": ("realize_soap", "realization"),
    "check_certificate": ("realize_soap", "realization", "certificate"),
    "check_reward_machine": ("RewardMachine",),
    "check_segment_regret": ("value_iteration", "q_values", "segment_regrets"),
    "check_advantage_reward": ("value_iteration", "q_values"),
    "check_indistinguishable": ("segment_returns", "segment_regrets"),
    "check_goal_avoiding_shift": ("optimal_policy",),
}


@pytest.mark.parametrize(
    "source", sorted((SHEETS / "source").glob("*.ipynb")), ids=lambda p: p.stem
)
def test_no_plot_before_an_exercise_check_shows_its_answer(source):
    cells = nbformat.read(source, 4).cells
    for index, cell in enumerate(cells):
        checks = [name for name in ANSWER_CALLS if f"rv.teaching.{name}(" in cell.source]
        if "rv.teaching.check_" in cell.source:
            assert checks, f"{source.name} cell {index}: a checker missing from ANSWER_CALLS"
        for name in checks:
            for before, plot in enumerate(cells[:index]):
                if plot.cell_type != "code" or "rv.plots." not in plot.source:
                    continue
                shown = [call for call in ANSWER_CALLS[name] if call in plot.source]
                assert not shown, (
                    f"{source.name}: cell {before} plots {shown} before cell {index}'s {name}"
                )
