# The two set-up commands of the README, and the checks CI runs.
# Each target creates .venv if needed and installs the project into it
# with a plain (non-editable) install, so packaging mistakes show up here.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

## demo: install cuijiao and run the monthly batch on the bundled sample estate
demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	$(BIN)/cuijiao demo --force cuijiao-demo

## test: install cuijiao with its dev tools, lint, type-check and run the tests
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet '.[dev]'
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

## bench: import and aging benchmarks (100,000 units x 36 months; several minutes)
bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet '.[dev]'
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_aging.py

clean:
	rm -rf $(VENV) build *.egg-info cuijiao-demo
