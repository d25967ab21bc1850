#!/usr/bin/env python
"""Regenerate the stored notebooks: execute each chapter and write notebooks/<name>.ipynb.

The stored notebooks are what nbval compares against, so they are always produced by running
the chapter's source (book/<name>.md), never by copying inputs over old outputs.

    python scripts/build_notebooks.py              # every chapter
    python scripts/build_notebooks.py ch01_weighted_ce   # some chapters, by name
"""
from __future__ import annotations

import pathlib
import sys
import time

import jupytext
import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reference_numerics import apply as use_reference_numerics  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK, STORE = ROOT / "book", ROOT / "notebooks"


def chapters() -> list[pathlib.Path]:
    """The book's sources that are notebooks (MyST files with a kernelspec)."""
    return sorted(p for p in BOOK.glob("*.md") if "kernelspec:" in p.read_text().split("\n---", 1)[0])


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive writes to the same stream: how stdout is split depends on timing."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.output_type == "stream" and prev is not None and prev.output_type == "stream"
                and prev.name == out.name):
            prev.text += out.text
        else:
            merged.append(out)
    return merged


def build(src: pathlib.Path) -> float:
    nb = jupytext.read(src)
    start = time.perf_counter()
    # executed where nbval will re-execute it: in notebooks/
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(STORE)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata.setdefault("jupytext", {})["formats"] = "book//md:myst,notebooks//ipynb"
    # a chapter executed twice must store the same file: fixed cell ids, no execution timestamps
    for i, cell in enumerate(nb.cells):
        cell.id = f"{src.stem[:50]}-{i:03d}"
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    nbformat.write(nb, STORE / f"{src.stem}.ipynb")
    return seconds


def main(names: list[str]) -> int:
    STORE.mkdir(exist_ok=True)
    use_reference_numerics()    # before the first kernel starts: it inherits these variables
    todo = [p for p in chapters() if not names or p.stem in names]
    missing = set(names) - {p.stem for p in todo}
    if missing:
        print(f"no chapter named {sorted(missing)} under book/", file=sys.stderr)
        return 2
    for src in todo:
        print(f"{src.stem}: executed in {build(src):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
