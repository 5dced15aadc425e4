"""The package's one bootstrap: resampling indices and percentile intervals.

Percentile bootstrap (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993,
ch. 13): resample the ``N`` units with replacement ``n_bootstrap`` times, recompute the
statistic on each resample, and report the ``(1 ∓ confidence)/2`` quantiles of those
values. rliable (Agarwal et al., NeurIPS 2021) reports aggregate RL results this way.
Every bootstrap in rewardviz (learning curves, the STARC study's rank correlations, the
group proxy–gold peak) draws its resamples from :func:`resample_indices`, so one seed
means the same resamples everywhere.
"""

from __future__ import annotations

import numpy as np

from rewardviz import _budget, _checks


def resample_indices(seed: int, n_units: int, n_bootstrap: int) -> np.ndarray:
    """``[n_bootstrap, n_units]`` indices drawn with replacement from ``range(n_units)``.

    Drawn as ``numpy.random.default_rng(seed).integers(0, n_units, (n_bootstrap, n_units))``.
    """
    n_units = _checks.positive_int("n_units", n_units)
    n_bootstrap = _checks.positive_int("n_bootstrap", n_bootstrap)
    _budget.check_memory(
        f"n_bootstrap = {n_bootstrap:,} resamples of {n_units:,} units",
        8 * n_bootstrap * n_units,  # int64 indices; the statistics per resample come on top
        "Use fewer resamples: 1,000-10,000 give percentile intervals to ~1%.",
    )
    return np.random.default_rng(seed).integers(0, n_units, (n_bootstrap, n_units))


def resample_counts(seed: int, n_units: int, n_bootstrap: int) -> np.ndarray:
    """``[n_bootstrap, n_units]`` how often each unit is drawn in each resample.

    The same resamples as :func:`resample_indices` with the same ``seed``, as counts: a
    statistic that takes unit weights (a weighted mean, a weighted correlation) is
    evaluated on resample ``b`` with weights ``counts[b]``.
    """
    indices = resample_indices(seed, n_units, n_bootstrap)
    counts = np.zeros(indices.shape, dtype=np.int64)
    np.add.at(counts, (np.arange(indices.shape[0])[:, None], indices), 1)
    return counts


def percentile_interval(values, confidence: float = 0.95, axis: int = -1):
    """``(low, high)``: the ``(1 ∓ confidence)/2`` quantiles of ``values`` along ``axis``.

    numpy's default (linear) quantile interpolation.
    """
    confidence = _checks.in_range("confidence", confidence, 0.0, 1.0)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    tail = (1 - confidence) / 2
    low, high = np.quantile(np.asarray(values), [tail, 1 - tail], axis=axis)
    return low, high


def mean_interval(samples, *, confidence: float = 0.95, n_bootstrap: int = 2000, seed: int = 0):
    """Mean over the last axis with a percentile bootstrap interval: ``(mean, low, high)``.

    The same resamples serve every leading index, so paired quantities stay paired.

    Args:
        samples: ``[..., N]`` finite numbers, ``N >= 1``.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim < 1 or samples.shape[-1] < 1:
        raise ValueError(f"samples must have shape [..., N] with N >= 1, got {samples.shape}.")
    _checks.finite("samples", samples)
    indices = resample_indices(seed, samples.shape[-1], n_bootstrap)
    means = samples[..., indices].mean(axis=-1)  # [..., n_bootstrap]
    low, high = percentile_interval(means, confidence)
    return samples.mean(axis=-1), low, high
