"""`smcluster launch-training`, `launch-tuning`: the command-line side of `smcluster.launch`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from . import compare, launch
from .errors import SmclusterError
from .metrics import OBJECTIVE, metric_definitions


def _spec(args: argparse.Namespace) -> launch.JobSpec:
    return launch.JobSpec(
        image_uri=args.image,
        role=args.role,
        instance_type=args.instance_type,
        output_path=args.output_path,
        hyperparameters=launch.static_hyperparameters(args.hp),
        train=args.train,
        validation=args.validation,
        base_job_name=args.base_job_name,
        max_run=args.max_run,
    )


def _guarded(command: Callable[[argparse.Namespace], str]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            text = command(args)
        except SmclusterError as exc:
            print(exc.reason(), file=sys.stderr)
            return 2
        except (BotoCoreError, ClientError) as exc:
            print(f"AWS error: {exc}", file=sys.stderr)
            return 2
        print(text.rstrip("\n"))
        return 0

    return run


def _training(args: argparse.Namespace) -> str:
    spec = _spec(args)
    return launch.launch_training(spec, launch.session(args.region, args.profile))


def _tuning(args: argparse.Namespace) -> str:
    spec = _spec(args)
    only = args.tune.split(",") if args.tune else None
    ranges = launch.tuning_ranges(args.range, only=only, fixed=spec.hyperparameters)
    return launch.launch_tuning(
        spec,
        ranges,
        launch.session(args.region, args.profile),
        max_jobs=args.max_jobs,
        max_parallel_jobs=args.max_parallel_jobs,
        strategy=args.strategy,
    )


def _compare(args: argparse.Namespace) -> str:
    client = compare.sagemaker_client(args.region, args.profile)
    if args.tuning_job:
        rows = compare.tuning_job_rows(client, args.tuning_job)
    else:
        names = [n.strip() for n in args.training_jobs.split(",") if n.strip()]
        rows = compare.training_job_rows(client, names, args.objective)
    ranked = compare.rank(rows, args.objective)
    if args.format == "json":
        return compare.as_json(ranked)
    return compare.as_table(ranked, args.objective)


def _tune_local(args: argparse.Namespace) -> str:
    from pathlib import Path

    from .tune_local import tune_local

    static = launch.static_hyperparameters(args.hp)
    only = args.tune.split(",") if args.tune else None
    ranges = launch.tuning_ranges(args.range, only=only, fixed=static)
    study = tune_local(
        Path(args.data),
        Path(args.out),
        args.trials,
        static,
        ranges,
        validation=Path(args.validation) if args.validation else None,
    )
    table = compare.as_table(study.leaderboard)
    if study.best is None:
        print(table, end="")
        raise SmclusterError(
            f"no trial completed; each trial's reason is in {Path(args.out) / 'study.json'}.",
            "read a trial's train.log under --out, fix the data or --hp, and run again.",
        )
    return f"{table}study: {Path(args.out) / 'study.json'}"


def _range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--range",
        action="append",
        default=[],
        metavar="NAME=LOW:HIGH[:SCALING] | NAME=A,B,C",
        help="override a schema tuning range",
    )
    parser.add_argument("--tune", help="comma-separated names to tune (default: all ranges)")


def _hp_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hp", action="append", default=[], metavar="NAME=VALUE", help="fixed hyperparameter"
    )


def _job_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", required=True, help="ECR image URI (see `make push`)")
    parser.add_argument("--role", required=True, help="SageMaker execution role ARN")
    parser.add_argument("--train", required=True, help="S3 URI of the train channel")
    parser.add_argument("--validation", help="S3 URI of the validation channel")
    parser.add_argument("--instance-type", default="ml.g5.2xlarge")
    parser.add_argument("--output-path", help="S3 URI for model.tar.gz (default: SDK bucket)")
    parser.add_argument("--base-job-name", help="job name prefix")
    parser.add_argument("--max-run", type=int, default=24 * 60 * 60, help="seconds (default 1 d)")
    _hp_argument(parser)
    parser.add_argument("--region", help="AWS region (default: the boto3 default)")
    parser.add_argument("--profile", help="AWS profile (default: the boto3 default)")


def add_launch_commands(commands: argparse._SubParsersAction) -> None:
    training = commands.add_parser("launch-training", help="start a SageMaker training job")
    _job_arguments(training)
    training.set_defaults(run=_guarded(_training))

    tuning = commands.add_parser("launch-tuning", help="start a SageMaker tuning job")
    _job_arguments(tuning)
    _range_arguments(tuning)
    tuning.add_argument("--max-jobs", type=int, default=20)
    tuning.add_argument("--max-parallel-jobs", type=int, default=2)
    tuning.add_argument(
        "--strategy", choices=("Bayesian", "Random", "Hyperband"), default="Bayesian"
    )
    tuning.set_defaults(run=_guarded(_tuning))

    jobs = commands.add_parser("compare-jobs", help="leaderboard of SageMaker training jobs")
    which = jobs.add_mutually_exclusive_group(required=True)
    which.add_argument("--tuning-job", help="a tuning job: its training jobs, best first")
    which.add_argument("--training-jobs", help="comma-separated training job names")
    jobs.add_argument(
        "--objective",
        default=OBJECTIVE,
        choices=[d["Name"] for d in metric_definitions()],
        help=f"metric for --training-jobs (default {OBJECTIVE})",
    )
    jobs.add_argument("--format", choices=("table", "json"), default="table")
    jobs.add_argument("--region", help="AWS region (default: the boto3 default)")
    jobs.add_argument("--profile", help="AWS profile (default: the boto3 default)")
    jobs.set_defaults(run=_guarded(_compare))

    local = commands.add_parser("tune-local", help="Optuna study running `train` per trial")
    local.add_argument("--data", required=True, help="folder of CSV/Parquet files (train)")
    local.add_argument("--validation", help="folder of CSV/Parquet files (validation)")
    local.add_argument("--trials", type=int, default=20)
    local.add_argument("--out", required=True, help="new folder for trial-NNN/ and study.json")
    _hp_argument(local)
    _range_arguments(local)
    local.set_defaults(run=_guarded(_tune_local))
