"""Cluster quality metrics, the log lines that carry them, and the regexes that read those lines.

The line format and `metric_definitions()` come from the same constants, so a tuner's regex
always matches what `train` prints.
"""

from __future__ import annotations

import logging
import math
import re
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

from .backends.base import Backend

log = logging.getLogger(__name__)

LINE_PREFIX = "smcluster-metric"
_NUMBER = r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    direction: str  # "Maximize" or "Minimize": what a tuner should do with it
    worst: float  # sentinel printed when the value is undefined (ranks worst)
    help: str
    needs_labels: bool = False


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "silhouette", "Maximize", -1.0, "Mean silhouette in the embedding, noise excluded, sampled."
    ),
    MetricSpec("davies_bouldin", "Minimize", 1e6, "Davies-Bouldin index, noise excluded."),
    MetricSpec("calinski_harabasz", "Maximize", 0.0, "Calinski-Harabasz index, noise excluded."),
    MetricSpec("n_clusters", "Maximize", 0.0, "Clusters found (noise is not a cluster)."),
    MetricSpec("noise_fraction", "Minimize", 1.0, "Share of rows labelled noise (-1)."),
    MetricSpec("ari", "Maximize", -1.0, "Adjusted Rand index against label_column.", True),
    MetricSpec("ami", "Maximize", -1.0, "Adjusted mutual information against label_column.", True),
)
SPLITS = ("train", "validation")
OBJECTIVE = "train:silhouette"


def metric_name(split: str, name: str) -> str:
    return f"{split}:{name}"


def format_line(split: str, name: str, value: float) -> str:
    return f"{LINE_PREFIX} {metric_name(split, name)}={value:.6g}"


def metric_regex(split: str, name: str) -> str:
    # Prefix and names hold only letters, digits, '-', '_' and ':', none special in a regex.
    return f"{LINE_PREFIX} {metric_name(split, name)}=({_NUMBER})"


def metric_definitions() -> list[dict[str, str]]:
    """`metric_definitions` for an Estimator or HyperparameterTuner (SageMaker caps them at 40)."""
    return [
        {"Name": metric_name(split, spec.name), "Regex": metric_regex(split, spec.name)}
        for split in SPLITS
        for spec in METRICS
    ]


def read_metrics(log: str) -> dict[str, float]:
    """Every published metric found in `log`, the last value printed winning."""
    found: dict[str, float] = {}
    for definition in metric_definitions():
        matches = re.findall(definition["Regex"], log)
        if matches:
            found[definition["Name"]] = float(matches[-1])
    return found


def objective_direction(name: str = OBJECTIVE) -> str:
    base = name.split(":", 1)[1]
    return next(spec.direction for spec in METRICS if spec.name == base)


def _finite_or_worst(spec: MetricSpec, value: float | None) -> float:
    if value is None or not math.isfinite(value):
        return spec.worst
    return float(value)


def score(
    backend: Backend,
    data: Any,
    labels: Any,
    *,
    truth: np.ndarray | None,
    sample_size: int,
    random_state: int,
) -> tuple[dict[str, float], list[str]]:
    """All metrics for one split, with sentinels where undefined, and notes saying why."""
    host_labels = backend.to_numpy(labels)
    clustered = np.flatnonzero(host_labels >= 0)
    n_clusters = len(np.unique(host_labels[clustered]))
    values: dict[str, float | None] = {
        "n_clusters": float(n_clusters),
        "noise_fraction": float(1 - len(clustered) / max(len(host_labels), 1)),
    }
    notes: list[str] = []
    if n_clusters >= 2 and len(clustered) > n_clusters:
        rng = np.random.default_rng(random_state)
        sampled = clustered
        if len(clustered) > sample_size:
            sampled = np.sort(rng.choice(clustered, size=sample_size, replace=False))
        index = backend.xp.asarray(sampled)
        values["silhouette"] = backend.silhouette(data[index], labels[index])
        kept = backend.xp.asarray(clustered)
        values["davies_bouldin"] = backend.davies_bouldin(data[kept], labels[kept])
        values["calinski_harabasz"] = backend.calinski_harabasz(data[kept], labels[kept])
    else:
        notes.append(
            f"only {n_clusters} cluster(s) besides noise: silhouette, Davies-Bouldin and "
            "Calinski-Harabasz are undefined and reported as worst-ranking sentinels; try a "
            "larger eps, a smaller min_samples, or eps=auto"
        )
    if truth is not None:
        values["ari"] = float(adjusted_rand_score(truth, host_labels))
        values["ami"] = float(adjusted_mutual_info_score(truth, host_labels))
    result = {
        spec.name: _finite_or_worst(spec, values.get(spec.name))
        for spec in METRICS
        if spec.name in values or not spec.needs_labels
    }
    return result, notes


def emit(split: str, values: dict[str, float], stream: TextIO | None = None) -> list[str]:
    """Print one metric line per value, in schema order; returns the lines printed."""
    stream = stream or sys.stdout
    lines = [
        format_line(split, spec.name, values[spec.name]) for spec in METRICS if spec.name in values
    ]
    for line in lines:
        print(line, file=stream, flush=True)
    return lines
