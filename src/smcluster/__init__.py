"""smcluster: cluster large tables on SageMaker, on the GPU (RAPIDS) or the CPU.

Layers, each importing only those below it (checked by import-linter in `make lint`):

    train, cli              entrypoints (`train` never imports `tools`)
    job, tools              one training job; the tools around the image
    synthetic               data with known answers (demo, benchmarks, tests)
    output, tracking        the model directory and metric lines; experiment tracking
    report                  plots, profiles and report.html
    pipeline                the stages, written once against the backend seam
    backends                CPU (NumPy, scikit-learn) and GPU (CuPy, cuML)
    contract                the SageMaker contract: paths, channels, hyperparameters, failure
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from .pipeline.model import ClusterModel


def load_model(path: str | Path) -> ClusterModel:
    """Load a fitted model bundle from a model directory; see `smcluster.output.bundle`."""
    from .output.bundle import load_model as load

    return load(path)


def metric_definitions() -> list[dict[str, str]]:
    """`metric_definitions` for an Estimator or HyperparameterTuner (the regexes of the lines
    `train` prints); see `smcluster.output.metric_lines`."""
    from .output.metric_lines import metric_definitions as definitions

    return definitions()


__all__ = ["__version__", "load_model", "metric_definitions"]
