# convwatch: `make experiment NAME=...` and `make test` work as the first command on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NAME ?= mnist_larger_cnn
ARGS ?=
RESULTS ?= results
STAMP := $(VENV)/.installed

.PHONY: setup experiment list test lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

experiment: setup
	$(PY) -m convwatch run $(NAME) $(ARGS) --results-dir $(RESULTS)

list: setup
	$(PY) -m convwatch list

lint: setup
	$(VENV)/bin/ruff check src tests experiments
	$(VENV)/bin/ruff format --check src tests experiments

format: setup
	$(VENV)/bin/ruff check --fix src tests experiments
	$(VENV)/bin/ruff format src tests experiments

test: lint
	CONVWATCH_OFFLINE=1 $(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
