"""Write the student and solution versions of each teaching sheet from its one source.

Sources live in ``notebooks/teaching/source/``. A code cell tagged ``exercise`` (the
blank to fill in) goes to the student sheet only; a cell tagged ``solution`` goes to the
solutions only; every other cell goes to both. Outputs are never stored.

    python tools/make_teaching_sheets.py          # rewrite notebooks/teaching/*.ipynb and solutions/
    python tools/make_teaching_sheets.py --check  # exit 1 if a generated sheet is out of date
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1] / "notebooks" / "teaching"
SOURCE = ROOT / "source"
VARIANTS = {"student": (ROOT, "solution"), "solutions": (ROOT / "solutions", "exercise")}


def variant(
    source: nbformat.NotebookNode, dropped_tag: str, title_suffix: str
) -> nbformat.NotebookNode:
    """The source without the cells tagged ``dropped_tag``; outputs cleared, tags kept."""
    notebook = copy.deepcopy(source)
    notebook.cells = [c for c in notebook.cells if dropped_tag not in c.metadata.get("tags", [])]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if title_suffix and notebook.cells and notebook.cells[0].cell_type == "markdown":
        first, *rest = notebook.cells[0].source.split("\n", 1)
        notebook.cells[0].source = "\n".join([first + title_suffix, *rest])
    return notebook


def rendered(path: Path) -> dict[Path, str]:
    """Generated file path → its text, for one source notebook."""
    source = nbformat.read(path, as_version=4)
    out = {}
    for name, (folder, dropped) in VARIANTS.items():
        suffix = " — solutions" if name == "solutions" else ""
        out[folder / path.name] = nbformat.writes(variant(source, dropped, suffix)) + "\n"
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale sheets")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted(SOURCE.glob("*.ipynb")):
        for target, text in rendered(path).items():
            if target.exists() and target.read_text() == text:
                continue
            stale.append(target)
            if not args.check:
                target.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False) as tmp:
                    tmp.write(text)
                os.replace(tmp.name, target)
    if args.check and stale:
        print(
            "out of date (run python tools/make_teaching_sheets.py):", *map(str, stale), sep="\n  "
        )
        return 1
    if not args.check:
        print(f"wrote {len(stale)} sheet(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
