"""Pictures of reward landscapes: contour maps with gradients and overlays, component maps, dominance.

Pure builders, like :mod:`rewardviz.plots.decompose`: they are handed a
:class:`rewardviz.landscape.Landscape` (or a :class:`rewardviz.landscape.RewardDistribution`)
computed by :mod:`rewardviz.landscape` and draw it. Nothing here evaluates a reward. The
only arithmetic is display geometry: which grid points carry a gradient arrow (an
evenly spaced subset) and how long the arrows are drawn: scaled so that the 90th
percentile of their lengths spans 0.9 of the spacing between arrows, longer ones capped
there, so that one steep spot (a kink, a narrow peak) does not shrink every other arrow
to a dot.

Gradient arrows are drawn in axis-relative units: with ``W_x``, ``W_y`` the widths of
the axes, the arrow at a point is ``(∂r/∂x·W_x, ∂r/∂y·W_y)`` on a plot whose axes are
both one unit long, i.e. the direction of steepest ascent as the plot shows it, also
when the two coordinates have different units (MountainCar's position and velocity).

The ``update_...`` functions redraw a figure of the matching builder in place (same
traces, same count), so a ``go.FigureWidget`` on screen updates without being replaced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rewardviz import _checks, _deprecation
from rewardviz.landscape import Landscape, RewardDistribution
from rewardviz.plots import _common, _grid, style

__all__ = [
    "component_distributions",
    "component_maps",
    "dominance_map",
    "landscape",
    "landscape_matplotlib",
    "update_component_maps",
    "update_dominance_map",
    "update_landscape",
]

#: Arrow-head barbs: length relative to the arrow and angle from the shaft.
HEAD_FRACTION, HEAD_ANGLE = 0.3, math.radians(25)
#: Default number of gradient arrows along each axis.
ARROWS_PER_AXIS = 16
#: Gradient arrows are scaled so that this percentile of their lengths spans 0.9 of the
#: spacing between arrows; longer ones are capped at that length.
ARROW_PERCENTILE = 90

# Trace names: the update functions find the traces they change by these.
_MAP_TRACE = "landscape"
_GRADIENT_TRACE = "gradient"
_POINTS_TRACE = "points"
_ARROWS_TRACE = "arrows"
_DOMINANT_TRACE = "dominant"


def landscape(
    land: Landscape,
    *,
    quantity: str = "mean",
    points: Mapping[str, tuple[float, float]] | None = None,
    arrows: Mapping[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    gradient: bool = True,
    arrows_per_axis: int = ARROWS_PER_AXIS,
    title: str | None = None,
) -> go.Figure:
    """A filled contour map of a landscape with gradient arrows and points of interest.

    Args:
        land: the :class:`rewardviz.landscape.Landscape` to draw.
        quantity: what to colour: ``"mean"``, ``"std"``, ``"standard_error"``, a quantile
            level as ``"q0.05"`` (one of ``land.quantile_levels``) or a component name.
        points: ``{label: (x, y)}`` markers drawn with their labels (the ball, goals...).
        arrows: ``{label: ((x, y), (dx, dy))}`` arrows drawn in data units from
            ``(x, y)`` to ``(x + dx, y + dy)`` (velocities).
        gradient: draw the gradient of the mean reward as arrows (steepest ascent),
            whichever quantity is coloured.
        arrows_per_axis: gradient arrows along each axis (at evenly spaced grid points).
        title: figure title; a default names the quantity.

    Returns:
        A ``plotly.graph_objects.Figure`` with four traces: the contour map
        (``"landscape"``), the gradient arrows, the points and the arrows (empty when not
        asked for), which :func:`update_landscape` redraws.

    Example:
        >>> field = rv.landscape_examples.ball_and_goal()
        >>> land = field.evaluate(resolution=64)
        >>> figure = rv.plots.landscape(land, points=field.points(field.template),
        ...                             arrows=field.arrows(field.template))
    """
    _require_landscape(land)
    arrows_per_axis = _checks.positive_int("arrows_per_axis", arrows_per_axis)
    figure = go.Figure(
        [
            go.Contour(
                name=_MAP_TRACE,
                contours={"coloring": "fill", "showlines": False},
                ncontours=24,
                colorbar={"thickness": 14},
                hovertemplate=(
                    f"{land.x_name} %{{x:.4g}}<br>{land.y_name} %{{y:.4g}}<br>"
                    "%{z:.4g}<extra></extra>"
                ),
            ),
            go.Scatter(
                name=_GRADIENT_TRACE,
                mode="lines",
                line={"color": style.GRADIENT_COLOUR, "width": 1.2},
                hoverinfo="skip",
                showlegend=False,
            ),
            go.Scatter(
                name=_POINTS_TRACE,
                mode="markers+text",
                textposition="top center",
                marker={"size": 11, "line": {"color": "white", "width": 1.5}},
                hovertemplate="%{text}: (%{x:.3g}, %{y:.3g})<extra></extra>",
                showlegend=False,
            ),
            go.Scatter(
                name=_ARROWS_TRACE,
                mode="lines",
                line={"color": style.VELOCITY_COLOUR, "width": 2.5},
                hoverinfo="skip",
                showlegend=False,
            ),
        ]
    )
    figure.update_layout(
        xaxis={"title": {"text": land.x_name}, "showgrid": False},
        yaxis={"title": {"text": land.y_name}, "showgrid": False},
        height=480,
        margin={"t": 60},
        meta={"arrows_per_axis": arrows_per_axis, "gradient": bool(gradient)},
    )
    return update_landscape(
        figure, land, quantity=quantity, points=points, arrows=arrows, title=title
    )


def update_landscape(
    figure: go.Figure,
    land: Landscape,
    *,
    quantity: str = "mean",
    points: Mapping[str, tuple[float, float]] | None = None,
    arrows: Mapping[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Redraw a figure made by :func:`landscape` in place with ``land`` (any grid size).

    ``points`` and ``arrows`` replace the ones drawn (None draws none); ``title`` None
    gives the default title.

    Example:
        >>> figure = go.FigureWidget(rv.plots.landscape(land))
        >>> rv.plots.update_landscape(figure, field.evaluate(params={**field.params, "density": 3.0}))
    """
    _require_landscape(land)
    traces = {trace.name: trace for trace in figure.data}
    if set(traces) != {_MAP_TRACE, _GRADIENT_TRACE, _POINTS_TRACE, _ARROWS_TRACE}:
        raise ValueError("figure was not built by rewardviz.plots.landscape; build it with that.")
    values, label = _quantity(land, quantity)
    x, y = np.asarray(land.x_values, dtype=float), np.asarray(land.y_values, dtype=float)
    meta = figure.layout.meta
    gradient_x, gradient_y = (
        _gradient_arrows(land, meta["arrows_per_axis"]) if meta["gradient"] else ([], [])
    )
    point_labels, point_x, point_y = _checked_points(points)
    arrow_x, arrow_y = _velocity_arrows(arrows, x, y)
    diverging = values.min() < 0 < values.max()
    with _common.batch(figure):
        contour = traces[_MAP_TRACE]
        contour.x, contour.y, contour.z = x, y, _cells(values)
        contour.colorscale = "RdBu" if diverging else "Viridis"
        contour.zmid = 0 if diverging else None
        contour.colorbar.title.text = label
        traces[_GRADIENT_TRACE].x, traces[_GRADIENT_TRACE].y = gradient_x, gradient_y
        scatter = traces[_POINTS_TRACE]
        scatter.x, scatter.y, scatter.text = point_x, point_y, point_labels
        scatter.marker.color = [_common.palette_colour(k) for k in range(len(point_labels))]
        traces[_ARROWS_TRACE].x, traces[_ARROWS_TRACE].y = arrow_x, arrow_y
        figure.layout.xaxis.range = [x[0], x[-1]]
        figure.layout.yaxis.range = [y[0], y[-1]]
        figure.layout.title.text = title if title is not None else _default_title(land, label)
    return figure


def component_maps(land: Landscape, *, columns: int = 3, title: str | None = None) -> go.Figure:
    """Small multiples: one heatmap per component, on one shared colour scale.

    The shared scale is diverging and centred at 0 when the components take both signs,
    so a term's size and sign compare across panels at a glance.

    Args:
        land: the landscape; its ``components`` ``[ny, nx, K]`` are drawn.
        columns: panels per row.
        title: figure title.

    Returns:
        A figure with ``K`` heatmap traces named by the components, which
        :func:`update_component_maps` redraws.

    Example:
        >>> figure = rv.plots.component_maps(field.evaluate(resolution=48))
    """
    _require_landscape(land)
    columns = _checks.positive_int("columns", columns)
    names = list(land.names)
    columns = min(columns, len(names))
    rows = math.ceil(len(names) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=names,
        shared_xaxes=True,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        vertical_spacing=0.12 if rows > 1 else 0.0,
    )
    for k, name in enumerate(names):
        figure.add_trace(
            go.Heatmap(
                name=name,
                coloraxis="coloraxis",
                hovertemplate=(
                    f"{name}<br>{land.x_name} %{{x:.4g}}, {land.y_name} %{{y:.4g}}: "
                    "%{z:.4g}<extra></extra>"
                ),
            ),
            row=k // columns + 1,
            col=k % columns + 1,
        )
    figure.update_layout(
        height=260 * rows + 80,
        margin={"t": 80},
        coloraxis={"colorbar": {"title": {"text": "mean"}, "thickness": 14}},
        meta={"names": names},
    )
    return update_component_maps(figure, land, title=title)


def update_component_maps(
    figure: go.Figure, land: Landscape, *, title: str | None = None
) -> go.Figure:
    """Redraw a figure made by :func:`component_maps` in place (same components)."""
    _require_landscape(land)
    meta = figure.layout.meta
    if not isinstance(meta, Mapping) or list(meta.get("names", [])) != list(land.names):
        raise ValueError(
            "figure was not built by rewardviz.plots.component_maps for these components "
            f"({list(land.names)}); build it with that."
        )
    components = np.moveaxis(np.asarray(land.components, dtype=float), -1, 0)  # [K, ny, nx]
    x, y = np.asarray(land.x_values, dtype=float), np.asarray(land.y_values, dtype=float)
    low, high = float(components.min()), float(components.max())
    diverging = low < 0 < high
    with _common.batch(figure):
        for trace, values in zip(figure.data, components, strict=True):
            trace.x, trace.y, trace.z = x, y, _cells(values)
        figure.layout.coloraxis.colorscale = "RdBu" if diverging else "Viridis"
        figure.layout.coloraxis.cmid = 0 if diverging else None
        figure.layout.title.text = (
            title if title is not None else f"Components over {land.x_name} × {land.y_name}"
        )
    return figure


def dominance_map(land: Landscape, *, title: str | None = None) -> go.Figure:
    """Which component has the largest ``|mean|`` at each grid point, one colour per component.

    Example:
        >>> figure = rv.plots.dominance_map(field.evaluate(resolution=48))
    """
    _require_landscape(land)
    names = list(land.names)
    count = len(names)
    # A stepped colour scale: component k owns the band [k, k + 1] / count.
    scale = []
    for k in range(count):
        colour = _common.component_colour(k)
        scale += [[k / count, colour], [(k + 1) / count, colour]]
    figure = go.Figure(
        go.Heatmap(
            name=_DOMINANT_TRACE,
            colorscale=scale,
            zmin=-0.5,
            zmax=count - 0.5,
            colorbar={"tickvals": list(range(count)), "ticktext": names, "thickness": 14},
            hovertemplate=(
                f"{land.x_name} %{{x:.4g}}, {land.y_name} %{{y:.4g}}<br>%{{text}}<extra></extra>"
            ),
        )
    )
    figure.update_layout(
        xaxis={"title": {"text": land.x_name}},
        yaxis={"title": {"text": land.y_name}},
        height=420,
        margin={"t": 60},
        meta={"names": names},
    )
    return update_dominance_map(figure, land, title=title)


def update_dominance_map(
    figure: go.Figure, land: Landscape, *, title: str | None = None
) -> go.Figure:
    """Redraw a figure made by :func:`dominance_map` in place (same components)."""
    _require_landscape(land)
    traces = [trace for trace in figure.data if trace.name == _DOMINANT_TRACE]
    meta = figure.layout.meta
    if len(traces) != 1 or list(meta["names"]) != list(land.names):
        raise ValueError(
            "figure was not built by rewardviz.plots.dominance_map for these components; "
            "build it with that."
        )
    dominant = np.asarray(land.dominant)
    names = np.asarray(land.names, dtype=object)
    with _common.batch(figure):
        trace = traces[0]
        trace.x, trace.y = np.asarray(land.x_values), np.asarray(land.y_values)
        trace.z = dominant.tolist()
        trace.text = names[dominant].tolist()
        figure.layout.title.text = (
            title if title is not None else "Dominant component (largest |mean|)"
        )
    return figure


def component_distributions(sampled: RewardDistribution, *, title: str | None = None) -> go.Figure:
    """The distribution of each component and of the total over sampled states (violins with boxes).

    Example:
        >>> sampled = rv.landscape.distribution(field.reward_fn, field.template,
        ...     {"player_x": (-5, 5), "player_y": (-3, 3)}, params=field.params)
        >>> figure = rv.plots.component_distributions(sampled)
    """
    if not isinstance(sampled, RewardDistribution):
        raise TypeError(
            "sampled must be a rewardviz.landscape.RewardDistribution (from "
            f"rv.landscape.distribution), got {type(sampled).__name__}."
        )
    columns = np.column_stack([np.asarray(sampled.components), np.asarray(sampled.total)])
    names = [*sampled.names, "total"]
    figure = go.Figure()
    for k, name in enumerate(names):
        colour = style.TOTAL_COLOUR if k == len(names) - 1 else _common.component_colour(k)
        figure.add_trace(
            go.Violin(
                y=columns[:, k],
                name=name,
                line={"color": colour},
                box={"visible": True},
                meanline={"visible": True},
                points=False,
                spanmode="hard",
            )
        )
    figure.update_layout(
        title=title or f"Reward components over {sampled.n_samples} sampled states",
        yaxis={"title": {"text": "value"}, "zeroline": True},
        showlegend=False,
        height=400,
    )
    return figure


def landscape_matplotlib(
    land: Landscape,
    *,
    quantity: str = "mean",
    points: Mapping[str, tuple[float, float]] | None = None,
    arrows: Mapping[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    gradient: bool = True,
    arrows_per_axis: int = ARROWS_PER_AXIS,
    ax=None,
    cmap=None,
    title: str | None = None,
):
    """A static matplotlib picture of the same data as :func:`landscape`, for handouts.

    Args:
        land, quantity, points, arrows, gradient, arrows_per_axis: as in :func:`landscape`.
        ax: the axes to draw on; a new figure is made when omitted.
        cmap: a colour map; diverging ``"RdBu_r"`` centred at 0 when the values take
            both signs, ``"viridis"`` otherwise, by default.
        title: axes title.

    Returns:
        The matplotlib ``Axes``.

    Example:
        >>> ax = rv.plots.landscape_matplotlib(land, points=field.points(field.template))
        >>> ax.figure.savefig("landscape.png")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    _require_landscape(land)
    arrows_per_axis = _checks.positive_int("arrows_per_axis", arrows_per_axis)
    values, label = _quantity(land, quantity)
    point_labels, point_x, point_y = _checked_points(points)
    arrow_x, arrow_y = _velocity_arrows(
        arrows, np.asarray(land.x_values), np.asarray(land.y_values)
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    x, y = np.asarray(land.x_values, dtype=float), np.asarray(land.y_values, dtype=float)
    diverging = values.min() < 0 < values.max()
    norm = TwoSlopeNorm(0.0, values.min(), values.max()) if diverging else None
    filled = ax.contourf(
        x, y, values, levels=24, cmap=cmap or ("RdBu_r" if diverging else "viridis"), norm=norm
    )
    ax.figure.colorbar(filled, ax=ax, label=label)
    if gradient:
        gradient_x, gradient_y = _gradient_arrows(land, arrows_per_axis)
        ax.plot(gradient_x, gradient_y, color=style.GRADIENT_COLOUR, linewidth=0.8)
    if arrow_x:
        ax.plot(arrow_x, arrow_y, color=style.VELOCITY_COLOUR, linewidth=2)
    for k, (name, px, py) in enumerate(zip(point_labels, point_x, point_y, strict=True)):
        ax.scatter([px], [py], color=_common.palette_colour(k), edgecolor="white", zorder=3)
        ax.annotate(name, (px, py), textcoords="offset points", xytext=(0, 6), ha="center")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_xlabel(land.x_name)
    ax.set_ylabel(land.y_name)
    ax.set_title(title if title is not None else _default_title(land, label))
    return ax


# ---------------------------------------------------------------------------
# Shared pieces.


def _require_landscape(land) -> None:
    if not isinstance(land, Landscape):
        raise TypeError(
            "land must be a rewardviz.landscape.Landscape (from rv.landscape.evaluate), got "
            f"{type(land).__name__}."
        )


def _quantity(land: Landscape, quantity: str) -> tuple[np.ndarray, str]:
    """The ``[ny, nx]`` map called ``quantity`` and its colour-bar label."""
    if quantity in ("mean", "std", "standard_error"):
        return np.asarray(getattr(land, quantity), dtype=float), quantity.replace("_", " ")
    if quantity in land.names:
        return np.asarray(land.component(quantity), dtype=float), quantity
    levels = {f"q{level:g}": q for q, level in enumerate(land.quantile_levels)}
    if quantity in levels:
        return np.asarray(land.quantiles[levels[quantity]], dtype=float), quantity
    choices = ["mean", "std", "standard_error", *levels, *land.names]
    raise ValueError(f"quantity must be one of {choices}, got {quantity!r}.")


def _default_title(land: Landscape, label: str) -> str:
    marginal = (
        f", averaged over {land.n_samples} samples of {', '.join(land.marginal_samples)}"
        if land.marginal_samples
        else ""
    )
    return f"Reward {label} over {land.x_name} × {land.y_name}{marginal}"


def _cells(values: np.ndarray):
    """``values`` for a heatmap or contour: the array itself (sent as a binary buffer, fast)
    when finite, else :func:`rewardviz.plots._grid.heatmap_cells` (NaN is not JSON)."""
    return values if np.isfinite(values).all() else _grid.heatmap_cells(values)


def _arrow_polylines(tails, vectors, widths) -> tuple[list, list]:
    """Line coordinates (``None``-separated) of arrows ``tail → tail + vector`` with two barbs.

    The barbs are placed in axis-relative units (``widths`` are the axis lengths) so the
    heads look the same whatever the units of the two axes. Zero vectors draw nothing.
    """
    xs, ys = [], []
    for (x0, y0), (dx, dy) in zip(tails, vectors, strict=True):
        if dx == 0 and dy == 0:
            continue
        u, v = dx / widths[0], dy / widths[1]  # the arrow in axis-relative units
        angle = math.atan2(v, u)
        head = HEAD_FRACTION * math.hypot(u, v)
        x1, y1 = x0 + dx, y0 + dy
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        for side in (1, -1):
            barb = angle + math.pi - side * HEAD_ANGLE
            xs += [x1, x1 + head * math.cos(barb) * widths[0], None]
            ys += [y1, y1 + head * math.sin(barb) * widths[1], None]
    return xs, ys


def _gradient_arrows(land: Landscape, per_axis: int) -> tuple[list, list]:
    """Arrows of the gradient of the mean at up to ``per_axis`` evenly spaced points per axis."""
    x, y = np.asarray(land.x_values, dtype=float), np.asarray(land.y_values, dtype=float)
    columns = np.unique(np.linspace(0, len(x) - 1, min(per_axis, len(x))).round().astype(int))
    rows = np.unique(np.linspace(0, len(y) - 1, min(per_axis, len(y))).round().astype(int))
    widths = (x[-1] - x[0], y[-1] - y[0])
    gx = np.asarray(land.gradient[0], dtype=float)[np.ix_(rows, columns)]
    gy = np.asarray(land.gradient[1], dtype=float)[np.ix_(rows, columns)]
    u, v = gx * widths[0], gy * widths[1]  # gradient in axis-relative coordinates
    lengths = np.hypot(u, v)
    # A few huge gradients (a kink, a narrow peak) would shrink every other arrow to a
    # dot: scale by a high percentile instead of the maximum and cap the longest.
    typical = float(np.percentile(lengths, ARROW_PERCENTILE))
    if typical == 0:
        typical = float(lengths.max())
    if typical == 0:
        return [], []
    capped = np.minimum(lengths, typical) / np.where(lengths > 0, lengths, 1.0)
    u, v = u * capped, v * capped
    spacing = 1.0 / max(len(columns), len(rows))
    scale = 0.9 * spacing / typical
    tails = [(x[c], y[r]) for r in rows for c in columns]
    vectors = [
        (u[i, j] * scale * widths[0], v[i, j] * scale * widths[1])
        for i in range(len(rows))
        for j in range(len(columns))
    ]
    return _arrow_polylines(tails, vectors, widths)


def _checked_points(points) -> tuple[list[str], list[float], list[float]]:
    if points is None:
        return [], [], []
    if not isinstance(points, Mapping):
        raise TypeError(f"points must be a dict {{label: (x, y)}}, got {type(points).__name__}.")
    labels, xs, ys = [], [], []
    for label, where in points.items():
        where = np.asarray(where, dtype=float)
        if where.shape != (2,) or not np.isfinite(where).all():
            raise ValueError(f"points[{label!r}] must be a finite (x, y), got {where.tolist()}.")
        labels.append(str(label))
        xs.append(float(where[0]))
        ys.append(float(where[1]))
    return labels, xs, ys


def _velocity_arrows(arrows, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    if arrows is None:
        return [], []
    if not isinstance(arrows, Mapping):
        raise TypeError(
            f"arrows must be a dict {{label: ((x, y), (dx, dy))}}, got {type(arrows).__name__}."
        )
    tails, vectors = [], []
    for label, arrow in arrows.items():
        array = np.asarray(arrow, dtype=float)
        if array.shape != (2, 2) or not np.isfinite(array).all():
            raise ValueError(
                f"arrows[{label!r}] must be finite ((x, y), (dx, dy)), got {array.tolist()}."
            )
        tails.append(tuple(array[0]))
        vectors.append(tuple(array[1]))
    return _arrow_polylines(tails, vectors, (float(x[-1] - x[0]), float(y[-1] - y[0])))


# Names that moved to rewardviz.plots.style keep working for one release.
__getattr__ = _deprecation.module_getattr(
    __name__,
    {
        "GRADIENT_COLOUR": "rewardviz.plots.style.GRADIENT_COLOUR",
        "VELOCITY_COLOUR": "rewardviz.plots.style.VELOCITY_COLOUR",
    },
)
