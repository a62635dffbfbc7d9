# convwatch: `make experiment NAME=...` and `make test` work as the first command on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NAME ?= mnist_larger_cnn
ARGS ?=
RESULTS ?= results
RUNS ?= $(RESULTS)
FORMAT ?= table
OUT ?= $(RESULTS)/compare.html
STAMP := $(VENV)/.installed

.PHONY: setup experiment list compare report test lint format bench soak clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,ray,jax,torch]'
	touch $(STAMP)

experiment: setup
	$(PY) -m convwatch run $(NAME) $(ARGS) --results-dir $(RESULTS)

list: setup
	$(PY) -m convwatch list

# make compare RUNS="results/a/* results/b/<run>" [SORT=test_accuracy] [FORMAT=md] [OUT=cmp.html]
compare: setup
	$(PY) -m convwatch compare $(RUNS) --format $(FORMAT) --out $(OUT) $(if $(SORT),--sort $(SORT))

# Rebuild index.html of a run, a sweep or every run under RESULTS (RUN=results/<exp>/<run>).
report: setup
	$(PY) -m convwatch report $(or $(RUN),$(RESULTS))

# ruff, then the layers and the absence of import cycles (.importlinter, import-linter).
lint: setup
	$(VENV)/bin/ruff check src tests experiments bench
	$(VENV)/bin/ruff format --check src tests experiments bench
	$(VENV)/bin/lint-imports --no-cache

format: setup
	$(VENV)/bin/ruff check --fix src tests experiments bench
	$(VENV)/bin/ruff format src tests experiments bench

# Everything on TensorFlow, then the tests of what runs differently on each other Keras backend
# (the techniques that call the model, and the captures), leaving out the measurements of
# results, which test_across_backends.py shows equal; BACKENDS="" leaves these runs out. JAX
# keeps its compiled functions in .venv/jax-cache: the same shapes compile once.
BACKENDS ?= jax torch
BACKEND_TESTS ?= tests/techniques/interpretation tests/techniques/test_autodiff.py \
	tests/techniques/test_maximize.py tests/techniques/test_exemplars.py \
	tests/techniques/test_deep_dream.py tests/techniques/test_style_transfer.py \
	tests/techniques/test_activations.py tests/techniques/test_any_size.py \
	tests/techniques/test_pre_activation.py tests/techniques/test_receptive_field.py \
	tests/techniques/test_backbones.py tests/techniques/test_similarity.py \
	tests/techniques/test_filter_matching.py tests/callbacks
JAX_CACHE := JAX_COMPILATION_CACHE_DIR=$(abspath $(VENV))/jax-cache \
	JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0

test: lint
	CONVWATCH_OFFLINE=1 $(PY) -m pytest -q
	for backend in $(BACKENDS); do \
		echo "== the techniques and captures on KERAS_BACKEND=$$backend"; \
		CONVWATCH_OFFLINE=1 KERAS_BACKEND=$$backend $(JAX_CACHE) \
			$(PY) -m pytest -q -m "not measure" $(BACKEND_TESTS) || exit 1; \
	done

# Ratios measured side by side in one process (see bench/); never part of `make test`.
bench: setup
	TF_CPP_MIN_LOG_LEVEL=2 CONVWATCH_OFFLINE=1 $(PY) bench/run_all.py

# 20 short runs, some interrupted by signals, some NaN; checks every run folder (never in `make test`).
soak: setup
	TF_CPP_MIN_LOG_LEVEL=2 CONVWATCH_OFFLINE=1 $(PY) bench/soak.py

clean:
	rm -rf $(VENV) .pytest_cache
