"""CPU backend: pandas/pyarrow, NumPy, scikit-learn and umap-learn."""

from __future__ import annotations

import platform
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.neighbors import NearestNeighbors

from .. import dbscan_chunked
from ..data import TableFile
from ..errors import BackendError
from .base import package_version, reducer_arguments


class CpuBackend:
    name = "cpu"
    xp = np

    def describe(self) -> dict[str, str]:
        return {
            "backend": self.name,
            "python": platform.python_version(),
            **{p: package_version(p) for p in ("numpy", "pandas", "scikit-learn", "umap-learn")},
        }

    def read_table(self, files: list[TableFile]) -> pd.DataFrame:
        frames = []
        for table_file in files:
            with table_file.open_binary() as handle:
                if table_file.format == "parquet":
                    frames.append(pd.read_parquet(handle))
                else:
                    frames.append(pd.read_csv(handle, low_memory=False))
        if len(frames) == 1:
            return frames[0]
        return pd.concat([f[frames[0].columns] for f in frames], ignore_index=True)

    def columns_to_array(self, frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
        return frame[columns].to_numpy(dtype=np.float32, na_value=np.nan)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def make_reducer(self, kind: str, params: dict[str, Any]):
        if kind == "none":
            return None
        arguments = reducer_arguments(kind, params)
        if kind == "pca":
            return PCA(**arguments)
        if kind == "umap":
            try:
                import umap  # numba JIT: import only when UMAP is used
            except ImportError as exc:
                raise BackendError(
                    f"reducer=umap on the CPU needs umap-learn, which is not installed ({exc}); "
                    "the GPU image carries cuML's UMAP only.",
                    "use backend=auto or gpu on a GPU instance, reducer=pca, or the CPU image "
                    "(pip install 'smcluster[cpu]').",
                ) from None
            # A seed makes umap-learn single-threaded, on purpose (README: reproducibility).
            warnings.filterwarnings(
                "ignore", message="n_jobs value .* overridden", category=UserWarning
            )
            return umap.UMAP(**arguments)
        return TSNE(init="pca", **arguments)

    def kth_neighbor_distance(self, data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
        # Queries are rows of `data`, so the nearest hit is the row itself: ask for k + 1.
        index = NearestNeighbors(n_neighbors=k + 1).fit(data)
        distances, _ = index.kneighbors(queries)
        return distances[:, k]

    def dbscan(self, data: np.ndarray, eps: float, min_samples: int, memory_mb: int):
        return dbscan_chunked.dbscan(data, eps, min_samples, memory_mb)

    def hdbscan(self, data: np.ndarray, min_cluster_size: int, min_samples: int) -> np.ndarray:
        model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples).fit(data)
        return model.labels_.astype(np.int32)

    def kmeans(self, data: np.ndarray, n_clusters: int, random_state: int):
        model = KMeans(n_clusters=n_clusters, random_state=random_state).fit(data)
        return model.labels_.astype(np.int32), model.cluster_centers_.astype(np.float32)

    def nearest(self, reference: np.ndarray, queries: np.ndarray):
        distances, indices = NearestNeighbors(n_neighbors=1).fit(reference).kneighbors(queries)
        return distances[:, 0], indices[:, 0]

    def silhouette(self, data: np.ndarray, labels: np.ndarray) -> float:
        return float(metrics.silhouette_score(data, labels))

    def davies_bouldin(self, data: np.ndarray, labels: np.ndarray) -> float:
        return float(metrics.davies_bouldin_score(data, labels))

    def calinski_harabasz(self, data: np.ndarray, labels: np.ndarray) -> float:
        return float(metrics.calinski_harabasz_score(data, labels))
