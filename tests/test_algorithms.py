"""The clustering algorithms, the chunked CPU DBSCAN and the xp cluster indices, on real data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics
from sklearn.cluster import DBSCAN
from sklearn.datasets import make_blobs

from smcluster.backends import cpu_dbscan as dbscan_chunked
from smcluster.backends import indices


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    data, truth = make_blobs(
        n_samples=3000, centers=5, n_features=4, cluster_std=0.6, random_state=3
    )
    noise = np.random.default_rng(3).uniform(data.min(), data.max(), (150, 4))
    return np.vstack([data, noise]).astype(np.float32), np.concatenate([truth, -np.ones(150)])


@pytest.mark.parametrize("memory_mb", [1, 1024])
def test_chunked_dbscan_matches_scikit_learn(blobs, memory_mb):
    """Same core rows and clusters as scikit-learn, whether one chunk or hundreds."""
    data, _ = blobs
    eps, min_samples = 1.0, 10
    expected = DBSCAN(eps=eps, min_samples=min_samples).fit(data)
    labels, core = dbscan_chunked.dbscan(data, eps, min_samples, memory_mb=memory_mb)
    assert np.array_equal(np.sort(core), np.sort(expected.core_sample_indices_))
    core_expected = expected.labels_[core]
    assert metrics.adjusted_rand_score(core_expected, labels[core]) == 1.0
    assert np.array_equal(labels == -1, expected.labels_ == -1)
    assert metrics.adjusted_rand_score(expected.labels_, labels) > 0.99


def test_chunked_dbscan_small_memory_uses_many_chunks(blobs, caplog):
    data, _ = blobs
    with caplog.at_level("INFO", logger="smcluster.backends.cpu_dbscan"):
        dbscan_chunked.dbscan(data, 1.0, 10, memory_mb=1)
    progress = [r for r in caplog.messages if "linking core rows" in r]
    assert len(progress) > 5


def test_chunked_dbscan_without_core_rows_is_all_noise():
    data = np.arange(20, dtype=np.float32).reshape(10, 2) * 100
    labels, core = dbscan_chunked.dbscan(data, 0.5, 3, memory_mb=16)
    assert (labels == -1).all()
    assert len(core) == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_xp_indices_match_scikit_learn(seed):
    data, labels = make_blobs(n_samples=2000, centers=4, n_features=3, random_state=seed)
    data = data.astype(np.float32)
    assert indices.davies_bouldin(data, labels, np) == pytest.approx(
        metrics.davies_bouldin_score(data, labels), rel=1e-5
    )
    assert indices.calinski_harabasz(data, labels, np) == pytest.approx(
        metrics.calinski_harabasz_score(data, labels), rel=1e-5
    )


def test_davies_bouldin_with_many_clusters_matches_scikit_learn_without_a_k_k_width_array():
    """k=600 clusters of 30 columns: the old form built a 600 x 600 x 30 float64 array (86 MB);
    the Gram form needs 600 x 600. The value must not change."""
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(600), 5)
    data = (rng.normal(size=(600, 30))[labels] * 5 + rng.normal(size=(3000, 30))).astype(np.float32)
    import tracemalloc

    tracemalloc.start()  # NumPy reports its allocations to tracemalloc
    value = indices.davies_bouldin(data, labels, np)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert value == pytest.approx(metrics.davies_bouldin_score(data, labels), rel=1e-6)
    assert peak < 30 * 2**20, f"peak {peak / 2**20:.0f} MiB"
