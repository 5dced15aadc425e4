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
    potential = -rv.envs.steps_to_goal(mdp).astype(float)
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
    assert "terminal state" in str(
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
    assert not refused.correct and "V(a1,a2)" in refused.message
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
