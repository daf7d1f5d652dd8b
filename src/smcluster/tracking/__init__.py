"""Experiment tracking for every run: SageMaker Experiments in a job, MLflow everywhere else.

`JobTracking` is what `train` uses; it never fails the job unless `tracker_required=true`.
Records what a finished `pipeline.run.RunResult` holds; may import `contract` and `pipeline`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..contract.paths import JobPaths
from ..contract.schema import Hyperparameters
from .base import FAILED, FINISHED, KILLED, NoTracker, Tracker, TrackingError
from .child import ChildProcessTracker
from .guard import GuardedTracker
from .record import run_info, run_inputs, run_metrics, run_params
from .select import build

if TYPE_CHECKING:  # the pipeline's imports are heavy; the tracking child never needs them
    from ..pipeline.run import RunResult

log = logging.getLogger("smcluster.tracking")

# A stopped job must exit within seconds; a run that has not started by then stays RUNNING.
STOP_TIMEOUT_S = 5.0


class JobTracking:
    """One job's run: opened after the hyperparameters are read, closed on every way out."""

    def __init__(self, hp: Hyperparameters, paths: JobPaths) -> None:
        self.hp = hp
        self.paths = paths
        try:
            backend: Tracker = build(hp, paths)
        except TrackingError as exc:
            if hp.tracker_required:
                raise
            log.warning("%s The job goes on without tracking.", exc.reason())
            backend = NoTracker()
        if not isinstance(backend, NoTracker):
            backend = ChildProcessTracker(backend)  # its imports and I/O use another core
        self.guard = GuardedTracker(backend, hp.tracker_required)

    def start(self) -> None:
        """Required tracking starts before training (fail fast); optional tracking alongside it."""
        self.guard.start(run_info(self.hp, self.paths), background=not self.hp.tracker_required)

    def record(self, result: RunResult) -> None:
        """Parameters, inputs (with a content hash), metrics and the compute-backend tag."""
        guard = self.guard
        guard.call(
            "set tags",
            lambda: guard.backend.set_tags({"smcluster.backend": result.backend_info["backend"]}),
        )
        guard.call("log parameters", lambda: guard.backend.log_params(run_params(result)))
        guard.call("log inputs", lambda: guard.backend.log_inputs(run_inputs(result)))
        guard.call("log metrics", lambda: guard.backend.log_metrics(run_metrics(result)))

    def finish(self, model_dir: Path) -> None:
        """Every file of the published model directory, its location, then FINISHED."""
        guard = self.guard
        guard.call("log artifacts", lambda: guard.backend.log_artifacts(model_dir))
        location = {"smcluster.model_location": str(model_dir)}
        guard.call("set tags", lambda: guard.backend.set_tags(location))
        guard.end(FINISHED)

    def fail(self, reason: str) -> None:
        self.guard.end_quietly(FAILED, reason)

    def kill(self, reason: str) -> None:
        self.guard.end_quietly(KILLED, reason, timeout=STOP_TIMEOUT_S)


__all__ = ["FAILED", "FINISHED", "KILLED", "JobTracking", "TrackingError"]
