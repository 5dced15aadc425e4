"""What the widgets share: argument checks, the error line, the look and static export (no computation)."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import ipywidgets
import jax
import numpy as np
import plotly.graph_objects as go
from plotly.basedatatypes import BaseFigure

from rewardviz.mdp import TabularMDP
from rewardviz.plots.style import TEMPLATE
from rewardviz.rewards import check_reward


def one_grid_reward(widget: str, mdp: TabularMDP, reward) -> jax.Array:
    """Check that ``mdp`` lives on a grid and ``reward`` is a single ``[S, A, S']`` reward.

    ``widget`` names the widget in the messages, e.g. ``"MDPExplorer"``.
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rewardviz.TabularMDP, got {type(mdp).__name__}.")
    if mdp.grid_shape is None:
        raise ValueError(
            f"{widget} draws on a grid and needs mdp.grid_shape; use rv.envs.gridworld "
            "or pass grid_shape=(rows, cols) (and grid_cells=...) to rv.TabularMDP."
        )
    reward = check_reward(mdp, reward)
    if reward.ndim != 3:
        raise ValueError(
            f"{widget} takes one reward: reward must have shape [S, A, S'] = "
            f"({mdp.n_states}, {mdp.n_actions}, {mdp.n_states}), got {tuple(reward.shape)}; "
            "pick one reward of a batch, e.g. reward[0]."
        )
    return reward


def error_html(error: Exception) -> str:
    """The status line a widget shows when a control change could not be applied."""
    return f'<span style="color: #b00020">Not updated: {html.escape(str(error))}</span>'


def weight_sliders(names, weights) -> dict:
    """One slider per reward term, from ``−2|w| − 1`` to ``2|w| + 1`` around its weight ``w``.

    The range allows switching a term off, flipping its sign and doubling it, whatever
    its scale.
    """
    style = {"description_width": "initial"}
    return {
        name: ipywidgets.FloatSlider(
            value=weight,
            min=-2 * abs(weight) - 1,
            max=2 * abs(weight) + 1,
            step=0.01,
            description=name,
            readout_format=".3g",
            style=style,
        )
        for name, weight in zip(names, np.asarray(weights).tolist(), strict=True)
    }


def figure_widget(figure: go.Figure | None = None) -> go.FigureWidget:
    """A ``FigureWidget`` of ``figure`` in the package's look (:data:`rewardviz.plots.style.TEMPLATE`)."""
    widget = go.FigureWidget(figure)
    widget.update_layout(template=TEMPLATE)
    return widget


def replace_figure(target: go.FigureWidget, source: go.Figure) -> None:
    """Show ``source`` in the on-screen ``target`` (new traces and layout, the package's look).

    For a figure whose traces change in number or kind (another environment, another
    grid); same-shaped updates should go through the plot builders' ``update_...``.
    """
    with target.batch_update():
        target.data = ()
        target.add_traces(source.data)
        target.layout = source.layout
        target.layout.template = TEMPLATE


IMAGE_FORMATS = (".png", ".svg", ".pdf")


def export_figure(figure: BaseFigure, path, *, scale: float = 2.0) -> Path:
    """Write a static copy of ``figure`` to ``path``, atomically (a temporary file, then renamed).

    ``.html`` writes a standalone page (plotly.js inlined: no network needed to view it).
    ``.png``, ``.svg`` and ``.pdf`` use plotly's static export, which needs the ``export``
    extra (kaleido) and a Chrome or Chromium (``BROWSER_PATH=/usr/bin/chromium``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", *IMAGE_FORMATS):
        raise ValueError(
            f"path must end in .html, .png, .svg or .pdf, got {path.name!r}; .html needs "
            "nothing extra, the image formats need the export extra."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {str(path.parent)!r} does not exist; create it first.")
    static = go.Figure(figure)
    if suffix == ".html":
        payload = static.to_html(include_plotlyjs=True, full_html=True).encode()
    else:
        try:
            payload = static.to_image(format=suffix[1:], scale=scale)
        except Exception as error:  # kaleido missing, or no browser for it to drive
            raise RuntimeError(
                f"could not export {suffix} ({type(error).__name__}: {error}). Static images "
                'need pip install "rewardviz[export]" and a Chrome or Chromium; on Debian: '
                "apt-get install chromium and export BROWSER_PATH=/usr/bin/chromium. "
                "Exporting to .html needs neither."
            ) from error
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        tmp.write(payload)
    os.replace(tmp.name, path)
    return path


class StaticExport:
    """``freeze()`` and ``export()`` for widgets: a static figure for slides and handouts.

    A widget lists its figures in ``FIGURES`` (attribute names, the main one first);
    a widget with a ``figs`` dict (name → figure) offers those names too.
    """

    FIGURES: tuple[str, ...] = ("fig",)

    def freeze(self, which: str | None = None) -> go.Figure:
        """A static ``go.Figure`` copy of a figure as it is now, detached from the controls."""
        return go.Figure(self._figure(which))

    def export(self, path, which: str | None = None, *, scale: float = 2.0) -> Path:
        """Write a figure to ``.html``, ``.png``, ``.svg`` or ``.pdf`` (see :func:`export_figure`)."""
        return export_figure(self._figure(which), path, scale=scale)

    def _figure(self, which: str | None) -> BaseFigure:
        named = {name: getattr(self, name) for name in self.FIGURES}
        named.update(getattr(self, "figs", {}))
        name = which or self.FIGURES[0]
        if name not in named:
            raise ValueError(f"{type(self).__name__} has figures {list(named)}, not {name!r}.")
        return named[name]
