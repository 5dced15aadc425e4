"""Group-relative advantages (GRPO-style), their attribution to rewards, and where rewards conflict.

Group-relative advantage (GRPO, Shao et al. 2024), for sample ``i`` of a group with
reward ``r``: ``A_i = (r_i − mean(r)) / (std(r) + ε)``, or ``r_i − mean(r)`` with
``normalize="mean"`` (Dr. GRPO, Liu et al. 2025). Scheme and normalisation names follow
TRL's ``GRPOTrainer``: ``"sum_then_normalize"`` and ``"normalize_then_sum"`` are its
``multi_objective_aggregation`` options (the second is GDPO, Liu et al. 2026), and
``normalize`` is its ``scale_rewards`` (``"std"``/``"group"``, ``"batch"``,
``"mean"``/``"none"``); ``"sum_of_normalized"`` standardises each reward within its group
and sums, with no batch step. The defaults match TRL: the sample standard deviation
(``ddof=1``) and ``ε = 1e-4`` added to it; the "batch" is every group of one training step.

Everything is computed over valid samples only; masked samples get advantage 0. A group
with fewer than two valid samples, or whose weighted reward is the same for every sample
(up to the rounding of the weighted sum, see :func:`degenerate_groups`), is
*degenerate*: summing the rewards first, it gives no learning signal, and its advantages
are exactly 0 where they would otherwise be rounding noise divided by ε (the ``ddof=1``
standard deviation of one sample is undefined, and its centred reward is 0 anyway). The
schemes that standardise each reward first can still draw a signal from such a group.

This module answers what advantage each sample gets (:func:`advantages`), how much of it
each reward contributes (:func:`attribution`), how many groups give no signal
(:func:`degenerate_groups`, :func:`degenerate_rate_by_step`) and whether rewards pull
against each other inside groups (:func:`sign_agreement`,
:func:`within_group_correlation`). It computes; it draws nothing.
"""

from __future__ import annotations

import dataclasses
import types
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, _deprecation
from rewardviz.groups import _common
from rewardviz.groups.group_rewards import GroupRewards

__all__ = [
    "NORMALIZATIONS",
    "NORMALIZATION_ALIASES",
    "SCHEMES",
    "DegenerateGroups",
    "DegenerateRates",
    "advantages",
    "attribution",
    "degenerate_groups",
    "degenerate_rate_by_step",
    "sign_agreement",
    "within_group_correlation",
]

#: Ways of combining several rewards into one advantage (see :func:`advantages`); the first
#: two are TRL's ``multi_objective_aggregation`` options, computed as TRL does.
SCHEMES = ("sum_then_normalize", "normalize_then_sum", "sum_of_normalized")
#: Normalisations of the group-centred reward: divide by the group's ``std + eps``, by the
#: batch's (all groups of the training step), or centre only (TRL's ``scale_rewards``).
NORMALIZATIONS = ("std", "batch", "mean")
#: TRL's ``scale_rewards`` spellings, accepted for ``normalize`` as these.
NORMALIZATION_ALIASES = types.MappingProxyType({"group": "std", "none": "mean"})


#: The options of :func:`advantages` and :func:`attribution`, in their former positional order.
_OPTIONS = ("scheme", "normalize", "ddof", "eps")


@_deprecation.positional_options(*_OPTIONS)
def advantages(
    group: GroupRewards,
    *,
    scheme: str = "sum_then_normalize",
    normalize: str = "std",
    ddof: int = 1,
    eps: float = 1e-4,
) -> jax.Array:
    """``[P, G]`` group-relative advantage of every sample (0 at masked samples).

    Notation: ``s_ik`` is the score of reward ``k`` for sample ``i``, ``w_k`` its weight;
    ``mean_G``, ``std_G`` are taken over the valid samples of the sample's group and
    ``mean_B``, ``std_B`` over the *batch*: every valid sample of every group at the
    same training step (:attr:`GroupRewards.step <rewardviz.groups.GroupRewards.step>`; all groups when no steps were given),
    as TRL sees one step's generations.

    ``scheme="sum_then_normalize"`` (TRL's default; GRPO): ``r_i = Σ_k w_k s_ik`` and
    ``A_i = (r_i − mean_G(r)) / (σ + ε)`` with

    * ``normalize="std"`` (TRL ``scale_rewards="group"``): ``σ = std_G(r)``;
    * ``normalize="batch"`` (TRL ``"batch"``): ``σ = std_B(r)``, the spread of the
      whole step's rewards; the mean is still the group's;
    * ``normalize="mean"`` (TRL ``"none"``; Dr. GRPO): no division, ``r_i − mean_G(r)``.

    ``scheme="normalize_then_sum"`` (TRL's ``multi_objective_aggregation=
    "normalize_then_sum"``; GDPO): each reward is standardised within its group,
    ``z_ik = (s_ik − mean_G(s_k)) / (std_G(s_k) + ε)``, the weighted sum
    ``R_i = Σ_k w_k z_ik`` is standardised over the batch:
    ``A_i = (R_i − mean_B(R)) / (std_B(R) + ε)``. As in TRL, ``normalize`` plays no
    part here: every value is accepted and gives this result, so a TRL configuration
    carries over unchanged. Decoupling keeps distinct reward combinations apart that
    summing first can map to the same advantage.

    ``scheme="sum_of_normalized"``: the per-reward standardisation without the batch
    step, ``A_i = Σ_k w_k (s_ik − mean_G(s_k)) / (σ_k + ε)`` with ``σ_k = std_G(s_k)``
    (``"std"``), ``std_B(s_k)`` (``"batch"``) or no division (``"mean"``). A reward with
    a small spread (a nearly saturated format check) weighs as much as a wide one. Not a
    TRL option.

    **Behaviour change:** before this release ``"normalize_then_sum"`` computed what is
    now ``"sum_of_normalized"`` (no batch step), which TRL's option of that name does
    not; ask for ``"sum_of_normalized"`` to keep the former numbers.

    With ``normalize="mean"`` the first and last schemes agree (both are
    ``r_i − mean_G(r)``). TRL's spellings ``"group"`` and ``"none"`` are accepted for
    ``"std"`` and ``"mean"``. ``std`` is the standard deviation with ``ddof`` (1: sample,
    TRL's through torch; 0: population), taken as 0 where undefined (one sample).

    Where a formula would divide rounding noise by ε the result is exactly 0: in a
    group of fewer than two valid samples; for a reward constant in its group (its
    ``z`` and centred scores); for a group whose weighted totals are equal up to
    rounding (``"sum_then_normalize"`` with ``"std"`` or ``"batch"``; the rule is in
    :func:`degenerate_groups`); for a group whose ``R`` is equal up to rounding
    (``"normalize_then_sum"``, the same rule with ``R``'s rounding bound). TRL does not
    zero these; its values there are that rounding noise over ``std + ε``.

    Sources: Shao et al. 2024 (DeepSeekMath, GRPO); Liu et al. 2025 (Dr. GRPO,
    "Understanding R1-Zero-like training"); Liu et al. 2026 (GDPO, "Group
    reward-Decoupled Normalization Policy Optimization", arXiv 2601.05242); TRL's
    ``GRPOTrainer`` documentation (``scale_rewards``, ``multi_objective_aggregation``).

    Example:
        >>> rv.groups.advantages(group, scheme="normalize_then_sum")
    """
    result = attribution(group, scheme=scheme, normalize=normalize, ddof=ddof, eps=eps)
    total = result.sum(axis=-1)
    _checks.no_overflow("the group's scores", total, "advantages (summed over rewards)")
    return total


@_deprecation.positional_options(*_OPTIONS)
def attribution(
    group: GroupRewards,
    *,
    scheme: str = "sum_then_normalize",
    normalize: str = "std",
    ddof: int = 1,
    eps: float = 1e-4,
) -> jax.Array:
    """``[P, G, K]`` each reward's part of each advantage; summing over ``K`` gives :func:`advantages`.

    Every scheme is linear in group-centred scores, so the decomposition is exact (the
    options and notation are those of :func:`advantages`):

    * sum then normalise: ``a_ik = w_k (s_ik − mean_G(s_k)) / (σ + ε)``, the shared
      denominator being the spread of the *weighted total* (``std_G(r)`` or
      ``std_B(r)``; no denominator for ``"mean"``);
    * sum of normalised: ``a_ik = w_k (s_ik − mean_G(s_k)) / (σ_k + ε)``;
    * normalise then sum (TRL, GDPO): ``a_ik = w_k (z_ik − mean_B(z_k)) /
      (std_B(R) + ε)``, which sums to TRL's ``A_i`` since ``mean_B(R) = Σ_k w_k
      mean_B(z_k)``. Each ``z_k`` is centred within every group, so ``mean_B(z_k)`` is
      0 in exact arithmetic and the parts are ``w_k z_ik / (std_B(R) + ε)``; its
      floating-point value (rounding noise) is not subtracted, so that a group without
      signal keeps exactly 0.

    Parts are never rounding noise divided by ε: where the denominator is the spread
    of a quantity that is constant up to rounding, the parts it divides are 0 (a
    degenerate group under sum-then-normalise with ``"std"`` or ``"batch"``, every
    part of it, even where rewards cancel each other sample by sample; a group whose
    ``R`` is constant under normalise-then-sum). With ``"mean"`` nothing is divided and
    the parts are the weighted centred scores, which in a degenerate group cancel.

    Example:
        >>> parts = rv.groups.attribution(group)
        >>> np.allclose(parts.sum(-1), rv.groups.advantages(group))
        True
    """
    _common.check_group(group)
    scheme, normalize, ddof, eps = _advantage_options(scheme, normalize, ddof, eps)
    result = _attribution(
        group.scores, group.mask, group.weights, group.step, ddof, eps, scheme, normalize
    )
    # Scores are finite (checked on construction); their weighted totals, deviations or
    # squares can still overflow float32 near 1e19..3e38.
    _checks.no_overflow("the group's scores", result, "weighted totals or squared deviations")
    return result


@dataclasses.dataclass(frozen=True, eq=False)
class DegenerateGroups:
    """Which groups carry no learning signal (:func:`degenerate_groups`).

    Attributes:
        total: ``[P]`` true where every valid sample has the same weighted reward up to
            rounding (or the group has fewer than two valid samples): all its advantages
            are 0 under sum-then-normalise.
        per_reward: ``[P, K]`` true where a reward's scores are exactly equal over the
            group's valid samples (or it has fewer than two).
        names: ``K`` reward names.
    """

    total: np.ndarray
    per_reward: np.ndarray
    names: tuple[str, ...]

    @property
    def fraction(self) -> float:
        """Fraction of groups whose total reward is degenerate."""
        return float(self.total.mean())

    @property
    def fraction_per_reward(self) -> np.ndarray:
        """``[K]`` fraction of groups in which each reward is constant."""
        return self.per_reward.mean(axis=0)

    def to_frame(self):
        """One row: the degenerate fraction overall (``total``) and per reward."""
        import pandas

        row = {
            "total": self.fraction,
            **dict(zip(self.names, self.fraction_per_reward, strict=True)),
        }
        return pandas.DataFrame([row], index=["degenerate fraction"])


def degenerate_groups(group: GroupRewards) -> DegenerateGroups:
    """Groups that give no learning signal: zero within-group variance, overall and per reward.

    Under GRPO every sample of such a group gets advantage 0, so the prompt is wasted
    compute (DAPO's dynamic sampling drops them). A group of one valid sample counts as
    degenerate.

    Equal *up to rounding*: a group's weighted totals ``r_i = Σ_k w_k s_ik`` count as
    equal when ``max_i r_i − min_i r_i ≤ 2 γ_K · max_i Σ_k |w_k s_ik|`` over its valid
    samples, with ``γ_K = K·u / (1 − K·u)`` and ``u`` the unit roundoff of the dtype the
    totals are computed in (``2⁻⁵³`` in float64, ``2⁻²⁴`` in float32). A ``K``-term
    inner product computed in any order errs by at most ``γ_K Σ_k |w_k s_ik|`` (Higham,
    *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1), so two totals
    that are equal in exact arithmetic never differ by more than the bound, and two
    that differ by more are different. Exact comparison would miss ties: weights
    ``(0.1, 0.1, 0.2)`` give scores ``(2, 3, 1)`` and ``(3, 0, 2)`` the totals ``0.7`` and
    ``0.7000000000000001`` in float64, and dividing that difference by the group's
    spread plus ε would give parts of 500 to 1500 in size for an advantage of about 0. A reward's own
    scores carry no rounding, so per reward the comparison is exact. :func:`advantages`,
    :func:`attribution` and :func:`~rewardviz.groups.length_correlation_drift` decide ties by this rule.

    Example:
        >>> rv.groups.degenerate_groups(group).to_frame()
    """
    _common.check_group(group)
    total, per_reward = _degenerate(group.scores, group.mask, group.weights)
    return DegenerateGroups(np.asarray(total), np.asarray(per_reward), group.names)


@dataclasses.dataclass(frozen=True, eq=False)
class DegenerateRates(_common.FormerFrame):
    """Fraction of degenerate groups per training step (:func:`degenerate_rate_by_step`).

    Attributes:
        steps: ``[S]`` training steps, sorted.
        rates: ``[S, K + 1]`` fraction of the step's groups whose weighted total is
            degenerate (column 0), then in which each reward is constant.
        names: ``K + 1`` column names: ``"total"``, then the reward names.
    """

    steps: np.ndarray
    rates: np.ndarray
    names: tuple[str, ...]

    FORMER = "degenerate_rate_by_step"

    def to_frame(self):
        """``pandas.DataFrame`` indexed by ``step``, one column per name."""
        import pandas

        return pandas.DataFrame(
            self.rates, index=pandas.Index(self.steps, name="step"), columns=list(self.names)
        )


def degenerate_rate_by_step(group: GroupRewards) -> DegenerateRates:
    """Fraction of degenerate groups (see :func:`degenerate_groups`) at each step, overall and per reward.

    Example:
        >>> rv.plots.degenerate_rate(rv.groups.degenerate_rate_by_step(group))
    """
    _common.check_group(group)
    steps, segment = _common.steps_of(group)
    total, per_reward = _degenerate(group.scores, group.mask, group.weights)
    values = jnp.concatenate([total[:, None], per_reward], axis=1).astype(group.scores.dtype)
    rate = _common.segment_mean(values, segment, len(steps))
    return DegenerateRates(steps=steps, rates=np.asarray(rate), names=("total", *group.names))


def sign_agreement(group: GroupRewards) -> jax.Array:
    """``[K, K]`` how often two rewards push a sample the same way, within its group.

    For rewards ``j`` and ``k``, over valid samples where both centred scores
    ``s_ij − mean_G(s_j)`` and ``s_ik − mean_G(s_k)`` are non-zero: the fraction with the
    same sign. 1 means the rewards always agree on which samples are above average, 0
    that they always disagree (conflict), about ½ that they are unrelated. A pair with no
    such sample gets 1 (no observed conflict); the diagonal is 1.
    """
    _common.check_group(group)
    return _sign_agreement(group.scores, group.mask)


def within_group_correlation(group: GroupRewards) -> jax.Array:
    """``[K, K]`` pooled within-group correlation of the rewards: the part advantages see.

    ``ρ_jk = Σ_p Σ_i c_pij c_pik / sqrt(Σ c_pij² · Σ c_pik²)`` with ``c`` the scores
    centred within their group (0 in degenerate groups). Between-prompt differences
    (easy versus hard prompts) cancel, unlike in a plain correlation over samples. A
    reward that never varies within a group has correlation 0 with every other (1 with
    itself).
    """
    _common.check_group(group)
    return _within_correlation(group.scores, group.mask)


# ---------------------------------------------------------------------------
# Jitted kernels on [P, G, ...] arrays.


def _standardised(scores, mask, weights, ddof, eps):
    """Per-reward ``w_k z_ik`` ``[P, G, K]`` of GDPO and the rounding bound ``[P]`` of ``R_i``.

    First-order bound on the rounding error of ``R_i = Σ_k w_k z_ik`` in a group of ``n``
    valid samples, with ``S_k`` the largest ``|s_ik|`` and ``d_k = std_G(s_k) + ε``: the
    mean errs by ``γ_{n+1} S_k``, so each centred score by ``γ_{n+3} S_k``; the standard
    deviation by ``5 γ_{n+3} S_k`` (``|c| ≤ 2 S_k``, ``σ ≤ 2√2 S_k``); ``|z| ≤ √n``, so
    ``z_ik`` errs by ``(1 + 5√n) γ_{n+3} S_k / d_k + 2u√n``, and the weighted sum adds
    ``γ_K √n |w_k|`` per reward. A reward constant in its group has ``z = 0`` exactly.
    """
    centred, std, constant = _common.centred(scores, mask, ddof)
    spread = std + eps
    terms = _divide(centred, spread[:, None, :]) * weights
    count = mask.sum(axis=1)[:, None]
    root = jnp.sqrt(count)
    largest = jnp.where(mask[..., None], jnp.abs(scores), 0).max(axis=1)
    dtype = terms.dtype
    gamma = _common.rounding_gamma
    per_reward = gamma(scores.shape[-1] + 2, dtype) * root + (1 + 5 * root) * gamma(
        count + 3, dtype
    ) * _divide(largest, spread)
    bound = jnp.where(constant, 0, jnp.abs(weights) * per_reward).sum(-1)
    return terms, bound


def _step_segments(step):
    """Each group's index ``[P]`` among the distinct training steps (at most ``P`` of them)."""
    _, segment = jnp.unique(step, return_inverse=True, size=step.shape[0])
    return segment.reshape(-1)


def _batch_std(values, mask, segment, ddof):
    """Standard deviation with ``ddof`` of ``values`` ``[P, G, ...]`` over each step's valid samples.

    Returned per group ``[P, ...]`` (each group gets its step's); 0 where undefined.
    """
    n_segments = values.shape[0]
    valid = mask.reshape(mask.shape + (1,) * (values.ndim - 2))
    count = jax.ops.segment_sum(mask.sum(axis=1), segment, n_segments)
    count = count.reshape(count.shape + (1,) * (values.ndim - 2))
    sums = jax.ops.segment_sum(jnp.where(valid, values, 0).sum(axis=1), segment, n_segments)
    mean = sums / jnp.maximum(count, 1)
    deviation = jnp.where(valid, values - mean[segment][:, None], 0)
    squares = jax.ops.segment_sum((deviation**2).sum(axis=1), segment, n_segments)
    dof = count - ddof
    std = jnp.where(dof > 0, jnp.sqrt(squares / jnp.maximum(dof, 1)), 0)
    return std[segment]


@partial(jax.jit, static_argnames=("scheme", "normalize"))
def _attribution(scores, mask, weights, step, ddof, eps, scheme, normalize):
    if scheme == "normalize_then_sum":
        terms, bound = _standardised(scores, mask, weights, ddof, eps)
        _, _, tied = _common.centred(terms.sum(-1), mask, ddof, bound)
        terms = jnp.where(tied[:, None, None], 0, terms)
        spread = _batch_std(terms.sum(-1), mask, _step_segments(step), ddof)
        return _divide(terms, spread[:, None, None] + eps)
    centred, std, _ = _common.centred(scores, mask, ddof)
    parts = centred * weights
    if normalize == "mean":
        return parts
    if scheme == "sum_of_normalized":
        if normalize == "batch":
            std = _batch_std(scores, mask, _step_segments(step), ddof)
        return _divide(parts, std[:, None, :] + eps)
    totals, bound = _common.totals(scores, mask, weights)
    _, spread, degenerate = _common.centred(totals, mask, ddof, bound)
    if normalize == "batch":
        spread = _batch_std(totals, mask, _step_segments(step), ddof)
    parts = jnp.where(degenerate[:, None, None], 0, parts)
    return _divide(parts, spread[:, None, None] + eps)


def _divide(numerator, denominator):
    # The denominator is 0 only with eps = 0 where every numerator it divides is 0 (a
    # degenerate group, a constant reward, a step without signal).
    positive = denominator > 0
    return jnp.where(positive, numerator / jnp.where(positive, denominator, 1), 0)


@jax.jit
def _degenerate(scores, mask, weights):
    totals, bound = _common.totals(scores, mask, weights)
    _, _, total = _common.centred(totals, mask, 0, bound)
    _, _, per_reward = _common.centred(scores, mask, 0)
    return total, per_reward


@jax.jit
def _sign_agreement(scores, mask):
    centred, _, _ = _common.centred(scores, mask, 0)
    # A sample at its group's mean has no side; under jit the mean may be off by an ulp
    # (x / n compiled as x * (1 / n)), so "at the mean" is decided to rounding.
    scale = jnp.abs(jnp.where(mask[..., None], scores, 0)).max(axis=1, keepdims=True)
    at_mean = jnp.abs(centred) <= 16 * jnp.finfo(scores.dtype).eps * scale
    sign = jnp.where(at_mean, 0, jnp.sign(centred)).reshape(-1, centred.shape[-1])
    both = jnp.einsum("nj,nk->jk", jnp.abs(sign), jnp.abs(sign), precision=_common.HIGHEST)
    same = jnp.einsum("nj,nk->jk", sign, sign, precision=_common.HIGHEST)  # +1 agree, −1 disagree
    agreement = jnp.where(both > 0, (both + same) / (2 * jnp.where(both > 0, both, 1)), 1)
    return jnp.where(jnp.eye(len(agreement), dtype=bool), 1, agreement)


def _pooled_correlation(first, second):
    """Correlation from centred ``first`` ``[N, J]`` and ``second`` ``[N, K]``; 0 if constant."""
    cross = jnp.einsum("nj,nk->jk", first, second, precision=_common.HIGHEST)
    norm_first = jnp.sqrt((first**2).sum(0))
    norm_second = jnp.sqrt((second**2).sum(0))
    spread = norm_first[:, None] * norm_second[None, :]
    return jnp.where(spread > 0, cross / jnp.where(spread > 0, spread, 1), 0)


@jax.jit
def _within_correlation(scores, mask):
    centred, _, _ = _common.centred(scores, mask, 0)
    flat = centred.reshape(-1, centred.shape[-1])
    correlation = jnp.clip(_pooled_correlation(flat, flat), -1, 1)
    return jnp.where(jnp.eye(len(correlation), dtype=bool), 1, correlation)


# ---------------------------------------------------------------------------
# Validation.


def _advantage_options(scheme, normalize, ddof, eps):
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {list(SCHEMES)}, got {scheme!r}.")
    if isinstance(normalize, str):
        normalize = NORMALIZATION_ALIASES.get(normalize, normalize)
    if not isinstance(normalize, str) or normalize not in NORMALIZATIONS:
        raise ValueError(
            f"normalize must be one of {list(NORMALIZATIONS)} (or TRL's spellings "
            f"{list(NORMALIZATION_ALIASES)}), got {normalize!r}."
        )
    if scheme == "normalize_then_sum":
        # TRL ignores scale_rewards in this branch; one compiled kernel serves every value.
        normalize = "std"
    if isinstance(ddof, bool) or np.ndim(ddof) != 0 or ddof not in (0, 1):
        raise ValueError(
            f"ddof must be 1 (sample standard deviation, TRL's default) or 0 (population), "
            f"got {ddof!r}."
        )
    eps = _checks.number("eps", eps)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number ≥ 0, got {eps!r}.")
    return scheme, normalize, int(ddof), eps
