"""Several rewards per sample, group-relative advantages (GRPO-style): which reward moves the update.

RL post-training of language and generative models samples a *group* of ``G``
completions per prompt, scores each with ``K`` reward functions (format, accuracy,
length, a learned preference model...) and turns the scores into group-relative
advantages. A :class:`GroupRewards` holds those scores ``[P, G, K]`` for ``P`` groups
(prompts, possibly at several training steps), with a mask for ragged groups and
optional per-sample metadata (completion length, a held-out "gold" score) and the
training step of each group. The functions below answer:

* what advantage each sample gets, under either way of combining rewards
  (:func:`advantages`), and how much of it each reward contributes (:func:`attribution`);
* how many groups give no learning signal at all (:func:`degenerate_groups`);
* whether rewards pull against each other inside groups (:func:`sign_agreement`,
  :func:`within_group_correlation`);
* what a reward transform from the literature would change (:func:`transform_effects`
  with :func:`preference_as_reward`, :func:`clip_process_rewards`,
  :func:`delta_process_rewards`, :func:`length_penalty`, :func:`gated_length_penalty`,
  :func:`gated_accumulation`, :func:`difficulty_weighted_pass`);
* whether a reward is being hacked over training (:func:`proxy_gold_divergence`,
  :func:`length_correlation_drift`, :func:`saturation`).

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

This module computes; it draws nothing (:mod:`rewardviz.plots.groups`) and reads only
its own bundled example (:func:`example_groups`).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import types
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks

#: Ways of combining several rewards into one advantage (see :func:`advantages`); the first
#: two are TRL's ``multi_objective_aggregation`` options, computed as TRL does.
SCHEMES = ("sum_then_normalize", "normalize_then_sum", "sum_of_normalized")
#: Normalisations of the group-centred reward: divide by the group's ``std + eps``, by the
#: batch's (all groups of the training step), or centre only (TRL's ``scale_rewards``).
NORMALIZATIONS = ("std", "batch", "mean")
#: TRL's ``scale_rewards`` spellings, accepted for ``normalize`` as these.
NORMALIZATION_ALIASES = types.MappingProxyType({"group": "std", "none": "mean"})
#: Groups bundled with the package (``rewardviz/data/<name>.npz``).
EXAMPLE_GROUPS = ("grpo_length_hacking",)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class GroupRewards:
    """Scores of ``K`` rewards for the ``G`` samples of each of ``P`` groups.

    Attributes:
        scores: ``[P, G, K]`` raw (unweighted) score of each reward (0 where masked).
        mask: ``[P, G]`` true for samples that exist (groups may be ragged).
        names: ``K`` reward names.
        weights: ``[K]`` weights; the sample's reward is ``Σ_k w_k·scores[..., k]``.
        length: optional ``[P, G]`` completion length of each sample (0 where masked).
        gold: optional ``[P, G]`` held-out "gold" score (a stronger judge, a human
            label) that the policy was not trained on (0 where masked).
        step: ``[P]`` training step of each group (all 0 when not given).
        prompt_ids: ``P`` prompt identifiers, for labels.

    Construct with :meth:`from_arrays` or :meth:`from_dataframe`.
    """

    scores: jax.Array
    mask: jax.Array
    names: tuple[str, ...]
    weights: jax.Array
    step: jax.Array
    length: jax.Array | None = None
    gold: jax.Array | None = None
    prompt_ids: tuple = ()

    # -- constructors -------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        scores,
        mask=None,
        *,
        names: Sequence[str] | None = None,
        weights=None,
        length=None,
        gold=None,
        step=None,
        prompt_ids: Sequence | None = None,
    ) -> GroupRewards:
        """Groups from arrays: ``scores`` ``[P, G, K]`` and ``mask`` ``[P, G]`` (all true by default).

        Ragged groups (fewer samples for some prompts) are padded to the largest group
        with any number and marked in ``mask``; the padded values are ignored.
        ``length`` and ``gold`` are ``[P, G]``, ``step`` is ``[P]`` (integers).

        Scores and weights are stored in JAX's default float type, and the kernels compute
        in the type they find: float32 unless x64 is enabled, float64 with it (float32
        input is then widened). For float32 in an x64 session, build the dataclass
        directly with float32 ``scores`` and ``weights``.

        Example:
            >>> scores = np.array([[[1, 1, 0.2], [0, 1, 0.9]], [[1, 0, 0.5], [1, 1, 0.4]]])
            >>> group = rv.GroupRewards.from_arrays(
            ...     scores, names=["accuracy", "format", "length"], weights=[1, 0.5, 0.1])
            >>> group.scores.shape
            (2, 2, 3)
        """
        if not isinstance(scores, np.ndarray | jax.Array):
            try:
                np.asarray(scores, dtype=np.float64)
            except ValueError as error:
                if "inhomogeneous" in str(error):
                    raise ValueError(
                        "scores is ragged (groups of different sizes); pad every group to "
                        "the largest group size with any finite number and pass mask "
                        "[prompts, group_size] marking the real samples."
                    ) from error
        host = np.asarray(_checks.float_array("scores", scores), dtype=np.float64)
        if host.ndim != 3:
            raise ValueError(
                f"scores must have shape [prompts, group_size, rewards], got {host.shape}; "
                "for a single reward use scores[..., None], for one group scores[None]."
            )
        if 0 in host.shape:
            raise ValueError(f"scores is empty: shape {host.shape}.")
        n_prompts, group_size, n_rewards = host.shape
        if mask is None:
            mask = np.ones((n_prompts, group_size), dtype=bool)
            hint = (
                " If that group has fewer samples (ragged groups), pass mask= marking the "
                "real samples instead of padding with NaN."
            )
        else:
            hint = ""
        mask = np.asarray(mask)
        if mask.shape != (n_prompts, group_size):
            raise ValueError(
                f"mask must have shape [prompts, group_size] = {(n_prompts, group_size)}, "
                f"got {mask.shape}."
            )
        if mask.dtype != bool:
            raise TypeError(f"mask must be boolean, got dtype {mask.dtype}.")
        empty = ~mask.any(axis=1)
        if empty.any():
            raise ValueError(
                f"group {int(np.argmax(empty))} has no valid sample in mask "
                f"({int(empty.sum())} empty groups); drop empty groups before building."
            )
        names = _reward_names(names, n_rewards)
        bad = ~np.isfinite(host) & mask[..., None]
        if bad.any():
            p, g, k = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"scores has a non-finite value ({host[p, g, k]}) at prompt {p}, sample {g}, "
                f"reward {names[k]!r} ({int(bad.sum())} in all).{hint} Otherwise clean the "
                "scores (a failed reward call is a score you must choose, e.g. 0)."
            )
        dtype = jnp.result_type(float)
        length = _sample_values("length", length, mask, dtype, non_negative=True)
        gold = _sample_values("gold", gold, mask, dtype)
        if step is None:
            step = np.zeros(n_prompts, dtype=np.int64)
        step = np.asarray(step)
        if step.shape != (n_prompts,):
            raise ValueError(
                f"step must have one training step per group ({n_prompts}), got shape {step.shape}."
            )
        if not np.issubdtype(step.dtype, np.integer):
            if not (np.issubdtype(step.dtype, np.floating) and np.all(step == np.round(step))):
                raise TypeError(f"step must hold integers, got dtype {step.dtype}.")
            step = step.astype(np.int64)
        if prompt_ids is None:
            prompt_ids = tuple(range(n_prompts))
        prompt_ids = tuple(_python_scalar(value) for value in prompt_ids)
        if len(prompt_ids) != n_prompts:
            raise ValueError(
                f"prompt_ids must have one entry per group ({n_prompts}), got {len(prompt_ids)}."
            )
        return cls(
            scores=jnp.asarray(np.where(mask[..., None], host, 0.0), dtype=dtype),
            mask=jnp.asarray(mask),
            names=names,
            weights=jnp.asarray(_weights(weights, names), dtype=dtype),
            step=jnp.asarray(step),
            length=length,
            gold=gold,
            prompt_ids=prompt_ids,
        )

    @classmethod
    def from_dataframe(
        cls,
        frame,
        *,
        prompt: str = "prompt",
        sample: str = "sample",
        reward: str = "reward",
        score: str = "score",
        step: str | None = "step",
        length: str | None = "length",
        gold: str | None = "gold",
        weights=None,
    ) -> GroupRewards:
        """Groups from a long-format table: one row per (prompt, sample, reward, score[, step]).

        A group is one prompt at one training step (the same prompt seen again at a later
        step is a new group); groups are ordered by step, then prompt id, samples by
        sample id. Groups may have different numbers of samples (the mask is built), but
        every sample needs a score for every reward, exactly once. Optional columns
        ``length`` and ``gold`` hold per-sample metadata, repeated on each of the
        sample's rows (they must agree). A column named by ``step``, ``length`` or
        ``gold`` that is absent is simply not read.

        Example:
            >>> frame = pd.DataFrame({"prompt": [0, 0, 0, 0], "sample": [0, 0, 1, 1],
            ...                       "reward": ["acc", "fmt"] * 2, "score": [1, 1, 0, 1]})
            >>> rv.GroupRewards.from_dataframe(frame).names
            ('acc', 'fmt')
        """
        required = [prompt, sample, reward, score]
        missing = [column for column in required if column not in frame]
        if missing:
            raise ValueError(
                f"the table has no column(s) {missing}; its columns are {list(frame.columns)}. "
                "Name the columns with prompt=, sample=, reward=, score=."
            )
        if len(frame) == 0:
            raise ValueError("the table has no rows: there are no groups.")
        has_steps = step is not None and step in frame
        steps = frame[step].to_numpy() if has_steps else np.zeros(len(frame), dtype=np.int64)
        if not np.issubdtype(steps.dtype, np.integer):
            raise TypeError(f"column {step!r} must hold integer steps, got dtype {steps.dtype}.")
        labels, first_row, label_index = np.unique(
            frame[reward].astype(str).to_numpy(), return_index=True, return_inverse=True
        )
        order = np.argsort(first_row)  # rewards keep the order in which they first appear
        names = tuple(labels[order].tolist())
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        reward_index = position[label_index.reshape(-1)]
        prompts = frame[prompt].to_numpy()
        # Groups: distinct (step, prompt) pairs, in step order then prompt order.
        group_keys, group_index = _unique_rows(steps, prompts)
        sample_ids = frame[sample].to_numpy()
        pair_keys, pair_index = _unique_rows(group_index, sample_ids)
        slot = _rank_within(pair_keys[:, 0].astype(np.int64), len(group_keys))
        n_groups = len(group_keys)
        group_size = int(np.bincount(pair_keys[:, 0].astype(np.int64)).max())
        sample_slot = slot[pair_index]
        values = frame[score].to_numpy()
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"column {score!r} must hold numbers: {error}") from error
        if not np.isfinite(values).all():
            row = int(np.argmax(~np.isfinite(values)))
            raise ValueError(
                f"column {score!r} has a non-finite value ({values[row]}) for "
                f"{_group_label((steps[row], prompts[row]), has_steps)}, sample "
                f"{_python_scalar(sample_ids[row])!r}, reward {names[reward_index[row]]!r} "
                f"({int((~np.isfinite(values)).sum())} in all); clean the scores first (a "
                "failed reward call is a score you must choose, e.g. 0)."
            )
        filled = np.zeros((n_groups, group_size, len(names)), dtype=np.int64)
        np.add.at(filled, (group_index, sample_slot, reward_index), 1)
        mask = filled.any(axis=-1)
        twice = filled > 1
        if twice.any():
            p, g, k = np.argwhere(twice)[0]
            raise ValueError(
                f"{_group_label(group_keys[p], has_steps)}, sample {_sample_at(pair_keys, p, g)!r} "
                f"has {filled[p, g, k]} rows for reward {names[k]!r}; each (group, sample, "
                "reward) must appear once."
            )
        gaps = mask[..., None] & (filled == 0)
        if gaps.any():
            p, g, k = np.argwhere(gaps)[0]
            raise ValueError(
                f"{_group_label(group_keys[p], has_steps)}, sample {_sample_at(pair_keys, p, g)!r} "
                f"has no score for reward {names[k]!r}; every sample needs a score for every "
                "reward (fill it explicitly, e.g. 0)."
            )
        cube = np.zeros(filled.shape)
        cube[group_index, sample_slot, reward_index] = values
        metadata = {}
        for key, column in (("length", length), ("gold", gold)):
            if column is None or column not in frame:
                continue
            column_values = frame[column].to_numpy(dtype=np.float64)
            grid = np.zeros(mask.shape)
            grid[group_index, sample_slot] = column_values
            disagree = column_values != grid[group_index, sample_slot]
            disagree &= ~(np.isnan(column_values) & np.isnan(grid[group_index, sample_slot]))
            if disagree.any():
                row = int(np.argmax(disagree))
                raise ValueError(
                    f"column {column!r} differs between the rows of one sample "
                    f"({_group_label(group_keys[group_index[row]], has_steps)}, sample "
                    f"{_python_scalar(sample_ids[row])!r}); it is per-sample metadata and "
                    "must be repeated unchanged on each of the sample's rows."
                )
            metadata[key] = grid
        return cls.from_arrays(
            cube,
            mask,
            names=names,
            weights=weights,
            step=group_keys[:, 0].astype(np.int64),
            prompt_ids=group_keys[:, 1].tolist(),
            **metadata,
        )

    # -- views ---------------------------------------------------------------------

    @property
    def n_prompts(self) -> int:
        """Number of groups ``P`` (a prompt seen at two steps counts twice)."""
        return self.scores.shape[0]

    @property
    def group_size(self) -> int:
        """Largest group size ``G``."""
        return self.scores.shape[1]

    @property
    def n_rewards(self) -> int:
        return self.scores.shape[2]

    @property
    def sizes(self) -> jax.Array:
        """``[P]`` number of valid samples in each group."""
        return self.mask.sum(axis=1).astype(jnp.int32)

    @property
    def total(self) -> jax.Array:
        """``[P, G]`` each sample's weighted reward ``Σ_k w_k·scores[..., k]`` (0 where masked)."""
        return (self.scores * self.weights).sum(axis=-1)

    def reward(self, name: str) -> jax.Array:
        """``[P, G]`` raw scores of the reward called ``name``."""
        return self.scores[..., self.index(name)]

    def index(self, name: str) -> int:
        """Position of the reward called ``name``; a clear error for an unknown name."""
        if name not in self.names:
            raise ValueError(f"unknown reward name {name!r}; the rewards are {list(self.names)}.")
        return self.names.index(name)

    def with_weights(self, weights) -> GroupRewards:
        """The same groups with new weights (a sequence of ``K`` or ``{name: weight}``)."""
        new = jnp.asarray(_weights(weights, self.names, self.weights), dtype=self.weights.dtype)
        return dataclasses.replace(self, weights=new)

    def with_reward(self, name: str, values, weight: float | None = None) -> GroupRewards:
        """The same groups with reward ``name`` replaced by ``values`` ``[P, G]`` (or added).

        A replaced reward keeps its weight unless ``weight`` is given; an added one gets
        ``weight`` (1 by default). Values at masked samples are ignored.

        Example:
            >>> shaped = group.with_reward("length", rv.groups.length_penalty(group.length,
            ...                            group.reward("accuracy"), group.mask))
        """
        values = np.asarray(_checks.float_array(f"values for {name!r}", values), np.float64)
        mask = np.asarray(self.mask)
        if values.shape != mask.shape:
            raise ValueError(
                f"values for {name!r} must have shape [prompts, group_size] = {mask.shape}, "
                f"got {values.shape}."
            )
        bad = ~np.isfinite(values) & mask
        if bad.any():
            p, g = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"values for {name!r} have a non-finite value at prompt {p}, sample {g}."
            )
        column = jnp.asarray(np.where(mask, values, 0.0), dtype=self.scores.dtype)
        if name in self.names:
            k = self.names.index(name)
            weights = self.weights if weight is None else self.weights.at[k].set(float(weight))
            scores = self.scores.at[..., k].set(column)
            return dataclasses.replace(self, scores=scores, weights=weights)
        weight = 1.0 if weight is None else float(weight)
        return dataclasses.replace(
            self,
            scores=jnp.concatenate([self.scores, column[..., None]], axis=-1),
            names=(*self.names, str(name)),
            weights=jnp.append(self.weights, jnp.asarray(weight, self.weights.dtype)),
        )

    def to_frame(self):
        """The groups as a long-format ``pandas.DataFrame`` that :meth:`from_dataframe` reads back.

        Columns ``prompt``, ``sample``, ``reward``, ``score``, ``step`` and, where
        present, ``length`` and ``gold``; one row per valid (group, sample, reward). The
        ``sample`` column is the sample's position in its group (the original sample
        ids are not kept).
        """
        import pandas

        p, g = np.nonzero(np.asarray(self.mask))
        rows = {
            "prompt": np.repeat(np.asarray(self.prompt_ids, dtype=object)[p], self.n_rewards),
            "sample": np.repeat(g, self.n_rewards),
            "reward": np.tile(np.asarray(self.names, dtype=object), len(p)),
            "score": np.asarray(self.scores)[p, g].ravel(),
            "step": np.repeat(np.asarray(self.step)[p], self.n_rewards),
        }
        for key in ("length", "gold"):
            values = getattr(self, key)
            if values is not None:
                rows[key] = np.repeat(np.asarray(values)[p, g], self.n_rewards)
        return pandas.DataFrame(rows)

    def __repr__(self) -> str:
        sizes = np.asarray(self.sizes)
        extras = [key for key in ("length", "gold") if getattr(self, key) is not None]
        steps = np.unique(np.asarray(self.step))
        return (
            f"GroupRewards(groups={self.n_prompts}, samples={int(sizes.sum())} "
            f"(group size {int(sizes.min())}..{int(sizes.max())}), rewards={list(self.names)}, "
            f"weights={np.asarray(self.weights).round(4).tolist()}, steps={len(steps)}"
            + (f", metadata={extras}" if extras else "")
            + ")"
        )


jax.tree_util.register_dataclass(
    GroupRewards,
    data_fields=["scores", "mask", "weights", "step", "length", "gold"],
    meta_fields=["names", "prompt_ids"],
)


# ---------------------------------------------------------------------------
# Advantages and their attribution.


def advantages(
    group: GroupRewards,
    scheme: str = "sum_then_normalize",
    normalize: str = "std",
    ddof: int = 1,
    eps: float = 1e-4,
) -> jax.Array:
    """``[P, G]`` group-relative advantage of every sample (0 at masked samples).

    Notation: ``s_ik`` is the score of reward ``k`` for sample ``i``, ``w_k`` its weight;
    ``mean_G``, ``std_G`` are taken over the valid samples of the sample's group and
    ``mean_B``, ``std_B`` over the *batch*: every valid sample of every group at the
    same training step (:attr:`GroupRewards.step`; all groups when no steps were given),
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
    return attribution(group, scheme, normalize, ddof, eps).sum(axis=-1)


def attribution(
    group: GroupRewards,
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
    _check_group(group)
    scheme, normalize, ddof, eps = _advantage_options(scheme, normalize, ddof, eps)
    return _attribution(
        group.scores, group.mask, group.weights, group.step, ddof, eps, scheme, normalize
    )


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
    :func:`attribution` and :func:`length_correlation_drift` decide ties by this rule.

    Example:
        >>> rv.groups.degenerate_groups(group).to_frame()
    """
    _check_group(group)
    total, per_reward = _degenerate(group.scores, group.mask, group.weights)
    return DegenerateGroups(np.asarray(total), np.asarray(per_reward), group.names)


def degenerate_rate_by_step(group: GroupRewards):
    """Fraction of degenerate groups at each training step, overall and per reward.

    Returns:
        ``pandas.DataFrame`` indexed by step, with a ``total`` column and one column per
        reward.
    """
    import pandas

    _check_group(group)
    steps, segment = _steps(group)
    total, per_reward = _degenerate(group.scores, group.mask, group.weights)
    values = jnp.concatenate([total[:, None], per_reward], axis=1).astype(group.scores.dtype)
    rate = _segment_mean(values, segment, len(steps))
    return pandas.DataFrame(
        np.asarray(rate), index=pandas.Index(steps, name="step"), columns=["total", *group.names]
    )


def sign_agreement(group: GroupRewards) -> jax.Array:
    """``[K, K]`` how often two rewards push a sample the same way, within its group.

    For rewards ``j`` and ``k``, over valid samples where both centred scores
    ``s_ij − mean_G(s_j)`` and ``s_ik − mean_G(s_k)`` are non-zero: the fraction with the
    same sign. 1 means the rewards always agree on which samples are above average, 0
    that they always disagree (conflict), about ½ that they are unrelated. A pair with no
    such sample gets 1 (no observed conflict); the diagonal is 1.
    """
    _check_group(group)
    return _sign_agreement(group.scores, group.mask)


def within_group_correlation(group: GroupRewards) -> jax.Array:
    """``[K, K]`` pooled within-group correlation of the rewards: the part advantages see.

    ``ρ_jk = Σ_p Σ_i c_pij c_pik / sqrt(Σ c_pij² · Σ c_pik²)`` with ``c`` the scores
    centred within their group (0 in degenerate groups). Between-prompt differences
    (easy versus hard prompts) cancel, unlike in a plain correlation over samples. A
    reward that never varies within a group has correlation 0 with every other (1 with
    itself).
    """
    _check_group(group)
    return _within_correlation(group.scores, group.mask)


# ---------------------------------------------------------------------------
# Reward transforms from the literature (pure functions on arrays).


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
    return jax.nn.sigmoid(reward - reference)


def clip_process_rewards(step_rewards, mask=None, threshold: float = 0.0) -> jax.Array:
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
    return jnp.where(mask, jnp.minimum(rewards - float(threshold), 0.0), 0.0)


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


def gated_length_penalty(
    length, correct, mask=None, ratio_threshold: float = 0.5, alpha: float = 1.0
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
    length, correct, mask = _group_inputs(length, correct, mask)
    penalty = _length_penalty(length, correct, mask)
    ratio = (correct * mask).sum(-1, keepdims=True) / mask.sum(-1, keepdims=True)
    gated = jnp.where(ratio >= ratio_threshold, correct + float(alpha) * penalty, correct)
    return jnp.where(mask, gated, 0.0)


def gated_accumulation(outcome, dense, threshold: float) -> jax.Array:
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
    return outcome + jnp.where(outcome >= float(threshold), dense, 0.0)


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


@dataclasses.dataclass(frozen=True, eq=False)
class TransformEffects:
    """How reward transforms change the advantages of one logged batch (:func:`transform_effects`).

    Attributes:
        names: ``N`` transform names.
        baseline: ``[P, G]`` advantages of the logged rewards.
        advantages: ``[N, P, G]`` advantages after each transform.
        mask: ``[P, G]`` valid samples.
        degenerate_before: fraction of degenerate groups before.
        degenerate_after: ``[N]`` fraction of degenerate groups after each transform.
    """

    names: tuple[str, ...]
    baseline: np.ndarray
    advantages: np.ndarray
    mask: np.ndarray
    degenerate_before: float
    degenerate_after: np.ndarray

    def to_frame(self):
        """One row per transform: correlation with the baseline advantages, the fraction of
        samples whose advantage changes sign, the mean absolute change, and degenerate
        fractions before and after."""
        import pandas

        rows = []
        for transformed, degenerate_after in zip(
            self.advantages, self.degenerate_after, strict=True
        ):
            summary = compare_advantages(self.baseline, transformed, self.mask)
            rows.append(
                {
                    **summary,
                    "degenerate before": self.degenerate_before,
                    "degenerate after": float(degenerate_after),
                }
            )
        return pandas.DataFrame(rows, index=pandas.Index(self.names, name="transform"))


def transform_effects(
    group: GroupRewards,
    transforms: Mapping[str, Callable[[GroupRewards], GroupRewards] | GroupRewards],
    scheme: str = "sum_then_normalize",
    normalize: str = "std",
    ddof: int = 1,
    eps: float = 1e-4,
) -> TransformEffects:
    """Advantages of a logged batch before and after each reward transform.

    Args:
        group: the logged groups.
        transforms: ``{name: transform}``, each a function taking and returning a
            :class:`GroupRewards` (typically ``lambda g: g.with_reward(...)``) or the
            transformed groups themselves; the samples and mask must be unchanged.
        scheme, normalize, ddof, eps: as in :func:`advantages`.

    Example:
        >>> effects = rv.groups.transform_effects(group, {
        ...     "PAR on length": lambda g: g.with_reward(
        ...         "length", rv.groups.preference_as_reward(g.reward("length"), 0.5)),
        ... })
        >>> effects.to_frame()
    """
    if not transforms:
        raise ValueError("transforms is empty: give at least one {name: transform}.")
    options = (scheme, normalize, ddof, eps)
    baseline = np.asarray(advantages(group, *options))
    results, degenerate_after = [], []
    for name, transform in transforms.items():
        transformed = transform(group) if callable(transform) else transform
        if not isinstance(transformed, GroupRewards):
            raise TypeError(
                f"transform {name!r} must return a GroupRewards (e.g. group.with_reward(...)), "
                f"got {type(transformed).__name__}."
            )
        if transformed.mask.shape != group.mask.shape or not bool(
            (transformed.mask == group.mask).all()
        ):
            raise ValueError(
                f"transform {name!r} changed the samples (mask {transformed.mask.shape}); a "
                "transform must rescore the same samples."
            )
        results.append(np.asarray(advantages(transformed, *options)))
        degenerate_after.append(degenerate_groups(transformed).fraction)
    return TransformEffects(
        names=tuple(str(name) for name in transforms),
        baseline=baseline,
        advantages=np.stack(results),
        mask=np.asarray(group.mask),
        degenerate_before=degenerate_groups(group).fraction,
        degenerate_after=np.asarray(degenerate_after),
    )


def compare_advantages(first, second, mask) -> dict[str, float]:
    """How two advantage arrays ``[P, G]`` over the same samples differ (valid samples only).

    Returns ``{"correlation", "sign flips", "mean |change|"}``: the Pearson correlation
    (1 if either is constant), the fraction of valid samples whose advantage has a
    different sign (``np.sign``, so 0 counts as its own sign), and the mean absolute
    difference. Use it to compare two schemes of :func:`advantages` or a transform.
    """
    mask = np.asarray(mask, dtype=bool)
    a = np.asarray(first, dtype=np.float64)[mask]
    b = np.asarray(second, dtype=np.float64)[mask]
    if a.shape != b.shape:
        raise ValueError("first and second must have the same shape as mask.")
    ca, cb = a - a.mean(), b - b.mean()
    spread = np.sqrt((ca**2).sum() * (cb**2).sum())
    correlation = float((ca * cb).sum() / spread) if spread > 0 else 1.0
    return {
        "correlation": correlation,
        "sign flips": float((np.sign(a) != np.sign(b)).mean()),
        "mean |change|": float(np.abs(a - b).mean()),
    }


# ---------------------------------------------------------------------------
# Reward hacking signals over training steps.


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


def proxy_gold_divergence(
    group: GroupRewards,
    proxy: str | None = None,
    *,
    window: int = 1,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> Divergence:
    """The training step where the proxy reward keeps rising but the gold score turns down.

    Overoptimisation (Gao, Schulman, Hilton 2023, "Scaling laws for reward model
    overoptimization"): as a policy optimises a proxy, the gold score first follows it,
    peaks and then falls. The divergence step is the peak of the per-step mean gold
    score (the mean over the step's groups of each group's mean, after a centred moving
    average over ``window`` steps), reported when the proxy is higher and the gold score
    lower at the last step than at the peak. Its uncertainty: the groups of
    each step are resampled with replacement ``n_bootstrap`` times and the peak found
    again; ``interval`` is the 2.5–97.5 percentile of those steps.

    Args:
        group: groups with ``gold`` scores and several training steps.
        proxy: the reward to treat as proxy; the weighted total by default.
        window: odd width of the moving average over steps (1: none).
        n_bootstrap: bootstrap resamples.
        seed: seed of the resampling.
    """
    _check_group(group)
    if group.gold is None:
        raise ValueError(
            "the groups have no gold scores; build them with gold=[P, G] (or a 'gold' column)."
        )
    window = _positive_int("window", window)
    if window % 2 == 0:
        raise ValueError(f"window must be odd (a centred moving average), got {window}.")
    n_bootstrap = _positive_int("n_bootstrap", n_bootstrap)
    values = group.total if proxy is None else group.reward(proxy)
    steps, segment = _steps(group)
    if len(steps) < 2:
        raise ValueError("proxy_gold_divergence needs groups from at least two training steps.")
    order = np.argsort(segment, kind="stable")
    counts = np.bincount(segment, minlength=len(steps))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    smoother = jnp.asarray(_moving_average_matrix(len(steps), window), values.dtype)
    proxy_curve, gold_curve, peaks = _divergence(
        values[order],
        group.gold[order],
        group.mask[order],
        jnp.asarray(segment[order]),
        jnp.asarray(starts),
        jnp.asarray(counts),
        smoother,
        jax.random.key(seed),
        n_bootstrap,
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


def length_correlation_drift(group: GroupRewards):
    """Within-group correlation of each reward (and the total) with completion length, per step.

    At each step, the pooled within-group correlation (as in
    :func:`within_group_correlation`) between a reward and the sample's length: how much
    *longer than its siblings* pays. A correlation that climbs over training is the
    classic sign of a length-hacked reward.

    Returns:
        ``pandas.DataFrame`` indexed by step, one column per reward and ``total``; its
        ``attrs["slope"]`` holds each column's least-squares slope per step.
    """
    import pandas

    _check_group(group)
    if group.length is None:
        raise ValueError(
            "the groups have no completion lengths; build them with length=[P, G] "
            "(or a 'length' column)."
        )
    steps, segment = _steps(group)
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
    frame = pandas.DataFrame(
        correlation, index=pandas.Index(steps, name="step"), columns=[*group.names, "total"]
    )
    if len(steps) > 1:
        centred = steps - steps.mean()
        slopes = centred @ (correlation - correlation.mean(0)) / (centred**2).sum()
    else:
        slopes = np.zeros(correlation.shape[1])
    frame.attrs["slope"] = dict(zip(frame.columns, slopes.tolist(), strict=True))
    return frame


def saturation(group: GroupRewards):
    """Per-step saturation of each reward: its level within its range and its lost spread.

    Two columns per reward: ``level`` is the step's mean score mapped to ``[0, 1]`` by the
    smallest and largest score of that reward over the whole log (0 for a constant
    reward), and ``degenerate`` the fraction of the step's groups in which the reward is
    constant. A reward near level 1 with degenerate fraction near 1 is saturated: it no
    longer separates samples and its weight buys nothing.

    Returns:
        ``pandas.DataFrame`` indexed by step with a two-level column index
        ``(reward, "level" | "degenerate")``.
    """
    import pandas

    _check_group(group)
    steps, segment = _steps(group)
    level, degenerate = _saturation(group.scores, group.mask, jnp.asarray(segment), len(steps))
    columns = pandas.MultiIndex.from_product([group.names, ["level", "degenerate"]])
    data = np.stack([np.asarray(level), np.asarray(degenerate)], axis=-1).reshape(len(steps), -1)
    return pandas.DataFrame(data, index=pandas.Index(steps, name="step"), columns=columns)


# ---------------------------------------------------------------------------
# Bundled example.


def example_groups(name: str = "grpo_length_hacking") -> GroupRewards:
    """A synthetic but realistic GRPO log bundled with the package, for the notebook and tests.

    ``"grpo_length_hacking"``: 60 training steps × 12 prompts × 8 samples with rewards
    ``format`` (0/1), ``accuracy`` (0/1) and ``length`` (a "reason more" reward that the
    policy slowly learns to hack by padding), completion lengths and a held-out gold
    score that rises, peaks and falls. Written by ``tools/make_group_log.py`` (see its
    docstring for the generating model) as a plain ``.npz`` read with
    ``allow_pickle=False``.

    Example:
        >>> rv.groups.example_groups().names
        ('format', 'accuracy', 'length')
    """
    if name not in EXAMPLE_GROUPS:
        raise ValueError(f"unknown example groups {name!r}; available: {list(EXAMPLE_GROUPS)}.")
    return read_npz(pathlib.Path(__file__).parent / "data" / f"{name}.npz")


def read_npz(path) -> GroupRewards:
    """Groups saved by :func:`write_npz` (read with ``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as stored:
        return GroupRewards.from_arrays(
            stored["scores"],
            stored["mask"],
            names=[str(name) for name in stored["names"]],
            weights=stored["weights"],
            step=stored["step"],
            prompt_ids=stored["prompt_ids"].tolist(),
            length=stored["length"] if "length" in stored else None,
            gold=stored["gold"] if "gold" in stored else None,
        )


def write_npz(group: GroupRewards, path) -> None:
    """Save ``group`` as a plain ``.npz``, written to a temporary file and renamed into place.

    Prompt ids are stored as numbers or strings (no objects, so nothing needs pickle).
    """
    path = pathlib.Path(path)
    arrays = {
        "scores": np.asarray(group.scores),
        "mask": np.asarray(group.mask),
        "names": np.array(group.names, dtype=str),
        "weights": np.asarray(group.weights),
        "step": np.asarray(group.step),
        "prompt_ids": np.asarray(group.prompt_ids),
    }
    if arrays["prompt_ids"].dtype.kind == "O":
        arrays["prompt_ids"] = arrays["prompt_ids"].astype(str)
    for key in ("length", "gold"):
        if getattr(group, key) is not None:
            arrays[key] = np.asarray(getattr(group, key))
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with open(temporary, "wb") as file:
            np.savez_compressed(file, **arrays)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------
# Jitted kernels on [P, G, ...] arrays.

_HIGHEST = jax.lax.Precision.HIGHEST


def _centred(values, mask, ddof, bound=0.0):
    """Centre ``values`` ``[P, G, ...]`` within groups over valid samples.

    ``bound`` (broadcastable to ``[P, ...]``) bounds the rounding error of each value: a
    group whose valid values spread by at most twice it is degenerate, as two values
    equal in exact arithmetic can differ by that much (0 for exact inputs such as raw
    scores: then only exactly equal values tie). Returns the centred values (exactly 0 in
    a degenerate group, and at masked samples), the group standard deviation with
    ``ddof`` (0 where undefined) and the degenerate flags ``[P, ...]``.
    """
    valid = mask.reshape(mask.shape + (1,) * (values.ndim - 2))
    count = valid.sum(axis=1)
    mean = jnp.where(valid, values, 0).sum(axis=1) / jnp.maximum(count, 1)
    high = jnp.where(valid, values, -jnp.inf).max(axis=1)
    low = jnp.where(valid, values, jnp.inf).min(axis=1)
    degenerate = (count < 2) | (high - low <= 2 * bound)
    centred = jnp.where(valid & ~degenerate[:, None], values - mean[:, None], 0)
    dof = count - ddof
    variance = (centred**2).sum(axis=1) / jnp.maximum(dof, 1)
    std = jnp.where(dof > 0, jnp.sqrt(variance), 0)
    return centred, std, degenerate


def _gamma(n, dtype):
    """Higham's ``γ_n = n·u / (1 − n·u)``: relative error bound of ``n`` rounded operations."""
    nu = n * (jnp.finfo(dtype).eps / 2)
    return nu / (1 - nu)


def _totals(scores, mask, weights):
    """Weighted totals ``[P, G]`` and the rounding bound ``[P]`` of each group's totals.

    A ``K``-term inner product errs by at most ``γ_K Σ_k |w_k s_ik|`` in any summation
    order (Higham 2002, §3.1); the group's bound is the largest over its valid samples.
    """
    terms = scores * weights
    magnitude = jnp.where(mask, jnp.abs(terms).sum(-1), 0).max(axis=1)
    return terms.sum(-1), _gamma(scores.shape[-1], terms.dtype) * magnitude


def _standardised(scores, mask, weights, ddof, eps):
    """Per-reward ``w_k z_ik`` ``[P, G, K]`` of GDPO and the rounding bound ``[P]`` of ``R_i``.

    First-order bound on the rounding error of ``R_i = Σ_k w_k z_ik`` in a group of ``n``
    valid samples, with ``S_k`` the largest ``|s_ik|`` and ``d_k = std_G(s_k) + ε``: the
    mean errs by ``γ_{n+1} S_k``, so each centred score by ``γ_{n+3} S_k``; the standard
    deviation by ``5 γ_{n+3} S_k`` (``|c| ≤ 2 S_k``, ``σ ≤ 2√2 S_k``); ``|z| ≤ √n``, so
    ``z_ik`` errs by ``(1 + 5√n) γ_{n+3} S_k / d_k + 2u√n``, and the weighted sum adds
    ``γ_K √n |w_k|`` per reward. A reward constant in its group has ``z = 0`` exactly.
    """
    centred, std, constant = _centred(scores, mask, ddof)
    spread = std + eps
    terms = _divide(centred, spread[:, None, :]) * weights
    count = mask.sum(axis=1)[:, None]
    root = jnp.sqrt(count)
    largest = jnp.where(mask[..., None], jnp.abs(scores), 0).max(axis=1)
    dtype = terms.dtype
    per_reward = _gamma(scores.shape[-1] + 2, dtype) * root + (1 + 5 * root) * _gamma(
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
        _, _, tied = _centred(terms.sum(-1), mask, ddof, bound)
        terms = jnp.where(tied[:, None, None], 0, terms)
        spread = _batch_std(terms.sum(-1), mask, _step_segments(step), ddof)
        return _divide(terms, spread[:, None, None] + eps)
    centred, std, _ = _centred(scores, mask, ddof)
    parts = centred * weights
    if normalize == "mean":
        return parts
    if scheme == "sum_of_normalized":
        if normalize == "batch":
            std = _batch_std(scores, mask, _step_segments(step), ddof)
        return _divide(parts, std[:, None, :] + eps)
    totals, bound = _totals(scores, mask, weights)
    _, spread, degenerate = _centred(totals, mask, ddof, bound)
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
    totals, bound = _totals(scores, mask, weights)
    _, _, total = _centred(totals, mask, 0, bound)
    _, _, per_reward = _centred(scores, mask, 0)
    return total, per_reward


@jax.jit
def _sign_agreement(scores, mask):
    centred, _, _ = _centred(scores, mask, 0)
    # A sample at its group's mean has no side; under jit the mean may be off by an ulp
    # (x / n compiled as x * (1 / n)), so "at the mean" is decided to rounding.
    scale = jnp.abs(jnp.where(mask[..., None], scores, 0)).max(axis=1, keepdims=True)
    at_mean = jnp.abs(centred) <= 16 * jnp.finfo(scores.dtype).eps * scale
    sign = jnp.where(at_mean, 0, jnp.sign(centred)).reshape(-1, centred.shape[-1])
    both = jnp.einsum("nj,nk->jk", jnp.abs(sign), jnp.abs(sign), precision=_HIGHEST)
    same = jnp.einsum("nj,nk->jk", sign, sign, precision=_HIGHEST)  # +1 agree, −1 disagree
    agreement = jnp.where(both > 0, (both + same) / (2 * jnp.where(both > 0, both, 1)), 1)
    return jnp.where(jnp.eye(len(agreement), dtype=bool), 1, agreement)


def _pooled_correlation(first, second):
    """Correlation from centred ``first`` ``[N, J]`` and ``second`` ``[N, K]``; 0 if constant."""
    cross = jnp.einsum("nj,nk->jk", first, second, precision=_HIGHEST)
    norm_first = jnp.sqrt((first**2).sum(0))
    norm_second = jnp.sqrt((second**2).sum(0))
    spread = norm_first[:, None] * norm_second[None, :]
    return jnp.where(spread > 0, cross / jnp.where(spread > 0, spread, 1), 0)


@jax.jit
def _within_correlation(scores, mask):
    centred, _, _ = _centred(scores, mask, 0)
    flat = centred.reshape(-1, centred.shape[-1])
    correlation = jnp.clip(_pooled_correlation(flat, flat), -1, 1)
    return jnp.where(jnp.eye(len(correlation), dtype=bool), 1, correlation)


@partial(jax.jit, static_argnames=("n_segments",))
def _segment_mean(values, segment, n_segments):
    sums = jax.ops.segment_sum(values, segment, n_segments)
    counts = jax.ops.segment_sum(jnp.ones(len(segment), values.dtype), segment, n_segments)
    return sums / counts.reshape((-1,) + (1,) * (values.ndim - 1))


@partial(jax.jit, static_argnames=("n_segments",))
def _length_correlation(scores, weights, length, mask, segment, n_segments):
    totals, bound = _totals(scores, mask, weights)
    centred_scores, _, _ = _centred(scores, mask, 0)
    centred_totals, _, _ = _centred(totals, mask, 0, bound)
    centred = jnp.concatenate([centred_scores, centred_totals[..., None]], axis=-1)
    centred_length, _, _ = _centred(length, mask, 0)
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
    _, _, degenerate = _centred(scores, mask, 0)
    return level, _segment_mean(degenerate.astype(scores.dtype), segment, n_segments)


@partial(jax.jit, static_argnames=("n_bootstrap",))
def _divergence(proxy, gold, mask, segment, starts, counts, smoother, key, n_bootstrap):
    """Per-step curves and the bootstrap distribution of the gold peak's step index.

    Inputs are sorted by step: the groups of step ``s`` are ``starts[s] : starts[s] +
    counts[s]``. Each group enters with its mean over valid samples; a step's value is
    the mean over its groups, the unit resampled by the bootstrap.
    """
    n_steps = len(counts)
    valid = mask.astype(proxy.dtype)
    sizes = valid.sum(1)
    proxy_group = (proxy * valid).sum(1) / sizes
    gold_group = (gold * valid).sum(1) / sizes

    def curve(group_values, index):
        sums = jax.ops.segment_sum(group_values[index], segment, n_steps)
        return jnp.matmul(smoother, sums / counts, precision=_HIGHEST)

    identity = jnp.arange(len(segment))
    draws = jax.random.uniform(key, (n_bootstrap, len(segment)), dtype=proxy.dtype)
    # Resample within each step: slot i of step s draws a group of step s uniformly.
    offsets = jnp.minimum(jnp.floor(draws * counts[segment]), counts[segment] - 1)
    resampled = starts[segment] + offsets.astype(starts.dtype)
    boot_gold = jax.vmap(lambda index: curve(gold_group, index))(resampled)
    return (
        curve(proxy_group, identity),
        curve(gold_group, identity),
        jnp.argmax(boot_gold, axis=1),
    )


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
    return jnp.where(mask, jnp.einsum("pgu,pu->pg", passed, weights, precision=_HIGHEST), 0)


# ---------------------------------------------------------------------------
# Validation helpers.


def _check_group(group) -> None:
    if not isinstance(group, GroupRewards):
        raise TypeError(
            f"group must be a GroupRewards (rv.GroupRewards.from_arrays(...)), "
            f"got {type(group).__name__}."
        )


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
    if isinstance(ddof, bool) or ddof not in (0, 1):
        raise ValueError(
            f"ddof must be 1 (sample standard deviation, TRL's default) or 0 (population), "
            f"got {ddof!r}."
        )
    eps = float(eps)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number ≥ 0, got {eps!r}.")
    return scheme, normalize, int(ddof), eps


def _reward_names(names, count: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"reward_{k}" for k in range(count))
    if isinstance(names, str):
        raise TypeError(
            f"names must be a sequence of {count} reward names, got the string {names!r}."
        )
    names = tuple(str(name) for name in names)
    if len(names) != count:
        raise ValueError(f"names must have {count} entries (one per reward), got {len(names)}.")
    if len(set(names)) != len(names):
        raise ValueError(f"reward names must be unique, got {list(names)}.")
    return names


def _weights(weights, names, current=None) -> np.ndarray:
    base = np.ones(len(names)) if current is None else np.asarray(current, dtype=float)
    if weights is None:
        return base
    if isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise ValueError(
                f"weights names unknown reward(s) {unknown}; the rewards are {list(names)}."
            )
        values = np.array([float(weights.get(name, base[k])) for k, name in enumerate(names)])
    else:
        values = np.asarray(weights, dtype=float)
        if values.shape != (len(names),):
            raise ValueError(
                f"weights must have one entry per reward ({len(names)}: {list(names)}), "
                f"got shape {values.shape}."
            )
    _checks.finite("weights", values)
    return values


def _sample_values(name, values, mask, dtype, non_negative=False):
    if values is None:
        return None
    host = np.asarray(_checks.float_array(name, values), dtype=np.float64)
    if host.shape != mask.shape:
        raise ValueError(
            f"{name} must have shape [prompts, group_size] = {mask.shape}, got {host.shape}."
        )
    bad = ~np.isfinite(host) & mask
    if bad.any():
        p, g = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} has a non-finite value at prompt {p}, sample {g}.")
    if non_negative and (host[mask] < 0).any():
        p, g = (int(i) for i in np.argwhere((host < 0) & mask)[0])
        raise ValueError(
            f"{name} must be non-negative, got {host[p, g]} at prompt {p}, sample {g}."
        )
    return jnp.asarray(np.where(mask, host, 0.0), dtype=dtype)


def _finite_array(name, values) -> jax.Array:
    array = _checks.float_array(name, values)
    _checks.finite(name, array)
    return array


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


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _steps(group: GroupRewards) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct steps ``[S]`` and each group's index into them ``[P]``."""
    steps, segment = np.unique(np.asarray(group.step), return_inverse=True)
    return steps, segment.reshape(-1)


def _moving_average_matrix(n: int, window: int) -> np.ndarray:
    """``[n, n]`` centred moving average; windows shrink at the ends."""
    half = window // 2
    index = np.arange(n)
    band = np.abs(index[:, None] - index[None, :]) <= half
    return band / band.sum(axis=1, keepdims=True)


def _python_scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def _unique_rows(first: np.ndarray, second: np.ndarray):
    """Distinct ``(first, second)`` pairs sorted by first then second, and each row's pair index."""
    first_keys, first_index = np.unique(first, return_inverse=True)
    second_keys, second_index = np.unique(second, return_inverse=True)
    codes = first_index.reshape(-1) * len(second_keys) + second_index.reshape(-1)
    unique_codes, index = np.unique(codes, return_inverse=True)
    keys = np.empty((len(unique_codes), 2), dtype=object)
    keys[:, 0] = first_keys[unique_codes // len(second_keys)]
    keys[:, 1] = second_keys[unique_codes % len(second_keys)]
    return keys, index.reshape(-1)


def _rank_within(group_of_pair: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of each pair within its group (pairs are sorted by group)."""
    starts = np.concatenate([[0], np.cumsum(np.bincount(group_of_pair, minlength=n_groups))[:-1]])
    return np.arange(len(group_of_pair)) - starts[group_of_pair]


def _group_label(key, has_steps: bool) -> str:
    step, prompt = key
    return f"prompt {_python_scalar(prompt)!r}" + (f" at step {step}" if has_steps else "")


def _sample_at(pair_keys, group, slot):
    rows = np.flatnonzero(pair_keys[:, 0] == group)
    return _python_scalar(pair_keys[rows[slot], 1])
