"""Compute backends behind one seam: the pipeline is written once against `Backend`."""

from __future__ import annotations

import logging

from ..errors import BackendError
from .base import Backend

log = logging.getLogger(__name__)


def gpu_unavailable_reason() -> str | None:
    """Why the GPU backend cannot run here, or None when it can."""
    try:
        import cudf  # noqa: F401
        import cuml  # noqa: F401
        import cupy
    except Exception as exc:  # ImportError, or CUDA errors raised at import
        return f"RAPIDS is not importable ({type(exc).__name__}: {exc})"
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return f"no usable CUDA device ({type(exc).__name__}: {exc})"
    return None if count > 0 else "no CUDA device is visible"


def select_backend(choice: str) -> Backend:
    """`cpu`, `gpu` (fails clearly without one) or `auto` (GPU when usable, said in the log)."""
    if choice == "cpu":
        from .cpu import CpuBackend

        return CpuBackend()
    reason = gpu_unavailable_reason()
    if reason is None:
        from .gpu import GpuBackend

        log.info("backend: gpu (backend=%s)", choice)
        return GpuBackend()
    if choice == "gpu":
        raise BackendError(
            f"backend=gpu was asked for but {reason}.",
            "run on a GPU instance (ml.g4dn, ml.g5, ml.p3 and newer) with the GPU image and "
            "`--gpus all`, or set backend=cpu or backend=auto.",
        )
    from .cpu import CpuBackend

    log.info("backend: cpu (backend=auto fell back because %s)", reason)
    return CpuBackend()


__all__ = ["Backend", "select_backend"]
