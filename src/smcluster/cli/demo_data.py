"""`smcluster demo-data`: a SageMaker-shaped /opt/ml tree of synthetic customers."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import positive_int, whole_number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="base directory to create (like /opt/ml)")
    parser.add_argument("--rows", type=positive_int, default=20_000)
    parser.add_argument("--files", type=positive_int, default=3)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    # numpy's generators take seeds of 0 to 2**32 - 1 (pandas' sample too)
    parser.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=7)
    parser.add_argument(
        "--validation-rows", type=whole_number(0), default=0, help="0: no validation channel"
    )


def run(args: argparse.Namespace) -> int:
    from ..tools.demo import write_job_tree

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
