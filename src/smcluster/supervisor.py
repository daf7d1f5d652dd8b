"""`train` watches the job's process, so that a job that dies without a word still gets a reason.

Native code can end a job before any of its Python runs: OpenBLAS calls `exit(1)` when an
allocation fails, the kernel's out-of-memory killer sends SIGKILL, a library segfaults. The
failure file would then hold only the reserved 'Killed' text and the exit code would say
nothing. So `train` runs the job in a child process (`smcluster.job_process`), passes SIGTERM and
SIGINT on to it, copies its log through while keeping the last 64 KiB, and when the child ends
without having written a reason, writes one from the evidence: a stop it passed on, memory (an
out-of-memory line in the log, SIGKILL, the cgroup's out-of-memory kills), else a crash, with
the stage the log was in and its last native line. The model directory is then left as a run
that never started: the staging folder removed, no manifest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import BinaryIO

from .contract.failure import (
    EXIT_INTERNAL,
    EXIT_OUT_OF_MEMORY,
    KILLED_REASON,
    MEMORY_FIX,
    OUT_OF_MEMORY_MARKERS,
    START_UP,
    STOP_SIGNALS,
    exit_code_for,
    exit_now,
    job_position,
    stopped_reason,
    write_failure,
)
from .contract.memory import CgroupMemory, address_space_refusal, cgroup_pressure
from .contract.paths import JobPaths
from .output.bundle import MANIFEST_FILE

TAIL_BYTES = 64 * 1024
LATE_OUTPUT_S = 5.0  # how long a process the job left (the tracker's) may go on writing
# "2026-12-03 17:15:25,343 INFO smcluster.stage: stage reduce_umap: started"
STAGE_EVENT = re.compile(r" smcluster\.stage: stage (\S+): (started|done)\b", re.MULTILINE)
OUR_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")

log = logging.getLogger("smcluster")


def job_command() -> list[str]:
    return [sys.executable, "-m", "smcluster.job_process", str(os.getpid())]


class Supervisor:
    """Runs one job process and answers for it."""

    def __init__(self, paths: JobPaths, command: list[str] | None = None) -> None:
        self.paths = paths
        self.command = command or job_command()
        self.started = time.perf_counter()
        self.memory_at_start = CgroupMemory.read()
        self.child: subprocess.Popen[bytes] | None = None
        self.passed_on: int | None = None  # the first stop signal given to the child
        self.tail = bytearray()

    def run(self) -> int:
        refusal = address_space_refusal("the job")
        if refusal is not None:
            log.error("%s", refusal)
            write_failure(self.paths, refusal)
            return EXIT_OUT_OF_MEMORY
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.on_signal)
        # Blocked while the child starts (it unblocks them once its handler is in place), so a
        # stop is either answered here before there is a child, or passed on to it.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            # Its own session: Ctrl-C reaches `train` only, which passes it on exactly once.
            self.child = subprocess.Popen(
                self.command, stderr=subprocess.PIPE, start_new_session=True
            )
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        self.relay()
        return self.outcome(self.child.wait())

    def on_signal(self, signum: int, _frame: FrameType | None = None) -> None:
        if self.child is None:  # the child never started: nothing else will say so
            reason = stopped_reason(
                signal.Signals(signum).name, START_UP, time.perf_counter() - self.started
            )
            write_failure(self.paths, reason)
            log.error("%s", reason)
            exit_now(exit_code_for(signum))
        if self.passed_on is not None:
            return  # one stop is enough: the child is stopping (a second would nest its handler)
        self.passed_on = signum
        with contextlib.suppress(ProcessLookupError):  # it has just ended: `outcome` answers
            os.kill(self.child.pid, signum)

    def relay(self) -> None:
        """Copy the child's stderr to ours as it comes, until the child has ended and no one
        writes for a moment (a process it left, such as the tracker's, may hold the pipe)."""
        assert self.child is not None and self.child.stderr is not None
        source = self.child.stderr.fileno()
        sink = sys.stderr.buffer if sys.stderr is not None else None  # None: fd 2 was closed
        ended_at: float | None = None
        while True:
            ready, _, _ = select.select([source], [], [], 0.2)
            if ready:
                chunk = os.read(source, 65536)
                if not chunk:
                    return
                self.tail = (self.tail + chunk)[-TAIL_BYTES:]
                sink = _copy(chunk, sink)
            if self.child.poll() is not None:
                ended_at = ended_at or time.perf_counter()
                if not ready or time.perf_counter() - ended_at > LATE_OUTPUT_S:
                    return

    def outcome(self, returncode: int) -> int:
        """The exit code of `train`; writes a reason when the child ended without one."""
        code = returncode if returncode >= 0 else exit_code_for(-returncode)
        if returncode == 0 or not self._reason_missing():
            return code
        reason, code = self.explain(returncode)
        if (self.paths.model_dir / MANIFEST_FILE).exists():  # it died after publishing
            reason += f" The model in {self.paths.model_dir} was complete before that."
        else:
            self._clear_staging()
        log.error("%s", reason)
        write_failure(self.paths, reason)
        return code

    def explain(self, returncode: int) -> tuple[str, int]:
        """Why the child ended without a word, from the evidence it left."""
        text = self.tail.decode("utf-8", "replace")
        position = _position(STAGE_EVENT.findall(text))
        ended = (
            f"killed by {signal.Signals(-returncode).name}"
            if returncode < 0
            else f"exit status {returncode}"
        )
        if self.passed_on is not None and returncode in (-self.passed_on, 128 + self.passed_on):
            name = signal.Signals(self.passed_on).name
            elapsed = time.perf_counter() - self.started
            return stopped_reason(name, position, elapsed), exit_code_for(self.passed_on)
        native = native_lines(text)
        said = [line for line in native if is_memory_line(line)]
        evidence = cgroup_pressure(CgroupMemory.read(), self.memory_at_start)
        if said:
            evidence.insert(0, f"the log says {said[-1][:300]!r}")
        if returncode == -signal.SIGKILL and not evidence:
            evidence.append(
                "SIGKILL is what the kernel's out-of-memory killer sends when a container's "
                "memory is used up"
            )
        if evidence:
            return (
                f"OutOfMemory: the job process ended ({ended}) during {position} as memory "
                f"ran out: {'; '.join(evidence)}. Fix: {MEMORY_FIX}"
            ), EXIT_OUT_OF_MEMORY
        last = native[-1][:300] if native else "(nothing)"
        return (
            f"InternalError: the job process ended ({ended}) during {position} without a "
            f"reason; its last line from native code: {last!r}. This is a bug in smcluster or "
            "one of its libraries; the job log (CloudWatch) has the rest."
        ), EXIT_INTERNAL

    def _reason_missing(self) -> bool:
        """True when the failure file still holds only the reserved 'Killed' text."""
        try:
            with open(self.paths.failure_file, encoding="utf-8", errors="replace") as handle:
                return handle.read(len(KILLED_REASON)) == KILLED_REASON
        except OSError:
            return False

    def _clear_staging(self) -> None:
        """Leave the model directory as a run that never started."""
        from .output.model_dir import ModelDirWriter

        writer = ModelDirWriter(self.paths.model_dir)
        try:
            writer.start()
            writer.abort()
        except Exception as exc:  # the next run clears it; this one's reason matters more
            log.warning("could not clear the model directory's staging folder: %s", exc)
        finally:
            writer.release()


def _copy(chunk: bytes, sink: BinaryIO | None) -> BinaryIO | None:
    """Write the child's output to ours; a log nobody can read (a closed pipe, `2>/dev/full`)
    must not end the job: from then on the child's output is only kept for its tail."""
    if sink is None:
        return None
    try:
        sink.write(chunk)
        sink.flush()
    except (OSError, ValueError):
        return None
    return sink


def native_lines(text: str) -> list[str]:
    """The lines of the log that smcluster's logging did not write (a library's own words)."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not OUR_LOG_LINE.match(line) and not line.startswith(" ")
    ]


def is_memory_line(line: str) -> bool:
    lowered = line.lower()
    return any(marker in lowered for marker in OUT_OF_MEMORY_MARKERS)


def _position(events: list[tuple[str, str]]) -> str:
    """Where the job was when it ended, from the stage lines of its log (`StageClock`)."""
    if not events:
        return START_UP
    stage, event = events[-1]
    return job_position(stage, None) if event == "started" else job_position(None, stage)
