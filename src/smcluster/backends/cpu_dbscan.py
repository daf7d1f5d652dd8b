"""DBSCAN on the CPU with bounded memory.

scikit-learn's DBSCAN first stores every row's eps-neighbourhood (`radius_neighbors` over all
rows), which is O(n * mean neighbourhood) memory: at a large eps on millions of rows that is
O(n²) and runs out of memory. This computes the same clustering in three passes that never hold
more than one chunk of neighbourhoods:

1. core rows: a row is core when its `min_samples`-th nearest row (itself included) lies within
   eps, the same test as "at least `min_samples` rows within eps"; a k-NN query whose cost does
   not grow with eps;
2. clusters: connected components of the eps-graph among core rows, built chunk by chunk: each
   chunk's edges are merged into the running components (scipy's `connected_components` on the
   component graph), then dropped; the chunk size comes from `memory_mb` and the neighbourhood
   size measured on a sample of core rows;
3. border rows: a non-core row joins the cluster of its nearest core row when that row lies within
   eps, else it is noise. scikit-learn gives a border row within eps of two clusters to whichever
   it reaches first; this rule picks the nearest, and it is the rule `ClusterModel` uses for new
   rows, so training and prediction agree.

Core rows and clusters equal scikit-learn's exactly (up to ties at distance == eps in float32).
"""

from __future__ import annotations

import logging
import time

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import KDTree

from .host_index import host_neighbors

log = logging.getLogger(__name__)

QUERY_CHUNK = 100_000  # rows per k-NN query chunk: (chunk x k) results, a few MB
ESTIMATE_ROWS = 2_000  # core rows whose neighbourhood size sets the chunk size
# Per neighbour: the int64 index, its source, both component ids, and scipy's CSR copy.
BYTES_PER_NEIGHBOUR = 64
BYTES_PER_ROW = 200  # the per-row array object scikit-learn returns


def _progress(what: str, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = f", {done / elapsed:,.0f} rows/s" if elapsed > 0 else ""
    log.info("dbscan %s: %s/%s rows (%.1fs%s)", what, f"{done:,}", f"{total:,}", elapsed, rate)


def core_mask(data: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """A row is core when its `min_samples`-th nearest row (itself included) lies within eps."""
    rows = data.shape[0]
    if rows < min_samples:
        return np.zeros(rows, dtype=bool)
    index = host_neighbors(rows, n_neighbors=min_samples).fit(data)
    core = np.empty(rows, dtype=bool)
    started = time.perf_counter()
    for start in range(0, rows, QUERY_CHUNK):
        stop = min(start + QUERY_CHUNK, rows)
        distances, _ = index.kneighbors(data[start:stop])
        core[start:stop] = distances[:, -1] <= eps
        if rows > QUERY_CHUNK:
            _progress("core test", stop, rows, started)
    return core


def chunk_rows(core_data: np.ndarray, eps: float, memory_mb: int, seed: int) -> int:
    """Rows per radius-query chunk so that one chunk's neighbourhoods fit in `memory_mb`."""
    rows = core_data.shape[0]
    probe = core_data
    if rows > ESTIMATE_ROWS:
        rng = np.random.default_rng(seed)
        probe = core_data[rng.choice(rows, size=ESTIMATE_ROWS, replace=False)]
    # Counting only: the estimate itself must not hold the neighbourhoods it measures.
    sizes = KDTree(core_data).query_radius(probe, r=eps, count_only=True)
    # The 99th percentile, not the mean: dense chunks must fit too.
    per_row = float(np.percentile(sizes, 99)) * BYTES_PER_NEIGHBOUR + BYTES_PER_ROW
    chunk = max(min(int(memory_mb * 2**20 // per_row), rows), 1)
    log.info(
        "dbscan: %s core rows, median %d and p99 %d neighbours within eps; %s rows per chunk "
        "keep the neighbourhood lists under dbscan_memory_mb=%d",
        f"{rows:,}",
        int(np.median(sizes)),
        int(np.percentile(sizes, 99)),
        f"{chunk:,}",
        memory_mb,
    )
    return int(chunk)


def link_core_rows(core_data: np.ndarray, eps: float, memory_mb: int, seed: int) -> np.ndarray:
    """Component id per core row of the eps-graph among core rows, chunk by chunk."""
    rows = core_data.shape[0]
    chunk = chunk_rows(core_data, eps, memory_mb, seed)
    index = host_neighbors(rows, radius=eps).fit(core_data)
    component: np.ndarray = np.arange(rows, dtype=np.int64)
    started = time.perf_counter()
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        neighbours = index.radius_neighbors(core_data[start:stop], return_distance=False)
        sizes = np.fromiter((len(n) for n in neighbours), dtype=np.int64, count=stop - start)
        source = component[np.repeat(np.arange(start, stop), sizes)]
        target = component[np.concatenate(neighbours)] if sizes.sum() else source
        del neighbours
        linked = source != target
        if linked.any():
            graph = coo_matrix(
                (np.ones(int(linked.sum()), dtype=np.int8), (source[linked], target[linked])),
                shape=(rows, rows),
            )
            _, merged = connected_components(graph, directed=False)
            component = merged[component]
        if rows > chunk:
            _progress("linking core rows", stop, rows, started)
    return component


def dbscan(
    data: np.ndarray,
    eps: float,
    min_samples: int,
    memory_mb: int,
    seed: int = 0,
    core_distances: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (-1 noise; clusters numbered by their first core row) and core row indices.

    `core_distances` (each row's distance to its `min_samples`-th nearest row, itself included),
    when the caller has it from its own neighbour query, replaces the core test's k-NN pass.
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    rows = data.shape[0]
    labels = np.full(rows, -1, dtype=np.int32)
    if core_distances is not None and rows >= min_samples:
        core = np.asarray(core_distances) <= eps
    else:
        core = core_mask(data, eps, min_samples)
    core_index = np.flatnonzero(core)
    if len(core_index) == 0:
        return labels, core_index
    component = link_core_rows(data[core_index], eps, memory_mb, seed)
    _, first, inverse = np.unique(component, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # number clusters by their first core row
    labels[core_index] = order[inverse].astype(np.int32)
    border = np.flatnonzero(~core)
    if len(border):
        nearest = host_neighbors(len(border), n_neighbors=1).fit(data[core_index])
        for start in range(0, len(border), QUERY_CHUNK):
            rows_here = border[start : start + QUERY_CHUNK]
            distance, hit = nearest.kneighbors(data[rows_here])
            labels[rows_here] = np.where(distance[:, 0] <= eps, labels[core_index[hit[:, 0]]], -1)
    return labels, core_index
