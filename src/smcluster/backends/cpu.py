"""CPU backend: pandas/pyarrow, NumPy, scikit-learn and umap-learn."""

from __future__ import annotations

import decimal
import logging
import platform
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.manifold import TSNE
from sklearn.mixture import GaussianMixture

from ..contract.errors import BackendError, HyperparameterError, ResourceError
from ..contract.schema import Hyperparameters
from ..contract.tables import TableFile
from . import cpu_dbscan, far_rows
from .base import Array, HostEstimator, Reducer, ReducerSettings, package_version
from .host_index import host_neighbors

log = logging.getLogger(__name__)

TSNE_MAX_COMPONENTS = 3  # scikit-learn's Barnes-Hut t-SNE
COMFORTABLE_HDBSCAN_ROWS = 500_000
QUERY_CHUNK = 100_000  # rows per k-NN query: (chunk x k) results, a few MB


def _numbers_as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding only booleans or only decimals, as numbers.

    pandas leaves a CSV True/False column with blank cells, and Parquet's decimal type (the
    usual type of money from Spark or Athena), as Python objects, which feature selection
    would take for text. Text itself is pandas' string dtype, not object.
    """
    for column in frame.columns[frame.dtypes.map(pd.api.types.is_object_dtype)]:
        present = frame[column].dropna()
        if present.empty:
            continue
        kinds = present.map(type)
        if kinds.isin([bool, np.bool_]).all():
            frame[column] = frame[column].astype("boolean")
        elif kinds.isin([decimal.Decimal]).all():
            frame[column] = frame[column].astype("float64")
    return frame


class CpuBackend:
    name = "cpu"
    xp = np
    dbscan_takes_core_distances = True

    def describe(self) -> dict[str, str]:
        return {
            "backend": self.name,
            "python": platform.python_version(),
            **{p: package_version(p) for p in ("numpy", "pandas", "scikit-learn", "umap-learn")},
        }

    def memory_problem(
        self, rows: int, features: int, hp: Hyperparameters, table_columns: int
    ) -> ResourceError | None:
        return None

    def check(self, hp: Hyperparameters) -> list[HyperparameterError]:
        problems = []
        if hp.reducer == "tsne" and hp.n_components > TSNE_MAX_COMPONENTS:
            problems.append(
                HyperparameterError(
                    f"reducer=tsne gives at most {TSNE_MAX_COMPONENTS} dimensions on the cpu "
                    f"(Barnes-Hut t-SNE), n_components={hp.n_components} was asked for.",
                    f"set n_components to {TSNE_MAX_COMPONENTS} or less, or use reducer=umap.",
                )
            )
        return problems

    def read_file(self, table_file: TableFile, text_columns: Sequence[str] = ()) -> pd.DataFrame:
        with table_file.open_binary() as handle:
            if table_file.format == "parquet":
                frame = pd.read_parquet(handle)
                for column in text_columns:  # missing values stay missing
                    frame[column] = frame[column].astype(str)
            else:
                text = {column: str for column in text_columns}
                frame = pd.read_csv(handle, low_memory=False, dtype=text or None)
        return _numbers_as_numbers(frame)

    def concat(self, frames: list[pd.DataFrame]) -> pd.DataFrame:
        if len(frames) == 1:
            return frames[0]
        return pd.concat([f[frames[0].columns] for f in frames], ignore_index=True)

    def columns_to_array(self, frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
        return frame[columns].to_numpy(dtype=np.float32, na_value=np.nan)

    def column_to_host(self, frame: pd.DataFrame, column: str) -> pd.Series:
        return frame[column]

    def series_to_host(self, series: pd.Series) -> pd.Series:
        return series

    def make_reducer(self, settings: ReducerSettings) -> Reducer:
        if settings.kind == "tsne":
            return TSNE(**settings.arguments())
        try:
            import umap  # numba JIT: import only when UMAP is used
        except ImportError as exc:
            raise BackendError(
                f"reducer=umap on the CPU needs umap-learn, which is not installed ({exc}); "
                "the GPU image carries cuML's UMAP only.",
                "use backend=auto or gpu on a GPU instance, reducer=pca, or the CPU image "
                "(pip install 'smcluster[cpu]').",
            ) from None
        from .umap_transform import prepare_umap_learn  # numba: only with UMAP

        prepare_umap_learn()
        # A seed makes umap-learn single-threaded, on purpose (README: reproducibility).
        warnings.filterwarnings(
            "ignore", message="n_jobs value .* overridden", category=UserWarning
        )
        return umap.UMAP(**settings.arguments())

    def neighbor_distances(self, data: Array, queries: Array, n_neighbors: int) -> np.ndarray:
        index = host_neighbors(len(queries), n_neighbors=min(n_neighbors, len(data))).fit(data)
        # float64, as scikit-learn computes them: eps is one of these values and the core test
        # compares against it, so rounding here could flip a row at exactly eps.
        out = np.empty((len(queries), index.n_neighbors), dtype=np.float64)
        for start in range(0, len(queries), QUERY_CHUNK):
            stop = min(start + QUERY_CHUNK, len(queries))
            out[start:stop], _ = index.kneighbors(queries[start:stop])
        return out

    def beyond_kth_nearest(
        self, reference: Array, queries: Array, k: int, radius: float
    ) -> np.ndarray:
        return far_rows.beyond_kth_nearest(
            np.asarray(reference), np.asarray(queries), k, radius, chunk=QUERY_CHUNK
        )

    def dbscan(
        self,
        data: Array,
        eps: float,
        min_samples: int,
        memory_mb: int,
        core_distances: Array | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        given = None if core_distances is None else np.asarray(core_distances)
        return cpu_dbscan.dbscan(
            np.asarray(data), eps, min_samples, memory_mb, core_distances=given
        )

    def hdbscan(self, data: Array, min_cluster_size: int, min_samples: int | None) -> np.ndarray:
        rows = data.shape[0]
        if rows > COMFORTABLE_HDBSCAN_ROWS:
            log.warning(
                "algorithm=hdbscan on the CPU with %s rows: scikit-learn's HDBSCAN builds a "
                "minimum spanning tree over every row and is not benchmarked at this size; "
                "backend=gpu (cuML) or algorithm=dbscan (memory-bounded, benchmarked to 1M "
                "rows) scale further",
                f"{rows:,}",
            )
        # copy=True: scikit-learn may otherwise write into `data`, which later stages reuse.
        model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True).fit(
            data
        )
        return np.asarray(model.labels_, dtype=np.int32)

    def kmeans(
        self, data: Array, n_clusters: int, random_state: int
    ) -> tuple[np.ndarray, np.ndarray]:
        model = KMeans(n_clusters=n_clusters, random_state=random_state).fit(data)
        return model.labels_.astype(np.int32), model.cluster_centers_.astype(np.float32)

    def gaussian_mixture(
        self, data: Array, n_components: int, covariance_type: str, random_state: int
    ) -> tuple[np.ndarray, HostEstimator, dict[str, Any]]:
        model = GaussianMixture(
            n_components=n_components, covariance_type=covariance_type, random_state=random_state
        ).fit(data)
        if not model.converged_:
            log.warning("GaussianMixture did not converge in %d iterations", model.max_iter)
        labels = model.predict(data).astype(np.int32)
        return labels, model, {"converged": bool(model.converged_)}

    def nearest(self, reference: Array, queries: Array) -> tuple[np.ndarray, np.ndarray]:
        index = host_neighbors(len(queries), n_neighbors=1).fit(reference)
        distances, indices = index.kneighbors(queries)
        return distances[:, 0], indices[:, 0]

    def silhouette(self, data: Array, labels: Array) -> float:
        return float(metrics.silhouette_score(data, labels))

    def davies_bouldin(self, data: Array, labels: Array) -> float:
        return float(metrics.davies_bouldin_score(data, labels))

    def calinski_harabasz(self, data: Array, labels: Array) -> float:
        return float(metrics.calinski_harabasz_score(data, labels))
