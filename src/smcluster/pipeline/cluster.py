"""Stage `cluster`: `dbscan`, `hdbscan`, `kmeans` or `gmm` on the embedding, behind the seam.

Each returns labels on the backend plus what the model bundle needs to assign new rows
(see `model.py`): reference points with their labels and a radius, or a host estimator.

| algorithm | CPU | GPU | new rows are assigned by |
|---|---|---|---|
| dbscan | chunked, memory-bounded (`backends.cpu_dbscan`) | cuML DBSCAN | nearest core within eps |
| hdbscan | scikit-learn HDBSCAN | cuML HDBSCAN | label of the nearest training row |
| kmeans | scikit-learn KMeans | cuML KMeans | nearest centre |
| gmm | scikit-learn GaussianMixture | CPU only (host) | `GaussianMixture.predict` |
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backends.base import Array, Backend, HostEstimator, to_host
from ..contract.schema import Hyperparameters
from .clock import StageClock
from .density import DensityRun, choose_min_samples, dbscan_with, run_candidate
from .eps import EpsChoice, choose_eps, query_neighbours
from .sampling import sample_index

ALGORITHMS = ("dbscan", "hdbscan", "kmeans", "gmm")
HDBSCAN_REFERENCE_ROWS = 200_000  # training rows kept in the bundle to label new rows


@dataclass
class Clustering:
    labels: Array  # per row, on the backend (-1 noise)
    reference_points: np.ndarray  # host; new rows take the label of the nearest one ...
    reference_labels: np.ndarray
    radius: float  # ... when it lies within this distance (inf: always)
    eps: EpsChoice | None = None  # DBSCAN only
    estimator: HostEstimator | None = None  # labels new rows instead of the points (gmm)
    info: dict[str, Any] = field(default_factory=dict)


def run_dbscan(backend: Backend, hp: Hyperparameters, data: Array, clock: StageClock) -> Clustering:
    """DBSCAN; with `min_samples=auto` its settings are chosen on a sample first.

    When the sample is every row the chosen run is the result; otherwise the chosen
    `min_samples` runs on every row with its own knee (or the split quantile found).
    """
    rows = data.shape[0]
    sampled = rows > hp.eps_sample_size
    with clock.stage("choose_eps", rows=rows):
        chosen = choose_min_samples(backend, hp, data) if hp.min_samples is None else None
        min_samples = chosen.min_samples if chosen is not None else hp.min_samples
        assert min_samples is not None
        if chosen is not None and sampled:  # chosen on a sample: eps from every row
            neighbours = query_neighbours(backend, hp, data, min_samples)
            eps = choose_eps(hp, neighbours, min_samples)
            if chosen.split_quantile is not None and neighbours is not None:
                split = neighbours.core_distance_quantile(min_samples, chosen.split_quantile)
                eps = EpsChoice(split, "split", eps.k, eps.curve, eps.knee_index)
    with clock.stage("cluster_dbscan", rows=rows):
        if chosen is None:
            run = run_candidate(backend, hp, data, min_samples)
        elif not sampled:
            run = chosen  # the sample was every row: the chosen run is the clustering
        else:
            labels, core = dbscan_with(backend, hp, data, min_samples, eps.eps, neighbours)
            run = DensityRun(min_samples, eps, labels, core)
    core_index = backend.xp.asarray(run.core)
    return Clustering(
        labels=run.labels,
        reference_points=to_host(data[core_index]),
        reference_labels=to_host(run.labels[core_index]).astype(np.int32),
        radius=run.eps.eps,
        eps=run.eps,
        info={"min_samples": min_samples},
    )


def run_hdbscan(
    backend: Backend, hp: Hyperparameters, data: Array, clock: StageClock
) -> Clustering:
    rows = data.shape[0]
    with clock.stage("cluster_hdbscan", rows=rows):
        labels = backend.hdbscan(data, min(hp.min_cluster_size, rows), hp.min_samples)
    picked = sample_index(rows, HDBSCAN_REFERENCE_ROWS, hp.random_state)
    index = backend.xp.asarray(picked)
    return Clustering(
        labels=labels,
        reference_points=to_host(data[index]),
        reference_labels=to_host(labels[index]).astype(np.int32),
        radius=math.inf,
        info={"reference_rows": len(picked)},
    )


def run_kmeans(backend: Backend, hp: Hyperparameters, data: Array, clock: StageClock) -> Clustering:
    with clock.stage("cluster_kmeans", rows=data.shape[0]):
        labels, centres = backend.kmeans(data, hp.n_clusters, hp.random_state)
    host_centres = to_host(centres).astype(np.float32)
    return Clustering(
        labels=labels,
        reference_points=host_centres,
        reference_labels=np.arange(len(host_centres), dtype=np.int32),
        radius=math.inf,
    )


def run_gmm(backend: Backend, hp: Hyperparameters, data: Array, clock: StageClock) -> Clustering:
    with clock.stage("cluster_gmm", rows=data.shape[0]):
        labels, model, info = backend.gaussian_mixture(
            data, hp.n_clusters, hp.covariance_type, hp.random_state
        )
    return Clustering(
        labels=labels,
        reference_points=np.empty((0, data.shape[1]), np.float32),
        reference_labels=np.empty(0, np.int32),
        radius=math.inf,
        estimator=model,
        info=info,
    )


Runner = Callable[[Backend, Hyperparameters, Array, StageClock], Clustering]
RUNNERS: dict[str, Runner] = {
    "dbscan": run_dbscan,
    "hdbscan": run_hdbscan,
    "kmeans": run_kmeans,
    "gmm": run_gmm,
}


def cluster(backend: Backend, hp: Hyperparameters, data: Array, clock: StageClock) -> Clustering:
    return RUNNERS[hp.algorithm](backend, hp, data, clock)
