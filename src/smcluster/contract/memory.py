"""How close the job came to its memory limit: evidence that an unexplained failure was memory.

A container's memory limit surfaces in many shapes: the kernel's out-of-memory killer (SIGKILL),
an address-space limit that makes an `mmap` fail inside numba, LLVM, OpenBLAS or a thread's
stack, and libraries that turn that failure into an error without the word "memory" (numba's
`SystemError: error return without exception set`). Only the limits themselves tell these apart
from bugs, so the job reads them: the process's address-space limit against its peak, and the
memory cgroup's limit against its peak and out-of-memory events.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

NEAR = 0.9  # a peak within 10% of its limit counts as having reached it
MIB = 1024**2
# What the libraries map to start, measured on a 2-core machine: `smcluster predict` failed at an
# address-space limit of 600 MiB and ran at 650. Most of it does not grow with the machine; the
# OpenBLAS buffers do: one of 32 MiB (and a guard page) per thread, in each of the two copies that
# numpy's and scipy's wheels bring. Below it OpenBLAS spins for good or calls exit(1) as it loads.
LIBRARIES_MIB = 512
OPENBLAS_BUFFER_MIB = 33
OPENBLAS_COPIES = 2
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class CgroupMemory:
    """The memory cgroup's limit, peak use and out-of-memory kills (bytes; None: unknown)."""

    limit: int | None
    peak: int | None
    oom_kills: int

    @classmethod
    def read(cls, root: Path = CGROUP_ROOT) -> CgroupMemory:
        folder = _own_cgroup(root)
        if (folder / "memory.max").exists():  # cgroup v2
            return cls(
                limit=_bytes(folder / "memory.max"),
                peak=_bytes(folder / "memory.peak") or _bytes(folder / "memory.current"),
                oom_kills=_event(folder / "memory.events", "oom_kill"),
            )
        v1 = root / "memory"
        return cls(
            limit=_bytes(v1 / "memory.limit_in_bytes"),
            peak=_bytes(v1 / "memory.max_usage_in_bytes"),
            oom_kills=_event(v1 / "memory.oom_control", "oom_kill"),
        )


def openblas_threads() -> int:
    """The threads OpenBLAS starts: its environment variables, else the usable cores."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def address_space_floor(threads: int) -> int:
    """The address space (MiB) the libraries need to load with this many OpenBLAS threads."""
    return LIBRARIES_MIB + OPENBLAS_BUFFER_MIB * OPENBLAS_COPIES * threads


def address_space_refusal(who: str) -> str | None:
    """The OutOfMemory reason when this process's address-space limit (RLIMIT_AS, `ulimit -v`)
    is below what the libraries need to load, checked before they load (below it they hang or
    exit without a word); None when the limit is high enough or there is none."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    threads = openblas_threads()
    floor = address_space_floor(threads)
    if limit == resource.RLIM_INFINITY or limit >= floor * MIB:
        return None
    return (
        f"OutOfMemory: {who} may use at most {limit // MIB:,} MiB of address space (RLIMIT_AS, "
        f"`ulimit -v`), less than the {floor:,} MiB its libraries map to load ({LIBRARIES_MIB} "
        f"MiB, and {OPENBLAS_BUFFER_MIB} MiB per OpenBLAS thread for {threads} thread(s) in each "
        f"of numpy's and scipy's copies); below that OpenBLAS hangs or exits as it loads. Fix: "
        f"raise the limit (`ulimit -v`, the container's settings), or set "
        f"OPENBLAS_NUM_THREADS=1 to need {address_space_floor(1):,} MiB."
    )


def pressure(before: CgroupMemory | None = None) -> str | None:
    """A sentence saying which memory limit this process reached, or None when it stayed clear
    of every limit it can see. `before`: the cgroup as it was when the job started, so that
    out-of-memory kills counted earlier in the container are not blamed on this job."""
    found = []
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    peak = _status_kib("VmPeak")
    limited = limit != resource.RLIM_INFINITY and limit > 0
    if limited and peak is not None and peak * 1024 >= NEAR * limit:
        found.append(
            f"its address space peaked at {peak * 1024 // MIB:,} MiB of its "
            f"{limit // MIB:,} MiB limit"
        )
    cgroup = CgroupMemory.read()
    found.extend(cgroup_pressure(cgroup, before))
    return "; ".join(found) or None


def cgroup_pressure(now: CgroupMemory, before: CgroupMemory | None) -> list[str]:
    found = []
    kills = now.oom_kills - (before.oom_kills if before is not None else 0)
    if kills > 0:
        found.append(
            f"the kernel's out-of-memory killer ended {kills} process(es) of the container"
        )
    # memory.peak is the cgroup's peak since it was made: evidence only when it rose during this
    # job (a long-lived cgroup's old peak says nothing about it).
    rose = before is not None and now.peak is not None and now.peak > (before.peak or 0)
    if rose and now.limit is not None and now.peak is not None and now.peak >= NEAR * now.limit:
        found.append(
            f"the container's memory use peaked at {now.peak // MIB:,} MiB of its "
            f"{now.limit // MIB:,} MiB limit"
        )
    return found


def _own_cgroup(root: Path) -> Path:
    """The cgroup v2 folder of this process (in a container, usually the root itself)."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                folder = root / line[3:].lstrip("/")
                if (folder / "memory.max").exists():
                    return folder
    except OSError:
        pass
    return root


def _bytes(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():  # "max": no limit
        return None
    value = int(text)
    return value if value < 2**62 else None  # cgroup v1 writes a huge number for "no limit"


def _event(path: Path, name: str) -> int:
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == name and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0


def _status_kib(field: str) -> int | None:
    """A `VmPeak`-like field of /proc/self/status, in KiB (None off Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None
