"""The one linear program behind every realisability check, and its Farkas certificate.

Given feature differences ``D`` (rows that must score strictly positive) and ``E``
(rows that must score exactly zero), find a bounded reward ``r`` maximising the margin

    max ε  s.t.  D r ≥ ε,  E r = 0,  −1 ≤ r ≤ 1.

The system is homogeneous, so ``ε* > 0`` exactly when some reward satisfies the
strict order. When ``ε* = 0``, Farkas' lemma gives weights ``λ ≥ 0`` (``Σλ = 1``) and
``μ`` with ``Dᵀλ + Eᵀμ = 0``: a combination of the required comparisons that is
identically zero for every reward, yet would have to be positive. We solve for that
combination directly and check it, so "not realisable" always comes with a proof
that can be re-verified.

In float64 a third answer exists: the margin is positive but too small to trust
(at most ``MARGIN_TOLERANCE`` of the feature scale) and no certificate can be found
or checked either — the task sits on the edge of realisability at this precision. That
case is reported as undecided (``realizable=None``) with the margin and reward found
and a note, never as an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

MARGIN_TOLERANCE = 1e-9
"""Margins at or below this (relative to the feature scale) count as zero."""

RESIDUAL_TOLERANCE = 1e-8
"""A certificate is accepted when ``‖Dᵀλ + Eᵀμ‖∞`` is below this times the feature scale."""


@dataclass(frozen=True)
class MarginSolution:
    """Outcome of :func:`max_margin`: a reward and margin, Farkas weights, or undecided.

    ``realizable`` is True (reward and margin), False (Farkas weights) or None: undecided
    at float64 precision, with the best reward and margin found and a ``note`` saying why.
    """

    realizable: bool | None
    margin: float
    reward: np.ndarray | None  # [d], |r| ≤ 1
    strict_weights: np.ndarray | None  # λ [m]
    tie_weights: np.ndarray | None  # μ [k]
    residual: float
    note: str = ""


def max_margin(strict: np.ndarray, ties: np.ndarray, free: int = 0) -> MarginSolution:
    """Solve the margin LP for strict rows ``strict[m, d]`` and tie rows ``ties[k, d]``.

    The last ``free`` columns are unbounded auxiliary variables (a value threshold),
    the others reward entries bounded by 1.
    """
    m, d = strict.shape
    scale = max(1.0, float(np.abs(strict).max(initial=0)), float(np.abs(ties).max(initial=0)))
    used = (np.abs(strict).sum(0) + np.abs(ties).sum(0)) > 0
    if m == 0:  # nothing strict to satisfy: the zero reward meets every tie
        return MarginSolution(True, np.inf, np.zeros(d), None, None, 0.0)
    # Variables [r (d), ε]; minimise −ε. Features no comparison uses get r = 0.
    objective = np.zeros(d + 1)
    objective[-1] = -1.0
    upper = np.hstack([-strict, np.ones((m, 1))])
    equality = np.hstack([ties, np.zeros((len(ties), 1))]) if len(ties) else None
    bounds = [(-1.0, 1.0) if flag else (0.0, 0.0) for flag in used[: d - free]]
    bounds += [(None, None)] * free + [(None, 2 * scale * d)]
    result = linprog(
        objective,
        A_ub=upper,
        b_ub=np.zeros(m),
        A_eq=equality,
        b_eq=np.zeros(len(ties)) if len(ties) else None,
        bounds=bounds,
        method="highs",
    )
    if result.status != 0 or result.x is None:
        # The LP is always feasible (r = 0, ε = 0) and bounded, so this is the solver
        # giving up numerically; say so instead of guessing.
        return MarginSolution(
            None, 0.0, None, None, None, np.inf,
            note=f"the margin LP did not solve ({result.message}); the task is undecided.",
        )  # fmt: skip
    reward, margin = result.x[:d], float(result.x[-1])
    # Report the margin the reward really achieves, not the solver's objective.
    achieved = float((strict @ reward).min())
    if margin > MARGIN_TOLERANCE * scale:
        return MarginSolution(True, achieved, reward, None, None, 0.0)
    certificate = _farkas(strict, ties, scale)
    if certificate.realizable is None:
        return MarginSolution(
            None, achieved, reward, None, None, certificate.residual,
            note=(
                f"the largest margin found, {achieved:.4g}, is below the tolerance "
                f"{MARGIN_TOLERANCE * scale:.4g} (MARGIN_TOLERANCE × feature scale), and "
                f"{certificate.note} The task sits on the edge of realisability in float64: "
                "the reward found is a candidate, not a verified answer. Rescaling the "
                "rewards' features (e.g. a γ further from 1, or transition probabilities "
                "further from 0 and 1) may decide it."
            ),
        )  # fmt: skip
    return certificate


def _farkas(strict: np.ndarray, ties: np.ndarray, scale: float) -> MarginSolution:
    """Find ``λ ≥ 0, Σλ = 1, μ`` with ``Dᵀλ + Eᵀμ = 0`` (a vertex, hence sparse).

    Returns an undecided solution (``realizable=None``, ``note`` set) when no such
    combination exists or the one found does not check out.
    """
    m, d = strict.shape
    k = len(ties)
    # Variables [λ (m), μ⁺ (k), μ⁻ (k)]; minimising Σμ± keeps the tie weights small.
    equality = np.vstack(
        [np.hstack([strict.T, ties.T, -ties.T]), np.hstack([np.ones(m), np.zeros(2 * k)])]
    )
    target = np.zeros(d + 1)
    target[-1] = 1.0
    cost = np.hstack([np.zeros(m), np.ones(2 * k)])
    result = linprog(cost, A_eq=equality, b_eq=target, bounds=(0, None), method="highs")
    if result.status != 0 or result.x is None:
        return MarginSolution(
            None, 0.0, None, None, None, np.inf, note="no Farkas certificate exists."
        )
    weights = result.x[:m]
    tie_weights = result.x[m : m + k] - result.x[m + k :]
    residual = float(np.abs(strict.T @ weights + ties.T @ tie_weights).max())
    if residual > RESIDUAL_TOLERANCE * scale:
        return MarginSolution(
            None, 0.0, None, None, None, residual,
            note=f"the only certificate found has residual {residual:.3g}, too large to trust.",
        )  # fmt: skip
    return MarginSolution(False, 0.0, None, weights, tie_weights, residual)
