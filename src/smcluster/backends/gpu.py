"""GPU backend: cuDF reads, CuPy arrays, cuML estimators; data stays on the device.

Imported only by `select_backend` after `gpu_unavailable_reason()` said the device is usable, so
the package installs and runs without CUDA. Every call follows the cuML 26.10 / cuDF 26.10 API:
cuML estimators take CuPy arrays and return CuPy arrays (output type follows the input).
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Sequence
from typing import Any

import cudf
import cuml
import cupy as cp
import numpy as np
from cuml import TSNE, UMAP, KMeans
from cuml.cluster import DBSCAN
from cuml.cluster.hdbscan import HDBSCAN
from cuml.metrics.cluster import silhouette_score
from cuml.neighbors import NearestNeighbors

from ..contract.errors import HyperparameterError, ResourceError
from ..contract.schema import Hyperparameters
from ..contract.tables import TableFile
from . import cuml_rules, indices, memory_plan
from .base import HostEstimator, Reducer, ReducerSettings
from .device import read_device_facts, silhouette_chunk
from .memory_plan import (
    DBSCAN_BATCH_SHARE,
    QUERY_CHUNK_ROWS,
    SILHOUETTE_BATCH_SHARE,
    dbscan_index_bytes,
)
from .neighbour_distances import exact_neighbours

log = logging.getLogger(__name__)


def _brute_force_search(data: Any, queries: Any, fetch: int) -> Any:
    # "brute": documented exact; "auto" would take random ball cover for 2-3 columns.
    index = NearestNeighbors(n_neighbors=fetch, algorithm="brute").fit(data)
    return cp.asarray(index.kneighbors(queries)[1])


def _free_bytes() -> int:
    free, _ = cp.cuda.runtime.memGetInfo()
    return int(free)


class GpuBackend:
    name = "gpu"
    xp = cp
    dbscan_takes_core_distances = False  # cuML's DBSCAN finds its core points itself

    def device_count(self) -> int:
        """GPUs CUDA shows this process (CUDA_VISIBLE_DEVICES): `workers=auto` runs one each."""
        return int(cp.cuda.runtime.getDeviceCount())

    def describe(self) -> dict[str, str]:
        # The modules' own versions: the RAPIDS image installs them as cudf/cuml/cupy, pip
        # as cudf-cu12/cuml-cu12/cupy-cuda12x, so distribution names would miss one or the other.
        return {
            "backend": self.name,
            "python": platform.python_version(),
            "cudf": str(cudf.__version__),
            "cuml": str(cuml.__version__),
            "cupy": str(cp.__version__),
            "numpy": str(np.__version__),
            **read_device_facts().describe(),
        }

    def check(self, hp: Hyperparameters) -> list[HyperparameterError]:
        return cuml_rules.check(hp)

    def memory_problem(
        self, rows: int, features: int, hp: Hyperparameters, table_columns: int
    ) -> ResourceError | None:
        # What load and prepare hold is already allocated: free now plus that is what the
        # plan, which counts it as resident, may fill.
        free = _free_bytes() + memory_plan.held_after_prepare(rows, features, table_columns)
        plan = memory_plan.plan(rows, features, hp, free, table_columns)
        peak = plan.peak
        log.info(
            "GPU memory plan: peak %s in %s (%s), of %s free; %s",
            memory_plan.gib(peak.peak),
            peak.stage,
            peak.what,
            memory_plan.gib(free),
            ", ".join(f"{s.stage} {memory_plan.gib(s.peak)}" for s in plan.stages),
        )
        return memory_plan.problem(plan, hp, free, read_device_facts().name, after="prepare")

    def read_file(self, table_file: TableFile, text_columns: Sequence[str] = ()) -> Any:
        if table_file.format == "parquet":
            if table_file.gzipped:  # a gzipped Parquet file: cuDF reads the bytes
                with table_file.open_binary() as handle:
                    frame = cudf.read_parquet(handle.read())
            else:
                frame = cudf.read_parquet(str(table_file.path))
            for column in text_columns:  # nulls stay nulls
                frame[column] = frame[column].astype("str")
            for column, dtype in frame.dtypes.items():
                # Decimals (money from Spark or Athena) as numbers, as on the CPU.
                if isinstance(
                    dtype, (cudf.Decimal32Dtype, cudf.Decimal64Dtype, cudf.Decimal128Dtype)
                ):
                    frame[column] = frame[column].astype("float64")
            return frame
        compression = "gzip" if table_file.gzipped else "infer"
        # A dict maps only the named columns to a dtype; cuDF infers the others.
        text = {column: "str" for column in text_columns}
        return cudf.read_csv(str(table_file.path), compression=compression, dtype=text or None)

    def concat(self, frames: list[Any]) -> Any:
        if len(frames) == 1:
            return frames[0]
        return cudf.concat([f[frames[0].columns] for f in frames], ignore_index=True)

    def columns_to_array(self, frame: Any, columns: list[str]) -> Any:
        return frame[columns].astype("float32").to_cupy(dtype=cp.float32, na_value=np.nan)

    def column_to_host(self, frame: Any, column: str) -> Any:
        return frame[column].to_pandas()

    def series_to_host(self, series: Any) -> Any:
        return series.to_pandas()

    def make_reducer(self, settings: ReducerSettings) -> Reducer:
        if settings.kind == "tsne":
            return TSNE(**cuml_rules.tsne_arguments(settings))
        return UMAP(**settings.arguments())

    def neighbor_distances(self, data: Any, queries: Any, n_neighbors: int) -> Any:
        k = min(n_neighbors, int(data.shape[0]))
        return exact_neighbours(data, queries, k, cp, _brute_force_search, QUERY_CHUNK_ROWS)[0]

    def beyond_kth_nearest(self, reference: Any, queries: Any, k: int, radius: float) -> Any:
        # cuML's brute-force search on the device is fast enough not to need the CPU's pruning;
        # chunked so that only a chunk's k distances are on the device at once.
        rows = int(queries.shape[0])
        return np.concatenate(
            [
                cp.asnumpy(
                    self.neighbor_distances(
                        reference, queries[start : start + QUERY_CHUNK_ROWS], k
                    )[:, -1]
                    > radius
                )
                for start in range(0, rows, QUERY_CHUNK_ROWS)
            ]
            or [np.zeros(0, dtype=bool)]
        )

    def dbscan(
        self,
        data: Any,
        eps: float,
        min_samples: int,
        memory_mb: int,
        core_distances: Any = None,
    ) -> tuple[Any, Any]:
        # cuML reads max_mbytes_per_batch as millions of bytes (dbscan.cuh:66).
        batch_mb = max(int(_free_bytes() * DBSCAN_BATCH_SHARE / 10**6), 64)
        # The index width that gives the larger batches (memory_plan.dbscan_index_bytes):
        # 32-bit unless the budget exceeds what 32-bit indices can address per batch.
        index = dbscan_index_bytes(int(data.shape[0]), batch_mb * 10**6)
        out_dtype = "int64" if index == 8 else "int32"
        log.info(
            "cuML DBSCAN: max_mbytes_per_batch=%d (from free device memory), %s indices",
            batch_mb,
            out_dtype,
        )
        model = DBSCAN(
            eps=eps,
            min_samples=min_samples,
            max_mbytes_per_batch=batch_mb,
            calc_core_sample_indices=True,
        ).fit(data, out_dtype=out_dtype)
        labels = cp.asarray(model.labels_, dtype=cp.int32)
        core = model.core_sample_indices_
        core = cp.zeros(0, dtype=cp.int64) if core is None else cp.asarray(core)
        return labels, core[core >= 0]

    def hdbscan(self, data: Any, min_cluster_size: int, min_samples: int | None) -> Any:
        neighbours, capped = cuml_rules.hdbscan_neighbours(min_cluster_size, min_samples)
        if capped:
            log.warning(capped)
        model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=neighbours).fit(data)
        return cp.asarray(model.labels_, dtype=cp.int32)

    def kmeans(self, data: Any, n_clusters: int, random_state: int) -> tuple[Any, Any]:
        model = KMeans(n_clusters=n_clusters, random_state=random_state).fit(data)
        return cp.asarray(model.labels_, dtype=cp.int32), cp.asarray(model.cluster_centers_)

    def gaussian_mixture(
        self, data: Any, n_components: int, covariance_type: str, random_state: int
    ) -> tuple[Any, HostEstimator, dict[str, Any]]:
        from .cpu import CpuBackend

        log.warning(
            "algorithm=gmm is CPU-only (cuML has no Gaussian mixture): fitting scikit-learn's "
            "GaussianMixture on the host; the other stages stay on the gpu"
        )
        labels, model, info = CpuBackend().gaussian_mixture(
            cp.asnumpy(data), n_components, covariance_type, random_state
        )
        return cp.asarray(labels), model, info

    def nearest(self, reference: Any, queries: Any) -> tuple[Any, Any]:
        distances, found = exact_neighbours(
            reference, queries, 1, cp, _brute_force_search, QUERY_CHUNK_ROWS
        )
        return distances[:, 0], found[:, 0]

    def silhouette(self, data: Any, labels: Any) -> float:
        rows = int(data.shape[0])
        # Sampled, noise-free labels are not contiguous: give cuML labels 0..k-1.
        present, contiguous = cp.unique(labels, return_inverse=True)
        chunk = silhouette_chunk(_free_bytes(), rows, int(present.size), SILHOUETTE_BATCH_SHARE)
        return float(silhouette_score(data, contiguous.reshape(-1), chunksize=chunk))

    def davies_bouldin(self, data: Any, labels: Any) -> float:
        return indices.davies_bouldin(data, labels, cp)

    def calinski_harabasz(self, data: Any, labels: Any) -> float:
        return indices.calinski_harabasz(data, labels, cp)
