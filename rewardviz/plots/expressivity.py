"""Pictures of expressivity: the formalism map as a layered Hasse diagram, and a realisability answer.

Pure builders: they draw a :class:`~rewardviz.expressivity.FormalismMap` or a
:class:`~rewardviz.expressivity.Realization` they are handed and solve nothing.

In the map, an edge goes up from the less to the more expressive formalism. Its style
says how much we know: solid for ``cited`` or ``witnessed``, dashed and labelled for
``reconstructed`` (never drawn as if it were established). Equivalences are dotted
horizontal links; incomparable pairs are not edges of a Hasse diagram and appear in the
hover text of both nodes (and as faint links with ``show_incomparable=True``). Every node
and edge midpoint carries ``customdata`` (a formalism key or a relation index) so a
widget can show the definition or the justification on click.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rewardviz import _deprecation
from rewardviz.expressivity import FormalismMap, Realization
from rewardviz.mdp import TabularMDP
from rewardviz.plots import _common, style

__all__ = [
    "edge_text",
    "formalism_map",
    "formalism_positions",
    "node_text",
    "realization",
    "update_realization",
]

#: Name of the annotation that explains a missing reward in the left panel of
#: :func:`realization`; its lines are wrapped to this many characters to fit there.
_EXPLANATION, _EXPLANATION_CHARACTERS = "explanation", 44


def formalism_positions(fmap: FormalismMap) -> dict[str, tuple[float, float]]:
    """``key → (x, y)``: layers bottom-up, formalisms of one layer spread evenly."""
    layers: dict[int, list[str]] = {}
    for formalism in fmap.formalisms:
        layers.setdefault(formalism.layer, []).append(formalism.key)
    positions = {}
    for layer, keys in layers.items():
        xs = np.linspace(-1, 1, len(keys)) * (len(keys) - 1) / 8 if len(keys) > 1 else [0.0]
        positions.update({key: (float(x), float(layer)) for key, x in zip(keys, xs, strict=True)})
    return positions


def node_text(fmap: FormalismMap, key: str) -> str:
    """What a node's hover (and a widget's detail pane) says: definition, source, relations."""
    formalism = fmap.formalism(key)
    lines = [f"<b>{formalism.name} ({key})</b>", f"objective: {formalism.objective}"]
    lines.append(f"source: {formalism.source}")
    if formalism.note:
        lines.append(f"note: {formalism.note}")
    for relation in fmap.relations_of(key):
        other = relation.right if relation.left == key else relation.left
        lines.append(f"{_relation_phrase(relation, key)} {other} [{relation.status}]")
    return "<br>".join(lines)


def edge_text(fmap: FormalismMap, index: int) -> str:
    """A relation's justification, status, source and witnesses, for hover and detail panes."""
    relation = fmap.relations[index]
    lines = [
        f"<b>{relation.left} {relation.kind} {relation.right}</b> [{relation.status}]",
        relation.justification,
    ]
    if relation.source:
        lines.append(f"source: {relation.source}")
    lines += [f"witness: {w.name}: {w.description}" for w in relation.witnesses]
    if relation.status == "reconstructed":
        lines.append("<i>reconstructed: believed, not verified against the source</i>")
    return "<br>".join(lines)


def formalism_map(
    fmap: FormalismMap, *, show_incomparable: bool = False, title: str | None = None
) -> go.Figure:
    """The formalism map as a layered Hasse diagram (plotly).

    Example:
        >>> rv.plots.formalism_map(rv.expressivity.formalism_map())  # doctest: +SKIP
    """
    positions = formalism_positions(fmap)
    figure = go.Figure()
    midpoints: dict[str, list] = {status: [[], [], [], []] for status in style.STATUS_STYLE}
    for index, relation in enumerate(fmap.relations):
        if relation.kind == "incomparable" and not show_incomparable:
            continue
        (x0, y0), (x1, y1) = positions[relation.right], positions[relation.left]
        line = dict(style.STATUS_STYLE[relation.status])
        if relation.kind == "equivalent":
            line["dash"] = "dot"
        if relation.kind == "incomparable":
            line = {"color": style.INCOMPARABLE_COLOUR, "dash": "dot"}
        figure.add_trace(
            go.Scatter(
                x=[x0, x1], y=[y0, y1], mode="lines", line={**line, "width": 2},
                hoverinfo="skip", showlegend=False,
            )
        )  # fmt: skip
        column = midpoints[relation.status]
        column[0].append((x0 + x1) / 2)
        column[1].append((y0 + y1) / 2)
        column[2].append(index)
        column[3].append(edge_text(fmap, index))
    for status, (xs, ys, indices, texts) in midpoints.items():
        figure.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="markers", name=f"{status} relation",
                marker={"size": 9, "symbol": "diamond",
                        "color": style.STATUS_STYLE[status]["color"]},
                customdata=indices, hovertext=texts, hovertemplate="%{hovertext}<extra></extra>",
            )
        )  # fmt: skip
    keys = [f.key for f in fmap.formalisms]
    figure.add_trace(
        go.Scatter(
            x=[positions[k][0] for k in keys], y=[positions[k][1] for k in keys],
            mode="markers+text", text=keys, textposition="middle center", name="formalism",
            marker={"size": 38, "color": "white", "line": {"color": "#000000", "width": 1.5}},
            customdata=keys, hovertext=[node_text(fmap, k) for k in keys],
            hovertemplate="%{hovertext}<extra></extra>", showlegend=False,
        )
    )  # fmt: skip
    figure.update_layout(
        title=title or "Objective-specification formalisms (more expressive higher)",
        template="plotly_white",
        xaxis={"visible": False},
        yaxis={"visible": False, "range": [-0.6, max(p[1] for p in positions.values()) + 0.6]},
        legend={"orientation": "h", "y": -0.05},
        height=520,
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return figure


def realization(mdp: TabularMDP, result: Realization, *, title: str | None = None) -> go.Figure:
    """A realisability answer: the reward found and the values it gives, or the certificate.

    Left: the reward ``r(s, a)`` as a state × action heatmap; when there is none, the
    explanation instead (the certificate: the identity every reward satisfies and the
    requirements it contradicts, or the note of an undecided answer), with the axes
    hidden. Right: each compared item's value under that reward, or, when not
    realisable, the certificate's coefficients ``c_i`` with ``Σ c_i V_i = 0`` for every
    reward. An undecided answer (``realizable=None``) shows its candidate reward, if
    any, and says so in the title; ``str(result)`` carries the note.
    """
    figure = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.18)
    figure.add_trace(go.Heatmap(colorscale="RdBu", zmid=0, showscale=True, name="reward"), 1, 1)
    figure.add_trace(go.Bar(name="values", orientation="h"), 1, 2)
    left = figure.layout.xaxis.domain
    figure.add_annotation(
        name=_EXPLANATION,
        x=left[0],
        y=0.5,
        xref="paper",
        yref="paper",
        xanchor="left",
        align="left",
        showarrow=False,
        font={"size": 12},
        visible=False,
    )
    figure.update_layout(template="plotly_white", height=360, showlegend=False)
    return update_realization(figure, mdp, result, title=title)


def update_realization(
    figure: go.Figure, mdp: TabularMDP, result: Realization, *, title: str | None = None
) -> go.Figure:
    """Redraw a :func:`realization` figure in place (same two traces).

    Returns:
        ``figure``, changed.
    """
    states = list(mdp.state_names or [str(s) for s in range(mdp.n_states)])
    actions = list(mdp.action_names or [str(a) for a in range(mdp.n_actions)])
    heatmap, bars = figure.data
    if result.reward is not None:
        table = result.reward.mean(-1)  # r(s, a, ·) is constant over s'
        heatmap.update(z=table.tolist(), x=actions, y=states)
        order = np.argsort(result.values)
        bars.update(
            x=result.values[order].tolist(),
            y=[result.labels[i] for i in order],
            marker={"color": style.OKABE_ITO[0]},
        )
        if result.realizable:
            subtitle = f"realisable, margin {result.margin:.4g}"
            right = "value under the reward found"
        else:
            subtitle = f"undecided in float64 (margin {result.margin:.2g}), see the note"
            right = "value under the candidate reward"
    elif result.realizable is None:
        heatmap.update(z=[[None] * len(actions)] * len(states), x=actions, y=states)
        bars.update(x=[], y=[])
        subtitle = "undecided in float64, see the note"
        right = ""
    else:
        heatmap.update(z=[[None] * len(actions)] * len(states), x=actions, y=states)
        coefficients = [c for c, _ in result.certificate.combination]
        bars.update(
            x=coefficients,
            y=[label for _, label in result.certificate.combination],
            marker={
                "color": [
                    style.POSITIVE_COLOUR if c > 0 else style.NEGATIVE_COLOUR for c in coefficients
                ]
            },
        )
        subtitle = "not realisable: Σ c·V = 0 for every reward"
        right = "certificate coefficient c"
    figure.update_layout(title=title or f"Markov reward: {subtitle}")
    # Without a reward the left panel would be empty axes: it explains why instead.
    no_reward = result.reward is None
    explanation = next(a for a in figure.layout.annotations if a.name == _EXPLANATION)
    explanation.update(text=_explanation(result) if no_reward else "", visible=no_reward)
    figure.update_xaxes(title_text="action", visible=not no_reward, row=1, col=1)
    figure.update_yaxes(title_text="state", visible=not no_reward, row=1, col=1)
    figure.update_xaxes(title_text=right, row=1, col=2)
    return figure


def _explanation(result: Realization) -> str:
    """The certificate (or the undecided note) as annotation text, line by line."""
    text = str(result.certificate) if result.certificate is not None else str(result)
    # "<" would open a tag in plotly's text; "&lt;" draws it.
    lines = [line.strip().replace("<", "&lt;") for line in text.splitlines()]
    return "<br>".join(_common.wrapped(line, _EXPLANATION_CHARACTERS) for line in lines if line)


def _relation_phrase(relation, key: str) -> str:
    if relation.kind == "equivalent":
        return "equivalent to"
    if relation.kind == "incomparable":
        return "incomparable with"
    return (
        "strictly more expressive than" if relation.left == key else "strictly less expressive than"
    )


# Names that moved to rewardviz.plots.style keep working for one release.
__getattr__ = _deprecation.module_getattr(
    __name__,
    {
        "INCOMPARABLE_COLOUR": "rewardviz.plots.style.INCOMPARABLE_COLOUR",
        "NEGATIVE_COLOUR": "rewardviz.plots.style.NEGATIVE_COLOUR",
        "POSITIVE_COLOUR": "rewardviz.plots.style.POSITIVE_COLOUR",
        "STATUS_STYLE": "rewardviz.plots.style.STATUS_STYLE",
    },
)
