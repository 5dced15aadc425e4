"""Reward machines: parse, run, take the product with an MDP, shape (Toro Icarte et al. 2018, 2022).

A reward machine has states ``U``, an initial state, terminal states, and transitions
``(u, u', formula, reward)``: after an environment transition into ``s'``, the machine
in ``u`` follows the transition whose propositional formula holds for the label set
``L(s')`` and pays its reward.

The text format is the one of the ``reward_machines`` code of Toro Icarte et al.
(ICML 2018, JAIR 2022): the first line is the initial state, the second the list of
terminal states, then one ``(u, u', 'formula', reward)`` line per transition. ``#``
starts a comment anywhere on a line (outside the quoted formula) and blank lines are
skipped; a reward is a number or ``ConstantRewardFunction(x)``::

    0                       # initial state
    [3]                     # terminal states
    (0, 1, 'coffee & !office', 0)
    (1, 3, 'office', ConstantRewardFunction(1))

Formulas use ``&``, ``|``, ``!``, parentheses, ``True``/``False`` and propositions named
by identifiers; the reference code's single-character propositions (``'e&!g&!n'``) read
the same. Rewards that depend on the environment's state (``RewardControl()`` and the
like in the reference's MuJoCo machines) are refused with an error.

Two choices differ between machine codes, and :class:`RewardMachine` makes both explicit:

- ``on_no_match``: when no transition's formula holds, ``"terminate"`` moves to a
  terminal state :data:`NO_MATCH_STATE`, pays 0 and ends the episode, as the reference
  code does; ``"stay"`` stays in ``u`` and pays 0. :meth:`RewardMachine.from_text` and
  :meth:`RewardMachine.from_file` default to ``"terminate"``; machines built in code
  (the constructor, :meth:`RewardMachine.from_ltlf`) default to ``"stay"``.
- ``on_overlap``: when several transitions hold with different effects, ``"error"``
  (the default) raises; ``"first"`` takes the first of them in ``edges`` order (file
  order), which is what the reference code does for files without repeated
  ``(u, u')`` pairs.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from rewardviz._deprecation import positional_options
from rewardviz.expressivity.ltlf import (
    Formula,
    FormulaError,
    holds,
    is_propositional,
    parse,
    propositions,
    to_automaton,
)
from rewardviz.mdp import TabularMDP

__all__ = [
    "NO_MATCH_MODES",
    "NO_MATCH_STATE",
    "OVERLAP_MODES",
    "Edge",
    "Labeling",
    "RewardMachine",
    "RewardMachineError",
    "product",
    "shaping_potential",
    "state_labels",
]

Labeling = Sequence[str | Iterable[str]] | Mapping[int, str | Iterable[str]]
"""Labels of the MDP's states: per state a proposition name, a set of names, or ""."""

NO_MATCH_STATE = "no-match"
"""Name of the terminal state an ``on_no_match="terminate"`` machine enters when no formula
holds; the hyphen keeps it apart from the state names the text format allows."""

NO_MATCH_MODES = ("terminate", "stay")
OVERLAP_MODES = ("error", "first")

_STATE = r"-?\w+"
_TRANSITION = re.compile(
    rf"\(\s*(?P<source>{_STATE})\s*,\s*(?P<target>{_STATE})\s*,\s*"
    r"(?P<quote>['\"])(?P<formula>.*?)(?P=quote)\s*,\s*(?P<reward>.*?)\s*\)"
)
_TERMINAL_LIST = re.compile(rf"\[\s*(?:{_STATE}\s*(?:,\s*{_STATE}\s*)*,?\s*)?\]")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_CONSTANT_REWARD = re.compile(
    rf"(?P<call>ConstantRewardFunction\(\s*)?(?P<value>{_NUMBER})(?(call)\s*\))"
)
_REWARD_CALL = re.compile(r"[A-Za-z_]\w*\s*\(.*\)")


class RewardMachineError(ValueError):
    """A reward machine text that does not parse; the message names the line."""


@dataclass(frozen=True)
class Edge:
    """One machine transition: ``source → target`` when ``formula`` holds, paying ``reward``."""

    source: int
    target: int
    text: str
    formula: Formula
    reward: float
    line: int


@dataclass(frozen=True)
class RewardMachine:
    """A reward machine with states ``0..U−1`` (``names`` keeps the text's state names).

    Args:
        names: the state names; state ``i`` is ``names[i]``.
        initial: index of the initial state.
        terminal: indices of the terminal states (no outgoing transitions).
        edges: the transitions, in the order ``on_overlap="first"`` uses.
        on_no_match: what happens when no outgoing formula holds. ``"terminate"``
            (the reference code of Toro Icarte et al.): the machine enters the terminal
            state :data:`NO_MATCH_STATE`, index ``U``, pays 0 and the episode ends.
            ``"stay"``: it stays where it is and pays 0. The constructor defaults to
            ``"stay"``, which is what machines built in code always did;
            :meth:`from_text` defaults to ``"terminate"``.
        on_overlap: what happens when several outgoing formulas hold with different
            effects (target or reward). ``"error"`` raises ``ValueError``; ``"first"``
            takes the first of those edges in ``edges`` order, i.e. file order for
            :meth:`from_text`. The reference code takes the first transition that holds
            in the order in which each target first appears among the state's lines,
            all terminal states counting as one target and a later line to a target
            replacing the earlier one (its newer versions key by formula text instead).
            Both are file order unless a state has several lines to one target, which
            :meth:`from_text` warns about when ``on_overlap="first"``.

    Example:
        >>> text = '''
        ... 0      # initial state
        ... [2]    # terminal states
        ... (0,1,'coffee',ConstantRewardFunction(0))
        ... (1,2,'office',ConstantRewardFunction(1))'''
        >>> rm = rv.expressivity.RewardMachine.from_text(text)
        >>> rm.run([{"coffee"}, {"office"}])
        (2, 1.0)
        >>> state, total = rm.run([{"coffee"}, set(), {"office"}])  # no formula holds for {}
        >>> rm.states[state], total
        ('no-match', 0.0)
        >>> rm.from_text(text, on_no_match="stay").run([{"coffee"}, set(), {"office"}])
        (2, 1.0)
    """

    names: tuple[str, ...]
    initial: int
    terminal: tuple[int, ...]
    edges: tuple[Edge, ...]
    on_no_match: str = "stay"
    on_overlap: str = "error"

    def __post_init__(self):
        if self.on_no_match not in NO_MATCH_MODES:
            raise ValueError(
                f"on_no_match must be 'terminate' (enter a terminal state when no formula "
                f"holds, as the reference code does) or 'stay', got {self.on_no_match!r}."
            )
        if self.on_overlap not in OVERLAP_MODES:
            raise ValueError(
                f"on_overlap must be 'error' (refuse overlapping transitions) or 'first' "
                f"(take the first one in edges order), got {self.on_overlap!r}."
            )
        if self.on_no_match == "terminate" and NO_MATCH_STATE in self.names:
            raise ValueError(
                f"a state is named {NO_MATCH_STATE!r}, the name on_no_match='terminate' "
                "gives the state it adds; rename that state."
            )
        indices = [self.initial, *self.terminal]
        indices += [u for edge in self.edges for u in (edge.source, edge.target)]
        outside = [u for u in indices if not 0 <= u < len(self.names)]
        if outside:
            raise ValueError(
                f"state index {outside[0]} is not one of the {len(self.names)} named states "
                f"0..{len(self.names) - 1}; give a name for every state in names."
            )

    @property
    def states(self) -> tuple[str, ...]:
        """Every state :meth:`step` can return, the product's machine states.

        ``names``, then :data:`NO_MATCH_STATE` when ``on_no_match="terminate"``.
        """
        return self.names + ((NO_MATCH_STATE,) if self.on_no_match == "terminate" else ())

    @property
    def no_match_state(self) -> int | None:
        """Index of :data:`NO_MATCH_STATE` in ``states``; None when ``on_no_match="stay"``."""
        return len(self.names) if self.on_no_match == "terminate" else None

    @property
    def propositions(self) -> frozenset[str]:
        return frozenset().union(*(propositions(edge.formula) for edge in self.edges))

    def is_terminal(self, state: int) -> bool:
        """Whether ``state`` (an index into ``states``) ends the episode."""
        return state in self.terminal or state == self.no_match_state

    @classmethod
    def from_text(
        cls, text: str, *, on_no_match: str = "terminate", on_overlap: str = "error"
    ) -> RewardMachine:
        """Parse the text format of Toro Icarte et al.; errors name the line and what is wrong.

        The file layout of the ``reward_machines`` code reads as written: comments after
        ``#``, blank lines, ``ConstantRewardFunction(x)`` or plain numbers, with or
        without spaces. ``on_no_match`` defaults to ``"terminate"``, the reference
        code's semantics; pass ``"stay"`` for machines written with rewardviz's earlier
        semantics (see :class:`RewardMachine` for both keywords).

        Where rewardviz is stricter than the reference loader: a transition out of a
        terminal state is an error (the reference ignores the line), a terminal state
        that no line reaches is an error, and so is a reward that is not a constant.

        Example:
            >>> rm = rv.expressivity.RewardMachine.from_text("0\\n[1]\\n(0,1,'a',1)")
            >>> rm.states, rm.on_no_match
            (('0', '1', 'no-match'), 'terminate')
        """
        if not isinstance(text, str):
            raise TypeError(
                f"from_text needs the machine as a str, got {type(text).__name__}; "
                "use RewardMachine.from_file(path) to read a file."
            )
        lines = [(number, _without_comment(raw)) for number, raw in enumerate(text.splitlines(), 1)]
        lines = [(number, line) for number, line in lines if line]
        if len(lines) < 2:
            raise RewardMachineError(
                "a reward machine needs an initial-state line, a terminal-states line "
                "(e.g. [3] or []) and transition lines (u, u', 'formula', reward)."
            )
        (initial_line, initial), (terminal_line, terminal_text) = lines[0], lines[1]
        if not re.fullmatch(_STATE, initial):
            raise RewardMachineError(
                f"line {initial_line}: the first line must be the initial state, got {initial!r}."
            )
        if not _TERMINAL_LIST.fullmatch(terminal_text):
            raise RewardMachineError(
                f"line {terminal_line}: the second line must list the terminal states like "
                f"[3] or [3, 4] or [], got {terminal_text!r}."
            )
        terminal_names = re.findall(_STATE, terminal_text)
        names: dict[str, int] = {}

        def state(name: str) -> int:
            return names.setdefault(name, len(names))

        state(initial)
        parsed = []
        for number, line in lines[2:]:
            match = _TRANSITION.fullmatch(line)
            if match is None:
                raise RewardMachineError(
                    f"line {number}: expected (u, u', 'formula', reward), got {line!r}."
                )
            source, target, formula_text = match["source"], match["target"], match["formula"]
            try:
                formula = parse(formula_text)
            except FormulaError as error:
                raise RewardMachineError(f"line {number}: {error}") from None
            if not is_propositional(formula):
                raise RewardMachineError(
                    f"line {number}: {formula_text!r} has a temporal operator; machine edges "
                    "are labelled by propositional formulas (&, |, !)."
                )
            reward = _constant_reward(match["reward"], number)
            if source in terminal_names:
                raise RewardMachineError(
                    f"line {number}: transition leaves terminal state {source}; terminal "
                    "states end the episode, so rewardviz refuses such lines where the "
                    "reference loader ignores them: delete the line, or take "
                    f"{source} off the terminal list."
                )
            parsed.append(Edge(state(source), state(target), formula_text, formula, reward, number))
        for name in terminal_names:
            if name not in names:
                raise RewardMachineError(
                    f"line {terminal_line}: unknown state {name}: it is listed as terminal but "
                    "no transition reaches it and it is not the initial state."
                )
        if not parsed:
            raise RewardMachineError("the reward machine has no transition lines.")
        terminal = tuple(sorted(names[name] for name in set(terminal_names)))
        machine = cls(tuple(names), 0, terminal, tuple(parsed), on_no_match, on_overlap)
        if on_overlap == "first":
            _warn_about_repeated_targets(machine)
        return machine

    @classmethod
    def from_file(
        cls,
        path: str | PathLike,
        *,
        on_no_match: str = "terminate",
        on_overlap: str = "error",
    ) -> RewardMachine:
        """Read a machine file such as those of the reference code; see :meth:`from_text`.

        Errors name the file and the line.
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            return cls.from_text(text, on_no_match=on_no_match, on_overlap=on_overlap)
        except RewardMachineError as error:
            raise RewardMachineError(f"{path}: {error}") from None

    def to_text(self) -> str:
        """The machine in the text format :meth:`from_text` reads.

        ``on_no_match`` and ``on_overlap`` are not part of the format: pass them to
        :meth:`from_text` again to read the text back with the same semantics.
        """
        terminal = ", ".join(self.names[u] for u in self.terminal)
        lines = [self.names[self.initial], f"[{terminal}]"]
        lines += [
            f"({self.names[e.source]}, {self.names[e.target]}, '{e.text}', "
            f"{_format_reward(e.reward)})"
            for e in self.edges
        ]
        return "\n".join(lines)

    def step(self, state: int, letter: Iterable[str]) -> tuple[int, float]:
        """``(next state, reward)`` after an environment transition into a state labelled ``letter``.

        States are indices into ``states``; ``letter`` holds the true propositions (a
        string counts as its characters, as the reference code's labels do). A
        terminal state stays put and pays 0. When no formula holds, ``on_no_match``
        decides; when several hold with different effects, ``on_overlap`` does
        (``"error"`` raises ``ValueError``).
        """
        if not 0 <= state < len(self.states):
            raise ValueError(
                f"state {state} is not a machine state index 0..{len(self.states) - 1}."
            )
        letter = frozenset(letter)
        if self.is_terminal(state):
            return state, 0.0
        matches = [e for e in self.edges if e.source == state and holds(e.formula, letter)]
        if not matches:
            return (state if self.no_match_state is None else self.no_match_state), 0.0
        if self.on_overlap == "first":
            return matches[0].target, matches[0].reward
        effects = {(e.target, e.reward) for e in matches}
        if len(effects) > 1:
            lines = ", ".join(str(e.line) for e in matches)
            raise ValueError(
                f"reward machine state {self.names[state]} is ambiguous for labels "
                f"{sorted(letter)}: lines {lines} all hold with different effects; make their "
                "formulas mutually exclusive, or pass on_overlap='first' to take the first."
            )
        return effects.pop()

    def run(self, trace: Iterable[Iterable[str]]) -> tuple[int, float]:
        """Final state (an index into ``states``) and undiscounted total reward after ``trace``."""
        state, total = self.initial, 0.0
        for letter in trace:
            state, reward = self.step(state, letter)
            total += reward
        return state, total

    def potential(self, gamma: float) -> np.ndarray:
        """``V*(u)`` for each of ``states``: ``V(u) = max_edges r + γ V(u')``, 0 at terminals.

        Toro Icarte et al. (JAIR 2022, §5) shape with a potential from value iteration on
        the machine seen as an MDP whose actions choose an outgoing edge; they state it
        as ``Φ(u) = −V(u)``. We return ``V`` itself so that ``γΦ(u') − Φ(u)`` pays for
        progress towards reward; any potential preserves optimal policies (Ng et al.
        1999), so the sign is a choice, which :func:`shaping_potential` makes explicit.
        """
        gamma = float(gamma)
        if not 0 <= gamma < 1:
            raise ValueError(f"gamma must be in [0, 1) for a machine potential, got {gamma}.")
        n_u = len(self.states)
        sources = np.array([e.source for e in self.edges])
        targets = np.array([e.target for e in self.edges])
        rewards = np.array([e.reward for e in self.edges])
        values = np.zeros(n_u)
        terminal = np.array([self.is_terminal(u) for u in range(n_u)])
        for _ in range(100_000):  # contraction: converges geometrically
            best = np.full(n_u, -np.inf)
            np.maximum.at(best, sources, rewards + gamma * values[targets])
            updated = np.where(terminal | ~np.isfinite(best), 0.0, best)
            if np.abs(updated - values).max() < 1e-12:
                return updated
            values = updated
        raise RuntimeError("machine value iteration did not converge")

    @classmethod
    def from_ltlf(cls, formula: str | Formula) -> RewardMachine:
        """A machine paying 1 when the trace read so far starts satisfying ``formula``.

        Built from the formula's DFA (:func:`~rewardviz.expressivity.ltlf.to_automaton`):
        each DFA state is a machine state; entering an accepting state from a rejecting one
        pays +1, leaving it pays −1, so the undiscounted total is 1 exactly when the
        trace read so far satisfies the formula. Absorbing DFA states are terminal.
        Every live state has a transition for every label set, so ``on_no_match`` never
        applies; it is left at the constructor's ``"stay"``.
        """
        automaton = to_automaton(formula)
        ordered = sorted(automaton.propositions)
        edges = []
        for (source, letter), target in sorted(automaton.table.items(), key=_edge_order):
            if automaton.absorbing[source]:
                continue
            reward = float(automaton.accepting[target]) - float(automaton.accepting[source])
            text = "&".join(p if p in letter else f"!{p}" for p in ordered) or "True"
            edges.append((source, target, reward, text))
        merged: dict[tuple[int, int, float], list[str]] = {}
        for source, target, reward, text in edges:
            merged.setdefault((source, target, reward), []).append(text)
        built = [
            Edge(source, target, " | ".join(texts), parse(" | ".join(texts)), reward, 0)
            for (source, target, reward), texts in merged.items()
        ]
        terminal = tuple(q for q in range(automaton.n_states) if automaton.absorbing[q])
        names = tuple(str(q) for q in range(automaton.n_states))
        return cls(names, automaton.initial, terminal, tuple(built))


def _edge_order(item):
    (source, letter), target = item
    return source, target, sorted(letter)


def _without_comment(line: str) -> str:
    """``line`` up to a ``#`` outside quotes (the reference reads lines as Python), stripped."""
    quote = None
    for position, char in enumerate(line):
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:position].strip()
    return line.strip()


def _constant_reward(text: str, line: int) -> float:
    match = _CONSTANT_REWARD.fullmatch(text)
    if match is not None:
        return float(match["value"])
    if _REWARD_CALL.fullmatch(text) and not text.startswith("ConstantRewardFunction"):
        raise RewardMachineError(
            f"line {line}: reward {text!r} is not a constant; non-constant reward functions "
            "(such as RewardControl() in the MuJoCo machines of Toro Icarte et al.) are not "
            "supported: write a number or ConstantRewardFunction(x)."
        )
    raise RewardMachineError(
        f"line {line}: reward {text!r} is not a number; write e.g. 1, -0.5 or "
        "ConstantRewardFunction(1)."
    )


def _format_reward(reward: float) -> str:
    short = f"{reward:g}"
    return short if float(short) == reward else repr(reward)


def _warn_about_repeated_targets(machine: RewardMachine) -> None:
    """Warn where the reference loader would read the file differently from file order.

    The reference loader keys a state's transitions by target, with every terminal
    state merged into one, so of several lines from ``u`` to one target it keeps only
    the last, in the place of the first.
    """
    lines: dict[tuple[int, object], list[int]] = {}
    for edge in machine.edges:
        target = "terminal" if edge.target in machine.terminal else edge.target
        lines.setdefault((edge.source, target), []).append(edge.line)
    for (source, target), numbers in lines.items():
        if len(numbers) > 1:
            reached = "terminal states" if target == "terminal" else machine.names[target]
            warnings.warn(
                f"lines {', '.join(map(str, numbers))} all lead from state "
                f"{machine.names[source]} to {reached}: rewardviz keeps every line in file "
                "order, while the reference loader of Toro Icarte et al. keeps only the last "
                "of them, so the machine may behave differently there; join their formulas "
                "with '|' on one line to read the same in both.",
                stacklevel=3,
            )


def state_labels(mdp: TabularMDP, labeling: Labeling) -> list[frozenset[str]]:
    """The label set of each MDP state from a per-state sequence or a ``{state: labels}`` mapping."""
    if isinstance(labeling, Mapping):
        bad = [
            key
            for key in labeling
            if not (isinstance(key, (int, np.integer)) and 0 <= key < mdp.n_states)
        ]
        if bad:
            raise ValueError(
                f"labeling has keys {bad[:3]} that are not states 0..{mdp.n_states - 1}."
            )
        entries = [labeling.get(s, "") for s in range(mdp.n_states)]
    else:
        entries = list(labeling)
        if len(entries) != mdp.n_states:
            raise ValueError(
                f"labeling has {len(entries)} entries for {mdp.n_states} states; give one "
                "label set per state ('' for none) or a {state: labels} mapping."
            )
    return [_label_set(entry) for entry in entries]


def _label_set(entry) -> frozenset[str]:
    if isinstance(entry, str):
        return frozenset([entry]) if entry else frozenset()
    return frozenset(entry)


def product(
    mdp: TabularMDP, machine: RewardMachine, labeling: Labeling
) -> tuple[TabularMDP, jnp.ndarray]:
    """The synchronous product of an MDP and a reward machine: ``(MDP over (s, u), reward)``.

    This is the reward-machine × MDP product of Toro Icarte et al. (ICML 2018, JAIR
    2022, the "cross-product MDP"): the machine runs alongside the environment, so its
    reward becomes an ordinary Markov reward ``[S·U, A, S·U]`` on the joint state
    ``(s, u)``. (Not to be confused with multiplying reward shapes together, which the
    plots' shape combinators do.) The machine states are ``machine.states`` (``U`` of them, :data:`NO_MATCH_STATE`
    last when ``on_no_match="terminate"``) and state ``(s, u)`` has index ``s·U + u``.
    From it, action ``a`` reaches ``(s', δ(u, L(s')))`` with probability ``T(s'|s, a)``
    and pays the machine's reward for that transition: 0 when no formula holds, and
    then ``δ`` stays in ``u`` or enters the no-match state, as ``on_no_match`` says.
    ``(s, u)`` is terminal (value 0) when ``s`` or ``u`` is; it starts at ``(s, u₀)``
    with ``s ~ d₀``.

    Example:
        >>> mdp, _ = rv.envs.chain(3)
        >>> rm = rv.expressivity.RewardMachine.from_text("0\\n[1]\\n(0, 1, 'end', 1)")
        >>> joint, reward = rv.expressivity.product(mdp, rm, ["", "", "end"])
        >>> joint.n_states, joint.state_names[:3]
        (9, ('0|0', '0|1', '0|no-match'))
    """
    letters = state_labels(mdp, labeling)
    n_s, n_u = mdp.n_states, len(machine.states)
    next_u = np.zeros((n_u, n_s), int)
    paid = np.zeros((n_u, n_s))
    for u in range(n_u):  # machine × distinct labels: the machine's own table, small
        for s in range(n_s):
            next_u[u, s], paid[u, s] = machine.step(u, letters[s])
    transitions = np.asarray(mdp.transitions, np.float64)
    joint = np.zeros((n_s, n_u, mdp.n_actions, n_s, n_u))
    reward = np.zeros_like(joint)
    s, u, a, s_next = np.meshgrid(
        np.arange(n_s), np.arange(n_u), np.arange(mdp.n_actions), np.arange(n_s), indexing="ij"
    )
    target = next_u[u, s_next]
    joint[s, u, a, s_next, target] = transitions[s, a, s_next]
    reward[s, u, a, s_next, target] = paid[u, s_next]
    machine_terminal = np.array([machine.is_terminal(u) for u in range(n_u)])
    terminal = np.asarray(mdp.terminal, bool)[:, None] | machine_terminal[None]
    initial = np.zeros((n_s, n_u))
    initial[:, machine.initial] = np.asarray(mdp.initial, np.float64)
    state_names = mdp.state_names or tuple(str(i) for i in range(n_s))
    size = n_s * n_u
    product_mdp = TabularMDP(
        joint.reshape(size, mdp.n_actions, size),
        gamma=mdp.gamma,
        initial=initial.reshape(-1),
        terminal=terminal.reshape(-1),
        state_names=tuple(f"{name}|{u}" for name in state_names for u in machine.states),
        action_names=mdp.action_names,
    )
    return product_mdp, jnp.asarray(reward.reshape(size, mdp.n_actions, size), product_mdp.dtype)


@positional_options("n_states")
def shaping_potential(
    machine: RewardMachine, gamma: float, *, n_states: int | None = None
) -> np.ndarray:
    """Machine-state potential ``Φ(u) = V*(u)`` (see :meth:`RewardMachine.potential`).

    One value per ``machine.states``. With ``n_states`` (the base MDP's ``S``) it is
    laid out over the product's states, ``Φ(s·U + u) = V*(u)``, ready for
    ``rv.shaping.potential_shaping(product_mdp, reward, Φ)``; it is keyword-only.

    Example:
        >>> rm = rv.expressivity.RewardMachine.from_text("0\\n[1]\\n(0, 1, 'end', 1)")
        >>> rv.expressivity.shaping_potential(rm, 0.9, n_states=2).tolist()
        [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    """
    values = machine.potential(gamma)
    return values if n_states is None else np.tile(values, int(n_states))
