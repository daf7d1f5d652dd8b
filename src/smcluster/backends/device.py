"""GPU device facts and the checks that decide whether the GPU backend can run.

Pure functions over plain values, plus readers that import CuPy lazily: this module imports on
machines without CUDA, and its checks are tested there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

DRIVER_FILE = Path("/proc/driver/nvidia/version")


@dataclass(frozen=True)
class BuildNeeds:
    """What one CUDA major version's RAPIDS build needs of the driver and the GPU."""

    driver_major: int
    compute_capability: tuple[int, int]
    generation: str


# RAPIDS' platform support (docs.nvidia.com/datascience/platform-support): the CUDA 12 build
# needs an R535+ driver and Volta or newer; the CUDA 13 build (cudf-cu13, the wheels of a CUDA 13
# machine) an R580+ driver and Turing or newer (no Volta, i.e. no ml.p3).
BUILD_NEEDS = {
    12: BuildNeeds(535, (7, 0), "Volta"),
    13: BuildNeeds(580, (7, 5), "Turing"),
}


@dataclass(frozen=True)
class DeviceFacts:
    name: str
    total_bytes: int
    free_bytes: int
    compute_capability: tuple[int, int]
    driver: str | None  # e.g. "535.104.05"; None when unreadable
    cuda_driver: int  # CUDA version the driver supports, e.g. 12020
    cuda_runtime: int

    def describe(self) -> dict[str, str]:
        return {
            "device": self.name,
            "device_memory_gib": f"{self.total_bytes / 2**30:.1f}",
            "device_free_gib": f"{self.free_bytes / 2**30:.1f}",
            "compute_capability": "{}.{}".format(*self.compute_capability),
            "nvidia_driver": self.driver or "unknown",
            "cuda_driver": _cuda_text(self.cuda_driver),
            "cuda_runtime": _cuda_text(self.cuda_runtime),
        }


def _cuda_text(version: int) -> str:
    return f"{version // 1000}.{version % 1000 // 10}"


def parse_driver_version(text: str) -> str | None:
    """The version in /proc/driver/nvidia/version ("... Kernel Module  535.104.05 ...")."""
    match = re.search(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)", text)
    return match.group(1) if match else None


def read_driver_version() -> str | None:
    try:
        return parse_driver_version(DRIVER_FILE.read_text())
    except OSError:
        pass
    try:  # containers without /proc/driver: NVML, when nvidia-ml-py is installed
        import pynvml

        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception:
        return None


def build_needs(cuda_runtime: int) -> tuple[int, BuildNeeds]:
    """The CUDA major version of the installed RAPIDS (CuPy's runtime) and what it needs."""
    major = cuda_runtime // 1000 if cuda_runtime else min(BUILD_NEEDS)
    return major, BUILD_NEEDS[min(max(major, min(BUILD_NEEDS)), max(BUILD_NEEDS))]


def device_problem(facts: DeviceFacts) -> str | None:
    """Why this device cannot run the installed RAPIDS build, or None when it can."""
    major, needs = build_needs(facts.cuda_runtime)
    if facts.driver is not None:
        driver_major = int(facts.driver.split(".")[0])
        if driver_major < needs.driver_major:
            return (
                f"the NVIDIA driver {facts.driver} is too old for the CUDA {major} build of "
                f"RAPIDS (needs {needs.driver_major} or newer)"
            )
    if facts.cuda_driver and facts.cuda_driver < major * 1000:
        return (
            f"the NVIDIA driver supports CUDA {_cuda_text(facts.cuda_driver)} only; RAPIDS here "
            f"is built for CUDA {major}"
        )
    if facts.compute_capability < needs.compute_capability:
        wanted = "{}.{}".format(*needs.compute_capability)
        return (
            f"{facts.name} has compute capability {{}}.{{}}".format(*facts.compute_capability)
            + f", the CUDA {major} build of RAPIDS needs {wanted} ({needs.generation}) or newer"
        )
    return None


def driver_hint(driver: str | None, cuda_runtime: int) -> str:
    """What to add when CUDA cannot start at all: the driver here and what the build needs.

    An R570 driver under the CUDA 13 build fails at the first CUDA call, before the device
    facts can be read, so `device_problem` never sees it."""
    major, needs = build_needs(cuda_runtime)
    found = f"the NVIDIA driver here is {driver}" if driver else "the driver version is unreadable"
    return f"{found}; the CUDA {major} build of RAPIDS needs {needs.driver_major} or newer"


def read_device_facts(device: int = 0) -> DeviceFacts:
    """Facts of one CUDA device, through CuPy (imported here, never at module import)."""
    import cupy

    runtime = cupy.cuda.runtime
    props = runtime.getDeviceProperties(device)
    name = props["name"]
    with cupy.cuda.Device(device):
        free, total = cupy.cuda.runtime.memGetInfo()
    return DeviceFacts(
        name=name.decode() if isinstance(name, bytes) else str(name),
        total_bytes=int(total),
        free_bytes=int(free),
        compute_capability=(int(props["major"]), int(props["minor"])),
        driver=read_driver_version(),
        cuda_driver=int(runtime.driverGetVersion()),
        cuda_runtime=int(runtime.runtimeGetVersion()),
    )


# cuVS's batched silhouette indexes a chunk's distance tile (chunk x chunk) and its rows x labels
# matrix with 32-bit `int`: a chunk above 46,340 rows (the square root of 2**31) overflows.
# cuML's own default chunk is 40,000; no chunk goes above it.
SILHOUETTE_MAX_CHUNK = 40_000


def silhouette_chunk(free_bytes: int, rows: int, labels: int, share: float) -> int:
    """Rows per batch for cuML's batched silhouette within `share` of free device memory.

    cuVS computes the distances tile by tile, each tile (chunk x chunk) float32, beside its own
    rows x labels matrix of mean distances to every cluster and a per-row vector; so the chunk is
    the square root of what is left, not budget / rows, which gave tiles far smaller than memory
    allows (400 x 400 instead of about 62,000 x 62,000 with 40 GB free, 10M rows, 10 clusters).
    """
    budget = free_bytes * share - 4 * rows * (labels + 1)
    chunk = math.isqrt(max(int(budget // 4), 1))
    return min(max(chunk, 1), max(rows, 1), SILHOUETTE_MAX_CHUNK)


def devices_note(count: int) -> str | None:
    """What the log says when more than one GPU is visible: the job uses the first only."""
    if count <= 1:
        return None
    return (
        f"{count} GPUs are visible; this job uses GPU 0 only (spreading the work over every GPU "
        "of the instance is not built yet: a multi-GPU instance costs more and runs no faster)"
    )
