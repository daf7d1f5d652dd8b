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

.PHONY: install demo test lint format readme clean bench-plots

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

bench-plots: $(STAMP)
	$(BIN)/python scripts/bench_plots.py

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache build dist src/*.egg-info
