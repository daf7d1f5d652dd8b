# smcluster: every entry point a developer or CI needs. `make demo` and `make test` work on a
# fresh machine with Python 3.10+; they create the virtual environment themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo/opt_ml
DEMO_ROWS ?= 20000
PYTEST_ARGS ?=
BENCH_ARGS ?=
BENCH_OUT ?= bench/results

.PHONY: install demo test lint format readme clean bench gpu-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[cpu,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/smcluster demo-data --out $(DEMO_DIR) --rows $(DEMO_ROWS) --validation-rows 2000
	SAGEMAKER_BASE_DIR=$(DEMO_DIR) $(BIN)/train
	@echo; echo "metrics:"; cat $(DEMO_DIR)/model/metrics.json
	@echo; echo "artifacts in $(DEMO_DIR)/model:"; ls -l $(DEMO_DIR)/model

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

format: $(STAMP)
	$(BIN)/ruff format src tests scripts
	$(BIN)/ruff check --fix src tests scripts

readme: $(STAMP)
	$(BIN)/python scripts/update_readme.py

# CPU benchmark against the hand-written reference (10k, 100k, 1M rows; ~25 min on 2 cores).
bench: $(STAMP)
	$(BIN)/python scripts/bench.py --out $(BENCH_OUT) $(BENCH_ARGS)
	@if [ -f scripts/bench_plots.py ]; then $(BIN)/python scripts/bench_plots.py $(BENCH_OUT)/results.json; fi

# On a machine with an NVIDIA GPU: install the GPU extras, run backend=gpu on 1M and 5M rows and
# backend=cpu on a sample, and check that the two agree.
gpu-check:
	bash scripts/gpu_check.sh

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache build dist src/*.egg-info
