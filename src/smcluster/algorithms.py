"""The clustering step behind one seam: `dbscan`, `hdbscan`, `kmeans` or `gmm`.

Each returns labels on the backend plus what the model bundle needs to assign new rows
(see `model.py`): reference points with their labels and a radius, or a host estimator.

| algorithm | CPU | GPU | new rows are assigned by |
|---|---|---|---|
| dbscan | chunked, memory-bounded (`dbscan_chunked`) | cuML DBSCAN | nearest core within eps |
| hdbscan | scikit-learn HDBSCAN | cuML HDBSCAN | label of the nearest training row |
| kmeans | scikit-learn KMeans | cuML KMeans | nearest centre |
| gmm | scikit-learn GaussianMixture | CPU only (host) | `GaussianMixture.predict` |
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends.base import Backend
from .eps import EpsChoice, choose_eps
from .hyperparameters import Hyperparameters
from .stages import StageClock

log = logging.getLogger(__name__)

ALGORITHMS = ("dbscan", "hdbscan", "kmeans", "gmm")
CPU_ONLY = {"gmm"}
HDBSCAN_REFERENCE_ROWS = 200_000  # training rows kept in the bundle to label new rows
CPU_HDBSCAN_COMFORTABLE_ROWS = 500_000


@dataclass
class Clustering:
    labels: Any  # per row, on the backend (-1 noise)
    reference_points: np.ndarray  # host; new rows take the label of the nearest one ...
    reference_labels: np.ndarray
    radius: float  # ... when it lies within this distance (inf: always)
    eps: EpsChoice | None = None  # DBSCAN only
    estimator: Any = None  # host estimator with .predict (gmm), used instead of the points
    info: dict[str, Any] = field(default_factory=dict)


def run_dbscan(backend: Backend, data: Any, hp: Hyperparameters, clock: StageClock) -> Clustering:
    rows = data.shape[0]
    with clock.stage("choose_eps", rows=rows):
        eps = choose_eps(
            backend,
            data,
            given=hp.eps,
            min_samples=hp.min_samples,
            sensitivity=hp.eps_knee_sensitivity,
            fallback_quantile=hp.eps_fallback_quantile,
            sample_size=hp.eps_sample_size,
            random_state=hp.random_state,
        )
    with clock.stage("cluster_dbscan", rows=rows):
        labels, core = backend.dbscan(data, eps.eps, hp.min_samples, hp.dbscan_memory_mb)
    core_index = backend.xp.asarray(core)
    return Clustering(
        labels=labels,
        reference_points=backend.to_numpy(data[core_index]),
        reference_labels=backend.to_numpy(labels[core_index]).astype(np.int32),
        radius=eps.eps,
        eps=eps,
    )


def run_hdbscan(backend: Backend, data: Any, hp: Hyperparameters, clock: StageClock) -> Clustering:
    rows = data.shape[0]
    if backend.name == "cpu" and rows > CPU_HDBSCAN_COMFORTABLE_ROWS:
        log.warning(
            "algorithm=hdbscan on the CPU with %s rows: scikit-learn's HDBSCAN builds a minimum "
            "spanning tree over every row and is not benchmarked at this size; backend=gpu "
            "(cuML) or algorithm=dbscan (memory-bounded, benchmarked to 1M rows) scale further",
            f"{rows:,}",
        )
    with clock.stage("cluster_hdbscan", rows=rows):
        labels = backend.hdbscan(data, min(hp.min_cluster_size, rows), hp.min_samples)
    picked = np.arange(rows)
    if rows > HDBSCAN_REFERENCE_ROWS:
        rng = np.random.default_rng(hp.random_state)
        picked = np.sort(rng.choice(rows, size=HDBSCAN_REFERENCE_ROWS, replace=False))
    index = backend.xp.asarray(picked)
    return Clustering(
        labels=labels,
        reference_points=backend.to_numpy(data[index]),
        reference_labels=backend.to_numpy(labels[index]).astype(np.int32),
        radius=math.inf,
        info={"reference_rows": len(picked)},
    )


def run_kmeans(backend: Backend, data: Any, hp: Hyperparameters, clock: StageClock) -> Clustering:
    with clock.stage("cluster_kmeans", rows=data.shape[0]):
        labels, centres = backend.kmeans(data, hp.n_clusters, hp.random_state)
    centres = backend.to_numpy(centres).astype(np.float32)
    return Clustering(
        labels=labels,
        reference_points=centres,
        reference_labels=np.arange(len(centres), dtype=np.int32),
        radius=math.inf,
    )


def run_gmm(backend: Backend, data: Any, hp: Hyperparameters, clock: StageClock) -> Clustering:
    from sklearn.mixture import GaussianMixture

    if backend.name != "cpu":
        log.warning(
            "algorithm=gmm is CPU-only (cuML has no Gaussian mixture): fitting scikit-learn's "
            "GaussianMixture on the host; the other stages stay on the %s",
            backend.name,
        )
    host = backend.to_numpy(data)
    with clock.stage("cluster_gmm", rows=host.shape[0]):
        model = GaussianMixture(
            n_components=hp.n_clusters,
            covariance_type=hp.covariance_type,
            random_state=hp.random_state,
        ).fit(host)
        labels = model.predict(host).astype(np.int32)
    if not model.converged_:
        log.warning("GaussianMixture did not converge in %d iterations", model.max_iter)
    return Clustering(
        labels=backend.xp.asarray(labels),
        reference_points=np.empty((0, host.shape[1]), np.float32),
        reference_labels=np.empty(0, np.int32),
        radius=math.inf,
        estimator=model,
        info={"converged": bool(model.converged_)},
    )


RUNNERS = {"dbscan": run_dbscan, "hdbscan": run_hdbscan, "kmeans": run_kmeans, "gmm": run_gmm}


def cluster(backend: Backend, data: Any, hp: Hyperparameters, clock: StageClock) -> Clustering:
    return RUNNERS[hp.algorithm](backend, data, hp, clock)
