"""`smcluster tuning-report`: one interactive HTML page about tuning studies, overlaid."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..contract.errors import ArgumentError
from .arguments import aws_arguments
from .guard import guarded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tuning-job", action="append", default=[], help="a SageMaker tuning job (repeatable)"
    )
    parser.add_argument(
        "--study", action="append", default=[], help="a tune-local --out folder (repeatable)"
    )
    parser.add_argument("--out", default="tuning-report.html", help="HTML file to write")
    aws_arguments(parser)


@guarded
def run(args: argparse.Namespace) -> str:
    from ..output.atomic import check_output
    from ..tools import compare
    from ..tools import tuning_report as report

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
