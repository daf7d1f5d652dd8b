"""The metrics a job reports: names, directions and worst-ranking sentinels.

This registry is the contract with SageMaker's metric definitions and tuners: the printed lines
(`output.metric_lines`), their regexes, the tuning objective and every leaderboard read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    name: str
    direction: str  # "Maximize" or "Minimize": what a tuner should do with it
    worst: float  # sentinel printed when the value is undefined (ranks worst)
    help: str
    needs_labels: bool = False


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "silhouette", "Maximize", -1.0, "Mean silhouette in the embedding, noise excluded, sampled."
    ),
    MetricSpec(
        "dbcv",
        "Maximize",
        -1.0,
        "Density-based clustering validity (DBCV) in the embedding, noise counted, sampled.",
    ),
    MetricSpec(
        "silhouette_features",
        "Maximize",
        -1.0,
        "Mean silhouette in the evaluation space (the features, default preparation), noise "
        "excluded, sampled: comparable across trials.",
    ),
    MetricSpec(
        "dbcv_features",
        "Maximize",
        -1.0,
        "DBCV in the evaluation space, noise counted, sampled: comparable across trials.",
    ),
    MetricSpec(
        "silhouette_features_all",
        "Maximize",
        -1.0,
        "`silhouette_features` with every noise row counted as 0 (times the clustered share): "
        "labelling hard rows noise cannot raise it.",
    ),
    MetricSpec("davies_bouldin", "Minimize", 1e6, "Davies-Bouldin index, noise excluded."),
    MetricSpec("calinski_harabasz", "Maximize", 0.0, "Calinski-Harabasz index, noise excluded."),
    MetricSpec("n_clusters", "Maximize", 0.0, "Clusters found (noise is not a cluster)."),
    MetricSpec("noise_fraction", "Minimize", 1.0, "Share of rows labelled noise (-1)."),
    MetricSpec("ari", "Maximize", -1.0, "Adjusted Rand index against label_column.", True),
    MetricSpec("ami", "Maximize", -1.0, "Adjusted mutual information against label_column.", True),
)
SPLITS = ("train", "validation")
OBJECTIVE = "train:dbcv"


def metric_name(split: str, name: str) -> str:
    return f"{split}:{name}"


def spec_of(name: str) -> MetricSpec | None:
    """The spec of `silhouette` or `train:silhouette`; None when no metric has that name."""
    base = name.split(":", 1)[-1]
    return next((spec for spec in METRICS if spec.name == base), None)


def objective_direction(name: str = OBJECTIVE) -> str:
    """`Maximize` or `Minimize` for a published metric name."""
    spec = spec_of(name)
    if spec is None:
        raise KeyError(name)
    return spec.direction
