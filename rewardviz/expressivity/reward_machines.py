"""Reward machines: parse, run, take the product with an MDP, shape (Toro Icarte et al. 2018, 2022).

A reward machine has states ``U``, an initial state, terminal states, and transitions
``(u, u', formula, reward)``: after an environment transition into ``s'``, the machine
in ``u`` follows the transition whose propositional formula holds for the label set
``L(s')`` and pays its reward; when none holds it stays in ``u`` and pays 0.

The product MDP over ``(s, u)`` makes that reward Markov, so every rewardviz tool
(solvers, shaping, distances, realisability) applies to it. Text format, one item per
line (``#`` starts a comment line)::

    0                       # initial state
    [3]                     # terminal states
    (0, 1, 'coffee & !office', 0)
    (1, 3, 'office', 1)

Formulas use ``&``, ``|``, ``!``, parentheses, ``True``/``False`` and propositions with
multi-character names. A reward may also be written ``ConstantRewardFunction(1)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

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

Labeling = Sequence[str | Iterable[str]] | Mapping[int, str | Iterable[str]]
"""Labels of the MDP's states: per state a proposition name, a set of names, or ""."""

_LINE = re.compile(
    r"^\(\s*(\w+)\s*,\s*(\w+)\s*,\s*'([^']*)'\s*,\s*"
    r"(?:ConstantRewardFunction\(\s*)?([-+0-9.eE]+)\s*\)?\s*\)$"
)


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

    Example:
        >>> rm = rv.expressivity.RewardMachine.from_text('''
        ... 0
        ... [2]
        ... (0, 1, 'coffee', 0)
        ... (1, 2, 'office', 1)''')
        >>> rm.run([{"coffee"}, set(), {"office"}])
        (2, 1.0)
    """

    names: tuple[str, ...]
    initial: int
    terminal: tuple[int, ...]
    edges: tuple[Edge, ...]

    @property
    def states(self) -> tuple[str, ...]:
        return self.names

    @property
    def propositions(self) -> frozenset[str]:
        return frozenset().union(*(propositions(edge.formula) for edge in self.edges))

    @classmethod
    def from_text(cls, text: str) -> RewardMachine:
        """Parse the common text format; errors name the line and what is wrong."""
        lines = [(number, raw.strip()) for number, raw in enumerate(text.splitlines(), 1)]
        lines = [(number, line) for number, line in lines if line and not line.startswith("#")]
        if len(lines) < 2:
            raise RewardMachineError(
                "a reward machine needs an initial-state line, a terminal-states line "
                "(e.g. [3] or []) and transition lines (u, u', 'formula', reward)."
            )
        (initial_line, initial), (terminal_line, terminal_text) = lines[0], lines[1]
        if not re.fullmatch(r"\w+", initial):
            raise RewardMachineError(
                f"line {initial_line}: the first line must be the initial state, got {initial!r}."
            )
        if not re.fullmatch(r"\[\s*(\w+\s*(,\s*\w+\s*)*)?\]", terminal_text):
            raise RewardMachineError(
                f"line {terminal_line}: the second line must list the terminal states like "
                f"[3] or [3, 4] or [], got {terminal_text!r}."
            )
        terminal_names = re.findall(r"\w+", terminal_text)
        names: dict[str, int] = {}

        def state(name: str) -> int:
            return names.setdefault(name, len(names))

        state(initial)
        parsed = []
        for number, line in lines[2:]:
            match = _LINE.match(line)
            if match is None:
                raise RewardMachineError(
                    f"line {number}: expected (u, u', 'formula', reward), got {line!r}."
                )
            source, target, formula_text, reward = match.groups()
            try:
                formula = parse(formula_text)
            except FormulaError as error:
                raise RewardMachineError(f"line {number}: {error}") from None
            if not is_propositional(formula):
                raise RewardMachineError(
                    f"line {number}: {formula_text!r} has a temporal operator; machine edges "
                    "are labelled by propositional formulas (&, |, !)."
                )
            try:
                value = float(reward)
            except ValueError:
                raise RewardMachineError(
                    f"line {number}: reward {reward!r} is not a number."
                ) from None
            if source in terminal_names:
                raise RewardMachineError(
                    f"line {number}: transition leaves terminal state {source}; terminal "
                    "states end the episode and have no outgoing transitions."
                )
            parsed.append(Edge(state(source), state(target), formula_text, formula, value, number))
        for name in terminal_names:
            if name not in names:
                raise RewardMachineError(
                    f"line {terminal_line}: unknown state {name}: it is listed as terminal but "
                    "no transition reaches it and it is not the initial state."
                )
        if not parsed:
            raise RewardMachineError("the reward machine has no transition lines.")
        return cls(
            tuple(names), 0, tuple(sorted(names[n] for n in set(terminal_names))), tuple(parsed)
        )

    def to_text(self) -> str:
        """The machine in the text format :meth:`from_text` reads."""
        terminal = ", ".join(self.names[u] for u in self.terminal)
        lines = [self.names[self.initial], f"[{terminal}]"]
        lines += [
            f"({self.names[e.source]}, {self.names[e.target]}, '{e.text}', {e.reward:g})"
            for e in self.edges
        ]
        return "\n".join(lines)

    def step(self, state: int, letter: Iterable[str]) -> tuple[int, float]:
        """``(next state, reward)`` after an environment transition into a state labelled ``letter``.

        Raises ``ValueError`` when two transitions with different effects both hold.
        """
        letter = frozenset(letter)
        if state in self.terminal:
            return state, 0.0
        matches = [e for e in self.edges if e.source == state and holds(e.formula, letter)]
        effects = {(e.target, e.reward) for e in matches}
        if len(effects) > 1:
            lines = ", ".join(str(e.line) for e in matches)
            raise ValueError(
                f"reward machine state {self.names[state]} is ambiguous for labels "
                f"{sorted(letter)}: lines {lines} all hold with different effects; make their "
                "formulas mutually exclusive."
            )
        return effects.pop() if effects else (state, 0.0)

    def run(self, trace: Iterable[Iterable[str]]) -> tuple[int, float]:
        """Final state and undiscounted total reward after reading ``trace``."""
        state, total = self.initial, 0.0
        for letter in trace:
            state, reward = self.step(state, letter)
            total += reward
        return state, total

    def potential(self, gamma: float) -> np.ndarray:
        """``V*(u)`` on the machine graph: ``V(u) = max_edges r + γ V(u')``, ``V = 0`` at terminals.

        Toro Icarte et al. (JAIR 2022, §5) shape with a potential from value iteration on
        the machine seen as an MDP whose actions choose an outgoing edge; they state it
        as ``Φ(u) = −V(u)``. We return ``V`` itself so that ``γΦ(u') − Φ(u)`` pays for
        progress towards reward; any potential preserves optimal policies (Ng et al.
        1999), so the sign is a choice, which :func:`shaping_potential` makes explicit.
        """
        gamma = float(gamma)
        if not 0 <= gamma < 1:
            raise ValueError(f"gamma must be in [0, 1) for a machine potential, got {gamma}.")
        sources = np.array([e.source for e in self.edges])
        targets = np.array([e.target for e in self.edges])
        rewards = np.array([e.reward for e in self.edges])
        values = np.zeros(len(self.names))
        terminal = np.isin(np.arange(len(self.names)), self.terminal)
        for _ in range(100_000):  # contraction: converges geometrically
            best = np.full(len(self.names), -np.inf)
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
    """The product MDP over ``(s, u)`` and its Markov reward.

    State ``(s, u)`` has index ``s·U + u``; from it, action ``a`` reaches ``(s', δ(u, L(s')))``
    with probability ``T(s'|s, a)`` and pays the machine's reward for that transition.
    It is terminal when ``s`` or ``u`` is; it starts at ``(s, u₀)`` with ``s ~ d₀``.

    Example:
        >>> mdp, _ = rv.envs.chain(3)
        >>> rm = rv.expressivity.RewardMachine.from_text("0\\n[1]\\n(0, 1, 'end', 1)")
        >>> joint, reward = rv.expressivity.product(mdp, rm, ["", "", "end"])
        >>> joint.n_states
        6
    """
    letters = state_labels(mdp, labeling)
    n_s, n_u = mdp.n_states, len(machine.names)
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
    terminal = (
        np.asarray(mdp.terminal, bool)[:, None] | np.isin(np.arange(n_u), machine.terminal)[None]
    )
    initial = np.zeros((n_s, n_u))
    initial[:, machine.initial] = np.asarray(mdp.initial, np.float64)
    state_names = mdp.state_names or tuple(str(i) for i in range(n_s))
    size = n_s * n_u
    product_mdp = TabularMDP(
        joint.reshape(size, mdp.n_actions, size),
        gamma=mdp.gamma,
        initial=initial.reshape(-1),
        terminal=terminal.reshape(-1),
        state_names=tuple(f"{name}|{u}" for name in state_names for u in machine.names),
        action_names=mdp.action_names,
    )
    return product_mdp, jnp.asarray(reward.reshape(size, mdp.n_actions, size), product_mdp.dtype)


def shaping_potential(
    machine: RewardMachine, gamma: float, n_states: int | None = None
) -> np.ndarray:
    """Machine-state potential ``Φ(u) = V*(u)`` (see :meth:`RewardMachine.potential`).

    With ``n_states`` (the base MDP's ``S``) it is laid out over the product's states,
    ``Φ(s·U + u) = V*(u)``, ready for ``rv.shaping.potential_shaping(product_mdp, reward, Φ)``.
    """
    values = machine.potential(gamma)
    return values if n_states is None else np.tile(values, int(n_states))
