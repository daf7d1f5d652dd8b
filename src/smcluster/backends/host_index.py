"""scikit-learn's nearest-neighbour index, built one way for every query on the host."""

from __future__ import annotations

from typing import Any

from sklearn.neighbors import NearestNeighbors

# Every core for large queries: scikit-learn splits the query rows over threads, and its KD and
# ball trees release the GIL while they search. Measured on 2 cores, 1M rows x 5 dimensions (a
# UMAP embedding's shape): `kneighbors` of 100k rows 4.4 s -> 2.3 s, `radius_neighbors` of 60k
# rows 11.8 s -> 6.1 s; each row's answer does not depend on the split, so results are
# identical. Small queries stay on one thread: starting the pool for each of a small job's
# queries cost 0.1 s of a 300-row job's 3 s. (Brute-force search of wide data runs on every core
# through OpenMP whatever `n_jobs` says.)
PARALLEL_MIN_QUERIES = 10_000


def query_jobs(queries: int) -> int | None:
    """scikit-learn's `n_jobs` for a query of this many rows (None: one thread)."""
    return -1 if queries >= PARALLEL_MIN_QUERIES else None


def host_neighbors(queries: int, **params: Any) -> NearestNeighbors:
    """An unfitted `NearestNeighbors(**params)` for a query of `queries` rows."""
    return NearestNeighbors(n_jobs=query_jobs(queries), **params)
