# The two entry points the README names: `make demo` and `make test`. Both create .venv from
# pyproject.toml, so a fresh machine with Python 3.11+ needs nothing else.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# An editable install compiles no bytecode (a wheel install does): compileall does, so that a
# cold `migguard lint` does not compile every module it imports on each start (stale files are
# recompiled in memory, never trusted: Python checks each source's time against its .pyc).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q migguard
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q migguard
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n auto --dist worksteal

bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/lint_corpus.py
	$(BIN)/python bench/plan.py

clean:
	rm -rf $(VENV) .pytest_cache .migguard
