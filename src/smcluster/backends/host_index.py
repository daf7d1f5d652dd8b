"""scikit-learn's nearest-neighbour index, built one way for every query on the host."""

from __future__ import annotations

from typing import Any

from sklearn.neighbors import NearestNeighbors

# Every core: scikit-learn splits the query rows over threads, and its KD and ball trees release
# the GIL while they search. Measured on 2 cores, 1M rows x 5 dimensions (a UMAP embedding's
# shape): `kneighbors` 4.4 s -> 2.3 s, `radius_neighbors` 11.8 s -> 6.1 s; each row's answer
# does not depend on the split, so results are identical. (The brute-force search of wide data
# already runs on every core through OpenMP and ignores this.)
QUERY_JOBS = -1


def host_neighbors(**params: Any) -> NearestNeighbors:
    """An unfitted `NearestNeighbors(**params)` that queries on every core."""
    return NearestNeighbors(n_jobs=QUERY_JOBS, **params)
