"""Reward transforms from the literature, as pure functions on score arrays.

Each function takes the scores of a batch (and a mask for ragged groups) and returns new
scores of the same shape, for :meth:`~rewardviz.groups.GroupRewards.with_reward` and
:func:`~rewardviz.groups.transform_effects`: bounded preference rewards
(:func:`preference_as_reward`), process-reward clipping and differencing
(:func:`clip_process_rewards`, :func:`delta_process_rewards`), group-relative length
rewards (:func:`length_penalty`, :func:`gated_length_penalty`), outcome-gated dense
rewards (:func:`gated_accumulation`) and difficulty-weighted unit tests
(:func:`difficulty_weighted_pass`). Each docstring gives the formula and its paper, and
says where our form is a reading of the paper not checked against the authors' code.

This module transforms arrays; it knows nothing of advantages or of :class:`~rewardviz.groups.GroupRewards`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, _deprecation
from rewardviz.groups import _common

__all__ = [
    "clip_process_rewards",
    "delta_process_rewards",
    "difficulty_weighted_pass",
    "gated_accumulation",
    "gated_length_penalty",
    "length_penalty",
    "preference_as_reward",
]


def preference_as_reward(reward, reference) -> jax.Array:
    """Preference As Reward (PAR, Fu et al. 2025): ``sigmoid(r − r_ref)``.

    A bounded, centred reward: ``reward`` minus the reward of a reference response,
    squashed into ``(0, 1)``. It grows fastest near the reference and saturates, so
    pushing a learned reward model far above the reference earns almost nothing
    ("Reward shaping to mitigate reward hacking in RLHF", arXiv 2502.18770). The paper
    averages over several reference responses: pass ``reference[..., M]`` with
    ``reward[..., None]`` and take ``.mean(-1)``.

    Args:
        reward: ``[...]`` learned reward of each sample.
        reference: reward of the reference response, broadcastable to ``reward``.
    """
    reward = _finite_array("reward", reward)
    reference = _finite_array("reference", reference)
    _broadcastable("reward", reward, "reference", reference)
    return jax.nn.sigmoid(reward - reference)


@_deprecation.positional_options("threshold")
def clip_process_rewards(step_rewards, mask=None, *, threshold: float = 0.0) -> jax.Array:
    """Clip mechanism for process rewards (Gao et al. 2024): ``r̃_t = min(r_t − η, 0)``.

    Every step reward becomes non-positive, so the accumulated reward of any
    trajectory is bounded above by 0 and repeating plausible steps cannot farm
    reward ("On designing effective RL reward at training time for LLM reasoning",
    arXiv 2410.15115; the form with a threshold ``η`` is as we read the paper and not
    verified against the authors' code).

    Args:
        step_rewards: ``[..., T]`` process reward of each reasoning step.
        mask: ``[..., T]`` true for steps that exist (all by default); others get 0.
        threshold: ``η``.
    """
    rewards, mask = _steps_and_mask(step_rewards, mask)
    threshold = _checks.finite_number("threshold", threshold)
    return jnp.where(mask, jnp.minimum(rewards - threshold, 0.0), 0.0)


def delta_process_rewards(step_rewards, mask=None) -> jax.Array:
    """Delta mechanism for process rewards (Gao et al. 2024): ``r̃_t = r_t − r_{t+1}``, last step kept.

    The sum from any step ``t`` to the end telescopes to ``r_t``, so the accumulated
    reward is bounded by one step reward whatever the trajectory's length (arXiv
    2410.15115; not verified against the authors' code).

    Args:
        step_rewards: ``[..., T]`` process reward of each step; valid steps first.
        mask: ``[..., T]`` true for steps that exist (a prefix of each row); others get 0.
    """
    rewards, mask = _steps_and_mask(step_rewards, mask, prefix=True)
    following = jnp.concatenate([rewards[..., 1:], jnp.zeros_like(rewards[..., :1])], axis=-1)
    following_valid = jnp.concatenate([mask[..., 1:], jnp.zeros_like(mask[..., :1])], axis=-1)
    return jnp.where(mask, rewards - jnp.where(following_valid, following, 0.0), 0.0)


def length_penalty(length, correct, mask=None) -> jax.Array:
    """Group-relative length reward (Kimi k1.5, Team et al. 2025): shorter correct answers earn more.

    Within each group, ``λ_i = 0.5 − (L_i − L_min) / (L_max − L_min)`` (0 when every
    length is equal); a correct sample gets ``λ_i``, an incorrect one ``min(0, λ_i)``
    (no reward for being short and wrong). Values lie in ``[−0.5, 0.5]``.

    Args:
        length: ``[P, G]`` completion lengths.
        correct: ``[P, G]`` 1 for a correct sample, 0 otherwise (or booleans).
        mask: ``[P, G]`` valid samples (all by default); masked samples get 0.
    """
    length, correct, mask = _group_inputs(length, correct, mask)
    return _length_penalty(length, correct, mask)


@_deprecation.positional_options("ratio_threshold", "alpha")
def gated_length_penalty(
    length, correct, mask=None, *, ratio_threshold: float = 0.5, alpha: float = 1.0
) -> jax.Array:
    """Correctness-gated length penalty in the style of GRPO-λ (Dai et al. 2025, arXiv 2505.18086).

    In a group whose correctness ratio (fraction of correct valid samples) is at least
    ``ratio_threshold``, the reward is ``correct + α·λ_i`` with ``λ_i`` from
    :func:`length_penalty`; otherwise the plain 0/1 ``correct`` — a group that mostly
    fails should learn to be right before it learns to be short. The paper switches
    the top fraction of groups of a batch ranked by correctness ratio; a fixed
    threshold is the simpler per-group form used here.

    Args:
        length, correct, mask: ``[P, G]`` as in :func:`length_penalty`.
        ratio_threshold: correctness ratio from which the length penalty applies, in [0, 1].
        alpha: weight of the length term.
    """
    ratio_threshold = _checks.in_range("ratio_threshold", ratio_threshold, 0.0, 1.0)
    alpha = _checks.finite_number("alpha", alpha)
    length, correct, mask = _group_inputs(length, correct, mask)
    penalty = _length_penalty(length, correct, mask)
    ratio = (correct * mask).sum(-1, keepdims=True) / mask.sum(-1, keepdims=True)
    gated = jnp.where(ratio >= ratio_threshold, correct + alpha * penalty, correct)
    return jnp.where(mask, gated, 0.0)


@_deprecation.positional_options("threshold")
def gated_accumulation(outcome, dense, *, threshold: float) -> jax.Array:
    """Gated Reward Accumulation (G-RA, 2025): dense rewards count only when the outcome clears a bar.

    ``r = outcome + 1[outcome ≥ threshold] · dense``: immediate (dense, process, format)
    rewards are added only for samples whose long-term outcome reward reaches
    ``threshold``, so a policy cannot collect them while failing the task.

    Args:
        outcome: ``[...]`` outcome reward of each sample.
        dense: ``[...]`` accumulated immediate reward of each sample (sum it over steps first).
        threshold: outcome level from which dense rewards count.
    """
    outcome = _finite_array("outcome", outcome)
    dense = _finite_array("dense", dense)
    _broadcastable("outcome", outcome, "dense", dense)
    threshold = _checks.finite_number("threshold", threshold)
    return outcome + jnp.where(outcome >= threshold, dense, 0.0)


def difficulty_weighted_pass(passed, mask=None) -> jax.Array:
    """Difficulty-weighted partial success over unit tests, in the style of VeRPO (2026).

    Each unit test ``u`` is weighted by its difficulty estimated from the group's pass
    statistics, ``d_u = 1 − pass rate of u among the group's valid samples``, normalised
    to sum to 1; the sample's reward is ``Σ_u d_u·passed_u``, so passing a test that few
    samples pass is worth more than passing one that all pass. Where every test is
    passed by every sample (no difficulty information) the weights are uniform. The
    exact difficulty estimator of VeRPO is not verified here; this is one natural form.

    Args:
        passed: ``[P, G, U]`` 1 (or True) where sample ``g`` of group ``p`` passed test ``u``.
        mask: ``[P, G]`` valid samples (all by default); masked samples get 0.

    Returns:
        ``[P, G]`` rewards in ``[0, 1]``.
    """
    passed = _finite_array("passed", passed)
    if passed.ndim != 3:
        raise ValueError(
            f"passed must have shape [prompts, group_size, tests], got {passed.shape}."
        )
    if bool(((passed < 0) | (passed > 1)).any()):
        raise ValueError("passed must hold 0/1 (or values in [0, 1]) per test.")
    mask = _mask_for("mask", mask, passed.shape[:2])
    return _difficulty_weighted(passed, mask)


# ---------------------------------------------------------------------------
# Jitted kernels.


@jax.jit
def _length_penalty(length, correct, mask):
    longest = jnp.where(mask, length, -jnp.inf).max(-1, keepdims=True)
    shortest = jnp.where(mask, length, jnp.inf).min(-1, keepdims=True)
    span = longest - shortest
    scaled = jnp.where(span > 0, (length - shortest) / jnp.where(span > 0, span, 1), 0.5)
    lam = 0.5 - scaled
    reward = jnp.where(correct > 0, lam, jnp.minimum(lam, 0))
    return jnp.where(mask, reward, 0)


@jax.jit
def _difficulty_weighted(passed, mask):
    valid = mask[..., None].astype(passed.dtype)
    pass_rate = (passed * valid).sum(1) / valid.sum(1)  # [P, U]
    difficulty = 1 - pass_rate
    total = difficulty.sum(-1, keepdims=True)
    uniform = jnp.full_like(difficulty, 1 / difficulty.shape[-1])
    weights = jnp.where(total > 0, difficulty / jnp.where(total > 0, total, 1), uniform)
    return jnp.where(mask, jnp.einsum("pgu,pu->pg", passed, weights, precision=_common.HIGHEST), 0)


# ---------------------------------------------------------------------------
# Validation.


def _finite_array(name, values) -> jax.Array:
    array = _checks.float_array(name, values)
    _checks.finite(name, array)
    return array


def _broadcastable(first_name, first, second_name, second) -> None:
    try:
        np.broadcast_shapes(first.shape, second.shape)
    except ValueError as error:
        raise ValueError(
            f"{first_name} (shape {first.shape}) and {second_name} (shape {second.shape}) "
            "must have the same shape or broadcast against each other."
        ) from error


def _mask_for(name, mask, shape):
    if mask is None:
        return jnp.ones(shape, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {mask.shape}.")
    if mask.dtype != bool:
        raise TypeError(f"{name} must be boolean, got dtype {mask.dtype}.")
    if not mask.any(axis=-1).all():
        raise ValueError(f"{name} marks a group (or sequence) with no valid entry.")
    return jnp.asarray(mask)


def _steps_and_mask(step_rewards, mask, prefix=False):
    rewards = _checks.float_array("step_rewards", step_rewards)
    if rewards.ndim < 1 or rewards.shape[-1] == 0:
        raise ValueError(f"step_rewards must have shape [..., T] with T ≥ 1, got {rewards.shape}.")
    if mask is None:
        mask = jnp.ones(rewards.shape, dtype=bool)
    else:
        host = np.asarray(mask)
        if host.shape != rewards.shape or host.dtype != bool:
            raise ValueError(
                f"mask must be boolean with the shape of step_rewards {rewards.shape}, "
                f"got {host.dtype} {host.shape}."
            )
        if prefix and (host[..., 1:] & ~host[..., :-1]).any():
            raise ValueError(
                "mask must mark a prefix of the steps of each sequence (valid steps first)."
            )
        mask = jnp.asarray(host)
    values = np.asarray(rewards)
    bad = ~np.isfinite(values) & np.asarray(mask)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"step_rewards has a non-finite value at index {where}.")
    return jnp.where(mask, rewards, 0), mask


def _group_inputs(length, correct, mask):
    length = _checks.float_array("length", length)
    correct = _checks.float_array("correct", correct)
    if length.ndim != 2 or correct.shape != length.shape:
        raise ValueError(
            f"length and correct must both have shape [prompts, group_size], got "
            f"{length.shape} and {correct.shape}."
        )
    mask = _mask_for("mask", mask, length.shape)
    for name, values in (("length", length), ("correct", correct)):
        bad = ~np.isfinite(np.asarray(values)) & np.asarray(mask)
        if bad.any():
            p, g = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name} has a non-finite value at prompt {p}, sample {g}.")
    return jnp.where(mask, length, 0), jnp.where(mask, correct, 0), mask
