#!/usr/bin/env bash
# `make gpu-check`: on a machine with an NVIDIA GPU (driver 535+ for CUDA 12, 580+ for CUDA 13;
# compute capability 7.0+), get RAPIDS, then run scripts/gpu_check.py (the CPU backend against
# the GPU backend, stage by stage; its table goes to bench/results/gpu_check.md). Arguments are
# passed on to gpu_check.py (e.g. --sizes 100000 --memory-rows 0 for a quick pass).
#
# Where RAPIDS comes from:
#   (default)                 a virtual environment $GPU_VENV (.venv-gpu) with pip install -e
#                             ".[cpu,gpu]": the project's pins, CUDA 12 wheels, from the network.
#   GPU_CHECK_WHEELS=<dir>    the same environment installed offline from local wheel files
#                             (pip --no-index --find-links <dir>): the project's dependencies and
#                             RAPIDS of the pinned release for CUDA $GPU_CHECK_CUDA (12 or 13; a
#                             machine with CUDA 13 and driver 580 takes cudf-cu13, cuml-cu13,
#                             cupy-cuda13x). smcluster itself runs from src/ (nothing to build).
#   GPU_CHECK_PYTHON=<python> no install: that interpreter already has RAPIDS and the project's
#                             dependencies; smcluster runs from src/.
# For a GPU machine without network, fill the wheel folder on one with network (no GPU needed):
#   GPU_CHECK_DOWNLOAD=<dir> GPU_CHECK_CUDA=13 GPU_CHECK_PYTHON_VERSION=3.12 scripts/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The requirement lines for one CUDA major version, read from pyproject.toml (one source of pins).
requirements() {
    "$1" - "$2" <<'EOF'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
cuda = sys.argv[1]
extras = project["optional-dependencies"]
gpu = [r.replace("-cu12", f"-cu{cuda}").replace("cuda12x", f"cuda{cuda}x") for r in extras["gpu"]]
print("\n".join(project["dependencies"] + extras["cpu"] + gpu))
EOF
}

if [ -n "${GPU_CHECK_DOWNLOAD:-}" ]; then
    PY=${PYTHON:-python3}
    requirements "$PY" "${GPU_CHECK_CUDA:-12}" > "${TMPDIR:-/tmp}/gpu-check-requirements.txt"
    version=${GPU_CHECK_PYTHON_VERSION:-$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}
    # Linux x86-64 wheels whatever machine downloads them (pip does not widen one --platform
    # to the older manylinux tags, so each is named).
    platforms=()
    for tag in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014; do
        platforms+=(--platform "${tag}_x86_64")
    done
    "$PY" -m pip download --quiet --dest "$GPU_CHECK_DOWNLOAD" --only-binary=:all: \
        --python-version "$version" "${platforms[@]}" -r "${TMPDIR:-/tmp}/gpu-check-requirements.txt"
    echo "gpu-check: wheels for CUDA ${GPU_CHECK_CUDA:-12}, Python $version in $GPU_CHECK_DOWNLOAD"
    exit 0
fi
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi >/dev/null 2>&1; then
    echo "gpu-check: no NVIDIA GPU here (nvidia-smi is missing or failed); run it on a GPU machine." >&2
    exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv

if [ -n "${GPU_CHECK_PYTHON:-}" ]; then
    RUN_PYTHON=$GPU_CHECK_PYTHON
    export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
elif [ -n "${GPU_CHECK_WHEELS:-}" ]; then
    VENV=${GPU_VENV:-.venv-gpu}
    [ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
    requirements "$VENV/bin/python" "${GPU_CHECK_CUDA:-12}" > "$VENV/gpu-check-requirements.txt"
    "$VENV/bin/pip" install --quiet --no-index --find-links "$GPU_CHECK_WHEELS" \
        -r "$VENV/gpu-check-requirements.txt"
    RUN_PYTHON=$VENV/bin/python
    export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
else
    VENV=${GPU_VENV:-.venv-gpu}
    [ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    # cuDF/cuML wheels are on PyPI and on NVIDIA's index; the extra index covers both.
    "$VENV/bin/pip" install --quiet --extra-index-url=https://pypi.nvidia.com -e ".[cpu,gpu]"
    RUN_PYTHON=$VENV/bin/python
fi
exec "$RUN_PYTHON" scripts/gpu_check.py "$@"
