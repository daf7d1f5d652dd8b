#!/bin/sh
# Image entrypoint. SageMaker runs `docker run <image> train`; SDK v3 local mode passes no argument
# at all: both run the training job. Anything else (`bash`, `smcluster predict ...`) runs as given.
# `exec` replaces this shell, so the job is tini's (PID 1's) child and gets the SIGTERM it forwards.
set -eu
if [ "$#" -eq 0 ] || [ "$1" = "train" ]; then
    [ "$#" -eq 0 ] || shift
    exec train "$@"
fi
exec "$@"
