"""The regression harness itself: every chapter has a stored notebook with the same inputs.

nbval re-executes the stored notebooks (``make nbval``) and compares their outputs; these tests
make sure those stored notebooks are the chapters as they stand, so stale outputs cannot hide.
"""
from __future__ import annotations

import importlib.util
import pathlib

import jupytext
import nbformat
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)

CHAPTERS = build_notebooks.chapters()


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        for value in node.values():
            files += _toc_files(value)
    elif isinstance(node, list):
        for value in node:
            files += _toc_files(value)
    return files


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_chapters():
    assert CHAPTERS, "no chapter sources found under book/"


@pytest.mark.parametrize("src", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_stored_notebook_matches_chapter(src):
    stored = ROOT / "notebooks" / f"{src.stem}.ipynb"
    assert stored.exists(), f"{src.name} has no stored notebook; run `make notebooks`"
    nb = nbformat.read(stored, as_version=4)
    assert _cells(nb) == _cells(jupytext.read(src)), (
        f"{stored.name} is stale: its inputs differ from {src.name}; run `make notebooks`")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{stored.name} was not executed"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"], (
        f"{stored.name} holds an error output")


def test_no_orphan_stored_notebooks():
    names = {p.stem for p in CHAPTERS}
    orphans = [p.name for p in (ROOT / "notebooks").glob("*.ipynb") if p.stem not in names]
    assert not orphans, f"stored notebooks without a chapter: {orphans}"


def test_toc_lists_every_page_and_only_existing_ones():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = _toc_files(toc) + [toc["root"]]
    missing = [f for f in listed if not (ROOT / f"{f}.md").exists()]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").glob("*.md")}
    unlisted = sorted(pages - set(listed))
    assert not unlisted, f"pages under book/ missing from _toc.yml: {unlisted}"


def test_chapters_pair_with_stored_notebooks():
    for src in CHAPTERS:
        formats = jupytext.read(src).metadata.get("jupytext", {}).get("formats", "")
        assert formats == "book//md:myst,notebooks//ipynb", f"{src.name}: jupytext formats is {formats!r}"
