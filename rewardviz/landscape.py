"""Reward landscapes: a reward of a continuous state evaluated over a 2-D slice of the state space.

Lucy-SKG's reward analysis (Moschopoulos et al., 2023) drew each Rocket League reward as
a contour map over field positions, and the distribution of each reward over sampled
states. :func:`evaluate` does this for any reward written as a JAX function of a state
held as a dict of named scalar coordinates: two coordinates are swept over a grid, the
others are fixed at a template's values or marginalised over a seeded sampler, and the
result (:class:`Landscape`) holds the mean, spread, quantiles, per-component maps, the
dominant component and the gradient ``(∂/∂x, ∂/∂y)`` of the mean from ``jax.grad``.
:func:`distribution` samples states and summarises each component (Lucy-SKG's
reward-statistics view).

Marginalisation is Monte Carlo with common random numbers: the same ``n_samples``
states of the marginalised coordinates are used at every grid point, so differences
between grid points carry no sampling noise, and the same ``seed`` gives the same
landscape. The standard error of the mean at each point, ``std/√n``, is reported.

Everything is one jitted program per reward function and grid size; template values,
bounds, shape parameters (``params``) and the seed are traced, so a widget slider moving
any of them never recompiles. This module draws nothing (see
:func:`rewardviz.plots.landscape` in :mod:`rewardviz.plots.landscapes`).

Components sit on the last axis, as in :class:`rewardviz.RewardLog`:
``Landscape.components`` is ``[ny, nx, K]`` and ``RewardDistribution.components`` is
``[N, K]``, each named by ``names``.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rewardviz import _budget, _checks, _deprecation

__all__ = [
    "DEFAULT_QUANTILES",
    "SCALAR_COMPONENT",
    "Landscape",
    "RewardDistribution",
    "distribution",
    "evaluate",
]

#: Default quantile levels of the reward at each grid point.
DEFAULT_QUANTILES = (0.05, 0.5, 0.95)
#: Name of the single component of a reward function that returns a scalar.
SCALAR_COMPONENT = "reward"
#: Reward evaluations per chunk of grid rows: bounds the memory of one program step.
_EVALUATIONS_PER_CHUNK = 1 << 16


@partial(
    jax.tree_util.register_dataclass,
    data_fields=[
        "x_values",
        "y_values",
        "mean",
        "std",
        "standard_error",
        "quantiles",
        "components",
        "dominant",
        "gradient",
        "marginal_samples",
    ],
    meta_fields=["x_name", "y_name", "quantile_levels", "names", "n_samples"],
)
@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Landscape:
    """A reward over a grid of two state coordinates (arrays indexed ``[y, x]``).

    Attributes:
        x_name, y_name: the swept coordinates.
        x_values: ``[nx]`` grid of ``x``; ``y_values``: ``[ny]`` grid of ``y``.
        mean: ``[ny, nx]`` mean reward over the marginal samples (the reward itself
            when nothing is marginalised).
        std: ``[ny, nx]`` standard deviation over the samples (``ddof = 1``; 0 with one
            sample): how much the reward at a point depends on the marginalised
            coordinates.
        standard_error: ``[ny, nx]`` Monte Carlo standard error of ``mean``,
            ``std/√n_samples``.
        quantile_levels: ``Q`` levels in ``[0, 1]``; ``quantiles``: ``[Q, ny, nx]`` the
            reward's quantiles over the samples (linear interpolation, like
            ``np.quantile``).
        names: ``K`` component names; ``components``: ``[ny, nx, K]`` mean of each
            component (components last, as in :class:`rewardviz.RewardLog`).
        dominant: ``[ny, nx]`` index of the component with the largest ``|mean|``
            (the first on ties).
        gradient: ``(d/dx, d/dy)``, each ``[ny, nx]``: the gradient of ``mean`` with
            respect to the swept coordinates (the mean of the per-sample gradients).
        marginal_samples: ``{coordinate: [n_samples]}`` the values drawn for each
            marginalised coordinate (empty when nothing is marginalised).
        n_samples: number of marginal samples (1 when nothing is marginalised).
    """

    x_name: str
    y_name: str
    x_values: jax.Array
    y_values: jax.Array
    mean: jax.Array
    std: jax.Array
    standard_error: jax.Array
    quantile_levels: tuple[float, ...]
    quantiles: jax.Array
    names: tuple[str, ...]
    components: jax.Array
    dominant: jax.Array
    gradient: tuple[jax.Array, jax.Array]
    marginal_samples: Mapping[str, jax.Array]
    n_samples: int

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``, the shape of every map."""
        return tuple(self.mean.shape)

    @property
    def component_names(self) -> tuple[str, ...]:
        """Deprecated spelling of :attr:`names`."""
        _deprecation.warn("Landscape.component_names", "Landscape.names")
        return self.names

    def component(self, name: str) -> jax.Array:
        """``[ny, nx]`` the mean map of the component called ``name``."""
        if name not in self.names:
            raise ValueError(f"no component named {name!r}; the components are {list(self.names)}.")
        return self.components[..., self.names.index(name)]

    def to_frame(self):
        """A ``pandas.DataFrame`` with one row per grid point (``x`` varying fastest).

        Columns: the two coordinates, ``mean``, ``std``, ``standard_error``, one column
        per quantile (``q0.05``, ...), one per component, ``dominant`` (its name) and
        ``grad_x``, ``grad_y``.
        """
        import pandas as pd

        x, y = np.meshgrid(np.asarray(self.x_values), np.asarray(self.y_values))
        columns = {
            self.x_name: x.ravel(),
            self.y_name: y.ravel(),
            "mean": np.asarray(self.mean).ravel(),
            "std": np.asarray(self.std).ravel(),
            "standard_error": np.asarray(self.standard_error).ravel(),
        }
        for level, values in zip(self.quantile_levels, np.asarray(self.quantiles), strict=True):
            columns[f"q{level:g}"] = values.ravel()
        components = np.moveaxis(np.asarray(self.components), -1, 0)  # [K, ny, nx]
        for name, values in zip(self.names, components, strict=True):
            columns[name] = values.ravel()
        columns["dominant"] = np.asarray(self.names)[np.asarray(self.dominant).ravel()]
        columns["grad_x"] = np.asarray(self.gradient[0]).ravel()
        columns["grad_y"] = np.asarray(self.gradient[1]).ravel()
        return pd.DataFrame(columns)

    def __repr__(self) -> str:
        ny, nx = self.shape
        mean = np.asarray(self.mean)
        error = float(np.max(np.asarray(self.standard_error)))
        return (
            f"Landscape({self.x_name} x {self.y_name} on {nx} x {ny} points, "
            f"components={list(self.names)}, samples={self.n_samples}, "
            f"mean in [{mean.min():.4g}, {mean.max():.4g}], max standard error {error:.2g})"
        )


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["components", "total", "states"],
    meta_fields=["names"],
)
@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RewardDistribution:
    """Rewards of sampled states: the distribution of each component (Lucy-SKG's statistics view).

    Attributes:
        names: ``K`` component names.
        components: ``[N, K]`` each component at each sampled state (components last).
        total: ``[N]`` the reward at each sampled state.
        states: ``{coordinate: [N]}`` the sampled states (every template coordinate).
    """

    names: tuple[str, ...]
    components: jax.Array
    total: jax.Array
    states: Mapping[str, jax.Array]

    @property
    def n_samples(self) -> int:
        """``N``, the number of sampled states."""
        return int(self.total.shape[0])

    @property
    def component_names(self) -> tuple[str, ...]:
        """Deprecated spelling of :attr:`names`."""
        _deprecation.warn("RewardDistribution.component_names", "RewardDistribution.names")
        return self.names

    def summary(self):
        """A ``pandas.DataFrame``, one row per component and one for ``total``.

        Columns: ``mean``, ``standard_error`` (``std/√N``), ``std`` (``ddof = 1``),
        ``min``, ``q0.05``, ``median``, ``q0.95``, ``max`` and ``positive`` (the fraction
        of states where the value is > 0).
        """
        import pandas as pd

        values = np.column_stack([np.asarray(self.components), np.asarray(self.total)])
        n = len(values)
        std = values.std(axis=0, ddof=1) if n > 1 else np.zeros(values.shape[1])
        q05, median, q95 = np.quantile(values, [0.05, 0.5, 0.95], axis=0)
        return pd.DataFrame(
            {
                "mean": values.mean(axis=0),
                "standard_error": std / np.sqrt(n),
                "std": std,
                "min": values.min(axis=0),
                "q0.05": q05,
                "median": median,
                "q0.95": q95,
                "max": values.max(axis=0),
                "positive": (values > 0).mean(axis=0),
            },
            index=pd.Index([*self.names, "total"], name="component"),
        )

    def to_frame(self):
        """A ``pandas.DataFrame`` of the samples: state coordinates, components, ``total``."""
        import pandas as pd

        columns = {name: np.asarray(values) for name, values in self.states.items()}
        for name, values in zip(self.names, np.asarray(self.components).T, strict=True):
            columns[name] = values
        columns["total"] = np.asarray(self.total)
        return pd.DataFrame(columns)

    def __repr__(self) -> str:
        return f"RewardDistribution(samples={self.n_samples}, components={list(self.names)})"


# ---------------------------------------------------------------------------
# Public functions: validate on concrete values, then call a jitted kernel.


#: Arrays held per grid point and marginal sample while a landscape is evaluated, for
#: the up-front memory estimate of :func:`evaluate` (generous for a few components).
_LANDSCAPE_ARRAYS = 16


def evaluate(
    reward_fn: Callable,
    template: Mapping[str, float],
    *,
    x: str,
    y: str,
    bounds: Mapping[str, Sequence[float]],
    resolution: int | Sequence[int] = 64,
    marginals: Mapping[str, object] | None = None,
    n_samples: int = 64,
    seed: int | jax.Array = 0,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    params: Mapping[str, float] | None = None,
) -> Landscape:
    """Evaluate ``reward_fn`` over a grid of two state coordinates.

    Args:
        reward_fn: ``reward_fn(state)`` (or ``reward_fn(state, params)`` when ``params``
            is given), a JAX function of ``state = {coordinate: scalar}``, returning
            either a scalar; or ``{component: scalar}`` whose sum is the reward; or a
            pair ``(reward, {component: scalar})`` when the reward is not the sum of the
            components (e.g. a Kinesthetic Reward Combination). For a weighted sum
            return the weighted terms, so that the dominant component is the largest
            contribution. It must be hashable (a function is): it keys the compiled
            program.
        template: ``{coordinate: value}`` the full state; the coordinates that are
            neither swept nor marginalised stay at these values.
        x, y: the two coordinates to sweep (keys of ``template``).
        bounds: ``{x: (low, high), y: (low, high)}`` the ranges of the grid (ends
            included).
        resolution: grid points along each axis, an integer or ``(nx, ny)``, each >= 2.
        marginals: ``{coordinate: sampler}`` coordinates to average over instead of
            fixing, each sampler either ``(low, high)`` (uniform) or a 1-D array of
            values drawn from uniformly with replacement (e.g. values seen in logs).
        n_samples: states drawn from the marginals (>= 2; ignored without marginals).
        seed: the seed of the marginal samples, an integer or a ``jax.random`` key; the
            same seed gives the same landscape. Traced: a new seed never recompiles.
        quantiles: levels in ``[0, 1]`` of the quantile maps.
        params: ``{name: value}`` shape parameters passed to ``reward_fn``; traced, so
            changing their values never recompiles.

    Returns:
        :class:`Landscape` with maps indexed ``[y, x]``.

    Raises:
        ValueError: unknown coordinate names, an empty or degenerate grid, bad samplers,
            a reward that is not a scalar, or a reward or gradient that is NaN or
            infinite somewhere on the grid (the message names the grid point and
            the sampled state).

    Example:
        >>> def reward(state):
        ...     return rv.shapes.liu_distance(rv.shapes.distance(
        ...         jnp.stack([state["px"], state["py"]]), jnp.zeros(2)))
        >>> land = rv.landscape.evaluate(reward, {"px": 0.0, "py": 0.0}, x="px", y="py",
        ...                              bounds={"px": (-2, 2), "py": (-1, 1)}, resolution=32)
        >>> land.mean.shape
        (32, 32)
    """
    names, base = _checked_template(template)
    x, y = _checked_axes(names, x, y)
    bounds_array = _checked_bounds(bounds, x, y, base.dtype)
    nx, ny = _checked_resolution(resolution)
    marginal_kinds, marginal_values = _checked_marginals(marginals, names, base.dtype, (x, y))
    n = _checked_samples(n_samples, bool(marginal_kinds))
    levels = _checked_quantiles(quantiles)
    _budget.check_memory(
        f"evaluate(resolution=({nx:,}, {ny:,})"
        + (f", n_samples={n:,})" if marginal_kinds else ")"),
        # Per grid point and sample: the state, reward, components and two gradients (an
        # estimate for a handful of components), in the state's precision.
        _LANDSCAPE_ARRAYS * nx * ny * (n if marginal_kinds else 1) * np.dtype(base.dtype).itemsize,
        "Use a coarser grid (256 x 256 resolves most rewards) or fewer marginal samples.",
    )
    params = _checked_params(params, base.dtype)
    key = _checks.key("seed", seed)
    first_point = (
        f"at every grid point, e.g. [y=0, x=0] ({x}={float(bounds[x][0]):.6g}, "
        f"{y}={float(bounds[y][0]):.6g})"
    )
    kind, component_names = _probed_output(reward_fn, names, base.dtype, params, first_point)
    structure = _Structure(
        names=names,
        x_index=names.index(x),
        y_index=names.index(y),
        nx=nx,
        ny=ny,
        n_samples=n,
        marginal_kinds=marginal_kinds,
        quantile_levels=levels,
        kind=kind,
        component_names=component_names,
        with_params=params is not None,
    )
    result = _landscape_kernel(
        reward_fn, base, bounds_array, marginal_values, key, params, structure=structure
    )
    mean, std, quantile_maps, components, dominant, grad_x, grad_y, samples = result
    if not bool(_all_finite((mean, std, components, grad_x, grad_y))):
        maps = (mean, std, *jnp.moveaxis(components, -1, 0), grad_x, grad_y)
        _raise_non_finite(
            reward_fn, base, bounds_array, marginal_values, key, params, structure, maps
        )
    x_values, y_values = _grid(bounds_array, nx, ny)
    return Landscape(
        x_name=x,
        y_name=y,
        x_values=x_values,
        y_values=y_values,
        mean=mean,
        std=std,
        standard_error=std / np.sqrt(n),
        quantile_levels=levels,
        quantiles=quantile_maps,
        names=component_names,
        components=components,
        dominant=dominant,
        gradient=(grad_x, grad_y),
        marginal_samples={
            names[index]: samples[:, j] for j, (index, _) in enumerate(marginal_kinds)
        },
        n_samples=n,
    )


def distribution(
    reward_fn: Callable,
    template: Mapping[str, float],
    marginals: Mapping[str, object],
    *,
    n_samples: int = 1024,
    seed: int | jax.Array = 0,
    params: Mapping[str, float] | None = None,
) -> RewardDistribution:
    """Sample states and evaluate every component there: the distribution of each reward term.

    The states are ``template`` with the ``marginals`` coordinates drawn as in
    :func:`evaluate` (same samplers, same seeding: with the same ``seed`` the first
    states coincide with a landscape's ``marginal_samples``). Lucy-SKG reported
    these distributions to see whether a term is mostly zero, saturated, or on a
    different scale from the others before weighting it.

    Args:
        reward_fn, template, params: as in :func:`evaluate`.
        marginals: ``{coordinate: (low, high) or values}``, at least one coordinate.
        n_samples: number of states (>= 2).
        seed: the seed of the samples, an integer or a ``jax.random`` key.

    Returns:
        :class:`RewardDistribution`; ``.summary()`` is the table of statistics.

    Example:
        >>> sampled = rv.landscape.distribution(reward, {"px": 0.0, "py": 0.0},
        ...                                     {"px": (-2, 2), "py": (-1, 1)}, n_samples=256)
        >>> sampled.summary()  # mean, standard error, spread and quantiles per component
    """
    names, base = _checked_template(template)
    if marginals is None or (isinstance(marginals, Mapping) and not marginals):
        raise ValueError(
            "marginals is empty: give {coordinate: (low, high)} for at least one coordinate "
            "to sample; with every coordinate fixed there is one state, not a distribution."
        )
    marginal_kinds, marginal_values = _checked_marginals(marginals, names, base.dtype, ())
    n = _checked_samples(n_samples, True)
    params = _checked_params(params, base.dtype)
    key = _checks.key("seed", seed)
    kind, component_names = _probed_output(
        reward_fn, names, base.dtype, params, "at every sampled state"
    )
    structure = _Structure(
        names=names,
        x_index=0,
        y_index=0,
        nx=1,
        ny=1,
        n_samples=n,
        marginal_kinds=marginal_kinds,
        quantile_levels=(),
        kind=kind,
        component_names=component_names,
        with_params=params is not None,
    )
    draws, totals, components = _distribution_kernel(
        reward_fn, base, marginal_values, key, params, structure=structure
    )
    states = _full_states(base, draws, structure)
    if not bool(_all_finite((totals, components))):
        bad = int(np.argmax(~np.isfinite(np.column_stack([totals, components])).all(axis=1)))
        state = {
            name: float(value) for name, value in zip(names, np.asarray(states[bad]), strict=True)
        }
        raise ValueError(
            f"reward_fn returned NaN or infinity at sampled state {bad}: {state}. Guard "
            "divisions and roots (rv.shapes.norm, rv.shapes.alignment are safe at 0)."
        )
    return RewardDistribution(
        names=component_names,
        components=components,
        total=totals,
        states={name: states[:, i] for i, name in enumerate(names)},
    )


# ---------------------------------------------------------------------------
# Checks of the arguments.


class _Structure(typing.NamedTuple):
    """Everything static about a landscape program: changing it recompiles."""

    names: tuple[str, ...]
    x_index: int
    y_index: int
    nx: int
    ny: int
    n_samples: int
    marginal_kinds: tuple[tuple[int, str], ...]  # (coordinate index, "uniform" | "values")
    quantile_levels: tuple[float, ...]
    kind: str  # "scalar", "components" or "pair": what reward_fn returns
    component_names: tuple[str, ...]
    with_params: bool


def _checked_template(template) -> tuple[tuple[str, ...], jax.Array]:
    if not isinstance(template, Mapping):
        raise TypeError(
            f"template must be a dict {{coordinate name: value}}, got {type(template).__name__}."
        )
    if not template:
        raise ValueError("template is empty: give the state as {coordinate name: value}.")
    names = tuple(template)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"template keys must be coordinate names (str), got {name!r}.")
        if np.ndim(template[name]) != 0:
            raise ValueError(
                f"template[{name!r}] must be a scalar, got shape {np.shape(template[name])}; "
                "give each coordinate of a vector its own name (e.g. 'ball_x', 'ball_y')."
            )
    values = _checks.float_array("template", [template[name] for name in names])
    if not bool(_all_finite(values)):
        bad = next(n for n, v in zip(names, np.asarray(values), strict=True) if not np.isfinite(v))
        raise ValueError(f"template[{bad!r}] is {template[bad]!r}; give a finite number.")
    return names, values


def _checked_axes(names: tuple[str, ...], x, y) -> tuple[str, str]:
    for argument, name in (("x", x), ("y", y)):
        if not isinstance(name, str) or name not in names:
            raise ValueError(
                f"{argument}={name!r} is not a coordinate of the template; its coordinates "
                f"are {list(names)}."
            )
    if x == y:
        raise ValueError(f"x and y are both {x!r}; sweep two different coordinates.")
    return x, y


def _checked_bounds(bounds, x: str, y: str, dtype) -> jax.Array:
    if not isinstance(bounds, Mapping):
        raise TypeError(
            f"bounds must be a dict {{{x!r}: (low, high), {y!r}: (low, high)}}, got "
            f"{type(bounds).__name__}."
        )
    extra = sorted(set(bounds) - {x, y})
    if extra:
        raise ValueError(
            f"bounds has ranges for {extra}, which are not swept (x={x!r}, y={y!r}); "
            "fix other coordinates in the template or sample them with marginals."
        )
    rows = []
    for name in (x, y):
        if name not in bounds:
            raise ValueError(f"bounds has no range for {name!r}; add {name!r}: (low, high).")
        pair = np.asarray(bounds[name], dtype=float)
        if pair.shape != (2,) or not np.isfinite(pair).all() or not pair[0] < pair[1]:
            raise ValueError(
                f"bounds[{name!r}] must be (low, high) with finite low < high, got {bounds[name]!r}."
            )
        rows.append(pair)
    return jnp.asarray(np.stack(rows), dtype=dtype)


def _checked_resolution(resolution) -> tuple[int, int]:
    pair = (resolution, resolution) if np.ndim(resolution) == 0 else tuple(resolution)
    if len(pair) != 2:
        raise ValueError(f"resolution must be an integer or (nx, ny), got {resolution!r}.")
    for count in pair:
        if isinstance(count, bool) or not isinstance(count, int | np.integer):
            raise TypeError(f"resolution must hold integers, got {resolution!r}.")
        if count < 2:
            raise ValueError(
                f"resolution {resolution!r} gives a grid with {count} point(s) along an axis; "
                "a landscape needs at least 2 points along each (its two bounds)."
            )
    return int(pair[0]), int(pair[1])


def _checked_marginals(marginals, names, dtype, swept) -> tuple[tuple, tuple]:
    if marginals is None:
        return (), ()
    if not isinstance(marginals, Mapping):
        raise TypeError(
            f"marginals must be a dict {{coordinate: (low, high) or values}}, got "
            f"{type(marginals).__name__}."
        )
    kinds, values = [], []
    for name, sampler in marginals.items():
        if name not in names:
            raise ValueError(
                f"marginals[{name!r}]: {name!r} is not a coordinate of the template; its "
                f"coordinates are {list(names)}."
            )
        if name in swept:
            raise ValueError(
                f"marginals[{name!r}]: {name!r} is swept on the grid; it cannot also be "
                "marginalised."
            )
        if isinstance(sampler, tuple) and len(sampler) == 2:
            low, high = (_checks.number(f"marginals[{name!r}]", v) for v in sampler)
            if not (np.isfinite(low) and np.isfinite(high) and low <= high):
                raise ValueError(
                    f"marginals[{name!r}] = {sampler!r} must be (low, high) with finite "
                    "low <= high (a uniform sampler)."
                )
            kinds.append((names.index(name), "uniform"))
            values.append(jnp.asarray([low, high], dtype=dtype))
            continue
        array = _checks.float_array(f"marginals[{name!r}]", sampler, dtype=dtype)
        if array.ndim != 1 or array.shape[0] == 0:
            raise ValueError(
                f"marginals[{name!r}] must be a (low, high) tuple or a non-empty 1-D array "
                f"of values to draw from, got shape {array.shape}."
            )
        _checks.finite(f"marginals[{name!r}]", array)
        kinds.append((names.index(name), "values"))
        values.append(array)
    return tuple(kinds), tuple(values)


def _checked_samples(n_samples, marginalised: bool) -> int:
    if not marginalised:
        return 1
    n_samples = _checks.positive_int("n_samples", n_samples)
    if n_samples < 2:
        raise ValueError(
            f"n_samples must be >= 2 to estimate a mean and its standard error, got {n_samples}."
        )
    return n_samples


def _checked_quantiles(quantiles) -> tuple[float, ...]:
    levels = tuple(float(q) for q in np.atleast_1d(np.asarray(quantiles, dtype=float)))
    if not all(0.0 <= q <= 1.0 for q in levels):
        raise ValueError(f"quantiles must lie in [0, 1], got {list(levels)}.")
    return levels


def _checked_params(params, dtype) -> dict[str, jax.Array] | None:
    if params is None:
        return None
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict {{name: value}}, got {type(params).__name__}.")
    checked = {}
    for name, value in params.items():
        if np.ndim(value) != 0:
            raise ValueError(f"params[{name!r}] must be a scalar, got shape {np.shape(value)}.")
        array = _checks.float_array(f"params[{name!r}]", value, dtype=dtype)
        _checks.finite(f"params[{name!r}]", array)
        checked[str(name)] = array
    return checked


def _probed_output(reward_fn, names, dtype, params, where: str) -> tuple[str, tuple[str, ...]]:
    """What ``reward_fn`` returns, from tracing it once on abstract values: kind and names."""
    if not callable(reward_fn):
        raise TypeError(f"reward_fn must be callable, got {type(reward_fn).__name__}.")
    try:
        hash(reward_fn)
    except TypeError as error:
        raise TypeError(
            "reward_fn must be hashable (it keys the compiled program); wrap the callable "
            "in a plain function."
        ) from error
    param_names = None if params is None else tuple(params)
    kind, component_names, shapes, total_shape = _probe(
        reward_fn, names, np.dtype(dtype), param_names
    )
    bad = [(name, shape) for name, shape in zip(component_names, shapes, strict=True) if shape]
    if kind == "pair" and total_shape:
        bad.insert(0, ("total", total_shape))
    if bad:
        name, shape = bad[0]
        what = "the reward" if kind == "scalar" or name == "total" else f"component {name!r}"
        raise ValueError(
            f"reward_fn must return a scalar reward at each state, but {what} has shape "
            f"{shape} ({where}). Reduce it to a scalar, or return each entry as its own "
            "named component."
        )
    return kind, component_names


@functools.lru_cache(maxsize=128)
def _probe(reward_fn, names, dtype, param_names):
    """``(kind, component names, their shapes, the total's shape)``; cached per function."""
    found = {}

    def traced(values, params):
        output = _call(reward_fn, _State(values), params)
        kind, total, components = _split_output(output)
        found["kind"] = kind
        found["names"] = tuple(components)
        found["shapes"] = tuple(jnp.shape(value) for value in components.values())
        found["total_shape"] = jnp.shape(total)
        return total

    scalar = jax.ShapeDtypeStruct((), dtype)
    params = None if param_names is None else dict.fromkeys(param_names, scalar)
    jax.eval_shape(traced, dict.fromkeys(names, scalar), params)
    return found["kind"], found["names"], found["shapes"], found["total_shape"]


def _call(reward_fn, state, params):
    return reward_fn(state) if params is None else reward_fn(state, params)


class _State(dict):
    """The state handed to ``reward_fn``: a dict whose missing keys name the template's keys."""

    def __missing__(self, key):
        raise KeyError(
            f"reward_fn read state[{key!r}], which the template does not have; its "
            f"coordinates are {list(self)}. Add {key!r} to the template."
        )


def _split_output(output) -> tuple[str, jax.Array, dict]:
    """``(kind, total, {name: value})`` from a scalar, a dict, or a ``(total, dict)`` pair."""
    if isinstance(output, Mapping):
        if not output:
            raise ValueError("reward_fn returned an empty dict; return at least one component.")
        components = {str(name): jnp.asarray(value) for name, value in output.items()}
        return "components", sum(components.values()), components
    if isinstance(output, tuple | list):
        if len(output) != 2 or not isinstance(output[1], Mapping) or not output[1]:
            raise TypeError(
                "reward_fn returned a sequence; return a scalar, {component: scalar}, or a "
                "pair (reward, {component: scalar})."
            )
        components = {str(name): jnp.asarray(value) for name, value in output[1].items()}
        return "pair", jnp.asarray(output[0]), components
    try:
        total = jnp.asarray(output)
    except TypeError as error:
        raise TypeError(
            f"reward_fn returned {type(output).__name__}; return a scalar, "
            "{component: scalar}, or a pair (reward, {component: scalar})."
        ) from error
    return "scalar", total, {SCALAR_COMPONENT: total}


# ---------------------------------------------------------------------------
# Kernels.


def _grid(bounds: jax.Array, nx: int, ny: int) -> tuple[jax.Array, jax.Array]:
    return (
        jnp.linspace(bounds[0, 0], bounds[0, 1], nx),
        jnp.linspace(bounds[1, 0], bounds[1, 1], ny),
    )


def _draws(marginal_values, key, structure: _Structure, dtype) -> jax.Array:
    """``[n, M]`` draws of the ``M`` marginalised coordinates (in ``marginal_kinds`` order).

    Each coordinate's draws come from the ``key`` folded with the coordinate's index, so
    adding a marginal leaves the draws of the others unchanged.
    """
    n = structure.n_samples
    columns = []
    for (index, kind), values in zip(structure.marginal_kinds, marginal_values, strict=True):
        coordinate_key = jax.random.fold_in(key, index)
        if kind == "uniform":
            columns.append(jax.random.uniform(coordinate_key, (n,), dtype, values[0], values[1]))
        else:
            picks = jax.random.randint(coordinate_key, (n,), 0, values.shape[0])
            columns.append(values[picks])
    return jnp.stack(columns, axis=1) if columns else jnp.zeros((n, 0), dtype)


def _state(structure: _Structure, base, draw, x_value=None, y_value=None) -> _State:
    """The state dict: template values, one sample's ``draw`` ``[M]``, and the grid point.

    Each coordinate stays its own array, so under ``vmap`` a term that depends only on
    fixed coordinates (the ball's distance to the goal while the player is swept) stays
    unbatched and is computed once, not once per grid point and sample.
    """
    values = {name: base[i] for i, name in enumerate(structure.names)}
    for j, (index, _) in enumerate(structure.marginal_kinds):
        values[structure.names[index]] = draw[j]
    if x_value is not None:
        values[structure.names[structure.x_index]] = x_value
        values[structure.names[structure.y_index]] = y_value
    return _State(values)


def _reward_and_components(reward_fn, structure: _Structure, params, state, dtype):
    """``(total, [K] components)`` of one state."""
    _, total, components = _split_output(_call(reward_fn, state, params))
    stacked = jnp.stack(
        [jnp.broadcast_to(components[name], ()).astype(dtype) for name in structure.component_names]
    )
    return total.astype(dtype), stacked


def _point_samples(reward_fn, structure: _Structure, params, base, draws, x_value, y_value):
    """Per-sample total ``[n]``, components ``[n, K]`` and gradients ``[n]`` at one grid point."""

    def at(xv, yv, draw):
        state = _state(structure, base, draw, xv, yv)
        return _reward_and_components(reward_fn, structure, params, state, base.dtype)

    value_and_grad = jax.value_and_grad(at, argnums=(0, 1), has_aux=True)
    per_sample = jax.vmap(value_and_grad, in_axes=(None, None, 0))
    (total, components), (grad_x, grad_y) = per_sample(x_value, y_value, draws)
    return total, components, grad_x, grad_y


@partial(jax.jit, static_argnames=("reward_fn", "structure"))
def _landscape_kernel(reward_fn, base, bounds, marginal_values, key, params, *, structure):
    draws = _draws(marginal_values, key, structure, base.dtype)
    x_values, y_values = _grid(bounds, structure.nx, structure.ny)
    n = structure.n_samples
    point = jax.vmap(
        lambda xv, yv: _point_samples(reward_fn, structure, params, base, draws, xv, yv),
        in_axes=(0, None),
    )

    def row(y_value):
        total, components, grad_x, grad_y = point(x_values, y_value)  # [nx, n], [nx, n, K]
        mean = total.mean(axis=-1)
        summaries = {
            "mean": mean,
            "std": total.std(axis=-1, ddof=1) if n > 1 else jnp.zeros_like(mean),
            "components": components.mean(axis=1),  # [nx, K]
            "grad_x": grad_x.mean(axis=-1),
            "grad_y": grad_y.mean(axis=-1),
        }
        if structure.quantile_levels:
            levels = jnp.asarray(structure.quantile_levels, dtype=total.dtype)
            summaries["quantiles"] = jnp.quantile(total, levels, axis=-1)  # [Q, nx]
        return summaries

    rows_per_chunk = max(1, min(structure.ny, _EVALUATIONS_PER_CHUNK // (structure.nx * n)))
    maps = jax.lax.map(row, y_values, batch_size=rows_per_chunk)
    components = maps["components"]  # [ny, nx, K]
    quantiles = (
        jnp.moveaxis(maps["quantiles"], 1, 0)  # [Q, ny, nx]
        if structure.quantile_levels
        else jnp.zeros((0, structure.ny, structure.nx), base.dtype)
    )
    return (
        maps["mean"],
        maps["std"],
        quantiles,
        components,
        jnp.argmax(jnp.abs(components), axis=-1).astype(jnp.int32),  # [ny, nx]
        maps["grad_x"],
        maps["grad_y"],
        draws,
    )


@partial(jax.jit, static_argnames=("reward_fn", "structure"))
def _point_kernel(reward_fn, base, marginal_values, key, params, x_value, y_value, *, structure):
    draws = _draws(marginal_values, key, structure, base.dtype)
    total, components, grad_x, grad_y = _point_samples(
        reward_fn, structure, params, base, draws, x_value, y_value
    )
    return draws, total, components, grad_x, grad_y


@partial(jax.jit, static_argnames=("reward_fn", "structure"))
def _distribution_kernel(reward_fn, base, marginal_values, key, params, *, structure):
    draws = _draws(marginal_values, key, structure, base.dtype)
    total, components = jax.vmap(
        lambda draw: _reward_and_components(
            reward_fn, structure, params, _state(structure, base, draw), base.dtype
        )
    )(draws)
    return draws, total, components


def _full_states(base, draws, structure: _Structure) -> jax.Array:
    """``[n, C]`` every coordinate of each sampled state."""
    states = jnp.broadcast_to(base, (draws.shape[0], base.shape[0]))
    indices = [index for index, _ in structure.marginal_kinds]
    return states.at[:, jnp.asarray(indices, dtype=int)].set(draws) if indices else states


@jax.jit
def _all_finite(arrays) -> jax.Array:
    return jnp.all(jnp.stack([jnp.isfinite(a).all() for a in jax.tree_util.tree_leaves(arrays)]))


def _raise_non_finite(reward_fn, base, bounds, marginal_values, key, params, structure, maps):
    """Find the first grid point and sample where the reward or its gradient is not finite.

    ``maps`` are the grid's ``[ny, nx]`` maps; the point is located on them, then that
    point's samples are evaluated again (a second program, compiled only on this error
    path) to find the state.
    """
    maps = np.stack([np.asarray(m) for m in maps])
    iy, ix = (int(i) for i in np.argwhere(~np.isfinite(maps).all(axis=0))[0])
    x_values, y_values = (np.asarray(v) for v in _grid(bounds, structure.nx, structure.ny))
    draws, total, comps, gx, gy = _point_kernel(
        reward_fn,
        base,
        marginal_values,
        key,
        params,
        x_values[ix],
        y_values[iy],
        structure=structure,
    )
    values = np.column_stack([np.asarray(total), np.asarray(comps)])
    grads = np.column_stack([np.asarray(gx), np.asarray(gy)])
    x_name, y_name = structure.names[structure.x_index], structure.names[structure.y_index]
    point = (
        f"grid point [y={iy}, x={ix}] ({x_name}={x_values[ix]:.6g}, {y_name}={y_values[iy]:.6g})"
    )
    bad_values = ~np.isfinite(values).all(axis=1)
    sample = int(np.argmax(bad_values if bad_values.any() else ~np.isfinite(grads).all(axis=1)))
    state = np.array(_full_states(base, draws, structure)[sample])
    state[structure.x_index], state[structure.y_index] = x_values[ix], y_values[iy]
    state_text = ", ".join(
        f"{name}={value:.6g}" for name, value in zip(structure.names, state, strict=True)
    )
    if bad_values.any():
        names = ["the reward", *(f"component {name!r}" for name in structure.component_names)]
        # Name the component that broke first: the reward is NaN whenever one of them is.
        broken = ~np.isfinite(values[sample])
        column = 1 + int(np.argmax(broken[1:])) if broken[1:].any() else 0
        raise ValueError(
            f"reward_fn returned {values[sample, column]} for {names[column]} at {point}, "
            f"sample {sample} (state {state_text}). Guard divisions, logarithms and roots; "
            "rv.shapes.norm, distance and alignment are safe at 0."
        )
    raise ValueError(
        f"the gradient of reward_fn is not finite at {point}, sample {sample} (state "
        f"{state_text}), though the reward is. A square root or division at 0 has an "
        "infinite or NaN derivative: use rv.shapes.norm / rv.shapes.distance, which "
        "are differentiable at 0."
    )
