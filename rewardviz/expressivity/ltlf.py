"""LTLf: linear temporal logic on finite traces, parsed and compiled to a DFA by progression.

Syntax (loosest binding first): ``a -> b``; ``a | b``; ``a & b``; ``a U b``, ``a R b``
(right-associative); prefix ``!a``, ``X a`` (strong next: a next position exists and
``a`` holds there), ``WX a`` (weak next: if a next position exists, ``a`` holds there),
``F a`` (eventually), ``G a`` (always); ``true``, ``false``, parentheses, and
propositions named by identifiers (multi-character names allowed; ``X``, ``WX``, ``F``,
``G``, ``U``, ``R``, ``true``/``True``, ``false``/``False`` are reserved).
Semantics on non-empty finite traces follow De Giacomo & Vardi (IJCAI 2013).

Compilation uses formula progression (Bacchus & Kabanza 2000) in negation normal
form: a DFA state is what remains to be satisfied, kept as a disjunction of clauses
over obligations ``S(φ)`` ("a next position exists and φ holds from it") and ``W(φ)``
("if a next position exists, φ holds from it"). Obligations only ever wrap
subformulas of the input, and clauses are sets with absorption, so there are finitely
many states. A state accepts (the trace may end here) when some clause holds only
``W`` obligations. Written for this package; no external LTL tool is needed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rewardviz._deprecation import positional_options

__all__ = [
    "BINARY_TEMPORAL",
    "CONSTANTS",
    "MAX_PROPOSITIONS",
    "MAX_STATES",
    "UNARY",
    "Automaton",
    "FormulaError",
    "holds",
    "is_propositional",
    "negation_normal_form",
    "parse",
    "propositions",
    "to_automaton",
]

Formula = tuple
"""A formula as a nested tuple, e.g. ``("U", ("ap", "a"), ("ap", "b"))``."""

UNARY = {"!": "not", "X": "X", "WX": "WX", "F": "F", "G": "G"}
BINARY_TEMPORAL = {"U": "U", "R": "R"}
CONSTANTS = {"true": ("true",), "True": ("true",), "false": ("false",), "False": ("false",)}
MAX_STATES = 10_000
MAX_PROPOSITIONS = 12

_TOKEN = re.compile(r"\s*(->|WX|[()!&|]|[A-Za-z_][A-Za-z0-9_]*|\S)")


class FormulaError(ValueError):
    """A formula that does not parse; the message points at the position."""


def parse(text: str) -> Formula:
    """Parse an LTLf (or plain propositional) formula.

    Example:
        >>> rv.expressivity.ltlf.parse("F (coffee & X F office)")
        ('F', ('and', ('ap', 'coffee'), ('X', ('F', ('ap', 'office')))))
    """
    if not isinstance(text, str):
        raise TypeError(f"formula must be a string, got {type(text).__name__}.")
    tokens = [(m.group(1), m.start(1)) for m in _TOKEN.finditer(text) if m.group(1)]
    parser = _Parser(text, tokens)
    formula = parser.implication()
    if parser.position < len(tokens):
        token, where = tokens[parser.position]
        raise FormulaError(f"unexpected {token!r} at character {where} of {text!r}.")
    return formula


class _Parser:
    def __init__(self, text: str, tokens: list[tuple[str, int]]):
        self.text, self.tokens, self.position = text, tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self) -> str:
        if self.position >= len(self.tokens):
            raise FormulaError(f"formula {self.text!r} ends too early; an operand is missing.")
        self.position += 1
        return self.tokens[self.position - 1][0]

    def implication(self) -> Formula:
        left = self.disjunction()
        if self.peek() == "->":
            self.take()
            return ("or", ("not", left), self.implication())
        return left

    def disjunction(self) -> Formula:
        left = self.conjunction()
        while self.peek() == "|":
            self.take()
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self) -> Formula:
        left = self.temporal()
        while self.peek() == "&":
            self.take()
            left = ("and", left, self.temporal())
        return left

    def temporal(self) -> Formula:
        left = self.unary()
        if self.peek() in BINARY_TEMPORAL:
            return (BINARY_TEMPORAL[self.take()], left, self.temporal())
        return left

    def unary(self) -> Formula:
        token = self.peek()
        if token in UNARY:
            self.take()
            return (UNARY[token], self.unary())
        return self.atom()

    def atom(self) -> Formula:
        where = (
            self.tokens[self.position][1] if self.position < len(self.tokens) else len(self.text)
        )
        token = self.take()
        if token == "(":
            inner = self.implication()
            if self.peek() != ")":
                raise FormulaError(
                    f"missing ')' for the '(' at character {where} of {self.text!r}."
                )
            self.take()
            return inner
        if token in CONSTANTS:
            return CONSTANTS[token]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token) and token not in BINARY_TEMPORAL:
            return ("ap", token)
        raise FormulaError(f"unexpected {token!r} at character {where} of {self.text!r}.")


def propositions(formula: Formula) -> frozenset[str]:
    """The proposition names a formula mentions."""
    if formula[0] == "ap":
        return frozenset([formula[1]])
    return frozenset().union(
        *(propositions(part) for part in formula[1:] if isinstance(part, tuple))
    )


def is_propositional(formula: Formula) -> bool:
    """True when the formula has no temporal operator (a reward-machine edge label)."""
    if formula[0] in {"X", "WX", "F", "G", "U", "R"}:
        return False
    return all(is_propositional(part) for part in formula[1:] if isinstance(part, tuple))


def holds(formula: Formula, letter: Iterable[str]) -> bool:
    """Truth of a propositional formula when exactly the propositions in ``letter`` are true."""
    kind = formula[0]
    if kind == "ap":
        return formula[1] in letter
    if kind in ("true", "false"):
        return kind == "true"
    if kind == "not":
        return not holds(formula[1], letter)
    if kind == "and":
        return holds(formula[1], letter) and holds(formula[2], letter)
    if kind == "or":
        return holds(formula[1], letter) or holds(formula[2], letter)
    raise ValueError(f"{kind} is temporal; holds() takes propositional formulas only.")


# ---------------------------------------------------------------------------
# Negation normal form and progression.

_DUAL = {"and": "or", "or": "and", "X": "WX", "WX": "X", "F": "G", "G": "F", "U": "R", "R": "U"}


@positional_options("negate")
def negation_normal_form(formula: Formula, *, negate: bool = False) -> Formula:
    """Push negations down to propositions (``!X a = WX !a``, ``!(a U b) = !a R !b``, ...).

    ``negate=True`` gives the normal form of ``!formula``.
    """
    kind = formula[0]
    if kind == "not":
        return negation_normal_form(formula[1], negate=not negate)
    if kind == "ap":
        return ("not", formula) if negate else formula
    if kind in ("true", "false"):
        return {"true": ("false",), "false": ("true",)}[kind] if negate else formula
    operator = _DUAL[kind] if negate else kind
    return (operator, *(negation_normal_form(part, negate=negate) for part in formula[1:]))


_TRUE: frozenset = frozenset([frozenset()])  # one clause with no obligation
_FALSE: frozenset = frozenset()  # no clause


def _absorb(clauses: set) -> frozenset:
    """Drop clauses that contain another clause (they add nothing to the disjunction)."""
    ordered = sorted(clauses, key=len)
    kept: list[frozenset] = []
    for clause in ordered:
        if not any(other <= clause for other in kept):
            kept.append(clause)
    return frozenset(kept)


def _and(left: frozenset, right: frozenset) -> frozenset:
    return _absorb({a | b for a in left for b in right})


def _or(left: frozenset, right: frozenset) -> frozenset:
    return _absorb(set(left) | set(right))


def _obligation(kind: str, formula: Formula) -> frozenset:
    return frozenset([frozenset([(kind, formula)])])


def _progress(formula: Formula, letter: frozenset[str]) -> frozenset:
    """What must hold from the next position for ``formula`` to hold now, given ``letter``."""
    kind = formula[0]
    if kind == "true":
        return _TRUE
    if kind == "false":
        return _FALSE
    if kind == "ap":
        return _TRUE if formula[1] in letter else _FALSE
    if kind == "not":  # NNF: only in front of a proposition
        return _FALSE if formula[1][1] in letter else _TRUE
    if kind == "and":
        return _and(_progress(formula[1], letter), _progress(formula[2], letter))
    if kind == "or":
        return _or(_progress(formula[1], letter), _progress(formula[2], letter))
    if kind == "X":
        return _obligation("S", formula[1])
    if kind == "WX":
        return _obligation("W", formula[1])
    if kind == "F":
        return _or(_progress(formula[1], letter), _obligation("S", formula))
    if kind == "G":
        return _and(_progress(formula[1], letter), _obligation("W", formula))
    if kind == "U":
        later = _and(_progress(formula[1], letter), _obligation("S", formula))
        return _or(_progress(formula[2], letter), later)
    if kind == "R":
        later = _or(_progress(formula[1], letter), _obligation("W", formula))
        return _and(_progress(formula[2], letter), later)
    raise ValueError(f"unknown operator {kind!r}")


def _step(state: frozenset, letter: frozenset[str]) -> frozenset:
    result = _FALSE
    for clause in state:
        conjunction = _TRUE
        for _, obligation in clause:
            conjunction = _and(conjunction, _progress(obligation, letter))
        result = _or(result, conjunction)
    return result


def _accepts(state: frozenset) -> bool:
    return any(all(kind == "W" for kind, _ in clause) for clause in state)


@dataclass(frozen=True)
class Automaton:
    """A complete DFA over letters (sets of true propositions).

    Attributes:
        n_states: number of states; ``initial`` is the start (no letter read yet).
        accepting: per state, whether a trace may end there.
        table: ``(state, letter ∩ propositions) → next state``.
        propositions: the propositions the formula mentions; other ones are ignored.
        absorbing: per state, whether every letter leads back to it.
    """

    n_states: int
    initial: int
    accepting: tuple[bool, ...]
    table: dict
    propositions: frozenset[str]
    absorbing: tuple[bool, ...]

    def step(self, state: int, letter: Iterable[str]) -> int:
        key = (state, frozenset(letter) & self.propositions)
        if key not in self.table:
            raise ValueError(
                f"letter {sorted(key[1])} was not in the alphabet this automaton was built "
                "for; build it with alphabet=None (every combination) or include the letter."
            )
        return self.table[key]

    def accepts(self, trace: Iterable[Iterable[str]]) -> bool:
        """Whether the (non-empty) finite trace of letters satisfies the formula."""
        state = self.initial
        for letter in trace:
            state = self.step(state, letter)
        return self.accepting[state]


@positional_options("alphabet")
def to_automaton(
    formula: Formula | str, *, alphabet: Iterable[Iterable[str]] | None = None
) -> Automaton:
    """Compile an LTLf formula to a DFA accepting exactly its (non-empty) models.

    ``alphabet``: the letters to build transitions for (each a set of true
    propositions); by default every subset of the formula's propositions (refused
    beyond 12 propositions). Letters are reduced to the formula's propositions.

    Example:
        >>> dfa = rv.expressivity.ltlf.to_automaton("a U b")
        >>> dfa.accepts([{"a"}, {"a"}, {"b"}]), dfa.accepts([{"a"}, set()])
        (True, False)
    """
    formula = parse(formula) if isinstance(formula, str) else formula
    names = propositions(formula)
    if alphabet is None:
        if len(names) > MAX_PROPOSITIONS:
            raise ValueError(
                f"the formula has {len(names)} propositions, 2^{len(names)} letters; pass "
                "alphabet= with the letters that can occur (e.g. the MDP's state labels)."
            )
        ordered = sorted(names)
        letters = {
            frozenset(c)
            for r in range(len(ordered) + 1)
            for c in itertools.combinations(ordered, r)
        }
    else:
        letters = {frozenset(letter) & names for letter in alphabet}
    nnf = negation_normal_form(formula)
    start = _obligation("S", nnf)  # a trace is non-empty: position 0 must exist
    index, states, table = {start: 0}, [start], {}
    for position in itertools.count():  # breadth-first over reachable states
        if position >= len(states):
            break
        for letter in letters:
            target = _step(states[position], letter)
            if target not in index:
                if len(states) >= MAX_STATES:
                    raise ValueError(
                        f"the automaton exceeds {MAX_STATES} states; simplify the formula."
                    )
                index[target] = len(states)
                states.append(target)
            table[(position, letter)] = index[target]
    absorbing = tuple(
        all(table[(q, letter)] == q for letter in letters) for q in range(len(states))
    )
    return Automaton(len(states), 0, tuple(_accepts(s) for s in states), table, names, absorbing)
