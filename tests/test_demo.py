"""``make demo``: the tour as one standalone HTML page that shows its explorers offline.

Widgets need a kernel; the page carries, for each explorer, a static snapshot of its
figures under a note, with plotly.js inlined and nothing fetched from the network. The
first test runs the Makefile's own recipe; the second opens a small exported notebook in
headless Chromium with every network request refused and checks the snapshot draws.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from rewardviz.widgets._common import SNAPSHOT_NOTE

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = ROOT / "Makefile"
EXPORT_SCRIPT = ROOT / "tools" / "export_demo.py"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

#: A ``Plotly.newPlot("id", [traces], ...)`` call of plotly's HTML output: the traces.
NEW_PLOT = re.compile(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', re.DOTALL)

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None


def demo_recipe() -> list[str]:
    """The commands of the Makefile's ``demo`` target, variables as written."""
    lines = MAKEFILE.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("demo:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*:?=\s*(.+)$", MAKEFILE.read_text(), re.MULTILINE)
    assert match, f"the Makefile sets no {name}"
    return match.group(1).strip()


def snapshots(page: str) -> list[str]:
    """The HTML of each explorer snapshot on ``page``."""
    starts = [m.start() for m in re.finditer('<div class="rewardviz-snapshot">', page)]
    return [page[start : page.index("</script>", start)] for start in starts]


def traces(snapshot: str) -> list[dict]:
    match = NEW_PLOT.search(snapshot)
    assert match, "the snapshot draws no plotly figure"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def tour_page(tmp_path_factory) -> str:
    """build/tour.html as ``make demo``'s recipe writes it (into a temporary folder)."""
    (command,) = demo_recipe()
    assert command.endswith(" build/tour.html"), command
    target = tmp_path_factory.mktemp("demo") / "tour.html"
    bin_dir = shlex.quote(str(Path(sys.executable).parent))  # the venv this test runs in
    command = command.replace("$(BIN)", bin_dir).replace("$(TOUR)", makefile_variable("TOUR"))
    command = command.removesuffix("build/tour.html") + shlex.quote(str(target))
    subprocess.run(command, shell=True, cwd=ROOT, check=True, timeout=900)
    return target.read_text(encoding="utf-8")


def test_make_demo_shows_a_static_snapshot_of_the_explorer_with_a_note(tour_page):
    (snapshot,) = snapshots(tour_page)  # the tour shows one explorer, an MDPExplorer
    assert SNAPSHOT_NOTE in snapshot
    heatmap, *others = traces(snapshot)
    assert heatmap["type"] == "heatmap"
    values = [v for row in heatmap["z"] for v in row if v is not None]
    # The tour's 4 × 5 grid has 17 states (3 walls); its goal and lava cells are drawn in
    # their own colours by a second heatmap, so the values' heatmap leaves them empty.
    assert len(values) == 15
    (terminal,) = [t for t in others if t.get("name") == "terminal cells"]
    assert sum(v is not None for row in terminal["z"] for v in row) == 2
    arrows = [t for t in others if t.get("x") and t["type"] == "scatter"]
    assert arrows and all(len(t["x"]) == len(t["y"]) > 0 for t in arrows)


def test_make_demo_page_needs_no_network(tour_page):
    # No widget view left for a widget manager to load from a CDN, no script from the web.
    assert "application/vnd.jupyter.widget-state+json" not in tour_page
    assert "unpkg.com" not in tour_page
    assert not re.search(r"<script[^>]*\ssrc=[\"']?https?:", tour_page)
    # plotly.js is inlined before the snapshot runs it.
    inlined = tour_page.find("window.Plotly = Plotly")
    assert 0 <= inlined < tour_page.index('<div class="rewardviz-snapshot">')


@pytest.mark.skipif(
    sync_playwright is None or not os.access(CHROMIUM, os.X_OK),
    reason="needs Debian's Chromium and playwright (see tests/test_browser.py)",
)
def test_an_exported_explorer_draws_offline_in_chromium(tmp_path):
    """A notebook showing only an explorer: plotly.js goes in the head, the snapshot draws."""
    notebook = tmp_path / "one_explorer.ipynb"
    code = (
        "import rewardviz as rv\n"
        'mdp, reward = rv.envs.gridworld(["S..", ".#G"], gamma=0.9)\n'
        "rv.widgets.MDPExplorer(mdp, reward)"
    )
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), notebook)
    export = runpy.run_path(str(EXPORT_SCRIPT))["export"]
    page = export(notebook, tmp_path / "one_explorer.html")
    text = page.read_text(encoding="utf-8")
    assert text.index("window.Plotly = Plotly") < text.index("</head>")

    fetched: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            view = browser.new_page()
            view.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith("file:")
                    else (fetched.append(route.request.url), route.abort())
                ),
            )
            view.on("pageerror", lambda error: errors.append(str(error)))
            view.goto(page.as_uri())
            view.wait_for_function(
                "() => document.querySelector('.rewardviz-snapshot .js-plotly-plot .main-svg')",
                timeout=60_000,
            )
            shown = view.evaluate(
                """() => {
                    const plot = document.querySelector('.rewardviz-snapshot .js-plotly-plot');
                    return {
                        note: document.querySelector('.rewardviz-snapshot p').textContent,
                        z: plot.data[0].z.flat().filter(v => v !== null).length,
                        arrows: plot.data.filter(t => t.x && t.x.length).length,
                    };
                }"""
            )
        finally:
            browser.close()
    # 5 states; the goal's cell is drawn in its own colour by a second heatmap. The
    # arrows are a shaft trace and a head trace, with coordinates.
    assert shown["note"] == SNAPSHOT_NOTE
    assert shown["z"] == 4
    assert shown["arrows"] >= 2
    assert shown["arrows"] > 0
    assert not fetched and not errors, (fetched, errors)
