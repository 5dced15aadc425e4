"""The container of a multi-reward group log, :class:`GroupRewards`, and its parsers.

A :class:`GroupRewards` holds the scores ``[P, G, K]`` of ``K`` rewards for the ``G``
samples (completions) of each of ``P`` groups (a prompt at a training step), with a mask
for ragged groups, optional per-sample metadata (completion length, a held-out "gold"
score) and the training step of each group. It is built from arrays
(:meth:`GroupRewards.from_arrays`) or from a long-format table
(:meth:`GroupRewards.from_dataframe`), and every input is checked here, once, so the
analyses in the sibling modules can trust it.

This module holds data and checks it; it computes no advantage or statistic and reads
no file (:mod:`rewardviz.groups.npz` does).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks

__all__ = ["GroupRewards"]


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
            except (TypeError, ValueError) as error:  # other failures: float_array says
                if "inhomogeneous" in str(error):
                    raise ValueError(
                        "scores is ragged (groups of different sizes); pad every group to "
                        "the largest group size with any finite number and pass mask "
                        "[prompts, group_size] marking the real samples."
                    ) from error
        host = _checks.host_float64("scores", scores)  # float64: out-of-range refused below
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
        _checks.fits("scores", np.where(mask[..., None], host, 0.0), dtype)
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
        if not isinstance(name, str):
            raise TypeError(
                f"name must be a reward name (a string), one of {list(self.names)}, got "
                f"{_checks.describe(name)}."
            )
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
        if not isinstance(name, str):
            raise TypeError(f"name must be a reward name (a string), got {_checks.describe(name)}.")
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
        _checks.fits(f"values for {name!r}", np.where(mask, values, 0.0), self.scores.dtype)
        column = jnp.asarray(np.where(mask, values, 0.0), dtype=self.scores.dtype)
        if weight is not None:
            # A NaN weight would make every weighted total NaN.
            weight = _checks.finite_number(f"weight for {name!r}", weight)
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
# Validation helpers.


def _reward_names(names, count: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"reward_{k}" for k in range(count))
    if isinstance(names, str):
        raise TypeError(
            f"names must be a sequence of {count} reward names, got the string {names!r}."
        )
    if not isinstance(names, Sequence | np.ndarray):
        raise TypeError(
            f"names must be a sequence of {count} reward names, got {_checks.describe(names)}."
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
        values = np.array(
            [
                _checks.number(f"weights[{name!r}]", weights.get(name, base[k]))
                for k, name in enumerate(names)
            ]
        )
    else:
        values = _checks.host_float64("weights", weights)
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
