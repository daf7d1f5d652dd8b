"""One training job: the SageMaker contract in, the pipeline, metrics and model directory out.

`Job.run` is the happy path; `run_guarded` turns every failure into a failure file and an exit
code; `stop` is SIGTERM's way out. `train` (the entrypoint) runs it in a worker thread.
"""

from __future__ import annotations

import logging
import signal
import threading
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .backends import select_backend
from .backends.base import Backend
from .contract.channels import Channel, check_hosts, read_channels, read_resource_config
from .contract.errors import ClusterError, SmclusterError
from .contract.failure import (
    EXIT_INTERNAL,
    EXIT_OK,
    clear_failure,
    exit_code_for,
    exit_now,
    is_out_of_memory,
    known_failure,
    stopped_reason,
    write_failure,
)
from .contract.hyperparameters import read as read_hyperparameters
from .contract.memory import CgroupMemory, pressure
from .contract.paths import JobPaths
from .contract.schema import Hyperparameters
from .distributed.hosts import HostPlan, plan_hosts, visible_gpus
from .output.metric_lines import emit
from .output.model_dir import ModelDirWriter
from .pipeline.runtime.clock import StageClock
from .tracking import JobTracking
from .version import __version__

if TYPE_CHECKING:
    from .distributed.engine import DaskCluster
    from .pipeline.rows import TrainRows
    from .pipeline.runtime.runner import StageRunner

log = logging.getLogger("smcluster")


def start_cluster(plan: HostPlan, backend: Backend) -> DaskCluster:
    from .distributed.engine import DaskCluster  # Dask is imported only when it runs

    return DaskCluster.start(plan, backend)


def load_on_workers(
    runner: StageRunner, cluster: DaskCluster, channel: Channel, hp: Hyperparameters
) -> TrainRows:
    from .distributed.partitions import LOAD_PARTITIONS

    return runner.run(LOAD_PARTITIONS, cluster, channel, hp.id_column)


@dataclass
class Job:
    paths: JobPaths
    clock: StageClock = field(default_factory=StageClock)
    writer: ModelDirWriter | None = None
    tracking: JobTracking | None = None
    exit_code: int | None = None
    stopping: bool = False
    cluster: DaskCluster | None = None  # the job's Dask cluster, when it runs one
    # The container's memory as the job found it: later out-of-memory kills are the job's own.
    memory_at_start: CgroupMemory = field(default_factory=CgroupMemory.read)
    # A stop (main thread) and the job's own end (worker) never write their outcome at once.
    _ending: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(self) -> int:
        paths = self.paths
        resources = read_resource_config(paths)
        if not plan_hosts(resources, None, 0).is_driver:
            return self.lend_workers(resources)
        self.writer = ModelDirWriter(paths.model_dir)
        staging = self.writer.start()  # first: an earlier run's manifest must not outlive us
        log.info("smcluster %s; base directory %s", __version__, paths.base)
        hp = read_hyperparameters(paths.hyperparameters_file)
        # Tracking starts as soon as the hyperparameters (which choose the tracker) are known, so
        # that every later failure, a bad channel included, is recorded as a FAILED run.
        self.tracking = JobTracking(hp, paths)
        with self.clock.stage("start_tracking"):  # timed, so that stage times add up
            self.tracking.start()
        channels = read_channels(paths)
        log.info(
            "host %s of %d; channels: %s",
            resources.get("current_host"),
            max(len(resources.get("hosts") or []), 1),
            ", ".join(f"{c.name} ({c.input_mode}, {c.path})" for c in channels.values()),
        )
        check_hosts(resources, channels)
        given = {name: hp.shown(name) for name in sorted(hp.given)}
        log.info("hyperparameters: %s", given or "all defaults")
        with self.clock.stage("start_backend"):
            backend = select_backend(hp.backend)
        log.info(
            "backend %s: %s",
            backend.name,
            ", ".join(f"{k} {v}" for k, v in backend.describe().items() if k != "backend"),
        )
        # Imported here, not at the top: tracking's process starts meanwhile on another core.
        from .output.files import write_outputs
        from .pipeline.run import fit
        from .pipeline.runtime.checkpoints import Checkpoints
        from .pipeline.runtime.runner import StageRunner

        # Only where SageMaker (CheckpointConfig, e.g. managed spot) or the user made the folder.
        folder = paths.checkpoint_dir if paths.checkpoint_dir.is_dir() else None
        runner = StageRunner(self.clock, Checkpoints(folder))
        plan = plan_hosts(resources, hp.workers, visible_gpus(backend))
        if plan.distributed:
            with self.clock.stage("start_cluster"):
                self.cluster = start_cluster(plan, backend)
            self.cluster.position = lambda: self.clock.position
        try:
            train: Channel | TrainRows = channels["train"]
            if self.cluster is not None:
                train = load_on_workers(runner, self.cluster, channels["train"], hp)
            result = fit(backend, hp, runner, train, channels.get("validation"))
        finally:
            if self.cluster is not None:
                self.cluster.close()
        emit("train", result.train.metrics)
        if result.validation is not None:
            emit("validation", result.validation.metrics)
        if hp.tracker_required:  # a tracking failure must fail the job before it publishes
            self.tracking.record(result)
        with self.clock.stage("write_artifacts"):
            summary = write_outputs(result, staging)
            manifest = self.writer.publish(summary)
        log.info("artifacts in %s (manifest %s)", paths.model_dir, manifest.name)
        if not hp.tracker_required:
            # After the artifacts: the run, opening in its own process since the job started,
            # has had that time too (a small job would otherwise wait for it here).
            self.tracking.record(result)
        self.tracking.finish(paths.model_dir)
        with self._ending:
            if not self.stopping:  # a stop now being recorded keeps its reason
                clear_failure(paths)
                self.exit_code = EXIT_OK  # from here a stop leaves this outcome as it is
        log.info("job finished in %.1fs", self.clock.elapsed())
        return EXIT_OK

    def lend_workers(self, resources: dict[str, object]) -> int:
        """A host other than the first: Dask workers for the first host's job, no model, no
        tracked run (SageMaker uploads one model.tar.gz holding every host's model folder)."""
        from .distributed.engine import run_worker_host

        hp = read_hyperparameters(self.paths.hyperparameters_file)
        with self.clock.stage("start_backend"):
            backend = select_backend(hp.backend)
        plan = plan_hosts(resources, hp.workers, visible_gpus(backend))
        status = run_worker_host(plan, gpu=backend.name == "gpu")
        if status != 0:
            raise ClusterError(
                f"the Dask workers of host {plan.current} ended with status {status}: the "
                f"first host ({plan.first}) failed, stopped, or could not be reached at "
                f"{plan.scheduler}.",
                f"the reason is in host {plan.first}'s failure and log.",
            )
        log.info("host %s: the first host's job ended; this host's work is done", plan.current)
        with self._ending:
            if not self.stopping:
                clear_failure(self.paths)  # the supervisor's provisional reason
                self.exit_code = EXIT_OK
        return EXIT_OK

    def run_guarded(self) -> None:
        """Run and turn every failure into a failure file and an exit code."""
        try:
            self.exit_code = self.run()
        except BaseException as exc:  # the job must never die with a bare traceback
            known = self._classify(exc)
            if known is not None:
                self._fail(known.reason(), known.exit_code)
                return
            trace = traceback.format_exc()
            log.error("unexpected error during %s:\n%s", self.clock.position, trace)
            reason = (
                f"InternalError: unexpected {type(exc).__name__} during "
                f"{self.clock.position}: {exc}. This is a bug in smcluster or an unsupported "
                "input; the traceback is in the job log (CloudWatch)."
            )
            self._fail(reason, EXIT_INTERNAL, trace)

    def _classify(self, exc: BaseException) -> SmclusterError | None:
        """Memory exhaustion and the machine's refusals, however a library surfaced them."""
        anticipated = isinstance(exc, SmclusterError) or is_out_of_memory(exc)
        reached = None if anticipated else pressure(self.memory_at_start)
        if reached is not None:
            log.error("error at the memory limit:\n%s", traceback.format_exc())
        return known_failure(exc, f"running {self.clock.position}", reached=reached)

    def _fail(self, reason: str, code: int, details: str = "") -> None:
        with self._ending:
            if self.stopping:  # a stop is being recorded: the worker's own error is its echo
                log.info("after the stop: %s", reason)
                return
            self._fail_now(reason, code, details)

    def _fail_now(self, reason: str, code: int, details: str) -> None:
        if self.writer is not None:
            self.writer.abort()
        log.error("%s", reason)
        write_failure(self.paths, reason, details)
        self.exit_code = code  # decided: from here the entrypoint may end the job (`overdue`)
        if self.tracking is not None:
            self.tracking.fail(reason)

    def stop(self, signum: int) -> None:
        """SIGTERM (from the main thread, while the job runs in a worker): record that the job
        was stopped, clean up, and leave now. The model directory settles first (a publish in
        progress finishes, or none starts), so the reason says what it holds; the worker, still
        running, can no longer write a reason of its own."""
        with self._ending:
            if self.exit_code is not None:  # the job ended already: its outcome stands
                exit_now(self.exit_code)
            self.stopping = True
        if self.writer is None:  # a host lending its workers: they stop with it
            from .distributed.engine import stop_worker_host

            stop_worker_host()
        published = self.writer is not None and self.writer.settle()
        reason = stopped_reason(
            signal.Signals(signum).name,
            self.clock.position,
            self.clock.elapsed(),
            self.paths.model_dir if published else None,
        )
        write_failure(self.paths, reason)
        log.error("%s", reason)
        if self.tracking is not None:
            self.tracking.kill(reason)
        exit_now(exit_code_for(signum))
