"""The fitted model: everything needed to assign new rows to the fitted clusters.

A new row is prepared and embedded exactly as the training rows were, then assigned by the rule
of the algorithm that made the clusters:

- dbscan: the cluster of its nearest core point when that point lies within `eps`, else noise
  (-1). For training rows this reproduces DBSCAN's labels (border points within `eps` of cores
  of two clusters go to the nearest core, as the CPU DBSCAN itself does).
- hdbscan: the label of its nearest training row (noise when that row is noise). The bundle keeps
  up to 200,000 training rows for this; HDBSCAN's own `approximate_predict` needs the condensed
  tree, which scikit-learn does not expose and which does not move between cuML and the CPU.
- kmeans: its nearest centre (`core_points` holds the centres, `eps` is infinite).
- gmm: `GaussianMixture.predict` (the fitted estimator is in `estimator`).

Saving and loading it as a model directory's bundle is `output.bundle`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..backends.base import Array, Backend, HostEstimator, Reducer, to_host
from ..contract.errors import DataError
from .preparation import FeaturePrep


@dataclass
class ClusterModel:
    prep: FeaturePrep
    reducer: Reducer | None  # fitted reducer with .transform, or None
    core_points: np.ndarray  # embedding coordinates of DBSCAN core samples
    core_labels: np.ndarray
    eps: float  # assignment radius: DBSCAN's eps, infinite for the other algorithms
    algorithm: str = "dbscan"
    info: dict[str, Any] = field(default_factory=dict)
    estimator: HostEstimator | None = None  # labels new rows instead of the points (gmm)

    @property
    def features(self) -> list[str]:
        return list(self.prep.columns)

    def embed(self, frame: pd.DataFrame) -> np.ndarray:
        """Prepare and reduce new rows (a pandas frame holding the feature columns)."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise DataError(
                f"rows to assign lack feature columns: {', '.join(missing)}.",
                "pass a table with the same feature columns as the training data.",
            )
        raw = frame[self.features].apply(pd.to_numeric, errors="coerce")
        prepared = self.prep.transform(raw.to_numpy(dtype=np.float32, na_value=np.nan), np)
        if self.reducer is None:
            return np.asarray(prepared)
        return np.asarray(self.reducer.transform(prepared), dtype=np.float32)

    def assign(self, embedding: np.ndarray) -> np.ndarray:
        """Cluster ids for embedded rows by the algorithm's rule (-1 for noise)."""
        if self.estimator is not None:
            return self.estimator.predict(np.asarray(embedding)).astype(np.int32)
        if len(self.core_points) == 0:
            return np.full(len(embedding), -1, dtype=np.int32)
        from sklearn.neighbors import NearestNeighbors

        index = NearestNeighbors(n_neighbors=1).fit(self.core_points)
        distances, nearest = index.kneighbors(embedding)
        labels = self.core_labels[nearest[:, 0]]
        return np.where(distances[:, 0] <= self.eps, labels, -1).astype(np.int32)

    def assign_on(self, backend: Backend, embedding: Array) -> Array:
        """`assign` on a backend's arrays (CuPy stays on the device), labels on the backend."""
        xp = backend.xp
        if self.estimator is not None:
            return xp.asarray(self.estimator.predict(to_host(embedding)).astype(np.int32))
        if len(self.core_points) == 0:
            return xp.full(embedding.shape[0], -1, dtype=xp.int32)
        distance, nearest = backend.nearest(xp.asarray(self.core_points), embedding)
        labels = xp.asarray(self.core_labels)[nearest]
        return xp.where(distance <= self.eps, labels, -1).astype(xp.int32)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.assign(self.embed(frame))
