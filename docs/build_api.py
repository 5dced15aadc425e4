"""Build the API reference (``make docs``): one HTML page per documented module, with pdoc.

Every public name is documented once, where users reach it. A package that re-exports
all of a submodule's names flatly (``rv.plots``, ``rv.widgets``, ``rv.groups``,
``rv.expressivity``) is documented as one page and that submodule is left out; a
submodule with names of its own (``rv.plots.style``) gets its own page. Deprecated shim
modules are left out.

    python docs/build_api.py build/docs
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import warnings
from pathlib import Path

#: Modules kept only as deprecation shims for one release; not documented.
DEPRECATED_MODULES = {"rewardviz.widgets.explorer"}


def public_modules() -> list[str]:
    """Every importable public module of rewardviz (no underscore in its dotted path)."""
    import rewardviz

    names = ["rewardviz"]
    for info in pkgutil.walk_packages(rewardviz.__path__, "rewardviz."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or info.name in DEPRECATED_MODULES:
            continue
        names.append(info.name)
    return sorted(names)


def exported(module_name: str) -> list[str]:
    """The names a module declares public: its ``__all__``."""
    module = importlib.import_module(module_name)
    declared = getattr(module, "__all__", None)
    if declared is None:
        raise AssertionError(f"{module_name} has no __all__; every public module declares one")
    return list(declared)


def documented_modules() -> list[str]:
    """The modules that get a page: all but the submodules whose package re-exports them.

    A package that re-exports a submodule's names is its namespace (``rv.plots.gridworld``,
    not ``rv.plots.gridworlds.gridworld``), so it must re-export all of them; the
    packaging test checks that no public name is left without a page.
    """
    modules = public_modules()
    pages = []
    for name in modules:
        parent = name.rpartition(".")[0]
        if parent and parent != "rewardviz" and set(exported(name)) & set(exported(parent)):
            continue
        pages.append(name)
    return pages


def object_homes() -> dict[int, list[str]]:
    """For each documented function or class (by identity), the pages that document it.

    Constants are left out: equal numbers and strings may be one object in memory.
    """
    homes: dict[int, list[str]] = {}
    for page in documented_modules():
        module = importlib.import_module(page)
        for name in exported(page):
            value = getattr(module, name)
            if inspect.isfunction(value) or inspect.isclass(value):
                homes.setdefault(id(value), []).append(f"{page}.{name}")
    return homes


def build(output: Path) -> None:
    """Write the HTML reference under ``output``; pdoc's warnings are raised as errors."""
    import pdoc
    import pdoc.render

    pdoc.render.configure(docformat="google", show_source=False, search=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Third-party modules warn on import for reasons of their own; only pdoc's
        # warnings (unresolvable references, failed imports) describe our docs.
        warnings.filterwarnings("default", module="(?!pdoc)")
        # pdoc walks a package's submodules, but of a package with __all__ only those it
        # lists; the pages it would not reach are named explicitly, each once.
        pages = documented_modules()
        left_out = [f"!{name}" for name in sorted(set(public_modules()) - set(pages))]
        walked = set(pdoc.extract.walk_specs(["rewardviz", *left_out]))
        extra = [name for name in pages if name not in walked]
        pdoc.pdoc("rewardviz", *extra, *left_out, output_directory=Path(output))


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "build/docs")
    build(target)
    print(f"Wrote {target.resolve()}/index.html")
