"""A notebook explorer of group-relative advantages: move the weights, see who moves the update.

:class:`GroupExplorer` owns a slider per reward weight, a group slider, a scheme and a
normalisation choice, an ε slider and a plotly ``FigureWidget``. On every change it asks
:mod:`rewardviz.groups` for the attribution of every advantage under the new settings
and redraws the selected group in place with
:func:`rewardviz.plots.update_advantage_attribution`. It does no arithmetic of its own.
Weights, ε and the group are traced values, so moving them never recompiles; each
scheme and normalisation compiles once, on first use. TRL's ``"normalize_then_sum"``
(GDPO) has no use for a normalisation: the toggle is disabled while it is selected, and
whatever it shows selects the one kernel of that scheme.
"""

from __future__ import annotations

import dataclasses

import ipywidgets
import numpy as np

from rewardviz import groups as group_analysis
from rewardviz.groups import GroupRewards
from rewardviz.plots.groups import advantage_attribution, update_advantage_attribution
from rewardviz.widgets._common import Explorer, figure_widget, weight_sliders

__all__ = ["GroupExplorer", "GroupExplorerState"]

_NORMALIZATION_LABELS = {"std": "group std", "batch": "batch std", "mean": "centre only"}
_NORMALIZATION_TIPS = {
    "std": "divide by the group's standard deviation + ε (TRL scale_rewards='group')",
    "batch": "divide by the standard deviation of the whole training step + ε (TRL 'batch')",
    "mean": "no division (TRL 'none', Dr. GRPO)",
}


@dataclasses.dataclass(frozen=True)
class GroupExplorerState:
    """What a :class:`GroupExplorer` shows for its current settings.

    Attributes:
        weights: ``{reward name: weight}`` set on the sliders.
        group: index of the group drawn.
        scheme, normalize, eps: the advantage options (see :func:`rewardviz.groups.advantages`;
            ``normalize`` plays no part under ``"normalize_then_sum"``).
        degenerate_fraction: fraction of all groups whose weighted total is the same for
            every sample under these weights (no signal when summing then normalising).
    """

    weights: dict[str, float]
    group: int
    scheme: str
    normalize: str
    eps: float
    degenerate_fraction: float


@dataclasses.dataclass(frozen=True)
class _Shown:
    """What the figure and the status line show for one setting of the controls."""

    parts: np.ndarray  # [P, G, K] attribution of every advantage
    state: GroupExplorerState


class GroupExplorer(Explorer):
    """Reweight the rewards of a GRPO log and see each reward's part of one group's advantages.

    Args:
        group: the :class:`rewardviz.GroupRewards` to explore.
        index: the group drawn first, ``0 <= index < group.n_prompts``.
        scheme: starting scheme, one of :data:`rewardviz.groups.SCHEMES`.

    Attributes:
        fig: the ``plotly.graph_objects.FigureWidget`` of
            :func:`rewardviz.plots.advantage_attribution`.
        weight_sliders: ``{reward name: ipywidgets.FloatSlider}``, each starting at the
            log's weight ``w`` and ranging over ``[-2|w| - 1, 2|w| + 1]``.
        group_slider, scheme_dropdown, normalize_toggle, eps_slider: the other controls.
        status: an ``ipywidgets.HTML`` line: the degenerate fraction, or an error message.
        widget: the ``ipywidgets.VBox`` holding all of them.

    Example:
        >>> explorer = rv.widgets.GroupExplorer(rv.groups.example_groups(), index=500)
        >>> explorer  # in a notebook cell
        >>> explorer.weight_sliders["length"].value = 0.0
        >>> explorer.state().degenerate_fraction
    """

    def __init__(
        self, group: GroupRewards, *, index: int = 0, scheme: str = "sum_then_normalize"
    ) -> None:
        super().__init__()
        if not isinstance(group, GroupRewards):
            raise TypeError(f"group must be a rewardviz.GroupRewards, got {type(group).__name__}.")
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise TypeError(f"index must be an integer, got {index!r}.")
        if not 0 <= index < group.n_prompts:
            raise ValueError(
                f"index must lie in [0, {group.n_prompts - 1}] (there are {group.n_prompts} "
                f"groups), got {index}."
            )
        if scheme not in group_analysis.SCHEMES:
            raise ValueError(
                f"scheme must be one of {list(group_analysis.SCHEMES)}, got {scheme!r}."
            )
        self._group = group
        self._mask = np.asarray(group.mask)
        self._steps = np.asarray(group.step)
        style = {"description_width": "initial"}
        self.weight_sliders = weight_sliders(group.names, group.weights)
        self.group_slider = ipywidgets.IntSlider(
            value=int(index), min=0, max=group.n_prompts - 1, description="group", style=style
        )
        self.scheme_dropdown = ipywidgets.Dropdown(
            options=list(group_analysis.SCHEMES), value=scheme, description="scheme", style=style
        )
        self.normalize_toggle = ipywidgets.ToggleButtons(
            options=[(_NORMALIZATION_LABELS[key], key) for key in group_analysis.NORMALIZATIONS],
            value="std",
            description="normalise",
            tooltips=[_NORMALIZATION_TIPS[key] for key in group_analysis.NORMALIZATIONS],
        )
        self.eps_slider = ipywidgets.FloatLogSlider(
            value=1e-4, base=10, min=-8, max=0, description="ε", readout_format=".0e", style=style
        )

        self._sync_controls()
        # Compute before building anything on screen: bad settings raise here.
        shown = self._compute()
        self.fig = figure_widget(
            advantage_attribution(shown.parts[index], group.names, mask=self._mask[index])
        )
        self._draw(shown)
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox(
                    [
                        ipywidgets.VBox(list(self.weight_sliders.values())),
                        ipywidgets.VBox(
                            [
                                self.group_slider,
                                self.scheme_dropdown,
                                self.normalize_toggle,
                                self.eps_slider,
                            ]
                        ),
                    ]
                ),
                self.fig,
                self.status,
            ]
        )
        self._observe(
            *self.weight_sliders.values(),
            self.group_slider,
            self.scheme_dropdown,
            self.normalize_toggle,
            self.eps_slider,
        )

    def state(self) -> GroupExplorerState:
        """The settings shown now and the degenerate fraction under them."""
        return self._shown.state

    def _compute(self) -> _Shown:
        """``[P, G, K]`` attribution and the settings and degenerate fraction it is for."""
        weights = {name: slider.value for name, slider in self.weight_sliders.items()}
        scheme, normalize = self.scheme_dropdown.value, self.normalize_toggle.value
        eps = self.eps_slider.value
        # with_weights only swaps a leaf of the pytree: the kernels see new values only.
        reweighted = self._group.with_weights(list(weights.values()))
        parts = group_analysis.attribution(reweighted, scheme=scheme, normalize=normalize, eps=eps)
        state = GroupExplorerState(
            weights=weights,
            group=self.group_slider.value,
            scheme=scheme,
            normalize=normalize,
            eps=eps,
            degenerate_fraction=group_analysis.degenerate_groups(reweighted).fraction,
        )
        return _Shown(parts=np.asarray(parts), state=state)

    def _draw(self, shown: _Shown) -> None:
        index = shown.state.group
        update_advantage_attribution(
            self.fig,
            shown.parts[index],
            self._mask[index],
            title=(
                f"group {index} (prompt {self._group.prompt_ids[index]!r}, step "
                f"{int(self._steps[index])}): each reward's part of the advantage"
            ),
        )
        self.status.value = (
            f"{shown.state.degenerate_fraction:.1%} of all groups carry no signal under these "
            "weights when rewards are summed first (every sample gets the same total reward)."
        )
        self._shown = shown

    def _sync_controls(self) -> None:
        self.normalize_toggle.disabled = self.scheme_dropdown.value == "normalize_then_sum"
