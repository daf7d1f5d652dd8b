"""Stage `score`: the quality metrics of one split, with worst-ranking sentinels where undefined.

Silhouette, Davies-Bouldin and Calinski-Harabasz are computed in the embedding that was
clustered, noise excluded; the silhouette on a seeded sample. DBCV counts noise rows against
the clustering. `silhouette_features` and `dbcv_features` are the same scores in the evaluation
space (`evaluation.py`), comparable between runs; `silhouette_features_all` counts each noise
row as 0. ARI and AMI (with a label column) treat noise
as one more label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...backends.base import Array, Backend, Metrics, to_host
from ...contract.metrics import METRICS, MetricSpec
from ...contract.schema import Hyperparameters
from ..prepare.preparation import FeaturePrep
from ..runtime.sampling import sample_index
from .evaluation import evaluate, evaluation_space
from .ties import few_distinct_rows_note
from .validity import dbcv

TOP_UP_ROWS = 10  # rows added per cluster a silhouette sample missed, when it must be topped up


@dataclass
class Scores:
    values: dict[str, float]  # metric name (no split prefix) → value or sentinel
    notes: list[str] = field(default_factory=list)  # why a value is a sentinel, or was sampled so


def _finite_or_worst(spec: MetricSpec, value: float | None) -> float:
    if value is None or not math.isfinite(value):
        return spec.worst
    return float(value)


def silhouette_sample(
    labels: np.ndarray, size: int, random_state: int
) -> tuple[np.ndarray, str | None]:
    """Sorted rows of `labels` (noise-free) for the silhouette, and a note if it was topped up.

    The sample is the uniform seeded draw of `size` rows. The silhouette needs between 2 and
    n_rows - 1 labels in it, which a uniform draw can miss when one cluster holds nearly all
    rows (then it holds a single label) or when the clusters are about as many as the rows
    drawn (then no label repeats). Only then is it topped up, with rows chosen with the same
    seed: a sample with one label gets up to `TOP_UP_ROWS` rows of each cluster it missed; a
    sample where no label repeats gets rows of the largest cluster until it holds two of them
    (one row, or two when the draw missed that cluster). A usable uniform
    draw is kept as it is, so the silhouette of every other run is unchanged.
    Needs at least 2 clusters and more rows than clusters in `labels`.
    """
    sampled = sample_index(len(labels), size, random_state)
    present = np.unique(labels[sampled])
    note = None
    if len(present) < 2:
        pool = np.flatnonzero(~np.isin(labels, present))
        keys = np.random.default_rng(random_state).random(len(pool))
        pool = pool[np.lexsort((keys, labels[pool]))]  # by cluster, randomly within each
        pool_labels = labels[pool]
        within = np.arange(len(pool)) - np.searchsorted(pool_labels, pool_labels, side="left")
        added = pool[within < TOP_UP_ROWS]
        missed = len(np.unique(pool_labels))
        note = (
            f"the silhouette sample of {len(sampled):,} rows held a single cluster: "
            f"{len(added):,} rows of the {missed:,} cluster(s) it missed (up to {TOP_UP_ROWS} "
            "each, drawn with random_state) were added to it"
        )
        sampled = np.sort(np.concatenate([sampled, added]))
    present = np.unique(labels[sampled])
    if len(present) >= len(sampled):  # every label once: silhouette needs n_labels < n_rows
        clusters, sizes = np.unique(labels, return_counts=True)
        largest = clusters[np.argmax(sizes)]  # >= 2 rows: there are more rows than clusters
        pool = np.setdiff1d(np.flatnonzero(labels == largest), sampled)
        # Two rows of it in the sample: one more if the draw holds it, two if it missed it.
        wanted = 1 if largest in present else 2
        added = pool[sample_index(len(pool), wanted, random_state)]
        reason = (
            f"the silhouette sample of {len(sampled):,} rows held {len(present):,} clusters, "
            f"each once: {wanted} more row(s) of the largest cluster were added to it"
        )
        note = reason if note is None else f"{note}; {reason}"
        sampled = np.sort(np.concatenate([sampled, added]))
    return sampled, note


def few_clusters_advice(hp: Hyperparameters, noise_fraction: float, rows: int) -> str:
    """What to change when fewer than two clusters came out, for the algorithm that ran."""
    if hp.algorithm == "dbscan":
        if noise_fraction > 0.5:
            return "most rows are noise: try a larger eps, a smaller min_samples, or eps=auto"
        return "the rows form one cluster: try a smaller eps, or eps=auto"
    if hp.algorithm == "hdbscan":
        if hp.min_cluster_size is not None and hp.min_cluster_size > rows / 2:
            return (
                f"min_cluster_size={hp.min_cluster_size} leaves room for fewer than two "
                f"clusters in {rows:,} rows: lower it"
            )
        return "try a smaller min_cluster_size or min_samples"
    return (
        f"{hp.algorithm} was asked for n_clusters={hp.n_clusters}: the rows may hold fewer "
        "distinct points than that"
    )


def score(
    backend: Metrics,
    hp: Hyperparameters,
    data: Array,
    labels: Array,
    truth: np.ndarray | None,
    evaluation: np.ndarray | None = None,
) -> Scores:
    """All metrics for one split, with sentinels where undefined, and notes saying why.

    `evaluation` holds the same rows in the evaluation space (host), when scored there.
    """
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, silhouette_score

    host_labels = to_host(labels)
    clustered = np.flatnonzero(host_labels >= 0)
    n_clusters = len(np.unique(host_labels[clustered]))
    values: dict[str, float | None] = {
        "n_clusters": float(n_clusters),
        "noise_fraction": float(1 - len(clustered) / max(len(host_labels), 1)),
    }
    notes: list[str] = []
    if n_clusters >= 2 and len(clustered) > n_clusters:
        picked, note = silhouette_sample(
            host_labels[clustered], hp.silhouette_sample_size, hp.random_state
        )
        sampled = clustered[picked]
        if note is not None:
            notes.append(note)
        index = backend.xp.asarray(sampled)
        values["silhouette"] = backend.silhouette(data[index], labels[index])
        kept = backend.xp.asarray(clustered)
        values["davies_bouldin"] = backend.davies_bouldin(data[kept], labels[kept])
        values["calinski_harabasz"] = backend.calinski_harabasz(data[kept], labels[kept])
        values["dbcv"] = dbcv(data, labels, hp.random_state)
        if evaluation is not None:
            features = float(silhouette_score(evaluation[sampled], host_labels[sampled]))
            values["silhouette_features"] = features
            # A noise row's silhouette is taken as 0: the mean over all rows, not only clustered.
            values["silhouette_features_all"] = features * len(clustered) / len(host_labels)
            values["dbcv_features"] = dbcv(evaluation, host_labels, hp.random_state)
    else:
        notes.append(
            f"only {n_clusters} cluster(s) besides noise: silhouette, Davies-Bouldin and "
            "Calinski-Harabasz are undefined and reported as worst-ranking sentinels; "
            + few_clusters_advice(hp, values["noise_fraction"] or 0.0, len(host_labels))
        )
    if evaluation is not None:
        tied = few_distinct_rows_note(evaluation, hp)
        if tied is not None:
            notes.append(tied)
    if truth is not None:
        labelled = np.asarray([label is not None for label in truth], dtype=bool)
        if not labelled.all():
            notes.append(
                f"{int((~labelled).sum()):,} of {len(truth):,} rows have no value in "
                f"label_column: ARI and AMI are computed on the {int(labelled.sum()):,} "
                "labelled rows"
            )
        if labelled.any():
            known = truth[labelled].astype(str)
            values["ari"] = float(adjusted_rand_score(known, host_labels[labelled]))
            values["ami"] = float(adjusted_mutual_info_score(known, host_labels[labelled]))
    features_scored = evaluation is not None
    result = {
        spec.name: _finite_or_worst(spec, values.get(spec.name))
        for spec in METRICS
        if spec.name in values
        or not (spec.needs_labels or (spec.name.endswith("_features") and not features_scored))
    }
    return Scores(result, notes)


@dataclass(frozen=True)
class TrainingScores:
    scores: Scores
    evaluation: FeaturePrep  # the evaluation space, fitted here; validation rows are scored in it


def score_training(
    backend: Backend,
    hp: Hyperparameters,
    embedding: Array,
    labels: Array,
    truth: np.ndarray | None,
    raw: np.ndarray,
    columns: list[str],
) -> TrainingScores:
    """The training rows' metrics, in their embedding and in the evaluation
    space fitted on their raw features (`evaluation.py`)."""
    evaluation = evaluation_space(raw, columns, hp.random_state)
    scores = score(backend, hp, embedding, labels, truth, evaluate(evaluation, raw))
    return TrainingScores(scores, evaluation)
