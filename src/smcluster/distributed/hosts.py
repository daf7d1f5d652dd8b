"""Who does what in a job: this host's part, from `resourceconfig.json` and `workers`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCHEDULER_PORT = 8786  # Dask's own default: the one fixed port of a multi-host job
PORT_VARIABLE = "SMCLUSTER_SCHEDULER_PORT"  # another port (two jobs on one machine, tests)


@dataclass(frozen=True)
class HostPlan:
    current: str
    hosts: tuple[str, ...]  # sorted, as SageMaker lists them (algo-1, algo-2, ...)
    workers: int  # Dask worker processes on each host
    port: int

    @property
    def first(self) -> str:
        return self.hosts[0]

    @property
    def is_driver(self) -> bool:
        """The first host runs the job; the others only lend their workers."""
        return self.current == self.first

    @property
    def distributed(self) -> bool:
        """False: the job runs in its own process, as with no Dask at all."""
        return len(self.hosts) > 1 or self.workers > 1

    @property
    def scheduler(self) -> str:
        return f"tcp://{self.first}:{self.port}"

    @property
    def expected_workers(self) -> int:
        return self.workers * len(self.hosts)


def plan_hosts(
    resources: Mapping[str, Any],
    workers: int | None,
    gpus: int,
    env: Mapping[str, str] | None = None,
) -> HostPlan:
    """This host's part: `workers` per host (`auto`: one per visible GPU, else one)."""
    env = os.environ if env is None else env
    current = str(resources.get("current_host") or "local")
    hosts = tuple(sorted({str(h) for h in resources.get("hosts") or []} or {current}))
    if current not in hosts:  # a hand-written resource config: this host runs alone
        hosts = (current,)
    count = workers if workers is not None else max(gpus, 1)
    port = int(env.get(PORT_VARIABLE) or SCHEDULER_PORT)
    return HostPlan(current, hosts, count, port)


def visible_gpus(backend: object) -> int:
    """GPUs this host's workers can use: those CUDA shows on the gpu backend, else none."""
    if getattr(backend, "name", "") != "gpu":
        return 0
    count = getattr(backend, "device_count", None)
    return int(count()) if callable(count) else 1
