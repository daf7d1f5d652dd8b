"""Host nearest-neighbour queries: every core for large queries, and the same answers."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from smcluster.backends.host_index import PARALLEL_MIN_QUERIES, host_neighbors


def test_large_queries_run_on_every_core_and_answer_like_one_thread():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(40_000, 5)).astype(np.float32)
    queries = data[: PARALLEL_MIN_QUERIES + 500]
    parallel = host_neighbors(len(queries), n_neighbors=8).fit(data)
    assert parallel.n_jobs == -1
    single = NearestNeighbors(n_neighbors=8).fit(data)
    got, expected = parallel.kneighbors(queries), single.kneighbors(queries)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    radius = host_neighbors(len(queries), radius=0.3).fit(data)
    found = radius.radius_neighbors(queries, return_distance=False, sort_results=False)
    reference = single.radius_neighbors(queries, radius=0.3, return_distance=False)
    assert all(set(a) == set(b) for a, b in zip(found, reference, strict=True))
    assert sum(len(a) for a in found) > len(queries)  # neighbours beyond each row itself


def test_small_queries_stay_on_one_thread():
    assert host_neighbors(300, n_neighbors=5).n_jobs is None
    assert host_neighbors(PARALLEL_MIN_QUERIES - 1, n_neighbors=5).n_jobs is None
