"""The way out of a job: the failure file SageMaker shows, and the exit codes."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

from .errors import PlatformError, ResourceError, SmclusterError, os_error_reason
from .paths import JobPaths
from .secrets import redact

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_OUT_OF_MEMORY = 3
EXIT_PLATFORM = 4  # the machine: disk full, no permission to write
EXIT_STOPPED = 128 + signal.SIGTERM  # 143, the shell's convention (SIGINT: 130)

# Room kept for the reason from the start, so that it can be written on a full disk.
RESERVED_BYTES = 4096
SHOWN_CHARS = 1024  # what SageMaker shows of the failure file (FailureReason)
FIX_MARKER = " Fix: "
KILLED_REASON = (
    "Killed: the job ended without writing a reason, so native code or a signal ended it "
    "outright: most often memory ran out (the kernel's out-of-memory killer sends SIGKILL; "
    "OpenBLAS and LLVM exit or abort when an allocation fails), else a container limit or the "
    "machine went away. Fix: read the end of the job log for the last stage and any 'out of "
    "memory' line; if memory ran out, use a larger instance or sample the table."
)

log = logging.getLogger("smcluster")

# Messages with which native libraries (llvmlite, OpenBLAS, CUDA, C++) say memory ran out.
OUT_OF_MEMORY_MARKERS = (
    "cannot allocate memory",
    "failed to map segment",
    "std::bad_alloc",
    "out of memory",
    "memoryerror",
    "cudaerrormemoryallocation",
    "unable to allocate",
    "can't start new thread",  # a thread's stack could not be mapped under a memory limit
    "memory allocation still failed",  # OpenBLAS, just before it calls exit(1)
)
MEMORY_FIX = (
    "use a larger instance (or give the container more memory), lower eps_sample_size or "
    "silhouette_sample_size, set eps explicitly, or sample the table."
)


def is_out_of_memory(exc: BaseException) -> bool:
    """True when this error, or one it was raised from, says memory ran out."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, MemoryError):
            return True
        text = f"{type(seen).__name__} {seen}".lower()
        if any(marker in text for marker in OUT_OF_MEMORY_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def known_failure(
    exc: BaseException,
    doing: str,
    *,
    reached: str | None = None,
    memory_fix: str = MEMORY_FIX,
    paths_as_given: bool = False,
) -> SmclusterError | None:
    """The one rule from an exception to a user's reason (and so an exit code), for `train`'s
    job, its process and every `smcluster` command: smcluster's own errors as they are; memory
    running out, however a library said it or when `reached` (the limit the process was at)
    says so, exit 3; the machine refusing a file (disk full, permission), exit 4; with
    `paths_as_given` (a command's arguments) a path that cannot be used as given, exit 2.
    None: an error nobody anticipated, a bug. `doing` follows "while" ("running stage
    'prepare'", "running smcluster predict")."""
    if isinstance(exc, SmclusterError):
        return exc
    detail = f"{type(exc).__name__}: {str(exc)[:200]}"
    if is_out_of_memory(exc):
        return ResourceError(f"ran out of memory while {doing} ({detail}).", memory_fix)
    if isinstance(exc, OSError):
        known = os_error_reason(exc, doing)
        if isinstance(known, PlatformError) or (known is not None and paths_as_given):
            return known
    if reached is not None:  # an error at the memory ceiling, whatever its words
        return ResourceError(
            f"ran out of memory while {doing}: {reached}, and then {detail}.", memory_fix
        )
    return None


# SIGHUP: the terminal or ssh session of a `train` started by hand closed.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def exit_code_for(signum: int) -> int:
    return 128 + signum


def reserve_failure(paths: JobPaths) -> str | None:
    """Write the 'killed' reason, padded, before anything else: a job killed outright still
    leaves a true reason, and a later reason overwrites blocks already on disk. Returns the
    reason to stop at once when it cannot be written: a job that could not say why it failed
    (a read-only or full output folder) would otherwise train to the end for nothing."""
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(KILLED_REASON + "\n" + " " * RESERVED_BYTES + "\n")
    except OSError as exc:
        return (
            f"PlatformError: cannot write the failure file {paths.failure_file} "
            f"({exc.strerror or exc}), so the job stops before any work. Fix: make "
            f"{paths.output_dir} a writable folder with free space (in a container, mount it "
            "read-write)."
        )
    return None


def clear_failure(paths: JobPaths) -> None:
    """A completed job leaves no failure file."""
    paths.failure_file.unlink(missing_ok=True)


def _overwrite(paths: JobPaths, text: str) -> None:
    paths.output_dir.mkdir(parents=True, exist_ok=True)
    mode = "r+" if paths.failure_file.exists() else "w"
    with open(paths.failure_file, mode, encoding="utf-8") as handle:
        handle.write(text)
        handle.truncate()


def shown_reason(reason: str, limit: int = SHOWN_CHARS) -> str:
    """`reason` cut to `limit` characters so that what is shown holds the problem and its Fix:
    the middle of a long problem (a list of names, most often) and of a long Fix are left out,
    their start and end kept, and the elision says how much is missing."""
    reason = reason.strip()
    if len(reason) <= limit:
        return reason
    problem, marker, fix = reason.partition(FIX_MARKER)
    fix_room = min(len(marker + fix), limit // 3)
    return _elide(problem, limit - fix_room) + (_elide(marker + fix, fix_room) if marker else "")


def _elide(text: str, room: int) -> str:
    if len(text) <= room:
        return text
    note = " [... {} characters left out; the whole reason follows below ...] "
    keep = max(room - len(note.format(len(text))), 0)
    head, tail = keep * 2 // 3, keep - keep * 2 // 3
    left_out = len(text) - head - tail
    return text[:head] + note.format(left_out) + (text[len(text) - tail :] if tail else "")


def write_failure(paths: JobPaths, reason: str, details: str = "") -> None:
    """Reason first (the console shows the first 1024 characters), then any details. A reason
    longer than that comes first shortened (`shown_reason`), then whole.

    Never raises: on a full disk the reason alone goes into the reserved room; when even that
    fails, the log (which always has the reason too) says why.
    """
    reason, details = redact(reason), redact(details)
    shown = shown_reason(reason)
    text = shown + "\n"
    if shown != reason.strip():
        text += "\nThe whole reason:\n" + reason.strip() + "\n"
    if details:
        text += "\n" + details.strip() + "\n"
    try:
        _overwrite(paths, text)
    except OSError:
        try:
            _overwrite(paths, shown[: RESERVED_BYTES - 1] + "\n")
        except OSError as exc:
            log.error("cannot write the failure file %s: %s", paths.failure_file, exc)


START_UP = "start-up (before the first stage)"


def job_position(current: str | None, last: str | None) -> str:
    """Where the job was, to follow "during": in a stage, or between two (after the last one
    that finished), or before the first. An error between stages is not blamed on the stage
    that had already finished."""
    if current is not None:
        return f"stage '{current}'"
    if last is not None:
        return f"the step after stage '{last}'"
    return START_UP


def stopped_reason(
    signal_name: str, position: str, elapsed: float, published: Path | None = None
) -> str:
    """The failure file's reason when SageMaker stops the job (SIGTERM) or a user presses
    Ctrl-C (SIGINT); `published`: the model directory, when the model was complete already."""
    causes = {"SIGINT": "Ctrl-C", "SIGHUP": "its terminal or session closed"}
    cause = causes.get(signal_name, "StopTrainingJob, MaxRuntimeInSeconds or a spot interruption")
    stopped = (
        f"Stopped: the job received {signal_name} during {position} after {elapsed:.0f}s ({cause})."
    )
    if published is not None:
        return (
            f"{stopped} Its model was already published: {published} holds this run's "
            "complete model (manifest.json lists it); only the tracker's record of the run "
            "may be unfinished."
        )
    return f"{stopped} No model was written; rerun the job to get one."


def exit_now(code: int) -> NoReturn:
    """Exit without the interpreter's teardown of numba, matplotlib and scikit-learn (most of a
    second for a small job). Callers have closed the model directory, failure file and tracking
    run; nothing of ours runs at exit. Output is flushed first."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the process started with that fd closed
                stream.flush()
        except (OSError, ValueError):  # a closed pipe or a full device: the outcome stands
            pass
    logging.shutdown()
    os._exit(code)
