"""`smcluster hyperparameters`: the schema's table, as the README shows it, or as JSON."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")


def run(args: argparse.Namespace) -> int:
    from ..contract.schema import SCHEMA

    if args.format == "json":
        print(json.dumps(SCHEMA.table_rows(), indent=2))
    else:
        print(SCHEMA.markdown_table(), end="")
    return 0
