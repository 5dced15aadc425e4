"""Pictures of group-relative advantages with several rewards: who moves the update, and hacking.

Pure builders, like :mod:`rewardviz.plots.decompose`: they are handed attributions,
advantages, per-step rates and correlations computed by :mod:`rewardviz.groups` (or
anything of the same shapes) and draw them. Nothing here normalises, resamples or
centres. The display reductions computed here are the correlation and sign-flip
fraction quoted on :func:`scheme_scatter` (with
:func:`rewardviz.groups.compare_advantages`).

:func:`update_advantage_attribution` redraws a figure of :func:`advantage_attribution`
in place (the same traces, as many as before), so a ``go.FigureWidget`` on screen
updates without being replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rewardviz import _checks, _deprecation
from rewardviz.groups import Divergence, compare_advantages
from rewardviz.plots import _common, style
from rewardviz.plots.decompose import MAX_WRITTEN_CELLS, correlation_heatmap

__all__ = [
    "advantage_attribution",
    "degenerate_rate",
    "length_correlation",
    "proxy_gold",
    "proxy_gold_matplotlib",
    "reward_conflict",
    "scheme_scatter",
    "transform_effects",
    "update_advantage_attribution",
]

# The advantage marker's trace name; the update function finds it by this.
_ADVANTAGE_TRACE = "advantage"


# ---------------------------------------------------------------------------
# One group: which reward makes each sample's advantage.


def advantage_attribution(
    attribution, names: Sequence[str], *, mask=None, title: str | None = None
) -> go.Figure:
    """Each reward's part of each sample's advantage in one group, stacked, with the advantage.

    One bar trace per reward with ``barmode="relative"``: positive parts pile up above
    zero and negative ones below, and the black diamond is the advantage itself (the sum
    of the parts). A sample whose bars point both ways is one where rewards disagree.

    Args:
        attribution: ``[G, K]`` parts of one group's advantages, e.g.
            ``rv.groups.attribution(group)[prompt]``.
        names: ``K`` reward names.
        mask: ``[G]`` valid samples (all by default); masked samples are drawn empty, so
            every group of a log has the same number of bars and the figure updates in place.
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure`` with ``K`` bar traces and one marker trace
        (``"advantage"``), which :func:`update_advantage_attribution` redraws.

    Example:
        >>> parts = rv.groups.attribution(group)
        >>> rv.plots.advantage_attribution(parts[0], group.names, mask=group.mask[0])
    """
    attribution, mask = _checked_attribution(attribution, mask)
    names = _common.checked_names(names, attribution.shape[1], "attribution")
    samples = np.arange(len(attribution))
    figure = go.Figure()
    for k, name in enumerate(names):
        figure.add_trace(
            go.Bar(
                x=samples,
                y=_masked(attribution[:, k], mask),
                name=name,
                marker={
                    "color": _common.component_colour(k),
                    "pattern": {"shape": _common.component_pattern(k)},
                    "line": {"width": 0},
                },
                hovertemplate=f"{name}<br>sample %{{x}}: %{{y:.4g}}<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=samples,
            y=_masked(attribution.sum(axis=1), mask),
            name=_ADVANTAGE_TRACE,
            mode="markers",
            marker={"symbol": "diamond", "size": 10, "color": style.TOTAL_COLOUR},
            hovertemplate="advantage<br>sample %{x}: %{y:.4g}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        barmode="relative",
        xaxis={"title": {"text": "sample in the group"}, "dtick": 1},
        yaxis={"title": {"text": "advantage"}, "zeroline": True, "zerolinecolor": "#444"},
        height=380,
        margin={"t": 60 if title else 30},
    )
    return figure


def update_advantage_attribution(
    figure: go.Figure, attribution, mask=None, *, title: str | None = None
) -> go.Figure:
    """Redraw a figure made by :func:`advantage_attribution` in place (same ``G`` and ``K``).

    Example:
        >>> figure = go.FigureWidget(rv.plots.advantage_attribution(parts[0], group.names))
        >>> rv.plots.update_advantage_attribution(figure, parts[1], group.mask[1])
    """
    attribution, mask = _checked_attribution(attribution, mask)
    bars = [trace for trace in figure.data if trace.type == "bar"]
    markers = [trace for trace in figure.data if trace.name == _ADVANTAGE_TRACE]
    if len(markers) != 1 or not bars:
        raise ValueError(
            "figure was not built by rewardviz.plots.advantage_attribution; build it with that."
        )
    if len(bars) != attribution.shape[1] or len(markers[0].x) != len(attribution):
        raise ValueError(
            f"attribution has shape {attribution.shape} but the figure draws "
            f"{len(markers[0].x)} samples of {len(bars)} rewards; pass the same shape."
        )
    with _common.batch(figure):
        for k, bar in enumerate(bars):
            bar.y = _masked(attribution[:, k], mask)
        markers[0].y = _masked(attribution.sum(axis=1), mask)
        if title is not None:
            figure.layout.title.text = title
    return figure


def _checked_attribution(attribution, mask) -> tuple[np.ndarray, np.ndarray]:
    attribution = _common.numbers("attribution", attribution)
    if attribution.ndim != 2 or 0 in attribution.shape:
        raise ValueError(
            f"attribution must have shape [G, K] (samples, rewards) for one group, got "
            f"{attribution.shape}; pass rv.groups.attribution(group)[prompt]."
        )
    if mask is None:
        mask = np.ones(len(attribution), dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != (len(attribution),) or mask.dtype != bool:
        raise ValueError(
            f"mask must be a boolean [G] = ({len(attribution)},) array, got {mask.dtype} "
            f"{mask.shape}."
        )
    _checks.finite("attribution", attribution[mask])
    return attribution, mask


def _masked(values: np.ndarray, mask: np.ndarray) -> list:
    # None, not NaN: a widget sends its data as JSON, which has no NaN.
    return [float(value) if valid else None for value, valid in zip(values, mask, strict=True)]


# ---------------------------------------------------------------------------
# Two schemes.


def scheme_scatter(
    first,
    second,
    mask=None,
    *,
    labels: Sequence[str] = ("sum then normalise", "normalise then sum"),
    title: str | None = None,
) -> go.Figure:
    """Every sample's advantage under one scheme against another, flipped signs highlighted.

    Points on the diagonal get the same advantage either way; points in the off
    quadrants (vermillion) are pushed up by one scheme and down by the other. The title
    quotes the correlation and the fraction of flipped signs.

    Args:
        first: ``[P, G]`` advantages under the first scheme, e.g.
            ``rv.groups.advantages(group, scheme="sum_then_normalize")``.
        second: ``[P, G]`` advantages under the second scheme, e.g.
            ``rv.groups.advantages(group, scheme="normalize_then_sum")`` (TRL's GDPO option) or
            ``"sum_of_normalized"`` (per-reward standardisation without the batch step).
        mask: ``[P, G]`` valid samples (all by default).
        labels: the two schemes' names, for the axes (the defaults name TRL's two
            options).
        title: figure title; by default the correlation and the sign flips.

    Example:
        >>> rv.plots.scheme_scatter(rv.groups.advantages(group),
        ...                         rv.groups.advantages(group, scheme="normalize_then_sum"), group.mask)
    """
    first, second = _common.numbers("first", first), _common.numbers("second", second)
    if first.shape != second.shape or first.ndim != 2:
        raise ValueError(
            f"first and second must both be [P, G] advantages of the same samples, got "
            f"{first.shape} and {second.shape}."
        )
    mask = np.ones(first.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != first.shape:
        raise ValueError(f"mask must have shape {first.shape}, got {mask.shape}.")
    _checks.finite("first", first[mask])
    _checks.finite("second", second[mask])
    labels = [str(label) for label in labels]
    if len(labels) != 2:
        raise ValueError(f"labels must name the two schemes, got {labels!r}.")
    summary = compare_advantages(first, second, mask)
    prompt, sample = np.nonzero(mask)
    a, b = first[mask], second[mask]
    flipped = np.sign(a) != np.sign(b)
    figure = go.Figure()
    for name, chosen in (("same sign", ~flipped), ("sign flipped", flipped)):
        figure.add_trace(
            go.Scattergl(
                x=a[chosen],
                y=b[chosen],
                name=f"{name} ({int(chosen.sum())})",
                mode="markers",
                marker={"color": style.SIGN_COLOURS[name], "size": 5, "opacity": 0.6},
                customdata=np.stack([prompt[chosen], sample[chosen]], axis=1),
                hovertemplate="group %{customdata[0]}, sample %{customdata[1]}<br>"
                f"{labels[0]} %{{x:.3g}}<br>{labels[1]} %{{y:.3g}}<extra></extra>",
            )
        )
    low = float(min(a.min(), b.min()))
    high = float(max(a.max(), b.max()))
    figure.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="same advantage",
            line={"color": "#999999", "dash": "dash", "width": 1},
            hoverinfo="skip",
        )
    )
    if title is None:
        title = (
            f"Advantages under two schemes: correlation {summary.correlation:.3f}, "
            f"{summary.sign_flips:.1%} of signs flipped"
        )
    figure.update_layout(
        title=title,
        xaxis={"title": {"text": labels[0]}, "zeroline": True},
        yaxis={"title": {"text": labels[1]}, "zeroline": True, "scaleanchor": "x"},
        height=480,
        margin={"t": 60},
    )
    return figure


# ---------------------------------------------------------------------------
# Over training steps.


def degenerate_rate(
    steps, rates=None, names: Sequence[str] | None = None, *, title: str | None = None
) -> go.Figure:
    """Fraction of groups with no learning signal at each step, overall and per reward.

    Args:
        steps: ``[S]`` training steps; or, alone, the result of
            :func:`rewardviz.groups.degenerate_rate_by_step` (its table's index is the
            steps, its columns the rates).
        rates: ``[S, C]`` fractions in ``[0, 1]``, e.g. the columns of
            :func:`rewardviz.groups.degenerate_rate_by_step`.
        names: ``C`` column names; one called ``"total"`` is drawn black and thick.
        title: figure title.

    Example:
        >>> rv.plots.degenerate_rate(rv.groups.degenerate_rate_by_step(group))
    """
    steps, rates, names = _checked_step_lines(steps, rates, names, "rates")
    if ((rates < 0) | (rates > 1)).any():
        raise ValueError("rates must be fractions in [0, 1].")
    figure = _step_lines(steps, rates, names, "fraction of groups with zero variance", title)
    figure.update_yaxes(range=[-0.02, 1.02])
    return figure


def length_correlation(
    steps, correlation=None, names: Sequence[str] | None = None, *, title: str | None = None
) -> go.Figure:
    """Within-group correlation of each reward with completion length, at each step.

    A line climbing towards 1 is a reward that pays for length more and more: the
    classic sign of length hacking.

    Args:
        steps: ``[S]`` training steps; or, alone, the result of
            :func:`rewardviz.groups.length_correlation_drift` (its table's index is the
            steps, its columns the correlations).
        correlation: ``[S, C]`` correlations in ``[-1, 1]``, e.g. the columns of
            :func:`rewardviz.groups.length_correlation_drift`.
        names: ``C`` column names; one called ``"total"`` is drawn black and thick.
        title: figure title.

    Example:
        >>> rv.plots.length_correlation(rv.groups.length_correlation_drift(group))
    """
    steps, correlation, names = _checked_step_lines(steps, correlation, names, "correlation")
    if (np.abs(correlation) > 1 + 1e-6).any():
        raise ValueError("correlation must lie in [-1, 1].")
    figure = _step_lines(steps, correlation, names, "within-group correlation with length", title)
    figure.update_yaxes(range=[-1.02, 1.02])
    return figure


def proxy_gold(divergence: Divergence, *, title: str | None = None) -> go.Figure:
    """Proxy reward and gold score over training, with the divergence step and its interval.

    The two curves have their own axes (proxy left, gold right): only their shapes are
    compared. A dashed line marks the step where the gold score peaks while the proxy
    keeps rising; the shaded band is its 95% bootstrap interval.

    Args:
        divergence: the result of :func:`rewardviz.groups.proxy_gold_divergence`.
        title: figure title.

    Example:
        >>> rv.plots.proxy_gold(rv.groups.proxy_gold_divergence(group, window=5))
    """
    if not isinstance(divergence, Divergence):
        raise TypeError(
            "divergence must be the result of rv.groups.proxy_gold_divergence, got "
            f"{type(divergence).__name__}."
        )
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Scatter(
            x=divergence.steps,
            y=divergence.proxy,
            name="proxy reward",
            mode="lines",
            line={"color": style.PROXY_COLOUR, "width": 2.5},
            hovertemplate="step %{x}<br>proxy %{y:.4g}<extra></extra>",
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=divergence.steps,
            y=divergence.gold,
            name="gold score",
            mode="lines",
            line={"color": style.GOLD_COLOUR, "width": 2.5, "dash": "dot"},
            hovertemplate="step %{x}<br>gold %{y:.4g}<extra></extra>",
        ),
        secondary_y=True,
    )
    low, high = divergence.interval
    if divergence.diverged:
        figure.add_vrect(
            x0=low, x1=high, fillcolor=style.INTERVAL_FILL, line_width=0, layer="below"
        )
        figure.add_vline(
            x=divergence.step,
            line={"color": "#D55E00", "dash": "dash"},
            annotation_text=f"gold peaks at step {divergence.step} (95% CI {low:g}–{high:g})",
            annotation_position="top left",
        )
    if title is None:
        title = (
            "Proxy and gold part ways"
            if divergence.diverged
            else "No divergence: the gold score does not turn down while the proxy rises"
        )
    figure.update_layout(
        title=title,
        xaxis={"title": {"text": "training step"}},
        height=420,
        margin={"t": 60},
        legend={"orientation": "h", "y": -0.2},
    )
    figure.update_yaxes(title_text="proxy reward (mean)", secondary_y=False)
    figure.update_yaxes(title_text="gold score (mean)", secondary_y=True, showgrid=False)
    return figure


def proxy_gold_matplotlib(divergence: Divergence, *, ax=None, title: str | None = None):
    """A static matplotlib version of :func:`proxy_gold`, for papers and handouts.

    Returns:
        The matplotlib ``Axes`` of the proxy curve (the gold curve is on ``ax.twinx()``).

    Example:
        >>> ax = rv.plots.proxy_gold_matplotlib(rv.groups.proxy_gold_divergence(group))
        >>> ax.figure.savefig("divergence.png")  # doctest: +SKIP
    """
    if not isinstance(divergence, Divergence):
        raise TypeError(
            "divergence must be the result of rv.groups.proxy_gold_divergence, got "
            f"{type(divergence).__name__}."
        )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(
        divergence.steps, divergence.proxy, color=style.PROXY_COLOUR, lw=2, label="proxy reward"
    )
    ax.set_xlabel("training step")
    ax.set_ylabel("proxy reward (mean)")
    gold_axis = ax.twinx()
    gold_axis.plot(
        divergence.steps, divergence.gold, color=style.GOLD_COLOUR, lw=2, ls=":", label="gold score"
    )
    gold_axis.set_ylabel("gold score (mean)")
    if divergence.diverged:
        low, high = divergence.interval
        ax.axvspan(low, high, color="#D55E00", alpha=0.15, lw=0)
        ax.axvline(divergence.step, color="#D55E00", ls="--", lw=1)
    ax.set_title(title or "Proxy versus gold score")
    lines = ax.get_lines()[:1] + gold_axis.get_lines()[:1]
    ax.legend(lines, [line.get_label() for line in lines], loc="lower right", frameon=False)
    return ax


# ---------------------------------------------------------------------------
# Conflict between rewards and transforms.


def reward_conflict(
    correlation, agreement, names: Sequence[str], *, title: str | None = None
) -> go.Figure:
    """Two heatmaps side by side: within-group correlation and sign agreement of the rewards.

    Args:
        correlation: ``[K, K]`` from :func:`rewardviz.groups.within_group_correlation`,
            on a diverging scale around 0.
        agreement: ``[K, K]`` from :func:`rewardviz.groups.sign_agreement`, on a diverging
            scale around ½ (below ½: the rewards mostly disagree on which samples are
            above average).
        names: ``K`` reward names.
        title: figure title.

    Example:
        >>> rv.plots.reward_conflict(rv.groups.within_group_correlation(group),
        ...                          rv.groups.sign_agreement(group), group.names)
    """
    left = correlation_heatmap(correlation, names)
    agreement = _common.numbers("agreement", agreement)
    if agreement.shape != (len(names), len(names)):
        raise ValueError(
            f"agreement must be [K, K] = ({len(names)}, {len(names)}), got {agreement.shape}."
        )
    _checks.finite("agreement", agreement)
    if ((agreement < 0) | (agreement > 1)).any():
        raise ValueError("agreement must hold fractions in [0, 1].")
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("within-group correlation", "sign agreement"),
        horizontal_spacing=0.18,
    )
    correlation_trace = left.data[0]
    correlation_trace.update(colorbar={"x": 0.41, "thickness": 12, "title": None})
    figure.add_trace(correlation_trace, row=1, col=1)
    positions = np.arange(len(names))
    figure.add_trace(
        go.Heatmap(
            z=agreement,
            x=positions,
            y=positions,
            text=[[f"{row} vs {col}" for col in names] for row in names],
            texttemplate="%{z:.2f}" if len(names) <= MAX_WRITTEN_CELLS else None,
            hovertemplate="%{text}<br>same sign %{z:.3f}<extra></extra>",
            colorscale="PuOr",
            zmid=0.5,
            zmin=0,
            zmax=1,
            colorbar={"x": 1.0, "thickness": 12},
        ),
        row=1,
        col=2,
    )
    # Cut, thinned tick labels with room made for them; the hover text has the full names.
    axis = _common.matrix_axis(names)
    for col in (1, 2):
        figure.update_xaxes(axis, row=1, col=col)
        figure.update_yaxes({**axis, "autorange": "reversed"}, row=1, col=col)
    figure.update_layout(
        title=title, height=max(340, 44 * len(names) + 180), margin={"t": 80 if title else 50}
    )
    return figure


def transform_effects(frame, *, title: str | None = None) -> go.Figure:
    """What each reward transform does to a logged batch's advantages, as grouped bars.

    Args:
        frame: the result of :func:`rewardviz.groups.transform_effects`, or its table
            (:meth:`~rewardviz.groups.TransformEffects.to_frame`): one row per transform
            with the columns ``sign flips``, ``correlation``, ``degenerate before`` and
            ``degenerate after``.
        title: figure title.

    Example:
        >>> rv.plots.transform_effects(rv.groups.transform_effects(group, transforms))
    """
    frame = _table(frame)
    needed = ["sign flips", "correlation", "degenerate before", "degenerate after"]
    missing = [column for column in needed if column not in getattr(frame, "columns", [])]
    if missing:
        raise ValueError(
            f"frame must be TransformEffects.to_frame() with columns {needed}; missing {missing}."
        )
    names = [str(name) for name in frame.index]
    bars = {
        "samples whose advantage flips sign": frame["sign flips"].to_numpy(float),
        "1 − correlation with the logged advantages": 1 - frame["correlation"].to_numpy(float),
        "degenerate groups after": frame["degenerate after"].to_numpy(float),
    }
    figure = go.Figure()
    for index, (label, values) in enumerate(bars.items()):
        _checks.finite(label, values)
        figure.add_trace(
            go.Bar(
                y=names,
                x=values,
                name=label,
                orientation="h",
                marker={"color": style.OKABE_ITO[index]},
                hovertemplate=f"%{{y}}<br>{label}: %{{x:.3f}}<extra></extra>",
            )
        )
    before = float(frame["degenerate before"].iloc[0])
    figure.add_vline(
        x=before,
        line={"color": style.OKABE_ITO[2], "dash": "dot"},
        annotation_text=f"degenerate before: {before:.2f}",
        annotation_position="bottom right",
    )
    figure.update_layout(
        title=title,
        barmode="group",
        xaxis={"title": {"text": "fraction"}},
        yaxis={"autorange": "reversed"},
        height=max(300, 70 * len(names) + 140),
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 60 if title else 30},
    )
    return figure


# ---------------------------------------------------------------------------
# Shared pieces.


def _table(data):
    """``data`` as a ``pandas.DataFrame``: a result object's ``.to_frame()``, or ``data`` itself."""
    import pandas as pd

    if not isinstance(data, pd.DataFrame) and callable(getattr(data, "to_frame", None)):
        return data.to_frame()
    return data


def _checked_step_lines(steps, values, names, argument):
    if values is None and names is None:
        table = _table(steps)
        if not hasattr(table, "columns"):
            raise TypeError(
                f"without {argument} and names, steps must be a table (a result with "
                f".to_frame(), or a DataFrame) indexed by step, got {type(steps).__name__}."
            )
        steps, values, names = table.index, table.to_numpy(), table.columns
    elif values is None or names is None:
        raise TypeError(f"give {argument} and names together, or a table alone.")
    steps = _common.numbers("steps", steps)
    values = _common.numbers(argument, values)
    if steps.ndim != 1 or values.ndim != 2 or values.shape[0] != len(steps) or not len(steps):
        raise ValueError(
            f"{argument} must have shape [S, C] with one row per step (S = {steps.size}), "
            f"got {values.shape}."
        )
    _checks.finite("steps", steps)
    _checks.finite(argument, values)
    return steps, values, _common.checked_names(list(names), values.shape[1], argument)


def _step_lines(steps, values, names, axis_title, title) -> go.Figure:
    figure = go.Figure()
    reward_index = 0
    for c, name in enumerate(names):
        total = name == "total"
        colour = style.TOTAL_COLOUR if total else _common.component_colour(reward_index)
        reward_index += not total
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=values[:, c],
                name=name,
                mode="lines",
                line={"color": colour, "width": 3 if total else 1.8},
                hovertemplate=f"{name}<br>step %{{x}}: %{{y:.3f}}<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        xaxis={"title": {"text": "training step"}},
        yaxis={"title": {"text": axis_title}},
        height=380,
        margin={"t": 60 if title else 30},
    )
    return figure


# Names that moved to rewardviz.plots.style keep working for one release.
__getattr__ = _deprecation.module_getattr(
    __name__,
    {
        "GOLD_COLOUR": "rewardviz.plots.style.GOLD_COLOUR",
        "INTERVAL_FILL": "rewardviz.plots.style.INTERVAL_FILL",
        "PROXY_COLOUR": "rewardviz.plots.style.PROXY_COLOUR",
        "SIGN_COLOURS": "rewardviz.plots.style.SIGN_COLOURS",
    },
)
