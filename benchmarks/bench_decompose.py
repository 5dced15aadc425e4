"""Reward decomposition statistics at scale, and the reweighting update behind a slider.

Issue targets (2-core CPU): the decomposition statistics (discounted component
returns, return shares, variance attribution, step-level correlations) over 10⁷ steps
× 8 components through the public functions, against straightforward vectorised numpy
of the same formulas measured in the same run; :func:`rewardviz.decompose.reweight` at
10⁵ steps in under 50 ms (warm median).

10⁷ × 8 float64 values are 640 MB before any intermediate, so the large log is float32
(the package default): it is built and analysed with x64 switched off for that block,
and numpy works in float32 too. The reweighting benchmark runs in float64.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import rewardviz as rv
from benchmarks.harness import measure, n_repeats, report, size

LARGE_EPISODES, LARGE_STEPS, N_COMPONENTS = 1000, 10_000, 8
SLIDER_EPISODES, SLIDER_STEPS = 100, 1000
GAMMA = 0.99
REWEIGHT_TARGET_S = 0.050


def ragged_log(seed: int, n_episodes: int, n_steps: int) -> rv.RewardLog:
    """Episodes of ``n_steps / 2`` to ``n_steps`` steps with 8 differently scaled components."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(n_steps // 2, n_steps + 1, n_episodes)
    mask = np.arange(n_steps)[None, :] < lengths[:, None]
    scales = np.geomspace(1e-2, 10.0, N_COMPONENTS, dtype=np.float32)
    components = rng.standard_normal((n_episodes, n_steps, N_COMPONENTS), dtype=np.float32)
    components *= scales
    components[..., 0] += 1.0  # an alive bonus: returns differ with the episode length
    weights = rng.uniform(-1.0, 1.0, N_COMPONENTS)
    return rv.RewardLog.from_arrays(components, mask, weights=weights)


def numpy_statistics(components, mask, weights, gamma):
    """Returns, shares, variance attribution and step correlations, flattened into one vector."""
    contributions = components * weights
    discounts = gamma ** np.arange(components.shape[1], dtype=components.dtype)
    returns = np.matmul(discounts, contributions)  # [E, K]; masked steps hold 0
    total = returns.sum(axis=1, keepdims=True)
    signed = np.where(total != 0, returns / np.where(total != 0, total, 1), 0)
    size = np.abs(returns).sum(axis=1, keepdims=True)
    absolute = np.where(size > 0, np.abs(returns) / np.where(size > 0, size, 1), 0)
    centred_returns = returns - returns.mean(axis=0)
    centred_total = centred_returns.sum(axis=1)
    attribution = (centred_returns * centred_total[:, None]).mean(axis=0) / np.mean(
        centred_total**2
    )
    samples = contributions.reshape(-1, contributions.shape[-1])
    valid = mask.reshape(-1)
    count = valid.sum()
    centred = (samples - samples.sum(axis=0) / count) * valid[:, None]
    covariance = centred.T @ centred / count
    spread = np.sqrt(np.diag(covariance))
    correlation = covariance / np.outer(spread, spread)
    parts = (returns, signed, absolute, attribution, correlation)
    return np.concatenate([part.ravel() for part in parts])


def jax_statistics(log: rv.RewardLog, gamma: float) -> jax.Array:
    signed, absolute = rv.decompose.return_shares(log, gamma)
    parts = (
        rv.decompose.component_returns(log, gamma),
        signed,
        absolute,
        rv.decompose.variance_attribution(log, gamma),
        rv.decompose.correlations(log, level="step"),
    )
    return jnp.concatenate([part.ravel() for part in parts])


def numpy_reweight(components, mask, old_weights, new_weights):
    """Old and new returns and ranks (0 for the best) and Spearman's ρ, in one vector."""
    raw = components.sum(axis=1)  # γ = 1; masked steps hold 0
    old, new = raw @ old_weights, raw @ new_weights
    ranks = []
    for returns in (old, new):
        rank = np.empty(len(returns), dtype=np.int64)
        rank[np.argsort(-returns, kind="stable")] = np.arange(len(returns))
        ranks.append(rank)
    rho = np.corrcoef(ranks[0], ranks[1])[0, 1]
    return np.concatenate([old, new, ranks[0], ranks[1], [rho]])


def run() -> list[dict]:
    rows = []
    n_episodes, n_steps_each = size(LARGE_EPISODES, 100), size(LARGE_STEPS, 1000)
    n_steps = n_episodes * n_steps_each
    label = f"E={n_episodes} T={n_steps_each} K={N_COMPONENTS} float32"
    with jax.enable_x64(False):
        log = ragged_log(0, n_episodes, n_steps_each)
        components, mask = np.asarray(log.components), np.asarray(log.mask)
        weights = np.asarray(log.weights)
        row = report(
            f"decomposition stats {label}",
            lambda: jax_statistics(log, GAMMA),
            lambda: numpy_statistics(components, mask, weights, np.float32(GAMMA)),
            repeats=3,
            sizes={"E": n_episodes, "T": n_steps_each, "K": N_COMPONENTS, "steps": n_steps},
            bytes_touched=components.nbytes + mask.nbytes,
            target_ratio=1.0,
        )
        reference = numpy_statistics(components, mask, weights, np.float32(GAMMA))
        scale = np.abs(reference).max()
        print(
            f"  {n_steps:.0e} steps x {N_COMPONENTS} components; max |diff| relative to the "
            f"largest statistic {row['max_abs_difference'] / scale:.1e} (float32)"
        )
        # Which public function the time goes to (each reads the whole log once).
        parts = {
            "component_returns": lambda: rv.decompose.component_returns(log, GAMMA),
            "return_shares": lambda: rv.decompose.return_shares(log, GAMMA),
            "variance_attribution": lambda: rv.decompose.variance_attribution(log, GAMMA),
            "correlations(step)": lambda: rv.decompose.correlations(log, level="step"),
        }
        breakdown = {
            name: measure(part, n_repeats(3))[0].warm_median_seconds * 1e3
            for name, part in parts.items()
        }
        slowest = max(breakdown, key=breakdown.get)
        print(
            "  of which " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in breakdown.items()),
            flush=True,
        )
        rows.append(
            {
                **row,
                "breakdown_ms": breakdown,
                "slowest_part": f"{slowest} {breakdown[slowest]:.0f} ms",
            }
        )
        del log, components, mask, reference

    log = ragged_log(1, SLIDER_EPISODES, SLIDER_STEPS)
    components, mask = np.asarray(log.components), np.asarray(log.mask)
    old_weights = np.asarray(log.weights)
    new_weights = old_weights * np.linspace(2.0, 0.0, N_COMPONENTS)  # the last one switched off

    def jax_reweight():
        result = rv.decompose.reweight(log, new_weights)
        parts = (result.old_returns, result.new_returns, result.old_rank, result.new_rank)
        return jnp.concatenate([*parts, result.rank_correlation[None]])

    row = report(
        f"reweight E={SLIDER_EPISODES} T={SLIDER_STEPS} K={N_COMPONENTS} (10^5 steps)",
        jax_reweight,
        lambda: numpy_reweight(components, mask, old_weights, new_weights),
        repeats=21,
        sizes={"E": SLIDER_EPISODES, "T": SLIDER_STEPS, "K": N_COMPONENTS},
    )
    timing, _ = measure(lambda: rv.decompose.reweight(log, new_weights), n_repeats(21))
    verdict = "meets" if timing.warm_median_seconds < REWEIGHT_TARGET_S else "MISSES"
    print(
        f"  rv.decompose.reweight(log, new_weights) alone: warm median "
        f"{timing.warm_median_seconds * 1e3:.2f} ms, {verdict} the "
        f"{REWEIGHT_TARGET_S * 1e3:.0f} ms target"
    )
    rows.append(
        {
            **row,
            "reweight_warm_median_s": timing.warm_median_seconds,
            "target": f"reweight alone < {REWEIGHT_TARGET_S * 1e3:.0f} ms",
            "target_met": bool(timing.warm_median_seconds < REWEIGHT_TARGET_S),
        }
    )
    return rows


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
