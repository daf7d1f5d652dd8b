"""`smcluster`: the tools around the `train` entrypoint.

Building the parser imports nothing heavy; each command imports what it needs when it runs, so
`smcluster --help` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable

from .contract.metrics import METRICS, OBJECTIVE, SPLITS, metric_name
from .contract.secrets import redact
from .version import __version__

Command = Callable[[argparse.Namespace], int]


def _lazy(module: str, name: str) -> Command:
    """A command whose code is imported only when it runs."""

    def run(args: argparse.Namespace) -> int:
        command: Command = getattr(importlib.import_module(module, __package__), name)
        return command(args)

    return run


def _hyperparameters(args: argparse.Namespace) -> int:
    from .contract.schema import SCHEMA

    if args.format == "json":
        print(json.dumps(SCHEMA.table_rows(), indent=2))
    else:
        print(SCHEMA.markdown_table(), end="")
    return 0


def _metric_definitions(_: argparse.Namespace) -> int:
    from .output.metric_lines import metric_definitions

    print(json.dumps(metric_definitions(), indent=2))
    return 0


def _tuning_ranges(_: argparse.Namespace) -> int:
    from .contract.metrics import objective_direction
    from .contract.schema import SCHEMA

    payload = {
        "objective_metric_name": OBJECTIVE,
        "objective_type": objective_direction(),
        "hyperparameter_ranges": SCHEMA.tuning_ranges(),
    }
    print(json.dumps(payload, indent=2))
    return 0


def _runs(args: argparse.Namespace) -> int:
    from .contract.errors import SmclusterError
    from .tracking.leaderboard import format_json, format_table, leaderboard
    from .tracking.store import store_uri

    try:
        rows = leaderboard(store_uri(args.store), args.metric, args.experiment)
    except SmclusterError as exc:
        print(exc.reason(), file=sys.stderr)
        return 2
    text = format_json(rows) if args.format == "json" else format_table(rows, args.metric)
    print(redact(text), end="")  # runs recorded before redaction may hold a URI's credentials
    return 0


def _whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` (up to `high`), refused with exit 2."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{value} is above {high}")
        return value

    return parse


_positive_int = _whole_number(1)


def _range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--range",
        action="append",
        default=[],
        metavar="NAME=LOW:HIGH[:SCALING] | NAME=A,B,C",
        help="override a schema tuning range",
    )
    parser.add_argument("--tune", help="comma-separated names to tune (default: all ranges)")


def _hp_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hp", action="append", default=[], metavar="NAME=VALUE", help="fixed hyperparameter"
    )


def _aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: the boto3 default)")
    parser.add_argument("--profile", help="AWS profile (default: the boto3 default)")


def _job_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", required=True, help="ECR image URI (see `make push`)")
    parser.add_argument("--role", required=True, help="SageMaker execution role ARN")
    parser.add_argument("--train", required=True, help="S3 URI of the train channel")
    parser.add_argument("--validation", help="S3 URI of the validation channel")
    parser.add_argument("--instance-type", default="ml.g5.2xlarge")
    parser.add_argument("--output-path", required=True, help="S3 URI for model.tar.gz")
    parser.add_argument("--base-job-name", help="job name prefix (default smcluster)")
    parser.add_argument(
        "--max-run", type=_positive_int, default=24 * 60 * 60, help="seconds (default 1 d)"
    )
    parser.add_argument("--volume-size", type=_positive_int, default=50, help="GB (default 50)")
    parser.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="tag the job"
    )
    _hp_argument(parser)
    _aws_arguments(parser)


def _add_tool_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tools = ".tools.commands"
    training = commands.add_parser("launch-training", help="start a SageMaker training job")
    _job_arguments(training)
    spot = training.add_argument_group("managed spot training")
    spot.add_argument("--spot", action="store_true", help="run on spot capacity")
    spot.add_argument(
        "--max-wait", type=_positive_int, help="seconds, >= --max-run (default max-run + 1 h)"
    )
    spot.add_argument("--checkpoint-s3-uri", help="default: <output-path>/<job name>/checkpoints")
    training.set_defaults(run=_lazy(tools, "launch_training"))

    tuning = commands.add_parser("launch-tuning", help="start a SageMaker tuning job")
    _job_arguments(tuning)
    _range_arguments(tuning)
    tuning.add_argument(
        "--max-jobs", type=_positive_int, help="default 20; Grid: every combination"
    )
    tuning.add_argument("--max-parallel-jobs", type=_positive_int, default=2)
    tuning.add_argument("--max-runtime", type=_positive_int, help="seconds for the tuning job")
    tuning.add_argument(
        "--strategy", choices=("Bayesian", "Random", "Hyperband", "Grid"), default="Bayesian"
    )
    tuning.add_argument("--random-seed", type=int, help="the tuner's seed (repeatable searches)")
    tuning.add_argument("--early-stopping", choices=("Off", "Auto"), default="Off")
    done = tuning.add_argument_group("completion criteria")
    done.add_argument("--target-objective", type=float, help="stop once a job reaches it")
    done.add_argument(
        "--stop-after-jobs-not-improving", type=_positive_int, metavar="N",
        help="stop after N jobs without a new best",
    )  # fmt: skip
    done.add_argument(
        "--complete-on-convergence", action="store_true", help="stop when the tuner converges"
    )
    warm = tuning.add_argument_group("warm start")
    warm.add_argument("--warm-start", metavar="JOB[,JOB...]", help="1 to 5 parent tuning jobs")
    warm.add_argument(
        "--warm-start-type",
        choices=("IdenticalDataAndAlgorithm", "TransferLearning"),
        default="IdenticalDataAndAlgorithm",
    )
    band = tuning.add_argument_group("Hyperband (the objective is reported once per job)")
    band.add_argument("--hyperband-min-resource", type=_positive_int)
    band.add_argument("--hyperband-max-resource", type=_positive_int)
    tuning.set_defaults(run=_lazy(tools, "launch_tuning"))

    board = commands.add_parser(
        "leaderboard", help="this image's SageMaker training jobs, filtered and ranked (Search)"
    )
    board.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    board.add_argument("--name-contains", help="only jobs whose name contains this")
    board.add_argument("--experiment", help="only jobs of this SageMaker experiment")
    board.add_argument(
        "--where", action="append", default=[], metavar="METRIC>=VALUE", help="a threshold"
    )
    board.add_argument("--sort", default=OBJECTIVE, help=f"metric to rank by (default {OBJECTIVE})")
    board.add_argument("--limit", type=_positive_int, help="rows to show")
    board.add_argument("--format", choices=("table", "json"), default="table")
    _aws_arguments(board)
    board.set_defaults(run=_lazy(tools, "sagemaker_leaderboard"))

    trace = commands.add_parser(
        "lineage", help="which job, hyperparameters, inputs and image produced a model"
    )
    trace.add_argument("model", help="S3 URI of a model.tar.gz")
    trace.add_argument("--format", choices=("text", "json"), default="text")
    _aws_arguments(trace)
    trace.set_defaults(run=_lazy(tools, "lineage"))

    report = commands.add_parser(
        "tuning-report", help="one interactive HTML page about tuning studies, overlaid"
    )
    report.add_argument(
        "--tuning-job", action="append", default=[], help="a SageMaker tuning job (repeatable)"
    )
    report.add_argument(
        "--study", action="append", default=[], help="a tune-local --out folder (repeatable)"
    )
    report.add_argument("--out", default="tuning-report.html", help="HTML file to write")
    _aws_arguments(report)
    report.set_defaults(run=_lazy(tools, "tuning_report"))

    jobs = commands.add_parser("compare-jobs", help="leaderboard of SageMaker training jobs")
    which = jobs.add_mutually_exclusive_group(required=True)
    which.add_argument("--tuning-job", help="a tuning job: its training jobs, best first")
    which.add_argument("--training-jobs", help="comma-separated training job names")
    jobs.add_argument(
        "--objective",
        default=OBJECTIVE,
        choices=[metric_name(split, spec.name) for split in SPLITS for spec in METRICS],
        help=f"metric for --training-jobs (default {OBJECTIVE})",
    )
    jobs.add_argument("--format", choices=("table", "json"), default="table")
    _aws_arguments(jobs)
    jobs.set_defaults(run=_lazy(tools, "compare_jobs"))

    local = commands.add_parser("tune-local", help="Optuna study running `train` per trial")
    local.add_argument("--data", required=True, help="folder of CSV/Parquet files (train)")
    local.add_argument("--validation", help="folder of CSV/Parquet files (validation)")
    local.add_argument(
        "--trials", type=_positive_int, default=20, help="Optuna trials (default 20)"
    )
    local.add_argument(
        "--no-defaults-trial",
        action="store_true",
        help="skip the first run, which leaves every tuned name at its default",
    )
    local.add_argument("--out", required=True, help="new folder for trial-NNN/ and study.json")
    _hp_argument(local)
    _range_arguments(local)
    local.set_defaults(run=_lazy(tools, "tune_local"))

    demo = commands.add_parser("demo-data", help="write a demo /opt/ml-shaped tree")
    demo.add_argument("--out", required=True, help="base directory to create (like /opt/ml)")
    demo.add_argument("--rows", type=_positive_int, default=20_000)
    demo.add_argument("--files", type=_positive_int, default=3)
    demo.add_argument("--format", choices=("csv", "parquet"), default="csv")
    # numpy's generators take seeds of 0 to 2**32 - 1 (pandas' sample too)
    demo.add_argument("--seed", type=_whole_number(0, 2**32 - 1), default=7)
    demo.add_argument(
        "--validation-rows", type=_whole_number(0), default=0, help="0: no validation channel"
    )
    demo.set_defaults(run=_lazy(tools, "demo_data"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smcluster", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"smcluster {__version__}")
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

    predict = commands.add_parser("predict", help="assign new rows with a fitted model")
    predict.add_argument(
        "--model", required=True, help="model directory or model.tar.gz of a completed job"
    )
    predict.add_argument(
        "--input", required=True, help="CSV or Parquet file of new rows; - reads standard input"
    )
    predict.add_argument(
        "--output",
        help="file to write: Parquet if its name ends in .parquet, gzipped CSV in .gz, else CSV "
        "(default: CSV on standard output)",
    )
    predict.set_defaults(run=_lazy(".tools.predict", "predict"))

    runs = commands.add_parser("runs", help="leaderboard of tracked runs in an MLflow store")
    runs.add_argument("--store", required=True, help="job base dir, mlflow.db, or tracking URI")
    runs.add_argument("--metric", default=OBJECTIVE, help=f"sort key (default {OBJECTIVE})")
    runs.add_argument("--experiment", help="only this experiment (default: all)")
    runs.add_argument("--format", choices=("table", "json"), default="table")
    runs.set_defaults(run=_runs)

    _add_tool_commands(commands)
    return parser


SIGPIPE_EXIT = 128 + 13  # what a shell reports for a tool stopped by a closed pipe (SIGPIPE)


def closed_pipe() -> int:
    """The reader of standard output has gone (`smcluster ... | head -1`): stop quietly. As the
    Python docs advise (signal, "Note on SIGPIPE"), standard output is pointed at devnull, so
    that the interpreter's last flush of what is still buffered cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return SIGPIPE_EXIT


# What a command's user can do when memory runs out (a job's Fix is `MEMORY_FIX`).
COMMAND_MEMORY_FIX = (
    "free memory or use a machine with more; for predict, assign the rows in smaller files."
)


class Terminated(BaseException):
    """SIGTERM, raised where the command is, so that its cleanup runs (a file written whole is
    removed unfinished, `output.atomic.write_whole`) instead of the process dying mid-write."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Run one command; every anticipated failure is its reason with a Fix and its exit code
    (2 bad input, 3 out of memory, 4 disk or permission, 141 output pipe closed), never a
    traceback; SMCLUSTER_DEBUG=1 adds the traceback of an unexpected one."""
    args = build_parser().parse_args(argv)
    from .contract.memory import address_space_refusal

    refusal = address_space_refusal(f"smcluster {args.command}")
    if refusal is not None:  # before numpy and scipy load: below it OpenBLAS hangs
        print(refusal, file=sys.stderr)
        return 3

    signal.signal(signal.SIGTERM, _terminated)  # a command may set its own (tune-local)

    try:
        code: int = args.run(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at the interpreter's exit
    except BrokenPipeError:
        return closed_pipe()
    except KeyboardInterrupt:
        print(f"smcluster {args.command}: interrupted (Ctrl-C).", file=sys.stderr)
        return 130
    except Terminated:
        print(
            f"Stopped: smcluster {args.command} received SIGTERM before it finished; no file it "
            "was writing is left half-written. Run it again to get its output.",
            file=sys.stderr,
        )
        return 128 + signal.SIGTERM
    except Exception as exc:
        return _failed(args.command, exc)
    return code


def _failed(command: str, exc: Exception) -> int:
    """The reason and exit code of a known cause (`known_failure`: smcluster's own errors,
    memory however a library said it, the machine's refusals, paths that cannot be used);
    anything else an internal error, exit 1."""
    from .contract.failure import known_failure

    known = known_failure(
        exc, f"running smcluster {command}", memory_fix=COMMAND_MEMORY_FIX, paths_as_given=True
    )
    if known is not None:
        print(known.reason(), file=sys.stderr)
        return known.exit_code
    if os.environ.get("SMCLUSTER_DEBUG"):
        traceback.print_exception(exc)
    print(
        f"InternalError: smcluster {command} failed with {type(exc).__name__}: {exc}. "
        "This is a bug in smcluster or an unsupported input; rerun with SMCLUSTER_DEBUG=1 "
        "for the traceback and report it.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
