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

from ...backends.base import Array, Backend, Clusterers, HostEstimator, to_host
from ...contract.schema import Hyperparameters
from ..runtime.sampling import sample_index
from .density import run_candidate
from .eps import EpsChoice, Neighbours, query_neighbours
from .mass import MIN_SAMPLES, MassSelection, auto_min_cluster_size, label_rows, select_by_mass

ALGORITHMS = ("dbscan", "hdbscan", "kmeans", "gmm")
HDBSCAN_REFERENCE_ROWS = 200_000  # training rows kept in the bundle to label new rows


@dataclass(frozen=True)
class Clustering:
    labels: Array  # per row, on the backend (-1 noise)
    reference_points: np.ndarray  # host; new rows take the label of the nearest one ...
    reference_labels: np.ndarray
    radius: float  # ... when it lies within this distance (inf: always) ...
    reference_radii: np.ndarray | None = None  # ... or within its own cluster's radius
    eps: EpsChoice | None = None  # DBSCAN only
    estimator: HostEstimator | None = None  # labels new rows instead of the points (gmm)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EpsPlan:
    """What stage `choose_eps` hands to DBSCAN: the radii chosen by excess of mass (`eps` and
    `min_samples` both `auto`), or the neighbour distances its k-distance knee is read from."""

    min_samples: int
    by_mass: MassSelection | None = None
    neighbours: Neighbours | None = None


def choose_eps(backend: Backend, hp: Hyperparameters, data: Array) -> EpsPlan:
    """DBSCAN's radius. With `eps` and `min_samples` both `auto`, a radius per cluster by excess
    of mass (`mass.py`); otherwise the `min_samples`-th neighbour distances (`eps.py`), whose
    knee gives `eps` unless it is set (`MIN_SAMPLES` when only `eps` is set)."""
    if hp.eps is None and hp.min_samples is None:
        return EpsPlan(MIN_SAMPLES, by_mass=select_by_mass(backend, hp, data))
    min_samples = hp.min_samples if hp.min_samples is not None else MIN_SAMPLES
    return EpsPlan(min_samples, neighbours=query_neighbours(backend, hp, data, min_samples))


def run_dbscan(
    backend: Backend, hp: Hyperparameters, data: Array, plan: EpsPlan | None
) -> Clustering:
    """DBSCAN at the plan's radius (a split sought when one cluster dominates, `density.py`)."""
    assert plan is not None, "stage choose_eps runs before DBSCAN"
    chosen = plan.by_mass
    if chosen is not None:
        labels = label_rows(backend, chosen, data)
        return Clustering(
            labels=labels,
            reference_points=chosen.members,
            reference_labels=chosen.member_labels.astype(np.int32),
            radius=chosen.eps.eps,
            reference_radii=chosen.member_radii.astype(np.float32),
            eps=chosen.eps,
            info={"min_samples": plan.min_samples, "min_cluster_size": chosen.min_cluster_size},
        )
    assert plan.neighbours is not None
    run = run_candidate(backend, hp, data, plan.min_samples, plan.neighbours)
    core_index = backend.xp.asarray(run.core)
    return Clustering(
        labels=run.labels,
        reference_points=to_host(data[core_index]),
        reference_labels=to_host(run.labels[core_index]).astype(np.int32),
        radius=run.eps.eps,
        eps=run.eps,
        info={"min_samples": plan.min_samples},
    )


def run_hdbscan(
    backend: Clusterers, hp: Hyperparameters, data: Array, plan: EpsPlan | None
) -> Clustering:
    rows = data.shape[0]
    size = hp.min_cluster_size or auto_min_cluster_size(rows)
    labels = backend.hdbscan(data, min(size, rows), hp.min_samples or MIN_SAMPLES)
    picked = sample_index(rows, HDBSCAN_REFERENCE_ROWS, hp.random_state)
    index = backend.xp.asarray(picked)
    return Clustering(
        labels=labels,
        reference_points=to_host(data[index]),
        reference_labels=to_host(labels[index]).astype(np.int32),
        radius=math.inf,
        info={
            "reference_rows": len(picked),
            "min_cluster_size": size,
            "min_samples": hp.min_samples or MIN_SAMPLES,
        },
    )


def run_kmeans(
    backend: Clusterers, hp: Hyperparameters, data: Array, plan: EpsPlan | None
) -> Clustering:
    labels, centres = backend.kmeans(data, hp.n_clusters, hp.random_state)
    host_centres = to_host(centres).astype(np.float32)
    return Clustering(
        labels=labels,
        reference_points=host_centres,
        reference_labels=np.arange(len(host_centres), dtype=np.int32),
        radius=math.inf,
    )


def run_gmm(
    backend: Clusterers, hp: Hyperparameters, data: Array, plan: EpsPlan | None
) -> Clustering:
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


Runner = Callable[[Backend, Hyperparameters, Array, "EpsPlan | None"], Clustering]
RUNNERS: dict[str, Runner] = {
    "dbscan": run_dbscan,
    "hdbscan": run_hdbscan,
    "kmeans": run_kmeans,
    "gmm": run_gmm,
}


def cluster(
    backend: Backend, hp: Hyperparameters, data: Array, plan: EpsPlan | None = None
) -> Clustering:
    """The embedding's clusters by `hp.algorithm`; DBSCAN needs stage `choose_eps`'s plan."""
    return RUNNERS[hp.algorithm](backend, hp, data, plan)
