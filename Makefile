# Two entry points for a fresh machine with Python 3.11 (see README):
#   make demo   set up .venv, then run the end-to-end demo on built-in synthetic data
#   make test   set up .venv, then run every check CI runs
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export IPYTHONDIR := $(CURDIR)/$(VENV)/ipython
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: setup demo test test-nbs test-py check-sync readme docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python settings.ini setup.py constraints.txt
	$(BIN)/python -m pip install --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -c constraints.txt -e ".[dev,notebooks]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/construct demo --out demo_out --overwrite

readme: setup
	$(BIN)/python tools/make_readme.py

# nbdev_docs without Quarto would try to install it and re-install the package with the machine's pip.
docs: setup
	@command -v quarto >/dev/null || { echo "Quarto is not installed: install it first (https://quarto.org/docs/get-started/), then run make docs again."; exit 1; }
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbdev_docs

# The library must be what the notebooks export, and the notebooks must be clean:
# both commands may change nothing that git sees.
check-sync: setup
	@before="$$(git status --porcelain; git diff)"; \
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean; \
	after="$$(git status --porcelain; git diff)"; \
	if [ "$$before" != "$$after" ]; then \
	  echo "FAIL: nbdev_export/nbdev_clean changed files: export and clean the notebooks, then commit."; \
	  git status --porcelain; exit 1; fi; \
	echo "library in sync with notebooks; notebooks clean"

test-nbs: setup
	$(BIN)/nbdev_test --timing

test-py: setup
	$(BIN)/python -m pytest tests -q

test: check-sync test-nbs test-py
