"""The package's one look: the palette every plot builder draws with, and a plotly template.

Every colour a builder sets lives here, so changing the look is changing this module.
The palette is Okabe & Ito's (distinguishable with the common colour-vision
deficiencies): components, methods and candidates take its colours in order, and the
builder-specific colours below are picked from it where they can be.

:data:`TEMPLATE` is Okabe–Ito colours on a white background with light grid lines and
one font stack. Plot builders keep plotly's defaults for what they do not colour
themselves; widgets apply :data:`TEMPLATE` to their figures so every explorer looks the
same. Applying it to a figure of your own:
``figure.update_layout(template=rv.plots.style.TEMPLATE)``. Importing this module does
not change plotly's global default template, and it imports no widget.

This module imports no other plot module, so every builder can import it.
"""

from __future__ import annotations

import copy

import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "ARROW_COLOUR",
    "BAND_OPACITY",
    "COMPONENT_COLOURS",
    "COMPONENT_PATTERNS",
    "FONT",
    "GOLD_COLOUR",
    "GRADIENT_COLOUR",
    "INCOMPARABLE_COLOUR",
    "INTERVAL_FILL",
    "MARKER_SYMBOLS",
    "NEGATIVE_COLOUR",
    "NOT_A_STATE_COLOUR",
    "OKABE_ITO",
    "OPTIMAL_COLOUR",
    "POSITIVE_COLOUR",
    "PROXY_COLOUR",
    "RANK_COLOURS",
    "SIGN_COLOURS",
    "STATUS_STYLE",
    "TEMPLATE",
    "TERMINAL_COLOURS",
    "TOTAL_COLOUR",
    "VELOCITY_COLOUR",
]

# ---------------------------------------------------------------------------
# The palette.

#: Okabe & Ito's colour-blind-safe palette (yellow last: it is faint on white).
OKABE_ITO = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)
#: Marker shapes paired with the colours, so methods differ in shape as well as colour.
MARKER_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "pentagon")
#: Colours of reward components: Okabe–Ito without black, which marks the total.
COMPONENT_COLOURS = tuple(colour for colour in OKABE_ITO if colour != "#000000")
#: Bar fill patterns, so components beyond the seventh differ by pattern as well as colour.
COMPONENT_PATTERNS = ("", "/", "x", ".", "\\", "+", "-", "|")
#: Colour of a total (the reward, the advantage) drawn over its components.
TOTAL_COLOUR = "#000000"

# ---------------------------------------------------------------------------
# Grids (rewardviz.plots.gridworld and the grid panels of other builders).

#: Policy arrows on a grid.
ARROW_COLOUR = "#e8112d"
#: Cells of a grid that are not states (walls, cliffs).
NOT_A_STATE_COLOUR = "#bdbdbd"
#: Terminal cells, drawn in their own colour rather than on the values' colour scale
#: (a terminal state's value is 0 by convention and says nothing): goals, hazards
#: (lava, holes) and any other terminal state. Named in a legend under the grid.
TERMINAL_COLOURS = {"goal": "#E69F00", "hazard": "#000000", "terminal": "#CC79A7"}

# ---------------------------------------------------------------------------
# Decompositions (rewardviz.plots.decompose).

#: Colours of the ranking lines: ranked higher (bluish green), lower (vermillion), same.
RANK_COLOURS = {"higher": "#009E73", "lower": "#D55E00", "same": "#999999"}

# ---------------------------------------------------------------------------
# Group rewards (rewardviz.plots.groups).

#: Colours of the scheme scatter: same sign under both schemes, or flipped.
SIGN_COLOURS = {"same sign": "#0072B2", "sign flipped": "#D55E00"}
#: Colours of the proxy and gold curves.
PROXY_COLOUR, GOLD_COLOUR = "#E69F00", "#009E73"
#: Fill of the bootstrap interval of the divergence step.
INTERVAL_FILL = "rgba(213, 94, 0, 0.15)"

# ---------------------------------------------------------------------------
# Landscapes (rewardviz.plots.landscape).

#: Colour of the gradient arrows and of the velocity arrows drawn over a landscape.
GRADIENT_COLOUR = "#222222"
VELOCITY_COLOUR = "#D55E00"

# ---------------------------------------------------------------------------
# Learning curves (rewardviz.plots.learning_curves).

#: Opacity of the confidence bands.
BAND_OPACITY = 0.2
#: Colour of the optimal-return line.
OPTIMAL_COLOUR = "#000000"

# ---------------------------------------------------------------------------
# Expressivity (rewardviz.plots.formalism_map, rewardviz.plots.realization).

#: Edge colour and dash per status (Okabe–Ito: bluish green, blue, orange).
STATUS_STYLE = {
    "witnessed": {"color": OKABE_ITO[2], "dash": "solid"},
    "cited": {"color": OKABE_ITO[0], "dash": "solid"},
    "reconstructed": {"color": OKABE_ITO[4], "dash": "dash"},
}
INCOMPARABLE_COLOUR = "#BBBBBB"
#: Certificate bars: positive coefficients bluish green, negative vermillion.
POSITIVE_COLOUR, NEGATIVE_COLOUR = OKABE_ITO[2], OKABE_ITO[1]

# ---------------------------------------------------------------------------
# The template.

FONT = "Inter, 'Helvetica Neue', Helvetica, Arial, sans-serif"


def _template() -> go.layout.Template:
    template = copy.deepcopy(pio.templates["plotly_white"])
    template.layout.update(
        font={"family": FONT, "size": 13, "color": "#222222"},
        colorway=list(OKABE_ITO),
        title={"font": {"size": 16}},
        hoverlabel={"font": {"family": FONT}},
    )
    return template


TEMPLATE = _template()
