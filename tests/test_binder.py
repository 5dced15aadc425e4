"""The Binder files build a working environment: proven in a fresh virtual environment.

Binder (repo2docker) installs ``binder/requirements.txt``, then runs ``binder/postBuild``
in the repository. This test does the same from scratch: a new venv, the pinned
requirements from the package index (pip's own configuration and cache), ``postBuild``
run in a copy of the repository (so nothing is written into the working tree), and the
tour executed in that venv's kernel with no network needed. Pip must reach the index:
the test fails with a message saying so rather than skipping, because a Binder
environment that nobody built is exactly what it is here to catch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
TOUR = Path("notebooks") / "00_tour.ipynb"
#: Not part of what Binder clones (build outputs, caches, local environments).
NOT_CLONED = shutil.ignore_patterns(
    ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".hypothesis", ".ipynb_checkpoints",
)  # fmt: skip

#: Runs in the Binder venv: the tour, then where its kernel and rewardviz came from.
EXECUTE_TOUR = """
import json, sys
import nbformat
from nbclient import NotebookClient

path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
notebook.cells.append(nbformat.v4.new_code_cell(
    "import json, sys, rewardviz\\n"
    "print(json.dumps({'prefix': sys.prefix, 'rewardviz': rewardviz.__file__}))"
))
NotebookClient(
    notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}
).execute()
print(notebook.cells[-1].outputs[0]["text"])
"""

pytestmark = pytest.mark.timeout(1800)


def run(command: list[str], what: str, timeout: float, hint: str = "", **kwargs) -> str:
    """Run ``command``; on failure, fail the test with ``what``, the output's tail and ``hint``."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )
    except subprocess.TimeoutExpired as error:
        output = error.stdout or b""  # bytes, even with text=True
        output = output.decode(errors="replace") if isinstance(output, bytes) else output
        pytest.fail(f"{what} took more than {timeout} s:\n{output[-3000:]}{hint}")
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-6000:]
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{output}{hint}")
    return done.stdout


def test_binder_environment_builds_and_runs_the_tour(tmp_path):
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "venv", str(venv)], "creating a venv", 120)
    env = dict(
        os.environ,
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        VIRTUAL_ENV=str(venv),
        # Jupyter and IPython state in the test's folder, kernels from the venv only.
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
        JUPYTER_PREFER_ENV_PATH="1",
        IPYTHONDIR=str(tmp_path / "ipython"),
        MPLBACKEND="Agg",
    )
    for leaked in ("PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "JUPYTERLAB_DIR"):
        env.pop(leaked, None)

    run(
        [str(python), "-m", "pip", "install", "-r", str(BINDER / "requirements.txt")],
        "installing binder/requirements.txt",
        1200,
        hint="\n\nThis test needs pip to reach the package index (PyPI, or the index pip is "
        "configured to use); it does not skip without one, since CI has registry access.",
        env=env,
    )

    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=NOT_CLONED)
    run([str(repo / "binder" / "postBuild")], "binder/postBuild", 600, cwd=repo, env=env)

    # postBuild's JupyterLab defaults landed where JupyterLab reads overrides.
    installed = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.is_file(), f"postBuild did not install {installed}"
    assert json.loads(installed.read_text()) == json.loads((BINDER / "overrides.json").read_text())

    # The tour, offline, in the venv's kernel, from an installed (not editable) rewardviz.
    offline = dict(env, PIP_NO_INDEX="1", HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="")
    offline["HTTPS_PROXY"] = offline["HTTP_PROXY"]
    script = tmp_path / "execute_tour.py"
    script.write_text(EXECUTE_TOUR)
    tour = repo / TOUR
    output = run(
        [str(python), str(script), str(tour), str(tour.parent)],
        f"executing {TOUR} in the Binder venv",
        900,
        cwd=tmp_path,
        env=offline,
    )
    where = json.loads(output.strip().splitlines()[-1])
    assert Path(where["prefix"]).resolve() == venv.resolve(), where
    site_packages = Path(where["rewardviz"]).resolve().parents[1]
    assert site_packages.is_relative_to(venv.resolve()) and site_packages.name == "site-packages", (
        f"the kernel imported rewardviz from {where['rewardviz']}, not from the Binder venv"
    )
    # About 1.5 GB; pytest keeps the last few test folders, so free it once it has served.
    shutil.rmtree(venv)
