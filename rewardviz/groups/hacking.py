"""Reward hacking signals over training steps: proxy–gold divergence, length drift, saturation.

Given groups logged at several training steps (:attr:`GroupRewards.step <rewardviz.groups.GroupRewards.step>`), these
functions look for the signatures of a reward being gamed: the gold score peaking while
the proxy keeps rising (:func:`proxy_gold_divergence`, Gao et al. 2023), a growing
within-group correlation between a reward and completion length
(:func:`~rewardviz.groups.length_correlation_drift`), and rewards that stop separating samples
(:func:`saturation`).

This module computes; it draws nothing (:mod:`rewardviz.plots.groups`).
"""

from __future__ import annotations

import dataclasses
import types
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _bootstrap, _checks, _deprecation
from rewardviz.groups import _common
from rewardviz.groups.group_rewards import GroupRewards

__all__ = [
    "Divergence",
    "LengthCorrelationDrift",
    "Saturation",
    "length_correlation_drift",
    "proxy_gold_divergence",
    "saturation",
]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Divergence:
    """Where a proxy reward and the gold score part (:func:`proxy_gold_divergence`).

    Attributes:
        steps: ``[S]`` training steps.
        proxy: ``[S]`` mean proxy reward per step (smoothed as requested).
        gold: ``[S]`` mean gold score per step (smoothed as requested).
        step: the step where the gold score peaks; ``None`` when it peaks at the last
            step or the proxy does not rise after the peak (no divergence seen).
        interval: ``(low, high)`` 95% bootstrap percentile interval of the gold peak's
            step (resampling groups within each step), ends rounded outwards to steps.
        bootstrap_steps: ``[B]`` the gold peak's step in each bootstrap resample.
        proxy_gain: proxy rise from the gold peak to the last step.
        gold_drop: gold fall from its peak to the last step.
    """

    steps: np.ndarray
    proxy: np.ndarray
    gold: np.ndarray
    step: int | None
    interval: tuple[int, int]
    bootstrap_steps: np.ndarray
    proxy_gain: float
    gold_drop: float

    @property
    def diverged(self) -> bool:
        return self.step is not None

    def __repr__(self) -> str:
        where = f"step {self.step}" if self.diverged else "none seen"
        return (
            f"Divergence({where}, 95% interval {self.interval}, steps "
            f"{self.steps[0]}..{self.steps[-1]}, proxy gain {self.proxy_gain:.4g}, "
            f"gold drop {self.gold_drop:.4g})"
        )


@_deprecation.positional_options("proxy")
def proxy_gold_divergence(
    group: GroupRewards,
    *,
    proxy: str | None = None,
    window: int = 1,
    n_bootstrap: int = 1000,
    seed=0,
) -> Divergence:
    """The training step where the proxy reward keeps rising but the gold score turns down.

    Overoptimisation (Gao, Schulman, Hilton 2023, "Scaling laws for reward model
    overoptimization"): as a policy optimises a proxy, the gold score first follows it,
    peaks and then falls. The divergence step is the peak of the per-step mean gold
    score (the mean over the step's groups of each group's mean, after a centred moving
    average over ``window`` steps), reported when the proxy is higher and the gold score
    lower at the last step than at the peak. Its uncertainty, by a stratified percentile
    bootstrap (Efron & Tibshirani 1993): the groups of each step are resampled with
    replacement among themselves ``n_bootstrap`` times (:mod:`rewardviz._bootstrap`, one
    seed per step drawn from ``seed``) and the peak found again; ``interval`` is the
    2.5–97.5 percentile of those steps.

    Args:
        group: groups with ``gold`` scores and several training steps.
        proxy: the reward to treat as proxy; the weighted total by default.
        window: odd width of the moving average over steps (1: none).
        n_bootstrap: bootstrap resamples.
        seed: seed of the resampling, an integer or a ``jax.random`` key.

    Example:
        >>> rv.groups.proxy_gold_divergence(rv.groups.example_groups(), window=5).step
    """
    _common.check_group(group)
    if group.gold is None:
        raise ValueError(
            "the groups have no gold scores; build them with gold=[P, G] (or a 'gold' column)."
        )
    window = _checks.positive_int("window", window)
    if window % 2 == 0:
        raise ValueError(f"window must be odd (a centred moving average), got {window}.")
    n_bootstrap = _checks.positive_int("n_bootstrap", n_bootstrap)
    seed = _checks.seed_int("seed", seed)
    values = group.total if proxy is None else group.reward(proxy)
    steps, segment = _common.steps_of(group)
    if len(steps) < 2:
        raise ValueError("proxy_gold_divergence needs groups from at least two training steps.")
    order = np.argsort(segment, kind="stable")
    counts = np.bincount(segment, minlength=len(steps))
    smoother = jnp.asarray(_moving_average_matrix(len(steps), window), values.dtype)
    proxy_curve, gold_curve, peaks = _divergence(
        values[order],
        group.gold[order],
        group.mask[order],
        jnp.asarray(segment[order]),
        jnp.asarray(counts),
        smoother,
        jnp.asarray(_resamples_within_steps(seed, counts, n_bootstrap)),
    )
    proxy_curve, gold_curve = np.asarray(proxy_curve), np.asarray(gold_curve)
    peak = int(np.argmax(gold_curve))
    proxy_gain = float(proxy_curve[-1] - proxy_curve[peak])
    gold_drop = float(gold_curve[peak] - gold_curve[-1])
    diverged = peak < len(steps) - 1 and proxy_gain > 0 and gold_drop > 0
    boot = steps[np.asarray(peaks)]
    # Steps are discrete: the interval's ends are observed steps, rounded outwards.
    low = np.percentile(boot, 2.5, method="lower")
    high = np.percentile(boot, 97.5, method="higher")
    return Divergence(
        steps=steps,
        proxy=proxy_curve,
        gold=gold_curve,
        step=int(steps[peak]) if diverged else None,
        interval=(int(low), int(high)),
        bootstrap_steps=boot,
        proxy_gain=proxy_gain,
        gold_drop=gold_drop,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class LengthCorrelationDrift(_common.FormerFrame):
    """Within-group correlation with completion length per training step (:func:`~rewardviz.groups.length_correlation_drift`).

    Attributes:
        steps: ``[S]`` training steps, sorted.
        correlations: ``[S, K + 1]`` correlation of each reward, then of the weighted
            total, with the completion length at each step.
        slopes: ``[K + 1]`` least-squares slope of each column of ``correlations`` per
            training step (0 with a single step).
        names: ``K + 1`` column names: the reward names, then ``"total"``.
    """

    steps: np.ndarray
    correlations: np.ndarray
    slopes: np.ndarray
    names: tuple[str, ...]

    FORMER = "length_correlation_drift"
    NEW_SPELLINGS = types.MappingProxyType({"attrs": "slopes"})

    def slope(self, name: str) -> float:
        """The slope of the column ``name`` (a reward name or ``"total"``)."""
        if name not in self.names:
            raise ValueError(f"unknown column {name!r}; the columns are {list(self.names)}.")
        return float(self.slopes[self.names.index(name)])

    def to_frame(self):
        """``pandas.DataFrame`` indexed by ``step``, one column per name."""
        import pandas

        return pandas.DataFrame(
            self.correlations, index=pandas.Index(self.steps, name="step"), columns=self.names
        )

    def former_frame(self):
        # The table this function returned before this release carried the slopes in attrs.
        frame = self.to_frame()
        frame.attrs["slope"] = dict(zip(self.names, self.slopes.tolist(), strict=True))
        return frame


def length_correlation_drift(group: GroupRewards) -> LengthCorrelationDrift:
    """Within-group correlation of each reward (and the total) with completion length, per step.

    At each step, the pooled within-group correlation (as in
    :func:`~rewardviz.groups.within_group_correlation`) between a reward and the sample's
    length, ``ρ = Σ c_r c_L / sqrt(Σ c_r² Σ c_L²)`` over the step's valid samples with
    ``c`` centred within each group: how much *longer than its siblings* pays. A
    correlation that climbs over training is the classic sign of a length-hacked reward;
    ``slopes`` holds the least-squares slope of each column per step.

    Example:
        >>> drift = rv.groups.length_correlation_drift(rv.groups.example_groups())
        >>> drift.slope("total") > 0
        True
    """
    _common.check_group(group)
    if group.length is None:
        raise ValueError(
            "the groups have no completion lengths; build them with length=[P, G] "
            "(or a 'length' column)."
        )
    steps, segment = _common.steps_of(group)
    correlation = np.asarray(
        _length_correlation(
            group.scores,
            group.weights,
            group.length,
            group.mask,
            jnp.asarray(segment),
            len(steps),
        )
    )
    if len(steps) > 1:
        centred = steps - steps.mean()
        slopes = centred @ (correlation - correlation.mean(0)) / (centred**2).sum()
    else:
        slopes = np.zeros(correlation.shape[1])
    return LengthCorrelationDrift(
        steps=steps, correlations=correlation, slopes=slopes, names=(*group.names, "total")
    )


@dataclasses.dataclass(frozen=True, eq=False)
class Saturation(_common.FormerFrame):
    """Per-step saturation of each reward (:func:`~rewardviz.groups.saturation`).

    Attributes:
        steps: ``[S]`` training steps, sorted.
        level: ``[S, K]`` the step's mean score of each reward, mapped to ``[0, 1]`` by
            that reward's smallest and largest score over the whole log (0 for a
            constant reward).
        degenerate: ``[S, K]`` fraction of the step's groups in which the reward is
            constant.
        names: ``K`` reward names.
    """

    steps: np.ndarray
    level: np.ndarray
    degenerate: np.ndarray
    names: tuple[str, ...]

    FORMER = "saturation"

    def to_frame(self):
        """``pandas.DataFrame`` indexed by ``step``, columns ``(reward, "level" | "degenerate")``."""
        import pandas

        columns = pandas.MultiIndex.from_product([self.names, ["level", "degenerate"]])
        data = np.stack([self.level, self.degenerate], axis=-1).reshape(len(self.steps), -1)
        return pandas.DataFrame(data, index=pandas.Index(self.steps, name="step"), columns=columns)


def saturation(group: GroupRewards) -> Saturation:
    """Per-step saturation of each reward: its level within its range and its lost spread.

    A reward near level 1 whose degenerate fraction is near 1 is saturated: it no longer
    separates samples and its weight buys nothing.

    Example:
        >>> result = rv.groups.saturation(group)
        >>> rv.plots.length_correlation(result.steps, result.level, result.names)
    """
    _common.check_group(group)
    steps, segment = _common.steps_of(group)
    level, degenerate = _saturation(group.scores, group.mask, jnp.asarray(segment), len(steps))
    return Saturation(
        steps=steps, level=np.asarray(level), degenerate=np.asarray(degenerate), names=group.names
    )


# ---------------------------------------------------------------------------
# Jitted kernels and helpers.


@partial(jax.jit, static_argnames=("n_segments",))
def _length_correlation(scores, weights, length, mask, segment, n_segments):
    totals, bound = _common.totals(scores, mask, weights)
    centred_scores, _, _ = _common.centred(scores, mask, 0)
    centred_totals, _, _ = _common.centred(totals, mask, 0, bound)
    centred = jnp.concatenate([centred_scores, centred_totals[..., None]], axis=-1)
    centred_length, _, _ = _common.centred(length, mask, 0)
    cross = jax.ops.segment_sum((centred * centred_length[..., None]).sum(1), segment, n_segments)
    squares = jax.ops.segment_sum((centred**2).sum(1), segment, n_segments)
    length_squares = jax.ops.segment_sum((centred_length**2).sum(1), segment, n_segments)
    spread = jnp.sqrt(squares * length_squares[:, None])
    return jnp.clip(jnp.where(spread > 0, cross / jnp.where(spread > 0, spread, 1), 0), -1, 1)


@partial(jax.jit, static_argnames=("n_segments",))
def _saturation(scores, mask, segment, n_segments):
    valid = mask[..., None]
    count = mask.sum(1)
    group_mean = jnp.where(valid, scores, 0).sum(1) / count[:, None]
    high = jnp.where(valid, scores, -jnp.inf).max((0, 1))
    low = jnp.where(valid, scores, jnp.inf).min((0, 1))
    # Each sample counts once: sum per step, divided by the step's sample count.
    step_sum = jax.ops.segment_sum(group_mean * count[:, None], segment, n_segments)
    step_count = jax.ops.segment_sum(count, segment, n_segments)
    step_mean = step_sum / step_count[:, None]
    span = high - low
    level = jnp.where(span > 0, (step_mean - low) / jnp.where(span > 0, span, 1), 0)
    _, _, degenerate = _common.centred(scores, mask, 0)
    return level, _common.segment_mean(degenerate.astype(scores.dtype), segment, n_segments)


@jax.jit
def _divergence(proxy, gold, mask, segment, counts, smoother, resampled):
    """Per-step curves and the bootstrap distribution of the gold peak's step index.

    Inputs are sorted by step; ``resampled`` ``[B, P]`` holds, for each resample, the
    group drawn into each slot (a group of the slot's own step). Each group enters with
    its mean over valid samples; a step's value is the mean over its groups, the unit
    resampled by the bootstrap.
    """
    n_steps = len(counts)
    valid = mask.astype(proxy.dtype)
    sizes = valid.sum(1)
    proxy_group = (proxy * valid).sum(1) / sizes
    gold_group = (gold * valid).sum(1) / sizes

    def curve(group_values, index):
        sums = jax.ops.segment_sum(group_values[index], segment, n_steps)
        return jnp.matmul(smoother, sums / counts, precision=_common.HIGHEST)

    identity = jnp.arange(len(segment))
    boot_gold = jax.vmap(lambda index: curve(gold_group, index))(resampled)
    return (
        curve(proxy_group, identity),
        curve(gold_group, identity),
        jnp.argmax(boot_gold, axis=1),
    )


def _resamples_within_steps(seed: int, counts: np.ndarray, n_bootstrap: int) -> np.ndarray:
    """``[n_bootstrap, P]`` groups drawn with replacement within each step (a stratified bootstrap).

    The groups are sorted by step, step ``s`` owning the ``counts[s]`` positions after
    those of the steps before it; each step's draws come from
    :func:`rewardviz._bootstrap.resample_indices` with its own seed, spawned from ``seed``.
    """
    step_seeds = np.random.SeedSequence(seed).generate_state(len(counts))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.concatenate(
        [
            start + _bootstrap.resample_indices(int(step_seed), int(count), n_bootstrap)
            for step_seed, start, count in zip(step_seeds, starts, counts, strict=True)
        ],
        axis=1,
    )


def _moving_average_matrix(n: int, window: int) -> np.ndarray:
    """``[n, n]`` centred moving average; windows shrink at the ends."""
    half = window // 2
    index = np.arange(n)
    band = np.abs(index[:, None] - index[None, :]) <= half
    return band / band.sum(axis=1, keepdims=True)
