"""`smcluster predict`: new rows assigned by a fitted model (`tools/predict.py`)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, help="model directory or model.tar.gz of a completed job"
    )
    parser.add_argument(
        "--input", required=True, help="CSV or Parquet file of new rows; - reads standard input"
    )
    parser.add_argument(
        "--output",
        help="file to write: Parquet if its name ends in .parquet, gzipped CSV in .gz, else CSV "
        "(default: CSV on standard output)",
    )


def run(args: argparse.Namespace) -> int:
    from ..tools.predict import predict

    return predict(args)
