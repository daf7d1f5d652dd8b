"""`smcluster tune-local`: an Optuna study on this machine, one `train` run per trial."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..contract.errors import StudyError
from .arguments import hp_argument, positive_int, range_arguments
from .guard import guarded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder of CSV/Parquet files (train)")
    parser.add_argument("--validation", help="folder of CSV/Parquet files (validation)")
    parser.add_argument(
        "--trials", type=positive_int, default=20, help="Optuna trials (default 20)"
    )
    parser.add_argument(
        "--no-defaults-trial",
        action="store_true",
        help="skip the first run, which leaves every tuned name at its default",
    )
    parser.add_argument("--out", required=True, help="new folder for trial-NNN/ and study.json")
    hp_argument(parser)
    range_arguments(parser)


@guarded
def run(args: argparse.Namespace) -> str:
    from ..tools import compare, launch
    from ..tools.tune_local import tune_local as run_study

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
