#!/usr/bin/env bash
# Build the smcluster image and push it to Amazon ECR; prints the image_uri for Estimator(...).
#
#   scripts/build_and_push.sh [--variant gpu|cpu] [--repository NAME] [--no-build]
#
# Needs a Docker engine, the AWS CLI, a region (AWS_REGION, AWS_DEFAULT_REGION or `aws configure`)
# and credentials allowed to call sts:GetCallerIdentity and ECR (create/describe repositories,
# get-login-password, push). Creates the repository when it does not exist. Tags the image
# <version>-<variant> and <version>-<variant>-<git revision>, pushes both and prints the second,
# immutable one on stdout (everything else goes to stderr).
set -euo pipefail

here="${BASH_SOURCE[0]%/*}"
[[ $here != "${BASH_SOURCE[0]}" ]] || here=.
ROOT="$(cd "$here/.." && pwd)"
VARIANT=gpu
REPOSITORY="${SMCLUSTER_REPOSITORY:-smcluster}"
BUILD=1

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; }
say() { echo "build_and_push: $*" >&2; }

while (($#)); do
    case "$1" in
    --variant)
        VARIANT="${2:?--variant needs gpu or cpu}"
        shift 2
        ;;
    --repository)
        REPOSITORY="${2:?--repository needs a name}"
        shift 2
        ;;
    --no-build)
        BUILD=0
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        say "error: unknown argument '$1'"
        usage
        exit 2
        ;;
    esac
done
[[ $VARIANT == gpu || $VARIANT == cpu ]] || {
    say "error: --variant must be gpu or cpu, got '$VARIANT'"
    exit 2
}

# Check everything first and report every problem at once, each with its fix.
problems=()
if ! command -v docker >/dev/null 2>&1; then
    problems+=("no docker CLI on PATH. Fix: install Docker (https://docs.docker.com/engine/install/).")
elif ! docker info >/dev/null 2>&1; then
    problems+=("no Docker engine answers (docker info failed${DOCKER_HOST:+ for DOCKER_HOST=$DOCKER_HOST}). Fix: start Docker (sudo systemctl start docker) and retry.")
fi
region=""
account=""
if ! command -v aws >/dev/null 2>&1; then
    problems+=("no aws CLI on PATH. Fix: install the AWS CLI (pip install awscli, or AWS CLI v2).")
else
    sts_errors="$(mktemp)"
    region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}"
    if [[ -z $region ]]; then
        problems+=("no AWS region. Fix: export AWS_REGION=us-east-1 (your region) or run 'aws configure'.")
    elif ! account="$(aws sts get-caller-identity --region "$region" --query Account \
        --output text 2>"$sts_errors")"; then
        problems+=("no usable AWS credentials ($(tr '\n' ' ' <"$sts_errors")). Fix: export AWS_PROFILE=..., or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws configure' / 'aws sso login'.")
    fi
    rm -f "$sts_errors"
fi
if ((${#problems[@]})); then
    for problem in "${problems[@]}"; do say "error: $problem"; done
    exit 1
fi

version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/src/smcluster/version.py")"
revision="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
local_image="smcluster:$version-$VARIANT"
suffix="amazonaws.com"
[[ $region == cn-* ]] && suffix="amazonaws.com.cn"
registry="$account.dkr.ecr.$region.$suffix"
remote="$registry/$REPOSITORY"

if ((BUILD)); then
    target=image
    [[ $VARIANT == cpu ]] && target=image-cpu
    say "building $local_image (make $target)"
    make -C "$ROOT" "$target" IMAGE=smcluster >&2
fi
docker image inspect "$local_image" >/dev/null 2>&1 || {
    say "error: local image $local_image not found. Fix: run without --no-build (or make image)."
    exit 1
}

if ! aws ecr describe-repositories --region "$region" --repository-names "$REPOSITORY" >/dev/null 2>&1; then
    say "creating ECR repository $REPOSITORY in $region"
    aws ecr create-repository --region "$region" --repository-name "$REPOSITORY" \
        --image-scanning-configuration scanOnPush=true >/dev/null
fi
say "logging in to $registry"
aws ecr get-login-password --region "$region" |
    docker login --username AWS --password-stdin "$registry" >&2

for tag in "$version-$VARIANT" "$version-$VARIANT-$revision"; do
    docker tag "$local_image" "$remote:$tag"
    say "pushing $remote:$tag"
    docker push "$remote:$tag" >&2
done
echo "$remote:$version-$VARIANT-$revision"
