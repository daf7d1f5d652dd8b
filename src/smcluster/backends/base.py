"""The backend seam: arrays, data frames and estimators, for the CPU and GPU alike."""

from __future__ import annotations

import importlib.metadata as md
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from ..data import TableFile


def to_host(array: Any) -> np.ndarray:
    """A NumPy copy of a NumPy or CuPy array (CuPy's `.get()` copies device to host)."""
    return array.get() if hasattr(array, "get") else np.asarray(array)


def package_version(package: str) -> str:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return "not installed"


REDUCER_ARGUMENTS = {
    "pca": ("n_components", "random_state"),
    "umap": ("n_components", "n_neighbors", "min_dist", "metric", "random_state"),
    "tsne": ("n_components", "perplexity", "random_state"),
}


def reducer_arguments(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments both libraries' estimators take for this reducer (same names)."""
    if kind not in REDUCER_ARGUMENTS:
        raise ValueError(f"unknown reducer {kind!r}")
    return {name: params[name] for name in REDUCER_ARGUMENTS[kind]}


class Reducer(Protocol):
    def fit_transform(self, data: Any) -> Any: ...
    def transform(self, data: Any) -> Any: ...


class Backend(Protocol):
    """What the pipeline needs from a compute library. `xp` is numpy or cupy."""

    name: str
    xp: ModuleType

    def describe(self) -> dict[str, str]:
        """Library versions and device facts, for logs and the resolved hyperparameters."""
        ...

    def read_table(self, files: list[TableFile]) -> Any:
        """All files as one data frame (pandas or cuDF), in the given order."""
        ...

    def columns_to_array(self, frame: Any, columns: list[str]) -> Any:
        """Selected numeric columns as a float32 matrix on the backend; missing become NaN."""
        ...

    def to_numpy(self, array: Any) -> np.ndarray: ...

    def make_reducer(self, kind: str, params: dict[str, Any]) -> Reducer | None: ...

    def kth_neighbor_distance(self, data: Any, queries: Any, k: int) -> Any:
        """Distance from each query row to its k-th nearest row of `data` (itself excluded)."""
        ...

    def dbscan(self, data: Any, eps: float, min_samples: int, memory_mb: int) -> tuple[Any, Any]:
        """DBSCAN labels (-1 noise) and the indices of the core samples, memory bounded."""
        ...

    def hdbscan(self, data: Any, min_cluster_size: int, min_samples: int) -> Any:
        """HDBSCAN labels (-1 noise)."""
        ...

    def kmeans(self, data: Any, n_clusters: int, random_state: int) -> tuple[Any, Any]:
        """k-means labels and the cluster centres."""
        ...

    def nearest(self, reference: Any, queries: Any) -> tuple[Any, Any]:
        """For each query row: distance to and index of the nearest reference row."""
        ...

    def silhouette(self, data: Any, labels: Any) -> float: ...
    def davies_bouldin(self, data: Any, labels: Any) -> float: ...
    def calinski_harabasz(self, data: Any, labels: Any) -> float: ...
