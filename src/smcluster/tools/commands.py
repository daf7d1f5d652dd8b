"""The `smcluster` subcommands that drive tools: each takes the parsed arguments, returns an exit
code, and reports an anticipated failure as its reason (with a Fix) instead of a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..contract.errors import ArgumentError, SmclusterError, StudyError
from ..contract.secrets import redact
from ..output.atomic import check_output
from . import compare, launch
from .aws_errors import aws_fix
from .sagemaker_requests import raise_all

Command = Callable[[argparse.Namespace], int]
T = TypeVar("T")


def guarded(command: Callable[[argparse.Namespace], str]) -> Command:
    """Print the command's text and exit 0, or print the reason and exit with the error's own
    code (`SmclusterError.exit_code`: 2 bad input, 3 memory, 4 the machine), 2 for an AWS
    refusal. Neither ever shows a URI's credentials (`secrets.py`):
    runs, lineage and leaderboard print what trackers and SageMaker recorded."""

    def run(args: argparse.Namespace) -> int:
        try:
            text = command(args)
        except SmclusterError as exc:
            print(exc.reason(), file=sys.stderr)
            return exc.exit_code
        except (BotoCoreError, ClientError) as exc:
            print(redact(f"AWSError: {exc}. Fix: {aws_fix(exc)}"), file=sys.stderr)
            return 2
        print(redact(text.rstrip("\n")))
        return 0

    return run


def _collect(errors: list[SmclusterError], build: Callable[[], T], empty: T) -> T:
    """`build()`, or `empty` with its error kept, so that every problem is reported at once."""
    try:
        return build()
    except SmclusterError as exc:
        errors.append(exc)
        return empty


def _spec(args: argparse.Namespace, errors: list[SmclusterError]) -> launch.JobSpec:
    return launch.JobSpec(
        image_uri=args.image,
        role=args.role,
        instance_type=args.instance_type,
        output_path=args.output_path,
        hyperparameters=_collect(errors, lambda: launch.static_hyperparameters(args.hp), {}),
        train=args.train,
        validation=args.validation,
        base_job_name=args.base_job_name,
        max_run=args.max_run,
        volume_size_gb=args.volume_size,
        spot=getattr(args, "spot", False),
        max_wait=getattr(args, "max_wait", None),
        checkpoint_s3_uri=getattr(args, "checkpoint_s3_uri", None),
        tags=_collect(errors, lambda: launch.parse_assignments(args.tag, "--tag"), {}),
    )


def _settings(args: argparse.Namespace) -> launch.TuningSettings:
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


@guarded
def launch_training(args: argparse.Namespace) -> str:
    errors: list[SmclusterError] = []
    spec = _spec(args, errors)
    raise_all(spec.problems(), "launch-training", errors)  # before any AWS client
    return launch.launch_training(spec, launch.client(args.region, args.profile))


@guarded
def launch_tuning(args: argparse.Namespace) -> str:
    errors: list[SmclusterError] = []
    spec = _spec(args, errors)
    only = args.tune.split(",") if args.tune else None
    fixed = set(spec.hyperparameters) | {a.partition("=")[0].strip() for a in args.hp}
    none: dict[str, dict[str, Any]] = {}
    ranges = _collect(errors, lambda: launch.tuning_ranges(args.range, only, fixed), none)
    settings = _settings(args)
    problems = launch.tuning_problems(spec, launch.grid_ranges(ranges, settings), settings)
    raise_all(problems, "launch-tuning", errors)  # before any AWS client
    return launch.launch_tuning(spec, ranges, settings, launch.client(args.region, args.profile))


@guarded
def compare_jobs(args: argparse.Namespace) -> str:
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


@guarded
def sagemaker_leaderboard(args: argparse.Namespace) -> str:
    from . import sagemaker_search as search

    search.check_metric(args.sort)
    where = [search.parse_threshold(text) for text in args.where]
    tags = launch.parse_assignments(args.tag, "--tag")
    client = compare.sagemaker_client(args.region, args.profile)
    rows = search.search_jobs(client, tags, args.name_contains, args.experiment)
    ranked = search.leaderboard(rows, args.sort, where, args.limit)
    if args.format == "json":
        return compare.as_json(ranked)
    return compare.as_table(ranked, args.sort) + f"{len(ranked)} of {len(rows)} jobs found\n"


@guarded
def lineage(args: argparse.Namespace) -> str:
    import boto3

    from . import sagemaker_search as search

    session = boto3.Session(region_name=args.region, profile_name=args.profile)
    found = search.lineage(session.client("sagemaker"), session.client("ecr"), args.model)
    return compare.as_json([found]) if args.format == "json" else _lineage_text(found)


def _lineage_text(found: dict[str, Any]) -> str:
    lines = [f"{key}: {found[key]}" for key in found if not isinstance(found[key], dict)]
    for key in ("inputs", "hyperparameters", "metrics", "tags"):
        lines.append(f"{key}:")
        lines += [f"  {name}: {value}" for name, value in found[key].items()]
    return "\n".join(lines) + "\n"


@guarded
def tuning_report(args: argparse.Namespace) -> str:
    from . import tuning_report as report

    if not (args.tuning_job or args.study):
        raise ArgumentError(
            "tuning-report needs at least one study.",
            "pass --tuning-job NAME (SageMaker) and/or --study DIR (a tune-local --out).",
        )
    report.check_plotly()
    check_output(Path(args.out), "--out", make_parents=True)  # before reading any study
    studies = [report.local_study(Path(path)) for path in args.study]
    if args.tuning_job:
        client = compare.sagemaker_client(args.region, args.profile)
        studies += [report.sagemaker_study(client, name) for name in args.tuning_job]
    written = report.write_report(studies, Path(args.out))
    trials = sum(len(s.trials) for s in studies)
    return f"tuning report of {len(studies)} studies ({trials} trials): {written}"


@guarded
def tune_local(args: argparse.Namespace) -> str:
    from .tune_local import tune_local as run_study

    static = launch.static_hyperparameters(args.hp)
    only = args.tune.split(",") if args.tune else None
    ranges = launch.tuning_ranges(args.range, only=only, fixed=static)
    study = run_study(
        Path(args.data),
        Path(args.out),
        args.trials,
        static,
        ranges,
        validation=Path(args.validation) if args.validation else None,
        defaults_trial=not args.no_defaults_trial,
    )
    table = compare.as_table(study.leaderboard)
    if study.best is None:
        print(table, end="")
        raise StudyError(
            f"no trial completed; each trial's reason is in {Path(args.out) / 'study.json'}.",
            "read a trial's train.log under --out, fix the data or --hp, and run again.",
        )
    return f"{table}study: {Path(args.out) / 'study.json'}"


def demo_data(args: argparse.Namespace) -> int:
    from .demo import write_job_tree

    base = write_job_tree(
        Path(args.out),
        rows=args.rows,
        files=args.files,
        file_format=args.format,
        seed=args.seed,
        validation_rows=args.validation_rows,
    )
    print(f"wrote a SageMaker-shaped tree with {args.rows} demo rows under {base}")
    return 0
