"""`smcluster compare-jobs`: a leaderboard of SageMaker training jobs, or of a tuning job's."""

from __future__ import annotations

import argparse

from ..contract.errors import ArgumentError
from ..contract.metrics import METRICS, OBJECTIVE, SPLITS, metric_name
from .arguments import aws_arguments
from .guard import guarded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tuning-job", help="a tuning job: its training jobs, best first")
    which.add_argument("--training-jobs", help="comma-separated training job names")
    parser.add_argument(
        "--objective",
        default=OBJECTIVE,
        choices=[metric_name(split, spec.name) for split in SPLITS for spec in METRICS],
        help=f"metric for --training-jobs (default {OBJECTIVE})",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    aws_arguments(parser)


@guarded
def run(args: argparse.Namespace) -> str:
    from ..tools import compare

    names = [n.strip() for n in (args.training_jobs or "").split(",") if n.strip()]
    if not args.tuning_job and not names:  # before any AWS client
        raise ArgumentError(
            f"--training-jobs names no job ({args.training_jobs!r}).",
            "give comma-separated training job names, e.g. --training-jobs job-a,job-b.",
        )
    client = compare.sagemaker_client(args.region, args.profile)
    if args.tuning_job:
        rows = compare.tuning_job_rows(client, args.tuning_job)
    else:
        rows = compare.training_job_rows(client, names, args.objective)
    ranked = compare.rank(rows, args.objective)
    if args.format == "json":
        return compare.as_json(ranked)
    return compare.as_table(ranked, args.objective)
