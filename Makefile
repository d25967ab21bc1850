# Two commands: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv and install the pinned environment (requirements.txt) on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JB     := $(VENV)/bin/jupyter-book
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# chapters execute under the variables that made the stored notebooks (see that file)
# (x86-64 only)
REFNUM := env $(shell test "$$(uname -m)" = x86_64 && grep -v '^\#' scripts/reference_numerics.env)

.PHONY: setup book book-strict test unit nbval browser pdf notebooks bench bench-smoke clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## book: build the HTML book into _build/html (chapters executed, results cached)
book: $(STAMP)
	$(REFNUM) $(JB) build . --builder html

## book-strict: the same build, failing on any Sphinx warning or cell error
book-strict: $(STAMP)
	$(REFNUM) $(JB) build . --builder html --warningiserror --keep-going

## unit: unit tests, doctests and the stored-notebook checks
unit: $(STAMP)
	$(PY) -m pytest -q --ignore=tests/browser

## nbval: re-execute every stored notebook and compare its outputs
## (conftest.py sets the reference variables for any pytest --nbval run)
nbval: $(STAMP)
	$(PY) -m pytest -q $(NBVAL) notebooks

## browser: the built book in headless Chromium at phone and desktop width (after book-strict)
browser: $(STAMP)
	$(PY) -m pytest -q tests/browser

## test: everything CI runs
test: unit nbval bench-smoke book-strict browser

## pdf: the whole book as one PDF through LaTeX (not part of `make test`; needs TeX Live)
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra \
                texlive-fonts-recommended latexmk fonts-freefont-otf xindy tex-gyre
pdf: $(STAMP)
	@for tool in xelatex latexmk xindy; do command -v $$tool >/dev/null || { \
	  echo "make pdf needs $$tool. On Debian or Ubuntu install TeX Live with:"; \
	  echo "  sudo apt-get install $(TEX_PACKAGES)"; exit 1; }; done
	$(JB) build . --builder pdflatex
	@echo "PDF: _build/latex/cross-entropy-in-practice.pdf"

## bench: the full benchmark (about twenty minutes); rewrites bench/results/, which the book includes.
## Installs the bench-only peers (crowd-kit, kornia, ...) first, without moving any pin.
bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.txt -r bench/requirements.txt
	$(PY) bench/run.py

## bench-smoke: the benchmark at tiny sizes (seconds), writing to _build/bench-smoke/
bench-smoke: $(STAMP)
	$(PY) bench/run.py --smoke

## notebooks: regenerate the stored notebooks by executing the chapters
notebooks: $(STAMP)
	$(PY) scripts/build_notebooks.py

clean:
	rm -rf _build
