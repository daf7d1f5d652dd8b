"""`smcluster runs`: the leaderboard of the runs tracked in an MLflow store."""

from __future__ import annotations

import argparse

from ..contract.metrics import OBJECTIVE
from .guard import guarded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, help="job base dir, mlflow.db, or tracking URI")
    parser.add_argument("--metric", default=OBJECTIVE, help=f"sort key (default {OBJECTIVE})")
    parser.add_argument("--experiment", help="only this experiment (default: all)")
    parser.add_argument("--format", choices=("table", "json"), default="table")


@guarded
def run(args: argparse.Namespace) -> str:
    from ..tracking.leaderboard import format_json, format_table, leaderboard
    from ..tracking.store import store_uri

    rows = leaderboard(store_uri(args.store), args.metric, args.experiment)
    return format_json(rows) if args.format == "json" else format_table(rows, args.metric)
