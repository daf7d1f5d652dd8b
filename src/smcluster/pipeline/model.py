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

Missing or infinite feature values follow the training job's `missing`: refused (error), the row
left out and labelled -2 (drop), or imputed with the values fitted on the training rows.

Saving and loading it as a model directory's bundle is `output.bundle`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..backends.base import Array, Backend, HostEstimator, Reducer, to_host
from ..contract.errors import DataError
from ..contract.output_columns import DROPPED
from .cluster.mass import assign_within_radii
from .prepare.features import check_float32_range
from .prepare.preparation import FeaturePrep
from .refine.outliers import OutlierRule

NEW_ROWS = " in the rows to assign"  # where messages about them say they are


@dataclass
class ClusterModel:
    prep: FeaturePrep
    reducer: Reducer | None  # fitted reducer with .transform, or None
    core_points: np.ndarray  # embedding coordinates of DBSCAN core samples
    core_labels: np.ndarray
    eps: float  # assignment radius: DBSCAN's eps, infinite for the other algorithms
    radii: np.ndarray | None = None  # per core point, where each cluster has its own radius
    algorithm: str = "dbscan"
    info: dict[str, Any] = field(default_factory=dict)
    estimator: HostEstimator | None = None  # labels new rows instead of the points (gmm)
    outliers: OutlierRule | None = None  # rows far from every dense group are noise (-1)
    # Rows beyond every radius join their nearest cluster unless `outliers` flags them (the
    # radius per cluster, `mass.py`); `outliers` then makes noise only of those rows when no
    # reducer ran (the clusterer saw the prepared rows themselves), of any row after one.
    join_beyond_radius: bool = False
    outliers_everywhere: bool = True

    @property
    def features(self) -> list[str]:
        return list(self.prep.columns)

    def prepare_rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """New rows (a pandas frame holding the feature columns) checked and prepared as the
        training rows were, under the training job's `missing`: (prepared kept rows, kept-row
        mask; False where missing=drop left a row out)."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise DataError(
                f"rows to assign lack feature columns: {', '.join(missing)}.",
                "pass a table with the same feature columns as the training data.",
            )
        raw = frame[self.features].apply(pd.to_numeric, errors="coerce")
        text = raw.isna() & frame[self.features].notna()
        if text.to_numpy().any():
            column = next(c for c in self.features if text[c].any())
            rows = np.flatnonzero(text[column].to_numpy())[:3]
            examples = ", ".join(repr(frame[column].iloc[i]) for i in rows)
            raise DataError(
                f"feature column '{column}' holds text in rows to assign, e.g. {examples} "
                f"(data rows {', '.join(str(i + 1) for i in rows)}); training read it as "
                "numbers.",
                "clean the values to numbers (leave a missing value empty).",
            )
        from ..backends.cpu import CpuBackend  # new rows are pandas: checked on the host

        check_float32_range(CpuBackend(), raw, self.features, NEW_ROWS)  # the cast: inf
        values = raw.to_numpy(dtype=np.float32, na_value=np.nan)
        prepared, kept = self.prep.transform_rows(values, np, NEW_ROWS)
        return np.asarray(prepared), np.asarray(kept, dtype=bool)

    def prepare(self, frame: pd.DataFrame) -> np.ndarray:
        """The rows of `frame` that `missing` keeps (every row unless missing=drop), prepared."""
        return self.prepare_rows(frame)[0]

    def reduce(self, prepared: np.ndarray) -> np.ndarray:
        if self.reducer is None:
            return prepared
        return np.asarray(self.reducer.transform(prepared), dtype=np.float32)

    def embed(self, frame: pd.DataFrame) -> np.ndarray:
        """Prepare and reduce new rows (a pandas frame holding the feature columns); with
        missing=drop only the complete ones."""
        return self.reduce(self.prepare(frame))

    def assign_on(self, backend: Backend, embedding: Array, prepared: Array) -> Array:
        """Cluster ids (-1 noise) for embedded rows and their prepared features, on the
        backend (CuPy stays on the device), by every rule the training rows met: the
        algorithm's assignment (the nearest clustered row within its cluster's radius, or the
        estimator's own), the join beyond the radii and the outlier rule."""
        xp = backend.xp
        if self.estimator is not None:
            return xp.asarray(self.estimator.predict(to_host(embedding)).astype(np.int32))
        radii = float(self.eps) if self.radii is None else self.radii
        far = None if self.outliers is None else xp.asarray(self.outliers.flags(backend, prepared))
        joining = far if self._joins() else None
        labels = assign_within_radii(
            backend, self.core_points, self.core_labels, radii, embedding, joining
        )
        if far is not None and self._everywhere():
            labels = xp.where(far, -1, labels)
        return labels.astype(xp.int32)

    def label(self, prepared: np.ndarray) -> np.ndarray:
        """Cluster ids (-1 noise) for prepared new rows on the host (`predict`): `assign_on`
        on the CPU backend, so that one rule labels new rows in a job and in `predict`."""
        from ..backends.cpu import CpuBackend

        return np.asarray(self.assign_on(CpuBackend(), self.reduce(prepared), prepared))

    # Bundles written before these fields unpickle without them: the rules of that time.
    def _joins(self) -> bool:
        return bool(getattr(self, "join_beyond_radius", False)) and self.outliers is not None

    def _everywhere(self) -> bool:
        return bool(getattr(self, "outliers_everywhere", True))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Cluster ids per row of `frame`: -1 noise, DROPPED where missing=drop left it out."""
        prepared, kept = self.prepare_rows(frame)
        labels = np.full(len(frame), DROPPED, dtype=np.int32)
        if kept.any():  # the reducer cannot transform zero rows
            labels[kept] = self.label(prepared)
        return labels
