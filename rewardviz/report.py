"""One standalone HTML report of a reward log, or of a set of rewards on an MDP.

The report is a single ``.html`` file: plotly.js is inlined once in its ``<head>``, every
figure is a ``<div>`` drawn by an inline script, and nothing is loaded from the network
(no ``<script src=...>``, no CDN, no web fonts), so it opens offline, attached to an
e-mail or archived next to a training run. It holds a title, a short summary table and
the main plots of either

- a reward log (:class:`~rewardviz.decompose.RewardLog`): component returns, shares,
  correlations, variance attribution and return distributions (:func:`log_report`); or
- a set of named rewards on one MDP: EPIC, DARD and STARC-VAL distance matrices, regret
  against distance, and each reward's optimal values and policy on the grid when the
  MDP has one (:func:`rewards_report`).

Rewards on an MDP are read from an ``.npz`` file (:func:`read_rewards`, always with
``allow_pickle=False``). Its arrays, by name:

- ``transitions``: ``[S, A, S']`` transition probabilities; or instead ``layout``: a
  1-D string array, one row of a :func:`rewardviz.envs.gridworld` layout per entry
  (with an optional scalar ``slip``);
- ``gamma``: scalar discount (``--gamma`` on the command line overrides it);
- ``initial`` ``[S]`` and ``terminal`` (bool ``[S]`` or state indices): optional, with
  ``transitions`` only (a layout defines its own);
- ``grid_shape``: optional ``(rows, cols)`` with ``transitions``, states in row-major
  order, so that policies are drawn on the grid;
- every other array is one reward, named by its key: ``[S, A, S']``, ``[S, A]``
  (``R(s, a)``) or ``[S]`` (``R(s')``, paid on arriving in ``s'``).

Reports are written atomically (:func:`write_report`): to a temporary file in the
destination's directory, then renamed over the destination with ``os.replace``, so a
reader never sees half a report and a failure leaves no partial file. An existing file is
replaced only with ``force=True`` (``--force``).

This module composes the layers below it (``io``, ``decompose``, ``distances``,
``solve``, ``plots``) and formats their results; it computes no statistic itself.
:mod:`rewardviz.cli` is its command line, ``rewardviz report``; ``docs/report.md`` is
the user's guide.

Example:
    >>> from rewardviz import report
    >>> document = report.log_report(rv.io.example_log(), gamma=0.99)
    >>> report.write_report(document, "hopper.html")
    PosixPath('hopper.html')
"""

from __future__ import annotations

import html
import pathlib
from collections.abc import Mapping
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import plotly.io as pio
import plotly.offline

import rewardviz
from rewardviz import _files, decompose, distances, envs, io, plots, rewards, solve
from rewardviz.decompose import RewardLog
from rewardviz.mdp import TabularMDP

__all__ = [
    "DISTANCE_METHODS",
    "LOG_SUFFIXES",
    "MDP_KEYS",
    "PLOTLY_CONFIG",
    "Kind",
    "check_output",
    "detect_kind",
    "log_report",
    "read_log",
    "read_rewards",
    "rewards_report",
    "write_report",
]

#: File name endings read as reward logs, and the reader of each.
LOG_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Keys of a rewards ``.npz`` that describe the MDP; every other key is a reward.
MDP_KEYS = ("transitions", "layout", "gamma", "initial", "terminal", "grid_shape", "slip")
#: The distances of a rewards report: (label, :func:`rewardviz.distances.pairwise` method,
#: its options).
DISTANCE_METHODS = (
    ("EPIC", "epic", {}),
    ("DARD", "dard", {}),
    ("STARC-VAL", "starc", {"canonical": "val"}),
)
#: plotly's per-figure options in the report: no logo, resize with the page.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

Kind = Literal["log", "rewards"]


# ---------------------------------------------------------------------------
# Reading inputs.


def detect_kind(path) -> Kind:
    """Whether ``path`` holds a reward log (``"log"``) or rewards on an MDP (``"rewards"``).

    A directory is a TensorBoard log; ``.csv``, ``.parquet`` and ``.pq`` are long-format
    logs; an ``.npz`` is a log when it holds ``components`` (the format of
    :func:`rewardviz.io.write_npz`) and rewards when it holds ``transitions`` or
    ``layout``.

    Example:
        >>> report.detect_kind("rewards.npz")
        'rewards'
    """
    path = _existing(path)
    if path.is_dir() or path.suffix.lower() in LOG_SUFFIXES:
        return "log"
    if path.suffix.lower() != ".npz":
        raise ValueError(
            f"cannot tell what {str(path)!r} holds from its name: expected a .csv, .parquet "
            "or .npz file, or a TensorBoard log directory."
        )
    keys = set(_files.read_arrays(path))
    if "components" in keys:
        return "log"
    if keys & {"transitions", "layout"}:
        return "rewards"
    raise ValueError(
        f"{str(path)!r} holds the arrays {sorted(keys)}: neither a reward log (needs "
        "'components' and 'names', as written by rewardviz.io.write_npz) nor rewards on an "
        "MDP (needs 'transitions' or 'layout'); see docs/report.md for both formats."
    )


def read_log(path) -> RewardLog:
    """A reward log from a long-format ``.csv``/``.parquet``, an SB3 Monitor file, an ``.npz`` or a directory.

    ``.csv`` and ``.parquet`` use :func:`rewardviz.io.read_csv` and
    :func:`rewardviz.io.read_parquet` with their default column names (``episode``,
    ``step``, ``component``, ``value``), except a Stable-Baselines3 ``Monitor`` file
    (first line ``#{...}``), which :func:`rewardviz.io.read_sb3_monitor` reads; a
    directory uses :func:`rewardviz.io.read_tensorboard`, or ``read_sb3_monitor`` when it
    holds ``*monitor.csv`` files and no event files; an ``.npz`` holds the arrays written
    by :func:`rewardviz.io.write_npz`, read by :func:`rewardviz.io.read_npz`.

    Example:
        >>> log = report.read_log("rewards.csv")
    """
    path = _existing(path)
    if io.is_sb3_monitor(path):
        return io.read_sb3_monitor(path)
    if path.is_dir():
        return io.read_tensorboard(path)
    suffix = path.suffix.lower()
    if LOG_SUFFIXES.get(suffix) == "csv":
        return io.read_csv(path)
    if LOG_SUFFIXES.get(suffix) == "parquet":
        return io.read_parquet(path)
    if suffix == ".npz":
        return io.read_npz(path)
    raise ValueError(
        f"unknown reward log format {suffix or '(no suffix)'!r} of {str(path)!r}: expected "
        ".csv, .parquet or .npz, or a TensorBoard log directory."
    )


def read_rewards(path, *, gamma: float | None = None) -> tuple[TabularMDP, dict[str, jax.Array]]:
    """An MDP and named rewards ``{name: [S, A, S']}`` from an ``.npz`` file.

    The format is described in the module docstring and in ``docs/report.md``. ``gamma``,
    when given, replaces the file's ``gamma`` (which may then be absent).

    Example:
        >>> np.savez("rewards.npz", layout=np.array(["S..", "..G"]), gamma=0.9,
        ...          goal=np.array([0, 0, 0, 0, 0, 1.0]))
        >>> mdp, named = report.read_rewards("rewards.npz")
        >>> named["goal"].shape
        (6, 4, 6)
    """
    path = _existing(path)
    if path.is_dir() or path.suffix.lower() != ".npz":
        raise ValueError(
            f"rewards on an MDP are read from an .npz file, got {str(path)!r}; see "
            "docs/report.md for the arrays it must hold."
        )
    arrays = _files.read_arrays(path)
    where = f"in {path.name}"
    if "transitions" in arrays and "layout" in arrays:
        raise ValueError(
            f"{path.name} holds both 'transitions' and 'layout'; keep one: a layout defines "
            "its own transitions."
        )
    if gamma is None:
        if "gamma" not in arrays:
            raise ValueError(
                f"{path.name} has no 'gamma'; store one (np.savez(..., gamma=0.9)) or pass --gamma."
            )
        gamma = _scalar(arrays["gamma"], f"'gamma' {where}")
    try:
        mdp = _mdp_from_arrays(arrays, gamma, where)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{path.name}: {error}") from error
    named = {}
    for key, value in arrays.items():
        if key not in MDP_KEYS:
            named[key] = _lifted_reward(mdp, value, f"reward {key!r} {where}")
    if not named:
        raise ValueError(
            f"{path.name} holds no reward: besides {sorted(set(arrays) & set(MDP_KEYS))} it "
            "needs one array per named reward, e.g. np.savez(..., goal=reward)."
        )
    return mdp, named


def _mdp_from_arrays(arrays: Mapping[str, np.ndarray], gamma: float, where: str) -> TabularMDP:
    if "layout" in arrays:
        extra = sorted({"initial", "terminal", "grid_shape"} & set(arrays))
        if extra:
            raise ValueError(
                f"{extra} cannot be combined with 'layout': the layout defines the start, "
                "terminal states and grid; drop them or store 'transitions' instead."
            )
        layout = arrays["layout"]
        if layout.ndim != 1 or layout.dtype.kind != "U" or layout.size == 0:
            raise ValueError(
                "'layout' must be a 1-D array of strings, one per grid row, e.g. "
                f"np.array(['S..', '..G']); got dtype {layout.dtype} and shape {layout.shape}."
            )
        slip = _scalar(arrays["slip"], f"'slip' {where}") if "slip" in arrays else 0.0
        mdp, _ = envs.gridworld([str(row) for row in layout], gamma=gamma, slip=slip)
        return mdp
    if "slip" in arrays:
        raise ValueError("'slip' applies to a 'layout' only; bake it into 'transitions'.")
    if "transitions" not in arrays:
        raise ValueError("needs 'transitions' [S, A, S'] or a gridworld 'layout'.")
    transitions = arrays["transitions"]
    grid_shape = None
    if "grid_shape" in arrays:
        shape = arrays["grid_shape"]
        if shape.shape != (2,) or shape.dtype.kind not in "iu":
            raise ValueError(
                f"'grid_shape' must be two integers (rows, cols), got {shape.tolist()!r}."
            )
        grid_shape = (int(shape[0]), int(shape[1]))
    return TabularMDP(
        transitions,
        gamma=gamma,
        initial=arrays.get("initial"),
        terminal=arrays.get("terminal"),
        grid_shape=grid_shape,
    )


def _lifted_reward(mdp: TabularMDP, value: np.ndarray, name: str) -> jax.Array:
    """A reward ``[S, A, S']`` from ``[S, A, S']``, ``[S, A]`` or ``[S]`` (paid on arrival)."""
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {value.dtype}.")
    n_states, n_actions = mdp.n_states, mdp.n_actions
    if value.shape == (n_states,):
        _finite(name, value)
        return rewards.state_reward(mdp, value.astype(float))
    if value.shape == (n_states, n_actions):
        _finite(name, value)
        return rewards.state_action_reward(mdp, value.astype(float))
    if value.shape != (n_states, n_actions, n_states):
        raise ValueError(
            f"{name} must have shape [S, A, S'] = {(n_states, n_actions, n_states)}, "
            f"[S, A] = {(n_states, n_actions)} or [S] = ({n_states},), got {value.shape}."
        )
    return rewards.check_reward(mdp, value, name=name)


def _existing(path) -> pathlib.Path:
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input {str(path)!r} does not exist.")
    return path


def _scalar(value: np.ndarray, name: str) -> float:
    if value.shape not in ((), (1,)) or value.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must be a single number, got dtype {value.dtype} and shape {value.shape}."
        )
    return float(value.reshape(()))


def _finite(name: str, value: np.ndarray) -> None:
    bad = ~np.isfinite(value.astype(float))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains {value[where]} at index {where} ({int(bad.sum())} non-finite "
            "entries in all); replace them with finite numbers."
        )


# ---------------------------------------------------------------------------
# Building the document.


class _Document:
    """The sections of a report, in order, rendered to one standalone HTML string."""

    def __init__(self, title: str, source: str | None):
        self.title = title
        self.source = source
        self.sections: list[str] = []

    def add(self, anchor: str, heading: str, explanation: str, *figures) -> None:
        """A section: a heading, a sentence on what it shows, and figures or notes (HTML)."""
        parts = [f'<section id="{anchor}">', f"<h2>{html.escape(heading)}</h2>"]
        parts.append(f"<p>{html.escape(explanation)}</p>")
        for index, figure in enumerate(figures):
            if isinstance(figure, str):
                parts.append(figure)
                continue
            div_id = f"plot-{anchor}" if len(figures) == 1 else f"plot-{anchor}-{index}"
            parts.append(
                pio.to_html(
                    figure,
                    full_html=False,
                    include_plotlyjs=False,
                    div_id=div_id,
                    config=PLOTLY_CONFIG,
                    default_height=f"{figure.layout.height or 450}px",
                )
            )
        parts.append("</section>")
        self.sections.append("\n".join(parts))

    def render(self) -> str:
        source = "" if self.source is None else f" from <code>{html.escape(self.source)}</code>"
        return "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f'<meta name="generator" content="rewardviz {rewardviz.__version__}">',
                f"<title>{html.escape(self.title)}</title>",
                f"<style>{_STYLE}</style>",
                # plotly.js once, before the figures' inline scripts call Plotly.newPlot.
                f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>',
                "</head>",
                "<body>",
                "<header>",
                f"<h1>{html.escape(self.title)}</h1>",
                f"<p>Made with rewardviz {rewardviz.__version__}{source}. "
                "This file is self-contained: it needs no network to view.</p>",
                "</header>",
                *self.sections,
                "</body>",
                "</html>",
                "",
            ]
        )


# System fonts only: a web font would need the network.
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
header p, section > p { color: #555; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f2f2; }
.note { background: #fff4e5; border-left: 4px solid #E69F00; padding: 0.5em 1em; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def _table(header: list[str], rows: list[list]) -> str:
    cells = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    lines = [f"<table><thead><tr>{cells}</tr></thead><tbody>"]
    for row in rows:
        cells = "".join(f"<td>{html.escape(_cell(cell))}</td>" for cell in row)
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _facts(facts: Mapping[str, object]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(_cell(value))}</td></tr>"
        for key, value in facts.items()
    )
    return f"<table><tbody>{rows}</tbody></table>"


def _cell(value) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


# ---------------------------------------------------------------------------
# Reward logs.


def log_report(
    log: RewardLog, *, gamma: float = 1.0, title: str | None = None, source: str | None = None
) -> str:
    """A standalone HTML report of a reward log: which weighted term drives the return.

    Sections: a summary (episodes, lengths, and per component its weight, mean and
    spread of return, mean absolute share, variance attribution, whether it is dead),
    the components' shares of the return, the return distributions, the variance
    attribution, step- and episode-level correlations, and the per-step contributions
    of the episode with the median return. Returns are discounted by ``gamma``
    (:func:`rewardviz.decompose.component_returns`).

    Args:
        log: the reward log.
        gamma: discount of the returns, in ``[0, 1]``; 1 sums the rewards.
        title: the report's title; ``"Reward log report"`` by default.
        source: where the log came from, quoted under the title.

    Returns:
        The HTML document; write it with :func:`write_report`.

    Example:
        >>> document = report.log_report(rv.io.example_log(), gamma=0.99)
        >>> report.write_report(document, "hopper.html")
    """
    if not isinstance(log, RewardLog):
        raise TypeError(f"log must be a rewardviz.RewardLog, got {type(log).__name__}.")
    returns = np.asarray(decompose.component_returns(log, gamma))  # [E, K]
    _, absolute_shares = decompose.return_shares(log, gamma)
    step_correlation = decompose.correlations(log, level="step")
    dead = np.asarray(decompose.dead_components(log))
    try:
        attribution = np.asarray(decompose.variance_attribution(log, gamma))
        attribution_error = None
    except ValueError as error:  # every episode has the same return: nothing to attribute
        attribution, attribution_error = None, str(error)
    names = list(log.names)
    totals = returns.sum(axis=1)
    lengths = np.asarray(log.lengths)
    discount = "undiscounted" if gamma == 1 else f"discounted by γ = {gamma:g}"

    document = _Document(title or "Reward log report", source)
    facts = {
        "episodes": log.n_episodes,
        "steps per episode (min / median / max)": (
            f"{lengths.min()} / {np.median(lengths):g} / {lengths.max()}"
        ),
        "components": len(names),
        "returns": discount,
        "mean return (± std across episodes)": f"{totals.mean():.4g} ± {totals.std():.4g}",
    }
    rows = [
        [
            name,
            float(np.asarray(log.weights)[k]),
            float(returns[:, k].mean()),
            float(returns[:, k].std()),
            float(np.asarray(absolute_shares)[:, k].mean()),
            "–" if attribution is None else float(attribution[k]),
            "yes" if dead[k] else "no",
        ]
        for k, name in enumerate(names)
    ]
    table = _table(
        [
            "component",
            "weight",
            "mean return",
            "std of return",
            "mean |share|",
            "variance attribution",
            "dead (constant)",
        ],
        rows,
    )
    document.add(
        "summary",
        "Summary",
        "Returns are of the weighted components (weight × component), summed over each "
        "episode's valid steps.",
        _facts(facts),
        table,
    )
    document.add(
        "return-shares",
        "Shares of the return",
        "Each component's absolute share |G_k| / Σ_j |G_j| of the return: the bar is the "
        "mean over episodes, the error bar the 2.5–97.5 percentile range.",
        plots.return_shares(absolute_shares, names, title="Absolute share of the return"),
    )
    document.add(
        "return-distributions",
        "Component returns",
        "The distribution over episodes of each weighted component's return.",
        plots.return_distributions(returns, names, title=f"Component returns ({discount})"),
    )
    document.add(
        "variance-attribution",
        "Variance attribution",
        "How much of the spread of episode returns each component causes, Cov(G_k, G) / "
        "Var(G); the attributions sum to 1.",
        _note(attribution_error)
        if attribution is None
        else plots.variance_attribution(attribution, names, title="Variance attribution"),
    )
    document.add(
        "correlations",
        "Correlations between components",
        "Pearson correlations of the weighted components over all valid steps (first) and "
        "of their returns over episodes (second).",
        plots.correlation_heatmap(step_correlation, names, title="Per-step correlation"),
        plots.correlation_heatmap(
            decompose.correlations(log, level="episode", gamma=gamma),
            names,
            title="Per-episode return correlation",
        ),
    )
    median = int(np.argsort(totals, kind="stable")[len(totals) // 2])
    length = int(lengths[median])
    document.add(
        "median-episode",
        "A typical episode, step by step",
        f"The weighted components at each step of episode {median}, whose return "
        f"({totals[median]:.4g}) is the median; the black line is the total reward.",
        plots.stacked_contributions(
            np.asarray(log.contributions[median, :length]),
            names,
            total=np.asarray(log.total[median, :length]),
            title=f"Episode {median}",
        ),
    )
    return document.render()


# ---------------------------------------------------------------------------
# Rewards on an MDP.


def rewards_report(
    mdp: TabularMDP,
    named_rewards: Mapping[str, object],
    *,
    title: str | None = None,
    source: str | None = None,
) -> str:
    """A standalone HTML report comparing rewards on one MDP.

    Sections: a summary (the MDP, and per reward its range, optimal return ``J*`` from
    the start distribution and its nearest other reward by EPIC), the pairwise EPIC,
    DARD and STARC-VAL distance matrices (:func:`rewardviz.distances.pairwise`),
    normalised regret against distance over all ordered pairs (true ``i``, proxy ``j``)
    (:func:`rewardviz.distances.regret`), and each reward's optimal values and policy
    (uniform over tied optimal actions) on the grid when ``mdp.grid_shape`` is set.
    Distances need at least two rewards; with one, those sections say so.

    Args:
        mdp: the MDP.
        named_rewards: ``{name: [S, A, S'] reward}``.
        title: the report's title; ``"Reward comparison"`` by default.
        source: where the rewards came from, quoted under the title.

    Returns:
        The HTML document; write it with :func:`write_report`.

    Example:
        >>> mdp, goal = rv.envs.gridworld(["S..", "..G"])
        >>> document = report.rewards_report(mdp, {"goal": goal, "shaped": goal - 0.1})
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")
    if not isinstance(named_rewards, Mapping) or not named_rewards:
        raise ValueError("named_rewards must be a non-empty mapping {name: [S, A, S'] reward}.")
    names = [str(name) for name in named_rewards]
    checked = []
    for name, reward in zip(names, named_rewards.values(), strict=True):
        reward = rewards.check_reward(mdp, reward, name=f"named_rewards[{name!r}]")
        if reward.ndim != 3:
            raise ValueError(
                f"named_rewards[{name!r}] must be one reward [S, A, S'] = "
                f"{(mdp.n_states, mdp.n_actions, mdp.n_states)}, got a batch of shape "
                f"{tuple(reward.shape)}; give each reward of a batch its own name."
            )
        checked.append(reward)
    stacked = jnp.stack(checked)  # [N, S, A, S']
    solution = solve.value_iteration(mdp, stacked)
    optimal_return = np.asarray(solution.values) @ np.asarray(mdp.initial)  # [N]
    policies = solve.greedy_policy(solution.q_values)
    matrices = {}
    if len(names) > 1:
        matrices = {
            label: np.asarray(distances.pairwise(mdp, stacked, method=method, **options))
            for label, method, options in DISTANCE_METHODS
        }

    document = _Document(title or "Reward comparison", source)
    terminal = int(np.asarray(mdp.terminal).sum())
    facts = {
        "states": mdp.n_states,
        "actions": mdp.n_actions,
        "discount γ": f"{float(mdp.gamma):g}",
        "terminal states": terminal,
        "grid": "none" if mdp.grid_shape is None else "{} × {}".format(*mdp.grid_shape),
        "rewards": len(names),
    }
    header = ["reward", "min", "max", "optimal return J*"]
    if matrices:
        header += ["nearest reward (EPIC)", "EPIC distance"]
        epic = matrices["EPIC"] + np.diag(np.full(len(names), np.inf))
    rows = []
    for index, name in enumerate(names):
        values = np.asarray(stacked[index])
        row = [name, float(values.min()), float(values.max()), float(optimal_return[index])]
        if matrices:
            nearest = int(np.argmin(epic[index]))
            row += [names[nearest], float(epic[index, nearest])]
        rows.append(row)
    document.add(
        "summary",
        "Summary",
        "J* is the optimal expected discounted return from the start distribution.",
        _facts(facts),
        _table(header, rows),
    )

    one_reward = _note("Distances compare rewards: give at least two rewards.")
    document.add(
        "distances",
        "Distances between rewards",
        "EPIC and DARD (Pearson distance after removing potential shaping) and STARC with "
        "the VAL canonicalisation (also removes S'-redistribution; L2 norm). 0 means the "
        "rewards define the same task; similar rewards are drawn next to each other.",
        *(
            [
                plots.distance_matrix(matrix, names, title=f"{label} distance")
                for label, matrix in matrices.items()
            ]
            or [one_reward]
        ),
    )
    document.add(
        "regret",
        "Regret against distance",
        "For every ordered pair, the normalised regret of optimising the proxy reward when "
        "the true one counts, against their distance: a useful distance predicts regret, "
        "so the points rise from left to right (Spearman ρ in the legend).",
        _regret_figure(mdp, stacked, names, matrices) if matrices else one_reward,
    )
    if mdp.grid_shape is not None:
        document.add(
            "policies",
            "Optimal policies",
            "Each reward's optimal values V* (colour) and optimal policy (arrows; tied "
            "optimal actions share the probability).",
            *[
                plots.gridworld(
                    mdp,
                    np.asarray(solution.values[index]),
                    np.asarray(policies[index]),
                    title=f"{name}: V* and optimal policy",
                )
                for index, name in enumerate(names)
            ],
        )
    return document.render()


def _regret_figure(mdp: TabularMDP, stacked, names: list[str], matrices: Mapping) -> object:
    """The regret-versus-distance figure over all ordered pairs, or a note if regret is undefined."""
    try:
        # [N, N]: entry (i, j) is the regret of optimising reward j when reward i is true.
        regret = np.asarray(distances.regret(mdp, stacked[:, None], stacked[None, :]))
    except (ValueError, solve.ConvergenceError) as error:
        return _note(f"Regret is undefined for this MDP: {error}")
    true_index, proxy_index = np.nonzero(~np.eye(len(names), dtype=bool))
    labels = [
        f"true {names[i]}, proxy {names[j]}" for i, j in zip(true_index, proxy_index, strict=True)
    ]
    return plots.regret_vs_distance(
        {label: matrix[true_index, proxy_index] for label, matrix in matrices.items()},
        regret[true_index, proxy_index],
        labels=labels,
    )


# ---------------------------------------------------------------------------
# Writing.


def write_report(document: str, path, *, force: bool = False) -> pathlib.Path:
    """Write ``document`` to ``path`` atomically; replace an existing file only if ``force``.

    The text goes through :func:`rewardviz._files.atomic_write`: to a temporary file in
    ``path``'s directory (``.<name>.<random>.partial``), flushed to disk, then renamed over
    ``path`` with ``os.replace``, so readers see the old file or the whole new one, never a
    part. On any failure the temporary file is removed and ``path`` is left as it was.
    The file gets the permissions of a newly created file (``0o666`` less the umask).

    Raises:
        FileExistsError: ``path`` exists and ``force`` is false.
        FileNotFoundError: ``path``'s directory does not exist.
        ValueError: ``path`` is a directory.

    Example:
        >>> report.write_report(document, "report.html", force=True)
        PosixPath('report.html')
    """
    path = pathlib.Path(path)
    check_output(path, force=force)
    # Without force, a file that appeared while the report was computed is kept (link(2)).
    try:
        with _files.atomic_write(path, overwrite=force) as stream:
            stream.write(document)
    except FileExistsError:
        check_output(path, force=force)  # the report's wording (--force)
        raise
    return path


def check_output(path, *, force: bool = False) -> pathlib.Path:
    """Raise unless a report can be written at ``path`` (see :func:`write_report`).

    Called before the report is computed as well, so a refused overwrite costs nothing.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise ValueError(
            f"output {str(path)!r} is a directory; name the HTML file, e.g. {str(path / 'report.html')!r}."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"the directory of output {str(path)!r} does not exist; create it first."
        )
    if path.exists() and not force:
        raise FileExistsError(
            f"output {str(path)!r} already exists; pass --force (force=True) to replace it, "
            "or choose another name."
        )
    return path
