"""`smcluster launch-training`: one SageMaker training job, checked here before any AWS call."""

from __future__ import annotations

import argparse

from ..contract.errors import SmclusterError
from .arguments import job_arguments, job_spec, positive_int
from .guard import guarded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    job_arguments(parser)
    spot = parser.add_argument_group("managed spot training")
    spot.add_argument("--spot", action="store_true", help="run on spot capacity")
    spot.add_argument(
        "--max-wait", type=positive_int, help="seconds, >= --max-run (default max-run + 1 h)"
    )
    spot.add_argument("--checkpoint-s3-uri", help="default: <output-path>/<job name>/checkpoints")


@guarded
def run(args: argparse.Namespace) -> str:
    from ..tools import launch
    from ..tools.sagemaker_requests import raise_all

    errors: list[SmclusterError] = []
    spec = job_spec(args, errors)
    raise_all(spec.problems(), "launch-training", errors)  # before any AWS client
    return launch.launch_training(spec, launch.client(args.region, args.profile))
