"""`smcluster`: the tools around the `train` entrypoint.

The commands are a table (`COMMANDS`: name and one line of help); the module of the same name
in this package (`launch-training` → `launch_training.py`) owns the command's arguments
(`add_arguments`) and its work (`run`). Only the command being run is imported, and a command
imports what it needs when it runs, so `smcluster --help` and `smcluster <command> --help`
answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence

from ..version import __version__

COMMANDS: dict[str, str] = {
    "hyperparameters": "the hyperparameter table",
    "metric-definitions": "JSON metric_definitions for an Estimator or Tuner",
    "tuning-ranges": "objective and suggested tuning ranges",
    "predict": "assign new rows with a fitted model",
    "runs": "leaderboard of tracked runs in an MLflow store",
    "launch-training": "start a SageMaker training job",
    "launch-tuning": "start a SageMaker tuning job",
    "leaderboard": "this image's SageMaker training jobs, filtered and ranked (Search)",
    "lineage": "which job, hyperparameters, inputs and image produced a model",
    "tuning-report": "one interactive HTML page about tuning studies, overlaid",
    "compare-jobs": "leaderboard of SageMaker training jobs",
    "tune-local": "Optuna study running `train` per trial",
    "demo-data": "write a demo /opt/ml-shaped tree",
}


def command_module(name: str) -> str:
    return f"{__name__}.{name.replace('-', '_')}"


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Every command with its help line; the arguments of the one `argv` names (all with
    `argv=None`, for tests and documentation)."""
    parser = argparse.ArgumentParser(prog="smcluster", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"smcluster {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    named = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        if argv is None or name == named:
            module = importlib.import_module(command_module(name))
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
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
    given = sys.argv[1:] if argv is None else argv
    args = build_parser(given).parse_args(given)
    from ..contract.memory import address_space_refusal

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
    from ..contract.failure import known_failure
    from ..contract.secrets import redact  # a reason may quote a tracking URI's credentials

    known = known_failure(
        exc, f"running smcluster {command}", memory_fix=COMMAND_MEMORY_FIX, paths_as_given=True
    )
    if known is not None:
        print(redact(known.reason()), file=sys.stderr)
        return known.exit_code
    if os.environ.get("SMCLUSTER_DEBUG"):
        traceback.print_exception(exc)
    print(
        redact(
            f"InternalError: smcluster {command} failed with {type(exc).__name__}: {exc}. "
            "This is a bug in smcluster or an unsupported input; rerun with SMCLUSTER_DEBUG=1 "
            "for the traceback and report it."
        ),
        file=sys.stderr,
    )
    return 1
