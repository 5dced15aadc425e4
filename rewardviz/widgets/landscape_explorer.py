"""A notebook explorer of a reward landscape: move shape parameters and state coordinates, see the map.

:class:`LandscapeExplorer` owns a slider per shape parameter and per fixed state
coordinate, a dropdown for the quantity drawn, and two plotly ``FigureWidget``\\ s (the
landscape with its gradient arrows and overlays, and the small multiples of the
components). On every change it asks :func:`rewardviz.landscape.evaluate` for the new
landscape and redraws the figures in place with :func:`rewardviz.plots.update_landscape`
and :func:`rewardviz.plots.update_component_maps`. Parameters and coordinates are traced
arguments of the jitted program, so moving a slider never recompiles; the widget does no
arithmetic of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import ipywidgets
import numpy as np

from rewardviz import landscape as landscapes
from rewardviz.landscape_examples import LandscapeExample
from rewardviz.plots.landscapes import (
    component_maps,
    landscape,
    update_component_maps,
    update_landscape,
)
from rewardviz.widgets._common import Explorer, figure_widget

__all__ = ["LandscapeExplorer", "LandscapeExplorerState"]

#: Slider steps: this fraction of the slider's range.
SLIDER_RESOLUTION = 200


@dataclasses.dataclass(frozen=True)
class LandscapeExplorerState:
    """What a :class:`LandscapeExplorer` shows for its current settings.

    Attributes:
        params: ``{name: value}`` shape parameters on the sliders.
        coordinates: ``{name: value}`` the fixed coordinates on the sliders.
        quantity: the quantity drawn on the main map.
        landscape: the :class:`rewardviz.landscape.Landscape` drawn.
    """

    params: dict[str, float]
    coordinates: dict[str, float]
    quantity: str
    landscape: landscapes.Landscape


@dataclasses.dataclass(frozen=True)
class _Shown:
    """What the figures draw for one setting of the controls."""

    state: LandscapeExplorerState
    points: dict | None  # the overlays of the current state
    arrows: dict | None


class LandscapeExplorer(Explorer):
    """Tune a reward's shape parameters and the fixed part of the state, and watch its landscape.

    Two figures, redrawn on every control change:

    - :attr:`fig`: the chosen quantity (mean reward by default) over the two swept
      coordinates as a filled contour map, with the gradient of the mean as arrows and
      the ``points`` and ``arrows`` overlays of the current state.
    - ``figs["components"]``: one map per component on a shared colour scale.

    A change that cannot be applied (a parameter that makes the reward NaN somewhere)
    is reported in :attr:`status` and leaves the figures as they were.

    Args:
        reward_fn, template, x, y, bounds, resolution, marginals, n_samples, seed: as in
            :func:`rewardviz.landscape.evaluate`.
        params: ``{name: value}`` starting shape parameters, passed to
            ``reward_fn(state, params)``; None when ``reward_fn`` takes only the state.
        param_ranges: ``{name: (low, high)}`` slider ranges; by default
            ``[0, 2·value]`` for positive values and ``value ± max(1, |value|)`` otherwise.
        coordinate_ranges: ``{coordinate: (low, high)}``: the fixed coordinates that get a
            slider, with its range. By default every coordinate that is neither swept nor
            marginalised, with range ``value ± max(1, |value|)``.
        points: ``points(state) -> {label: (x, y)}`` markers for the current state.
        arrows: ``arrows(state) -> {label: ((x, y), (dx, dy))}`` arrows for the current state.
        quantity: starting quantity: ``"mean"``, ``"std"``, a quantile (``"q0.5"``) or a
            component name.

    Attributes:
        fig: the landscape ``plotly.graph_objects.FigureWidget``.
        figs: ``{"landscape": fig, "components": ...}``.
        param_sliders, coordinate_sliders: ``{name: ipywidgets.FloatSlider}``.
        quantity_dropdown: an ``ipywidgets.Dropdown``.
        status: an ``ipywidgets.HTML`` line for error messages.
        widget: the ``ipywidgets.VBox`` holding all of them.
        landscape: the :class:`rewardviz.landscape.Landscape` drawn now.

    ``freeze()`` and ``export(path)`` give a static copy of a figure for slides and handouts.

    Example:
        >>> explorer = rv.widgets.LandscapeExplorer.from_example(
        ...     rv.landscape_examples.ball_and_goal(), resolution=96)
        >>> explorer  # in a notebook cell
        >>> explorer.param_sliders["dispersion"].value = 0.4
        >>> explorer.state().params["dispersion"]
        0.4
    """

    def __init__(
        self,
        reward_fn: Callable,
        template: Mapping[str, float],
        *,
        x: str,
        y: str,
        bounds: Mapping[str, tuple[float, float]],
        resolution: int | tuple[int, int] = 64,
        params: Mapping[str, float] | None = None,
        param_ranges: Mapping[str, tuple[float, float]] | None = None,
        coordinate_ranges: Mapping[str, tuple[float, float]] | None = None,
        marginals: Mapping[str, object] | None = None,
        n_samples: int = 32,
        seed: int = 0,
        points: Callable[[Mapping[str, float]], dict] | None = None,
        arrows: Callable[[Mapping[str, float]], dict] | None = None,
        quantity: str = "mean",
    ) -> None:
        super().__init__()
        for name, overlay in (("points", points), ("arrows", arrows)):
            if overlay is not None and not callable(overlay):
                raise TypeError(
                    f"{name} must be a function of the state returning a dict, got "
                    f"{type(overlay).__name__}."
                )
        self._reward_fn = reward_fn
        self._template = dict(template)
        self._options = {
            "x": x,
            "y": y,
            "bounds": bounds,
            "resolution": resolution,
            "marginals": marginals,
            "n_samples": n_samples,
            "seed": seed,
        }
        self._points, self._arrows = points, arrows
        # Evaluate once before building controls: bad arguments raise here, with
        # evaluate's own messages.
        first = landscapes.evaluate(reward_fn, self._template, params=params, **self._options)

        style = {"description_width": "initial"}
        params = dict(params or {})
        self.param_sliders = {
            name: _slider(name, value, _range(param_ranges, name, value, "param_ranges"), style)
            for name, value in params.items()
        }
        fixed = [
            name for name in self._template if name not in (x, y) and name not in (marginals or {})
        ]
        if coordinate_ranges is None:
            coordinate_ranges = {name: _default_range(self._template[name]) for name in fixed}
        for name in coordinate_ranges:
            if name not in fixed:
                raise ValueError(
                    f"coordinate_ranges[{name!r}]: {name!r} is not a fixed coordinate of the "
                    f"template (fixed ones: {fixed}); swept and marginalised coordinates "
                    "have no slider."
                )
        self.coordinate_sliders = {
            name: _slider(
                name,
                float(self._template[name]),
                _range(coordinate_ranges, name, float(self._template[name]), "coordinate_ranges"),
                style,
            )
            for name in coordinate_ranges
        }
        choices = ["mean", "std", *(f"q{level:g}" for level in first.quantile_levels)]
        choices += [name for name in first.names if name not in choices]
        if quantity not in choices:
            raise ValueError(f"quantity must be one of {choices}, got {quantity!r}.")
        self.quantity_dropdown = ipywidgets.Dropdown(
            options=choices, value=quantity, description="show", style=style
        )

        state = self._state_values()
        self._shown = _Shown(
            state=LandscapeExplorerState(
                params=self._param_values(),
                coordinates=self._coordinate_values(),
                quantity=quantity,
                landscape=first,
            ),
            points=self._call(points, state),
            arrows=self._call(arrows, state),
        )
        self.landscape = first
        self.fig = figure_widget(
            landscape(
                first, quantity=quantity, points=self._shown.points, arrows=self._shown.arrows
            )
        )
        self.figs = {
            "landscape": self.fig,
            "components": figure_widget(component_maps(first)),
        }
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox(
                    [
                        ipywidgets.VBox(list(self.param_sliders.values())),
                        ipywidgets.VBox(
                            [*self.coordinate_sliders.values(), self.quantity_dropdown]
                        ),
                    ]
                ),
                self.fig,
                self.figs["components"],
                self.status,
            ]
        )
        self._observe(
            *self.param_sliders.values(), *self.coordinate_sliders.values(), self.quantity_dropdown
        )

    @classmethod
    def from_example(cls, example: LandscapeExample, **options) -> LandscapeExplorer:
        """An explorer of a :class:`rewardviz.landscape_examples.LandscapeExample`.

        ``options`` override the example's defaults (``resolution=``, ``marginals=``...).

        Example:
            >>> rv.widgets.LandscapeExplorer.from_example(rv.landscape_examples.mountain_car())
        """
        if not isinstance(example, LandscapeExample):
            raise TypeError(
                f"example must be a rewardviz.landscape_examples.LandscapeExample, got "
                f"{type(example).__name__}."
            )
        arguments = {
            "template": example.template,
            "x": example.x,
            "y": example.y,
            "bounds": example.bounds,
            "params": example.params,
            "param_ranges": example.param_ranges,
            "coordinate_ranges": example.coordinate_ranges,
            "points": example.points,
            "arrows": example.arrows,
            **options,
        }
        if "marginals" in options and "coordinate_ranges" not in options:
            # Marginalised coordinates get no slider.
            arguments["coordinate_ranges"] = {
                name: bounds
                for name, bounds in example.coordinate_ranges.items()
                if name not in (options["marginals"] or {})
            }
        return cls(example.reward_fn, arguments.pop("template"), **arguments)

    def state(self) -> LandscapeExplorerState:
        """The parameters, coordinates and quantity shown now, and the landscape drawn."""
        return self._shown.state

    def _param_values(self) -> dict[str, float]:
        return {name: slider.value for name, slider in self.param_sliders.items()}

    def _coordinate_values(self) -> dict[str, float]:
        return {name: slider.value for name, slider in self.coordinate_sliders.items()}

    def _state_values(self) -> dict[str, float]:
        """The template with the coordinate sliders' values."""
        return {**self._template, **self._coordinate_values()}

    @staticmethod
    def _call(overlay, state):
        return None if overlay is None else overlay(state)

    def _compute(self) -> _Shown:
        """The landscape and overlays for the current control settings."""
        state, params = self._state_values(), self._param_values()
        land = landscapes.evaluate(self._reward_fn, state, params=params or None, **self._options)
        return _Shown(
            state=LandscapeExplorerState(
                params=params,
                coordinates=self._coordinate_values(),
                quantity=self.quantity_dropdown.value,
                landscape=land,
            ),
            points=self._call(self._points, state),
            arrows=self._call(self._arrows, state),
        )

    def _draw(self, shown: _Shown) -> None:
        land = shown.state.landscape
        update_landscape(
            self.fig,
            land,
            quantity=shown.state.quantity,
            points=shown.points,
            arrows=shown.arrows,
        )
        update_component_maps(self.figs["components"], land)
        self.landscape = land
        self._shown = shown


def _default_range(value: float) -> tuple[float, float]:
    reach = max(1.0, abs(float(value)))
    return float(value) - reach, float(value) + reach


def _range(ranges, name: str, value: float, argument: str) -> tuple[float, float]:
    if ranges is not None and name in ranges:
        low, high = (float(v) for v in ranges[name])
    elif argument == "param_ranges" and value > 0:
        low, high = 0.0, 2.0 * value
    else:
        low, high = _default_range(value)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"{argument}[{name!r}] must be (low, high) with low < high, got {(low, high)}."
        )
    if not low <= value <= high:
        raise ValueError(
            f"{argument}[{name!r}] = {(low, high)} does not contain the starting value {value}; "
            "widen the range."
        )
    return low, high


def _slider(name: str, value: float, bounds: tuple[float, float], style) -> ipywidgets.FloatSlider:
    low, high = bounds
    return ipywidgets.FloatSlider(
        value=float(value),
        min=low,
        max=high,
        step=(high - low) / SLIDER_RESOLUTION,
        description=name,
        readout_format=".3g",
        continuous_update=False,
        style=style,
    )
