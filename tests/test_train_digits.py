"""Acceptance: `train` as a subprocess on a labelled table, SDK-encoded hyperparameters."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from smcluster import load_model

from .metric_lines import scrape

pytestmark = pytest.mark.slow


def _digits() -> pd.DataFrame:
    data, target = load_digits(return_X_y=True, as_frame=True)
    frame = data.copy()
    frame.insert(0, "image_id", [f"img-{i:04d}" for i in range(len(frame))])
    frame["digit"] = target
    return frame


# A mix of encodings: SDK v2 generic (str), SDK v2 framework (json.dumps), SDK v3 raw strings,
# plus the keys a tuning job and the SDK add on their own.
SDK_HYPERPARAMETERS = {
    "id_column": '"image_id"',
    "label_column": "digit",
    "eps": "auto",
    "random_state": "42",
    "_tuning_objective_metric": "train:silhouette",
    "sagemaker_program": '"train.py"',
    "sagemaker_container_log_level": "20",
}


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    from .jobtree import JobTree

    tree = JobTree(tmp_path_factory.mktemp("digits") / "opt_ml")
    frame = _digits()
    half = len(frame) // 2
    tree.write_table(frame.iloc[:half], file="a/part-0.csv")
    tree.write_table(frame.iloc[half:], file="b/part-1.parquet")
    tree.write_config(SDK_HYPERPARAMETERS)
    completed = tree.run("train")
    return tree, completed


def test_defaults_cluster_digits_well(digits_run) -> None:
    tree, completed = digits_run
    assert completed.returncode == 0, completed.stderr[-3000:]
    metrics = scrape(completed.stdout + completed.stderr)
    assert metrics["train:ari"] >= 0.75, metrics
    assert -1 <= metrics["train:silhouette"] <= 1
    assert metrics["train:n_clusters"] >= 2
    saved = json.loads((tree.model_dir / "metrics.json").read_text())
    assert saved["train"]["ari"] == pytest.approx(metrics["train:ari"], rel=1e-5)
    assert saved["train"]["silhouette"] == pytest.approx(metrics["train:silhouette"], rel=1e-5)


def test_artifacts_are_complete_and_consistent(digits_run) -> None:
    tree, _ = digits_run
    manifest = json.loads((tree.model_dir / "manifest.json").read_text())
    for name in ("model.joblib", "labels.parquet", "metrics.json", "hyperparameters.json"):
        assert name in manifest["files"], name
    assert not (tree.model_dir / ".incomplete").exists()
    resolved = json.loads((tree.model_dir / "hyperparameters.json").read_text())
    assert resolved["hyperparameters"]["id_column"] == "image_id"
    assert resolved["eps_method"] == "per_cluster"  # eps and min_samples auto
    assert resolved["eps_used"] > 0
    assert "scikit-learn" in resolved["versions"]
    assert "digit" not in resolved["features_used"] and "image_id" not in resolved["features_used"]
    labels = pd.read_parquet(tree.model_dir / "labels.parquet")
    assert labels["image_id"].tolist() == _digits()["image_id"].tolist()
    assert {"cluster", "embedding_0", "embedding_4"} <= set(labels.columns)


def test_loaded_model_reassigns_training_rows(digits_run) -> None:
    tree, _ = digits_run
    model = load_model(tree.model_dir)
    labels = pd.read_parquet(tree.model_dir / "labels.parquet")
    frame = _digits().iloc[:300]
    predicted = model.predict(frame)
    # UMAP's transform of training rows is close to, not equal to, their fitted embedding.
    agreement = np.mean(predicted == labels["cluster"].to_numpy()[:300])
    assert agreement >= 0.9


def test_same_random_state_gives_same_labels(digits_run, tmp_path) -> None:
    from .jobtree import JobTree

    tree, _ = digits_run
    again = JobTree(tmp_path / "again")
    again.write_table(_digits())
    again.write_config(SDK_HYPERPARAMETERS)
    completed = again.run()
    assert completed.returncode == 0, completed.stderr[-3000:]
    first = pd.read_parquet(tree.model_dir / "labels.parquet")
    second = pd.read_parquet(again.model_dir / "labels.parquet")
    assert first["cluster"].tolist() == second["cluster"].tolist()
