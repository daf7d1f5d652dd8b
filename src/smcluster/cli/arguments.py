"""Argument groups several commands share, and the launch settings built from them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ..contract.errors import SmclusterError

if TYPE_CHECKING:  # the launch module loads boto3's types; a command's --help needs none
    from ..tools.launch import JobSpec, TuningSettings

T = TypeVar("T")


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` (up to `high`), refused with exit 2."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{value} is above {high}")
        return value

    return parse


positive_int = whole_number(1)


def range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--range",
        action="append",
        default=[],
        metavar="NAME=LOW:HIGH[:SCALING] | NAME=A,B,C",
        help="override a schema tuning range",
    )
    parser.add_argument("--tune", help="comma-separated names to tune (default: all ranges)")


def hp_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hp", action="append", default=[], metavar="NAME=VALUE", help="fixed hyperparameter"
    )


def aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: the boto3 default)")
    parser.add_argument("--profile", help="AWS profile (default: the boto3 default)")


def job_arguments(parser: argparse.ArgumentParser) -> None:
    """What a training job needs, for launch-training and launch-tuning (`job_spec`)."""
    parser.add_argument("--image", required=True, help="ECR image URI (see `make push`)")
    parser.add_argument("--role", required=True, help="SageMaker execution role ARN")
    parser.add_argument("--train", required=True, help="S3 URI of the train channel")
    parser.add_argument("--validation", help="S3 URI of the validation channel")
    parser.add_argument("--instance-type", default="ml.g5.2xlarge")
    parser.add_argument(
        "--instance-count",
        type=positive_int,
        default=1,
        help="hosts sharing the table's rows (default 1; README, Several hosts and GPUs)",
    )
    parser.add_argument(
        "--train-distribution",
        choices=("FullyReplicated", "ShardedByS3Key"),
        default="FullyReplicated",
        help="how the train channel reaches the hosts: every file on each (default), or each "
        "host its own share of the files",
    )
    parser.add_argument("--output-path", required=True, help="S3 URI for model.tar.gz")
    parser.add_argument("--base-job-name", help="job name prefix (default smcluster)")
    parser.add_argument(
        "--max-run", type=positive_int, default=24 * 60 * 60, help="seconds (default 1 d)"
    )
    parser.add_argument("--volume-size", type=positive_int, default=50, help="GB (default 50)")
    parser.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="tag the job"
    )
    hp_argument(parser)
    aws_arguments(parser)


def collect(errors: list[SmclusterError], build: Callable[[], T], empty: T) -> T:
    """`build()`, or `empty` with its error kept, so that every problem is reported at once."""
    try:
        return build()
    except SmclusterError as exc:
        errors.append(exc)
        return empty


def job_spec(args: argparse.Namespace, errors: list[SmclusterError]) -> JobSpec:
    """The job of `job_arguments`; problems with --hp or --tag are added to `errors`."""
    from ..tools import launch

    return launch.JobSpec(
        image_uri=args.image,
        role=args.role,
        instance_type=args.instance_type,
        output_path=args.output_path,
        hyperparameters=collect(errors, lambda: launch.static_hyperparameters(args.hp), {}),
        train=args.train,
        validation=args.validation,
        base_job_name=args.base_job_name,
        max_run=args.max_run,
        volume_size_gb=args.volume_size,
        spot=getattr(args, "spot", False),
        max_wait=getattr(args, "max_wait", None),
        checkpoint_s3_uri=getattr(args, "checkpoint_s3_uri", None),
        tags=collect(errors, lambda: launch.parse_assignments(args.tag, "--tag"), {}),
        instance_count=args.instance_count,
        train_distribution=args.train_distribution,
    )


def tuning_settings(args: argparse.Namespace) -> TuningSettings:
    from ..tools import launch

    parents = [p.strip() for p in (args.warm_start or "").split(",") if p.strip()]
    default_jobs = None if args.strategy == "Grid" else 20
    return launch.TuningSettings(
        strategy=args.strategy,
        max_jobs=args.max_jobs if args.max_jobs is not None else default_jobs,
        max_parallel_jobs=args.max_parallel_jobs,
        max_runtime=args.max_runtime,
        early_stopping=args.early_stopping,
        target_objective=args.target_objective,
        max_jobs_not_improving=args.stop_after_jobs_not_improving,
        complete_on_convergence=args.complete_on_convergence,
        warm_start_parents=parents,
        warm_start_type=args.warm_start_type,
        random_seed=args.random_seed,
        hyperband_min_resource=args.hyperband_min_resource,
        hyperband_max_resource=args.hyperband_max_resource,
    )
