"""`smcluster launch-tuning`: a SageMaker tuning job over the schema's ranges, checked here
before any AWS call."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..contract.errors import SmclusterError
from .arguments import (
    collect,
    job_arguments,
    job_spec,
    positive_int,
    range_arguments,
    tuning_settings,
)
from .guard import guarded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    job_arguments(parser)
    range_arguments(parser)
    parser.add_argument("--max-jobs", type=positive_int, help="default 20; Grid: every combination")
    parser.add_argument("--max-parallel-jobs", type=positive_int, default=2)
    parser.add_argument("--max-runtime", type=positive_int, help="seconds for the tuning job")
    parser.add_argument(
        "--strategy", choices=("Bayesian", "Random", "Hyperband", "Grid"), default="Bayesian"
    )
    parser.add_argument("--random-seed", type=int, help="the tuner's seed (repeatable searches)")
    parser.add_argument("--early-stopping", choices=("Off", "Auto"), default="Off")
    done = parser.add_argument_group("completion criteria")
    done.add_argument("--target-objective", type=float, help="stop once a job reaches it")
    done.add_argument(
        "--stop-after-jobs-not-improving", type=positive_int, metavar="N",
        help="stop after N jobs without a new best",
    )  # fmt: skip
    done.add_argument(
        "--complete-on-convergence", action="store_true", help="stop when the tuner converges"
    )
    warm = parser.add_argument_group("warm start")
    warm.add_argument("--warm-start", metavar="JOB[,JOB...]", help="1 to 5 parent tuning jobs")
    warm.add_argument(
        "--warm-start-type",
        choices=("IdenticalDataAndAlgorithm", "TransferLearning"),
        default="IdenticalDataAndAlgorithm",
    )
    size = parser.add_argument_group(
        "table size: with both, the memory-bound ranges are narrowed to what the GPU memory "
        "plan allows on --instance-type (README, GPU memory plan)"
    )
    size.add_argument("--rows", type=positive_int, help="rows of the training table")
    size.add_argument("--features", type=positive_int, help="feature columns clustered")
    band = parser.add_argument_group("Hyperband (the objective is reported once per job)")
    band.add_argument("--hyperband-min-resource", type=positive_int)
    band.add_argument("--hyperband-max-resource", type=positive_int)


@guarded
def run(args: argparse.Namespace) -> str:
    from ..tools import launch
    from ..tools.sagemaker_requests import raise_all
    from ..tools.tuning_memory import narrow_to_gpu

    errors: list[SmclusterError] = []
    spec = job_spec(args, errors)
    only = args.tune.split(",") if args.tune else None
    fixed = set(spec.hyperparameters) | {a.partition("=")[0].strip() for a in args.hp}
    none: dict[str, dict[str, Any]] = {}
    ranges = collect(errors, lambda: launch.tuning_ranges(args.range, only, fixed), none)
    settings = tuning_settings(args)
    problems = launch.tuning_problems(spec, launch.grid_ranges(ranges, settings), settings)
    if (args.rows is None) != (args.features is None):
        problems.append("--rows and --features go together (the table's size for the GPU plan)")
    elif args.rows is not None and ranges:
        narrowed = narrow_to_gpu(
            ranges, spec.hyperparameters, spec.instance_type, args.rows, args.features
        )
        for note in narrowed.notes:
            print(f"launch-tuning: {note}", file=sys.stderr)
        problems += narrowed.problems
        ranges = narrowed.ranges
    raise_all(problems, "launch-tuning", errors)  # before any AWS client
    return launch.launch_tuning(spec, ranges, settings, launch.client(args.region, args.profile))
