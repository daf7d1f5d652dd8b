"""The way out of a job: the failure file SageMaker shows, and the exit codes."""

from __future__ import annotations

import logging
import signal

from .paths import JobPaths

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_OUT_OF_MEMORY = 3
EXIT_PLATFORM = 4  # the machine: disk full, no permission to write
EXIT_STOPPED = 128 + signal.SIGTERM  # 143, the shell's convention (SIGINT: 130)

# Room kept for the reason from the start, so that it can be written on a full disk.
RESERVED_BYTES = 4096
KILLED_REASON = (
    "Killed: the job ended without writing a reason, so it was killed outright (SIGKILL: the "
    "kernel's out-of-memory killer, a container or host limit, or the machine went away). "
    "Fix: read the job log for the last stage it reached; if memory ran out, use a larger "
    "instance or sample the table."
)

log = logging.getLogger("smcluster")


def exit_code_for(signum: int) -> int:
    return 128 + signum


def reserve_failure(paths: JobPaths) -> None:
    """Write the 'killed' reason, padded, before anything else: a job killed outright still
    leaves a true reason, and a later reason overwrites blocks already on disk."""
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(KILLED_REASON + "\n" + " " * RESERVED_BYTES + "\n")
    except OSError as exc:
        log.warning("cannot write %s in advance: %s", paths.failure_file, exc)


def clear_failure(paths: JobPaths) -> None:
    """A completed job leaves no failure file."""
    paths.failure_file.unlink(missing_ok=True)


def _overwrite(paths: JobPaths, text: str) -> None:
    paths.output_dir.mkdir(parents=True, exist_ok=True)
    mode = "r+" if paths.failure_file.exists() else "w"
    with open(paths.failure_file, mode, encoding="utf-8") as handle:
        handle.write(text)
        handle.truncate()


def write_failure(paths: JobPaths, reason: str, details: str = "") -> None:
    """Reason first (the console shows the first 1024 characters), then any details.

    Never raises: on a full disk the reason alone goes into the reserved room; when even that
    fails, the log (which always has the reason too) says why.
    """
    text = reason.strip() + "\n"
    if details:
        text += "\n" + details.strip() + "\n"
    try:
        _overwrite(paths, text)
    except OSError:
        try:
            _overwrite(paths, reason.strip()[: RESERVED_BYTES - 1] + "\n")
        except OSError as exc:
            log.error("cannot write the failure file %s: %s", paths.failure_file, exc)


def stopped_reason(signal_name: str, stage: str, elapsed: float) -> str:
    """The failure file's reason when SageMaker stops the job (SIGTERM) or a user presses
    Ctrl-C (SIGINT)."""
    cause = (
        "Ctrl-C"
        if signal_name == "SIGINT"
        else "StopTrainingJob, MaxRuntimeInSeconds or a spot interruption"
    )
    return (
        f"Stopped: the job received {signal_name} during stage '{stage}' after "
        f"{elapsed:.0f}s ({cause}). No model was written; rerun the job to get one."
    )
