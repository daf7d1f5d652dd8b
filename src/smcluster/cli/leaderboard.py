"""`smcluster leaderboard`: this image's SageMaker training jobs, filtered and ranked (Search)."""

from __future__ import annotations

import argparse

from ..contract.metrics import OBJECTIVE
from .arguments import aws_arguments, positive_int
from .guard import guarded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--name-contains", help="only jobs whose name contains this")
    parser.add_argument("--experiment", help="only jobs of this SageMaker experiment")
    parser.add_argument(
        "--where", action="append", default=[], metavar="METRIC>=VALUE", help="a threshold"
    )
    parser.add_argument(
        "--sort", default=OBJECTIVE, help=f"metric to rank by (default {OBJECTIVE})"
    )
    parser.add_argument("--limit", type=positive_int, help="rows to show")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    aws_arguments(parser)


@guarded
def run(args: argparse.Namespace) -> str:
    from ..tools import compare, launch
    from ..tools import sagemaker_search as search

    search.check_metric(args.sort)
    where = [search.parse_threshold(text) for text in args.where]
    tags = launch.parse_assignments(args.tag, "--tag")
    client = compare.sagemaker_client(args.region, args.profile)
    rows = search.search_jobs(client, tags, args.name_contains, args.experiment)
    ranked = search.leaderboard(rows, args.sort, where, args.limit)
    if args.format == "json":
        return compare.as_json(ranked)
    return compare.as_table(ranked, args.sort) + f"{len(ranked)} of {len(rows)} jobs found\n"
