"""The Binder environment pins everything a notebook user installs.

repo2docker installs ``binder/requirements.txt`` and ``binder/postBuild`` runs
``pip install --no-deps .``, so a runtime dependency or a notebook-facing extra that is
missing from the pinned file breaks the notebooks on Binder only, where no test runs.
"""

import importlib
import pkgutil
import re
import sys
import tomllib
import types
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
            "experiments", "_canonical", "reward_learning"}  # fmt: skip
CORE = {"mdp", "rewards", "policies", "solve", "envs", "_checks", "_sharding", "_cache",
        "_kernels", "_bootstrap", "_files", "_deprecation", "_xla", "_budget"}  # fmt: skip


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


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_crossings(path: Path) -> list[str]:
    """Private names of other rewardviz modules that ``path`` imports or reaches into.

    Shared internals live in underscore *modules* whose names are public-style
    (``from rewardviz import _checks``; ``_checks.positive_int``): importing such a module
    is fine, reaching for ``_name`` inside another file is not.
    """
    import ast

    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    bound_modules = {}  # local name -> dotted rewardviz module it refers to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not source.startswith("rewardviz"):
                continue
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if _is_module(target):
                    bound_modules[alias.asname or alias.name] = target
                elif _private(alias.name):
                    found.append(f"{module}:{node.lineno} imports {source}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("rewardviz") and alias.asname:
                    bound_modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound_modules
            and bound_modules[node.value.id] != module
        ):
            found.append(f"{module}:{node.lineno} uses {bound_modules[node.value.id]}.{node.attr}")
    return found


def test_no_private_name_crosses_a_file_boundary():
    found = [
        crossing
        for path in sorted((ROOT / "rewardviz").rglob("*.py"))
        for crossing in private_crossings(path)
    ]
    assert not found, (
        "private names used across files; move them into an underscore module with "
        "public names inside:\n" + "\n".join(found)
    )


def test_the_private_import_check_catches_both_spellings(tmp_path, monkeypatch):
    # The rule above must be able to fail: both ways of reaching a private name are caught.
    package = tmp_path / "rewardviz"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "solve.py").write_text("def _backup():\n    pass\n")
    (package / "_kernels.py").write_text("def backup():\n    pass\n")
    user = package / "learning.py"
    user.write_text(
        "from rewardviz import _kernels, solve\n"
        "from rewardviz.solve import _backup\n"
        "_kernels.backup()\nsolve._backup()\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert private_crossings(user) == [
        "rewardviz.learning:2 imports rewardviz.solve._backup",
        "rewardviz.learning:4 uses rewardviz.solve._backup",
    ]


def _api():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        return importlib.import_module("build_api")
    finally:
        sys.path.remove(str(ROOT / "docs"))


def test_every_public_module_declares_what_it_defines():
    import inspect

    api = _api()
    for name in api.public_modules():
        module = importlib.import_module(name)
        declared = api.exported(name)
        assert len(declared) == len(set(declared)), f"{name}.__all__ lists a name twice"
        missing = [entry for entry in declared if not hasattr(module, entry)]
        assert not missing, f"{name}.__all__ lists names it lacks: {missing}"
        if hasattr(module, "__path__"):
            continue  # a package re-exports its submodules' names
        defined_here = {
            entry
            for entry, value in vars(module).items()
            if not entry.startswith("_")
            and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == name
        }
        assert defined_here <= set(declared), (
            f"{name} defines public {sorted(defined_here - set(declared))} "
            f"but leaves them out of __all__"
        )
        imported = [
            entry
            for entry in declared
            if (
                inspect.isfunction(getattr(module, entry))
                or inspect.isclass(getattr(module, entry))
            )
            and getattr(module, entry).__module__ != name
        ]
        assert not imported, f"{name}.__all__ lists names defined elsewhere: {imported}"


def test_tab_completion_shows_the_public_namespace_only():
    import rewardviz as rv

    # importing the core sets its private submodules (_checks, _cache ...) as attributes
    names = dir(rv)
    assert {"plots", "widgets", "report", "solve", "RewardLog", "TabularMDP"} <= set(names)
    leaked = [name for name in names if name.startswith("_") and not name.startswith("__")]
    assert not leaked, f"dir(rewardviz) shows private names {leaked}"
    assert "import_module" not in names and "annotations" not in names


def test_no_function_shadows_a_submodule():
    # rv.plots.gridworld must be one thing: a submodule of that name would be hidden by a
    # function (or the function by the submodule, depending on import order).
    api = _api()
    for name in api.public_modules():
        module = importlib.import_module(name)
        if not hasattr(module, "__path__"):
            continue
        for info in pkgutil.iter_modules(module.__path__):
            importlib.import_module(f"{name}.{info.name}")
            value = getattr(module, info.name)
            assert isinstance(value, types.ModuleType), (
                f"{name}.{info.name} is a {type(value).__name__} that shadows the submodule "
                f"{name}.{info.name}"
            )


def test_api_reference_builds_without_warnings_and_lists_each_name_once(tmp_path):
    api = _api()
    api.build(tmp_path)  # pdoc's own warnings are raised as errors inside build()
    pages = api.documented_modules()
    for page in pages:
        assert (tmp_path / (page.replace(".", "/") + ".html")).exists(), page
    twice = {homes[0]: homes for homes in api.object_homes().values() if len(homes) > 1}
    assert not twice, f"documented more than once: {twice}"
    on_a_page = {(page, entry) for page in pages for entry in api.exported(page)}
    for name in api.public_modules():
        module = importlib.import_module(name)
        for entry in api.exported(name):
            if isinstance(getattr(module, entry), types.ModuleType):
                continue
            parent = name.rpartition(".")[0]
            assert (name, entry) in on_a_page or (parent, entry) in on_a_page, (
                f"{name}.{entry} is on no page of the API reference: add it to {parent}.__all__"
            )


def test_the_module_map_in_architecture_lists_every_file_and_nothing_else():
    text = (ROOT / "docs" / "architecture.md").read_text()
    listed = set(re.findall(r"^\| `([\w/]+\.py)` \|", text, flags=re.MULTILINE))
    package = ROOT / "rewardviz"
    files = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    assert not files - listed, f"docs/architecture.md does not describe {sorted(files - listed)}"
    assert not listed - files, (
        f"docs/architecture.md describes missing files {sorted(listed - files)}"
    )
