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
    "check_advantage_reward",
    "check_certificate",
    "check_goal_avoiding_shift",
    "check_indistinguishable",
    "check_potential_based",
    "check_realisable_soap",
    "check_regret",
    "check_reward_machine",
    "check_same_task",
    "check_segment_regret",
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


# ---------------------------------------------------------------------------
# Sheet 4: reward learning from preferences.


def _optimal_advantage(mdp: TabularMDP, reward) -> np.ndarray:
    """``A*(s, a) = Q*(s, a) − V*(s)``, ``[S, A]``; 0 in terminal states, where nothing follows."""
    result = solve.value_iteration(mdp, reward)
    q = np.asarray(result.q_values, np.float64)
    values = np.asarray(result.values, np.float64)
    return np.where(np.asarray(mdp.terminal)[:, None], 0.0, q - values[:, None])


def _segments(mdp: TabularMDP, states, actions, mask):
    """Integer states ``[..., k + 1]``, actions ``[..., k]`` and a boolean mask ``[..., k]``."""
    states, actions = np.asarray(states, np.int64), np.asarray(actions, np.int64)
    if states.shape[:-1] != actions.shape[:-1] or states.shape[-1] != actions.shape[-1] + 1:
        raise ValueError(
            f"states [..., k + 1] and actions [..., k] do not match: {states.shape}, "
            f"{actions.shape}."
        )
    if mask is None:
        # Steps taken from a terminal state are padding: nothing happens after the end.
        mask = ~np.asarray(mdp.terminal)[states[..., :-1]]
    return states, actions, np.asarray(mask, bool)


def _segment_regrets(advantage: np.ndarray, states, actions, mask) -> np.ndarray:
    """Regret of each segment, ``Σ_t (V*(s_t) − Q*(s_t, a_t))`` over its valid steps."""
    return -(advantage[states[..., :-1], actions] * mask).sum(-1)


def _segment_returns(reward: np.ndarray, states, actions, mask) -> np.ndarray:
    """Partial return of each segment, ``Σ_t r(s_t, a_t, s_{t+1})`` over its valid steps."""
    return (reward[states[..., :-1], actions, states[..., 1:]] * mask).sum(-1)


def check_segment_regret(mdp: TabularMDP, answer, reward, states, actions, mask=None) -> Feedback:
    """Is ``answer`` the regret ``Σ_t (V*(s_t) − Q*(s_t, a_t))`` of one segment (Knox et al. 2022)?

    ``states`` ``[k + 1]`` and ``actions`` ``[k]`` are the segment; ``mask`` ``[k]`` marks
    its steps taken before reaching a terminal state (by default, those from non-terminal
    states). ``V*`` and ``Q*`` are those of ``reward``, exact.
    """
    if _unanswered(answer):
        return Feedback("unanswered", "set `segment_regret` to a number and run again.")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _wrong("the regret of a segment is one number.")
    states, actions, mask = _segments(mdp, states, actions, mask)
    advantage = _optimal_advantage(mdp, reward)
    expected = float(_segment_regrets(advantage, states, actions, mask))
    tol = 1e-4 * max(1.0, abs(expected))
    if abs(value - expected) < tol:
        return _right(
            f"regret {max(expected, 0.0):.4f}: what the segment's actions lost against the best action, "
            "step by step."
        )
    if abs(value + expected) < tol:
        return _wrong("the sign is reversed: each step's regret V*(s) − Q*(s, a) is ≥ 0.")
    gamma = float(mdp.gamma)
    discounted = -float(
        (gamma ** np.arange(actions.shape[-1]) * advantage[states[:-1], actions] * mask).sum()
    )
    if abs(value - discounted) < tol:
        return _wrong("the regret model adds the per-step regrets without discounting them.")
    partial = float(_segment_returns(np.asarray(reward, np.float64), states, actions, mask))
    if abs(value - partial) < tol or abs(value + partial) < tol:
        return _wrong(
            "that is the segment's partial return; regret compares each action with the best "
            "one in its state."
        )
    return _wrong(
        "take V* and Q* from rv.solve.value_iteration(mdp, reward) and add "
        "V*(s_t) − Q*(s_t, a_t) over the segment's steps."
    )


def check_advantage_reward(mdp: TabularMDP, answer, reward) -> Feedback:
    """Is ``answer`` (``[S, A]``) the reward whose partial return is minus the regret?

    That reward is the optimal advantage ``A*(s, a) = Q*(s, a) − V*(s)`` of ``reward``
    (Knox et al. 2023, "Learning optimal advantage from preferences and mistaking it for
    reward"); terminal states' rows are not judged (no segment step starts there).
    """
    if _unanswered(answer):
        return Feedback("unanswered", "set `advantage` to an [S, A] array and run again.")
    answer = _array(answer, (mdp.n_states, mdp.n_actions), "advantage")
    if isinstance(answer, Feedback):
        return answer
    live = ~np.asarray(mdp.terminal)
    expected = _optimal_advantage(mdp, reward)
    result = solve.value_iteration(mdp, reward)
    q = np.asarray(result.q_values, np.float64)
    tol = 1e-4 * max(1.0, float(np.abs(q).max()))

    def close(candidate) -> bool:
        return bool(np.allclose(answer[live], candidate[live], atol=tol, rtol=0))

    if close(expected):
        return _right(
            "A* = Q* − V*: 0 for the best actions, negative for the others, so a segment's "
            "partial return under A* is minus its regret."
        )
    if close(-expected):
        return _wrong("the sign is reversed: low regret should mean a high return.")
    if close(q):
        return _wrong("that is Q*; the regret compares it with the best action's value V*(s).")
    offset = answer[live] - expected[live]
    if np.ptp(offset) < tol:
        return _wrong(
            f"every entry is off by the same {offset.mean():.3g}; a segment's return would be "
            "off by k times that, not equal to minus its regret."
        )
    return _wrong("start from rv.solve.value_iteration(mdp, reward): its q_values and values.")


def check_indistinguishable(
    mdp: TabularMDP, answer: Iterable[str], reward, candidates: dict, states, actions, mask=None
) -> Feedback:
    """Did the student name exactly the candidates that explain regret labels perfectly?

    A candidate explains the pairs ``states`` ``[n, 2, k + 1]``, ``actions`` ``[n, 2, k]``
    perfectly under the partial-return model when, for every pair, its return difference
    ``G(σ0) − G(σ1)`` equals the regret difference ``regret(σ1) − regret(σ0)`` of
    ``reward``: then ``sigmoid(ΔG/β)`` is the regret model's probability at every ``β``
    (Knox et al. 2022), and no amount of such data tells the two rewards apart.
    """
    if _unanswered(answer):
        return Feedback("unanswered", "set `indistinguishable` to a set of names and run again.")
    chosen = {answer} if isinstance(answer, str) else set(answer)
    unknown = chosen - set(candidates)
    if unknown:
        return _wrong(f"{sorted(unknown)} are not among the candidates {sorted(candidates)}.")
    states, actions, mask = _segments(mdp, states, actions, mask)
    regrets = _segment_regrets(_optimal_advantage(mdp, reward), states, actions, mask)
    target = regrets[..., 1] - regrets[..., 0]
    tol = 1e-4 * max(1.0, float(np.abs(target).max()))
    truth = set()
    for name, candidate in candidates.items():
        returns = _segment_returns(np.asarray(candidate, np.float64), states, actions, mask)
        if np.allclose(returns[..., 0] - returns[..., 1], target, atol=tol, rtol=0):
            truth.add(name)
    if chosen == truth:
        return _right(
            "these give every pair exactly the regret model's probability: preference data "
            "cannot tell them apart, yet they need not be the same task."
        )
    extra, missing = chosen - truth, truth - chosen
    if extra:
        return _wrong(
            f"{sorted(extra)}: compare its return differences with the regret differences on "
            "a few pairs; with β fixed, a difference scaled by any factor changes the probability."
        )
    return _wrong(
        f"{sorted(missing)} explains the labels too: every segment here has the same number of "
        "steps; what does that do to a return difference?"
    )


def check_goal_avoiding_shift(mdp: TabularMDP, answer, reward) -> Feedback:
    """Is ``answer`` a constant ``c`` such that optimising ``A* + c`` never ends an episode?

    ``A*`` is ``reward``'s optimal advantage; ``A* + c`` explains fixed-length preference
    pairs exactly as well as ``A*`` (a constant per step cancels in return differences), but
    a constant per step is not potential shaping in an episodic task: a large enough bonus
    makes staying alive pay more than finishing. Judged by the optimal policy (uniform over
    ties) of ``A* + c`` from ``mdp.initial``: it must never enter a terminal state.
    """
    if _unanswered(answer):
        return Feedback("unanswered", "set `shift` to a number and run again.")
    try:
        shift = float(answer)
    except (TypeError, ValueError):
        return _wrong("the shift is one number c, added to A* on every step.")
    if not np.isfinite(shift):
        return _wrong("the shift must be a finite number.")
    terminal = np.asarray(mdp.terminal)
    if not terminal.any():
        return _wrong("this MDP has no terminal state: every episode goes on forever anyway.")
    shifted = np.broadcast_to(
        (_optimal_advantage(mdp, reward) + shift)[..., None], np.shape(reward)
    )
    policy = solve.optimal_policy(mdp, np.asarray(shifted, np.asarray(reward).dtype))
    # The discounted probability of finishing: the return of 1 paid on entering a terminal state.
    finishing = np.broadcast_to(terminal[None, None, :].astype(np.float64), np.shape(reward))
    finishes = float(
        solve.policy_return(mdp, np.asarray(finishing, np.asarray(reward).dtype), policy)
    )
    if finishes < 1e-6:
        lost = float(distances.regret(mdp, reward, shifted))
        return _right(
            f"with c = {shift:g} the agent never finishes (regret {lost:.2f}), yet no "
            "fixed-length preference pair can tell A* + c from A*."
        )
    if shift < 0:
        return _wrong(
            "a negative constant is a cost per step: it makes finishing more attractive, not "
            "less. Try a bonus for every step."
        )
    if shift == 0:
        return _wrong("c = 0 leaves A*, whose best actions are the true task's. Try a bonus.")
    return _wrong(
        "the agent still finishes: the bonus per step must pay for the detours it takes to "
        "avoid the goal. Try a larger c."
    )
