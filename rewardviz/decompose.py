"""Reward decomposition of trajectories: which weighted reward term drives the return.

A :class:`RewardLog` holds per-step reward components ``[E, T, K]`` of ``E`` episodes
(ragged, with a validity mask ``[E, T]``), their names and weights; the total reward is
the weighted sum. The functions below are jitted and vectorised over episodes: returns
and returns-to-go per component, shares of the return, per-step dominance, correlations,
variance attribution, what-if reweighting and dead-term detection.

This module reads no files (see :mod:`rewardviz.io`) and draws nothing.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Mapping, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _checks, _deprecation
from rewardviz._kernels import HIGHEST

__all__ = [
    "UNEXPLAINED",
    "RewardLog",
    "Reweighting",
    "component_returns",
    "correlations",
    "dead_components",
    "dominance",
    "log_from_long_cube",
    "return_shares",
    "returns_to_go",
    "reweight",
    "variance_attribution",
]

#: Name of the component that holds what the logged total has beyond the weighted sum.
UNEXPLAINED = "unexplained"


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RewardLog:
    """Per-step reward components of a set of episodes.

    Attributes:
        components: ``[E, T, K]`` reward of each component at each step (0 where masked).
        mask: ``[E, T]`` true for steps that happened (episodes are ragged).
        names: ``K`` component names.
        weights: ``[K]`` weights; the total reward is ``Σ_k w_k·components[..., k]``.
        positions: optional ``[E, T, 2]`` 2-D position (x, y) of the agent after each step
            (0 where masked), for state-space maps of a component.
        episode_info: per-episode metadata, each value an array of length ``E``.
        steps: optional ``[E, T]`` int64 training step at which each entry was logged (0
            where masked), e.g. TensorBoard's global step; None when the source has none.
        wall_times: optional ``[E, T]`` float64 seconds since the Unix epoch at which each
            entry was logged (0 where masked); None when unknown.

    ``steps`` and ``wall_times`` are a real x axis for plots; the kernels never use them
    and they stay read-only NumPy arrays on the host (int64 steps and float64 epoch
    seconds would lose digits as float32 device arrays).

    Construct with :meth:`from_arrays`, :meth:`from_episodes` or :meth:`from_dataframe`.
    A logged total that differs from the weighted sum becomes an extra component named
    ``"unexplained"`` (weight 1), so nothing is dropped and ``total`` always equals what
    was logged.
    """

    components: jax.Array
    mask: jax.Array
    names: tuple[str, ...]
    weights: jax.Array
    positions: jax.Array | None = None
    episode_info: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    steps: np.ndarray | None = None
    wall_times: np.ndarray | None = None

    def __post_init__(self):
        # Metadata of a pytree is hashed and compared when a jitted kernel looks up its
        # cache; a plain dict of arrays can do neither.
        object.__setattr__(self, "episode_info", _EpisodeInfo(self.episode_info))
        object.__setattr__(self, "steps", _read_only(self.steps, np.int64))
        object.__setattr__(self, "wall_times", _read_only(self.wall_times, np.float64))
        object.__setattr__(self, "_time_axis", _TimeAxis(self.steps, self.wall_times))

    # -- constructors -------------------------------------------------------------

    @classmethod
    @_deprecation.renamed_keywords(total_tolerance="total_tol")
    def from_arrays(
        cls,
        components,
        mask=None,
        *,
        names: Sequence[str] | None = None,
        weights=None,
        total=None,
        episode_info: Mapping[str, Sequence] | None = None,
        total_tol: float = 1e-6,
        positions=None,
        steps=None,
        wall_times=None,
    ) -> RewardLog:
        """A log from arrays: ``components`` ``[E, T, K]``, ``mask`` ``[E, T]`` (all true by default).

        ``positions`` ``[E, T, 2]`` optionally carries the agent's 2-D position after each
        step (values at masked steps are ignored). ``steps`` ``[E, T]`` (integers) and
        ``wall_times`` ``[E, T]`` (seconds since the Unix epoch) optionally carry when each
        entry was logged; values at masked steps are ignored.

        ``total`` ``[E, T]`` is the reward that was logged; where it differs from the
        weighted sum by more than ``total_tol`` (relative to the largest absolute
        total), the difference is kept as an ``"unexplained"`` component.

        Example:
            >>> log = rv.RewardLog.from_arrays(np.ones((2, 5, 3)), names=["a", "b", "c"])
            >>> log.total.shape
            (2, 5)
        """
        # Read as float64 on the host: float64 input beyond float32's range must be
        # refused by name below, not become infinite on the way in.
        host = _checks.host_float64("components", components)
        if host.ndim != 3:
            raise ValueError(
                f"components must have shape [episodes, steps, components], got {host.shape}; "
                "for one episode use components[None]."
            )
        n_episodes, n_steps, n_components = host.shape
        if 0 in host.shape:
            raise ValueError(f"the log is empty: components has shape {host.shape}.")
        if mask is None:
            mask = np.ones((n_episodes, n_steps), dtype=bool)
        mask = np.asarray(mask)
        if mask.shape != (n_episodes, n_steps):
            raise ValueError(
                f"mask must have shape [episodes, steps] = {(n_episodes, n_steps)}, got {mask.shape}."
            )
        if mask.dtype != bool:
            raise TypeError(f"mask must be boolean, got dtype {mask.dtype}.")
        if not mask.any():
            raise ValueError("mask marks no step as valid: the log is empty.")
        names = _component_names(names, n_components)
        _finite_steps("components", host, mask, names)
        host = np.where(mask[..., None], host, 0.0)
        weights = _weights(weights, names)

        if total is not None:
            total = _checks.host_float64("total", total)
            if total.shape != (n_episodes, n_steps):
                raise ValueError(
                    f"total must have shape [episodes, steps] = {(n_episodes, n_steps)}, "
                    f"got {total.shape}."
                )
            _finite_steps("total", total[..., None], mask, ("total",))
            total = np.where(mask, total, 0.0)
            difference = total - host @ weights
            scale = max(float(np.abs(total).max()), 1.0)
            if np.abs(difference).max() > total_tol * scale:
                if UNEXPLAINED in names:
                    raise ValueError(
                        f"a component is already named {UNEXPLAINED!r}; rename it so the "
                        "difference to the logged total can be kept."
                    )
                host = np.concatenate([host, difference[..., None]], axis=-1)
                names = (*names, UNEXPLAINED)
                weights = np.append(weights, 1.0)

        info = {}
        for key, values in (episode_info or {}).items():
            values = np.asarray(values)
            if values.shape[:1] != (n_episodes,):
                raise ValueError(
                    f"episode_info[{key!r}] must have one entry per episode ({n_episodes}), "
                    f"got shape {values.shape}."
                )
            info[str(key)] = values
        dtype = jnp.result_type(float)
        _check_range(host, weights, dtype)
        if positions is not None:
            positions = np.asarray(_checks.float_array("positions", positions), dtype=np.float64)
            if positions.shape != (n_episodes, n_steps, 2):
                raise ValueError(
                    f"positions must have shape [episodes, steps, 2] = "
                    f"{(n_episodes, n_steps, 2)}, got {positions.shape}."
                )
            _finite_steps("positions", positions, mask, ("x", "y"))
            positions = jnp.asarray(np.where(mask[..., None], positions, 0.0), dtype=dtype)
        if steps is not None:
            steps = np.asarray(steps)
            if steps.shape != (n_episodes, n_steps) or steps.dtype.kind not in "iu":
                raise ValueError(
                    f"steps must be integers of shape [episodes, steps] = "
                    f"{(n_episodes, n_steps)}, got {steps.dtype} of shape {steps.shape}."
                )
            steps = np.where(mask, steps, 0)
        if wall_times is not None:
            # Not through float_array: epoch seconds need float64 even when JAX has no x64.
            wall_times = np.asarray(wall_times)
            if wall_times.shape != (n_episodes, n_steps) or wall_times.dtype.kind not in "fiu":
                raise ValueError(
                    f"wall_times must be numbers of shape [episodes, steps] = "
                    f"{(n_episodes, n_steps)}, got {wall_times.dtype} of shape {wall_times.shape}."
                )
            wall_times = wall_times.astype(np.float64)
            _finite_steps("wall_times", wall_times[..., None], mask, ("wall time",))
            wall_times = np.where(mask, wall_times, 0.0)
        return cls(
            components=jnp.asarray(host, dtype=dtype),
            mask=jnp.asarray(mask),
            names=names,
            weights=jnp.asarray(weights, dtype=dtype),
            positions=positions,
            episode_info=info,
            steps=steps,
            wall_times=wall_times,
        )

    @classmethod
    def from_episodes(
        cls,
        episodes: Mapping[str, Sequence[Sequence[float]]],
        *,
        weights=None,
        total: Sequence[Sequence[float]] | None = None,
        episode_info: Mapping[str, Sequence] | None = None,
    ) -> RewardLog:
        """A log from ``{component name: [per-episode sequences of per-step rewards]}``.

        Every component must list the same number of episodes with the same lengths;
        episodes are padded to the longest and masked.

        Example:
            >>> log = rv.RewardLog.from_episodes({"forward": [[1, 2], [3]], "ctrl": [[0, -1], [0]]})
            >>> log.lengths
            Array([2, 1], dtype=int32)
        """
        if not isinstance(episodes, Mapping):
            raise TypeError(
                "episodes must be a dict {component name: [per-episode lists of per-step "
                f"rewards]}}, got {_checks.describe(episodes)}."
            )
        if not episodes:
            raise ValueError("episodes is empty: give at least one component.")
        names = tuple(str(name) for name in episodes)
        lists = [list(episodes[name]) for name in episodes]
        counts = {name: len(series) for name, series in zip(names, lists, strict=True)}
        if len(set(counts.values())) != 1:
            raise ValueError(f"components list different numbers of episodes: {counts}.")
        lengths = [len(step_values) for step_values in lists[0]]
        for name, series in zip(names, lists, strict=True):
            other = [len(step_values) for step_values in series]
            if other != lengths:
                bad = next(i for i, (a, b) in enumerate(zip(lengths, other, strict=True)) if a != b)
                raise ValueError(
                    f"episode {bad} has {other[bad]} steps in {name!r} but {lengths[bad]} in "
                    f"{names[0]!r}; every component needs a value at every step."
                )
        n_steps = max(lengths, default=0)
        if n_steps == 0:
            raise ValueError("every episode is empty.")
        steps = np.arange(n_steps)
        mask = steps[None, :] < np.asarray(lengths)[:, None]
        components = np.zeros((len(lengths), n_steps, len(names)))
        for k, series in enumerate(lists):
            for e, step_values in enumerate(series):  # ragged input: one copy per episode
                components[e, : len(step_values), k] = np.asarray(step_values, dtype=float)
        padded_total = None
        if total is not None:
            if [len(values) for values in total] != lengths:
                raise ValueError("total must have the same episodes and lengths as the components.")
            padded_total = np.zeros(mask.shape)
            for e, values in enumerate(total):
                padded_total[e, : len(values)] = np.asarray(values, dtype=float)
        return cls.from_arrays(
            components,
            mask,
            names=names,
            weights=weights,
            total=padded_total,
            episode_info=episode_info,
        )

    @classmethod
    def from_dataframe(
        cls,
        frame,
        *,
        episode: str = "episode",
        step: str = "step",
        component: str = "component",
        value: str = "value",
        total_name: str | None = "total",
        weights=None,
    ) -> RewardLog:
        """A log from a long-format table: one row per (episode, step, component, value).

        Rows whose component is ``total_name`` are the logged total. Every (episode,
        step) present must have a value for every component; a missing one is an error
        naming it. Steps of an episode must be 0, 1, 2, ... without gaps.
        """
        if not hasattr(frame, "columns"):
            raise TypeError(
                f"frame must be a pandas DataFrame with one row per (episode, step, component, "
                f"value), got {_checks.describe(frame)}; for arrays use RewardLog.from_arrays."
            )
        missing = [column for column in (episode, step, component, value) if column not in frame]
        if missing:
            raise ValueError(
                f"the table has no column(s) {missing}; its columns are {list(frame.columns)}. "
                "Name the columns with episode=, step=, component=, value=."
            )
        if len(frame) == 0:
            raise ValueError("the table has no rows: the log is empty.")
        table = frame[[episode, step, component, value]]
        episodes, episode_index = np.unique(table[episode].to_numpy(), return_inverse=True)
        steps = table[step].to_numpy()
        if not np.issubdtype(steps.dtype, np.integer) or (steps < 0).any():
            raise ValueError(f"column {step!r} must hold non-negative integers.")
        labels = table[component].astype(str).to_numpy()
        names = tuple(name for name in dict.fromkeys(labels) if name != total_name)
        if not names:
            raise ValueError(f"the table has only {total_name!r} rows and no components.")
        columns = {name: k for k, name in enumerate(names)}
        if total_name is not None:
            columns[total_name] = len(names)
        n_steps = int(steps.max()) + 1
        cube = np.full((len(episodes), n_steps, len(columns)), np.nan)
        filled = np.zeros(cube.shape, dtype=int)
        column_index = np.array([columns[label] for label in labels])
        np.add.at(filled, (episode_index, steps, column_index), 1)
        if (filled > 1).any():
            e, t, k = np.argwhere(filled > 1)[0]
            raise ValueError(
                f"episode {episodes[e]!r}, step {t} has {filled[e, t, k]} rows for "
                f"{list(columns)[k]!r}; each (episode, step, component) must appear once."
            )
        cube[episode_index, steps, column_index] = table[value].to_numpy(dtype=float)
        return log_from_long_cube(
            cube, filled > 0, episodes, names, total_name=total_name, weights=weights
        )

    # -- views ---------------------------------------------------------------------

    @property
    def n_episodes(self) -> int:
        return self.components.shape[0]

    @property
    def n_steps(self) -> int:
        return self.components.shape[1]

    @property
    def n_components(self) -> int:
        return self.components.shape[2]

    @property
    def lengths(self) -> jax.Array:
        """``[E]`` number of valid steps per episode."""
        return self.mask.sum(axis=1).astype(jnp.int32)

    @property
    def contributions(self) -> jax.Array:
        """``[E, T, K]`` weighted components ``w_k·components``: what each term adds."""
        return self.components * self.weights

    @property
    def total(self) -> jax.Array:
        """``[E, T]`` the total reward ``Σ_k w_k·components`` (0 where masked)."""
        return self.contributions.sum(axis=-1)

    def with_weights(self, weights) -> RewardLog:
        """The same log with new weights (one per component, ``unexplained`` included)."""
        weights = _weights(weights, self.names)
        _check_range(np.asarray(self.components, dtype=np.float64), weights, self.weights.dtype)
        return dataclasses.replace(self, weights=jnp.asarray(weights, dtype=self.weights.dtype))

    def __repr__(self) -> str:
        return (
            f"RewardLog(episodes={self.n_episodes}, steps<={self.n_steps}, "
            f"components={list(self.names)}, weights={np.asarray(self.weights).round(4).tolist()})"
        )


@typing.final
class _EpisodeInfo(Mapping):
    """Read-only ``{key: per-episode array}``, hashed and compared by content.

    Two logs with equal metadata share compiled kernels; any other equality (by
    identity) would recompile for every new log of the same shape.
    """

    def __init__(self, items: Mapping[str, np.ndarray]):
        self._items = {str(key): np.asarray(values) for key, values in items.items()}
        self._key = tuple(
            (key, values.dtype.str, values.shape, tuple(values.ravel().tolist()))
            for key, values in self._items.items()
        )

    def __getitem__(self, key: str) -> np.ndarray:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other) -> bool:
        return isinstance(other, _EpisodeInfo) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return repr(self._items)


@typing.final
class _TimeAxis:
    """A log's ``steps`` and ``wall_times`` as pytree metadata, compared by content.

    They are metadata rather than leaves so that they stay int64 and float64 on the host
    and come back unchanged from a jitted function that returns a log. The hash looks at
    shapes and a few entries only (cheap on every jitted call); equality compares
    everything, and is immediate for a copied log, which shares the arrays.
    """

    def __init__(self, steps: np.ndarray | None, wall_times: np.ndarray | None):
        self.arrays = (steps, wall_times)
        self._hash = hash(tuple(_sketch(values) for values in self.arrays))

    def __eq__(self, other) -> bool:
        if not isinstance(other, _TimeAxis):
            return False
        return self is other or all(
            _same(mine, theirs) for mine, theirs in zip(self.arrays, other.arrays, strict=True)
        )

    def __hash__(self) -> int:
        return self._hash


def _sketch(values: np.ndarray | None):
    if values is None:
        return None
    flat = values.ravel()
    return values.shape, flat[:8].tobytes(), flat[-8:].tobytes()


def _same(first: np.ndarray | None, second: np.ndarray | None) -> bool:
    if first is None or second is None:
        return first is None and second is None
    return first is second or np.array_equal(first, second)


def _read_only(values, dtype) -> np.ndarray | None:
    """``values`` as a read-only array of ``dtype`` that no caller holds a writable view of.

    A read-only array of ``dtype`` that owns its data (what this function returns: the
    same log copied by ``with_weights`` or ``dataclasses.replace``) is shared; anything
    else is copied, since the caller's array, or the array a view looks into, may change
    later.
    """
    if values is None:
        return None
    if (
        isinstance(values, np.ndarray)
        and values.dtype == dtype
        and values.base is None
        and not values.flags.writeable
    ):
        return values
    frozen = np.array(values, dtype=dtype)
    frozen.setflags(write=False)
    return frozen


_LEAVES = ("components", "mask", "weights", "positions")


def _flatten_log(log: RewardLog):
    leaves = [(jax.tree_util.GetAttrKey(name), getattr(log, name)) for name in _LEAVES]
    return leaves, (log.names, log.episode_info, log._time_axis)


def _unflatten_log(metadata, leaves) -> RewardLog:
    names, episode_info, time_axis = metadata
    steps, wall_times = time_axis.arrays
    return RewardLog(
        **dict(zip(_LEAVES, leaves, strict=True)),
        names=names,
        episode_info=episode_info,
        steps=steps,
        wall_times=wall_times,
    )


jax.tree_util.register_pytree_with_keys(RewardLog, _flatten_log, _unflatten_log)


# ---------------------------------------------------------------------------
# Kernels: one episode written per step, vectorised over episodes and components.


def component_returns(log: RewardLog, gamma: float = 1.0) -> jax.Array:
    """``[E, K]`` discounted return of each weighted component: ``G_k = Σ_t γ^t w_k r_k,t``.

    Sums over valid steps only; ``Σ_k G_k`` is the episode's return.
    """
    return _checked(_component_returns(_log(log), _discount(gamma)), "returns")


def returns_to_go(log: RewardLog, gamma: float = 1.0) -> jax.Array:
    """``[E, T, K]`` return-to-go of each weighted component, ``Σ_{u≥t} γ^{u−t} w_k r_k,u`` (0 where masked)."""
    return _checked(_returns_to_go(_log(log), _discount(gamma)), "returns to go")


def return_shares(log: RewardLog, gamma: float = 1.0) -> tuple[jax.Array, jax.Array]:
    """Each component's share of the return, ``[E, K]`` twice.

    Signed: ``G_k / G`` (sums to 1; undefined, set to 0, where ``G = 0``). Absolute:
    ``|G_k| / Σ_j |G_j|`` (sums to 1; 0 where every ``G_k`` is 0).
    """
    returns = component_returns(log, gamma)
    return _shares(returns)


def dominance(log: RewardLog) -> jax.Array:
    """``[E, T]`` index of the component with the largest ``|w_k r_k,t|`` at each step (−1 where masked)."""
    return _dominance(_log(log))


@_deprecation.positional_options("level", "gamma")
def correlations(log: RewardLog, *, level: str = "step", gamma: float = 1.0) -> jax.Array:
    """``[K, K]`` Pearson correlation between weighted components.

    ``level="step"`` over all valid steps; ``level="episode"`` over episode returns.
    A constant component has correlation 0 with every other (and 1 with itself).
    """
    _log(log)
    _checks.one_of("level", level, ("step", "episode"))
    gamma = _discount(gamma)  # checked at both levels, though only episodes use it
    if level == "step":
        return _checked(_step_correlation(log), "products (for the correlations)")
    returns = component_returns(log, gamma)
    matrix = _correlation(returns, jnp.ones(log.n_episodes, bool), jnp.ones_like(log.weights))
    return _checked(matrix, "returns' products (for the correlations)")


def variance_attribution(log: RewardLog, gamma: float = 1.0) -> jax.Array:
    """``[K]`` share of the variance of episode returns due to each component.

    ``Cov(G_k, G) / Var(G)`` over episodes; sums to 1 because ``G = Σ_k G_k``. Raises
    when every episode has the same return (nothing to attribute).
    """
    returns = np.asarray(component_returns(log, gamma))
    total = returns.sum(axis=1, dtype=np.float64)  # the test below squares it
    if log.n_episodes < 2 or np.var(total) <= 1e-12 * max(1.0, float(np.abs(total).max()) ** 2):
        raise ValueError(
            "every episode has the same return (or there is only one episode): there is "
            "no variance to attribute."
        )
    return _checked(
        _variance_attribution(jnp.asarray(returns)), "returns' products (for the variances)"
    )


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["old_returns", "new_returns", "old_rank", "new_rank", "rank_correlation"],
    meta_fields=[],
)
@dataclasses.dataclass(frozen=True, eq=False)
class Reweighting:
    """What new weights do to episode returns and their ranking (:func:`reweight`).

    Ranks are 0 for the best episode; tied returns are ranked by episode index, so
    ``rank_correlation`` (the Pearson correlation of the two rankings) is Spearman's ρ
    whenever no two episodes tie.
    """

    old_returns: jax.Array
    new_returns: jax.Array
    old_rank: jax.Array
    new_rank: jax.Array
    rank_correlation: jax.Array


def reweight(log: RewardLog, weights, gamma: float = 1.0) -> Reweighting:
    """Episode returns and rankings under ``weights`` instead of ``log.weights``.

    One jitted call on the per-component returns (``[E, K]``): fast enough for a slider.
    """
    new_weights = jnp.asarray(_weights(weights, _log(log).names), dtype=log.weights.dtype)
    raw = _checked(_raw_returns(log, _discount(gamma)), "returns")
    result = _reweight(raw, log.weights, new_weights)
    _checked(result.new_returns, "returns under the new weights")
    return result


def dead_components(log: RewardLog, *, tol: float = 1e-8) -> jax.Array:
    """``[K]`` true for a component that is constant over all valid steps (dead or saturated).

    Constant means its range over valid steps is at most ``tol`` times the largest
    absolute component value in the log (or ``tol`` if the log is all zeros).
    """
    return _dead(_log(log), _checks.tolerance("tol", tol))


# ---------------------------------------------------------------------------
# Jitted implementations.


def _discount(gamma) -> float:
    return _checks.in_range("gamma", gamma, 0.0, 1.0)


def _checked(result: jax.Array, what: str) -> jax.Array:
    """``result`` of a kernel on a log, refused if it overflowed (a log's values are finite)."""
    _checks.no_overflow("the log's components", result, what)
    return result


def _check_range(components: np.ndarray, weights: np.ndarray, dtype) -> None:
    """Refuse finite float64 components whose values, weighted values or per-step totals
    leave the range of ``dtype`` (float32 unless x64 is on), before they become inf."""
    _checks.fits("components", components, dtype)
    weighted = components * weights
    _checks.fits("components", weighted, dtype, "weighted values (weights × components)")
    _checks.fits("components", weighted.sum(axis=-1), dtype, "per-step totals")


def _log(log) -> RewardLog:
    """``log`` if it is a :class:`RewardLog`, else a ``TypeError`` saying how to get one."""
    return _checks.instance(
        "log",
        log,
        RewardLog,
        "build one with rv.RewardLog.from_arrays(components, names=...) or read a file with "
        "rv.io.read_csv(...) (rv.io.example_log() is a ready example).",
    )


@jax.jit
def _raw_returns(log: RewardLog, gamma) -> jax.Array:
    """``[E, K]`` discounted returns of the unweighted components."""
    discounts = gamma ** jnp.arange(log.n_steps, dtype=log.components.dtype)
    valid = log.mask.astype(log.components.dtype)
    return jnp.einsum("etk,et,t->ek", log.components, valid, discounts, precision=HIGHEST)


@jax.jit
def _component_returns(log: RewardLog, gamma) -> jax.Array:
    return _raw_returns(log, gamma) * log.weights


@jax.jit
def _returns_to_go(log: RewardLog, gamma) -> jax.Array:
    def step(following, reward):
        current = reward + gamma * following
        return current, current

    contributions = log.contributions * log.mask[..., None]
    start = jnp.zeros((log.n_episodes, log.n_components), contributions.dtype)
    # Scan backwards over time; every episode and component advances together.
    _, to_go = jax.lax.scan(step, start, jnp.swapaxes(contributions, 0, 1), reverse=True)
    return jnp.swapaxes(to_go, 0, 1) * log.mask[..., None]


@jax.jit
def _shares(returns):
    total = returns.sum(axis=-1, keepdims=True)
    signed = jnp.where(total != 0, returns / jnp.where(total != 0, total, 1), 0)
    size = jnp.abs(returns).sum(axis=-1, keepdims=True)
    absolute = jnp.where(size > 0, jnp.abs(returns) / jnp.where(size > 0, size, 1), 0)
    return signed, absolute


@jax.jit
def _dominance(log: RewardLog):
    return jnp.where(log.mask, jnp.argmax(jnp.abs(log.contributions), axis=-1), -1)


@jax.jit
def _step_correlation(log: RewardLog):
    # Flattened inside the jitted call, where a reshape is free: outside it, it copies the log.
    samples = log.components.reshape(-1, log.n_components)
    return _correlation(samples, log.mask.reshape(-1), log.weights)


#: Rows of ``samples`` that :func:`_correlation` centres and multiplies at a time: 1 MB of
#: float32 for 8 components, so the product reads the centred rows from cache.
_CHUNK_ROWS = 32_768


@jax.jit
def _correlation(samples, valid, weights):
    """Pearson correlation of the weighted columns ``weights·samples`` (``[N, K]``) over rows where ``valid``.

    Two passes (the two-pass algorithm of Chan, Golub & LeVeque, 1983): the mean of each
    column, then ``Σ (x − x̄)(x − x̄)ᵀ`` over valid rows, accumulated over chunks of
    :data:`_CHUNK_ROWS` rows. The weights scale the ``[K, K]`` result, not the rows:
    ``Cov(w_k x_k, w_j x_j) = w_k w_j Cov(x_k, x_j)``.
    """
    n_rows, n_columns = samples.shape
    dtype = samples.dtype
    count = valid.sum()
    mean = jnp.matmul(valid.astype(dtype), samples, precision=HIGHEST) / count
    size = min(_CHUNK_ROWS, n_rows)
    offsets = jnp.arange(size)

    def accumulate(chunk, carry):
        products, largest = carry
        # The last chunk is moved back to end at the last row; rows an earlier chunk
        # counted are left out. Centring a chunk at a time, not the whole log: XLA:CPU
        # gives a whole-log temporary fresh memory on every call, and its page faults
        # cost several times the arithmetic (320 MB: ~200 ms against ~30 ms in place).
        start = jnp.minimum(chunk * size, n_rows - size)
        rows = jax.lax.dynamic_slice_in_dim(samples, start, size)
        keep = jax.lax.dynamic_slice_in_dim(valid, start, size) & (start + offsets >= chunk * size)
        centred = jnp.where(keep[:, None], rows - mean, 0)
        products = products + jnp.matmul(centred.T, centred, precision=HIGHEST)
        largest = jnp.maximum(largest, jnp.where(keep[:, None], jnp.abs(rows), 0).max(axis=0))
        return products, largest

    start = (jnp.zeros((n_columns, n_columns), dtype), jnp.zeros(n_columns, dtype))
    products, largest = jax.lax.fori_loop(0, -(-n_rows // size), accumulate, start)
    covariance = products / count * jnp.outer(weights, weights)
    spread = jnp.sqrt(jnp.diag(covariance))
    # The mean of a constant column is off by rounding, which grows with the column's
    # size and the dtype's precision (float32 is the package default).
    scale = jnp.abs(weights) * largest
    constant = spread <= 1e4 * jnp.finfo(dtype).eps * scale
    safe = jnp.where(constant, 1, spread)
    correlation = covariance / safe[:, None] / safe[None, :]
    correlation = jnp.where(constant[:, None] | constant[None, :], 0, correlation)
    return jnp.where(jnp.eye(n_columns, dtype=bool), 1, correlation)


@jax.jit
def _variance_attribution(returns):
    centred = returns - returns.mean(axis=0)
    total = centred.sum(axis=1)
    return (centred * total[:, None]).mean(axis=0) / (total**2).mean()


def _ranks(values):
    """0 for the largest value; ties broken by episode index."""
    order = jnp.argsort(-values, stable=True)
    return jnp.zeros_like(order).at[order].set(jnp.arange(len(values)))


@jax.jit
def _reweight(raw_returns, old_weights, new_weights):
    old_returns = raw_returns @ old_weights
    new_returns = raw_returns @ new_weights
    old_rank, new_rank = _ranks(old_returns), _ranks(new_returns)
    centred_old = old_rank - old_rank.mean()
    centred_new = new_rank - new_rank.mean()
    spread = jnp.sqrt((centred_old**2).sum() * (centred_new**2).sum())
    rho = jnp.where(
        spread > 0, (centred_old * centred_new).sum() / jnp.where(spread > 0, spread, 1), 1
    )
    return Reweighting(old_returns, new_returns, old_rank, new_rank, rho)


@jax.jit
def _dead(log: RewardLog, tol):
    valid = log.mask[..., None]
    high = jnp.where(valid, log.components, -jnp.inf).max(axis=(0, 1))
    low = jnp.where(valid, log.components, jnp.inf).min(axis=(0, 1))
    largest = jnp.abs(log.components).max()  # masked steps hold 0
    return (high - low) <= tol * jnp.where(largest > 0, largest, 1)


def log_from_long_cube(cube, filled, episodes, names, *, total_name, weights) -> RewardLog:
    """Check a dense cube written from a long-format table, then build the log.

    ``cube`` ``[E, T, K (+1)]`` holds the values written, ``filled`` (bool, same shape)
    which cells a row wrote; the last column is the logged total when ``total_name`` is
    set. A step happened when any row names it (a total row alone counts); steps must run
    0, 1, 2, ... without gaps and every happened step needs every component. Shared by
    :meth:`RewardLog.from_dataframe` and the streaming readers in :mod:`rewardviz.io`.
    """
    n_components = len(names)
    present = filled.any(axis=-1)
    lengths = present.sum(axis=1)
    mask = np.arange(cube.shape[1])[None, :] < lengths[:, None]
    if (present != mask).any():
        e, t = np.argwhere(present != mask)[0]
        raise ValueError(
            f"episode {episodes[e]!r} has a gap at step {t}; steps must run 0, 1, 2, ..."
        )
    gaps = mask[..., None] & ~filled[..., :n_components]
    if gaps.any():
        e, t, k = np.argwhere(gaps)[0]
        raise ValueError(
            f"episode {episodes[e]!r}, step {t} has no value for component {names[k]!r}; "
            "every component needs a value at every step (fill it explicitly, e.g. 0)."
        )
    total = None
    if total_name is not None and filled[..., -1].any():
        if (mask & ~filled[..., -1]).any():
            e, t = np.argwhere(mask & ~filled[..., -1])[0]
            raise ValueError(f"episode {episodes[e]!r}, step {t} has no {total_name!r} row.")
        total = np.where(mask, cube[..., -1], 0.0)
    return RewardLog.from_arrays(
        np.where(mask[..., None], cube[..., :n_components], 0.0),
        mask,
        names=names,
        weights=weights,
        total=total,
        episode_info={"episode": episodes},
    )


# ---------------------------------------------------------------------------
# Validation helpers.


def _component_names(names, count: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"component_{k}" for k in range(count))
    if isinstance(names, str):  # 'ab' would silently become two components 'a' and 'b'
        raise TypeError(
            f"names must be a sequence of {count} component names, got the string {names!r}; "
            f"write names=[{names!r}] for one component."
        )
    if not isinstance(names, Sequence | np.ndarray):
        raise TypeError(
            f"names must be a sequence of {count} component names, got {_checks.describe(names)}."
        )
    names = tuple(str(name) for name in names)
    if len(names) != count:
        raise ValueError(f"names must have {count} entries (one per component), got {len(names)}.")
    if len(set(names)) != len(names):
        raise ValueError(f"component names must be unique, got {list(names)}.")
    return names


def _weights(weights, names) -> np.ndarray:
    if weights is None:
        return np.ones(len(names))
    if isinstance(weights, Mapping):
        unknown = set(weights) - set(names)
        if unknown:
            raise ValueError(
                f"weights names unknown component(s) {sorted(unknown)}; known: {list(names)}."
            )
        values = np.array(
            [_checks.number(f"weights[{name!r}]", weights.get(name, 1.0)) for name in names]
        )
    else:
        values = _checks.host_float64("weights", weights)
        if values.shape != (len(names),):
            raise ValueError(
                f"weights must have one entry per component ({len(names)}), "
                f"got shape {values.shape}."
            )
    _checks.finite("weights", values)
    return values


def _finite_steps(argument: str, values: np.ndarray, mask: np.ndarray, names) -> None:
    """Raise on a NaN/inf at a valid step, naming episode, step and component."""
    bad = ~np.isfinite(values) & mask[..., None]
    if bad.any():
        episode, step, component = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{argument} has a non-finite value ({values[episode, step, component]}) at "
            f"episode {episode}, step {step}, component {names[component]!r} "
            f"({int(bad.sum())} in all); clean or mask those steps before building the log."
        )
