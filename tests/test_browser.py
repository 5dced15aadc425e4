"""End to end: the tour in a real JupyterLab, in a real (headless) Chromium.

The widget tests drive controls from Python; this test proves the path a reader takes:
JupyterLab serves the tour, the browser runs every cell, the plotly figures and the
ipywidgets render, and dragging the explorer's γ slider in the page re-solves the MDP in
the kernel and redraws the figure. A second notebook, written into the lab's folder by the
test, shows every widget of ``rewardviz.widgets``: each has a control moved in the page
(a slider dragged, or a drop-down picked where it has no slider), is screenshotted, and
its main plotly trace must hold its coordinates (x and y of the right lengths, for
heatmaps and contours too). JupyterLab runs on 127.0.0.1 with a random token and
throw-away settings, workspace, runtime and notebook directories, and with the same
settings overrides as Binder (``binder/overrides.json``: cells are attached even when
scrolled off-screen). Screenshots go to the test's ``tmp_path`` and to ``build/browser/``.

Needs Debian's Chromium and the Python package ``playwright`` (its own browser download
is not used); without them the test is skipped with a message saying how to enable it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "notebooks" / "00_tour.ipynb"
OVERRIDES = ROOT / "binder" / "overrides.json"
SCREENSHOTS = ROOT / "build" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_ENABLE = (
    "the browser test needs Debian's Chromium and Playwright: "
    "`apt-get install -y chromium` and `pip install -e .[dev]` (CI's .ci/run does both)"
)

try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason=f"playwright is missing; {HOW_TO_ENABLE}"),
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing; {HOW_TO_ENABLE}"
    ),
    pytest.mark.timeout(600),
]

#: Seconds for JupyterLab to answer, for the notebook to run, for plots to draw: waits,
#: not targets, with several times the headroom seen on a busy 2-core machine.
SERVER_START = 120
RUN_ALL = 300
RENDER = 60

#: User settings for the run: no autosave into the copy, no news pop-up over the page.
USER_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

#: The status bar items; one reads "<kernel name> | <kernel status>".
KERNEL_STATUS = ".jp-StatusBar-TextItem"

KERNEL_STATE_JS = (
    f"Array.from(document.querySelectorAll({KERNEL_STATUS!r})).map(item => item.textContent)"
)
KERNEL_IDLE_JS = f"() => ({KERNEL_STATE_JS}).some(text => /\\|\\s*Idle\\s*$/.test(text))"

#: Widget outputs still loading or failed.
UNRENDERED_JS = """
() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
    .map(output => output.textContent)
    .filter(text => /Error displaying widget|Loading widget|model not found/.test(text))
"""

#: The handle's attributes holding an ipywidgets slider's range.
ARIA_RANGE = ("aria-valuemin", "aria-valuemax")

#: How every code cell stands: its prompt text ("[3]:", "[*]:", "[ ]:").
PROMPTS_JS = """
() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))
    .map(prompt => prompt.textContent.trim())
"""

#: The traces and title of the figure that shares a widget box with the γ slider.
EXPLORER_FIGURE_JS = """
(slider) => {
    const box = slider.closest('.widget-vbox');
    const plot = box && box.querySelector('.js-plotly-plot');
    if (!plot || !plot.data) return null;
    const title = plot.layout && plot.layout.title;
    return JSON.stringify({
        data: plot.data,
        title: title && typeof title === 'object' ? title.text : title,
    });
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer {url} in {SERVER_START} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab on a copy of notebooks/, with throw-away settings; yields its base URL."""
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    notebooks = tmp_path / "notebooks"
    # A copy: the browser may save the notebook, and the repository stores it without outputs.
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns(".*"))
    app_settings = tmp_path / "app-settings"
    app_settings.mkdir()
    shutil.copy(OVERRIDES, app_settings / "overrides.json")
    user_settings = tmp_path / "user-settings"
    for name, values in USER_SETTINGS.items():
        path = user_settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_PREFER_ENV_PATH="1",
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}",
        f"--LabApp.app_settings_dir={app_settings}",
        f"--LabApp.user_settings_dir={user_settings}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
    ]
    if os.geteuid() == 0:  # CI runs as root, and JupyterLab refuses root unless told.
        command.append("--allow-root")
    log = tmp_path / "jupyterlab.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=notebooks
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base}/api/status?token={token}", process, log)
        yield {"base": base, "token": token, "log": log, "notebooks": notebooks}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_windowing_override_is_what_lab_uses(lab):
    """JupyterLab serves binder/overrides.json's windowing mode as the notebook default."""
    url = (
        f"{lab['base']}/lab/api/settings/@jupyterlab/notebook-extension:tracker"
        f"?token={lab['token']}"
    )
    with urllib.request.urlopen(url, timeout=10) as response:
        schema = json.load(response)["schema"]
    wanted = json.loads(OVERRIDES.read_text())["@jupyterlab/notebook-extension:tracker"]
    assert wanted["windowingMode"] in ("defer", "none")
    assert schema["properties"]["windowingMode"]["default"] == wanted["windowingMode"]


def n_code_cells(path: Path) -> int:
    return sum(cell.cell_type == "code" for cell in nbformat.read(path, as_version=4).cells)


def wait_until(page: Page, condition: str, timeout: float, what: str, arg=None, state=None):
    """Poll ``condition`` (JS taking ``arg``) until it returns truthy; fail naming ``what``.

    ``state``, a JS expression, is evaluated on failure and shown with the message.
    """
    try:
        return page.wait_for_function(condition, arg=arg, timeout=timeout * 1000, polling=250)
    except Exception as error:  # Playwright's TimeoutError, or the page went away.
        try:
            now = f"; now: {page.evaluate(state)}" if state else ""
        except Exception as gone:  # the page crashed or closed
            now = f"; the page could not be read: {gone}"
        raise AssertionError(f"timed out after {timeout} s waiting for {what}{now}") from error


def screenshot(page_or_element, name: str, out: Path) -> Path:
    path = out / name
    page_or_element.screenshot(path=str(path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENSHOTS / name)
    return path


def in_chromium(lab: dict, out: Path, failure: str, drive) -> None:
    """Run ``drive(page)`` in a fresh headless Chromium; on failure show what the page showed.

    The page at the failure is screenshotted as ``failure`` (a file name).
    """
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on(
            "console",
            lambda message: (
                console.append(f"{message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda error: console.append(f"page error: {error}"))
        try:
            drive(page)
        except BaseException:
            try:
                shot = screenshot(page, failure, out)
                print(f"screenshot of the failure: {shot} (copy in {SCREENSHOTS})")
            except Exception as error:
                print(f"no screenshot of the failure: {error}")
            print("browser console errors and warnings:", *console[-40:], sep="\n  ")
            print("JupyterLab log (tail):", lab["log"].read_text()[-4000:], sep="\n")
            raise
        finally:
            browser.close()


def test_tour_runs_renders_and_reacts_to_a_slider_in_chromium(lab, tmp_path):
    out = tmp_path / "screenshots"
    out.mkdir()
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # no stale failure.png next to new ones
    n_cells = n_code_cells(lab["notebooks"] / TOUR.name)  # the copy the lab serves
    in_chromium(lab, out, "failure.png", lambda page: drive_the_tour(page, lab, out, n_cells))


def open_and_run_all(page: Page, lab: dict, name: str, n_cells: int) -> None:
    """Open the lab's notebook ``name``, run all its cells, and wait until every output draws."""
    # ?reset: an empty workspace, so a notebook an earlier test opened is not restored
    # beside this one (its cells would count among the prompts, and Run All could go to it).
    page.goto(f"{lab['base']}/lab/tree/{name}?reset&token={lab['token']}")
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=SERVER_START * 1000)
    # Cells run before the kernel is connected are silently skipped, so wait for the
    # status bar's "Python 3 (ipykernel) | Idle", which appears once it is.
    wait_until(page, KERNEL_IDLE_JS, SERVER_START, "the kernel to connect", state=KERNEL_STATE_JS)

    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    started = time.monotonic()
    wait_until(
        page,
        f"() => ({PROMPTS_JS})().some(p => p !== '[ ]:')",
        RENDER,
        "Run All Cells to start executing",
        state=PROMPTS_JS,
    )
    # Every cell numbered and the kernel idle again: all output messages have been sent.
    wait_until(
        page,
        f"""() => {{
            const prompts = ({PROMPTS_JS})();
            return prompts.length === {n_cells} && prompts.every(p => /^\\[\\d+\\]:?$/.test(p))
                && ({KERNEL_IDLE_JS})();
        }}""",
        RUN_ALL,
        f"all {n_cells} code cells to run",
        state=f"[({PROMPTS_JS})(), ({KERNEL_STATE_JS})]",
    )
    print(f"Run All of {name} took {time.monotonic() - started:.1f} s in the browser")

    errors = page.evaluate(
        """() => Array.from(document.querySelectorAll(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
        )).map(output => output.textContent.slice(0, 2000))"""
    )
    assert not errors, "cells raised in the browser:\n" + "\n---\n".join(errors)

    # Every widget view and every plotly output draws.
    wait_until(
        page,
        f"() => !({UNRENDERED_JS})().length",
        RENDER,
        "widget outputs to render",
        state=UNRENDERED_JS,
    )
    wait_until(
        page,
        """() => {
            const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
            return plots.length > 0 && plots.every(plot => plot.querySelector('.main-svg'));
        }""",
        RENDER,
        "every plotly figure to draw its SVG",
        state="Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".map(plot => Boolean(plot.querySelector('.main-svg')))",
    )


def drag(page: Page, slider, fraction: float) -> None:
    """Drag an ipywidgets slider's handle to ``fraction`` of its track, as a reader would."""
    slider.scroll_into_view_if_needed()
    track = slider.locator(".noUi-target").bounding_box()
    knob = slider.locator(".noUi-handle").bounding_box()
    page.mouse.move(knob["x"] + knob["width"] / 2, knob["y"] + knob["height"] / 2)
    page.mouse.down()
    target_x = track["x"] + fraction * track["width"]
    page.mouse.move(target_x, knob["y"] + knob["height"] / 2, steps=8)
    page.mouse.up()


def drive_the_tour(page: Page, lab: dict, out: Path, n_cells: int) -> None:
    open_and_run_all(page, lab, TOUR.name, n_cells)

    slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text="γ")).first
    slider.wait_for(timeout=RENDER * 1000)
    explorer = slider.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")
    explorer.scroll_into_view_if_needed()
    screenshot(page, "tour-after-run-all.png", out)
    plots = page.locator(".js-plotly-plot")
    for i in range(plots.count()):
        screenshot(plots.nth(i), f"tour-plot-{i + 1:02d}.png", out)
    explorer.scroll_into_view_if_needed()
    handle = slider.element_handle()
    before = settled_figure(page, handle)
    value_before = slider_value(slider)
    screenshot(explorer, "explorer-before.png", out)

    # Drag the handle to a fifth of the track: far from any value the notebook itself
    # sets, so a change cannot come from the kernel alone.
    low, high = (float(slider.locator(".noUi-handle").get_attribute(a)) for a in ARIA_RANGE)
    fraction = 0.2
    drag(page, slider, fraction)

    value_after = slider_value(slider)
    expected = low + fraction * (high - low)
    assert abs(value_after - expected) < 0.1 * (high - low), (
        f"dragging the γ slider to {expected:.2f} left it at {value_after} (was {value_before})"
    )
    wait_until(
        page,
        f"(slider) => ({EXPLORER_FIGURE_JS})(slider) !== {json.dumps(before)}",
        RENDER,
        "the explorer's figure to change after dragging the γ slider",
        arg=handle,
    )
    after = settled_figure(page, handle)
    assert json.loads(after)["data"] != json.loads(before)["data"], "the traces did not change"
    screenshot(explorer, "explorer-after.png", out)
    print(f"γ dragged from {value_before} to {value_after}; screenshots in {out}")


def slider_value(slider) -> float:
    """The value an ipywidgets slider shows in its readout."""
    return float(slider.locator(".widget-readout").inner_text())


def settled_figure(page: Page, slider_handle) -> str:
    """The explorer figure's JSON once it stops changing (kernel updates may still land)."""
    deadline = time.monotonic() + RENDER
    previous = None
    while time.monotonic() < deadline:
        current = page.evaluate(EXPLORER_FIGURE_JS, slider_handle)
        assert current is not None, "the γ slider's widget box holds no drawn plotly figure"
        if current == previous and page.evaluate(KERNEL_IDLE_JS):
            return current
        previous = current
        page.wait_for_timeout(1000)
    raise AssertionError(f"the explorer's figure kept changing for {RENDER} s")


#: Every widget of ``rewardviz.widgets`` on a small fixture, and the control a reader moves
#: in the page: ``("slider", label)`` drags the slider whose label contains ``label`` far
#: from its value (a fifth or four fifths of its track); for the two widgets without a
#: slider, ``("dropdown", label)`` picks another option and ``("checkbox", label)`` ticks
#: the box (picking a formalism only changes the text beside the map).
WIDGETS = {
    "MDPExplorer": ("rv.widgets.MDPExplorer(mdp, reward)", ("slider", "γ")),
    "ShapingLab": ("rv.widgets.ShapingLab(mdp, reward)", ("slider", "scale")),
    "ComponentExplorer": (
        "rv.widgets.ComponentExplorer(rv.io.example_log())",
        ("slider", "episode"),
    ),
    "GroupExplorer": ("rv.widgets.GroupExplorer(rv.groups.example_groups())", ("slider", "group")),
    "LandscapeExplorer": (
        "rv.widgets.LandscapeExplorer.from_example(\n"
        "    rv.landscape_examples.mountain_car(), resolution=24\n)",
        ("slider", "scale"),
    ),
    "RewardLearningLab": (
        "rv.widgets.RewardLearningLab(\n"
        "    mdp, reward, sizes=(10, 40), max_segment_length=4, n_steps=60, n_seeds=2\n)",
        ("slider", "β"),
    ),
    "ExpressivityExplorer": ("rv.widgets.ExpressivityExplorer()", ("dropdown", "environment")),
    "FormalismMapExplorer": (
        "rv.widgets.FormalismMapExplorer()",
        ("checkbox", "show incomparable pairs"),
    ),
}
WIDGETS_NOTEBOOK = "every_widget.ipynb"

#: Per figure in a widget output, per trace: its type and the shapes of x, y and z (null
#: when absent). Plotly keeps arrays as lists, typed arrays, or still-encoded
#: ``{dtype, bdata, shape}`` specs; all three are measured.
FIGURE_SHAPES_JS = """
(output) => {
    const bytes = {f8: 8, f4: 4, i4: 4, u4: 4, i2: 2, u2: 2, i1: 1, u1: 1};
    const shape = (v) => {
        if (v === undefined || v === null) return null;
        if (Array.isArray(v) || ArrayBuffer.isView(v)) {
            const first = v.length ? v[0] : null;
            const nested = first !== null && (Array.isArray(first) || ArrayBuffer.isView(first));
            return nested ? [v.length, first.length] : [v.length];
        }
        if (v.bdata !== undefined) {
            if (v.shape !== undefined) return String(v.shape).split(',').map(Number);
            return [atob(v.bdata).length / bytes[v.dtype]];
        }
        return null;
    };
    return Array.from(output.querySelectorAll('.js-plotly-plot')).map(plot =>
        (plot.data || []).map(t => ({type: t.type, x: shape(t.x), y: shape(t.y), z: shape(t.z)})));
}
"""

#: The traces of every figure in a widget output, as one string to compare.
FIGURES_DATA_JS = """
(output) => JSON.stringify(Array.from(output.querySelectorAll('.js-plotly-plot'))
    .map(plot => plot.data || null))
"""


def test_every_widget_is_in_the_browser_test():
    """WIDGETS lists exactly the explorers rewardviz.widgets offers."""
    import rewardviz.widgets
    from rewardviz.widgets._common import Explorer

    explorers = {
        name
        for name in rewardviz.widgets.__all__
        if isinstance(getattr(rewardviz.widgets, name), type)
        and issubclass(getattr(rewardviz.widgets, name), Explorer)
    }
    assert set(WIDGETS) == explorers


def write_widgets_notebook(folder: Path) -> Path:
    setup = (
        "import rewardviz as rv\n\n"
        'mdp, reward = rv.envs.gridworld(["S..#", ".#.G", "...L"], gamma=0.9, slip=0.1)'
    )
    cells = [nbformat.v4.new_code_cell(setup)]
    cells += [nbformat.v4.new_code_cell(code) for code, _ in WIDGETS.values()]
    # The kernel named, as in the tour: without it JupyterLab asks which kernel to start.
    kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernelspec})
    path = folder / WIDGETS_NOTEBOOK
    nbformat.write(notebook, path)
    return path


def test_every_widget_redraws_after_a_control_moves_and_keeps_its_coordinates(lab, tmp_path):
    out = tmp_path / "screenshots"
    out.mkdir()
    n_cells = n_code_cells(write_widgets_notebook(lab["notebooks"]))
    shapes: dict[str, list] = {}
    in_chromium(
        lab,
        out,
        "failure-widgets.png",
        lambda page: drive_every_widget(page, lab, out, n_cells, shapes),
    )

    missing = {}
    for name, figures in shapes.items():
        problem = main_trace_problem(figures)
        if problem:
            missing[name] = problem
    assert not missing, f"main traces without their coordinates after a control moved: {missing}"


def drive_every_widget(page: Page, lab: dict, out: Path, n_cells: int, shapes: dict) -> None:
    open_and_run_all(page, lab, WIDGETS_NOTEBOOK, n_cells)
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    for index, (name, (_, (kind, label))) in enumerate(WIDGETS.items(), start=1):
        output = cells.nth(index).locator(".jp-OutputArea").first
        output.scroll_into_view_if_needed()
        element = output.element_handle()
        before = page.evaluate(FIGURES_DATA_JS, element)
        assert before != "[]", f"{name} shows no plotly figure"
        if kind == "slider":
            control = output.locator(
                ".widget-slider", has=page.locator(".widget-label", has_text=label)
            ).first
            # Far from where it stands: to a fifth of the track, or four fifths.
            low, high, now = (
                float(control.locator(".noUi-handle").get_attribute(a))
                for a in (*ARIA_RANGE, "aria-valuenow")
            )
            drag(page, control, 0.8 if (now - low) < 0.5 * (high - low) else 0.2)
        elif kind == "checkbox":
            output.locator(".widget-checkbox", has_text=label).locator("input").click()
        else:
            select = output.locator(
                ".widget-dropdown", has=page.locator(".widget-label", has_text=label)
            ).locator("select")
            current = select.input_value()
            options = select.locator("option").evaluate_all("options => options.map(o => o.value)")
            select.select_option(next(o for o in reversed(options) if o != current))
        # The kernel round trip: the figures change, then settle with the kernel idle.
        wait_until(
            page,
            f"(output) => ({FIGURES_DATA_JS})(output) !== {json.dumps(before)}",
            RENDER,
            f"{name}'s figures to change after moving its {label!r} {kind}",
            arg=element,
        )
        settle(page, element, name)
        screenshot(output, f"widget-{name}.png", out)
        shapes[name] = page.evaluate(FIGURE_SHAPES_JS, element)
    print(f"every widget moved and screenshotted; screenshots in {out}")


def settle(page: Page, output_handle, name: str) -> None:
    """Wait until the figures in ``output_handle`` stop changing and the kernel is idle."""
    deadline = time.monotonic() + RENDER
    previous = None
    while time.monotonic() < deadline:
        current = page.evaluate(FIGURES_DATA_JS, output_handle)
        if current == previous and page.evaluate(KERNEL_IDLE_JS):
            return
        previous = current
        page.wait_for_timeout(1000)
    raise AssertionError(f"{name}'s figures kept changing for {RENDER} s")


def main_trace_problem(figures: list) -> str | None:
    """What the main trace (the first of the first figure) lacks, or None.

    x and y must be present and non-empty; with a z (heatmap, contour) they must match
    its columns and rows (one more where they give cell edges).
    """
    if not figures or not figures[0]:
        return "no trace drawn"
    main = figures[0][0]
    x, y, z = main["x"], main["y"], main["z"]
    if not x or not y or not x[0] or not y[0]:
        return f"{main['type']} trace with x {x} and y {y}"
    if z:
        if len(z) != 2:
            return f"{main['type']} trace with a z of shape {z}, not 2-D"
        rows, cols = z
        if x[0] not in (cols, cols + 1) or y[0] not in (rows, rows + 1):
            return f"{main['type']} trace with x {x} and y {y} for z {z}"
    elif x[0] != y[0]:
        return f"{main['type']} trace with {x[0]} x and {y[0]} y"
    return None
