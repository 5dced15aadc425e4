"""What the plot builders share: input checks, the colour of component ``k``, batched updates.

Internal: the names here are shared by the modules of :mod:`rewardviz.plots` and are not
part of the public API. Plots work in numpy float64 whatever JAX's precision: the arrays
are only drawn. Nothing here draws or computes a statistic.
"""

from __future__ import annotations

import contextlib

import numpy as np
import plotly.graph_objects as go

from rewardviz.plots import style


def batch(figure: go.Figure):
    """One front-end message for all the changes of an update, where the figure is a widget."""
    return figure.batch_update() if hasattr(figure, "batch_update") else contextlib.nullcontext()


def component_colour(k: int) -> str:
    """The colour of component ``k``: :data:`~rewardviz.plots.style.COMPONENT_COLOURS`, cycled."""
    return style.COMPONENT_COLOURS[k % len(style.COMPONENT_COLOURS)]


def component_pattern(k: int) -> str:
    """The bar pattern of component ``k``: a new pattern each time the colours cycle round."""
    colours, patterns = len(style.COMPONENT_COLOURS), len(style.COMPONENT_PATTERNS)
    return style.COMPONENT_PATTERNS[(k // colours) % patterns]


def palette_colour(k: int) -> str:
    """The ``k``-th colour of :data:`~rewardviz.plots.style.OKABE_ITO`, cycled."""
    return style.OKABE_ITO[k % len(style.OKABE_ITO)]


def numbers(name: str, values) -> np.ndarray:
    """``values`` as a float64 numpy array, or a ``TypeError`` naming ``name``."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be array-like of numbers, got {type(values).__name__}."
        ) from error


def checked_labels(labels, count: int, default: str) -> list[str]:
    """``count`` labels as strings; ``"{default} 0"``, ``"{default} 1"``, ... when None."""
    if labels is None:
        return [f"{default} {index}" for index in range(count)]
    labels = [str(label) for label in labels]
    if len(labels) != count:
        raise ValueError(f"labels must have {count} entries, one per {default}, got {len(labels)}.")
    return labels


def checked_names(names, count: int, argument: str) -> list[str]:
    """``count`` component names as strings (the components of ``argument``)."""
    if names is None or isinstance(names, str):
        raise TypeError(f"names must be a sequence of {count} component names, got {names!r}.")
    names = [str(name) for name in names]
    if len(names) != count:
        raise ValueError(
            f"names must have {count} entries, one per component of {argument}, got {len(names)}."
        )
    return names


#: Suffix of the name of an interval band drawn next to its line.
BAND_SUFFIX = " (CI)"


def band_trace(name: str, colour: str, **options) -> go.Scatter:
    """An empty, filled interval band in ``colour`` (see :func:`set_band`), out of the legend."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return go.Scatter(
        mode="lines",
        fill="toself",
        fillcolor=f"rgba({red}, {green}, {blue}, {style.BAND_OPACITY})",
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        name=f"{name}{BAND_SUFFIX}",
        **options,
    )


def set_band(band, x, low, high) -> None:
    """Draw ``[low, high]`` over ``x`` as one closed polygon in the band trace ``band``."""
    band.x = np.concatenate([x, x[::-1]])
    band.y = np.concatenate([high, low[::-1]])
