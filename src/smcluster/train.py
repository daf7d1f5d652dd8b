"""The `train` entrypoint SageMaker runs: contract in, metrics and model directory out.

The job runs in a worker thread so that the main thread can answer SIGTERM (StopTrainingJob,
MaxRuntime, spot interruption) at once, even while a long native call (numba, BLAS, CUDA) holds
the worker: it writes the failure file, removes the staging folder and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass, field

from . import __version__
from .artifacts import ModelDirWriter
from .backends import select_backend
from .channels import read_channels, read_resource_config
from .errors import ResourceError, SmclusterError
from .hyperparameters import read as read_hyperparameters
from .metrics import emit
from .outputs import write_outputs
from .paths import JobPaths
from .pipeline import Pipeline
from .stages import StageClock
from .tracking import JobTracking

log = logging.getLogger("smcluster")

EXIT_STOPPED = 143  # 128 + SIGTERM, the shell's convention


def configure_logging() -> None:
    level = os.environ.get("SMCLUSTER_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("numba", "matplotlib", "urllib3", "botocore", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def write_failure(paths: JobPaths, reason: str, details: str = "") -> None:
    """Reason first (the console shows the first 1024 characters), then any details."""
    paths.output_dir.mkdir(parents=True, exist_ok=True)
    text = reason.strip() + "\n"
    if details:
        text += "\n" + details.strip() + "\n"
    paths.failure_file.write_text(text)


@dataclass
class Job:
    paths: JobPaths
    clock: StageClock = field(default_factory=StageClock)
    writer: ModelDirWriter | None = None
    tracking: JobTracking | None = None
    exit_code: int | None = None

    def run(self) -> int:
        paths = self.paths
        paths.failure_file.unlink(missing_ok=True)
        self.writer = ModelDirWriter(paths.model_dir)
        staging = self.writer.start()  # first: an earlier run's manifest must not outlive us
        log.info("smcluster %s; base directory %s", __version__, paths.base)
        hp = read_hyperparameters(paths.hyperparameters_file)
        channels = read_channels(paths)
        resources = read_resource_config(paths)
        log.info(
            "host %s of %d; channels: %s",
            resources.get("current_host"),
            max(len(resources.get("hosts") or []), 1),
            ", ".join(f"{c.name} ({c.input_mode}, {c.path})" for c in channels.values()),
        )
        log.info("hyperparameters: %s", {k: hp[k] for k in sorted(hp.given)} or "all defaults")
        self.tracking = JobTracking(hp, paths)
        self.tracking.start()
        backend = select_backend(hp.backend)
        log.info(
            "backend %s: %s",
            backend.name,
            ", ".join(f"{k} {v}" for k, v in backend.describe().items() if k != "backend"),
        )
        result = Pipeline(hp, backend, self.clock).fit(
            channels["train"], channels.get("validation")
        )
        emit("train", result.train.metrics)
        if result.validation is not None:
            emit("validation", result.validation.metrics)
        self.tracking.record(channels, result, backend.name)
        with self.clock.stage("write_artifacts"):
            summary = write_outputs(result, staging)
            manifest = self.writer.publish(summary)
        log.info("artifacts in %s (manifest %s)", paths.model_dir, manifest.name)
        self.tracking.finish(paths.model_dir)
        log.info("job finished in %.1fs", self.clock.elapsed())
        return 0

    def run_guarded(self) -> None:
        """Run and turn every failure into a failure file and an exit code."""
        try:
            self.exit_code = self.run()
        except SmclusterError as exc:
            self._fail(exc.reason(), exc.exit_code)
        except MemoryError:
            error = ResourceError(
                f"ran out of memory during stage '{self.clock.current}'.",
                "use a larger instance, lower eps_sample_size or silhouette_sample_size, set "
                "eps explicitly, or sample the table.",
            )
            self._fail(error.reason(), error.exit_code)
        except BaseException as exc:  # the job must never die with a bare traceback
            trace = traceback.format_exc()
            log.error("unexpected error in stage '%s':\n%s", self.clock.current, trace)
            reason = (
                f"InternalError: unexpected {type(exc).__name__} in stage "
                f"'{self.clock.current}': {exc}. This is a bug in smcluster or an unsupported "
                "input; the traceback is in the job log (CloudWatch)."
            )
            self._fail(reason, 1, trace)

    def _fail(self, reason: str, code: int, details: str = "") -> None:
        if self.writer is not None:
            self.writer.abort()
        log.error("%s", reason)
        write_failure(self.paths, reason, details)
        if self.tracking is not None:
            self.tracking.fail(reason)
        self.exit_code = code

    def stop(self, signum: int) -> None:
        """SIGTERM: record that the job was stopped, clean up, and leave now."""
        name = signal.Signals(signum).name
        reason = (
            f"Stopped: the job received {name} during stage '{self.clock.current}' after "
            f"{self.clock.elapsed():.0f}s (StopTrainingJob, MaxRuntimeInSeconds or a spot "
            "interruption). No model was written; rerun the job to get one."
        )
        if self.writer is not None:
            self.writer.abort()
        write_failure(self.paths, reason)
        log.error("%s", reason)
        if self.tracking is not None:
            self.tracking.kill(reason)
        logging.shutdown()
        sys.stdout.flush()
        os._exit(EXIT_STOPPED)


def main(argv: list[str] | None = None) -> int:
    """Console script `train`. Extra arguments (SageMaker passes none) are refused."""
    configure_logging()
    args = sys.argv[1:] if argv is None else argv
    paths = JobPaths.from_env()
    job = Job(paths)
    if args and args != ["train"]:
        job._fail(
            f"ArgumentError: `train` takes no arguments, got {' '.join(args)!r}. "
            "Fix: pass settings as hyperparameters (hyperparameters.json).",
            2,
        )
        return 2
    signal.signal(signal.SIGTERM, lambda signum, _frame: job.stop(signum))
    worker = threading.Thread(target=job.run_guarded, name="smcluster-job", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(timeout=0.2)  # short joins keep the main thread responsive to signals
    sys.stdout.flush()
    return 1 if job.exit_code is None else job.exit_code


if __name__ == "__main__":
    sys.exit(main())
