"""Self-checks for the teaching sheets: each says right, wrong with a hint, or not answered yet.

A checker takes the exercise's MDP (first, as everywhere in rewardviz), the student's
answer and the rest of the exercise's data, computes the reference with the package's own
tools (shaping, distances, solvers, realisability), and returns a
:class:`Feedback` that a notebook displays as a coloured line. Answers are compared with
a tolerance, so a correct answer computed another way (a loop, another formula) passes.

    >>> mdp, reward = rv.envs.gridworld(["S.", ".G"])
    >>> rv.teaching.check_shaped_reward(mdp, None, reward, np.zeros(4))
    Feedback(status='unanswered', ...)
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rewardviz import distances, shaping, solve
from rewardviz._deprecation import mdp_first
from rewardviz.expressivity import RewardMachine, realize_soap
from rewardviz.expressivity.features import canonical_policies, occupancy_features
from rewardviz.mdp import TabularMDP

__all__ = [
    "Feedback",
    "check_certificate",
    "check_potential_based",
    "check_realisable_soap",
    "check_regret",
    "check_reward_machine",
    "check_same_task",
    "check_shaped_reward",
    "check_value_potential",
]

_COLOURS = {"right": "#009E73", "wrong": "#D55E00", "unanswered": "#0072B2"}
_SYMBOLS = {"right": "✔ Right", "wrong": "✘ Not yet", "unanswered": "… Not answered yet"}


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker: ``status`` is ``"right"``, ``"wrong"`` or ``"unanswered"``."""

    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "right"

    def __str__(self) -> str:
        return f"{_SYMBOLS[self.status]}: {self.message}"

    def __repr__(self) -> str:
        return f"Feedback(status={self.status!r}, message={self.message!r})"

    def _repr_html_(self) -> str:
        colour = _COLOURS[self.status]
        return (
            f'<div style="border-left: 4px solid {colour}; padding: 4px 10px;">'
            f'<b style="color: {colour}">{_SYMBOLS[self.status]}</b>: '
            f"{html.escape(self.message)}</div>"
        )


def _unanswered(answer) -> bool:
    return answer is None or answer is Ellipsis


def _right(message: str) -> Feedback:
    return Feedback("right", message)


def _wrong(hint: str) -> Feedback:
    return Feedback("wrong", hint)


def _array(answer, shape: tuple[int, ...], what: str) -> np.ndarray | Feedback:
    try:
        array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return _wrong(f"{what} should be an array of numbers of shape {shape}.")
    if array.shape != shape:
        return _wrong(f"{what} should have shape {shape}, yours has {array.shape}.")
    if not np.isfinite(array).all():
        return _wrong(f"{what} contains NaN or infinite entries.")
    return array


# ---------------------------------------------------------------------------
# Sheet 1: reward shaping.


@mdp_first
def check_shaped_reward(mdp: TabularMDP, answer, reward, potential) -> Feedback:
    """Is ``answer`` the potential-shaped reward ``R(s,a,s') + γΦ(s') − Φ(s)`` (Ng et al. 1999)?"""
    if _unanswered(answer):
        return Feedback("unanswered", "fill in `shaped` and run this cell again.")
    shape = (mdp.n_states, mdp.n_actions, mdp.n_states)
    answer = _array(answer, shape, "shaped")
    if isinstance(answer, Feedback):
        return answer
    expected = np.asarray(shaping.potential_shaping(mdp, reward, potential), np.float64)
    if np.allclose(answer, expected, atol=1e-5):
        return _right("that is R + γΦ(s') − Φ(s), with Φ = 0 at terminal states.")
    reward, potential = np.asarray(reward, np.float64), np.asarray(potential, np.float64)
    gamma = float(mdp.gamma)
    flipped = reward - gamma * potential[None, None, :] + potential[:, None, None]
    undiscounted = reward + potential[None, None, :] - potential[:, None, None]
    if np.allclose(answer, flipped, atol=1e-5):
        return _wrong("the sign is reversed: add γΦ(s') and subtract Φ(s).")
    if np.allclose(answer, undiscounted, atol=1e-5):
        return _wrong("multiply Φ(s') by γ = mdp.gamma.")
    terminal = np.asarray(mdp.terminal, bool)
    ignoring_terminal = reward + gamma * potential[None, None, :] - potential[:, None, None]
    if terminal.any() and np.allclose(answer, ignoring_terminal, atol=1e-5):
        return _wrong("a terminal state has potential 0: nothing follows it (Ng et al. 1999).")
    return _wrong("compare one entry by hand: shaped[s, a, s'] = R[s, a, s'] + γΦ[s'] − Φ[s].")


@mdp_first
def check_potential_based(
    mdp: TabularMDP, answer: Iterable[str], reward, candidates: dict
) -> Feedback:
    """Did the student name exactly the candidate rewards that are ``R`` plus potential shaping?"""
    if _unanswered(answer):
        return Feedback("unanswered", "set `potential_based` to a set of names and run again.")
    chosen = {answer} if isinstance(answer, str) else set(answer)
    unknown = chosen - set(candidates)
    if unknown:
        return _wrong(f"{sorted(unknown)} are not among the candidates {sorted(candidates)}.")
    truth = {
        name for name, r in candidates.items() if bool(shaping.is_potential_shaping(mdp, reward, r))
    }
    if chosen == truth:
        return _right(
            "these differ from R by γΦ(s') − Φ(s) exactly, so they keep every optimal policy."
        )
    missing, extra = truth - chosen, chosen - truth
    if extra:
        return _wrong(
            f"{sorted(extra)}: a bonus that pays again each time you come back is not "
            "a difference of potentials; try rv.shaping.fit_potential on it."
        )
    return _wrong(
        f"{sorted(missing)} is potential-based too: fit a potential and look at the residual."
    )


@mdp_first
def check_value_potential(mdp: TabularMDP, answer, reward) -> Feedback:
    """Is ``answer`` the potential ``Φ = V*`` that makes the shaped reward's greedy step optimal?"""
    if _unanswered(answer):
        return Feedback("unanswered", "set `best_potential` and run again.")
    answer = _array(answer, (mdp.n_states,), "best_potential")
    if isinstance(answer, Feedback):
        return answer
    values = np.asarray(solve.value_iteration(mdp, reward).values, np.float64)
    if np.allclose(answer, values, atol=1e-4):
        return _right(
            "with Φ = V*, the shaped Q* is Q* − V*: zero for optimal actions, negative otherwise."
        )
    if np.allclose(answer, -values, atol=1e-4):
        return _wrong("right magnitude, wrong sign: Φ = V*, not −V*.")
    return _wrong("the optimal state values V* = rv.solve.value_iteration(mdp, reward).values.")


# ---------------------------------------------------------------------------
# Sheet 2: distances and regret.


@mdp_first
def check_same_task(mdp: TabularMDP, answer: Iterable[str], reward, candidates: dict) -> Feedback:
    """Did the student name exactly the candidates with STARC-VAL distance 0 to ``reward``?"""
    if _unanswered(answer):
        return Feedback("unanswered", "set `same_task` to a set of names and run again.")
    chosen = {answer} if isinstance(answer, str) else set(answer)
    unknown = chosen - set(candidates)
    if unknown:
        return _wrong(f"{sorted(unknown)} are not among the candidates {sorted(candidates)}.")
    truth = {
        name for name, r in candidates.items()
        if float(distances.starc(mdp, reward, r, canonical="val")) < 1e-4
    }  # fmt: skip
    if chosen == truth:
        return _right("shaping, positive scaling and S'-redistribution never change the task.")
    extra = chosen - truth
    if extra:
        return _wrong(f"{sorted(extra)} changes which policies are best: check its regret.")
    return _wrong(f"{sorted(truth - chosen)} defines the same task: remember positive scaling.")


@mdp_first
def check_regret(mdp: TabularMDP, answer, true_reward, proxy_reward) -> Feedback:
    """Is ``answer`` the normalised regret of optimising ``proxy_reward`` under ``true_reward``?"""
    if _unanswered(answer):
        return Feedback("unanswered", "set `regret` to a number and run again.")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _wrong("regret is one number in [0, 1].")
    expected = float(distances.regret(mdp, true_reward, proxy_reward))
    if abs(value - expected) < 1e-3:
        return _right(f"regret {expected:.3f}: the share of the true reward's range lost.")
    flipped = float(distances.regret(mdp, proxy_reward, true_reward))
    if abs(value - flipped) < 1e-3:
        return _wrong(
            "you measured the proxy's loss; regret judges the proxy's policy by the true reward."
        )
    return _wrong(
        "optimise the proxy (rv.solve.optimal_policy), evaluate that policy on the true reward, "
        "and compare with the best and worst true returns."
    )


# ---------------------------------------------------------------------------
# Sheet 3: expressivity.


@mdp_first
def check_realisable_soap(mdp: TabularMDP, answer) -> Feedback:
    """Is the SOAP ``answer`` (deterministic policies) realisable, and non-trivial?"""
    if _unanswered(answer):
        return Feedback("unanswered", "set `my_soap` to a list of policies and run again.")
    try:
        policies = canonical_policies(mdp, answer, name="my_soap")
    except (TypeError, ValueError) as error:
        return _wrong(str(error))
    if len(np.unique(policies, axis=0)) == mdp.n_actions ** int((~np.asarray(mdp.terminal)).sum()):
        return _wrong("accepting every policy is trivially realisable; leave at least one out.")
    result = realize_soap(mdp, policies)
    if result.realizable is None:
        return _wrong(
            "this SOAP sits on the edge of realisability at float64 precision; choose one "
            "further from it.\n" + result.note
        )
    if result.realizable:
        return _right(f"realisable, margin {result.margin:.3g}: the LP found a reward for it.")
    return _wrong(
        "no Markov reward realises it; the certificate says why:\n" + result.certificate.identity
    )


@mdp_first
def check_certificate(mdp: TabularMDP, answer: dict, acceptable) -> Feedback:
    """Do the coefficients ``{policy label: c}`` give ``Σ c·V = 0`` for every reward, and is it a proof?

    The identity must hold (checked on occupancy measures) and put positive weight on
    acceptable policies only and negative weight on unacceptable ones.
    """
    if _unanswered(answer):
        return Feedback("unanswered", "set `coefficients` to a dict {policy label: number}.")
    if not isinstance(answer, dict) or not answer:
        return _wrong("coefficients should be a non-empty dict like {'a1,a2': 1, ...}.")
    names = mdp.action_names or tuple(str(a) for a in range(mdp.n_actions))
    try:
        policies = np.array([[names.index(a) for a in label.split(",")] for label in answer])
    except ValueError:
        return _wrong(f"labels name one action per state, from {names}, joined by commas.")
    coefficients = np.array(list(answer.values()), np.float64)
    phi = occupancy_features(mdp, np.eye(mdp.n_actions)[canonical_policies(mdp, policies)])
    if np.abs(coefficients @ phi).max() > 1e-8 * max(1.0, np.abs(coefficients).sum()):
        return _wrong(
            "that combination is not zero for every reward: compare the state-action pairs each policy visits."
        )
    good = {tuple(p) for p in canonical_policies(mdp, acceptable)}
    signs_ok = all(
        (tuple(p) in good) == (c > 0) for p, c in zip(policies, coefficients, strict=True) if c
    )
    if not signs_ok:
        return _wrong(
            "the identity holds, but to prove unrealisability the acceptable policies need the positive signs."
        )
    return _right(
        "acceptable values minus unacceptable values is 0 for every reward, yet the task needs it > 0."
    )


def check_reward_machine(answer: str, traces: dict) -> Feedback:
    """Does the machine text ``answer`` pay the expected total on each trace?

    ``traces`` maps a description to ``(trace, expected total)``, a trace being a list of
    label sets.
    """
    if _unanswered(answer):
        return Feedback("unanswered", "set `machine_text` to the machine in the text format.")
    try:
        # The lab sheet's machines wait in place when no formula holds.
        machine = RewardMachine.from_text(answer, on_no_match="stay")
    except ValueError as error:
        return _wrong(f"the text does not parse: {error}")
    for description, (trace, expected) in traces.items():
        try:
            _, total = machine.run(trace)
        except ValueError as error:
            return _wrong(str(error))
        if abs(total - expected) > 1e-9:
            return _wrong(
                f"on {description} your machine pays {total:g}, the task pays {expected:g}."
            )
    return _right("your machine pays the task's reward on every test trace.")
