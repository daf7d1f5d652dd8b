"""What a finished pipeline run reports to a tracker: parameters, inputs, metrics, tags."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING

from ..contract.metrics import metric_name
from ..contract.paths import JobPaths
from ..contract.schema import Hyperparameters
from ..pipeline.load import ChannelInput
from ..version import __version__
from .base import ParamValue, RunInfo

if TYPE_CHECKING:  # heavy imports, only for annotations
    from ..pipeline.run import RunResult, SplitResult


def _text(value: object) -> ParamValue:
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, (int, float, str)):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def run_params(result: RunResult) -> dict[str, ParamValue]:
    """Resolved hyperparameters (every one, defaults included), the eps used, backend, versions.

    `eps_used` and `eps_method` exist for DBSCAN only: the other algorithms have no eps.
    """
    params: dict[str, ParamValue] = {k: _text(v) for k, v in result.hp.to_json().items()}
    params.update(
        {
            "features_used": _text(result.features),
            "n_features": len(result.features),
            "smcluster_version": __version__,
        }
    )
    if result.eps is not None:
        params.update(eps_used=float(result.eps.eps), eps_method=result.eps.method)
    params.update({f"versions.{k}": str(v) for k, v in result.backend_info.items()})
    return params


def run_metrics(result: RunResult) -> dict[str, float]:
    """Metrics under the names the job prints and SageMaker reads (`train:silhouette`)."""
    splits: list[tuple[str, SplitResult | None]] = [
        ("train", result.train),
        ("validation", result.validation),
    ]
    metrics = {
        metric_name(split, key): float(value)
        for split, outcome in splits
        if outcome is not None
        for key, value in outcome.metrics.items()
    }
    metrics.update({f"seconds.{k}": float(v) for k, v in result.timings.items()})
    return metrics


def run_inputs(result: RunResult) -> list[ChannelInput]:
    """Each channel as it was read: files, rows, columns and the fingerprint taken then."""
    splits = (result.train, result.validation)
    return [split.input for split in splits if split is not None and split.input is not None]


def run_info(hp: Hyperparameters, paths: JobPaths, backend: str = "") -> RunInfo:
    """Run name and tags: job name, backend, smcluster version."""
    job = paths.env.get("TRAINING_JOB_NAME", "")
    name = hp.run_name or job or time.strftime("smcluster-%Y%m%d-%H%M%S")
    tags = {"smcluster.version": __version__, "smcluster.job_name": job or name}
    if backend:
        tags["smcluster.backend"] = backend
    host = os.environ.get("SM_CURRENT_HOST")
    if host:
        tags["smcluster.host"] = host
    return RunInfo(run_name=name, experiment_name=hp.experiment_name or "smcluster", tags=tags)
