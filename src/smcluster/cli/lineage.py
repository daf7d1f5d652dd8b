"""`smcluster lineage`: which job, hyperparameters, inputs and image produced a model."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import aws_arguments
from .guard import guarded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="S3 URI of a model.tar.gz")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    aws_arguments(parser)


@guarded
def run(args: argparse.Namespace) -> str:
    import boto3

    from ..tools import compare
    from ..tools import sagemaker_search as search

    session = boto3.Session(region_name=args.region, profile_name=args.profile)
    found = search.lineage(session.client("sagemaker"), session.client("ecr"), args.model)
    return compare.as_json([found]) if args.format == "json" else _as_text(found)


def _as_text(found: dict[str, Any]) -> str:
    lines = [f"{key}: {found[key]}" for key in found if not isinstance(found[key], dict)]
    for key in ("inputs", "hyperparameters", "metrics", "tags"):
        lines.append(f"{key}:")
        lines += [f"  {name}: {value}" for name, value in found[key].items()]
    return "\n".join(lines) + "\n"
