# smcluster: every entry point a developer or CI needs. `make demo` and `make test` work on a
# fresh machine with Python 3.11+ (RAPIDS and pandas 3 need it); they create the virtual
# environment themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo/opt_ml
DEMO_ROWS ?= 20000
PYTEST_ARGS ?=
# Images: `make image` (GPU, RAPIDS pip wheels), `make image-cpu`, `make image-rapids` (GPU on the
# RAPIDS base image); BASE_IMAGE overrides the base of any.
IMAGE ?= smcluster
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' src/smcluster/version.py)
GIT_REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
CPU_BASE_IMAGE ?= python:3.12-slim-bookworm
RAPIDS_BASE_IMAGE ?= nvcr.io/nvidia/rapidsai/base:26.10-cuda12-py3.12
DOCKER_BUILD_FLAGS ?=
DOCKER_BUILD := docker build $(DOCKER_BUILD_FLAGS) --build-arg VERSION=$(VERSION) \
	--build-arg GIT_REVISION=$(GIT_REVISION)
# local-train: DATA=folder of CSV/Parquet files, HP='{"reducer": "pca"}', TREE=scratch /opt/ml
DATA ?=
HP ?= {}
TREE ?= tmp/local_train
LOCAL_IMAGE ?= $(IMAGE):$(VERSION)-$(if $(shell command -v nvidia-smi),gpu,cpu)

BENCH_ARGS ?=
BENCH_OUT ?= bench/results
# quality: e.g. QUALITY_ARGS='--jobs 1 --sets iris,atom --hp reducer=pca'
QUALITY_ARGS ?= --jobs 2

.PHONY: install demo test test-fast lint format readme clean bench bench-plots quality objective-study gpu-check image image-cpu image-rapids push local-train

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

# Starts what the tests need first (browser, Docker engine, base image; see the script); -rs
# lists every skipped test with its reason at the end.
# Two parts: the suite on every core (pytest-xdist; `--dist loadscope` keeps a module's tests on
# one worker, so a module's shared `train` run is made once), then, alone, the container tests
# (one Docker engine, images built once) and the tests that assert a time window (marker
# `serial`). pytest's exit code 5 (no test selected, e.g. PYTEST_ARGS naming one file) is not a
# failure of either part.
TEST_WORKERS ?= auto
test: $(STAMP)
	bash scripts/test_prerequisites.sh
	status=0; \
	$(BIN)/pytest -rs -n $(TEST_WORKERS) --dist loadscope -m "not serial and not container" $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] || status=$$rc; }; \
	$(BIN)/pytest -rs -m "serial or container" $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] || status=$$rc; }; \
	exit $$status

# The in-process tier: no `train` subprocess, container, browser or pip (tests/conftest.py marks
# those `process` by rule, and fails a test here that starts one unmarked); under 2 minutes.
test-fast: $(STAMP)
	SMCLUSTER_TEST_TIER=fast $(BIN)/pytest -q -n $(TEST_WORKERS) -m "not process and not slow and not serial and not container" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts docker
	$(BIN)/ruff format --check src tests scripts docker
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/hadolint --no-color Dockerfile

format: $(STAMP)
	$(BIN)/ruff format src tests scripts docker
	$(BIN)/ruff check --fix src tests scripts docker

readme: $(STAMP)
	$(BIN)/python scripts/update_readme.py

bench-plots: $(STAMP)
	$(BIN)/python scripts/bench_plots.py

# GPU: RAPIDS' pip wheels at the project's pins on the CPU base (no RAPIDS base image needed).
image:
	$(DOCKER_BUILD) --build-arg VARIANT=gpu --build-arg BASE_IMAGE=$(or $(BASE_IMAGE),$(CPU_BASE_IMAGE)) \
		-t $(IMAGE):$(VERSION)-gpu .

# GPU on the RAPIDS base image (its cuDF/cuML; needs nvcr.io or Docker Hub).
image-rapids:
	$(DOCKER_BUILD) --build-arg VARIANT=gpu-rapids --build-arg BASE_IMAGE=$(or $(BASE_IMAGE),$(RAPIDS_BASE_IMAGE)) \
		-t $(IMAGE):$(VERSION)-gpu-rapids .

image-cpu:
	$(DOCKER_BUILD) --build-arg VARIANT=cpu --build-arg BASE_IMAGE=$(or $(BASE_IMAGE),$(CPU_BASE_IMAGE)) \
		-t $(IMAGE):$(VERSION)-cpu .

push:
	scripts/build_and_push.sh --variant $(or $(VARIANT),gpu)

local-train:
	scripts/local_train.sh --image $(LOCAL_IMAGE) --data "$(DATA)" --hyperparameters '$(HP)' --tree $(TREE)

# CPU benchmark against the hand-written reference (10k, 100k, 1M rows; ~25 min on 2 cores).
bench: $(STAMP)
	$(BIN)/python scripts/bench.py --out $(BENCH_OUT) --image $(IMAGE):$(VERSION)-cpu $(BENCH_ARGS)
	$(BIN)/python scripts/bench_plots.py --out $(BENCH_OUT)/plots.json

# Labelled quality battery (scripts/quality_sets.py): `train` with its defaults and two
# references (naive UMAP+DBSCAN script, scikit-learn HDBSCAN) on every set; AMI, ARI, noise
# recall per set and family in bench/results/quality.{json,md}. Not in CI.
quality: $(STAMP)
	$(BIN)/python scripts/quality.py $(QUALITY_ARGS)

# Which internal score a tuner should maximize: every battery set x a grid of configurations.
OBJECTIVE_ARGS ?= --jobs 2
objective-study: $(STAMP)
	$(BIN)/python scripts/objective_study.py --out $(BENCH_OUT) $(OBJECTIVE_ARGS)

# On a machine with an NVIDIA GPU: get RAPIDS (network, local wheels or a given Python; see
# scripts/gpu_check.sh) and compare the GPU backend with the CPU one stage by stage.
gpu-check:
	bash scripts/gpu_check.sh

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache build dist src/*.egg-info
