"""Self-checks for the teaching sheets: each says right, wrong with a hint, or not answered yet.

A checker takes the exercise's MDP (first, as everywhere in rewardviz), the student's
answer and the rest of the exercise's data, computes the reference with the package's own
tools (shaping, distances, solvers, realisability), and returns a
:class:`Feedback` that a notebook displays as a coloured line. Answers are compared with
a tolerance, so a correct answer computed another way (a loop, another formula) passes.

A hint nudges: it says what is wrong with the answer given (a name chosen wrongly is
named, with what sets it apart), never the answer itself; a name left out is described,
not named.

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
    terminal = np.asarray(mdp.terminal, bool)
    # Each slip with and without the terminal states' potential set to 0: a learner who
    # reverses a sign may or may not have handled terminal states.
    potentials = (np.where(terminal, 0.0, potential), potential)
    for phi in potentials:
        if np.allclose(answer, reward - gamma * phi[None, None, :] + phi[:, None, None], atol=1e-5):
            return _wrong(
                "the sign is reversed: compare shaped − reward on one transition with "
                "γΦ(s') − Φ(s)."
            )
        if np.allclose(answer, reward + phi[None, None, :] - phi[:, None, None], atol=1e-5):
            return _wrong("multiply Φ(s') by γ = mdp.gamma.")
    ignoring_terminal = reward + gamma * potential[None, None, :] - potential[:, None, None]
    if terminal.any() and np.allclose(answer, ignoring_terminal, atol=1e-5):
        return _wrong(
            "look at the transitions into the goal: what is the potential of a state after "
            "which nothing follows?"
        )
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
            " ".join(_not_shaping_hint(mdp, reward, n, candidates[n]) for n in sorted(extra))
        )
    return _wrong(
        f"{_count(missing, 'candidate')} you left out {_is_are(missing)} potential shaping "
        "too: fit a potential to each of the others (rv.shaping.fit_potential) and look at "
        "what it leaves unexplained."
    )


def _not_shaping_hint(mdp: TabularMDP, reward, name: str, candidate) -> str:
    """Why the candidate ``name`` is not ``reward`` plus potential shaping."""
    fit = shaping.fit_potential(mdp, reward, candidate, fit_scale=True)
    if bool(shaping.is_potential_shaping(mdp, reward, candidate, fit_scale=True)):
        return (
            f"{name!r} is reward multiplied by {float(fit.scale):.3g} (shaped or not): "
            "potential shaping adds γΦ(s') − Φ(s) to reward and leaves reward itself as it is."
        )
    residual = float(shaping.fit_potential(mdp, reward, candidate).residual)
    return (
        f"{name!r}: no potential explains it; rv.shaping.fit_potential(mdp, reward, "
        f"candidates[{name!r}]) leaves a residual of {residual:.2g}. Does it pay again "
        "when the agent comes back to where it was?"
    )


def _count(names: set, noun: str) -> str:
    return f"one {noun}" if len(names) == 1 else f"{len(names)} {noun}s"


def _is_are(names: set) -> str:
    return "is" if len(names) == 1 else "are"


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
        return _wrong(
            "right size, wrong sign: should Φ be high or low in the states from which the "
            "goal is easy to reach?"
        )
    return _wrong(
        "with your Φ the expected shaped reward of a best action is not 0 in every state: "
        "write E[R + γΦ(S') − Φ(s)] for the best action in s and compare it with the "
        "Bellman optimality equation."
    )


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
    extra, missing = chosen - truth, truth - chosen
    if extra:
        return _wrong(
            " ".join(_other_task_hint(mdp, reward, n, candidates[n]) for n in sorted(extra))
        )
    return _wrong(" ".join(_same_task_hint(mdp, reward, candidates[n]) for n in sorted(missing)))


def _other_task_hint(mdp: TabularMDP, reward, name: str, candidate) -> str:
    """Why the candidate ``name`` does not define the task of ``reward``."""
    negative = -np.asarray(reward)
    if float(distances.starc(mdp, negative, candidate, canonical="val")) < 1e-4:
        return (
            f"{name!r} orders the policies in reverse: the best policy under reward is the "
            "worst under it. Which factors keep the order?"
        )
    return (
        f"{name!r} is not reward rescaled, shaped or redistributed over next states: it "
        "orders some policies differently. Compare the optimal policies of the two."
    )


def _same_task_hint(mdp: TabularMDP, reward, candidate) -> str:
    """What makes a candidate left out the same task as ``reward``, without naming it."""
    transitions = np.asarray(mdp.transitions, np.float64)
    live = ~np.asarray(mdp.terminal)  # nothing is earned from a terminal state
    expected = (transitions * np.asarray(reward, np.float64)).sum(-1)[live]
    candidate_expected = (transitions * np.asarray(candidate, np.float64)).sum(-1)[live]
    # Rewards may be float32: a tolerance relative to their scale.
    tol = 1e-5 * max(1.0, float(np.abs(expected).max(initial=0.0)))
    if np.allclose(candidate_expected, expected, atol=tol, rtol=0):
        return (
            "A candidate you left out has the same expected reward E[R(s, a, S')] as reward "
            "in every state and action: can moving reward between next states change a "
            "policy's value?"
        )
    return (
        "A candidate you left out is reward scaled by a positive factor and shaped: does "
        "either change which policies are best?"
    )


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
    if abs(value - (1.0 - expected)) < 1e-3:
        return _wrong("that is the share of the range kept; regret is the share lost.")
    start = np.asarray(mdp.initial, np.float64)
    best = float(start @ np.asarray(solve.value_iteration(mdp, true_reward).values, np.float64))
    worst = -float(
        start @ np.asarray(solve.value_iteration(mdp, -np.asarray(true_reward)).values, np.float64)
    )
    if abs(value - expected * (best - worst)) < 1e-3 * max(1.0, best - worst):
        return _wrong("that is the return lost; normalise it by the range of true returns.")
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
    # Not the certificate: it is the answer of the next exercise.
    return _wrong(
        "no Markov reward puts exactly these policies on top. A Markov reward scores each "
        "state and action on its own: choose the policies by what they do in one state, not "
        "by how their actions combine."
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
        return _wrong(
            "that is Q*: a step's regret compares the action taken with the best action in "
            "the same state, so the best actions should score 0."
        )
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
    returns = {
        name: _segment_returns(np.asarray(candidate, np.float64), states, actions, mask)
        for name, candidate in candidates.items()
    }
    truth = {
        name
        for name, g in returns.items()
        if np.allclose(g[..., 0] - g[..., 1], target, atol=tol, rtol=0)
    }
    if chosen == truth:
        return _right(
            "these give every pair exactly the regret model's probability: preference data "
            "cannot tell them apart, yet they need not be the same task."
        )
    extra, missing = chosen - truth, truth - chosen
    if extra:
        hints = []
        for name in sorted(extra):
            difference = returns[name][..., 0] - returns[name][..., 1]
            factor = float(difference @ target / max(float(target @ target), 1e-300))
            if np.allclose(difference, factor * target, atol=tol, rtol=0):
                hints.append(
                    f"{name!r} gives return differences {factor:.3g} times the regret "
                    "differences: with β fixed, does a scaled difference give the same "
                    "probability?"
                )
            else:
                hints.append(
                    f"{name!r}: its return differences do not follow the regret differences; "
                    "compare them on a few pairs."
                )
        return _wrong(" ".join(hints))
    hints = []
    for name in sorted(missing):
        if np.allclose(returns[name], -regrets, atol=tol, rtol=0):
            hints.append(
                "A candidate you left out has a partial return equal to minus the regret of "
                "every segment."
            )
        else:
            hints.append(
                "A candidate you left out misses minus the regret by the same amount on both "
                "segments of every pair: every segment here has the same number of steps; "
                "what does that do to a return difference?"
            )
    return _wrong(" ".join(hints))


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
