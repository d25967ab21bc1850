"""The regression harness itself: every chapter has a stored notebook with the same inputs.

nbval re-executes the stored notebooks (``make nbval``) and compares their outputs; these tests
make sure those stored notebooks are the chapters as they stand, so stale outputs cannot hide.
"""
from __future__ import annotations

import importlib.util
import platform
import re
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


def _output_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type in ("execute_result", "display_data"):
        return output.get("data", {}).get("text/plain", "") if "image/png" not in output.get(
            "data", {}) else ""
    return ""


@pytest.mark.parametrize("src", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_code_and_printed_output_fit_80_columns(src):
    """At desktop width about 88 characters fit a code cell; on a phone it scrolls anyway."""
    stored = ROOT / "notebooks" / f"{src.stem}.ipynb"
    if not stored.exists():
        pytest.fail(f"{src.name} has no stored notebook; run `make notebooks`")
    nb = nbformat.read(stored, as_version=4)
    wide = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        wide += [f"cell {i} input: {line!r}" for line in cell.source.splitlines()
                 if len(line) > 80]
        for out in cell.outputs:
            wide += [f"cell {i} output: {line!r}" for line in _output_text(out).splitlines()
                     if len(line) > 80]
    assert not wide, f"{src.name}: {len(wide)} lines over 80 columns, e.g.\n" + "\n".join(wide[:5])


@pytest.mark.parametrize("src", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_figure_has_a_caption_a_name_and_alt_text(src):
    nb = nbformat.read(ROOT / "notebooks" / f"{src.stem}.ipynb", as_version=4)
    missing = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        if not images:
            continue
        meta = cell.metadata.get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        if len(images) > 1:
            missing.append(f"cell {i}: {len(images)} figures in one cell (one per cell)")
        if not figure.get("caption") or not str(figure.get("name", "")).startswith("fig-"):
            missing.append(f"cell {i}: no mystnb.figure caption and fig-... name")
        if not image.get("alt"):
            missing.append(f"cell {i}: no mystnb.image alt text")
    assert not missing, f"{src.name}:\n" + "\n".join(missing)


@pytest.mark.parametrize("src", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_outputs_and_comments_show_equation_numbers_not_label_names(src):
    """Readers see "eq. (2.3)"; a label such as eq-ch02-grad is markup, not text."""
    nb = nbformat.read(ROOT / "notebooks" / f"{src.stem}.ipynb", as_version=4)
    leaks = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        texts = [cell.source] + [_output_text(o) for o in cell.outputs]
        leaks += [f"cell {i}: {m}" for t in texts for m in re.findall(r"eq-ch\d\d[\w-]*", t)]
    assert not leaks, f"{src.name}: equation label names in code or output: {leaks[:5]}"


@pytest.mark.skipif(platform.machine().lower() not in {"x86_64", "amd64"},
                    reason="the reference variables are x86-64 ones (none is set elsewhere)")
def test_reference_numerics_variables_take_effect():
    """The variables the chapters execute under are spelled as the libraries read them: a typo
    would leave each library on its own CPU-dependent code path without a word."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    build_notebooks.use_reference_numerics(env)
    probe = ("import numpy, torch\n"
             "from numpy._core._multiarray_umath import __cpu_features__ as f\n"
             "print(torch.backends.cpu.get_cpu_capability(), f['X86_V4'], f['AVX512_ICL'],"
             " torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[0] in {"AVX2", "DEFAULT"}      # DEFAULT on a CPU without AVX2
    assert out[1:3] == ["False", "False"]
    assert out[3] == env["OMP_NUM_THREADS"] == "2"
    assert env["MKL_CBWR"].split(",")[0] == "COMPATIBLE"
