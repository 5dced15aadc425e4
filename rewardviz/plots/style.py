"""The package's one look: a plotly template every widget figure uses.

Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), a white
background with light grid lines, and one font stack. Plot builders keep plotly's
defaults unless they set colours themselves; widgets apply :data:`TEMPLATE` to their
figures so every explorer looks the same. Applying it to a figure of your own:
``figure.update_layout(template=rv.plots.style.TEMPLATE)``. Importing this module does
not change plotly's global default template.
"""

from __future__ import annotations

import copy

import plotly.graph_objects as go
import plotly.io as pio

from rewardviz.plots.distances import OKABE_ITO

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
