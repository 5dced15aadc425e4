"""Building blocks shared by the group analyses: centring within groups, rounding bounds, steps.

The kernels here are traced inside the jitted functions of
:mod:`~rewardviz.groups.learning_signal` and :mod:`~rewardviz.groups.hacking`; the
checks run on the host before them. Nothing here is public API.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _deprecation
from rewardviz.groups.group_rewards import GroupRewards


class FormerFrame:
    """Mixin for a result that replaced a returned ``pandas.DataFrame``.

    Until this release the function returned its table; for one release the table's
    attributes (``frame.index``, ``frame["total"]``, ``frame.loc[...]``, ...) still resolve
    on the result, through :meth:`to_frame`, warning with the new spelling. A subclass
    names the function in ``FORMER`` and may override :meth:`former_frame` to rebuild
    extras the old table carried.
    """

    FORMER = "the function"
    #: Attributes of the old table with a better spelling on the result than ``to_frame().x``.
    NEW_SPELLINGS: typing.ClassVar[Mapping[str, str]] = types.MappingProxyType({})
    FRAME_ATTRIBUTES = frozenset(
        {"attrs", "columns", "index", "iloc", "loc", "to_numpy", "values", "xs", "items"}
    )

    def __getattr__(self, name: str):
        if name in FormerFrame.FRAME_ATTRIBUTES:
            new = self.NEW_SPELLINGS.get(name, f"to_frame().{name}")
            _deprecation.warn(f"{self.FORMER}(...).{name}", f"{self.FORMER}(...).{new}")
            return getattr(self.former_frame(), name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getitem__(self, column):
        _deprecation.warn(
            f"{self.FORMER}(...)[{column!r}]", f"{self.FORMER}(...).to_frame()[{column!r}]"
        )
        return self.former_frame()[column]

    def former_frame(self):
        """The table the function used to return."""
        return self.to_frame()


#: Matrix products at full float32 precision: TPUs and GPUs otherwise round inputs to bf16/tf32.
HIGHEST = jax.lax.Precision.HIGHEST


def centred(values, mask, ddof, bound=0.0):
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


def rounding_gamma(n, dtype):
    """Higham's ``γ_n = n·u / (1 − n·u)``: relative error bound of ``n`` rounded operations."""
    nu = n * (jnp.finfo(dtype).eps / 2)
    return nu / (1 - nu)


def totals(scores, mask, weights):
    """Weighted totals ``[P, G]`` and the rounding bound ``[P]`` of each group's totals.

    A ``K``-term inner product errs by at most ``γ_K Σ_k |w_k s_ik|`` in any summation
    order (Higham 2002, §3.1); the group's bound is the largest over its valid samples.
    """
    terms = scores * weights
    magnitude = jnp.where(mask, jnp.abs(terms).sum(-1), 0).max(axis=1)
    return terms.sum(-1), rounding_gamma(scores.shape[-1], terms.dtype) * magnitude


@partial(jax.jit, static_argnames=("n_segments",))
def segment_mean(values, segment, n_segments):
    """Mean of ``values`` ``[P, ...]`` over the groups of each of ``n_segments`` steps."""
    sums = jax.ops.segment_sum(values, segment, n_segments)
    counts = jax.ops.segment_sum(jnp.ones(len(segment), values.dtype), segment, n_segments)
    return sums / counts.reshape((-1,) + (1,) * (values.ndim - 1))


def check_group(group) -> None:
    """Raise a ``TypeError`` unless ``group`` is a :class:`~rewardviz.groups.GroupRewards`."""
    if not isinstance(group, GroupRewards):
        raise TypeError(
            f"group must be a GroupRewards (rv.GroupRewards.from_arrays(...)), "
            f"got {type(group).__name__}."
        )


def steps_of(group: GroupRewards) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct steps ``[S]`` and each group's index into them ``[P]``."""
    steps, segment = np.unique(np.asarray(group.step), return_inverse=True)
    return steps, segment.reshape(-1)
