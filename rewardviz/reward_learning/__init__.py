"""Reward learning, evaluated: rewards learned from preferences or demonstrations, judged
against the true reward by exact distances and regret.

STARC (Skalse et al., ICLR 2024) was made to evaluate reward-learning algorithms: does the
learned reward define the same task as the true one? This package learns rewards on a
:class:`~rewardviz.TabularMDP` and answers that question with :mod:`rewardviz.distances`.

- :mod:`~rewardviz.reward_learning.preferences`: pairs of trajectory segments labelled
  by a Bradley–Terry model of their partial return or of their regret (Knox et al. 2022),
  with noise (``beta``) and label flips.
- :mod:`~rewardviz.reward_learning.fit`: maximum-likelihood rewards from preferences under
  either model (optax, one jitted program over seeds and dataset sizes).
- :mod:`~rewardviz.reward_learning.irl`: maximum-entropy IRL from demonstrations
  (Ziebart et al. 2008).
- :mod:`~rewardviz.reward_learning.blend`: blend weights of auxiliary rewards tuned by the
  gradient of the primary return of the soft-optimal policy (the bi-level idea of Gupta
  et al. 2023), against a grid search.
- :mod:`~rewardviz.reward_learning.evaluate`: EPIC, DARD, STARC and regret of learned
  rewards per seed and dataset size, with bootstrap intervals.

Plots are in :mod:`rewardviz.plots` (``learned_reward_distances``,
``learned_reward_maps``); the widget is :class:`rewardviz.widgets.RewardLearningLab`.

    >>> mdp, reward = rv.envs.gridworld(["S..", "..G"], gamma=0.9)
    >>> data = rv.reward_learning.sample_preferences(
    ...     mdp, reward, rv.policies.uniform(mdp), n_pairs=200, segment_length=3, n_seeds=4)
    >>> fitted = rv.reward_learning.fit_preferences(mdp, data, sizes=(50, 200))
    >>> rv.reward_learning.evaluate_learned(mdp, reward, fitted).summary()
"""

from rewardviz.reward_learning.blend import (
    BlendResult,
    blend_grid,
    blend_returns,
    tune_blend,
)
from rewardviz.reward_learning.evaluate import (
    DISTANCES,
    LearnedRewardEvaluation,
    evaluate_learned,
)
from rewardviz.reward_learning.fit import (
    fit_preferences,
    log_likelihood,
)
from rewardviz.reward_learning.irl import (
    Demonstrations,
    demonstration_log_likelihood,
    empirical_feature_counts,
    feature_expectations,
    maxent_irl,
    sample_demonstrations,
)
from rewardviz.reward_learning.preferences import (
    MODELS,
    STARTS,
    Preferences,
    label_preferences,
    preference_probabilities,
    sample_preferences,
    sample_segments,
    segment_regrets,
    segment_returns,
)

# The package is the namespace: every public name of the modules above, documented once,
# on this page.
__all__ = [
    "DISTANCES",
    "MODELS",
    "STARTS",
    "BlendResult",
    "Demonstrations",
    "LearnedRewardEvaluation",
    "Preferences",
    "blend_grid",
    "blend_returns",
    "demonstration_log_likelihood",
    "empirical_feature_counts",
    "evaluate_learned",
    "feature_expectations",
    "fit_preferences",
    "label_preferences",
    "log_likelihood",
    "maxent_irl",
    "preference_probabilities",
    "sample_demonstrations",
    "sample_preferences",
    "sample_segments",
    "segment_regrets",
    "segment_returns",
    "tune_blend",
]
