# Two commands: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv and install the pinned environment (requirements.txt) on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JB     := $(VENV)/bin/jupyter-book
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup book book-strict test unit nbval notebooks bench bench-smoke clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## book: build the HTML book into _build/html (chapters executed, results cached)
book: $(STAMP)
	$(JB) build . --builder html

## book-strict: the same build, failing on any Sphinx warning or cell error
book-strict: $(STAMP)
	$(JB) build . --builder html --warningiserror --keep-going

## unit: unit tests, doctests and the stored-notebook checks
unit: $(STAMP)
	$(PY) -m pytest -q

## nbval: re-execute every stored notebook and compare its outputs
nbval: $(STAMP)
	$(PY) -m pytest -q $(NBVAL) notebooks

## test: everything CI runs
test: unit nbval bench-smoke book-strict

## bench: the full benchmark (a few minutes); rewrites bench/results/, which the book includes
bench: $(STAMP)
	$(PY) bench/run.py

## bench-smoke: the benchmark at tiny sizes (seconds), writing to _build/bench-smoke/
bench-smoke: $(STAMP)
	$(PY) bench/run.py --smoke

## notebooks: regenerate the stored notebooks by executing the chapters
notebooks: $(STAMP)
	$(PY) scripts/build_notebooks.py

clean:
	rm -rf _build
