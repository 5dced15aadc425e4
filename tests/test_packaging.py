"""The Binder environment pins everything a notebook user installs.

repo2docker installs ``binder/requirements.txt`` and ``binder/postBuild`` runs
``pip install --no-deps .``, so a runtime dependency or a notebook-facing extra that is
missing from the pinned file breaks the notebooks on Binder only, where no test runs.
"""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Extras the notebooks need on Binder (``dev`` is for tests, not for readers).
NOTEBOOK_EXTRAS = ("notebook", "gym", "logs")


def distribution(requirement: str) -> str:
    """``"gymnasium[toy-text]>=1.0"`` -> ``"gymnasium"``, normalised like pip does."""
    name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def test_binder_pins_every_runtime_and_notebook_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = list(project["dependencies"])
    for extra in NOTEBOOK_EXTRAS:
        needed += project["optional-dependencies"][extra]
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    pinned = {
        distribution(line): line
        for line in (line.strip() for line in lines)
        if line and not line.startswith("#")
    }
    missing = sorted({distribution(requirement) for requirement in needed} - set(pinned))
    assert not missing, f"binder/requirements.txt lacks {missing}"
    unpinned = sorted(name for name, line in pinned.items() if "==" not in line)
    assert not unpinned, f"binder/requirements.txt does not pin {unpinned}"


def test_postbuild_installs_the_package_without_resolving_again():
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    assert "pip install --no-deps ." in post_build.read_text()


LAYERS = {
    "core": 0, "analysis": 1, "plots": 2, "widgets": 3, "top": 4,
}  # fmt: skip
ANALYSIS = {"shaping", "distances", "decompose", "io", "shapes", "landscape",
            "landscape_examples", "groups", "learning", "expressivity", "teaching",
            "experiments"}  # fmt: skip
CORE = {"mdp", "rewards", "policies", "solve", "envs", "_checks", "_sharding", "_cache"}


def layer_of(module: str) -> int:
    """Layer of a dotted module name under ``rewardviz``."""
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else ""
    if head in CORE:
        return LAYERS["core"]
    if head in ANALYSIS:
        return LAYERS["analysis"]
    if head in ("plots", "widgets"):
        return LAYERS[head]
    if head in ("report", "cli", "__main__"):
        return LAYERS["top"]
    raise AssertionError(f"{module} is in no layer; add it to docs/architecture.md and here")


def test_layers_import_only_downward_and_compute_never_draws():
    import ast

    for path in sorted((ROOT / "rewardviz").rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        module = ".".join(relative.parts)
        if module.endswith("__init__"):
            continue
        own = layer_of(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("rewardviz.") and name.split(".")[1] != "__version__":
                    try:
                        target = layer_of(name)
                    except AssertionError:
                        continue  # an attribute imported from a module, not a module
                    assert target <= own, f"{module} imports {name} from a higher layer"
                if own <= LAYERS["analysis"]:
                    assert not name.startswith(("plotly", "ipywidgets")), f"{module} imports {name}"
