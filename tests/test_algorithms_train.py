"""Every algorithm and reducer choice, end to end through the real `train` subprocess.

Small tables and reducer=pca keep these fast where UMAP is not the point. Each run also loads
the published bundle and checks that its assignment rule reproduces the training labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from smcluster.output.bundle import load_model

from .jobtree import JobTree, TrainRun

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, hyperparameters: dict[str, str], **tree: Any) -> TrainRun:
    return JobTree(tmp_path).write_demo(hyperparameters, **tree).run()


def _check_bundle_reproduces_labels(run: TrainRun, minimum_agreement: float) -> None:
    train = pd.read_csv(next((run.base / "input" / "data" / "train").glob("*.csv")))
    labels = pd.read_parquet(run.base / "model" / "labels.parquet")
    model = load_model(run.base / "model")
    predicted = model.predict(train)
    agreement = float(np.mean(predicted == labels["cluster"].to_numpy()))
    assert agreement >= minimum_agreement


@pytest.mark.parametrize(
    ("algorithm", "extra", "agreement"),
    [
        # DBSCAN on the default UMAP embedding: PCA's linear view of this table leaves its
        # groups touching, so no single radius separates them (ARI ~0.3 on PCA).
        ("dbscan", {"reducer": "auto", "eps": "0.6", "min_samples": "8"}, 0.97),
        ("hdbscan", {"min_cluster_size": "80", "log_transform": "auto"}, 1.0),
        ("kmeans", {"n_clusters": "6"}, 1.0),
        ("gmm", {"n_clusters": "6", "covariance_type": "diag"}, 1.0),
    ],
)
def test_each_algorithm_runs_through_train(tmp_path, algorithm, extra, agreement):
    run = _run(tmp_path, {"algorithm": algorithm, "reducer": "pca", "backend": "cpu", **extra})
    assert run.returncode == 0, run.failure
    metrics = run.metrics()
    assert metrics["algorithm"] == algorithm
    assert metrics["train"]["n_clusters"] >= 2
    assert metrics["train"]["ari"] > 0.2
    assert f"stage cluster_{algorithm}: done" in run.stderr
    assert (metrics["eps"] is not None) == (algorithm == "dbscan")
    assert f"train:ari={metrics['train']['ari']:.6g}" in run.stdout
    _check_bundle_reproduces_labels(run, agreement)


def test_gmm_says_it_is_cpu_only_in_the_table():
    from smcluster.contract.schema import SCHEMA

    assert "CPU-only" in SCHEMA["algorithm"].help


@pytest.mark.parametrize(
    ("reducer", "extra"),
    [
        ("umap", {"algorithm": "kmeans", "n_clusters": "6"}),
        ("tsne", {"n_components": "2", "algorithm": "kmeans", "n_clusters": "6"}),
        ("none", {"algorithm": "kmeans", "n_clusters": "6"}),
        ("pca", {}),
    ],
)
def test_each_reducer_runs_through_train_with_validation(tmp_path, reducer, extra):
    run = _run(
        tmp_path, {"reducer": reducer, "backend": "cpu", **extra}, rows=1200, validation_rows=300
    )
    assert run.returncode == 0, run.failure
    metrics = run.metrics()
    assert "validation" in metrics
    embedding = pd.read_parquet(run.base / "model" / "labels.parquet").filter(like="embedding_")
    expected_width = len(run.resolved()["features_used"]) if reducer == "none" else None
    assert embedding.shape[1] == (
        expected_width or run.resolved()["hyperparameters"]["n_components"]
    )
    assert (embedding.dtypes == np.float32).all()


def test_reducer_auto_skips_umap_when_the_data_is_narrow(tmp_path):
    run = _run(tmp_path, {"reducer": "auto", "n_components": "12", "backend": "cpu"})
    assert run.returncode == 0, run.failure
    assert "reducer=auto: the data has 10 columns, not more than n_components=12" in run.stderr
    assert run.resolved()["hyperparameters"]["reducer"] == "none"
    assert "stage reduce_" not in run.stderr


def test_tsne_with_too_many_components_fails_clearly(tmp_path):
    run = _run(tmp_path, {"reducer": "tsne", "n_components": "5", "backend": "cpu"})
    assert run.returncode == 2
    assert run.failure.startswith("HyperparameterError: reducer=tsne gives at most 3 dimensions")


def test_tsne_with_fewer_features_than_components_fails_clearly(tmp_path):
    """t-SNE starts from principal components (scikit-learn and cuML alike): 1 feature, 2 dims."""
    tree = JobTree(tmp_path)
    spend = np.random.default_rng(0).gamma(2.0, 50.0, 400)
    tree.write_table(pd.DataFrame({"spend": spend}))
    tree.write_config({"reducer": "tsne", "n_components": "2", "backend": "cpu"})
    run = tree.run()
    assert run.returncode == 2, run.failure
    assert run.failure.startswith(
        "HyperparameterError: reducer=tsne to n_components=2 needs at least that many features"
    )
    assert "the prepared data has 1." in run.failure


def test_correlated_features_are_dropped_and_recorded(tmp_path):
    run = _run(tmp_path, {"reducer": "pca", "correlation_threshold": "0.6", "backend": "cpu"})
    assert run.returncode == 0, run.failure
    resolved = run.resolved()
    dropped = resolved["preparation"]["correlation"]["dropped"]
    assert dropped, "frequency and monetary are rank-correlated well above 0.6"
    for name, why in dropped.items():
        assert name not in resolved["features_used"]
        assert why["correlated_with"] in resolved["features_used"]
        assert why["rho"] > 0.6
        assert f"dropping '{name}'" in run.stderr
    pca = resolved["preparation"]["pca"]
    assert len(pca["explained_variance_ratio"]) == 5
    assert sorted(pca["loadings"]) == sorted(resolved["features_used"])
    assert "PCA component 1 explains" in run.stderr


def test_umap_fit_sample_size_fits_on_a_sample_through_train(tmp_path):
    hyperparameters = {"reducer": "tsne", "n_components": "2", "umap_fit_sample_size": "1000"}
    run = _run(tmp_path, {**hyperparameters, "backend": "cpu"}, rows=2500)
    assert run.returncode == 0, run.failure
    assert "tsne: fitting on a sample of 1,000 of 2,500 rows" in run.stderr
    assert "tsne transform: 1,500/1,500 rows" in run.stderr
