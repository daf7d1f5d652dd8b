"""`smcluster`: the tools around the `train` entrypoint."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .launch_cli import add_launch_commands
from .metrics import OBJECTIVE, metric_definitions, objective_direction
from .schema import SCHEMA


def _hyperparameters(args: argparse.Namespace) -> int:
    if args.format == "json":
        print(json.dumps(SCHEMA.table_rows(), indent=2))
    else:
        print(SCHEMA.markdown_table(), end="")
    return 0


def _metric_definitions(_: argparse.Namespace) -> int:
    print(json.dumps(metric_definitions(), indent=2))
    return 0


def _tuning_ranges(_: argparse.Namespace) -> int:
    payload = {
        "objective_metric_name": OBJECTIVE,
        "objective_type": objective_direction(),
        "hyperparameter_ranges": SCHEMA.tuning_ranges(),
    }
    print(json.dumps(payload, indent=2))
    return 0


def _demo_data(args: argparse.Namespace) -> int:
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


def _predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from .model import load_model

    model = load_model(args.model)
    source = Path(args.input)
    frame = pd.read_parquet(source) if source.suffix == ".parquet" else pd.read_csv(source)
    frame = frame.assign(cluster=model.predict(frame))
    frame.to_csv(args.output, index=False) if args.output else frame.to_csv(sys.stdout, index=False)
    return 0


def _runs(args: argparse.Namespace) -> int:
    from .errors import SmclusterError
    from .tracking.leaderboard import format_json, format_table, leaderboard, store_uri

    try:
        rows = leaderboard(store_uri(args.store), args.metric, args.experiment)
    except SmclusterError as exc:
        print(exc.reason(), file=sys.stderr)
        return 2
    print(format_json(rows) if args.format == "json" else format_table(rows, args.metric), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smcluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    table = commands.add_parser("hyperparameters", help="the hyperparameter table")
    table.add_argument("--format", choices=("markdown", "json"), default="markdown")
    table.set_defaults(run=_hyperparameters)

    definitions = commands.add_parser(
        "metric-definitions", help="JSON metric_definitions for an Estimator or Tuner"
    )
    definitions.set_defaults(run=_metric_definitions)

    ranges = commands.add_parser("tuning-ranges", help="objective and suggested tuning ranges")
    ranges.set_defaults(run=_tuning_ranges)

    demo = commands.add_parser("demo-data", help="write a demo /opt/ml-shaped tree")
    demo.add_argument("--out", required=True, help="base directory to create (like /opt/ml)")
    demo.add_argument("--rows", type=int, default=20_000)
    demo.add_argument("--files", type=int, default=3)
    demo.add_argument("--format", choices=("csv", "parquet"), default="csv")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--validation-rows", type=int, default=0)
    demo.set_defaults(run=_demo_data)

    predict = commands.add_parser("predict", help="assign new rows with a fitted model")
    predict.add_argument("--model", required=True, help="model directory of a completed job")
    predict.add_argument("--input", required=True, help="CSV or Parquet file of new rows")
    predict.add_argument("--output", help="CSV to write (default: standard output)")
    predict.set_defaults(run=_predict)

    runs = commands.add_parser("runs", help="leaderboard of tracked runs in an MLflow store")
    runs.add_argument("--store", required=True, help="job base dir, mlflow.db, or tracking URI")
    runs.add_argument("--metric", default=OBJECTIVE, help=f"sort key (default {OBJECTIVE})")
    runs.add_argument("--experiment", help="only this experiment (default: all)")
    runs.add_argument("--format", choices=("table", "json"), default="table")
    runs.set_defaults(run=_runs)

    add_launch_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
