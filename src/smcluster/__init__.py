"""smcluster: cluster large tables on SageMaker, on the GPU (RAPIDS) or the CPU."""

from __future__ import annotations

__version__ = "0.1.0"


def load_model(path):
    """Load a fitted model bundle from a model directory; see `smcluster.model.load_model`."""
    from .model import load_model as _load

    return _load(path)


__all__ = ["__version__", "load_model"]
