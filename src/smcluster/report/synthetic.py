"""A RunResult built directly from random blobs (no reducer, no DBSCAN): for plot benchmarks and
for tests of degenerate shapes (all noise, one cluster, many clusters, 1-D embeddings)."""

from __future__ import annotations

import numpy as np

from ..eps import EpsChoice
from ..hyperparameters import parse
from ..pipeline import RunResult, SplitResult


def synthetic_result(
    rows: int,
    clusters: int = 6,
    dims: int = 3,
    features: int = 10,
    noise_share: float = 0.05,
    seed: int = 0,
    hyperparameters: dict[str, str] | None = None,
    with_eps: bool = True,
) -> RunResult:
    """`rows` points in `clusters` Gaussian blobs (sizes uneven) plus `noise_share` noise."""
    rng = np.random.default_rng(seed)
    if clusters:
        weights = rng.uniform(0.2, 1.0, clusters) ** 2
        labels = rng.choice(clusters, size=rows, p=weights / weights.sum()).astype(np.int32)
        labels[rng.random(rows) < noise_share] = -1
    else:
        labels = np.full(rows, -1, dtype=np.int32)
    centres = rng.normal(0, 6, (max(clusters, 1), dims))
    embedding = rng.normal(0, 1, (rows, dims)).astype(np.float32)
    clustered = labels >= 0
    embedding[clustered] += centres[labels[clustered]]
    embedding[~clustered] *= 8
    mixing = rng.normal(0, 1, (dims, features))
    prepared = embedding @ mixing + rng.normal(0, 0.5, (rows, features))
    prepared = (prepared - prepared.mean(axis=0)) / prepared.std(axis=0)
    raw = np.exp(prepared * 0.5) * rng.uniform(1, 100, features)  # skewed, original units
    names = [f"feature_{i}" for i in range(features)]
    curve = np.sort(rng.gamma(2.0, 0.2, 2000))
    hp = parse({"reducer": "none", **(hyperparameters or {})})
    split = SplitResult(
        ids=np.arange(rows),
        kept=np.ones(rows, dtype=bool),
        labels=labels,
        embedding=embedding,
        raw_features=raw,
        truth=None,
        metrics={"silhouette": 0.5, "noise_fraction": float((~clustered).mean())},
    )
    return RunResult(
        hp=hp,
        backend_info={"backend": "cpu"},
        features=names,
        prepared=prepared,
        eps=EpsChoice(float(curve[1800]), "knee", 10, curve, 1800) if with_eps else None,
        model=None,
        train=split,
        validation=None,
        timings={"synthetic": 0.0},
        prep_report={},
    )
