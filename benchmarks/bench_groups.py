"""Group-relative advantages at scale: the three schemes and the per-reward attribution.

Issue target (2-core CPU): 10⁶ samples × 4 rewards (126 600 groups of 8, ragged: one
group in ten has lost a sample) through :func:`rewardviz.groups.attribution` under every
scheme with TRL's defaults (``ddof=1``, ``eps=1e-4``, group scaling; TRL's
``normalize_then_sum`` standardises over the batch, here every group), plus the
advantages they sum to, against straightforward vectorised numpy of the same formulas
measured in the same run. Float64; the scores are 0/1 rewards and a continuous one, so
ties and degenerate groups occur as in real logs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import rewardviz as rv
from benchmarks.harness import report, size

N_GROUPS, GROUP_SIZE, N_REWARDS = 126_600, 8, 4  # 1.0e6 valid samples
DDOF, EPS = 1, 1e-4


def synthetic_groups(seed: int = 0, n_groups: int = N_GROUPS) -> rv.GroupRewards:
    rng = np.random.default_rng(seed)
    shape = (n_groups, GROUP_SIZE)
    scores = np.stack(
        [
            (rng.uniform(size=shape) < 0.9).astype(float),  # format: mostly satisfied
            (rng.uniform(size=shape) < rng.uniform(size=(n_groups, 1))).astype(float),  # accuracy
            rng.uniform(0.0, 1.0, shape),  # length reward
            rng.normal(0.0, 1.0, shape),  # a learned preference model
        ],
        axis=-1,
    )
    mask = np.ones(shape, dtype=bool)
    mask[::10, -1] = False
    return rv.GroupRewards.from_arrays(
        scores, mask, names=["format", "accuracy", "length", "preference"], weights=[0.5, 1, 0.3, 1]
    )


def numpy_parts(scores, mask, weights, scheme):
    """``[P, G, K]`` attribution of a scheme, vectorised numpy, same formulas."""
    valid = mask[..., None]
    count = mask.sum(axis=1)

    def centred(values, valid, count):
        mean = np.where(valid, values, 0).sum(axis=1) / count
        high = np.where(valid, values, -np.inf).max(axis=1)
        low = np.where(valid, values, np.inf).min(axis=1)
        flat = (count < 2) | (high == low)
        out = np.where(valid & ~flat[:, None], values - mean[:, None], 0)
        std = np.sqrt((out**2).sum(axis=1) / (count - DDOF))
        return out, std, flat

    per_reward, std, _ = centred(scores, valid, count[:, None])
    parts = per_reward * weights
    if scheme == "sum_of_normalized":
        return parts / (std[:, None, :] + EPS)
    if scheme == "normalize_then_sum":
        # One batch (no steps): standardise the weighted sum over every valid sample.
        parts = parts / (std[:, None, :] + EPS)
        combined = parts.sum(axis=-1)[mask]
        return parts / (np.std(combined, ddof=DDOF) + EPS)
    _, total_std, total_flat = centred(scores @ weights, mask, count)
    parts = np.where(total_flat[:, None, None], 0, parts)
    return parts / (total_std[:, None, None] + EPS)


def run() -> list[dict]:
    group = synthetic_groups(n_groups=size(N_GROUPS, 12_660))
    scores, mask = np.asarray(group.scores), np.asarray(group.mask)
    weights = np.asarray(group.weights)

    def jax_all():
        results = []
        for scheme in rv.groups.SCHEMES:
            parts = rv.groups.attribution(group, scheme, ddof=DDOF, eps=EPS)
            results += [parts.ravel(), parts.sum(axis=-1).ravel()]
        return jnp.concatenate(results)

    def numpy_all():
        results = []
        for scheme in rv.groups.SCHEMES:
            parts = numpy_parts(scores, mask, weights, scheme)
            results += [parts.ravel(), parts.sum(axis=-1).ravel()]
        return np.concatenate(results)

    samples = int(mask.sum())
    sizes = {"P": len(mask), "G": GROUP_SIZE, "K": N_REWARDS, "samples": samples}
    row = report(
        f"advantages+attribution, 3 schemes, {samples:.1e} samples x {N_REWARDS}",
        jax_all,
        numpy_all,
        repeats=5,
        sizes=sizes,
        bytes_touched=scores.nbytes + mask.nbytes,
        target_ratio=1.0,
    )
    rows = [row]
    for scheme in rv.groups.SCHEMES:
        rows.append(
            report(
                f"  attribution {scheme}",
                lambda scheme=scheme: rv.groups.attribution(group, scheme, ddof=DDOF, eps=EPS),
                lambda scheme=scheme: numpy_parts(scores, mask, weights, scheme),
                repeats=5,
                sizes=sizes,
                bytes_touched=scores.nbytes + mask.nbytes,
            )
        )
    return rows


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
