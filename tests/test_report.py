"""Tests of ``rewardviz report``: standalone HTML, the right numbers in it, atomic writes, errors.

The console script is driven through ``rewardviz.cli.main`` and once through a
subprocess (``python -m rewardviz report``). The numbers the report shows are checked
against values computed here from the raw arrays with loops (returns, optimal values) or
known in closed form (EPIC distance 0 under potential shaping and positive scaling, 1
between a reward and its negation; regret 1 when the proxy is the negated true reward).
"""

import base64
import html.parser
import json
import os
import pathlib
import re
import subprocess
import sys
import tomllib

import numpy as np
import plotly.offline
import pytest

import rewardviz as rv
from rewardviz import report
from rewardviz.cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAYOUT = ["S.#", "..G", "L.."]
GAMMA = 0.9
LOG_PLOTS = (
    "plot-return-shares",
    "plot-return-distributions",
    "plot-variance-attribution",
    "plot-correlations-0",
    "plot-correlations-1",
    "plot-median-episode",
)


# ---------------------------------------------------------------------------
# Helpers: parse the document independently of how it was written.


class _Tags(html.parser.HTMLParser):
    """Every start tag with its attributes, and the text of <td>/<th> cells by table row."""

    def __init__(self):
        super().__init__()
        self.tags, self.rows, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(document: str) -> _Tags:
    parser = _Tags()
    parser.feed(document)
    return parser


def figure_data(document: str, div_id: str) -> tuple[list, dict]:
    """The traces and layout that the inline script hands ``Plotly.newPlot`` for ``div_id``."""
    call = re.search(rf'Plotly\.newPlot\(\s*"{re.escape(div_id)}",', document)
    assert call is not None, f"no figure drawn in {div_id!r}"
    decoder = json.JSONDecoder()
    start = document.index("[", call.end())
    data, end = decoder.raw_decode(document, start)
    layout, _ = decoder.raw_decode(document, document.index("{", end))
    return data, layout


def as_array(value) -> np.ndarray:
    """Numbers of a figure's JSON: a list, or plotly's base64 typed array ``{dtype, bdata, shape}``."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return flat.reshape(shape) if shape else flat
    return np.array(
        [[np.nan if v is None else v for v in row] for row in value]
        if value and isinstance(value[0], list)
        else value,
        dtype=float,
    )


def table_rows(document: str, first_cell: str) -> dict[str, list[str]]:
    """Rows of the summary tables, by their first cell, from the table whose header starts so."""
    rows = parse(document).rows
    header = next(i for i, row in enumerate(rows) if row and row[0] == first_cell)
    table = {}
    for row in rows[header + 1 :]:
        if not row or row[0] in table:
            break
        table[row[0]] = row[1:]
    return table


def fact(document: str, key: str) -> str:
    """The value next to ``key`` in the report's facts table."""
    return next(row[1] for row in parse(document).rows if row and row[0] == key)


def assert_standalone(document: str) -> None:
    plotly_js = plotly.offline.get_plotlyjs()
    assert document.count(plotly_js) == 1, "plotly.js must be inlined exactly once"
    rest = document.replace(plotly_js, "")
    assert "plotly.js v" not in rest
    for tag, attributes in parse(document).tags:
        for attribute in ("src", "href"):
            assert attribute not in attributes, f"<{tag} {attribute}=...> loads a resource"
    # Outside the library bundle, nothing names a URL, imports CSS or loads a font.
    for needle in ("http://", "https://", "//cdn", "@import", "@font-face", "url("):
        assert needle not in rest, needle
    assert document.startswith("<!DOCTYPE html>")
    assert document.rstrip().endswith("</html>")


def leftovers(directory: pathlib.Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".partial"))


# ---------------------------------------------------------------------------
# Inputs.


@pytest.fixture(scope="module")
def example_report(tmp_path_factory):
    output = tmp_path_factory.mktemp("example") / "hopper.html"
    assert main(["report", "--example", "-o", str(output), "--title", "Hopper <check>"]) == 0
    return output.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def grid():
    mdp, goal = rv.envs.gridworld(LAYOUT, gamma=GAMMA)
    return mdp, np.asarray(goal)


@pytest.fixture(scope="module")
def named_rewards(grid):
    """Rewards whose EPIC distances are known: shaping and scaling keep 0, negation gives 1."""
    mdp, goal = grid
    potential = np.random.default_rng(3).normal(size=mdp.n_states)
    potential[np.asarray(mdp.terminal)] = 0.0  # terminal potentials are 0 (episodic shaping)
    shaped = goal + GAMMA * potential[None, None, :] - potential[:, None, None]
    return {"goal": goal, "shaped": shaped, "scaled": 3.0 * goal, "opposite": -goal}


@pytest.fixture(scope="module")
def rewards_npz(tmp_path_factory, named_rewards):
    path = tmp_path_factory.mktemp("rewards") / "rewards.npz"
    np.savez(path, layout=np.array(LAYOUT), gamma=GAMMA, **named_rewards)
    return path


@pytest.fixture(scope="module")
def rewards_document(tmp_path_factory, rewards_npz):
    """The rewards report, made by ``python -m rewardviz`` in a fresh interpreter."""
    output = tmp_path_factory.mktemp("subprocess") / "rewards.html"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "rewardviz", "report", str(rewards_npz), "-o", str(output)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=output.parent,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"rewardviz report: wrote {output}")
    assert leftovers(output.parent) == []
    return output.read_text(encoding="utf-8")


def value_iteration_by_loops(mdp, reward, sweeps=400) -> np.ndarray:
    """``V*`` by plain loops, terminal states worth 0."""
    transitions, terminal = np.asarray(mdp.transitions), np.asarray(mdp.terminal)
    n_states, n_actions, _ = transitions.shape
    values = np.zeros(n_states)
    for _ in range(sweeps):
        new = np.zeros(n_states)
        for s in range(n_states):
            if terminal[s]:
                continue
            best = -np.inf
            for a in range(n_actions):
                q = 0.0
                for s_next in range(n_states):
                    q += transitions[s, a, s_next] * (reward[s, a, s_next] + GAMMA * values[s_next])
                best = max(best, q)
            new[s] = best
        values = new
    return values


# ---------------------------------------------------------------------------
# The reward-log report.


def test_log_report_is_one_standalone_file_with_every_plot(example_report):
    assert_standalone(example_report)
    for div_id in LOG_PLOTS:
        assert f'id="{div_id}"' in example_report
    for heading in ("Shares of the return", "Component returns", "Variance attribution"):
        assert f"<h2>{heading}</h2>" in example_report
    # The title is escaped, not markup.
    assert "<title>Hopper &lt;check&gt;</title>" in example_report
    assert all(tag != "check" for tag, _ in parse(example_report).tags)


def test_log_summary_matches_returns_summed_by_hand(example_report):
    log = rv.io.example_log()
    components, mask = np.asarray(log.components), np.asarray(log.mask)
    weights = np.asarray(log.weights)
    returns = np.zeros((log.n_episodes, log.n_components))
    for e in range(log.n_episodes):
        for t in range(log.n_steps):
            if mask[e, t]:
                returns[e] += weights * components[e, t]
    rows = table_rows(example_report, "component")
    assert list(rows) == list(log.names)
    for k, name in enumerate(log.names):
        weight, mean, std = (float(cell) for cell in rows[name][:3])
        assert weight == pytest.approx(weights[k], rel=1e-3)
        assert mean == pytest.approx(returns[:, k].mean(), rel=1e-3, abs=1e-6)
        assert std == pytest.approx(returns[:, k].std(), rel=1e-3, abs=1e-6)
    # The distributions plot holds every episode's return of every component.
    data, _ = figure_data(example_report, "plot-return-distributions")
    for k, trace in enumerate(data):
        assert trace["name"] == log.names[k]
        np.testing.assert_allclose(as_array(trace["y"]), returns[:, k], rtol=1e-9)


def test_log_report_reads_csv_and_npz_logs_and_escapes_names(tmp_path):
    # One component name is markup: it must stay text in the table and the plots.
    odd = "</script><b>x</b>"
    rows = ["episode,step,component,value"]
    for episode, values in enumerate([[1.0, 2.0, 0.5], [0.0, -1.0], [3.0]]):
        for step, value in enumerate(values):
            rows += [f"{episode},{step},forward,{value}", f'{episode},{step},"{odd}",{-value / 2}']
    csv = tmp_path / "rewards.csv"
    csv.write_text("\n".join(rows) + "\n")
    assert main(["report", str(csv), "-o", str(tmp_path / "csv.html"), "--gamma", "0.5"]) == 0
    document = (tmp_path / "csv.html").read_text(encoding="utf-8")
    assert_standalone(document)
    assert "discounted by γ = 0.5" in document
    assert all(tag != "b" for tag, _ in parse(document).tags)
    assert list(table_rows(document, "component")) == ["forward", odd]

    # The .npz of rewardviz.io.write_npz gives the same summary as the log itself.
    npz = tmp_path / "hopper.npz"
    rv.io.write_npz(rv.io.example_log(), npz)
    assert report.detect_kind(npz) == "log"
    assert main(["report", str(npz), "-o", str(tmp_path / "npz.html")]) == 0
    from_npz = table_rows((tmp_path / "npz.html").read_text(encoding="utf-8"), "component")
    from_example = table_rows(
        report.log_report(rv.io.example_log()), "component"
    )  # same log, built in memory
    assert from_npz == from_example


def test_log_report_reads_sb3_monitor_files_and_npz_time_axes(tmp_path):
    """A Monitor file (or a directory of them), as SB3's own wrapper writes it."""
    gymnasium = pytest.importorskip("gymnasium")  # in the dev extra: never skipped in CI
    monitor = pytest.importorskip("stable_baselines3.common.monitor")
    env = monitor.Monitor(
        gymnasium.make("CartPole-v1", max_episode_steps=20), str(tmp_path / "run")
    )
    env.action_space.seed(0)
    env.reset(seed=0)
    returns = []
    for _ in range(4):
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total, done = total + reward, terminated or truncated
        returns.append(total)
        env.reset()
    env.close()
    file = tmp_path / "run.monitor.csv"
    for source in (file, tmp_path):
        log = report.read_log(source)
        np.testing.assert_allclose(np.asarray(log.total)[:, 0], returns, rtol=1e-12)
        assert log.steps is not None and log.wall_times is not None
    assert main(["report", str(file), "-o", str(tmp_path / "monitor.html")]) == 0
    # write_npz keeps the time axes, and the report reads them back.
    npz = tmp_path / "monitor.npz"
    rv.io.write_npz(log, npz)
    again = report.read_log(npz)
    np.testing.assert_array_equal(again.steps, log.steps)
    np.testing.assert_array_equal(again.wall_times, log.wall_times)


# ---------------------------------------------------------------------------
# The rewards report.


def test_rewards_report_from_a_subprocess_is_standalone(rewards_document, named_rewards):
    assert_standalone(rewards_document)
    for index in range(3):
        assert f'id="plot-distances-{index}"' in rewards_document
    assert 'id="plot-regret"' in rewards_document
    for index in range(len(named_rewards)):
        assert f'id="plot-policies-{index}"' in rewards_document
    for title in ("EPIC distance", "DARD distance", "STARC-VAL distance"):
        assert title in rewards_document


def test_distance_matrices_hold_the_closed_form_distances(rewards_document, named_rewards):
    names = list(named_rewards)
    # EPIC and DARD are Pearson distances: 0 within {goal, shaped, scaled}, 1 to the negation.
    expected = np.array(
        [[0.0 if (a == "opposite") == (b == "opposite") else 1.0 for b in names] for a in names]
    )
    for index in (0, 1):
        data, layout = figure_data(rewards_document, f"plot-distances-{index}")
        order = layout["meta"]["order"]
        assert layout["xaxis"]["ticktext"] == [names[i] for i in order]
        drawn = as_array(data[0]["z"])
        # The subprocess computes in float32: near ρ = 1, sqrt((1 - ρ)/2) turns a rounding
        # error of 1e-7 in ρ into 2e-4 in the distance.
        np.testing.assert_allclose(drawn, expected[np.ix_(order, order)], atol=1e-3)
    rows = table_rows(rewards_document, "reward")
    assert float(rows["goal"][-1]) == pytest.approx(0.0, abs=1e-3)
    assert rows["goal"][-2] in ("shaped", "scaled")
    assert float(rows["opposite"][-1]) == pytest.approx(1.0, abs=1e-3)


def test_regret_plot_has_every_ordered_pair(rewards_document, named_rewards):
    data, _ = figure_data(rewards_document, "plot-regret")
    names = list(named_rewards)
    assert [trace["name"].split(" (")[0] for trace in data] == ["EPIC", "DARD", "STARC-VAL"]
    pairs = len(names) * (len(names) - 1)
    for trace in data:
        assert len(as_array(trace["x"])) == len(as_array(trace["y"])) == pairs
    regret = {
        text.split("<br>")[0]: y
        for text, y in zip(data[0]["text"], as_array(data[0]["y"]), strict=True)
    }
    # Optimising the negated reward picks the worst policy: normalised regret 1.
    assert regret["true goal, proxy opposite"] == pytest.approx(1.0, abs=1e-6)
    # Shaping and positive scaling keep the optimal policies: no regret.
    assert regret["true goal, proxy shaped"] == pytest.approx(0.0, abs=1e-6)
    assert regret["true shaped, proxy scaled"] == pytest.approx(0.0, abs=1e-6)


def test_policy_panels_show_each_rewards_optimal_values(rewards_document, named_rewards, grid):
    mdp, _ = grid
    cells = np.asarray(mdp.grid_cells)
    for index, (name, reward) in enumerate(named_rewards.items()):
        data, layout = figure_data(rewards_document, f"plot-policies-{index}")
        assert layout["title"]["text"].startswith(f"{name}:")
        heatmap = next(trace for trace in data if trace["type"] == "heatmap")
        z = as_array(heatmap["z"])
        expected = value_iteration_by_loops(mdp, reward)
        live = ~np.asarray(mdp.terminal)  # terminal cells are drawn in their own colours
        np.testing.assert_allclose(z[cells[live, 0], cells[live, 1]], expected[live], atol=1e-6)


def test_rewards_from_transitions_without_a_grid_and_a_single_reward(tmp_path):
    mdp, reward = rv.envs.random_mdp(5, 2, seed=0)
    path = tmp_path / "one.npz"
    np.savez(path, transitions=np.asarray(mdp.transitions), gamma=0.8, only=np.asarray(reward))
    output = tmp_path / "one.html"
    assert main(["report", str(path), "-o", str(output), "--kind", "rewards"]) == 0
    document = output.read_text(encoding="utf-8")
    assert_standalone(document)
    assert "give at least two rewards" in document
    assert 'id="plot-policies' not in document  # no grid, no policy panels
    # --gamma replaces the file's discount.
    assert main(["report", str(path), "-o", str(output), "--force", "--gamma", "0.5"]) == 0
    assert fact(output.read_text(encoding="utf-8"), "discount γ") == "0.5"


def test_state_and_state_action_rewards_are_lifted(tmp_path, grid):
    mdp, _ = grid
    path = tmp_path / "lifted.npz"
    on_arrival = np.arange(mdp.n_states, dtype=float)
    per_action = np.ones((mdp.n_states, mdp.n_actions))
    np.savez(path, layout=np.array(LAYOUT), gamma=GAMMA, arrive=on_arrival, act=per_action)
    _, named = report.read_rewards(path)
    named = {name: np.asarray(reward) for name, reward in named.items()}
    for s in range(mdp.n_states):
        for a in range(mdp.n_actions):
            for s_next in range(mdp.n_states):
                assert named["arrive"][s, a, s_next] == on_arrival[s_next]
                assert named["act"][s, a, s_next] == per_action[s, a]


# ---------------------------------------------------------------------------
# Writing atomically.


def test_existing_output_is_kept_unless_force(tmp_path, monkeypatch, capsys):
    output = tmp_path / "report.html"
    output.write_text("keep me")
    assert main(["report", "--example", "-o", str(output)]) == 2
    error = capsys.readouterr().err
    assert "already exists" in error and "--force" in error
    assert output.read_text() == "keep me"

    renames = []
    real_replace = os.replace

    def spy(source, destination):
        renames.append((pathlib.Path(source), pathlib.Path(destination)))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", spy)  # rewardviz._files renames with os.replace
    assert main(["report", "--example", "-o", str(output), "--force"]) == 0
    # Written next to the destination under a temporary name, then renamed over it.
    [(source, destination)] = renames
    assert destination == output
    assert source.parent == output.parent and source.name.startswith(".report.html.")
    assert output.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert output.stat().st_mode & 0o777 == 0o666 & ~umask
    # Nothing in the file depends on the time or on random ids: the same input, the same bytes.
    again = tmp_path / "again.html"
    assert main(["report", "--example", "-o", str(again)]) == 0
    assert again.read_bytes() == output.read_bytes()


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path):
    output = tmp_path / "report.html"
    output.write_text("old report")
    with pytest.raises(UnicodeEncodeError):
        report.write_report("<html>" + "x" * 100_000 + "\ud800", output, force=True)
    assert output.read_text() == "old report"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.html"]


def test_output_paths_that_cannot_be_written(tmp_path, rewards_npz, capsys):
    cases = {
        str(tmp_path): "is a directory",
        str(tmp_path / "missing" / "report.html"): "does not exist; create it first",
    }
    for output, message in cases.items():
        assert main(["report", "--example", "-o", output]) == 2
        assert message in capsys.readouterr().err
    copy = tmp_path / "rewards.npz"
    copy.write_bytes(rewards_npz.read_bytes())
    assert main(["report", str(copy), "-o", str(copy), "--force"]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert copy.read_bytes() == rewards_npz.read_bytes()


# ---------------------------------------------------------------------------
# Bad input: one line, exit status 2, nothing written.


def _transitions():
    transitions = np.zeros((3, 2, 3))
    transitions[:, :, 0] = 1.0
    return transitions


def _with_nan():
    reward = np.zeros((3, 2, 3))
    reward[1, 0, 2] = np.nan
    return {"transitions": _transitions(), "gamma": 0.9, "r": reward}


BAD_NPZ = {
    "wrong_shape": (
        {"transitions": _transitions(), "gamma": 0.9, "r": np.zeros((2, 2))},
        "reward 'r' in wrong_shape.npz must have shape [S, A, S'] = (3, 2, 3)",
    ),
    "nan": (_with_nan(), "reward 'r' in nan.npz contains NaN at index (1, 0, 2)"),
    "no_gamma": ({"transitions": _transitions(), "r": np.zeros((3, 2, 3))}, "has no 'gamma'"),
    "not_stochastic": (
        {"transitions": np.ones((3, 2, 3)), "gamma": 0.9, "r": np.zeros((3, 2, 3))},
        "transitions[0, 0, :] sums to 3",
    ),
    "bad_transitions": (
        {"transitions": np.ones((3, 2)), "gamma": 0.9, "r": np.zeros(3)},
        "transitions must have shape [S, A, S']",
    ),
    "no_reward": ({"layout": np.array(LAYOUT), "gamma": 0.9}, "holds no reward"),
    "unknown": ({"foo": np.zeros(3)}, "neither a reward log"),
    "pickled": (
        {"transitions": _transitions(), "gamma": 0.9, "r": np.array([{}], dtype=object)},
        "never loaded",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_NPZ))
def test_bad_rewards_files_give_one_clear_line(case, tmp_path, capsys):
    arrays, message = BAD_NPZ[case]
    path = tmp_path / f"{case}.npz"
    np.savez(path, **arrays)
    output = tmp_path / "out.html"
    assert main(["report", str(path), "-o", str(output)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("rewardviz report: error: ") and error.count("\n") == 1, error
    assert message in error
    assert "Traceback" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_bad_files_and_arguments(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "junk.npz").write_text("not a zip archive")
    (tmp_path / "nan.csv").write_text("episode,step,component,value\n0,0,a,1\n0,1,a,nan\n")
    (tmp_path / "empty_run").mkdir()
    cases = [
        (["empty_run"], "no TensorBoard event files"),
        (["missing.csv"], "input 'missing.csv' does not exist"),
        (
            ["notes.txt"],
            "cannot tell what 'notes.txt' holds from its name: expected a .csv, .parquet or .npz file",
        ),
        (["junk.npz"], "is not an .npz file"),
        (["nan.csv"], "non-finite value (nan) at episode 0, step 1, component 'a'"),
        (["--example", "--gamma", "1.5"], "gamma must lie in [0.0, 1.0], got 1.5"),
        (["--example", "--kind", "rewards"], "--example is a reward log"),
        ([], "give exactly one of INPUT or --example"),
    ]
    monkeypatch.chdir(tmp_path)
    for arguments, message in cases:
        assert main(["report", *arguments, "-o", "out.html"]) == 2, arguments
        error = capsys.readouterr().err
        last_line = error.rstrip("\n").splitlines()[-1]
        assert last_line.startswith("rewardviz report: error: ") and message in last_line, error
        assert "Traceback" not in error
    assert not (tmp_path / "out.html").exists()
    assert leftovers(tmp_path) == []


def test_help_and_usage_errors_return_instead_of_exiting(capsys):
    assert main(["report", "--help"]) == 0
    text = capsys.readouterr().out
    for words in ("--example", "--force", "--gamma", "transitions", "TensorBoard", "examples:"):
        assert words in text
    assert main([]) == 2
    assert main(["report", "--example"]) == 2  # -o is required
    assert "the following arguments are required: -o/--output" in capsys.readouterr().err


def test_the_console_script_is_declared():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"rewardviz": "rewardviz.cli:main"}


# ---------------------------------------------------------------------------
# Interruption: Ctrl-C and SIGTERM leave the old output and no partial file.


def test_ctrl_c_inside_a_gc_callback_still_stops_the_report(tmp_path, monkeypatch):
    """JAX runs callbacks from the garbage collector; an interrupt raised inside one is
    dropped by Python. The command must still stop before writing, with status 130."""
    import gc
    import signal

    from rewardviz import cli

    output = tmp_path / "report.html"
    output.write_text("the old report")
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: dropped.append(info.exc_type))
    original = report.log_report

    def log_report_interrupted_in_gc(*args, **kwargs):
        document = original(*args, **kwargs)

        def callback(phase, info):
            if phase == "start" and not dropped:
                os.kill(os.getpid(), signal.SIGINT)
                sum(range(1000))  # the Python handler runs here, inside the callback

        gc.callbacks.append(callback)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(callback)
        return document

    monkeypatch.setattr(report, "log_report", log_report_interrupted_in_gc)
    status = cli.main(["report", "--example", "-o", str(output), "--force"])
    assert dropped == [KeyboardInterrupt]  # the interrupt really was swallowed
    assert status == cli.EXIT_INTERRUPTED == 130
    assert output.read_text() == "the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


TERMINATED_WHILE_WRITING = """
import os, signal, sys
from rewardviz import cli
real_fsync = os.fsync
def fsync(descriptor):  # SIGTERM while the report's temporary file is being written
    os.kill(os.getpid(), signal.SIGTERM)
    real_fsync(descriptor)
os.fsync = fsync
sys.exit(cli.main(["report", "--example", "-o", sys.argv[1], "--force"]))
"""


def test_sigterm_while_writing_leaves_the_old_file_and_no_partial_file(tmp_path):
    output = tmp_path / "report.html"
    output.write_text("the old report")
    run = subprocess.run(
        [sys.executable, "-c", TERMINATED_WHILE_WRITING, str(output)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 143, run.stderr[-2000:]
    assert "terminated; nothing was written" in run.stderr
    assert output.read_text() == "the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
