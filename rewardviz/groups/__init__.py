"""Several rewards per sample, group-relative advantages (GRPO-style): which reward moves the update.

RL post-training of language and generative models samples a *group* of ``G``
completions per prompt, scores each with ``K`` reward functions (format, accuracy,
length, a learned preference model...) and turns the scores into group-relative
advantages. A :class:`GroupRewards` holds those scores ``[P, G, K]`` for ``P`` groups
(prompts, possibly at several training steps). The modules of this package answer:

- :mod:`~rewardviz.groups.group_rewards`: the container, built from arrays or a
  long-format table (:class:`GroupRewards`);
- :mod:`~rewardviz.groups.learning_signal`: what advantage each sample gets under each
  way of combining rewards (:func:`advantages`, TRL's schemes), how much of it each reward
  contributes (:func:`attribution`), how many groups give no learning signal
  (:func:`degenerate_groups`) and whether rewards pull against each other
  (:func:`sign_agreement`, :func:`within_group_correlation`);
- :mod:`~rewardviz.groups.transforms`: reward transforms from the literature
  (:func:`preference_as_reward`, :func:`length_penalty`, :func:`gated_accumulation`, ...);
- :mod:`~rewardviz.groups.comparison`: what a transform or another scheme changes
  (:func:`transform_effects`, :func:`compare_advantages`);
- :mod:`~rewardviz.groups.hacking`: whether a reward is being hacked over training
  (:func:`proxy_gold_divergence`, :func:`length_correlation_drift`, :func:`saturation`);
- :mod:`~rewardviz.groups.npz`: plain ``.npz`` files and the bundled example
  (:func:`read_npz`, :func:`write_npz`, :func:`example_groups`).

Every name is re-exported here, so ``rv.groups.advantages`` is the function. This package
computes; it draws nothing (:mod:`rewardviz.plots.groups`) and reads only ``.npz`` files.

    >>> group = rv.groups.example_groups()
    >>> parts = rv.groups.attribution(group, scheme="normalize_then_sum")
    >>> parts.shape
    (720, 8, 3)
"""

from rewardviz.groups.comparison import (
    AdvantageComparison,
    TransformEffects,
    compare_advantages,
    transform_effects,
)
from rewardviz.groups.group_rewards import GroupRewards
from rewardviz.groups.hacking import (
    Divergence,
    LengthCorrelationDrift,
    Saturation,
    length_correlation_drift,
    proxy_gold_divergence,
    saturation,
)
from rewardviz.groups.learning_signal import (
    NORMALIZATION_ALIASES,
    NORMALIZATIONS,
    SCHEMES,
    DegenerateGroups,
    DegenerateRates,
    advantages,
    attribution,
    degenerate_groups,
    degenerate_rate_by_step,
    sign_agreement,
    within_group_correlation,
)
from rewardviz.groups.npz import EXAMPLE_GROUPS, example_groups, read_npz, write_npz
from rewardviz.groups.transforms import (
    clip_process_rewards,
    delta_process_rewards,
    difficulty_weighted_pass,
    gated_accumulation,
    gated_length_penalty,
    length_penalty,
    preference_as_reward,
)

__all__ = [
    "EXAMPLE_GROUPS",
    "NORMALIZATIONS",
    "NORMALIZATION_ALIASES",
    "SCHEMES",
    "AdvantageComparison",
    "DegenerateGroups",
    "DegenerateRates",
    "Divergence",
    "GroupRewards",
    "LengthCorrelationDrift",
    "Saturation",
    "TransformEffects",
    "advantages",
    "attribution",
    "clip_process_rewards",
    "compare_advantages",
    "degenerate_groups",
    "degenerate_rate_by_step",
    "delta_process_rewards",
    "difficulty_weighted_pass",
    "example_groups",
    "gated_accumulation",
    "gated_length_penalty",
    "length_correlation_drift",
    "length_penalty",
    "preference_as_reward",
    "proxy_gold_divergence",
    "read_npz",
    "saturation",
    "sign_agreement",
    "transform_effects",
    "within_group_correlation",
    "write_npz",
]
