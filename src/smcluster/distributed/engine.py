"""Starting, watching and stopping the Dask cluster of one job.

The driver (first host) runs the scheduler and its own workers in a `LocalCluster` (dask-cuda's
`LocalCUDACluster` on the GPU backend: one worker per GPU, as its documentation sets it up);
every other host runs `dask worker` against the driver's scheduler and ends with it. Worker
processes run one thread each: the libraries inside a task (BLAS, numba) use the cores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..backends.base import Backend
from ..contract.errors import ClusterError, SmclusterError
from .hosts import HostPlan

log = logging.getLogger(__name__)

HOST_VARIABLE = "SMCLUSTER_HOST"  # set in every worker's environment: the host it runs on
WAIT_VARIABLE = "SMCLUSTER_WORKERS_WAIT_S"
WORKERS_WAIT_S = 300.0  # for every host's workers to join (instances start minutes apart)
POLL_S = 1.0  # how often a wait looks for lost workers


def _dask_settings() -> dict[str, Any]:
    return {
        # A task that kills its worker (out of memory) fails at once, not after 3 retries.
        "distributed.scheduler.allowed-failures": 0,
        "distributed.worker.daemon": False,
        "logging.distributed": "warning",
    }


def wait_s(env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    return float(env.get(WAIT_VARIABLE) or WORKERS_WAIT_S)


class DaskCluster:
    """The driver's handle: a client, the workers by host, and gathering that fails clearly
    when a worker is lost."""

    def __init__(self, plan: HostPlan, backend: Backend, client: Any, local: Any) -> None:
        self.plan = plan
        self.backend = backend
        self.client = client
        self.local = local  # the LocalCluster of this host
        self.position: Callable[[], str] = lambda: "the job"
        self.warming: list[Any] = []  # held, so that the warm-up tasks run to their end
        self._hosts: dict[str, list[str]] = {}
        self._hosts = self._read_hosts()

    @classmethod
    def start(cls, plan: HostPlan, backend: Backend) -> DaskCluster:
        """The scheduler and this host's workers; then wait for every host's."""
        import dask
        from distributed import Client, LocalCluster

        dask.config.set(_dask_settings())
        os.environ[HOST_VARIABLE] = plan.current  # the workers started here inherit it
        several_hosts = len(plan.hosts) > 1
        options: dict[str, Any] = {
            "n_workers": plan.workers,
            "threads_per_worker": 1,
            "dashboard_address": None,
            # Only a multi-host job needs the scheduler where other hosts can reach it.
            "scheduler_port": plan.port if several_hosts else 0,
            "host": "0.0.0.0" if several_hosts else "127.0.0.1",
        }
        if backend.name == "gpu":
            from dask_cuda import LocalCUDACluster  # type: ignore[import-not-found]

            # One worker per GPU: `workers` of them (auto: every visible one), each pinned to its
            # own device by dask-cuda (CUDA_VISIBLE_DEVICES rotated per worker).
            local = LocalCUDACluster(**options)
        else:
            local = LocalCluster(processes=True, **options)  # type: ignore[no-untyped-call]
        client = Client(local)  # type: ignore[no-untyped-call]
        log.info(
            "dask: scheduler %s; waiting for %d worker(s) on %d host(s) (%s)",
            plan.scheduler if several_hosts else local.scheduler_address,
            plan.expected_workers,
            len(plan.hosts),
            ", ".join(plan.hosts),
        )
        try:
            client.wait_for_workers(plan.expected_workers, timeout=wait_s())
        except (TimeoutError, OSError):
            joined = {str(w.get("name", "")) for w in client.scheduler_info()["workers"].values()}
            client.close()  # type: ignore[no-untyped-call]
            local.close()
            raise ClusterError(
                f"only {len(joined)} of {plan.expected_workers} Dask workers joined the "
                f"scheduler at {plan.scheduler} within {wait_s():.0f}s (hosts "
                f"{', '.join(plan.hosts)}).",
                "check that every host runs this image and reaches the first host on port "
                f"{plan.port} (the job's VPC security group must allow traffic between its "
                "instances).",
            ) from None
        return cls(plan, backend, client, local)

    def warm_up(self) -> None:
        """Once the fit sample is gathered: while the driver fits on it, each idle worker
        loads what labelling needs (a task each worker runs alone; earlier, the reads and
        the sample's gathering would wait behind it)."""
        self.warming = [
            self.client.submit(_warm_worker, self.backend.name, workers=[address], pure=False)
            for addresses in self._hosts.values()
            for address in addresses
        ]

    def _log_peak_memory(self) -> None:
        """Each worker's peak resident memory: what sizes the next job's instances."""
        try:
            peaks = self.client.run(_peak_rss_mib)
        except Exception as exc:  # a worker already gone: its peak is lost with it
            log.debug("dask workers' peak memory: %s", exc)
            return
        hosts = {a: h for h, addresses in self._hosts.items() for a in addresses}
        for address, peak in sorted(peaks.items()):
            log.info(
                "dask worker %s on host %s: peak memory %.0f MiB",
                address,
                hosts.get(address, "?"),
                peak,
            )

    def _read_hosts(self) -> dict[str, list[str]]:
        hosts = self.client.run(lambda: os.environ.get(HOST_VARIABLE, "local"))
        by_host: dict[str, list[str]] = {}
        for address, host in sorted(hosts.items()):
            by_host.setdefault(str(host), []).append(address)
        return by_host

    def workers_by_host(self) -> dict[str, list[str]]:
        return dict(self._hosts)

    def _lost(self) -> list[tuple[str, str]]:
        present = set(_workers(self.client))
        return [
            (host, address)
            for host, addresses in self._hosts.items()
            for address in addresses
            if address not in present
        ]

    def gather(
        self,
        futures: list[Any],
        what: str,
        progress: Callable[[int], None] | None = None,
        sizes: Mapping[str, int] | None = None,
    ) -> list[Any]:
        """The futures' results; a task's own error as it was raised, a lost worker as a
        `ClusterError` naming its host and what the job was doing."""
        from distributed import wait

        results: dict[str, Any] = {}
        done_rows = 0
        pending = list(futures)
        while pending:
            # Wakes as a task ends, or after POLL_S to look for lost workers.
            with contextlib.suppress(TimeoutError):
                wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]
            for future in [f for f in pending if f.done()]:
                if future.status == "error":
                    self._raise(future, what)
                # Fetched now, while the other tasks run: no transfer left at the end.
                results[future.key] = future.result()
                done_rows += (sizes or {}).get(future.key, 0)
                if progress is not None and sizes:
                    progress(done_rows)
            pending = [f for f in pending if f.key not in results]
            if pending:
                lost = self._lost_error(what)
                if lost is not None:
                    raise lost
        return [results[future.key] for future in futures]

    def _lost_error(self, what: str) -> ClusterError | None:
        lost = self._lost()
        if not lost:
            return None
        host, address = lost[0]
        return ClusterError(
            f"the Dask worker {address} on host {host} was lost while {what} (during "
            f"{self.position()}): it died or its host stopped answering.",
            f"look in host {host}'s log for the cause (out of memory: a larger instance, more "
            "hosts or smaller files), then run the job again.",
        )

    def _raise(self, future: Any, what: str) -> None:
        error = future.exception()
        if isinstance(error, SmclusterError):
            raise error
        if type(error).__name__ == "KilledWorker":  # its worker died under it: name the host
            deadline = time.perf_counter() + 10 * POLL_S
            while time.perf_counter() < deadline:
                lost = self._lost_error(what)
                if lost is not None:
                    raise lost from None
                time.sleep(POLL_S)
        raise ClusterError(
            f"a Dask task failed while {what}: {type(error).__name__}: {error}.",
            "this is a bug in smcluster or an unsupported input; the traceback is in the log.",
        ) from error

    def close(self) -> None:
        """Stop every worker of every host and the scheduler: the other hosts then exit."""
        self._log_peak_memory()
        try:
            self.client.shutdown()
        except Exception as exc:  # already gone: nothing left to stop
            log.debug("dask shutdown: %s", exc)
        try:
            self.local.close()
        except Exception as exc:
            log.debug("dask local cluster close: %s", exc)


def _warm_worker(backend_name: str) -> None:
    """A worker's first-use costs, paid before its first batch: the backend's libraries and,
    on the CPU, umap-learn with numba's compiled functions loaded from the cache (a small fit
    and transform, as the image's build does to fill it)."""
    from ..pipeline.rows import worker_backend

    try:
        worker_backend(backend_name)
        if backend_name == "cpu":
            from ..backends.numba_cache import warm
            from ..backends.umap_transform import prepare_umap_learn

            prepare_umap_learn()
            warm()
    except Exception as exc:  # a warm-up only saves time: the first batch pays it instead
        log.warning("dask worker warm-up failed (%s: %s)", type(exc).__name__, exc)


def _workers(client: Any) -> dict[str, Any]:
    """The scheduler's workers now, asked of it: `Client.scheduler_info()` returns a cache
    that the client's periodic refresh may empty of workers between the fetch and the return."""
    identity = client.sync(client.scheduler.identity, n_workers=-1)
    return dict(identity.get("workers", {}))


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_worker_host(plan: HostPlan, gpu: bool = False) -> int:
    """A host other than the first: its workers serve the driver's scheduler until the driver
    shuts the cluster down. The exit status of `dask worker` (0 once shut down)."""
    env = {**os.environ, HOST_VARIABLE: plan.current}
    # `dask cuda worker` (dask-cuda's CLI) starts one worker per visible GPU itself.
    kind = ["cuda", "worker"] if gpu else ["worker", "--nworkers", str(plan.workers)]
    command = [
        sys.executable,
        "-m",
        "dask",
        *kind,
        plan.scheduler,
        "--nthreads",
        "1",
        "--no-dashboard",
        "--death-timeout",
        str(int(wait_s())),
    ]
    log.info(
        "host %s: %d Dask worker(s) for the scheduler on %s; this host writes no model",
        plan.current,
        plan.workers,
        plan.scheduler,
    )
    process = subprocess.Popen(command, env=env)
    global WORKER_PROCESS
    WORKER_PROCESS = process
    return process.wait()


WORKER_PROCESS: subprocess.Popen[bytes] | None = None


def stop_worker_host() -> None:
    """SIGTERM on a worker host: its workers go with it."""
    if WORKER_PROCESS is not None and WORKER_PROCESS.poll() is None:
        WORKER_PROCESS.terminate()
