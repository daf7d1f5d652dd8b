"""Metric lines, their regexes, sentinels and scores."""

from __future__ import annotations

import io
import json
import re
from dataclasses import astuple

import numpy as np
import pytest

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.hyperparameters import parse
from smcluster.contract.metrics import METRICS, OBJECTIVE
from smcluster.output.metric_lines import emit, format_line, metric_definitions
from smcluster.pipeline.runtime.sampling import sample_index
from smcluster.pipeline.score.score import Scores, silhouette_sample
from smcluster.pipeline.score.score import score as score_split

from .jobtree import smcluster
from .metric_lines import scrape


def score(backend, data, labels, truth, sample_size: int, random_state: int) -> Scores:
    hp = parse({"silhouette_sample_size": str(sample_size), "random_state": str(random_state)})
    return score_split(backend, hp, data, labels, truth)


def test_definitions_fit_sagemaker_limits() -> None:
    definitions = metric_definitions()
    assert len(definitions) <= 40
    names = [d["Name"] for d in definitions]
    assert len(set(names)) == len(names)
    assert OBJECTIVE in names
    for definition in definitions:
        assert 1 <= len(definition["Name"]) <= 255
        assert 1 <= len(definition["Regex"]) <= 500
        assert re.compile(definition["Regex"]).groups == 1


@pytest.mark.parametrize("value", [0.5123456, -0.25, 0.0, 1e6, 172654.3, 3.0, 1.5e-9, -1.0])
def test_each_printed_line_parses_back_to_its_value(value: float) -> None:
    for split in ("train", "validation"):
        values = {spec.name: value for spec in METRICS}
        stream = io.StringIO()
        emit(split, values, stream)
        parsed = scrape(stream.getvalue())
        for spec in METRICS:
            name = f"{split}:{spec.name}"
            assert parsed[name] == pytest.approx(value, rel=1e-5), name


def test_regex_does_not_confuse_splits_or_prefixes() -> None:
    log = "\n".join(
        [
            format_line("validation", "silhouette", 0.9),
            "train:silhouette=0.7 (not our format)",
        ]
    )
    assert "train:silhouette" not in scrape(log)
    assert scrape(log)["validation:silhouette"] == pytest.approx(0.9)


def test_cli_prints_the_same_definitions() -> None:
    output = smcluster("metric-definitions", check=True).stdout
    assert json.loads(output) == metric_definitions()


def test_score_separated_blobs() -> None:
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(0, 0.1, (50, 2)), rng.normal(5, 0.1, (50, 2))])
    labels = np.repeat([0, 1], 50).astype(np.int32)
    labels[0] = -1
    values, notes = astuple(
        score(CpuBackend(), data.astype(np.float32), labels, None, sample_size=1000, random_state=0)
    )
    assert notes == []
    assert values["n_clusters"] == 2
    assert values["noise_fraction"] == pytest.approx(0.01)
    assert values["silhouette"] > 0.9
    assert values["davies_bouldin"] < 0.1
    assert "ari" not in values


def test_degenerate_result_gets_worst_sentinels_and_a_reason() -> None:
    data = np.zeros((20, 2), np.float32)
    labels = np.zeros(20, np.int32)
    truth = np.array(["a", "b"] * 10)
    values, notes = astuple(score(CpuBackend(), data, labels, truth, 100, 0))
    worst = {spec.name: spec.worst for spec in METRICS}
    assert values["silhouette"] == worst["silhouette"]
    assert values["davies_bouldin"] == worst["davies_bouldin"]
    assert values["calinski_harabasz"] == worst["calinski_harabasz"]
    assert values["n_clusters"] == 1
    assert "ari" in values and "ami" in values
    assert notes and "only 1 cluster" in notes[0]


def test_evaluation_space_scores_ignore_the_embedding_and_count_noise() -> None:
    """Two runs with different embeddings of the same labelled rows score the same in the
    evaluation space; labelling rows noise cannot raise `silhouette_features_all`."""
    rng = np.random.default_rng(1)
    features = np.concatenate([rng.normal(0, 0.3, (60, 3)), rng.normal(4, 0.3, (60, 3))])
    labels = np.repeat([0, 1], 60).astype(np.int32)
    hp = parse({"silhouette_sample_size": "1000"})
    runs = [
        score_split(CpuBackend(), hp, embedding.astype(np.float32), labels, None, features)
        for embedding in (features[:, :2] * 10, rng.normal(size=(120, 5)))
    ]
    assert runs[0].values["silhouette"] != pytest.approx(runs[1].values["silhouette"])
    for name in ("silhouette_features", "dbcv_features", "silhouette_features_all"):
        assert runs[0].values[name] == pytest.approx(runs[1].values[name]), name
    assert runs[0].values["silhouette_features"] > 0.8

    noisy = labels.copy()
    noisy[::4] = -1  # a quarter of the rows called noise
    values = score_split(CpuBackend(), hp, features.astype(np.float32), noisy, None, features)
    assert values.values["silhouette_features_all"] == pytest.approx(
        values.values["silhouette_features"] * 0.75
    )
    assert values.values["silhouette_features_all"] < runs[0].values["silhouette_features_all"]


def test_silhouette_sample_that_misses_the_small_clusters_is_topped_up() -> None:
    """One huge cluster and two tiny ones: the uniform sample of 100 holds a single label,
    which scikit-learn's silhouette refuses (cuML asserts); rows of the missed clusters are
    added with the same seed, and a note says so."""
    rng = np.random.default_rng(3)
    data = np.concatenate(
        [rng.normal(0, 1, (20_000, 2)), rng.normal(8, 0.1, (3, 2)), rng.normal(-8, 0.1, (15, 2))]
    ).astype(np.float32)
    labels = np.repeat([0, 2, 5], [20_000, 3, 15]).astype(np.int32)
    labels[:50] = -1
    clustered = labels[labels >= 0]
    uniform = sample_index(len(clustered), 100, 0)
    assert np.unique(clustered[uniform]).tolist() == [0], "the uniform draw must miss them"

    picked, note = silhouette_sample(clustered, 100, 0)
    assert set(uniform) <= set(picked) and np.all(np.diff(picked) > 0)
    assert np.bincount(clustered[picked]).tolist() == [100, 0, 3, 0, 0, 10]
    assert np.array_equal(picked, silhouette_sample(clustered, 100, 0)[0])  # seeded

    values, notes = astuple(score(CpuBackend(), data, labels, None, 100, 0))
    assert values["n_clusters"] == 3
    assert values["silhouette"] > 0.5  # defined, not the sentinel
    assert notes == [note] and "held a single cluster: 13 rows of the 2 cluster(s)" in note


@pytest.mark.parametrize("draws_it", [True, False])
def test_silhouette_sample_where_no_label_repeats_gets_rows_of_the_largest_cluster(
    draws_it: bool,
) -> None:
    """As many clusters as sampled rows: scikit-learn needs fewer labels than rows."""
    labels = np.concatenate([np.arange(150), [0]]).astype(np.int32)  # only cluster 0 twice
    data = np.random.default_rng(4).normal(size=(151, 2)).astype(np.float32)
    wanted = 1 if draws_it else 0
    seed = next(s for s in range(200) if np.sum(labels[sample_index(151, 100, s)] == 0) == wanted)
    picked, note = silhouette_sample(labels, 100, seed)
    assert len(picked) == 100 + 2 - wanted and np.sum(labels[picked] == 0) == 2
    assert note is not None and "each once" in note
    values, notes = astuple(score(CpuBackend(), data, labels, None, 100, seed))
    assert notes == [note]
    assert values["silhouette"] != {s.name: s.worst for s in METRICS}["silhouette"]


def test_silhouette_sample_of_equal_clusters_always_repeats_a_label() -> None:
    """Pairs of rows per cluster: the largest (the first) is often not in the draw at all."""
    labels = np.repeat(np.arange(50), 2).astype(np.int32)
    for seed in range(200):
        picked, _ = silhouette_sample(labels, 10, seed)
        assert 2 <= len(np.unique(labels[picked])) < len(picked), seed


def test_usable_silhouette_sample_is_the_uniform_draw() -> None:
    labels = np.random.default_rng(5).integers(0, 4, 50_000).astype(np.int32)
    for seed in range(3):
        picked, note = silhouette_sample(labels, 10_000, seed)
        assert note is None
        assert np.array_equal(picked, sample_index(50_000, 10_000, seed))
