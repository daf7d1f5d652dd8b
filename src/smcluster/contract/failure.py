"""The way out of a job: the failure file SageMaker shows, and the exit codes."""

from __future__ import annotations

from .paths import JobPaths

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_OUT_OF_MEMORY = 3
EXIT_STOPPED = 143  # 128 + SIGTERM, the shell's convention


def write_failure(paths: JobPaths, reason: str, details: str = "") -> None:
    """Reason first (the console shows the first 1024 characters), then any details."""
    paths.output_dir.mkdir(parents=True, exist_ok=True)
    text = reason.strip() + "\n"
    if details:
        text += "\n" + details.strip() + "\n"
    paths.failure_file.write_text(text)


def stopped_reason(signal_name: str, stage: str, elapsed: float) -> str:
    """The failure file's reason when SageMaker stops the job (SIGTERM)."""
    return (
        f"Stopped: the job received {signal_name} during stage '{stage}' after "
        f"{elapsed:.0f}s (StopTrainingJob, MaxRuntimeInSeconds or a spot "
        "interruption). No model was written; rerun the job to get one."
    )
