"""The job's own process, started by `train` (`python -m smcluster.job_process`).

It installs the SIGTERM handler first, then imports and runs the job in a worker thread, so that
the main thread can answer SIGTERM (StopTrainingJob, MaxRuntime, spot interruption, passed on by
`train`) at once, even while the job imports its libraries or a long native call (numba, BLAS,
CUDA) holds the worker: it writes the failure file, removes the staging folder and exits.
It dies with `train` (Linux's parent-death signal), so killing `train` ends the job too.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

from .contract.failure import (
    EXIT_INTERNAL,
    EXIT_OUT_OF_MEMORY,
    START_UP,
    STOP_SIGNALS,
    exit_code_for,
    exit_now,
    is_out_of_memory,
    known_failure,
    stopped_reason,
    write_failure,
)
from .contract.logs import configure_logging
from .contract.memory import pressure
from .contract.paths import JobPaths

if TYPE_CHECKING:
    from .job import Job

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
OUT_OF_MEMORY_GRACE_S = 10.0
END_GRACE_S = 70.0  # tracking's 60 s limit to close its run, and some

log = logging.getLogger("smcluster")


class Entrypoint:
    """Holds the job once the worker has built it, so that SIGTERM can stop it at any time."""

    def __init__(self, paths: JobPaths) -> None:
        self.paths = paths
        self.started = time.perf_counter()
        self.job: Job | None = None
        self.exit_code: int | None = None
        self.decided_at: float | None = None
        self.stopping = False

    def overdue(self) -> bool:
        """True when the job decided its outcome long ago and its thread still has not ended:
        under a memory limit a thread that cannot start hangs the one that started it (CPython
        waits for it without a limit), so the outcome, already written, is the one to exit with.
        Tracking's own limit (60 s) comes first; out of memory, a lost job's run is closed by
        the tracker's process itself."""
        code = self.job.exit_code if self.job is not None else None
        if code is None:
            return False
        self.decided_at = self.decided_at or time.perf_counter()
        grace = OUT_OF_MEMORY_GRACE_S if code == EXIT_OUT_OF_MEMORY else END_GRACE_S
        if time.perf_counter() - self.decided_at < grace:
            return False
        self.exit_code = code
        log.warning("the job's thread did not end %.0fs after its outcome; exiting", grace)
        return True

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
        reached = None if is_out_of_memory(exc) else pressure()
        known = known_failure(exc, "importing the job's libraries", reached=reached)
        if known is not None:
            reason, self.exit_code = known.reason(), known.exit_code
        else:
            reason = (
                f"InternalError: the job's libraries failed to import ({type(exc).__name__}: "
                f"{exc}). Fix: rebuild the image (or reinstall the package); the traceback is "
                "in the log."
            )
            log.error("import failed", exc_info=exc)
            self.exit_code = EXIT_INTERNAL
        log.error("%s", reason)
        write_failure(self.paths, reason)

    def stop(self, signum: int, _frame: FrameType | None = None) -> None:
        if self.stopping:  # a second signal runs this handler inside the first: let it finish
            return
        self.stopping = True
        if self.job is not None:
            self.job.stop(signum)  # exits
        reason = stopped_reason(
            signal.Signals(signum).name, START_UP, time.perf_counter() - self.started
        )
        write_failure(self.paths, reason)
        log.error("%s", reason)
        exit_now(exit_code_for(signum))


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when `train` dies (Linux only; elsewhere `train` waits for it)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # `train` died before the request took effect
        os._exit(exit_code_for(signal.SIGKILL))


def main(argv: list[str]) -> int:
    """`python -m smcluster.job_process <train's pid>`: run the job the environment describes."""
    if len(argv) == 1 and argv[0].isdigit():
        die_with_parent(int(argv[0]))
    configure_logging()
    entrypoint = Entrypoint(JobPaths.from_env())
    for signum in STOP_SIGNALS:
        signal.signal(signum, entrypoint.stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # `train` blocked them to start us
    worker = threading.Thread(target=entrypoint.work, name="smcluster-job", daemon=True)
    worker.start()
    while worker.is_alive() and not entrypoint.overdue():
        worker.join(timeout=0.2)  # short joins keep the main thread responsive to signals
    exit_now(EXIT_INTERNAL if entrypoint.exit_code is None else entrypoint.exit_code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
