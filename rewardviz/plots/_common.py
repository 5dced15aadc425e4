"""What the plot builders share: input checks, the colour of component ``k``, batched updates.

Internal: the names here are shared by the modules of :mod:`rewardviz.plots` and are not
part of the public API. Plots work in numpy float64 whatever JAX's precision: the arrays
are only drawn. Nothing here draws or computes a statistic.
"""

from __future__ import annotations

import contextlib
import textwrap

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


#: Tick labels longer than this are cut with "…"; the hover text keeps the full name.
TICK_LABEL_CHARACTERS = 16
#: At most this many tick labels on a matrix axis; with more rows every n-th is labelled.
MAX_MATRIX_TICKS = 30
#: Font size (pixels) of tick labels and bar labels: readable at a notebook's zoom.
LABEL_FONT_SIZE = 12


def short_label(name: str, limit: int = TICK_LABEL_CHARACTERS) -> str:
    """``name`` cut to ``limit`` characters with "…" in the middle when it is longer.

    The middle goes, not the end: names of one log often share a prefix
    (``reward/forward``, ``reward/ctrl``) and differ at the end.
    """
    if len(name) <= limit:
        return name
    tail = (limit - 1) // 2
    return name[: limit - 1 - tail] + "…" + name[len(name) - tail :]


def matrix_axis(names) -> dict:
    """Axis settings that label the rows (or columns) of a heatmap at positions ``0 … n−1``.

    Long names are cut (:func:`short_label`) and, with more than
    :data:`MAX_MATRIX_TICKS` rows, only every n-th row is labelled, so labels never
    overlap; ``automargin`` makes room for them so none is clipped. Heatmaps using
    these axes should show the full names in their hover text.
    """
    names = [str(name) for name in names]
    step = -(-len(names) // MAX_MATRIX_TICKS)  # ceiling division
    shown = list(range(0, len(names), step))
    return {
        "tickvals": shown,
        "ticktext": [short_label(names[i]) for i in shown],
        "tickfont": {"size": LABEL_FONT_SIZE},
        "automargin": True,
        "showgrid": False,
        "zeroline": False,
    }


def wrapped(text: str, width: int) -> str:
    """``text`` broken at spaces into lines of at most ``width`` characters (``<br>`` between).

    For titles over narrow panels: plotly centres a subplot title over its panel and
    draws it on one line, so a title wider than the panel runs past the figure's edge
    and is cut off there. Line breaks already in ``text`` (``<br>``) are kept, so a
    caller can choose where a formula ends; a word longer than ``width`` is not split.
    """
    lines = []
    for line in str(text).split("<br>"):
        lines += textwrap.wrap(line, width, break_long_words=False) or [line]
    return "<br>".join(lines)
