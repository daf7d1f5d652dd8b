"""The GPU backend's rules and arithmetic that run without a GPU: what cuML 26.10 accepts, how
smcluster's HDBSCAN `min_samples` maps onto cuML's, and the exact neighbour distances."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.manifold import TSNE
from sklearn.neighbors import NearestNeighbors

from smcluster.backends import cuml_rules
from smcluster.backends.base import ReducerSettings
from smcluster.backends.neighbour_distances import exact_distances, exact_neighbours
from smcluster.contract.hyperparameters import parse
from smcluster.contract.schema import Hyperparameters


def hyperparameters(**values: str) -> Hyperparameters:
    return parse(values)


@pytest.mark.parametrize(
    ("min_cluster_size", "min_samples", "neighbours"),
    [(100, None, 99), (100, 5, 4), (2, None, 1), (100, 2, 1), (1024, None, 1023)],
)
def test_hdbscan_min_samples_counts_the_point_on_both_backends(
    min_cluster_size: int, min_samples: int | None, neighbours: int
) -> None:
    """scikit-learn's k (the CPU) is cuML's k - 1, the default included."""
    assert cuml_rules.hdbscan_neighbours(min_cluster_size, min_samples) == (neighbours, None)


def test_hdbscan_default_above_cumls_limit_is_capped_and_said() -> None:
    neighbours, note = cuml_rules.hdbscan_neighbours(2000, None)
    assert neighbours == cuml_rules.HDBSCAN_MAX_NEIGHBOURS == 1023
    assert note is not None and "min_samples=1,024 is used" in note and "2,000" in note


def test_gpu_rules_refuse_every_unsupported_value_at_once() -> None:
    hp = hyperparameters(algorithm="hdbscan", min_samples="1025", reducer="tsne", n_components="3")
    problems = [str(p) for p in cuml_rules.check(hp)]
    assert len(problems) == 2
    assert any("exactly 2 dimensions on the gpu" in p for p in problems)
    assert any("min_samples up to 1024 (cuML), 1025 was asked for" in p for p in problems)
    fine = hyperparameters(
        algorithm="hdbscan", min_samples="1024", reducer="tsne", n_components="2"
    )
    assert cuml_rules.check(fine) == []


def test_exact_distances_match_a_tree_search_where_the_expanded_form_does_not() -> None:
    rng = np.random.default_rng(0)
    # A dense cluster far from the origin: the float32 |x|^2+|y|^2-2x.y form cancels there.
    data = (12 + 0.01 * rng.standard_normal((3000, 5))).astype(np.float32)
    queries = data[:500]
    tree = NearestNeighbors(n_neighbors=10).fit(data)
    expected, found = tree.kneighbors(queries)
    exact = exact_distances(data, queries, found, np, batch_elements=7 * 10 * 5)  # 7-row batches
    np.testing.assert_allclose(exact, expected, rtol=1e-6, atol=1e-7)
    assert (exact[:, 0] == 0).all()  # each row's distance to itself

    # What cuML's brute force reports for the same pairs (float32, expanded form).
    norms = (data.astype(np.float32) ** 2).sum(axis=1)
    dots = np.einsum("ij,ikj->ik", queries, data[found])
    expanded = np.sqrt(np.maximum(norms[:500, None] + norms[found] - 2 * dots, 0))
    assert np.abs(expanded - expected).max() > 100 * np.abs(exact - expected).max()


def expanded_float32_search(data: np.ndarray, queries: np.ndarray, fetch: int) -> np.ndarray:
    """What cuML's brute force ranks by: float32 |x|^2 + |y|^2 - 2 x.y."""
    d, q = data.astype(np.float32), queries.astype(np.float32)
    squared = (q * q).sum(axis=1)[:, None] + (d * d).sum(axis=1)[None, :] - 2 * (q @ d.T)
    return np.argsort(squared, axis=1, kind="stable")[:, :fetch]


def test_exact_neighbours_recover_the_true_k_nearest_from_a_float32_ranking() -> None:
    rng = np.random.default_rng(1)
    data = (12 + 0.01 * rng.standard_normal((2000, 5))).astype(np.float32)
    queries = data[:300]
    expected, _ = NearestNeighbors(n_neighbors=10).fit(data).kneighbors(queries)

    distances, found = exact_neighbours(data, queries, 10, np, expanded_float32_search)
    np.testing.assert_allclose(distances, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(exact_distances(data, queries, found, np), distances, rtol=0, atol=0)
    # The float32 ranking alone (no centring, no margin) picks wrong neighbours here.
    naive = np.sort(
        exact_distances(data, queries, expanded_float32_search(data, queries, 10), np), axis=1
    )
    assert np.abs(naive - expected).max() > 1e-4


def test_exact_neighbours_in_chunks_of_queries_give_the_same_answer() -> None:
    """The GPU searches a million queries at a time (`gpu.QUERY_CHUNK_ROWS`): chunking bounds
    the search's memory and must not change a distance or an index, uneven last chunk too."""
    rng = np.random.default_rng(2)
    data = rng.standard_normal((1500, 4)).astype(np.float32)
    queries = rng.standard_normal((703, 4)).astype(np.float32)
    whole = exact_neighbours(data, queries, 6, np, expanded_float32_search)
    for chunk_rows in (1, 100, 702, 703, 5000):
        chunked = exact_neighbours(data, queries, 6, np, expanded_float32_search, chunk_rows)
        np.testing.assert_array_equal(chunked[0], whole[0])
        np.testing.assert_array_equal(chunked[1], whole[1])


@pytest.mark.parametrize(
    ("rows", "perplexity"), [(30_000, 15.0), (30_000, 30.0), (1_500, 30.0), (40, 5.0)]
)
def test_cuml_tsne_gets_scikit_learns_neighbours_learning_rate_and_exaggeration(
    rows: int, perplexity: float
) -> None:
    """cuML's `adaptive` mode would take 66 neighbours at 30,000 rows whatever the perplexity;
    scikit-learn takes min(rows - 1, 3 * perplexity + 1) and learning rate "auto"."""
    settings = ReducerSettings("tsne", 2, 15, 0.0, "euclidean", perplexity, 0, fit_rows=rows)
    arguments = cuml_rules.tsne_arguments(settings)
    assert arguments["n_neighbors"] == min(rows - 1, int(3.0 * perplexity + 1))
    assert arguments["learning_rate_method"] == "none"
    early = TSNE().early_exaggeration  # scikit-learn's default, 12
    assert arguments["early_exaggeration"] == early
    assert arguments["learning_rate"] == max(rows / early / 4, 50)
    assert arguments["perplexity"] == perplexity and arguments["init"] == "pca"
