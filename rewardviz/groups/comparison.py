"""What a change of rewards or scheme does to the advantages of one logged batch.

:func:`transform_effects` recomputes the advantages of a batch after each reward
transform (:mod:`rewardviz.groups.transforms`, or any ``GroupRewards -> GroupRewards``
function) and :func:`compare_advantages` measures how two advantage arrays over the same
samples differ: correlation, sign flips, mean absolute change. Both return frozen
results with a ``to_frame()`` table.

This module compares; the advantages themselves come from
:mod:`rewardviz.groups.learning_signal`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np

from rewardviz import _checks, _deprecation
from rewardviz.groups.group_rewards import GroupRewards
from rewardviz.groups.learning_signal import advantages, degenerate_groups

__all__ = ["AdvantageComparison", "TransformEffects", "compare_advantages", "transform_effects"]


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
                    **dict(zip(_COLUMNS, summary._values(), strict=True)),
                    "degenerate before": self.degenerate_before,
                    "degenerate after": float(degenerate_after),
                }
            )
        return pandas.DataFrame(rows, index=pandas.Index(self.names, name="transform"))


@_deprecation.positional_options("scheme", "normalize", "ddof", "eps")
def transform_effects(
    group: GroupRewards,
    transforms: Mapping[str, Callable[[GroupRewards], GroupRewards] | GroupRewards],
    *,
    scheme: str = "sum_then_normalize",
    normalize: str = "std",
    ddof: int = 1,
    eps: float = 1e-4,
) -> TransformEffects:
    """Advantages of a logged batch before and after each reward transform.

    Args:
        group: the logged groups.
        transforms: ``{name: transform}``, each a function taking and returning a
            :class:`~rewardviz.groups.GroupRewards` (typically ``lambda g: g.with_reward(...)``) or the
            transformed groups themselves; the samples and mask must be unchanged.
        scheme, normalize, ddof, eps: as in :func:`~rewardviz.groups.advantages`.

    Example:
        >>> effects = rv.groups.transform_effects(group, {
        ...     "PAR on length": lambda g: g.with_reward(
        ...         "length", rv.groups.preference_as_reward(g.reward("length"), 0.5)),
        ... })
        >>> effects.to_frame()
    """
    if not isinstance(transforms, Mapping):
        raise TypeError(
            "transforms must be a dict {name: transform}, each a function of the groups or "
            f"a GroupRewards, got {_checks.describe(transforms)}."
        )
    if not transforms:
        raise ValueError("transforms is empty: give at least one {name: transform}.")
    options = {"scheme": scheme, "normalize": normalize, "ddof": ddof, "eps": eps}
    baseline = np.asarray(advantages(group, **options))
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
        results.append(np.asarray(advantages(transformed, **options)))
        degenerate_after.append(degenerate_groups(transformed).fraction)
    return TransformEffects(
        names=tuple(str(name) for name in transforms),
        baseline=baseline,
        advantages=np.stack(results),
        mask=np.asarray(group.mask),
        degenerate_before=degenerate_groups(group).fraction,
        degenerate_after=np.asarray(degenerate_after),
    )


@dataclasses.dataclass(frozen=True)
class AdvantageComparison:
    """How two advantage arrays over the same samples differ (:func:`compare_advantages`).

    Attributes:
        correlation: Pearson correlation over the valid samples (1 if either is constant).
        sign_flips: fraction of valid samples whose advantage has a different sign
            (``np.sign``, so 0 counts as its own sign).
        mean_abs_change: mean absolute difference over the valid samples.
    """

    correlation: float
    sign_flips: float
    mean_abs_change: float

    def to_frame(self):
        """One row with the columns ``correlation``, ``sign flips`` and ``mean |change|``."""
        import pandas

        return pandas.DataFrame([dict(zip(_COLUMNS, self._values(), strict=True))])

    def _values(self) -> tuple[float, float, float]:
        return (self.correlation, self.sign_flips, self.mean_abs_change)

    def __getitem__(self, key: str) -> float:
        # The result was a dict keyed by these column titles before this release.
        if key not in _COLUMNS:
            raise KeyError(key)
        attribute = _ATTRIBUTES[_COLUMNS.index(key)]
        _deprecation.warn(
            f"compare_advantages(...)[{key!r}]", f"compare_advantages(...).{attribute}"
        )
        return getattr(self, attribute)


#: The column titles of :meth:`AdvantageComparison.to_frame` and the attribute of each.
_COLUMNS = ("correlation", "sign flips", "mean |change|")
_ATTRIBUTES = ("correlation", "sign_flips", "mean_abs_change")


def compare_advantages(first, second, mask) -> AdvantageComparison:
    """How two advantage arrays ``[P, G]`` over the same samples differ (valid samples only).

    Returns an :class:`AdvantageComparison`: the Pearson correlation (1 if either is
    constant), the fraction of valid samples whose advantage has a different sign
    (``np.sign``, so 0 counts as its own sign), and the mean absolute difference. Use it
    to compare two schemes of :func:`~rewardviz.groups.advantages` or a transform.

    Example:
        >>> first = rv.groups.advantages(group)
        >>> second = rv.groups.advantages(group, scheme="normalize_then_sum")
        >>> rv.groups.compare_advantages(first, second, group.mask).sign_flips
    """
    arrays = {
        name: _checks.host_float64(name, values)
        for name, values in (("first", first), ("second", second))
    }
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(
            f"mask must be a boolean array [P, G] (group.mask), got {_checks.describe(mask)}."
        )
    for name, values in arrays.items():
        if values.shape != mask.shape:
            raise ValueError(
                f"{name} must have the shape of mask {mask.shape} (advantages [P, G]), "
                f"got {values.shape}."
            )
    if not mask.any():
        raise ValueError("mask marks no sample as valid: there is nothing to compare.")
    a, b = arrays["first"][mask], arrays["second"][mask]
    ca, cb = a - a.mean(), b - b.mean()
    spread = np.sqrt((ca**2).sum() * (cb**2).sum())
    correlation = float((ca * cb).sum() / spread) if spread > 0 else 1.0
    return AdvantageComparison(
        correlation=correlation,
        sign_flips=float((np.sign(a) != np.sign(b)).mean()),
        mean_abs_change=float(np.abs(a - b).mean()),
    )
