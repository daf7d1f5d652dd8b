"""A stratified, capped sample of rows: plot cost stays bounded however many rows were clustered."""

from __future__ import annotations

import numpy as np

MIN_PER_CLUSTER = 20  # small clusters keep a few points so that every cluster shows up


def stratified_sample(labels: np.ndarray, cap: int, random_state: int) -> np.ndarray:
    """Sorted row indices: about `cap` rows, each cluster in proportion to its size.

    Every cluster keeps at least `min(size, MIN_PER_CLUSTER)` rows, so the sample can exceed
    `cap` by at most `MIN_PER_CLUSTER` per cluster. All rows when there are at most `cap`.
    """
    rows = len(labels)
    if rows <= cap:
        return np.arange(rows)
    rng = np.random.default_rng(random_state)
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    quota = np.maximum(
        np.floor(sizes * (cap / rows)).astype(int), np.minimum(sizes, MIN_PER_CLUSTER)
    )
    order = np.argsort(inverse, kind="stable")  # rows grouped by cluster
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    picked = [
        rng.choice(order[start : start + size], size=take, replace=False)
        for start, size, take in zip(starts, sizes, quota, strict=True)
    ]
    return np.sort(np.concatenate(picked))
