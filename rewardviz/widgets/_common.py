"""What the widgets share: the :class:`Explorer` base, argument checks, the γ slider, the
error line, the look and static export.

Nothing here computes an analysis: an explorer asks the analysis modules for its numbers
in ``_compute`` and hands them to the plot builders' ``update_...`` in ``_draw``.
"""

from __future__ import annotations

import abc
import html
from pathlib import Path

import ipywidgets
import jax
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import traitlets
from plotly import serializers as plotly_serializers
from plotly.basedatatypes import BaseFigure

from rewardviz import _checks, _files
from rewardviz.mdp import TabularMDP
from rewardviz.plots.style import TEMPLATE
from rewardviz.rewards import check_reward
from rewardviz.solve import ConvergenceError

#: The discount slider stops here for MDPs without terminal states (γ = 1 needs them).
CONTINUING_GAMMA_LIMIT = 0.99

#: What a control change may raise and an explorer shows in its status line instead:
#: a setting its analysis refuses (``ValueError``), a name or index that is not there
#: (``LookupError``), an iterative solver that did not converge at that setting
#: (:class:`rewardviz.solve.ConvergenceError`, e.g. γ = 1 with a reward that pays
#: forever), an LP or fixed point that failed (``RuntimeError``, of which
#: ``ConvergenceError`` is one) and arithmetic that overflowed at that setting
#: (``ArithmeticError``: ``OverflowError``, ``FloatingPointError``). Anything else is a
#: bug and propagates.
REPORTED_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    LookupError,
    ConvergenceError,
    RuntimeError,
    ArithmeticError,
)

IMAGE_FORMATS = (".png", ".svg", ".pdf")

#: The line above an explorer's static snapshot, shown where no kernel runs the widget.
SNAPSHOT_NOTE = "Static snapshot — run the notebook for the live widget."


class Explorer(abc.ABC):
    """The skeleton every notebook widget of rewardviz shares.

    An explorer owns its controls, one or more plotly ``FigureWidget``\\ s and a status
    line. A control change runs :meth:`_refresh`: :meth:`_compute` asks the analysis
    modules for everything the figures show, then :meth:`_draw` writes it into the
    figures in place. All the work that can fail happens in ``_compute``, before
    anything on screen changes, so an error in :data:`REPORTED_ERRORS` is shown in
    :attr:`status` and leaves every figure and :meth:`state` as they were.

    Subclasses set :attr:`fig` (the main figure), :attr:`widget` (the box displayed)
    and list their figures in ``FIGURES`` (attribute names, the main one first); one with
    a ``figs`` dict (name → figure) offers those names to :meth:`freeze` and
    :meth:`export` too.

    Attributes:
        fig: the main ``plotly.graph_objects.FigureWidget``.
        status: an ``ipywidgets.HTML`` line for messages (empty when all is well).
        widget: the ``ipywidgets`` box holding the controls and figures.
    """

    FIGURES: tuple[str, ...] = ("fig",)

    fig: go.FigureWidget
    widget: ipywidgets.Box

    def __init__(self) -> None:
        self.status = ipywidgets.HTML(value="")

    @abc.abstractmethod
    def state(self):
        """What the explorer shows now, as a frozen dataclass."""

    @abc.abstractmethod
    def _compute(self):
        """Everything the figures show for the current controls; raises, draws nothing."""

    @abc.abstractmethod
    def _draw(self, shown) -> None:
        """Write ``shown`` (from :meth:`_compute`) into the figures and keep it for :meth:`state`."""

    def _sync_controls(self) -> None:
        """Enable, disable, show or hide controls after a change (before computing).

        Does nothing here: only explorers whose controls depend on each other override it.
        """
        return

    def _refresh(self, _change=None) -> None:
        """Recompute and redraw after a control change; report a failure in :attr:`status`."""
        self._sync_controls()
        try:
            shown = self._compute()
        except REPORTED_ERRORS as error:
            self._report(error)
            return
        self.status.value = ""
        self._draw(shown)

    def _report(self, error: Exception) -> None:
        """Show ``error`` in the status line."""
        self.status.value = error_html(error)

    def _observe(self, *controls: ipywidgets.Widget) -> None:
        """Run :meth:`_refresh` whenever one of ``controls`` changes value."""
        for control in controls:
            control.observe(self._refresh, names="value")

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if bundle is not None:
            # A front end with a kernel shows the widget view; one without (nbconvert's
            # HTML, `make demo`) skips it and shows the richest other type: the snapshot.
            bundle["text/html"] = self.snapshot_html()
        return bundle

    def snapshot_html(self) -> str:
        """A static HTML copy of the figures as they are now, under :data:`SNAPSHOT_NOTE`.

        It holds the figures' data and a ``Plotly.newPlot`` call but not plotly.js (a few
        MB per output): the page shown must provide plotly.js, as a notebook displaying a
        figure with plotly's ``notebook`` renderer does (``make demo``).
        """
        figures = "".join(
            pio.to_html(
                self._figure(name), full_html=False, include_plotlyjs=False, include_mathjax=False
            )
            for name in self.FIGURES
        )
        return (
            '<div class="rewardviz-snapshot"><p style="font-style: italic; color: #555">'
            f"{html.escape(SNAPSHOT_NOTE)}</p>{figures}</div>"
        )

    def freeze(self, which: str | None = None) -> go.Figure:
        """A static ``go.Figure`` copy of a figure as it is now, detached from the controls."""
        return go.Figure(self._figure(which))

    def export(
        self, path, which: str | None = None, *, scale: float = 2.0, overwrite: bool = False
    ) -> Path:
        """Write a figure to ``.html``, ``.png``, ``.svg`` or ``.pdf`` (see :func:`export_figure`).

        Args:
            path: the file to write; its suffix picks the format.
            which: the figure's name (see :meth:`freeze`); the main figure when None.
            scale: pixel scale of the static image formats.
            overwrite: replace ``path`` if it exists (as the CLI's ``--force`` does);
                without it an existing file is kept and a ``FileExistsError`` raised, so
                re-running a notebook cell that exports needs ``overwrite=True``.

        Example:
            >>> explorer.export("figure.svg", overwrite=True)
            PosixPath('figure.svg')
        """
        return export_figure(self._figure(which), path, scale=scale, overwrite=overwrite)

    def _figure(self, which: str | None) -> BaseFigure:
        named = {name: getattr(self, name) for name in self.FIGURES}
        named.update(getattr(self, "figs", {}))
        name = which or self.FIGURES[0]
        if name not in named:
            raise ValueError(f"{type(self).__name__} has figures {list(named)}, not {name!r}.")
        return named[name]


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


def gamma_slider(
    gamma: float | None = None, mdp: TabularMDP | None = None
) -> ipywidgets.FloatSlider:
    """The discount slider, starting at ``gamma`` (checked; ``mdp.gamma`` when None).

    Without an MDP it spans ``[0, 1]``. With one, it reaches 1 only when the MDP has
    terminal states (γ = 1 needs them); otherwise it stops at
    :data:`CONTINUING_GAMMA_LIMIT`, or at the MDP's own γ when that is higher.
    """
    if mdp is None:
        gamma = _checks.in_range("gamma", gamma, 0.0, 1.0)
        high = 1.0
    else:
        terminal = bool(np.asarray(mdp.terminal).any())
        limit = 1.0 if terminal else CONTINUING_GAMMA_LIMIT
        gamma = float(mdp.gamma) if gamma is None else gamma
        gamma = _checks.in_range(
            "gamma", gamma, 0.0, max(limit, float(mdp.gamma)), hint="γ = 1 needs terminal states."
        )
        high = max(limit, gamma)
    return ipywidgets.FloatSlider(
        value=gamma,
        min=0.0,
        max=high,
        step=0.01,
        description="γ (discount)",
        readout_format=".2f",
        style={"description_width": "initial"},
    )


def require_finite(what: str, values, fix: str) -> None:
    """Raise ``ValueError`` when ``values`` (computed for the current controls) are not finite.

    Computed values overflow where the inputs did not (weights near float32's largest
    number make sums infinite); an explorer calls this in ``_compute`` so that the
    setting is refused before anything on screen changes. ``what`` names the values and
    ``fix`` says what to change, e.g. ``"use smaller weights"``.
    """
    array = np.asarray(values)
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(array[where]) else "infinite"
        location = f" at index {where}" if where else ""
        raise ValueError(
            f"{what}{location} is {kind} at this setting ({int(bad.sum())} non-finite "
            f"entries; the largest {array.dtype} is {np.finfo(array.dtype).max:.3g}); {fix}."
        )


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
    """A ``FigureWidget`` of ``figure`` in the package's look (:data:`rewardviz.plots.style.TEMPLATE`).

    With plotly 6 a ``FigureWidget`` is an ``anywidget``, which is why rewardviz
    depends on ``anywidget``. The widget is a :class:`JsonFigureWidget`, which sends
    every array to the browser as JSON.
    """
    widget = JsonFigureWidget(figure)
    widget.update_layout(template=TEMPLATE)
    return widget


def _arrays_as_lists(value, widget_manager):
    """plotly's widget serialiser, with numeric numpy arrays sent as JSON lists (NaN as null).

    plotly sends a 1-D numeric array as a binary buffer beside the JSON; a trace whose
    coordinates arrive that way has been seen drawn without them, in index space (a
    landscape's contour in one flat quadrant of its axes), and a saved widget state can
    lose the buffers. The arrays of these figures are at most a few thousand numbers.
    """
    if isinstance(value, dict):
        return {key: _arrays_as_lists(item, widget_manager) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_arrays_as_lists(item, widget_manager) for item in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        if value.dtype.kind == "f":
            return np.where(np.isnan(value), None, value).tolist()  # JSON has no NaN
        return value.tolist()
    return plotly_serializers.custom_serializers["to_json"](value, widget_manager)


_JSON_SERIALIZERS = {**plotly_serializers.custom_serializers, "to_json": _arrays_as_lists}


class JsonFigureWidget(go.FigureWidget):
    """A plotly ``FigureWidget`` whose state and updates carry arrays as JSON lists.

    The same widget as plotly's (same front end, same Python API); only the serialiser
    of its synchronised traits differs (:func:`_arrays_as_lists`), so every plot
    builder and ``update_...`` function may hand it numpy arrays.
    """

    _widget_layout = traitlets.Dict().tag(sync=True, **_JSON_SERIALIZERS)
    _widget_data = traitlets.List().tag(sync=True, **_JSON_SERIALIZERS)
    _py2js_addTraces = traitlets.Dict(allow_none=True).tag(sync=True, **_JSON_SERIALIZERS)
    _py2js_restyle = traitlets.Dict(allow_none=True).tag(sync=True, **_JSON_SERIALIZERS)
    _py2js_relayout = traitlets.Dict(allow_none=True).tag(sync=True, **_JSON_SERIALIZERS)
    _py2js_update = traitlets.Dict(allow_none=True).tag(sync=True, **_JSON_SERIALIZERS)
    _py2js_animate = traitlets.Dict(allow_none=True).tag(sync=True, **_JSON_SERIALIZERS)


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


def export_figure(figure: BaseFigure, path, *, scale: float = 2.0, overwrite: bool = False) -> Path:
    """Write a static copy of ``figure`` to ``path``, atomically (a temporary file, then renamed).

    ``.html`` writes a standalone page (plotly.js inlined: no network needed to view it).
    ``.png``, ``.svg`` and ``.pdf`` use plotly's static export, which needs the ``export``
    extra (kaleido) and a Chrome or Chromium (``BROWSER_PATH=/usr/bin/chromium``).

    An existing file at ``path`` is replaced only with ``overwrite=True`` (as the CLI's
    ``--force``); it is checked before the figure is rendered, so a refused export costs
    nothing, and again just before the rename.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        IsADirectoryError: ``path`` is a directory.
        FileNotFoundError: ``path``'s folder does not exist.
        ValueError: ``path`` has another suffix.
        RuntimeError: a static image could not be rendered (kaleido or Chromium missing).
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
    _files.check_target(path, overwrite=overwrite)
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
    with _files.atomic_write(path, binary=True, overwrite=overwrite) as file:
        file.write(payload)
    return path
