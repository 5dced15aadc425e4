"""How far learned rewards are from the true one: EPIC, DARD, STARC and regret, per run.

A reward learned from preferences or demonstrations is judged by what it would make an
agent do, not by its numbers: rewards that differ by potential shaping, positive scaling
or S'-redistribution define the same task (Skalse et al., ICML 2023), so the raw
difference says little. :func:`evaluate_learned` measures every learned reward of a fit
(one per seed and dataset size) against the true reward with the distances of
:mod:`rewardviz.distances`, batched over seeds and sizes in one call each, and
:meth:`LearnedRewardEvaluation.summary` reports their means across seeds with bootstrap
intervals. This module fits nothing and draws nothing.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from rewardviz import _bootstrap, _checks
from rewardviz import distances as reward_distances
from rewardviz.mdp import TabularMDP
from rewardviz.reward_learning import _common
from rewardviz.rewards import check_reward

__all__ = ["DISTANCES", "LearnedRewardEvaluation", "evaluate_learned"]

#: The measures :func:`evaluate_learned` reports, in column order.
DISTANCES = ("epic", "dard", "starc_val", "starc_minimal", "regret")


@partial(
    jax.tree_util.register_dataclass,
    data_fields=list(DISTANCES),
    meta_fields=["sizes", "n_bootstrap", "confidence", "seed"],
)
@dataclasses.dataclass(frozen=True, eq=False)
class LearnedRewardEvaluation:
    """Distances from the true reward to each learned reward: :func:`evaluate_learned`.

    Attributes:
        epic: ``[n_seeds, n_sizes]`` EPIC distance (Gleave et al. 2021), in ``[0, 1]``.
        dard: ``[n_seeds, n_sizes]`` DARD distance (Wulfe et al. 2022), in ``[0, 1]``.
        starc_val: ``[n_seeds, n_sizes]`` STARC distance with the VAL canonicalisation,
            L2 (Skalse et al. 2024), in ``[0, 2]``.
        starc_minimal: ``[n_seeds, n_sizes]`` STARC distance with the minimal (L2)
            canonicalisation, in ``[0, 2]``.
        regret: ``[n_seeds, n_sizes]`` normalised regret of the learned reward's optimal
            policy under the true reward, in ``[0, 1]`` (:func:`rewardviz.distances.regret`).
        sizes: the dataset sizes, one per column.
        n_bootstrap, confidence, seed: the bootstrap :meth:`summary` uses by default.
    """

    epic: np.ndarray
    dard: np.ndarray
    starc_val: np.ndarray
    starc_minimal: np.ndarray
    regret: np.ndarray
    sizes: tuple[int, ...]
    n_bootstrap: int
    confidence: float
    seed: int

    @property
    def n_seeds(self) -> int:
        return int(np.shape(self.epic)[0])

    def values(self, distance: str) -> np.ndarray:
        """``[n_seeds, n_sizes]`` the values of one of :data:`DISTANCES`."""
        return np.asarray(getattr(self, _checks.one_of("distance", distance, DISTANCES)))

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per seed, size and distance: ``seed``, ``size``, ``distance``, ``value``."""
        n_seeds, n_sizes = self.n_seeds, len(self.sizes)
        stacked = np.stack([self.values(name) for name in DISTANCES])  # [D, n_seeds, n_sizes]
        distance, seed, size = np.meshgrid(
            np.arange(len(DISTANCES)), np.arange(n_seeds), np.arange(n_sizes), indexing="ij"
        )
        return pd.DataFrame(
            {
                "seed": seed.ravel(),
                "size": np.asarray(self.sizes)[size.ravel()],
                "distance": np.asarray(DISTANCES)[distance.ravel()],
                "value": stacked.ravel(),
            }
        )

    def summary(
        self,
        *,
        n_bootstrap: int | None = None,
        confidence: float | None = None,
        seed: int | jax.Array | None = None,
    ) -> pd.DataFrame:
        """Mean over seeds per distance and size, with a percentile bootstrap interval.

        Seeds are resampled with replacement (:func:`rewardviz._bootstrap.mean_interval`,
        the package's one bootstrap; the same resamples for every distance and size, so
        intervals at different sizes are paired). With one seed the interval is the
        point itself. Options default to those given to :func:`evaluate_learned`.

        Returns:
            A DataFrame, one row per distance (in :data:`DISTANCES` order) and size:
            ``distance``, ``size``, ``mean``, ``low``, ``high``.
        """
        n_bootstrap = self.n_bootstrap if n_bootstrap is None else n_bootstrap
        n_bootstrap = _checks.positive_int("n_bootstrap", n_bootstrap)
        confidence = self.confidence if confidence is None else confidence
        seed = self.seed if seed is None else _checks.seed_int("seed", seed)
        stacked = np.stack([self.values(name) for name in DISTANCES])  # [D, n_seeds, n_sizes]
        mean, low, high = _bootstrap.mean_interval(
            np.swapaxes(stacked, 1, 2), confidence=confidence, n_bootstrap=n_bootstrap, seed=seed
        )
        n_sizes = len(self.sizes)
        return pd.DataFrame(
            {
                "distance": np.repeat(DISTANCES, n_sizes),
                "size": np.tile(np.asarray(self.sizes), len(DISTANCES)),
                "mean": mean.ravel(),
                "low": low.ravel(),
                "high": high.ravel(),
            }
        )

    def __repr__(self) -> str:
        largest = {name: float(np.mean(self.values(name)[:, -1])) for name in DISTANCES}
        numbers = ", ".join(f"{name} {value:.3g}" for name, value in largest.items())
        return (
            f"LearnedRewardEvaluation({self.n_seeds} seeds × sizes {list(self.sizes)}; "
            f"mean at size {self.sizes[-1]}: {numbers})"
        )


def evaluate_learned(
    mdp: TabularMDP,
    true_reward,
    learned,
    *,
    sizes=None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int | jax.Array = 0,
) -> LearnedRewardEvaluation:
    """EPIC, DARD, STARC (VAL and minimal) and regret of each learned reward against the true one.

    For every seed ``i`` and dataset size ``j``, with ``R`` the true reward and
    ``R̂_ij`` the learned one:

    - ``epic = D_ρ(C_EPIC(R), C_EPIC(R̂_ij))``, ``dard`` likewise with the DARD
      canonicalisation (Pearson distance ``sqrt((1 − ρ)/2)``; Gleave et al. 2021,
      Wulfe et al. 2022), uniform coverage;
    - ``starc_val``, ``starc_minimal``: ``‖s(R) − s(R̂_ij)‖₂`` with ``s(R) = c(R)/‖c(R)‖₂``
      and ``c`` the VAL or the minimal canonicalisation (Skalse et al., ICLR 2024);
    - ``regret = (J_R(π*_R) − J_R(π*_R̂)) / (max_π J_R − min_π J_R)``, the normalised
      regret under the true reward of the policy optimal for the learned one.

    Each is one batched call of :mod:`rewardviz.distances` over ``[n_seeds, n_sizes]``.

    Args:
        mdp: the MDP the rewards were learned on.
        true_reward: ``[S, A, S']``, or ``[n_seeds, S, A, S']`` (one true reward per seed).
        learned: a :class:`~rewardviz.reward_learning._common.FittedRewards` (from
            :func:`~rewardviz.reward_learning.fit.fit_preferences` or
            :func:`~rewardviz.reward_learning.irl.maxent_irl`), or an array
            ``[n_seeds, n_sizes, S, A, S']``, in which case ``sizes`` names the sizes.
        sizes: the ``n_sizes`` dataset sizes of an array ``learned``; taken from a
            ``FittedRewards``.
        n_bootstrap, confidence, seed: the bootstrap of
            :meth:`LearnedRewardEvaluation.summary` (seed: an integer or a JAX key).

    Returns:
        A :class:`LearnedRewardEvaluation`.

    Example:
        >>> fitted = rv.reward_learning.fit_preferences(mdp, preferences, sizes=(50, 200))
        >>> evaluation = rv.reward_learning.evaluate_learned(mdp, reward, fitted)
        >>> evaluation.summary()  # mean and interval across seeds per distance and size
    """
    rewards, sizes = _learned_rewards(mdp, learned, sizes)
    n_seeds = rewards.shape[0]
    true_reward = check_reward(mdp, true_reward, name="true_reward")
    if true_reward.ndim == 4 and true_reward.shape[0] == n_seeds:
        true_reward = true_reward[:, None]  # one per seed, the same for every size
    elif true_reward.ndim != 3:
        raise ValueError(
            f"true_reward must have shape [S, A, S'] or [n_seeds, S, A, S'] with n_seeds = "
            f"{n_seeds}, got {tuple(true_reward.shape)}."
        )
    confidence = _checks.in_range("confidence", confidence, 0.0, 1.0)
    if confidence in (0.0, 1.0):
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    values = {
        "epic": reward_distances.epic(mdp, true_reward, rewards),
        "dard": reward_distances.dard(mdp, true_reward, rewards),
        "starc_val": reward_distances.starc(mdp, true_reward, rewards, canonical="val"),
        "starc_minimal": reward_distances.starc(mdp, true_reward, rewards, canonical="minimal"),
        "regret": reward_distances.regret(mdp, true_reward, rewards),
    }
    return LearnedRewardEvaluation(
        **{name: np.asarray(value) for name, value in values.items()},
        sizes=sizes,
        n_bootstrap=_checks.positive_int("n_bootstrap", n_bootstrap),
        confidence=confidence,
        seed=_checks.seed_int("seed", seed),
    )


def _learned_rewards(mdp: TabularMDP, learned, sizes) -> tuple[jax.Array, tuple[int, ...]]:
    """The learned rewards ``[n_seeds, n_sizes, S, A, S']`` and their sizes, checked."""
    if isinstance(learned, _common.FittedRewards):
        if sizes is not None:
            raise ValueError(
                "sizes is taken from the FittedRewards (learned.sizes); pass sizes only with "
                "an array of learned rewards."
            )
        rewards, sizes = learned.rewards, learned.sizes
    else:
        rewards = learned
    rewards = check_reward(mdp, rewards, name="learned")
    if rewards.ndim != 5:
        raise ValueError(
            "learned must have shape [n_seeds, n_sizes, S, A, S'] (add a length-1 axis for "
            f"one seed or one size), got {tuple(rewards.shape)}."
        )
    if sizes is None:
        raise ValueError(
            f"sizes must name the {rewards.shape[1]} dataset sizes of an array of learned "
            "rewards (learned[:, j] was fitted on sizes[j] data points)."
        )
    sizes = tuple(_checks.positive_int("sizes", size) for size in np.ravel(sizes))
    if len(sizes) != rewards.shape[1]:
        raise ValueError(
            f"sizes must have one entry per learned[:, j], {rewards.shape[1]}, got {len(sizes)}."
        )
    return jnp.asarray(rewards), sizes
