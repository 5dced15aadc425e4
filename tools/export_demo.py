"""Run a notebook headlessly and write it as one standalone HTML page that works offline.

``make demo`` calls this on the tour. Widgets need a kernel: a page whose widget views are
embedded (nbconvert's default) loads the widget manager from a CDN and shows a blank
explorer without network. So the widget state is not stored, and nbconvert shows what
else each widget output carries: for rewardviz's explorers, a static snapshot of their
figures under a note (``Explorer.snapshot_html``). Plots use plotly's ``notebook``
renderer, which inlines plotly.js once; when an explorer comes before any inlined copy,
plotly.js is inlined in the page's head instead. Scripts the page would fetch from the
network (require.js and MathJax from nbconvert's template and plotly's renderer) are
dropped: the tour needs neither, and offline they only fail. So nothing is fetched, and
LaTeX in markdown or plot titles would show as typed.

    python tools/export_demo.py notebooks/00_tour.ipynb build/tour.html
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor
from plotly.offline import get_plotlyjs, get_plotlyjs_version

#: Seconds one cell may run (the tour's slowest takes a few).
CELL_TIMEOUT = 600

#: The class of the ``<div>`` holding an explorer's snapshot (``Explorer.snapshot_html``).
SNAPSHOT_CLASS = 'class="rewardviz-snapshot"'

#: A ``<script>`` loaded from the network, with its empty body.
NETWORK_SCRIPT = re.compile(r'<script src="https?://[^"]*">\s*</script>')


def export(notebook: Path, target: Path) -> Path:
    """Execute ``notebook`` in its folder and write it to ``target`` as standalone HTML."""
    notebook, target = Path(notebook), Path(target)
    # The kernel inherits this process's environment: plotly's notebook renderer inlines
    # plotly.js instead of loading it from a CDN.
    os.environ["PLOTLY_RENDERER"] = "notebook"
    node = nbformat.read(notebook, as_version=4)
    executor = ExecutePreprocessor(timeout=CELL_TIMEOUT, store_widget_state=False)
    executor.preprocess(node, {"metadata": {"path": str(notebook.resolve().parent)}})
    page, _ = HTMLExporter(template_name="lab").from_notebook_node(
        node, resources={"metadata": {"name": notebook.stem}}
    )
    page = with_plotlyjs_before_snapshots(NETWORK_SCRIPT.sub("", page))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=target.parent, suffix=".partial", delete=False
    ) as tmp:
        tmp.write(page)
    os.replace(tmp.name, target)
    return target


def with_plotlyjs_before_snapshots(page: str) -> str:
    """``page`` with plotly.js inlined in its head if a snapshot would run before any copy."""
    snapshot = page.find(SNAPSHOT_CLASS)
    if snapshot < 0:
        return page
    inlined = page.find(f"plotly.js v{get_plotlyjs_version()}")
    if 0 <= inlined < snapshot:
        return page
    head_end = page.index("</head>")
    return f"{page[:head_end]}<script>{get_plotlyjs()}</script>\n{page[head_end:]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, help="the notebook to run")
    parser.add_argument("target", type=Path, help="the HTML file to write")
    args = parser.parse_args(argv)
    print(f"Wrote {export(args.notebook, args.target).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
