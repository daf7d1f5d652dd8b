"""The outlier test's pruned search gives scikit-learn's exact k-NN answer, and prunes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from smcluster.backends import far_rows
from smcluster.backends.cpu import CpuBackend
from smcluster.pipeline.refine import outliers
from smcluster.pipeline.refine.outliers import fit_outliers


def _clusters_and_strays(rows: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, (8, width))
    data = centres[rng.integers(0, 8, rows)] + rng.normal(0, 1, (rows, width))
    strays = rng.uniform(-15, 15, (rows // 50, width))
    return np.concatenate([data, strays]).astype(np.float32)


def _exact(reference: np.ndarray, queries: np.ndarray, k: int, radius: float) -> np.ndarray:
    distances, _ = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(queries)
    return np.asarray(distances[:, -1] > radius)


@pytest.mark.parametrize(
    ("reference_rows", "query_rows", "width", "k"),
    [(5_000, 20_000, 20, 10), (3_000, 4_000, 3, 10), (500, 2_000, 8, 10), (12, 300, 5, 10)],
)
def test_answers_equal_the_exact_search_at_every_radius(reference_rows, query_rows, width, k):
    reference = _clusters_and_strays(reference_rows, width, seed=1)
    queries = _clusters_and_strays(query_rows, width, seed=2)
    true_kth = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(queries)[0][:, -1]
    # Radii from well inside to the tail, and radii equal to rows' own k-th distance: those
    # rows sit exactly on the boundary (not beyond), where rounding would show first.
    radii = [*np.quantile(true_kth, [0.1, 0.5, 0.9, 0.98]).tolist(), *true_kth[:3].tolist()]
    for radius in radii:
        got = far_rows.beyond_kth_nearest(reference, queries, k, radius)
        assert np.array_equal(got, _exact(reference, queries, k, radius)), radius


def test_repeated_rows_and_empty_queries() -> None:
    reference = np.repeat(np.eye(4, dtype=np.float32), 300, axis=0)
    queries = np.concatenate([np.eye(4), np.full((3, 4), 5.0)]).astype(np.float32)
    got = far_rows.beyond_kth_nearest(reference, queries, 10, 0.5)
    assert got.tolist() == [False] * 4 + [True] * 3
    assert far_rows.beyond_kth_nearest(reference, queries[:0], 10, 0.5).shape == (0,)


def test_most_rows_are_settled_without_the_exact_search(monkeypatch) -> None:
    reference = _clusters_and_strays(20_000, 20, seed=3)
    queries = _clusters_and_strays(50_000, 20, seed=4)
    searched: list[int] = []
    original = NearestNeighbors.kneighbors

    def counting(self, X=None, *args, **kwargs):
        searched.append(len(X))
        return original(self, X, *args, **kwargs)

    monkeypatch.setattr(NearestNeighbors, "kneighbors", counting)
    true_kth = original(NearestNeighbors(n_neighbors=10).fit(reference), queries)[0][:, -1]
    searched.clear()
    radius = float(np.quantile(true_kth, 0.95))
    got = far_rows.beyond_kth_nearest(reference, queries, 10, radius)
    assert np.array_equal(got, true_kth > radius)
    # The strays (2%) and the 5% beyond the radius must be searched; most of the rest not.
    assert sum(searched) < 0.2 * len(queries), sum(searched)


def test_fit_outliers_with_a_reference_sample_flags_rows_as_a_full_search_would(monkeypatch):
    monkeypatch.setattr(outliers, "REFERENCE_ROWS", 2_000)
    data = _clusters_and_strays(10_000, 12, seed=5)
    rule, flagged = fit_outliers(CpuBackend(), data, threshold=3.0, random_state=0)
    assert rule is not None and len(rule.reference) == 2_000
    picked = outliers.sample_index(len(data), 2_000, 0)
    index = NearestNeighbors(n_neighbors=outliers.K + 1).fit(data[picked])
    distances = index.kneighbors(data)[0]
    in_reference = np.zeros(len(data), dtype=bool)
    in_reference[picked] = True
    kth = np.where(in_reference, distances[:, outliers.K], distances[:, outliers.K - 1])
    assert np.array_equal(flagged, kth > rule.cutoff)
    assert 0.01 < flagged.mean() < 0.1  # the strays, not the clusters
    new = _clusters_and_strays(3_000, 12, seed=6)
    # a new row is flagged when its K-th nearest reference row lies beyond the cut-off
    kth_new = NearestNeighbors(n_neighbors=outliers.K).fit(rule.reference).kneighbors(new)[0]
    assert np.array_equal(rule.flags(CpuBackend(), new), kth_new[:, -1] > rule.cutoff)
