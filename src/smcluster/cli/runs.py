"""`smcluster runs`: the leaderboard of the runs tracked in an MLflow store."""

from __future__ import annotations

import argparse
import sys

from ..contract.metrics import OBJECTIVE
from ..contract.secrets import redact


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, help="job base dir, mlflow.db, or tracking URI")
    parser.add_argument("--metric", default=OBJECTIVE, help=f"sort key (default {OBJECTIVE})")
    parser.add_argument("--experiment", help="only this experiment (default: all)")
    parser.add_argument("--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    from ..contract.errors import SmclusterError
    from ..tracking.leaderboard import format_json, format_table, leaderboard
    from ..tracking.store import store_uri

    try:
        rows = leaderboard(store_uri(args.store), args.metric, args.experiment)
    except SmclusterError as exc:
        print(exc.reason(), file=sys.stderr)
        return 2
    text = format_json(rows) if args.format == "json" else format_table(rows, args.metric)
    print(redact(text), end="")  # runs recorded before redaction may hold a URI's credentials
    return 0
