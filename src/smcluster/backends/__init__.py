"""Compute backends behind one seam: the pipeline is written once against `Backend`.

`select_backend` picks the CPU (NumPy, pandas, scikit-learn, umap-learn) or the GPU (CuPy, cuDF,
cuML) and is the only place that decides; nothing outside this package asks which one runs.
GPU modules are imported only after the device checks pass. May import `contract` only.
"""

from __future__ import annotations

import logging

from ..contract.errors import BackendError
from .base import Backend

log = logging.getLogger(__name__)


def gpu_unavailable_reason() -> str | None:
    """Why the GPU backend cannot run here, or None when it can (device facts are logged)."""
    try:
        import cudf  # noqa: F401
        import cuml  # noqa: F401
        import cupy
    except Exception as exc:  # ImportError, or CUDA errors raised at import
        return f"RAPIDS is not importable ({type(exc).__name__}: {exc})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        from .device import driver_hint, read_driver_version

        try:  # the runtime's own version needs no driver
            runtime = int(cupy.cuda.runtime.runtimeGetVersion())
        except Exception:
            runtime = 0
        hint = driver_hint(read_driver_version(), runtime)
        return f"no usable CUDA device ({type(exc).__name__}: {exc}; {hint})"
    if count == 0:
        return "no CUDA device is visible"
    from .device import device_problem, devices_note, read_device_facts

    note = devices_note(count)
    if note:
        log.warning("GPU: %s", note)
    try:
        facts = read_device_facts()
    except Exception as exc:
        return f"the CUDA device cannot be queried ({type(exc).__name__}: {exc})"
    log.info(
        "GPU: %s",
        ", ".join(f"{key} {value}" for key, value in facts.describe().items()),
    )
    return device_problem(facts)


def select_backend(choice: str) -> Backend:
    """`cpu`, `gpu` (fails clearly without one) or `auto` (GPU when usable, said in the log)."""
    if choice == "cpu":
        from .cpu import CpuBackend

        log.info("backend: cpu (backend=cpu)")
        return CpuBackend()
    reason = gpu_unavailable_reason()
    if reason is None:
        from .gpu import GpuBackend

        log.info("backend: gpu (backend=%s)", choice)
        return GpuBackend()
    if choice == "gpu":
        raise BackendError(
            f"backend=gpu was asked for but {reason}.",
            "run on a GPU instance (ml.g4dn, ml.g5, ml.p3 and newer) with the GPU image, "
            "`--gpus all` and an NVIDIA driver 535 or newer, or set backend=cpu or backend=auto.",
        )
    from .cpu import CpuBackend

    log.warning("backend: cpu (backend=auto fell back to the CPU because %s)", reason)
    return CpuBackend()


__all__ = ["Backend", "select_backend"]
