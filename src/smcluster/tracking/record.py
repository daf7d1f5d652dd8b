"""What a finished pipeline run reports to a tracker: parameters, inputs, metrics, tags."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..channels import Channel
from ..data import discover, read_columns
from ..metrics import metric_name
from ..paths import JobPaths
from ..pipeline import RunResult, SplitResult
from .base import InputRecord, ParamValue, RunInfo


def _text(value: Any) -> ParamValue:
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def run_params(result: RunResult) -> dict[str, ParamValue]:
    """Resolved hyperparameters (every one, defaults included), the eps used, backend, versions."""
    params: dict[str, ParamValue] = {k: _text(v) for k, v in result.hp.to_json().items()}
    params.update(
        {
            "eps_used": float(result.eps.eps),
            "eps_method": result.eps.method,
            "features_used": _text(result.features),
            "n_features": len(result.features),
            "smcluster_version": __version__,
        }
    )
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


def content_sha256(files: list[Path], root: Path) -> str:
    """One digest over every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def channel_input(channel: Channel, outcome: SplitResult) -> InputRecord:
    files = [table.path for table in discover(channel)]
    return InputRecord(
        channel=channel.name,
        source=str(channel.path),
        content_type=channel.content_type or "",
        files=[p.relative_to(channel.path).as_posix() for p in files],
        rows=len(outcome.ids),
        columns=read_columns(discover(channel)[0]),
        sha256=content_sha256(files, channel.path),
    )


def run_inputs(channels: dict[str, Channel], result: RunResult) -> list[InputRecord]:
    records = [channel_input(channels["train"], result.train)]
    if result.validation is not None and "validation" in channels:
        records.append(channel_input(channels["validation"], result.validation))
    return records


def run_info(hp: Any, paths: JobPaths, backend: str = "") -> RunInfo:
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
