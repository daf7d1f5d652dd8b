#!/usr/bin/env bash
# `make gpu-check`: on a machine with an NVIDIA GPU (driver 535+, compute capability 7.0+),
# install smcluster with its GPU extras into .venv-gpu, then run scripts/gpu_check.py:
# backend=gpu on 1M and 5M synthetic rows, backend=cpu on a sample, ARI between them >= 0.9.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi >/dev/null 2>&1; then
    echo "gpu-check: no NVIDIA GPU here (nvidia-smi is missing or failed); run it on a GPU machine." >&2
    exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv
PYTHON=${PYTHON:-python3}
VENV=${GPU_VENV:-.venv-gpu}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
# cuDF/cuML wheels are on PyPI and on NVIDIA's index; the extra index covers both.
"$VENV/bin/pip" install --quiet --extra-index-url=https://pypi.nvidia.com -e ".[cpu,gpu]"
exec "$VENV/bin/python" scripts/gpu_check.py "$@"
