"""What the up-front size checks and the few-clusters note say, per algorithm and reducer."""

from __future__ import annotations

import pytest

from smcluster.contract.errors import DataError, HyperparameterError
from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.run import check_sizes
from smcluster.pipeline.score.score import few_clusters_advice


def test_kmeans_names_n_clusters_not_min_samples() -> None:
    with pytest.raises(DataError) as caught:
        check_sizes(40, 4, parse({"algorithm": "kmeans", "n_clusters": "100", "reducer": "pca"}))
    message = str(caught.value)
    assert "only 40 usable rows, too few for n_clusters=100 (needs at least 101)" in message
    assert "min_samples" not in message and "n_neighbors" not in message


def test_only_the_parameters_that_need_more_rows_are_named() -> None:
    with pytest.raises(DataError) as caught:
        check_sizes(12, 4, parse({"min_samples": "4", "reducer": "umap"}))
    assert "too few for n_neighbors=15 (needs at least 16)" in str(caught.value)
    assert caught.value.fix == "provide more rows, or lower n_neighbors."
    check_sizes(12, 4, parse({"min_samples": "4", "reducer": "pca", "n_components": "2"}))


def test_pca_limit_names_the_rows_when_they_bind() -> None:
    with pytest.raises(HyperparameterError, match=r"from 6 rows of 8 features .* the rows"):
        check_sizes(6, 8, parse({"reducer": "pca", "n_components": "8", "min_samples": "2"}))
    with pytest.raises(HyperparameterError, match=r"from 60 rows of 4 features .* the features"):
        check_sizes(60, 4, parse({"reducer": "pca", "n_components": "5"}))


@pytest.mark.parametrize(
    ("hp", "noise", "rows", "advice"),
    [
        ({}, 0.9, 1000, "most rows are noise: try a larger eps"),
        ({"eps": "1e9"}, 0.0, 1000, "the rows form one cluster: try a smaller eps"),
        (
            {"algorithm": "hdbscan", "min_cluster_size": "500"},
            1.0,
            40,
            "min_cluster_size=500 leaves room for fewer than two clusters in 40 rows",
        ),
        ({"algorithm": "hdbscan"}, 1.0, 5000, "try a smaller min_cluster_size or min_samples"),
        ({"algorithm": "kmeans", "n_clusters": "5"}, 0.0, 50, "fewer distinct points"),
    ],
)
def test_few_clusters_advice_fits_the_algorithm(
    hp: dict[str, str], noise: float, rows: int, advice: str
) -> None:
    assert advice in few_clusters_advice(parse(hp), noise, rows)
