#!/usr/bin/env bash
# Run the image on a local folder of CSV/Parquet files exactly as SageMaker would run it.
#
#   scripts/local_train.sh --data DIR [--validation DIR] [--hyperparameters JSON] [--tree DIR]
#                          [--image IMAGE]
#
# Writes a SageMaker-shaped /opt/ml tree under --tree (config files; the data folders are mounted
# read-only, not copied), runs `docker run <image> train` on it (with --gpus all when the host has
# an NVIDIA GPU) and shows the model directory or the failure file. Hyperparameters are a JSON
# object; values reach the job as strings, as SageMaker passes them.
set -euo pipefail

IMAGE="smcluster:cpu"
DATA=""
VALIDATION=""
HYPERPARAMETERS="{}"
TREE="tmp/local_train"

say() { echo "local_train: $*" >&2; }
die() {
    say "error: $*"
    exit 2
}

while (($#)); do
    case "$1" in
    --image) IMAGE="$2" ;;
    --data) DATA="$2" ;;
    --validation) VALIDATION="$2" ;;
    --hyperparameters) HYPERPARAMETERS="$2" ;;
    --tree) TREE="$2" ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
    esac
    shift 2
done
[[ -n $DATA ]] || die "no data folder. Fix: make local-train DATA=path/to/folder (CSV or Parquet files)."
[[ -d $DATA ]] || die "data folder '$DATA' does not exist."
[[ -z $VALIDATION || -d $VALIDATION ]] || die "validation folder '$VALIDATION' does not exist."
docker info >/dev/null 2>&1 || die "no Docker engine answers. Fix: start Docker and retry."
docker image inspect "$IMAGE" >/dev/null 2>&1 ||
    die "image '$IMAGE' not found. Fix: make image-cpu (or make image), or pass LOCAL_IMAGE=..."

mkdir -p "$TREE/input/config" "$TREE/input/data"
rm -rf "$TREE/model" "$TREE/output"
TREE="$(cd "$TREE" && pwd)"
python3 - "$TREE/input/config" "$HYPERPARAMETERS" "$VALIDATION" <<'PY'
import json, sys
from pathlib import Path

config, raw, validation = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    values = json.loads(raw)
except ValueError as exc:
    sys.exit(f"local_train: error: HP is not a JSON object ({exc}). Fix: HP='{{\"reducer\": \"pca\"}}'")
if not isinstance(values, dict):
    sys.exit("local_train: error: HP must be a JSON object such as {\"reducer\": \"pca\"}.")
# SageMaker hands every value over as a string; JSON keeps lists and booleans readable.
strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
(config / "hyperparameters.json").write_text(json.dumps(strings, indent=2))
channels = {"train": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}}
if validation:
    channels["validation"] = dict(channels["train"])
(config / "inputdataconfig.json").write_text(json.dumps(channels, indent=2))
resources = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
(config / "resourceconfig.json").write_text(json.dumps(resources))
PY

run=(docker run --rm --network none -v "$TREE:/opt/ml"
    -v "$(cd "$DATA" && pwd):/opt/ml/input/data/train:ro")
[[ -z $VALIDATION ]] || run+=(-v "$(cd "$VALIDATION" && pwd):/opt/ml/input/data/validation:ro")
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && run+=(--gpus all)
say "${run[*]} $IMAGE train"
status=0
"${run[@]}" "$IMAGE" train || status=$?
if ((status == 0)); then
    say "done; model directory $TREE/model:"
    ls -l "$TREE/model" >&2
else
    say "the job failed (exit $status); $TREE/output/failure says:"
    cat "$TREE/output/failure" >&2 2>/dev/null || say "(no failure file)"
fi
exit "$status"
