"""The `train` entrypoint SageMaker runs (`docker run <image> train`).

Answers `--help` and `--version` without touching anything. Otherwise it installs the SIGTERM
handler first, then imports and runs the job in a worker thread, so that the main thread can
answer SIGTERM (StopTrainingJob, MaxRuntime, spot interruption) at once, even while the job
imports its libraries or a long native call (numba, BLAS, CUDA) holds the worker: it writes the
failure file, removes the staging folder and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

from .contract.failure import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_OUT_OF_MEMORY,
    EXIT_PLATFORM,
    exit_code_for,
    exit_now,
    is_out_of_memory,
    reserve_failure,
    stopped_reason,
    write_failure,
)
from .contract.paths import JobPaths
from .contract.secrets import redact_logging
from .version import __version__

if TYPE_CHECKING:
    from .job import Job

USAGE = f"""\
usage: train [--help | --version]

smcluster {__version__}: the SageMaker training entrypoint. Reads the SageMaker-shaped tree
under $SAGEMAKER_BASE_DIR (default /opt/ml): input/config/hyperparameters.json,
inputdataconfig.json, resourceconfig.json and the channels under input/data/ (train, and
optionally validation); SM_CHANNEL_<NAME>, SM_MODEL_DIR and SM_OUTPUT_DATA_DIR override folders.
Writes the model directory (manifest.json last) and prints one metric line per score; on
failure writes the reason to output/failure.

Settings are hyperparameters, never arguments: `smcluster hyperparameters` lists them.
Exit codes: 0 done, 2 bad input, 3 out of memory, 4 disk or permission, 1 internal error,
143 stopped (SIGTERM), 130 interrupted (SIGINT).
"""


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    level = os.environ.get("SMCLUSTER_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)
    redact_logging(LOG_FORMAT)  # a URI's credentials never reach the log (CloudWatch)
    for noisy in ("numba", "matplotlib", "urllib3", "botocore", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Entrypoint:
    """Holds the job once the worker has built it, so that SIGTERM can stop it at any time."""

    def __init__(self, paths: JobPaths) -> None:
        self.paths = paths
        self.started = time.perf_counter()
        self.job: Job | None = None
        self.exit_code: int | None = None

    def work(self) -> None:
        try:
            from .job import Job  # the heavy imports, after the signal handler is in place
        except BaseException as exc:  # an import that fails (memory, a broken install)
            self.fail_to_start(exc)
            return
        self.job = Job(self.paths)
        self.job.run_guarded()
        self.exit_code = self.job.exit_code

    def fail_to_start(self, exc: BaseException) -> None:
        if is_out_of_memory(exc):
            reason = (
                f"OutOfMemory: ran out of memory while importing the job's libraries "
                f"({type(exc).__name__}: {str(exc)[:200]}). Fix: use a larger instance."
            )
            self.exit_code = EXIT_OUT_OF_MEMORY
        else:
            reason = (
                f"InternalError: the job's libraries failed to import ({type(exc).__name__}: "
                f"{exc}). Fix: rebuild the image (or reinstall the package); the traceback is "
                "in the log."
            )
            logging.getLogger("smcluster").error("import failed", exc_info=exc)
            self.exit_code = EXIT_INTERNAL
        logging.getLogger("smcluster").error("%s", reason)
        write_failure(self.paths, reason)

    def stop(self, signum: int, _frame: FrameType | None = None) -> None:
        if self.job is not None:
            self.job.stop(signum)  # exits
        reason = stopped_reason(
            signal.Signals(signum).name, "start", time.perf_counter() - self.started
        )
        write_failure(self.paths, reason)
        logging.getLogger("smcluster").error("%s", reason)
        exit_now(exit_code_for(signum))


def main(argv: list[str] | None = None) -> int:
    """Console script `train`. Extra arguments (SageMaker passes none, or `train`) are refused."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in {"-h", "--help"}:
        print(USAGE, end="")
        return 0
    if args == ["--version"]:
        print(f"smcluster {__version__}")
        return 0
    configure_logging()
    paths = JobPaths.from_env()
    if args and args != ["train"]:
        reason = (
            f"ArgumentError: `train` takes no arguments, got {' '.join(args)!r}. "
            "Fix: pass settings as hyperparameters (hyperparameters.json); `train --help` "
            "says more."
        )
        logging.getLogger("smcluster").error("%s", reason)
        write_failure(paths, reason)
        return EXIT_BAD_INPUT
    entrypoint = Entrypoint(paths)
    signal.signal(signal.SIGTERM, entrypoint.stop)
    signal.signal(signal.SIGINT, entrypoint.stop)  # Ctrl-C in `docker run -it` or a shell
    unwritable = reserve_failure(paths)
    if unwritable is not None:
        logging.getLogger("smcluster").error("%s", unwritable)  # the log is all that is left
        return EXIT_PLATFORM
    worker = threading.Thread(target=entrypoint.work, name="smcluster-job", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(timeout=0.2)  # short joins keep the main thread responsive to signals
    exit_now(EXIT_INTERNAL if entrypoint.exit_code is None else entrypoint.exit_code)


if __name__ == "__main__":
    sys.exit(main())
